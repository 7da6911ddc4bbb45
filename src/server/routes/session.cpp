// POST /api/session (sign in), GET /api/session (who am I), DELETE /api/session (sign out).
#include <fmt/format.h>

#include "server/error_response.hpp"
#include "server/routes/routes.hpp"
#include "server/service.hpp"

namespace crimecast::server {
namespace {

nlohmann::json Permissions(access::Role role) {
  nlohmann::json out = nlohmann::json::array();
  for (auto p : {access::Permission::kReadRecords, access::Permission::kReadAggregates,
                 access::Permission::kIngest, access::Permission::kRunBacktests,
                 access::Permission::kReadAudit, access::Permission::kManageUsers}) {
    if (access::Allowed(role, p)) out.push_back(access::Name(p));
  }
  return out;
}

std::string Iso(std::int64_t ms) { return FormatIso(TimePoint{Seconds{ms / 1000}}); }

void SignIn(Service& s, const std::shared_ptr<Exchange>& ex) {
  const Request& req = ex->req;
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("user") ||
      !body.contains("password") || !body["user"].is_string() || !body["password"].is_string()) {
    ex->audit.outcome = "error";
    ex->Finish(s, ErrorResponse(ErrorCode::kInvalidArgument,
                                "expected a JSON object {\"user\": ..., \"password\": ..., "
                                "\"purpose\": ...}"));
    return;
  }
  const std::string user = body["user"].get<std::string>();
  std::string purpose;
  if (body.contains("purpose") && body["purpose"].is_string()) {
    purpose = body["purpose"].get<std::string>().substr(0, 200);
  }
  ex->audit.user = user.substr(0, 64);
  if (!purpose.empty()) ex->audit.purpose = purpose;
  auto lease = s.pool().Acquire();
  if (!lease) {
    ex->Finish(s, ErrorResponse(lease.error()));
    return;
  }
  auto login =
      (*lease)->access->Login(user, body["password"].get<std::string>(), req.client, purpose);
  if (!login) {
    ex->audit.detail = std::string(Name(login.error().code));
    ex->Finish(s, ErrorResponse(login.error()));
    return;
  }
  const access::Principal& p = login->principal;
  ex->audit.user = p.user_name;
  ex->audit.role = std::string(access::Name(p.role));
  ex->audit.detail = "signed in";
  nlohmann::json out = {{"token", login->token},
                        {"user", p.user_name},
                        {"role", access::Name(p.role)},
                        {"permissions", Permissions(p.role)},
                        {"aggregates_only", access::AggregatesOnly(p.role)},
                        {"expires_at", Iso(p.expires_at)},
                        {"idle_timeout_s", s.config().access.idle_timeout_s}};
  Response r = JsonResponse(201, out);
  r.headers.emplace_back(
      "Set-Cookie",
      fmt::format("crimecast_session={}; Path=/; HttpOnly; SameSite=Strict; "
                  "Max-Age={}{}",
                  login->token, s.config().access.session_lifetime_s, req.tls ? "; Secure" : ""));
  r.headers.emplace_back("Cache-Control", "no-store");
  ex->Finish(s, std::move(r));
}

void WhoAmI(Service& s, const std::shared_ptr<Exchange>& ex) {
  const access::Principal& p = *ex->principal;
  nlohmann::json out = {
      {"user", p.user_name},
      {"role", access::Name(p.role)},
      {"permissions", Permissions(p.role)},
      {"aggregates_only", access::AggregatesOnly(p.role)},
      {"kind", p.kind == access::Principal::Kind::kSession ? "session" : "api-token"},
      {"purpose", p.purpose}};
  if (p.expires_at > 0) out["expires_at"] = Iso(p.expires_at);
  if (access::AggregatesOnly(p.role)) {
    out["disclosure"] = {{"min_cell_m", s.config().disclosure.min_cell_m},
                         {"min_count", s.config().disclosure.min_count}};
  }
  ex->Finish(s, JsonResponse(200, out));
}

void SignOut(Service& s, const std::shared_ptr<Exchange>& ex) {
  if (ex->principal->kind != access::Principal::Kind::kSession) {
    ex->Finish(s, ErrorResponse(ErrorCode::kInvalidArgument,
                                "API tokens are revoked with `crimecast user revoke-token`"));
    return;
  }
  auto lease = s.pool().Acquire();
  if (!lease) {
    ex->Finish(s, ErrorResponse(lease.error()));
    return;
  }
  std::string token;
  if (const std::string* auth = ex->req.Header("authorization"); auth && auth->size() > 7) {
    token = auth->substr(7);
  } else if (auto c = ex->req.Cookie("crimecast_session")) {
    token = *c;
  }
  if (auto r = (*lease)->access->Logout(token); !r) {
    ex->Finish(s, ErrorResponse(r.error()));
    return;
  }
  ex->audit.detail = "signed out";
  Response r;
  r.status = 204;
  r.content_type.clear();
  r.headers.emplace_back("Set-Cookie",
                         "crimecast_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  ex->Finish(s, std::move(r));
}

}  // namespace

void AddSessionRoutes(Router& router) {
  router.Add({.method = "POST",
              .pattern = "/api/session",
              .authenticate = false,
              .permission = std::nullopt,
              .audited = true,
              .action = access::AuditAction::kAuthentication,
              .rate_limited = true,
              .handler = SignIn});
  router.Add({.method = "GET",
              .pattern = "/api/session",
              .authenticate = true,
              .permission = std::nullopt,
              .audited = false,
              .action = access::AuditAction::kAuthentication,
              .rate_limited = true,
              .handler = WhoAmI});
  router.Add({.method = "DELETE",
              .pattern = "/api/session",
              .authenticate = true,
              .permission = std::nullopt,
              .audited = true,
              .action = access::AuditAction::kAuthentication,
              .rate_limited = true,
              .handler = SignOut});
}

}  // namespace crimecast::server
