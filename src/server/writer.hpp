// server/writer.hpp
//
// The server's single writer: one thread owning one SQLite connection, through which every
// durable write of the request path goes (event batches and audit records).
//
// Why one writer: SQLite allows one writing transaction at a time anyway, and a commit with
// synchronous=FULL costs an fsync (~8 ms on the reference VM). Funnelling writes through one
// thread lets it GROUP-COMMIT audit records: all records queued while the previous commit was
// in progress are appended in the next transaction, so N concurrent requests cost one fsync,
// not N. A request's response is released only after its audit record is durable
// ("audit before disclosure").
//
// Jobs run in submission order, except that all queued audit records are committed together
// before the next write job. A write job (an events batch) appends its own audit record inside
// its transaction (events and their collection record commit atomically).
//
// Stop() runs everything already queued, then joins: graceful shutdown commits what was
// accepted. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/access/audit_log.hpp"
#include "core/common/error.hpp"
#include "core/storage/sqlite_event_store.hpp"

namespace crimecast::server {

class Metrics;

class Writer {
 public:
  using AuditDone = std::function<void(Result<void>)>;
  using Job = std::function<void(storage::SqliteEventStore& store)>;

  static Result<std::unique_ptr<Writer>> Open(const std::string& db_path, Metrics* metrics);
  ~Writer();

  // Queues one audit record; `done` runs on the writer thread after the commit (or failure).
  void SubmitAudit(access::AuditRecord record, AuditDone done);
  // Queues a write job; it runs on the writer thread with the writer's connection.
  void Submit(Job job);
  // Runs everything queued, then stops the thread. Later audit submissions fail at once with
  // kUnavailable; later jobs are dropped (the server stops taking requests before calling Stop).
  void Stop();

  std::size_t queue_depth() const;
  std::int64_t audit_commits() const;

 private:
  explicit Writer(std::unique_ptr<storage::SqliteEventStore> store, Metrics* metrics);
  void Loop();

  struct AuditItem {
    access::AuditRecord record;
    AuditDone done;
  };
  std::unique_ptr<storage::SqliteEventStore> store_;
  Metrics* metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<AuditItem> audits_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::int64_t audit_commits_ = 0;
  std::thread thread_;
};

}  // namespace crimecast::server
