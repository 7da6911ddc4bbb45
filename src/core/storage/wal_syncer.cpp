#include "core/storage/wal_syncer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace crimecast::storage::internal {

WalSyncer::WalSyncer(std::string wal_path) : path_(std::move(wal_path)) {
  thread_ = std::thread([this] { Run(); });
}

WalSyncer::~WalSyncer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t WalSyncer::Request() {
  std::uint64_t ticket;
  {
    std::lock_guard lock(mu_);
    ticket = ++requested_;
  }
  cv_.notify_all();
  return ticket;
}

Result<bool> WalSyncer::Synced(std::uint64_t ticket, bool wait) {
  std::unique_lock lock(mu_);
  auto done = [&] { return synced_ >= ticket || (error_ && ticket >= failed_from_); };
  if (wait) cv_.wait(lock, done);
  if (error_ && ticket >= failed_from_) return Unexpected(*error_);
  return synced_ >= ticket;
}

std::int64_t WalSyncer::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

void WalSyncer::Run() {
  pthread_setname_np(pthread_self(), "cc-wal-sync");  // shown by top -H, perf, gdb
  std::unique_lock lock(mu_);
  for (;;) {
    // Requests made before stop are still synced: their commits were acknowledged on that basis.
    cv_.wait(lock, [this] { return requested_ > synced_ || stop_; });
    if (requested_ <= synced_) return;  // stopping, nothing left
    if (error_) {
      synced_ = requested_;  // nothing more can be promised; Synced reports the error
      cv_.notify_all();
      continue;
    }
    const std::uint64_t target = requested_;  // everything written before these requests
    lock.unlock();
    std::optional<Error> failure;
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fdatasync(fd) != 0) {
      failure = Error{ErrorCode::kStorage,
                      fmt::format("cannot sync '{}': {}", path_, std::strerror(errno))};
    }
    if (fd >= 0) ::close(fd);
    lock.lock();
    ++syncs_;
    if (failure) {
      error_ = failure;
      failed_from_ = synced_ + 1;
    }
    synced_ = target;
    cv_.notify_all();
  }
}

}  // namespace crimecast::storage::internal
