// GET /api/live: a server-sent-events stream (docs/api.md "Live stream").
// Messages: "hello" (on connect), "events" (new or merged events of one ingest batch; only for
// roles that may read records), later "forecast" (changed cells) and "alert"; "shutdown" when
// the server stops. Opening the stream is one audit record (consultation / disclosure).
#include <fmt/format.h>

#include <charconv>

#include "server/error_response.hpp"
#include "server/routes/routes.hpp"
#include "server/service.hpp"

namespace crimecast::server {
namespace {

void Live(Service& s, const std::shared_ptr<Exchange>& ex) {
  if (s.hub().subscribers() >= s.config().max_sse_clients) {
    return ex->Finish(s, ErrorResponse(ErrorCode::kUnavailable, "too many live clients"));
  }
  const access::Principal& p = *ex->principal;
  const bool record_level = access::Allowed(p.role, access::Permission::kReadRecords);
  Response r;
  r.event_stream = true;
  r.event_stream_record_level = record_level;
  r.content_type = "text/event-stream";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("X-Accel-Buffering", "no");  // nginx: do not buffer the stream
  if (const std::string* last = ex->req.Header("last-event-id")) r.last_event_id = *last;
  nlohmann::json hello = {{"user", p.user_name},
                          {"role", access::Name(p.role)},
                          {"record_level", record_level},
                          {"last_id", s.hub().published()},
                          {"heartbeat_s", s.config().sse_heartbeat_s}};
  r.body = "retry: 3000\n" + *LiveHub::MakeFrame("hello", hello.dump(), 0);
  ex->audit.detail = record_level ? "stream opened (record-level)" : "stream opened (aggregates)";
  ex->Finish(s, std::move(r));
}

}  // namespace

void AddLiveRoutes(Router& router) {
  router.Add({.method = "GET",
              .pattern = "/api/live",
              .authenticate = true,
              .permission = access::Permission::kReadAggregates,
              .audited = true,
              .action = access::AuditAction::kConsultation,
              .rate_limited = true,
              .handler = Live});
}

}  // namespace crimecast::server
