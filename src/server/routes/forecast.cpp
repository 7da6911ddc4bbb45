// GET /api/forecast, GET /api/hotspots, GET /api/cells/{id}: forecasts and their explanations
// (server/forecasts.hpp holds the cache, the live updates and the refits).
//
// Common parameters: model (default: the registry's default), at (absent: the live forecast),
// horizon (12h, 1d, 7d, 1M; default the server's), cell (metres), crs (EPSG:N), category.
// Partners: cells of at least 500 m only (403 otherwise), no event-level explanations, and
// small history counts suppressed.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/access/disclosure.hpp"
#include "core/models/covariate_layers.hpp"
#include "core/models/registry.hpp"
#include "core/spatial/projection.hpp"
#include "server/error_response.hpp"
#include "server/forecasts.hpp"
#include "server/routes/params.hpp"
#include "server/routes/routes.hpp"
#include "server/service.hpp"

namespace crimecast::server {
namespace {

// A cell's risk split into long-term background, recent (near-repeat) and other parts. Models
// fill only the parts they have: a missing background is what the other parts leave of the
// expected count (naive-decay, for example, gives only `recent`).
struct RiskParts {
  double background, recent, other;
};
RiskParts PartsOf(const models::Forecast& f, std::size_t l) {
  const double rc = f.recent.empty() ? 0.0 : f.recent[l];
  const double other = f.other.empty() ? 0.0 : f.other[l];
  const double bg =
      f.background.empty() ? std::max(0.0, f.expected[l] - rc - other) : f.background[l];
  return {bg, rc, other};
}

bool PartnerOf(const Exchange& ex) { return access::AggregatesOnly(ex.principal->role); }

// Reads the forecast parameters shared by the three endpoints. `cell_from_id` fixes the cell
// size and CRS (GET /api/cells/{id}).
Result<ForecastSpec> ParseSpec(const Service& s, const Exchange& ex,
                               const spatial::CellId* cell_from_id) {
  const Request& req = ex.req;
  ForecastSpec spec;
  spec.model = req.Param("model").value_or(models::DefaultModelName());
  if (auto m = models::CreateModel(spec.model, {}); !m) return Unexpected(m.error());
  if (auto at = req.Param("at")) {
    auto t = ParseInstant(*at);
    if (!t) return Fail(ErrorCode::kBadTime, "parameter 'at': " + t.error().message);
    spec.at = *t;
  }
  auto horizon = ParseHorizon(req.Param("horizon").value_or(s.default_horizon()));
  if (!horizon) return Unexpected(horizon.error());
  spec.horizon = *horizon;
  const bool partner = PartnerOf(ex);
  if (cell_from_id) {
    spec.cell_m = cell_from_id->size_m;
    spec.epsg = cell_from_id->epsg;
  } else {
    auto cell = DoubleParam(req, "cell");
    if (!cell) return Unexpected(cell.error());
    spec.cell_m = cell->value_or(
        partner ? std::max(s.config().default_cell_m, s.config().disclosure.min_cell_m)
                : s.config().default_cell_m);
    if (auto crs = req.Param("crs")) {
      auto epsg = spatial::ParseEpsg(*crs);
      if (!epsg) return Unexpected(epsg.error());
      spec.epsg = *epsg;
    }
  }
  if (!(spec.cell_m > 0) || spec.cell_m > spatial::kMaxCellSizeM) {
    return Fail(ErrorCode::kBadGrid, fmt::format("cell {} m: the cell size must be greater than "
                                                 "0 and at most {} m",
                                                 spec.cell_m, spatial::kMaxCellSizeM));
  }
  if (partner) {
    if (auto ok = access::CheckAggregateCellSize(s.config().disclosure, spec.cell_m); !ok) {
      return Unexpected(ok.error());
    }
  }
  storage::EventFilter f;
  Request only_categories;
  if (auto c = req.Param("category")) only_categories.params.emplace_back("category", *c);
  if (auto r = ParseEventFilter(only_categories, f); !r) return Unexpected(r.error());
  spec.categories = f.categories;
  std::sort(spec.categories.begin(), spec.categories.end());
  spec.categories.erase(std::unique(spec.categories.begin(), spec.categories.end()),
                        spec.categories.end());
  return spec;
}

void AddForecastHeaders(Response& r, const ForecastEntry& e, bool stale) {
  r.headers.emplace_back("X-Crimecast-Model-Used", e.result.forecast.model_used);
  r.headers.emplace_back("X-Crimecast-Origin", FormatIso(e.effective_at));
  r.headers.emplace_back("X-Crimecast-Fitted-At",
                         FormatIso(TimePoint{Seconds{e.fitted_at_ms / 1000}}));
  r.headers.emplace_back("X-Crimecast-Live-Events", std::to_string(e.live_events));
  r.headers.emplace_back("X-Crimecast-Stale", stale ? "true" : "false");
  r.headers.emplace_back("Cache-Control", "no-store");
}

// The entry for the request, with errors as responses.
std::shared_ptr<const ForecastEntry> Entry(Service& s, const std::shared_ptr<Exchange>& ex,
                                           const spatial::CellId* cell_from_id, bool& stale) {
  auto spec = ParseSpec(s, *ex, cell_from_id);
  if (!spec) {
    ex->Finish(s, ErrorResponse(spec.error()));
    return nullptr;
  }
  auto lease = s.pool().Acquire();
  if (!lease) {
    ex->Finish(s, ErrorResponse(lease.error()));
    return nullptr;
  }
  auto entry = s.forecasts().Get(*spec, *(*lease)->events);
  if (!entry) {
    ex->Finish(s, ErrorResponse(entry.error()));
    return nullptr;
  }
  stale = s.forecasts().Stale(**entry);
  return *entry;
}

void GetForecast(Service& s, const std::shared_ptr<Exchange>& ex) {
  const std::string format = ex->req.Param("format").value_or("geojson");
  if (format != "geojson" && format != "csv") {
    return ex->Finish(s,
                      ErrorResponse(ErrorCode::kInvalidArgument, "format must be geojson or csv"));
  }
  storage::EventFilter bbox_only;
  if (auto r = ParseEventFilter(ex->req, bbox_only); !r) {
    return ex->Finish(s, ErrorResponse(r.error()));
  }
  bool stale = false;
  auto e = Entry(s, ex, nullptr, stale);
  if (!e) return;
  Response r;
  r.content_type = format == "csv" ? "text/csv; charset=utf-8" : "application/geo+json";
  std::int64_t cells = 0;
  if (bbox_only.bbox) {
    models::ForecastOutputOptions o;
    o.bbox = bbox_only.bbox;
    auto text = format == "csv" ? models::ForecastCsvText(e->result, o)
                                : models::ForecastGeoJsonText(e->result, e->job, o);
    if (!text) return ex->Finish(s, ErrorResponse(text.error()));
    r.body = std::move(*text);
    cells = -1;
  } else {
    const std::string* accept = ex->req.Header("accept-encoding");
    const auto& gz = format == "csv" ? e->csv_gz : e->geojson_gz;
    if (accept && accept->find("gzip") != std::string::npos && gz && !gz->empty()) {
      r.shared_body = gz;
      r.headers.emplace_back("Content-Encoding", "gzip");
    } else {
      r.shared_body = format == "csv" ? e->csv : e->geojson;
    }
    r.headers.emplace_back("Vary", "Accept-Encoding");
    for (double v : e->result.forecast.expected) cells += v > 0;
  }
  AddForecastHeaders(r, *e, stale);
  ex->audit.detail =
      fmt::format("model={} used={} origin={} cell_m={:g} cells={}{}", e->spec.model,
                  e->result.forecast.model_used, FormatIso(e->effective_at), e->spec.cell_m,
                  cells >= 0 ? std::to_string(cells) : "bbox", stale ? " stale" : "");
  ex->Finish(s, std::move(r));
}

// Events near a point (record-level explanations): within `radius_m` of (x, y) in the grid CRS
// and starting in [from, to).
struct NearEvent {
  Event event;
  double distance_m;
};
Result<std::vector<NearEvent>> EventsNear(storage::EventStore& store, int epsg, double x, double y,
                                          double radius_m, TimePoint from, TimePoint to,
                                          std::size_t limit) {
  auto inv_lease = spatial::LeaseProjection(epsg, spatial::kWgs84);
  const spatial::Projection* inv = inv_lease ? inv_lease->get() : nullptr;
  auto fwd_lease = spatial::LeaseProjection(spatial::kWgs84, epsg);
  const spatial::Projection* fwd = fwd_lease ? fwd_lease->get() : nullptr;
  if (!inv || !fwd) return Fail(ErrorCode::kBadCrs, fmt::format("EPSG:{} unusable", epsg));
  double lon_min = 180, lon_max = -180, lat_min = 90, lat_max = -90;
  for (double dx : {-radius_m, radius_m}) {
    for (double dy : {-radius_m, radius_m}) {
      auto ll = inv->Forward(x + dx, y + dy);
      if (!ll) return Unexpected(ll.error());
      lon_min = std::min(lon_min, ll->x);
      lon_max = std::max(lon_max, ll->x);
      lat_min = std::min(lat_min, ll->y);
      lat_max = std::max(lat_max, ll->y);
    }
  }
  storage::EventFilter f;
  f.bbox = std::array<double, 4>{lon_min, lat_min, lon_max, lat_max};
  f.from = from;
  f.to = to;
  f.located_only = true;
  f.include_out_of_area = false;
  std::vector<NearEvent> out;
  auto scanned = store.Scan(f, [&](const Event& e) {
    auto p = fwd->Forward(e.lon, e.lat);
    if (!p) return true;
    const double d = std::hypot(p->x - x, p->y - y);
    if (d <= radius_m) out.push_back({e, d});
    return true;
  });
  if (!scanned) return Unexpected(scanned.error());
  // Latest first.
  std::sort(out.begin(), out.end(), [](const NearEvent& a, const NearEvent& b) {
    return a.event.when.start > b.event.when.start;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

nlohmann::json EventBrief(const NearEvent& n) {
  return {{"source", n.event.source},
          {"id", n.event.source_id},
          {"category", Slug(n.event.category)},
          {"time_start", FormatIso(n.event.when.start)},
          {"time_end", FormatIso(n.event.when.end)},
          {"lon", n.event.lon},
          {"lat", n.event.lat},
          {"quality", Name(n.event.quality)},
          {"distance_m", std::round(n.distance_m)}};
}

std::string PartsReason(double background, double recent) {
  const double total = background + recent;
  if (!(total > 0)) return "no expected events";
  const double share = recent / total;
  if (share >= 0.5) {
    return fmt::format("mostly recent nearby events (near-repeat): {:.0f} % of the risk",
                       share * 100);
  }
  if (share >= 0.15) {
    return fmt::format("long-term background, raised by recent nearby events ({:.0f} %)",
                       share * 100);
  }
  return "mostly long-term background";
}

void GetHotspots(Service& s, const std::shared_ptr<Exchange>& ex) {
  auto n = IntParam(ex->req, "n", 10, 1, 500);
  if (!n) return ex->Finish(s, ErrorResponse(n.error()));
  bool stale = false;
  auto e = Entry(s, ex, nullptr, stale);
  if (!e) return;
  const auto& f = e->result.forecast;
  const auto& g = e->result.grid;
  std::vector<std::int64_t> order = e->result.active;
  std::sort(order.begin(), order.end(), [&f](std::int64_t a, std::int64_t b) {
    return f.expected[static_cast<std::size_t>(a)] > f.expected[static_cast<std::size_t>(b)];
  });
  if (order.size() > static_cast<std::size_t>(*n)) order.resize(static_cast<std::size_t>(*n));
  const bool records = access::Allowed(ex->principal->role, access::Permission::kReadRecords);
  auto inv_lease = spatial::LeaseProjection(g.epsg(), spatial::kWgs84);
  const spatial::Projection* inv = inv_lease ? inv_lease->get() : nullptr;
  auto lease = s.pool().Acquire();
  if (!lease) return ex->Finish(s, ErrorResponse(lease.error()));
  nlohmann::json hot = nlohmann::json::array();
  const TimePoint origin = e->effective_at;
  const double radius = std::max(2 * g.size_m(), 300.0);
  constexpr int kRecentDays = 28;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const auto l = static_cast<std::size_t>(order[k]);
    const spatial::CellIndex idx = g.IndexOfLocal(order[k]);
    const auto [bg, rc, other] = PartsOf(f, l);
    nlohmann::json h = {{"rank", k + 1},
                        {"cell_id", g.IdOf(idx).ToString()},
                        {"risk", f.expected[l]},
                        {"band", e->bands[l]},
                        {"background", bg},
                        {"recent", rc},
                        {"share_recent", f.expected[l] > 0 ? rc / f.expected[l] : 0.0}};
    if (inv) {
      if (auto ll = inv->Forward(g.CentreX(idx), g.CentreY(idx))) {
        h["lon"] = ll->x;
        h["lat"] = ll->y;
      }
    }
    std::string reason = PartsReason(bg, rc);
    if (records) {
      auto near = EventsNear(*(*lease)->events, g.epsg(), g.CentreX(idx), g.CentreY(idx), radius,
                             origin - std::chrono::days(kRecentDays), origin, 10);
      if (!near) return ex->Finish(s, ErrorResponse(near.error()));
      nlohmann::json list = nlohmann::json::array();
      for (const auto& ne : *near) list.push_back(EventBrief(ne));
      if (!near->empty()) {
        reason +=
            fmt::format("; {}{} events within {:.0f} m in the {} days before {}, latest on {}",
                        near->size() >= 10 ? "at least " : "", near->size(), radius, kRecentDays,
                        FormatDate(origin), FormatDate(near->front().event.when.start));
      }
      h["recent_events"] = std::move(list);
    }
    h["reason"] = reason;
    hot.push_back(std::move(h));
  }
  nlohmann::json out = {{"model", f.model},
                        {"model_used", f.model_used},
                        {"origin", FormatIso(origin)},
                        {"horizon", e->spec.horizon.ToString()},
                        {"cell_m", g.size_m()},
                        {"crs", fmt::format("EPSG:{}", g.epsg())},
                        {"active_cells", e->result.active.size()},
                        {"live_events", e->live_events},
                        {"stale", stale},
                        {"notes", f.notes},
                        {"hotspots", std::move(hot)}};
  Response r = JsonResponse(200, out);
  AddForecastHeaders(r, *e, stale);
  ex->audit.detail = fmt::format("model={} used={} origin={} n={}{}", e->spec.model, f.model_used,
                                 FormatIso(origin), order.size(), records ? " with events" : "");
  ex->Finish(s, std::move(r));
}

void GetCell(Service& s, const std::shared_ptr<Exchange>& ex) {
  auto id = spatial::CellId::Parse(ex->req.PathParam("id").value_or(""));
  if (!id) {
    return ex->Finish(s, ErrorResponse(ErrorCode::kInvalidArgument,
                                       "cell id must be EPSG:SIZE:IX:IY, e.g. 27700:150:2110:1273 "
                                       "(" +
                                           id.error().message + ")"));
  }
  bool stale = false;
  auto e = Entry(s, ex, &*id, stale);
  if (!e) return;
  const auto& f = e->result.forecast;
  const auto& g = e->result.grid;
  const spatial::CellIndex idx = id->index;
  const std::int64_t local = g.LocalOf(idx);
  auto inv_lease = spatial::LeaseProjection(id->epsg, spatial::kWgs84);
  const spatial::Projection* inv = inv_lease ? inv_lease->get() : nullptr;
  if (!inv) return ex->Finish(s, ErrorResponse(ErrorCode::kBadCrs, "unusable CRS"));
  nlohmann::json polygon = nlohmann::json::array();
  const double x0 = g.CornerX(idx), y0 = g.CornerY(idx), sz = g.size_m();
  for (auto [dx, dy] : {std::pair{0.0, 0.0}, {1.0, 0.0}, {1.0, 1.0}, {0.0, 1.0}, {0.0, 0.0}}) {
    auto ll = inv->Forward(x0 + dx * sz, y0 + dy * sz);
    if (ll) polygon.push_back({ll->x, ll->y});
  }
  nlohmann::json out = {{"cell_id", id->ToString()},
                        {"crs", fmt::format("EPSG:{}", id->epsg)},
                        {"size_m", sz},
                        {"corner", {x0, y0}},
                        {"polygon", polygon}};
  if (auto c = inv->Forward(g.CentreX(idx), g.CentreY(idx))) out["centre"] = {c->x, c->y};
  const TimePoint origin = e->effective_at;
  if (local >= 0) {
    const auto l = static_cast<std::size_t>(local);
    const auto [bg, rc, other] = PartsOf(f, l);
    // Poisson: the expected count is also the variance; a 90 % interval for the count.
    const double mean = f.expected[l];
    out["forecast"] = {{"model", f.model},
                       {"model_used", f.model_used},
                       {"origin", FormatIso(origin)},
                       {"horizon", e->spec.horizon.ToString()},
                       {"risk", mean},
                       {"background", bg},
                       {"recent", rc},
                       {"other", other},
                       {"band", e->bands[l]},
                       {"poisson_sd", std::sqrt(mean)},
                       {"explanation", PartsReason(bg, rc)},
                       {"parameters", f.parameters},
                       {"stale", stale}};
  } else {
    out["forecast"] = nullptr;
    out["note"] = "the cell lies outside the forecast grid (no events near it before the origin)";
  }
  // Area covariates at the cell (the layers stored with the events, rasterised on the forecast
  // grid by cell centre): value null where the centre lies in no area with a value.
  nlohmann::json covariates = nlohmann::json::array();
  if (const auto& cov = e->result.covariates; cov && local >= 0) {
    for (std::size_t k = 0; k < cov->layers.size(); ++k) {
      const float v = cov->layers[k].value[static_cast<std::size_t>(local)];
      const auto& info = cov->info[k];
      covariates.push_back({{"name", info.name},
                            {"value", std::isnan(v) ? nlohmann::json(nullptr)
                                                    : nlohmann::json(static_cast<double>(v))},
                            {"unit", info.unit},
                            {"description", info.description},
                            {"source", info.source}});
    }
  }
  out["covariates"] = std::move(covariates);

  // History: events starting in the cell, by month, over the two years before the origin.
  auto lease = s.pool().Acquire();
  if (!lease) return ex->Finish(s, ErrorResponse(lease.error()));
  double lon_min = 180, lon_max = -180, lat_min = 90, lat_max = -90;
  for (const auto& p : polygon) {
    lon_min = std::min(lon_min, p[0].get<double>());
    lon_max = std::max(lon_max, p[0].get<double>());
    lat_min = std::min(lat_min, p[1].get<double>());
    lat_max = std::max(lat_max, p[1].get<double>());
  }
  storage::EventFilter hf;
  hf.bbox = std::array<double, 4>{lon_min - 1e-6, lat_min - 1e-6, lon_max + 1e-6, lat_max + 1e-6};
  const TimePoint first_month = StartOfMonth(AddMonths(origin, -23));
  hf.from = first_month;
  hf.to = origin;
  hf.categories = e->spec.categories;
  hf.include_out_of_area = false;
  auto points = (*lease)->events->LoadPoints(hf, id->epsg);
  if (!points) return ex->Finish(s, ErrorResponse(points.error()));
  std::vector<std::string> months;
  std::map<std::string, std::int64_t> by_month;
  for (TimePoint m = first_month; m < origin; m = AddMonths(m, 1)) {
    months.push_back(FormatMonth(m));
    by_month[months.back()] = 0;
  }
  for (std::size_t i = 0; i < points->size(); ++i) {
    if (g.IndexOf(points->x[i], points->y[i]) != idx) continue;
    const std::string m = FormatMonth(TimePoint{Seconds{points->t_start[i]}});
    if (auto it = by_month.find(m); it != by_month.end()) ++it->second;
  }
  std::vector<std::int64_t> counts;
  for (const auto& m : months) counts.push_back(by_month[m]);
  const bool partner = PartnerOf(*ex);
  access::DisclosurePolicy policy = s.config().disclosure;
  if (!partner) policy.min_count = 1;
  const auto t = access::SuppressTable(policy, 1, static_cast<std::int64_t>(counts.size()), counts);
  nlohmann::json hist = nlohmann::json::array();
  for (std::size_t i = 0; i < months.size(); ++i) {
    hist.push_back(
        {{"month", months[i]},
         {"events", t.cells[i] ? nlohmann::json(*t.cells[i]) : nlohmann::json(nullptr)}});
  }
  out["history"] = {{"months", hist},
                    {"total", t.total ? nlohmann::json(*t.total) : nlohmann::json(nullptr)}};
  if (partner) out["history"]["suppressed_cells"] = t.primary + t.secondary;

  // Recent events in and around the cell (record-level roles only).
  if (access::Allowed(ex->principal->role, access::Permission::kReadRecords)) {
    auto near = EventsNear(*(*lease)->events, id->epsg, g.CentreX(idx), g.CentreY(idx),
                           1.5 * sz + 200.0, origin - std::chrono::days(90), origin, 50);
    if (!near) return ex->Finish(s, ErrorResponse(near.error()));
    nlohmann::json list = nlohmann::json::array();
    for (const auto& ne : *near) list.push_back(EventBrief(ne));
    out["recent_events"] = std::move(list);
    out["recent_events_window_days"] = 90;
  }
  Response r = JsonResponse(200, out);
  AddForecastHeaders(r, *e, stale);
  ex->audit.detail = fmt::format("cell={} origin={}", id->ToString(), FormatIso(origin));
  ex->Finish(s, std::move(r));
}

}  // namespace

void AddForecastRoutes(Router& router) {
  for (auto [pattern, handler] : {std::pair<const char*, Handler>{"/api/forecast", GetForecast},
                                  {"/api/hotspots", GetHotspots},
                                  {"/api/cells/{id}", GetCell}}) {
    router.Add({.method = "GET",
                .pattern = pattern,
                .authenticate = true,
                .permission = access::Permission::kReadAggregates,
                .audited = true,
                .action = access::AuditAction::kConsultation,
                .rate_limited = true,
                .handler = handler});
  }
}

}  // namespace crimecast::server
