// GET /api/boundaries, GET /api/config: what the web client needs besides the data.
//
// /api/boundaries?layer=NAME[&bbox=minlon,minlat,maxlon,maxlat] returns one boundary layer
// (LSOAs, the force area, ...) given to `crimecast serve --boundaries NAME=FILE`, as a GeoJSON
// FeatureCollection of (Multi)Polygons in WGS84 with properties `code` and `name`. It is read
// with the core's GDAL reader (core/spatial/boundaries.hpp), so any format and CRS GDAL knows
// works. /api/config tells the client which layers exist, the basemap style URL (if any), the
// models, horizons, categories and the server's defaults, so the client hard-codes none of them.
//
// Both need a signed-in user but are NOT audited: boundaries and the configuration are public
// geography and settings, not personal data (like /api/openapi.json), and the map asks for the
// overlay again on every pan, which would bury the consultations of real data in the log.
#include "core/spatial/boundaries.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "core/models/registry.hpp"
#include "core/spatial/grid.hpp"
#include "server/error_response.hpp"
#include "server/routes/params.hpp"
#include "server/routes/routes.hpp"
#include "server/service.hpp"

namespace crimecast::server {
namespace {

// One loaded layer: each feature's GeoJSON text, made once, with its lon/lat envelope for the
// bbox filter; and the whole collection, served without a bbox.
struct Layer {
  struct Feature {
    spatial::Envelope envelope;
    std::string json;
  };
  std::vector<Feature> features;
  std::string source_crs;
  std::shared_ptr<const std::string> all;
};

void AppendRing(std::string& out, const spatial::Ring& ring) {
  out += '[';
  for (std::size_t i = 0; i < ring.PointCount(); ++i) {
    if (i) out += ',';
    // 6 decimals: about 0.1 m, far below the accuracy of any published boundary.
    fmt::format_to(std::back_inserter(out), "[{:.6f},{:.6f}]", ring.xy[2 * i], ring.xy[2 * i + 1]);
  }
  out += ']';
}

std::string FeatureJson(const spatial::BoundaryFeature& f) {
  std::string out = R"({"type":"Feature","properties":)";
  out += nlohmann::json{{"code", f.code}, {"name", f.name}}.dump();
  out += R"(,"geometry":{"type":"MultiPolygon","coordinates":[)";
  for (std::size_t p = 0; p < f.lonlat.size(); ++p) {
    if (p) out += ',';
    out += '[';
    for (std::size_t r = 0; r < f.lonlat[p].rings.size(); ++r) {
      if (r) out += ',';
      AppendRing(out, f.lonlat[p].rings[r]);
    }
    out += ']';
  }
  out += "]}}";
  return out;
}

std::string Collection(const std::string& name, const std::string& source_crs,
                       const std::vector<const std::string*>& features) {
  std::string out = R"({"type":"FeatureCollection","crimecast":)";
  out += nlohmann::json{{"layer", name}, {"features", features.size()}, {"source_crs", source_crs}}
             .dump();
  out += R"(,"features":[)";
  for (std::size_t i = 0; i < features.size(); ++i) {
    if (i) out += ',';
    out += *features[i];
  }
  out += "]}";
  return out;
}

// Layers are loaded on first use and kept for the life of the process, keyed by file path (the
// tests run several servers in one process). Loading takes about a second for every LSOA of
// Wales; a failed load is not cached, so fixing the file needs no restart.
Result<std::shared_ptr<const Layer>> LoadLayer(const std::string& name, const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Layer>> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(path); it != cache.end()) return it->second;
  auto b = spatial::Boundaries::Load(path);
  if (!b) return Unexpected(b.error());
  auto layer = std::make_shared<Layer>();
  layer->source_crs = b->report().source_crs;
  std::vector<const std::string*> all;
  layer->features.reserve(b->size());
  for (const auto& f : b->features())
    layer->features.push_back({f.lonlat_envelope, FeatureJson(f)});
  for (const auto& f : layer->features) all.push_back(&f.json);
  layer->all = std::make_shared<const std::string>(Collection(name, layer->source_crs, all));
  cache.emplace(path, layer);
  return std::shared_ptr<const Layer>(layer);
}

std::string LayerNames(const ServerConfig& c) {
  std::string names;
  for (const auto& [name, file] : c.boundary_files) names += (names.empty() ? "" : ", ") + name;
  return names;
}

void GetBoundaries(Service& s, const std::shared_ptr<Exchange>& ex) {
  const ServerConfig& c = s.config();
  if (c.boundary_files.empty()) {
    return ex->Finish(s, ErrorResponse(ErrorCode::kNotFound,
                                       "no boundary layers on this server (crimecast serve "
                                       "--boundaries NAME=FILE)"));
  }
  const auto name = ex->req.Param("layer");
  if (!name) {
    return ex->Finish(s, ErrorResponse(ErrorCode::kInvalidArgument,
                                       "parameter 'layer' is required; layers: " + LayerNames(c)));
  }
  const auto it = std::find_if(c.boundary_files.begin(), c.boundary_files.end(),
                               [&](const auto& kv) { return kv.first == *name; });
  if (it == c.boundary_files.end()) {
    return ex->Finish(s, ErrorResponse(ErrorCode::kNotFound, "no boundary layer '" + *name +
                                                                 "'; layers: " + LayerNames(c)));
  }
  storage::EventFilter bbox_only;
  Request only_bbox;
  if (auto b = ex->req.Param("bbox")) only_bbox.params.emplace_back("bbox", *b);
  if (auto r = ParseEventFilter(only_bbox, bbox_only); !r) {
    return ex->Finish(s, ErrorResponse(r.error()));
  }
  auto layer = LoadLayer(*name, it->second);
  if (!layer) {
    // The file was named by the operator: its problem is a server fault, not the client's.
    return ex->Finish(s, ErrorResponse(ErrorCode::kInternal,
                                       "boundary layer '" + *name +
                                           "' could not be read: " + layer.error().message));
  }
  Response r;
  r.content_type = "application/geo+json";
  // Boundaries change with a file on disk and a restart, not with data: a short private cache.
  r.headers.emplace_back("Cache-Control", "private, max-age=300");
  if (!bbox_only.bbox) {
    r.shared_body = (*layer)->all;
    return ex->Finish(s, std::move(r));
  }
  const auto& [x0, y0, x1, y1] = *bbox_only.bbox;
  std::vector<const std::string*> picked;
  for (const auto& f : (*layer)->features) {
    const bool disjoint = f.envelope.max_x < x0 || f.envelope.min_x > x1 || f.envelope.max_y < y0 ||
                          f.envelope.min_y > y1;
    if (!disjoint) picked.push_back(&f.json);
  }
  r.body = Collection(*name, (*layer)->source_crs, picked);
  ex->Finish(s, std::move(r));
}

void GetConfig(Service& s, const std::shared_ptr<Exchange>& ex) {
  const ServerConfig& c = s.config();
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& [name, file] : c.boundary_files) layers.push_back({{"name", name}});
  nlohmann::json models = nlohmann::json::array();
  for (const auto& m : models::ModelCatalog()) {
    models.push_back({{"name", m.name}, {"summary", m.summary}});
  }
  nlohmann::json categories = nlohmann::json::array();
  for (int i = 0; i < kCategoryCount; ++i) {
    const auto cat = static_cast<Category>(i);
    categories.push_back({{"slug", Slug(cat)}, {"name", DisplayName(cat)}});
  }
  const bool partner = access::AggregatesOnly(ex->principal->role);
  nlohmann::json out = {
      {"basemap_style",
       c.basemap_style.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.basemap_style)},
      {"boundaries", layers},
      {"models", models},
      {"default_model", models::DefaultModelName()},
      {"horizons", {"12h", "1d", "7d", "1M"}},
      {"default_horizon", s.default_horizon()},
      {"default_cell_m",
       partner ? std::max(c.default_cell_m, c.disclosure.min_cell_m) : c.default_cell_m},
      {"min_cell_m", partner ? c.disclosure.min_cell_m : 0.0},
      {"max_cell_m", spatial::kMaxCellSizeM},
      {"categories", categories}};
  ex->Finish(s, JsonResponse(200, out));
}

}  // namespace

void AddBoundaryRoutes(Router& router) {
  for (auto [pattern, handler] : {std::pair<const char*, Handler>{"/api/boundaries", GetBoundaries},
                                  {"/api/config", GetConfig}}) {
    router.Add({.method = "GET",
                .pattern = pattern,
                .authenticate = true,
                .permission = std::nullopt,
                .audited = false,
                .action = access::AuditAction::kConsultation,
                .rate_limited = true,
                .handler = handler});
  }
}

}  // namespace crimecast::server
