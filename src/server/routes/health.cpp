// GET /healthz, GET /metrics, GET /api/openapi.json: operational endpoints. They touch no
// personal data, need no token and are not audited or rate-limited (monitoring must keep
// working when a client is being throttled).
#include <sqlite3.h>

#include "server/error_response.hpp"
#include "server/openapi.hpp"
#include "server/routes/routes.hpp"
#include "server/service.hpp"

namespace crimecast::server {
namespace {

void Healthz(Service& s, const std::shared_ptr<Exchange>& ex) {
  nlohmann::json out = {{"version", "0.1.0"},
                        {"uptime_s", s.uptime_s()},
                        {"live_clients", s.hub().subscribers()},
                        {"writer_queue", s.writer().queue_depth()}};
  bool db_ok = false;
  if (auto lease = s.pool().Acquire()) {
    db_ok = sqlite3_exec((*lease)->events->handle(), "SELECT 1 FROM events LIMIT 1", nullptr,
                         nullptr, nullptr) == SQLITE_OK;
  }
  out["db"] = db_ok ? "ok" : "unavailable";
  const bool ok = db_ok && !s.draining();
  out["status"] = s.draining() ? "draining" : (ok ? "ok" : "degraded");
  ex->Finish(s, JsonResponse(ok ? 200 : 503, out));
}

void MetricsText(Service& s, const std::shared_ptr<Exchange>& ex) {
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = s.metrics().Render();
  ex->Finish(s, std::move(r));
}

void OpenApi(Service& s, const std::shared_ptr<Exchange>& ex) {
  static const auto kBody = std::make_shared<const std::string>(OpenApiJson());
  Response r;
  r.shared_body = kBody;
  r.headers.emplace_back("Cache-Control", "max-age=300");
  ex->Finish(s, std::move(r));
}

}  // namespace

void AddHealthRoutes(Router& router) {
  for (auto [pattern, handler] : {std::pair<const char*, Handler>{"/healthz", Healthz},
                                  {"/metrics", MetricsText},
                                  {"/api/openapi.json", OpenApi}}) {
    router.Add({.method = "GET",
                .pattern = pattern,
                .authenticate = false,
                .permission = std::nullopt,
                .audited = false,
                .action = access::AuditAction::kConsultation,
                .rate_limited = false,
                .handler = handler});
  }
}

}  // namespace crimecast::server
