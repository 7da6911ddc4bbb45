// POST /api/backtests (queue a rolling-origin backtest) and GET /api/backtests/{id} (status,
// progress, and the report when done; ?format=svg for the hit-rate chart). Analysts and admins.
#include "server/backtests.hpp"

#include <fmt/format.h>

#include "server/error_response.hpp"
#include "server/routes/routes.hpp"
#include "server/service.hpp"

namespace crimecast::server {
namespace {

std::string Iso(std::int64_t ms) {
  return ms > 0 ? FormatIso(TimePoint{Seconds{ms / 1000}}) : std::string();
}

nlohmann::json JobJson(const BacktestJob& j) {
  nlohmann::json out = {
      {"id", j.id},
      {"status", Name(j.status)},
      {"owner", j.owner},
      {"request", nlohmann::json::parse(j.request_json, nullptr, false)},
      {"created_at", Iso(j.created_ms)},
      {"progress",
       {{"done", j.done},
        {"total", j.total},
        {"fraction", j.total > 0 ? static_cast<double>(j.done) / static_cast<double>(j.total)
                                 : (j.status == BacktestJob::Status::kDone ? 1.0 : 0.0)},
        {"origin", j.last_origin},
        {"model", j.last_model}}}};
  if (j.started_ms) out["started_at"] = Iso(j.started_ms);
  if (j.finished_ms) out["finished_at"] = Iso(j.finished_ms);
  if (j.status == BacktestJob::Status::kFailed) out["error"] = j.error;
  if (j.status == BacktestJob::Status::kDone) {
    out["report"] = nlohmann::json::parse(j.report_json, nullptr, false);
    out["chart_url"] = "/api/backtests/" + j.id + "?format=svg";
  }
  return out;
}

void PostBacktest(Service& s, const std::shared_ptr<Exchange>& ex) {
  auto req = ParseBacktestRequest(ex->req.body);
  if (!req) return ex->Finish(s, ErrorResponse(req.error()));
  auto id = s.backtests().Submit(*req, ex->req.body, ex->principal->user_name);
  if (!id) return ex->Finish(s, ErrorResponse(id.error()));
  auto job = s.backtests().Get(*id);
  Response r = JsonResponse(202, JobJson(*job));
  r.headers.emplace_back("Location", "/api/backtests/" + *id);
  ex->audit.detail = fmt::format("backtest={} models={}", *id, req->models.size());
  ex->Finish(s, std::move(r));
}

void GetBacktest(Service& s, const std::shared_ptr<Exchange>& ex) {
  const std::string id = ex->req.PathParam("id").value_or("");
  auto job = s.backtests().Get(id);
  if (!job) {
    return ex->Finish(
        s, ErrorResponse(ErrorCode::kNotFound, "no backtest with id '" + id.substr(0, 40) + "'"));
  }
  ex->audit.detail = fmt::format("backtest={} status={}", id, Name(job->status));
  if (ex->req.Param("format").value_or("json") == "svg") {
    if (job->status != BacktestJob::Status::kDone) {
      return ex->Finish(s, ErrorResponse(ErrorCode::kNotFound, "the backtest has not finished"));
    }
    Response r;
    r.content_type = "image/svg+xml";
    r.body = job->report_svg;
    return ex->Finish(s, std::move(r));
  }
  ex->Finish(s, JsonResponse(200, JobJson(*job)));
}

}  // namespace

void AddBacktestRoutes(Router& router) {
  router.Add({.method = "POST",
              .pattern = "/api/backtests",
              .authenticate = true,
              .permission = access::Permission::kRunBacktests,
              .audited = true,
              .action = access::AuditAction::kConsultation,
              .rate_limited = true,
              .handler = PostBacktest});
  router.Add({.method = "GET",
              .pattern = "/api/backtests/{id}",
              .authenticate = true,
              .permission = access::Permission::kRunBacktests,
              .audited = true,
              .action = access::AuditAction::kConsultation,
              .rate_limited = true,
              .handler = GetBacktest});
}

}  // namespace crimecast::server
