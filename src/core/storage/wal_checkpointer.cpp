#include "core/storage/wal_checkpointer.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <sqlite3.h>

namespace crimecast::storage::internal {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(sqlite3* writer,
                                                                const std::string& path,
                                                                int threshold_frames) {
  std::unique_ptr<WalCheckpointer> c(new WalCheckpointer());
  c->writer_ = writer;
  c->threshold_ = threshold_frames;
  if (sqlite3_open_v2(path.c_str(), &c->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = c->db_ ? sqlite3_errmsg(c->db_) : "out of memory";
    sqlite3_close(c->db_);
    c->db_ = nullptr;
    return Fail(ErrorCode::kStorage,
                fmt::format("cannot open '{}' for background checkpoints: {}", path, msg));
  }
  // The checkpoint syncs the database file as the writer's connection would (synchronous=FULL),
  // and never checkpoints on its own behalf.
  sqlite3_exec(c->db_, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
  sqlite3_wal_autocheckpoint(c->db_, 0);
  c->thread_ = std::thread([p = c.get()] { p->Run(); });
  // Replaces the writer's automatic checkpoint (sqlite3_wal_autocheckpoint is itself a WAL hook).
  sqlite3_wal_hook(writer, &WalCheckpointer::OnCommit, c.get());
  return c;
}

WalCheckpointer::~WalCheckpointer() {
  if (writer_ != nullptr) sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  sqlite3_close_v2(db_);
}

std::int64_t WalCheckpointer::checkpoints() const {
  std::lock_guard lock(mu_);
  return done_;
}

// Called by SQLite on the writer's thread after each commit, with the WAL's frame count.
int WalCheckpointer::OnCommit(void* self, sqlite3*, const char*, int frames) {
  auto* c = static_cast<WalCheckpointer*>(self);
  if (frames < c->threshold_) return SQLITE_OK;
  {
    std::lock_guard lock(c->mu_);
    c->wanted_ = true;
  }
  c->cv_.notify_one();
  return SQLITE_OK;
}

void WalCheckpointer::Run() {
  pthread_setname_np(pthread_self(), "cc-checkpoint");  // shown by top -H, perf, gdb
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return wanted_ || stop_; });
    if (stop_) return;
    wanted_ = false;
    lock.unlock();
    // PASSIVE: copies as many committed frames as no reader still needs, without waiting for
    // or blocking anyone; SQLITE_BUSY (another checkpoint running) is simply tried next time.
    // The writer rewinds the WAL at its next commit once everything is copied.
    sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
    ++done_;
  }
}

}  // namespace crimecast::storage::internal
