// GET /api/boundaries and GET /api/config: the web client's overlays and settings.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "server/server_fixture.hpp"
#include "support/paths.hpp"

namespace crimecast::testing {
namespace {

using Boundaries = ServerTest;

// Two squares in British National Grid (EPSG:27700) near Newport, so the server must reproject
// them to WGS84: A west of easting 331000, B east of it.
std::string WriteLayer(const std::string& dir) {
  const std::string path = (TempDir(dir) / "areas.geojson").string();
  std::ofstream(path) << R"({"type":"FeatureCollection",
 "crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::27700"}},
 "features":[
  {"type":"Feature","properties":{"LSOA21CD":"W01000001","LSOA21NM":"Alpha 001A"},
   "geometry":{"type":"Polygon","coordinates":[[[330000,187000],[331000,187000],[331000,188000],[330000,188000],[330000,187000]]]}},
  {"type":"Feature","properties":{"LSOA21CD":"W01000002","LSOA21NM":"Beta 001B"},
   "geometry":{"type":"Polygon","coordinates":[[[332000,187000],[333000,187000],[333000,188000],[332000,188000],[332000,187000]]]}}]})";
  return path;
}

TEST_F(Boundaries, ServesALayerInWgs84AndFiltersByBbox) {
  config.boundary_files = {{"lsoa", WriteLayer("bnd-layer")}};
  Start();
  const auto before = AuditCount();
  auto all = Get("/api/boundaries?layer=lsoa", "officer");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.Header("content-type"), "application/geo+json");
  auto j = all.Json();
  ASSERT_EQ(j["type"], "FeatureCollection");
  ASSERT_EQ(j["features"].size(), 2u);
  EXPECT_EQ(j["crimecast"]["layer"], "lsoa");
  EXPECT_EQ(j["crimecast"]["source_crs"], "EPSG:27700");
  const auto& a = j["features"][0];
  EXPECT_EQ(a["properties"]["code"], "W01000001");
  EXPECT_EQ(a["properties"]["name"], "Alpha 001A");
  EXPECT_EQ(a["geometry"]["type"], "MultiPolygon");
  // Reprojected: BNG (330000, 187000) is about 3.0 W, 51.57 N.
  const auto& p0 = a["geometry"]["coordinates"][0][0][0];
  EXPECT_NEAR(p0[0].get<double>(), -2.99, 0.05);
  EXPECT_NEAR(p0[1].get<double>(), 51.57, 0.05);

  // A box around the western square only: easting 331000 is about -2.97 degrees.
  const double west_lon = p0[0].get<double>();
  const double lat = p0[1].get<double>();
  auto some = Get(fmt::format("/api/boundaries?layer=lsoa&bbox={},{},{},{}", west_lon - 0.001,
                              lat - 0.001, west_lon + 0.005, lat + 0.005),
                  "partner");
  ASSERT_EQ(some.status, 200) << some.body;
  ASSERT_EQ(some.Json()["features"].size(), 1u);
  EXPECT_EQ(some.Json()["features"][0]["properties"]["code"], "W01000001");
  auto none = Get("/api/boundaries?layer=lsoa&bbox=10,10,11,11", "analyst");
  ASSERT_EQ(none.status, 200);
  EXPECT_EQ(none.Json()["features"].size(), 0u);
  // Public geography: not audited.
  EXPECT_EQ(AuditCount(), before);
}

TEST_F(Boundaries, ErrorsAreClear) {
  config.boundary_files = {{"lsoa", WriteLayer("bnd-errors")},
                           {"force", (TempDir("bnd-errors") / "missing.geojson").string()}};
  Start();
  EXPECT_EQ(Get("/api/boundaries?layer=lsoa").status, 401);
  auto no_layer = Get("/api/boundaries", "officer");
  EXPECT_EQ(no_layer.status, 400);
  EXPECT_NE(no_layer.Json()["message"].get<std::string>().find("lsoa, force"), std::string::npos);
  auto unknown = Get("/api/boundaries?layer=wards", "officer");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.Json()["code"], "NotFound");
  EXPECT_EQ(Get("/api/boundaries?layer=lsoa&bbox=1,2,3", "officer").status, 400);
  auto broken = Get("/api/boundaries?layer=force", "officer");
  EXPECT_EQ(broken.status, 500);
  EXPECT_NE(broken.Json()["message"].get<std::string>().find("force"), std::string::npos);
}

TEST_F(Boundaries, NoLayersConfigured) {
  Start();
  auto r = Get("/api/boundaries?layer=lsoa", "officer");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.Json()["message"].get<std::string>().find("--boundaries"), std::string::npos);
}

TEST_F(Boundaries, ConfigListsLayersModelsAndPartnerLimits) {
  config.boundary_files = {{"lsoa", WriteLayer("bnd-config")}};
  config.basemap_style = "https://tiles.example.org/style.json";
  Start();
  EXPECT_EQ(Get("/api/config").status, 401);
  auto officer = Get("/api/config", "officer");
  ASSERT_EQ(officer.status, 200) << officer.body;
  auto o = officer.Json();
  EXPECT_EQ(o["basemap_style"], "https://tiles.example.org/style.json");
  ASSERT_EQ(o["boundaries"].size(), 1u);
  EXPECT_EQ(o["boundaries"][0]["name"], "lsoa");
  EXPECT_GE(o["models"].size(), 3u);
  EXPECT_EQ(o["categories"].size(), 14u);
  EXPECT_EQ(o["categories"][0]["slug"], "asb");
  EXPECT_EQ(o["min_cell_m"], 0.0);
  EXPECT_EQ(o["default_cell_m"], 150.0);
  auto p = Get("/api/config", "partner").Json();
  EXPECT_EQ(p["min_cell_m"], 500.0);
  EXPECT_EQ(p["default_cell_m"], 500.0);
}

TEST_F(Boundaries, ConfigWithoutBasemapIsNull) {
  Start();
  auto o = Get("/api/config", "auditor").Json();
  EXPECT_TRUE(o["basemap_style"].is_null());
  EXPECT_TRUE(o["boundaries"].empty());
}

}  // namespace
}  // namespace crimecast::testing
