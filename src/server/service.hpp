// server/service.hpp
//
// The server's application layer, independent of sockets: the route table, authentication,
// rate limits, permission checks and the audit trail around every handler.
//
// Life of a request (Service::Handle, on a worker thread):
//   1. refuse when draining (503) or when it waited in the queue past its deadline (503);
//   2. find the route (404 / 405), else serve a static file when configured;
//   3. rate-limit by address when no token is given (429);
//   4. authenticate the bearer token (Authorization header; for GET also the session cookie)
//      -> 401; rate-limit by token -> 429; check the route's permission -> 403;
//   5. prepare the audit record (user, role, action, object = method + target, client,
//      purpose from X-Purpose or the session) and run the handler;
//   6. the handler calls Exchange::Finish(response) exactly once, from any thread. For audited
//      routes Finish queues the record with the Writer and releases the response only after the
//      record is durable. Handlers that write data put the record in their own transaction and
//      mark it written.
// Denied requests (401/403) on audited routes are audited too, with outcome "denied".
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/access/access_store.hpp"
#include "core/access/audit_log.hpp"
#include "core/common/time.hpp"
#include "core/storage/sqlite_event_store.hpp"
#include "server/backtests.hpp"
#include "server/config.hpp"
#include "server/forecasts.hpp"
#include "server/http_types.hpp"
#include "server/live_hub.hpp"
#include "server/metrics.hpp"
#include "server/rate_limiter.hpp"
#include "server/router.hpp"
#include "server/writer.hpp"

namespace crimecast::server {

// Read connections for handlers: SQLite connections must not be shared between threads in a
// transaction, so each handler borrows one (WAL lets readers run beside the writer).
class ReadPool {
 public:
  struct Connection {
    std::unique_ptr<storage::SqliteEventStore> events;
    std::unique_ptr<access::AccessStore> access;
  };
  class Lease {
   public:
    Lease(ReadPool* pool, std::unique_ptr<Connection> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease();
    Connection* operator->() { return c_.get(); }

   private:
    ReadPool* pool_;
    std::unique_ptr<Connection> c_;
  };
  ReadPool(std::string path, access::AccessOptions options)
      : path_(std::move(path)), options_(std::move(options)) {}
  Result<Lease> Acquire();

 private:
  std::string path_;
  access::AccessOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// One request in flight.
class Exchange {
 public:
  using Deliver = std::function<void(Response)>;
  Exchange(Request request, Deliver deliver)
      : req(std::move(request)), deliver_(std::move(deliver)) {}

  Request req;
  const Route* route = nullptr;
  std::optional<access::Principal> principal;
  access::AuditRecord audit;   // prepared before the handler runs; handlers may add `detail`
  bool audit_needed = false;   // set for audited routes
  bool audit_written = false;  // the handler committed the record itself

  // Completes the request: audits (when needed and not yet written), then delivers. Only the
  // first call has an effect.
  void Finish(Service& service, Response response);

 private:
  Deliver deliver_;
  std::atomic<bool> finished_{false};
};

class Service {
 public:
  static Result<std::unique_ptr<Service>> Create(const ServerConfig& config);
  ~Service();

  void Handle(const std::shared_ptr<Exchange>& exchange);

  const ServerConfig& config() const { return config_; }
  ReadPool& pool() { return *pool_; }
  Writer& writer() { return *writer_; }
  ForecastService& forecasts() { return *forecasts_; }
  BacktestRunner& backtests() { return *backtests_; }
  // The horizon used when a request names none ("1M" for month-only data, else "7d", unless
  // configured).
  const std::string& default_horizon() const { return default_horizon_; }
  LiveHub& hub() { return hub_; }
  Metrics& metrics() { return metrics_; }
  const Router& router() const { return router_; }
  const TimeZone* timezone() const { return timezone_.get(); }
  int store_epsg() const { return store_epsg_; }
  double uptime_s() const;
  bool draining() const { return draining_.load(); }
  void BeginDrain() { draining_ = true; }
  // Requests between Handle and delivery.
  std::int64_t in_flight() const { return in_flight_.load(); }
  void AddInFlight(int delta) { in_flight_ += delta; }
  // Stops the background threads, then the writer after everything queued is committed.
  void StopWriter();

 private:
  explicit Service(const ServerConfig& config);
  void Deny(const std::shared_ptr<Exchange>& ex, const Error& error);

  ServerConfig config_;
  std::unique_ptr<ReadPool> pool_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<ForecastService> forecasts_;
  std::unique_ptr<BacktestRunner> backtests_;
  std::string default_horizon_ = "7d";
  LiveHub hub_;
  Metrics metrics_;
  RateLimiter limiter_;
  Router router_;
  std::shared_ptr<const TimeZone> timezone_;
  int store_epsg_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::atomic<bool> draining_{false};
  std::atomic<std::int64_t> in_flight_{0};
};

// --- helpers for route handlers ---
Response JsonResponse(int status, const nlohmann::json& body);
// The audit `object` for a request: "METHOD target", at most 2,000 bytes.
std::string AuditObject(const Request& req);

}  // namespace crimecast::server
