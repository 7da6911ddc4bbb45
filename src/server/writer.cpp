#include "server/writer.hpp"

#include <spdlog/spdlog.h>

#include "core/access/schema.hpp"
#include "server/metrics.hpp"

namespace crimecast::server {

Result<std::unique_ptr<Writer>> Writer::Open(const std::string& db_path, Metrics* metrics) {
  auto store = storage::SqliteEventStore::Open(db_path);
  if (!store) return Unexpected(store.error());
  if (auto r = access::EnsureAccessSchema((*store)->handle()); !r) return Unexpected(r.error());
  std::unique_ptr<Writer> w(new Writer(std::move(*store), metrics));
  w->thread_ = std::thread([p = w.get()] { p->Loop(); });
  return w;
}

Writer::Writer(std::unique_ptr<storage::SqliteEventStore> store, Metrics* metrics)
    : store_(std::move(store)), metrics_(metrics) {}

Writer::~Writer() { Stop(); }

void Writer::SubmitAudit(access::AuditRecord record, AuditDone done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      audits_.push_back({std::move(record), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(Fail(ErrorCode::kUnavailable, "the server is shutting down"));
}

void Writer::Submit(Job job) {
  std::lock_guard lock(mu_);
  if (stopping_) {
    spdlog::warn("writer: job submitted after shutdown began; dropped");
    return;
  }
  jobs_.push_back(std::move(job));
  cv_.notify_one();
}

void Writer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopping_ = true;
    stopped_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

std::size_t Writer::queue_depth() const {
  std::lock_guard lock(mu_);
  return audits_.size() + jobs_.size();
}

std::int64_t Writer::audit_commits() const {
  std::lock_guard lock(mu_);
  return audit_commits_;
}

void Writer::Loop() {
  for (;;) {
    std::vector<AuditItem> audits;
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !audits_.empty() || !jobs_.empty(); });
      if (audits_.empty() && jobs_.empty()) return;  // stopping and drained
      audits.swap(audits_);
      if (audits.empty()) {
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
    }
    if (!audits.empty()) {
      std::vector<access::AuditRecord> records;
      records.reserve(audits.size());
      for (auto& a : audits) records.push_back(std::move(a.record));
      auto r = access::AppendAudit(store_->handle(), records);
      if (!r) spdlog::error("audit append failed: {}", r.error().ToString());
      if (r) {
        std::lock_guard lock(mu_);
        ++audit_commits_;
      }
      if (r && metrics_) metrics_->AddAudit(static_cast<std::int64_t>(records.size()), 1);
      for (auto& a : audits) a.done(r);
      continue;
    }
    try {
      job(*store_);
    } catch (const std::exception& e) {
      // Jobs report their own errors; an exception here is a fault (allocation), not input.
      spdlog::error("writer job threw: {}", e.what());
    }
  }
}

}  // namespace crimecast::server
