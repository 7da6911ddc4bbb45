// GET /api/events (record-level reading) and POST /api/events (real-time ingest).
//
// POST contract (docs/api.md): a JSON array of records, a single record, or NDJSON (one record
// per line); the fields and rules of the canonical CSV importer (ingest/record_validation.hpp).
// Every valid record of one POST is written in ONE store batch, together with the request's
// audit record, in one transaction that is durable before the reply. Writing is idempotent by
// (source, id): a repeated post answers "duplicate" and changes nothing. The reply lists every
// item: inserted / duplicate / merged, or rejected with code, field and reason.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/access/credentials.hpp"
#include "core/ingest/record_validation.hpp"
#include "core/spatial/projection.hpp"
#include "server/error_response.hpp"
#include "server/routes/params.hpp"
#include "server/routes/routes.hpp"
#include "server/service.hpp"

namespace crimecast::server {
namespace {

// nlohmann's parser recurses once per nesting level: a hostile body of "[[[[..." several MB
// deep would overflow the stack. This single non-recursive pass rejects deep nesting first.
bool NestingWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

bool ValidSourceName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == ':';
    if (!ok) return false;
  }
  return true;
}

struct Item {
  std::string id;  // as given (for the reply)
  std::optional<Event> event;
  ingest::FieldError error;
  storage::WriteOutcome outcome = storage::WriteOutcome::kInserted;
};

constexpr std::string_view kAllowedKeys[] = {
    "id",  "source",      "category", "time",      "lon",     "lat",   "x",      "y",
    "crs", "source_type", "location", "area_code", "outcome", "force", "quality"};

// One JSON record -> validated event, or the reason it is rejected.
Item DecodeItem(const nlohmann::json& j, const std::string& default_source, const Service& s) {
  Item item;
  auto reject = [&item](std::string field, ErrorCode code, std::string reason) {
    item.error = {std::move(field), code, std::move(reason)};
    return item;
  };
  if (!j.is_object()) return reject("", ErrorCode::kBadField, "each record must be a JSON object");
  if (j.contains("id")) {
    if (j["id"].is_string()) {
      item.id = j["id"].get<std::string>();
    } else if (j["id"].is_number_integer()) {
      item.id = std::to_string(j["id"].get<std::int64_t>());
    }
  }
  for (const auto& [key, value] : j.items()) {
    if (std::find(std::begin(kAllowedKeys), std::end(kAllowedKeys), key) ==
        std::end(kAllowedKeys)) {
      return reject(key, ErrorCode::kBadField,
                    fmt::format("unknown field '{}' (allowed: id, source, category, time, lon, "
                                "lat, x, y, crs, source_type, location, area_code, outcome, "
                                "force, quality)",
                                key.substr(0, 40)));
    }
  }
  // Strings stay owned here; RecordFields holds views into them.
  std::string strings[10];
  const char* string_keys[10] = {"category", "time",  "source_type", "location", "area_code",
                                 "outcome",  "force", "quality",     "source",   "crs"};
  for (int k = 0; k < 10; ++k) {
    if (!j.contains(string_keys[k]) || j[string_keys[k]].is_null()) continue;
    const auto& v = j[string_keys[k]];
    if (v.is_string()) {
      strings[k] = v.get<std::string>();
    } else if (std::string_view(string_keys[k]) == "crs" && v.is_number_integer()) {
      strings[k] = std::to_string(v.get<std::int64_t>());
    } else {
      return reject(string_keys[k], ErrorCode::kBadField,
                    fmt::format("'{}' must be a string", string_keys[k]));
    }
  }
  if (j.contains("id") && !j["id"].is_null() && item.id.empty() && !j["id"].is_string()) {
    return reject("id", ErrorCode::kBadField, "'id' must be a string or an integer");
  }
  ingest::RecordFields f;
  f.id = item.id;
  f.category = strings[0];
  f.time = strings[1];
  f.source_type = strings[2];
  f.location = strings[3];
  f.area_code = strings[4];
  f.outcome = strings[5];
  f.force = strings[6];
  f.quality = strings[7];
  for (const char* key : {"lon", "lat", "x", "y"}) {
    if (!j.contains(key) || j[key].is_null()) continue;
    if (!j[key].is_number()) {
      return reject(key, ErrorCode::kBadCoordinate, fmt::format("'{}' must be a number", key));
    }
    const double v = j[key].get<double>();
    const std::string_view k(key);
    (k == "lon" ? f.lon : k == "lat" ? f.lat : k == "x" ? f.x : f.y) = v;
  }
  if (!strings[9].empty()) {
    auto epsg = spatial::ParseEpsg(strings[9]);
    if (!epsg) return reject("crs", ErrorCode::kBadCrs, epsg.error().message);
    f.input_epsg = *epsg;
  }
  ingest::RecordContext ctx;
  ctx.source = strings[8].empty() ? default_source : strings[8];
  if (!ValidSourceName(ctx.source)) {
    return reject("source", ErrorCode::kBadField,
                  "source must be 1..64 characters of letters, digits and . _ - :");
  }
  ctx.tz = s.timezone();
  ctx.store_epsg = s.store_epsg();
  auto v = ingest::ValidateRecord(f, ctx);
  if (!v.ok()) {
    item.error = std::move(v.error);
    return item;
  }
  item.event = std::move(v.event);
  return item;
}

std::string_view OutcomeName(storage::WriteOutcome o) {
  switch (o) {
    case storage::WriteOutcome::kInserted:
      return "inserted";
    case storage::WriteOutcome::kDuplicate:
      return "duplicate";
    case storage::WriteOutcome::kMerged:
      return "merged";
  }
  return "inserted";
}

void PostEvents(Service& s, const std::shared_ptr<Exchange>& ex) {
  const Request& req = ex->req;
  const std::string* ct = req.Header("content-type");
  const std::string type = ct ? ct->substr(0, ct->find(';')) : "";
  const bool ndjson =
      type == "application/x-ndjson" || type == "application/ndjson" || type == "application/jsonl";
  if (!ndjson && type != "application/json") {
    ex->Finish(s, ErrorResponse(ErrorCode::kUnsupportedMediaType,
                                "send Content-Type: application/json (an array of records) or "
                                "application/x-ndjson (one record per line)"));
    return;
  }
  std::string default_source = "api";
  if (auto src = req.Param("source")) {
    if (!ValidSourceName(*src)) {
      ex->Finish(s,
                 ErrorResponse(ErrorCode::kInvalidArgument,
                               "source must be 1..64 characters of letters, digits and . _ - :"));
      return;
    }
    default_source = *src;
  }
  const bool report_all = req.Param("report").value_or("all") != "rejected";

  std::vector<Item> items;
  auto too_many = [&] {
    ex->Finish(s, ErrorResponse(ErrorCode::kPayloadTooLarge,
                                fmt::format("at most {} records per request; split the batch",
                                            s.config().max_items_per_post)));
  };
  if (ndjson) {
    std::string_view rest = req.body;
    while (!rest.empty()) {
      const auto nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      if (items.size() >= s.config().max_items_per_post) return too_many();
      if (!NestingWithin(line, 8)) {
        items.push_back({});
        items.back().error = {"", ErrorCode::kBadField, "record nested too deeply"};
        continue;
      }
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) {
        items.push_back({});
        items.back().error = {"", ErrorCode::kBadField,
                              fmt::format("line {} is not valid JSON", items.size())};
        continue;
      }
      items.push_back(DecodeItem(j, default_source, s));
    }
  } else {
    if (!NestingWithin(req.body, 16)) {
      ex->Finish(s, ErrorResponse(ErrorCode::kBadField, "JSON nested too deeply"));
      return;
    }
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_discarded()) {
      ex->Finish(s, ErrorResponse(ErrorCode::kBadField, "the body is not valid JSON"));
      return;
    }
    if (j.is_object()) j = nlohmann::json::array({std::move(j)});
    if (!j.is_array()) {
      ex->Finish(s, ErrorResponse(ErrorCode::kBadField,
                                  "expected a JSON array of records (or one record)"));
      return;
    }
    if (j.size() > s.config().max_items_per_post) return too_many();
    items.reserve(j.size());
    for (const auto& rec : j) items.push_back(DecodeItem(rec, default_source, s));
  }
  if (items.empty()) {
    ex->Finish(s, ErrorResponse(ErrorCode::kEmptyInput, "no records in the request"));
    return;
  }
  std::int64_t valid = 0;
  for (const auto& it : items) valid += it.event.has_value();
  const std::int64_t rejected = static_cast<std::int64_t>(items.size()) - valid;

  auto reply = [report_all](const std::vector<Item>& its, std::int64_t batch,
                            const storage::BatchInfo& b, int status) {
    std::string body = "{";
    if (status >= 400) {
      body += "\"code\":\"BadField\",\"message\":";
      AppendJsonString(body, fmt::format("all {} records were rejected", its.size()));
      body += ",";
    }
    fmt::format_to(std::back_inserter(body),
                   "\"batch\":{},\"received\":{},\"accepted\":{},\"inserted\":{},"
                   "\"duplicate\":{},\"merged\":{},\"rejected\":{},\"items\":[",
                   batch > 0 ? std::to_string(batch) : "null", its.size(), b.accepted, b.inserted,
                   b.duplicate, b.merged, b.rejected);
    bool first = true;
    for (std::size_t i = 0; i < its.size(); ++i) {
      const Item& it = its[i];
      if (!report_all && it.event) continue;
      if (!first) body += ',';
      first = false;
      fmt::format_to(std::back_inserter(body), "{{\"index\":{},\"id\":", i);
      AppendJsonString(body, it.id);
      if (it.event) {
        body += ",\"status\":";
        AppendJsonString(body, OutcomeName(it.outcome));
      } else {
        body += ",\"status\":\"rejected\",\"code\":";
        AppendJsonString(body, Name(it.error.code));
        body += ",\"field\":";
        AppendJsonString(body, it.error.field);
        body += ",\"reason\":";
        AppendJsonString(body, it.error.reason);
      }
      body += '}';
    }
    body += "]}";
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  };

  if (valid == 0) {
    storage::BatchInfo b;
    b.rejected = rejected;
    ex->audit.detail = fmt::format("received={} rejected={}", items.size(), rejected);
    s.metrics().AddIngest(0, 0, 0, rejected);
    ex->Finish(s, reply(items, 0, b, 422));
    return;
  }

  storage::BatchInfo info;
  info.source = default_source;
  info.format = "api";
  info.file_name = fmt::format("POST /api/events by {}", ex->principal->user_name);
  info.sha256 = access::ToHex(access::Sha256(req.body));
  info.started_at = TimePoint{Seconds{access::SystemNowMs() / 1000}};

  // The batch, its audit record and the commit happen on the writer thread; the reply is sent
  // only after the commit, so an acknowledged event is durable (kill -9 proof).
  s.writer().Submit([&s, ex, items = std::move(items), info, rejected,
                     reply](storage::SqliteEventStore& store) mutable {
    auto fail = [&](const Error& e) {
      spdlog::error("POST /api/events: {}", e.ToString());
      ex->audit.outcome.clear();  // Finish derives it from the error status
      ex->Finish(s, ErrorResponse(e));
    };
    auto writer = store.BeginBatch(info);
    if (!writer) return fail(writer.error());
    storage::BatchInfo counts = info;
    counts.rows_read = static_cast<std::int64_t>(items.size());
    counts.rejected = rejected;
    for (Item& it : items) {
      if (!it.event) continue;
      auto out = (*writer)->Write(*it.event);
      if (!out) return fail(out.error());  // writer destroyed: the batch rolls back
      it.outcome = *out;
      ++counts.accepted;
      ++counts.rows_by_category[static_cast<int>(it.event->category)];
      if (!it.event->Located()) ++counts.unlocated;
      switch (*out) {
        case storage::WriteOutcome::kInserted:
          ++counts.inserted;
          break;
        case storage::WriteOutcome::kDuplicate:
          ++counts.duplicate;
          break;
        case storage::WriteOutcome::kMerged:
          ++counts.merged;
          break;
      }
    }
    const std::int64_t batch_id = (*writer)->batch_id();
    ex->audit.status = 200;
    ex->audit.outcome = rejected > 0 ? "partial" : "ok";
    // New records are collection; merges and re-sent records touch existing ones: alteration.
    ex->audit.action = counts.inserted > 0 || counts.merged == 0 ? access::AuditAction::kCollection
                                                                 : access::AuditAction::kAlteration;
    ex->audit.detail =
        fmt::format("batch={} received={} inserted={} duplicate={} merged={} rejected={}", batch_id,
                    items.size(), counts.inserted, counts.duplicate, counts.merged, rejected);
    ex->audit.at_ms = access::SystemNowMs();
    std::vector<access::AuditRecord> rec{ex->audit};
    if (auto a = access::AppendAuditInTransaction(store.handle(), rec); !a) return fail(a.error());
    auto committed = (*writer)->Commit(counts);
    if (!committed) return fail(committed.error());
    ex->audit_written = true;
    s.metrics().AddIngest(counts.inserted, counts.duplicate, counts.merged, rejected);

    // Live stream: one message per batch (not per event), so a busy feed costs one frame per
    // POST per subscriber. Very large batches send a summary only; clients re-read
    // GET /api/events?source=...
    constexpr std::int64_t kMaxLiveEvents = 1000;
    const std::int64_t changed = counts.inserted + counts.merged;
    if (changed > 0) {
      std::string msg = fmt::format("{{\"batch\":{},\"inserted\":{},\"merged\":{}", batch_id,
                                    counts.inserted, counts.merged);
      if (changed <= kMaxLiveEvents) {
        msg += ",\"events\":[";
        bool first = true;
        for (const Item& it : items) {
          if (!it.event || it.outcome == storage::WriteOutcome::kDuplicate) continue;
          if (!first) msg += ',';
          first = false;
          AppendEventJson(msg, *it.event, /*compact=*/true);
        }
        msg += "]";
      } else {
        msg += ",\"truncated\":true";
      }
      msg += "}";
      s.hub().Publish("events", msg, /*record_level=*/true);
      // The forecasts follow (incremental near-repeat update, then background refits).
      std::vector<Event> changed_events;
      changed_events.reserve(static_cast<std::size_t>(changed));
      for (Item& it : items) {
        if (it.event && it.outcome != storage::WriteOutcome::kDuplicate) {
          changed_events.push_back(std::move(*it.event));
        }
      }
      s.forecasts().OnEventsCommitted(std::move(changed_events));
    }
    ex->Finish(s, reply(items, batch_id, *committed, 200));
  });
}

void GetEvents(Service& s, const std::shared_ptr<Exchange>& ex) {
  const Request& req = ex->req;
  storage::EventFilter filter;
  if (auto r = ParseEventFilter(req, filter); !r) return ex->Finish(s, ErrorResponse(r.error()));
  auto limit = IntParam(req, "limit", 1000, 1, s.config().events_page_max);
  if (!limit) return ex->Finish(s, ErrorResponse(limit.error()));
  auto offset = IntParam(req, "offset", 0, 0, std::numeric_limits<std::int32_t>::max());
  if (!offset) return ex->Finish(s, ErrorResponse(offset.error()));
  filter.limit = *limit;
  filter.offset = *offset;
  filter.located_only = req.Param("located_only").value_or("false") == "true";
  const std::string format = req.Param("format").value_or("json");
  if (format != "json" && format != "geojson") {
    return ex->Finish(s,
                      ErrorResponse(ErrorCode::kInvalidArgument, "format must be json or geojson"));
  }
  auto lease = s.pool().Acquire();
  if (!lease) return ex->Finish(s, ErrorResponse(lease.error()));
  std::string body;
  body.reserve(static_cast<std::size_t>(*limit) * 300);
  const bool geojson = format == "geojson";
  body += geojson ? "{\"type\":\"FeatureCollection\",\"features\":[" : "{\"events\":[";
  std::int64_t n = 0;
  const auto deadline = req.deadline;
  bool timed_out = false;
  auto scanned = (*lease)->events->Scan(filter, [&](const Event& e) {
    if ((n & 1023) == 0 && std::chrono::steady_clock::now() > deadline) {
      timed_out = true;
      return false;
    }
    if (n++) body += ',';
    if (geojson) {
      body += "{\"type\":\"Feature\",\"geometry\":";
      if (e.Located()) {
        fmt::format_to(std::back_inserter(body),
                       "{{\"type\":\"Point\",\"coordinates\":[{:.6f},{:.6f}]}}", e.lon, e.lat);
      } else {
        body += "null";
      }
      body += ",\"properties\":";
      AppendEventJson(body, e);
      body += '}';
    } else {
      AppendEventJson(body, e);
    }
    return true;
  });
  if (!scanned) return ex->Finish(s, ErrorResponse(scanned.error()));
  if (timed_out) {
    return ex->Finish(s, ErrorResponse(ErrorCode::kRequestTimeout,
                                       "the query took too long; narrow it or page it"));
  }
  body += "]";
  const bool more = n == *limit;
  fmt::format_to(std::back_inserter(body),
                 ",\"count\":{},\"offset\":{},\"limit\":{},\"next_offset\":{}}}", n, *offset,
                 *limit, more ? std::to_string(*offset + n) : "null");
  ex->audit.detail = fmt::format("rows={}", n);
  Response r;
  r.body = std::move(body);
  if (geojson) r.content_type = "application/geo+json";
  ex->Finish(s, std::move(r));
}

}  // namespace

void AddEventRoutes(Router& router) {
  router.Add({.method = "GET",
              .pattern = "/api/events",
              .authenticate = true,
              .permission = access::Permission::kReadRecords,
              .audited = true,
              .action = access::AuditAction::kConsultation,
              .rate_limited = true,
              .handler = GetEvents});
  router.Add({.method = "POST",
              .pattern = "/api/events",
              .authenticate = true,
              .permission = access::Permission::kIngest,
              .audited = true,
              .action = access::AuditAction::kCollection,
              .rate_limited = true,
              .handler = PostEvents});
}

}  // namespace crimecast::server
