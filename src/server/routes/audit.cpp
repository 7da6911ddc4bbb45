// GET /api/audit: the audit log, for auditors only; reading it is itself audited.
//   ?from=&to= (ISO 8601 / YYYY-MM), user=, action=, after= (seq), limit= (<= 1000),
//   verify=true (recompute the whole hash chain and report).
#include <fmt/format.h>

#include "core/access/audit_json.hpp"
#include "core/access/audit_log.hpp"
#include "server/error_response.hpp"
#include "server/routes/params.hpp"
#include "server/routes/routes.hpp"
#include "server/service.hpp"

namespace crimecast::server {
namespace {

void GetAudit(Service& s, const std::shared_ptr<Exchange>& ex) {
  const Request& req = ex->req;
  access::AuditQuery q;
  auto limit = IntParam(req, "limit", 100, 1, 1000);
  if (!limit) return ex->Finish(s, ErrorResponse(limit.error()));
  auto after = IntParam(req, "after", 0, 0, std::numeric_limits<std::int64_t>::max());
  if (!after) return ex->Finish(s, ErrorResponse(after.error()));
  q.limit = *limit;
  q.after_seq = *after;
  for (const char* name : {"from", "to"}) {
    if (auto t = req.Param(name)) {
      auto parsed = ParseInstant(*t);
      if (!parsed) return ex->Finish(s, ErrorResponse(parsed.error()));
      const std::int64_t ms = parsed->time_since_epoch().count() * 1000;
      (std::string_view(name) == "from" ? q.from_ms : q.to_ms) = ms;
    }
  }
  if (auto u = req.Param("user")) q.user = *u;
  if (auto a = req.Param("action")) {
    q.action = access::ParseAuditAction(*a);
    if (!q.action) {
      return ex->Finish(s, ErrorResponse(ErrorCode::kInvalidArgument,
                                         fmt::format("unknown action '{}'", a->substr(0, 40))));
    }
  }
  auto lease = s.pool().Acquire();
  if (!lease) return ex->Finish(s, ErrorResponse(lease.error()));
  sqlite3* db = (*lease)->access->handle();
  nlohmann::json out;
  if (req.Param("verify").value_or("false") == "true") {
    auto rep = access::VerifyAuditChain(db);
    if (!rep) return ex->Finish(s, ErrorResponse(rep.error()));
    out["verify"] = {{"ok", rep->ok},
                     {"records", rep->records},
                     {"head", fmt::format("{}:{}", rep->head_seq, rep->head_hash)},
                     {"bad_seq", rep->bad_seq},
                     {"problem", rep->problem}};
    ex->audit.detail = rep->ok ? "verified ok" : "verify FAILED";
  }
  auto recs = access::ReadAudit(db, q);
  if (!recs) return ex->Finish(s, ErrorResponse(recs.error()));
  out["records"] = nlohmann::json::array();
  for (const auto& r : *recs) {
    out["records"].push_back(access::AuditRecordJson(r));
  }
  out["next_after"] = recs->empty() ? nlohmann::json(nullptr) : nlohmann::json(recs->back().seq);
  if (!ex->audit.detail.empty()) ex->audit.detail += " ";
  ex->audit.detail += fmt::format("rows={}", recs->size());
  ex->Finish(s, JsonResponse(200, out));
}

}  // namespace

void AddAuditRoutes(Router& router) {
  router.Add({.method = "GET",
              .pattern = "/api/audit",
              .authenticate = true,
              .permission = access::Permission::kReadAudit,
              .audited = true,
              .action = access::AuditAction::kConsultation,
              .rate_limited = true,
              .handler = GetAudit});
}

}  // namespace crimecast::server
