#include "server/service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "core/access/schema.hpp"
#include "core/ingest/record_validation.hpp"
#include "server/error_response.hpp"
#include "server/routes/routes.hpp"

namespace crimecast::server {

// ---------------------------------------------------------------------------------------------
ReadPool::Lease::~Lease() {
  if (pool_ && c_) {
    std::lock_guard lock(pool_->mu_);
    pool_->idle_.push_back(std::move(c_));
  }
}

Result<ReadPool::Lease> ReadPool::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
  }
  auto c = std::make_unique<Connection>();
  auto events = storage::SqliteEventStore::Open(path_);
  if (!events) return Unexpected(events.error());
  c->events = std::move(*events);
  auto access = access::AccessStore::Attach(c->events->handle(), options_);
  if (!access) return Unexpected(access.error());
  c->access = std::move(*access);
  return Lease(this, std::move(c));
}

// ---------------------------------------------------------------------------------------------
Response JsonResponse(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

std::string AuditObject(const Request& req) {
  std::string o = req.method + " " + req.target;
  if (o.size() > 2000) o.resize(2000);
  return o;
}

void Exchange::Finish(Service& service, Response response) {
  if (finished_.exchange(true)) return;
  // Metrics see the response as delivered (after the audit commit).
  auto deliver = [&service, label = route ? route->pattern : std::string("(none)"),
                  method = req.method, received = req.received, deliver = deliver_](Response r) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count();
    service.metrics().ObserveRequest(label, method, r.status, seconds);
    if (!r.error_key.empty()) service.metrics().CountError(r.error_key);
    deliver(std::move(r));
  };
  if (!audit_needed || audit_written) {
    deliver(std::move(response));
    return;
  }
  audit.status = response.status;
  if (audit.outcome.empty()) {
    audit.outcome = response.status < 400                                ? "ok"
                    : (response.status == 401 || response.status == 403) ? "denied"
                                                                         : "error";
  }
  audit.at_ms = access::SystemNowMs();
  // Released only once the record is durable; if it cannot be written, the data is not sent.
  service.writer().SubmitAudit(audit, [deliver = std::move(deliver),
                                       response = std::move(response)](Result<void> ok) mutable {
    if (ok) {
      deliver(std::move(response));
    } else {
      deliver(ErrorResponse(
          ErrorCode::kStorage,
          "the request could not be audited, so it was not answered: " + ok.error().message));
    }
  });
}

// ---------------------------------------------------------------------------------------------
Service::Service(const ServerConfig& config)
    : config_(config),
      limiter_(config.rate_limit_per_s, config.rate_burst),
      started_(std::chrono::steady_clock::now()) {}

Service::~Service() { StopWriter(); }

void Service::StopWriter() {
  if (backtests_) backtests_->Stop();
  if (forecasts_) forecasts_->Stop();
  if (writer_) writer_->Stop();
}

double Service::uptime_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

Result<std::unique_ptr<Service>> Service::Create(const ServerConfig& config) {
  if (config.db_path.empty()) return Fail(ErrorCode::kInvalidArgument, "no database given");
  std::unique_ptr<Service> s(new Service(config));
  auto tz = TimeZone::Get(config.timezone);
  if (!tz) return Unexpected(tz.error());
  s->timezone_ = *tz;
  auto writer = Writer::Open(config.db_path, &s->metrics_);
  if (!writer) return Unexpected(writer.error());
  s->writer_ = std::move(*writer);
  s->pool_ = std::make_unique<ReadPool>(config.db_path, config.access);
  {
    auto lease = s->pool_->Acquire();
    if (!lease) return Unexpected(lease.error());
    s->store_epsg_ = config.store_epsg;
    if (s->store_epsg_ == 0) {
      auto epsg = (*lease)->events->DominantEpsg();
      if (!epsg) return Unexpected(epsg.error());
      s->store_epsg_ = *epsg;  // 0 for an empty store: each posted point picks its own
    }
    s->default_horizon_ = config.default_horizon;
    if (s->default_horizon_ == "auto") {
      // Month-only data (data.police.uk) can only be forecast by whole months.
      storage::EventFilter sample;
      sample.limit = 2000;
      sample.located_only = true;
      bool month_only = false;
      std::int64_t seen = 0;
      auto scanned = (*lease)->events->Scan(sample, [&](const Event& e) {
        if (seen++ == 0) month_only = true;
        month_only = month_only && e.when.Length() >= std::chrono::days(28);
        return true;
      });
      if (!scanned) return Unexpected(scanned.error());
      s->default_horizon_ = month_only ? "1M" : "7d";
    } else if (auto h = ParseHorizon(s->default_horizon_); !h) {
      return Unexpected(h.error());
    }
  }
  ForecastServiceOptions fo;
  fo.refit_interval_s = config.refit_interval_s;
  fo.live_update_interval_s = config.live_update_interval_s;
  fo.max_entries = config.max_forecasts;
  fo.partner_min_cell_m = config.disclosure.min_cell_m;
  s->forecasts_ = std::make_unique<ForecastService>(config.db_path, fo, s->hub_, s->metrics_);
  s->forecasts_->Start();
  s->backtests_ = std::make_unique<BacktestRunner>(config.db_path, config.backtest_threads,
                                                   config.max_queued_backtests);
  s->backtests_->Start();
  AddSessionRoutes(s->router_);
  AddEventRoutes(s->router_);
  AddStatsRoutes(s->router_);
  AddLiveRoutes(s->router_);
  AddAuditRoutes(s->router_);
  AddHealthRoutes(s->router_);
  AddForecastRoutes(s->router_);
  AddBacktestRoutes(s->router_);
  AddBoundaryRoutes(s->router_);

  Service* raw = s.get();
  s->metrics_.SetGauge("live_clients", "Open /api/live streams.", "",
                       [raw] { return static_cast<double>(raw->hub_.subscribers()); });
  s->metrics_.SetGauge("live_messages", "Messages published on /api/live.", "",
                       [raw] { return static_cast<double>(raw->hub_.published()); });
  s->metrics_.SetGauge("writer_queue_depth", "Audit records and write jobs waiting.", "",
                       [raw] { return static_cast<double>(raw->writer_->queue_depth()); });
  s->metrics_.SetGauge("http_in_flight", "Requests being handled.", "",
                       [raw] { return static_cast<double>(raw->in_flight()); });
  s->metrics_.SetGauge("uptime_seconds", "Seconds since the server started.", "",
                       [raw] { return raw->uptime_s(); });
  s->metrics_.SetGauge("forecasts_cached", "Forecasts held in the cache.", "",
                       [raw] { return static_cast<double>(raw->forecasts_->entries()); });
  s->metrics_.SetGauge("forecast_refits", "Background refits since start.", "",
                       [raw] { return static_cast<double>(raw->forecasts_->refits()); });
  s->metrics_.SetGauge("forecast_live_updates", "Incremental near-repeat updates since start.", "",
                       [raw] { return static_cast<double>(raw->forecasts_->live_updates()); });
  s->metrics_.SetGauge("model_age_seconds",
                       "Age of the oldest live forecast fit (0 when none is cached).", "",
                       [raw] { return raw->forecasts_->OldestLiveAgeSeconds(); });
  s->metrics_.SetGauge("data_version", "Store version: +1 per committed ingest batch.", "",
                       [raw] { return static_cast<double>(raw->forecasts_->data_version()); });
  return s;
}

void Service::Deny(const std::shared_ptr<Exchange>& ex, const Error& error) {
  if (ex->route && ex->route->audited) {
    ex->audit_needed = true;
    ex->audit.action = ex->route->action;
    ex->audit.object = AuditObject(ex->req);
    ex->audit.client = ex->req.client;
    ex->audit.outcome = "denied";
    ex->audit.detail = std::string(Name(error.code));
    if (ex->principal) {
      ex->audit.user = ex->principal->user_name;
      ex->audit.role = std::string(access::Name(ex->principal->role));
    }
  }
  ex->Finish(*this, ErrorResponse(error));
}

void Service::Handle(const std::shared_ptr<Exchange>& ex) {
  Request& req = ex->req;
  if (draining_) {
    ex->Finish(*this, ErrorResponse(ErrorCode::kUnavailable, "the server is shutting down"));
    return;
  }
  if (std::chrono::steady_clock::now() > req.deadline) {
    ex->Finish(*this, ErrorResponse(ErrorCode::kUnavailable,
                                    "the server is overloaded: the request waited too long"));
    return;
  }
  auto match = router_.Find(req.method, req.path);
  if (!match.route) {
    if (!match.allow.empty()) {
      Response r = ErrorResponse(ErrorCode::kMethodNotAllowed,
                                 req.method + " is not allowed on " + req.path);
      r.headers.emplace_back("Allow", match.allow);
      ex->Finish(*this, std::move(r));
      return;
    }
    if (!config_.static_dir.empty() && (req.method == "GET" || req.method == "HEAD") &&
        !req.path.starts_with("/api/")) {
      ex->Finish(*this, ServeStatic(*this, req));
      return;
    }
    ex->Finish(*this, ErrorResponse(ErrorCode::kNotFound, "no such endpoint: " + req.path));
    return;
  }
  const Route& route = *match.route;
  ex->route = &route;
  req.path_params = std::move(match.params);

  std::string token;
  if (const std::string* auth = req.Header("authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth->size() > kBearer.size() &&
        std::equal(kBearer.begin(), kBearer.end(), auth->begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      token = auth->substr(kBearer.size());
    }
  } else if (req.method == "GET") {
    // The cookie is accepted only for GET: a browser's EventSource cannot set headers, and
    // refusing it on state-changing methods makes cross-site request forgery moot.
    if (auto c = req.Cookie("crimecast_session")) token = *c;
  }
  if (route.rate_limited && token.empty() && !limiter_.Allow("ip:" + req.client)) {
    ex->Finish(*this, ErrorResponse(ErrorCode::kRateLimited, "too many requests"));
    return;
  }
  if (route.authenticate) {
    if (token.empty()) {
      Deny(ex, {ErrorCode::kUnauthenticated,
                "sign in first (POST /api/session) and send 'Authorization: Bearer <token>'"});
      return;
    }
    auto lease = pool_->Acquire();
    if (!lease) {
      ex->Finish(*this, ErrorResponse(lease.error()));
      return;
    }
    auto principal = (*lease)->access->Authenticate(token);
    if (!principal) {
      if (principal.error().code == ErrorCode::kStorage) {
        ex->Finish(*this, ErrorResponse(principal.error()));
        return;
      }
      if (route.rate_limited && !limiter_.Allow("ip:" + req.client)) {
        ex->Finish(*this, ErrorResponse(ErrorCode::kRateLimited, "too many requests"));
        return;
      }
      Deny(ex, principal.error());
      return;
    }
    ex->principal = std::move(*principal);
    if (route.rate_limited && !limiter_.Allow("tok:" + ex->principal->token_hash)) {
      ex->Finish(*this, ErrorResponse(ErrorCode::kRateLimited,
                                      "too many requests for this token; slow down"));
      return;
    }
    if (route.permission && !access::Allowed(ex->principal->role, *route.permission)) {
      Deny(ex, {ErrorCode::kForbidden,
                fmt::format("role '{}' may not {} ({})", access::Name(ex->principal->role),
                            access::Name(*route.permission),
                            access::AggregatesOnly(ex->principal->role)
                                ? "partners receive aggregates only"
                                : "ask an administrator")});
      return;
    }
  }
  if (route.audited) {
    access::AuditRecord& a = ex->audit;
    ex->audit_needed = true;
    a.action = route.action;
    if (ex->principal) {
      a.user = ex->principal->user_name;
      a.role = std::string(access::Name(ex->principal->role));
      // Aggregates given to a partner agency leave the force: that is disclosure, not
      // consultation (DPA 2018 s.62).
      if (access::AggregatesOnly(ex->principal->role) &&
          a.action == access::AuditAction::kConsultation) {
        a.action = access::AuditAction::kDisclosure;
      }
      a.purpose = ex->principal->purpose;
    }
    if (const std::string* p = req.Header("x-purpose"); p && !p->empty()) {
      std::string purpose = p->substr(0, 200);
      if (ingest::StorableTextProblem(purpose).empty()) a.purpose = std::move(purpose);
    }
    a.object = AuditObject(req);
    a.client = req.client;
  }
  try {
    route.handler(*this, ex);
  } catch (const std::exception& e) {
    // Exceptions are faults (allocation, filesystem), caught here per the error-handling rule.
    spdlog::error("handler {} {} threw: {}", req.method, route.pattern, e.what());
    ex->Finish(*this, ErrorResponse(ErrorCode::kInternal, "internal error"));
  }
}

}  // namespace crimecast::server
