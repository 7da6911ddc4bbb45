#include "core/spatial/boundaries.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/spatial/projection.hpp"
#include "support/ascii_grid.hpp"
#include "support/paths.hpp"

namespace crimecast::spatial {
namespace {

using crimecast::testing::FormatAsciiGrid;
using crimecast::testing::NormaliseAsciiGrid;
using crimecast::testing::ParseAsciiGrid;
using crimecast::testing::RunCommand;
using crimecast::testing::TempDir;

std::filesystem::path WriteFile(const std::filesystem::path& dir, const std::string& name,
                                const std::string& text) {
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string Square(double x0, double y0, double x1, double y1) {
  return "[[" + std::to_string(x0) + "," + std::to_string(y0) + "],[" + std::to_string(x1) + "," +
         std::to_string(y0) + "],[" + std::to_string(x1) + "," + std::to_string(y1) + "],[" +
         std::to_string(x0) + "," + std::to_string(y1) + "],[" + std::to_string(x0) + "," +
         std::to_string(y0) + "]]";
}

std::string Feature(const std::string& properties, const std::string& geometry) {
  return R"({"type":"Feature","properties":)" + properties + R"(,"geometry":)" + geometry + "}";
}

std::string Collection(const std::vector<std::string>& features, const std::string& crs = "") {
  std::string out = R"({"type":"FeatureCollection",)";
  if (!crs.empty()) {
    out += R"("crs":{"type":"name","properties":{"name":")" + crs + R"("}},)";
  }
  out += R"("features":[)";
  for (std::size_t i = 0; i < features.size(); ++i) out += (i ? "," : "") + features[i];
  return out + "]}";
}

// Two 0.01-degree squares side by side near Newport, west one first.
std::string TwoSquares() {
  return Collection({
      Feature(R"({"LSOA21CD":"W01000001","LSOA21NM":"West 001A","pop":1500})",
              R"({"type":"Polygon","coordinates":[)" + Square(-3.00, 51.58, -2.99, 51.59) + "]}"),
      Feature(R"({"LSOA21CD":"W01000002","LSOA21NM":"East 001B","pop":null})",
              R"({"type":"Polygon","coordinates":[)" + Square(-2.99, 51.58, -2.98, 51.59) + "]}"),
  });
}

Boundaries LoadOrDie(const std::filesystem::path& path, const BoundaryLoadOptions& options = {}) {
  auto b = Boundaries::Load(path, options);
  EXPECT_TRUE(b) << (b ? "" : b.error().ToString());
  return b ? std::move(*b) : Boundaries{};
}

BoundaryLocator LocatorOrDie(const Boundaries& b, Frame frame) {
  auto l = BoundaryLocator::Create(b, frame);
  EXPECT_TRUE(l) << (l ? "" : l.error().ToString());
  return std::move(*l);
}

TEST(Boundaries, LoadsGeoJsonAndDetectsCodeAndName) {
  const auto dir = TempDir("boundaries-load");
  const Boundaries b = LoadOrDie(WriteFile(dir, "two.geojson", TwoSquares()));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b.code_property(), "LSOA21CD");
  EXPECT_EQ(b.name_property(), "LSOA21NM");
  EXPECT_EQ(b[0].code, "W01000001");
  EXPECT_EQ(b[1].name, "East 001B");
  EXPECT_EQ(b.projected_epsg(), kBritishNationalGrid);
  EXPECT_EQ(b.report().features_read, 2u);
  EXPECT_EQ(b.report().source_crs, "EPSG:4326");
  EXPECT_EQ(b.report().repaired_invalid, 0u);
  EXPECT_EQ(b.FindByCode("W01000002"), 1);
  EXPECT_EQ(b.FindByCode("nope"), -1);
  EXPECT_EQ(*b.Property(0, "pop"), "1500");
  EXPECT_EQ(*b.Property(1, "pop"), "");      // null attribute
  EXPECT_EQ(*b.Property(0, "POP"), "1500");  // case-insensitive fallback
  EXPECT_EQ(b.Property(0, "nope").error().code, ErrorCode::kMissingColumn);
  // Closed rings, lon/lat envelope as written, projected envelope in BNG metres.
  ASSERT_EQ(b[0].lonlat.size(), 1u);
  EXPECT_EQ(b[0].lonlat[0].rings[0].PointCount(), 5u);
  EXPECT_NEAR(b[0].lonlat_envelope.min_x, -3.00, 1e-12);
  EXPECT_NEAR(b[0].lonlat_envelope.max_y, 51.59, 1e-12);
  // cs2cs: (-3.00, 51.58) -> 330804.277 187267.211 (west edge), (-2.99, 51.58) -> 331497.185
  // 187257.780 (the south-east corner is the southernmost point in BNG).
  EXPECT_NEAR(b[0].projected_envelope.min_x, 330804.277, 0.001);
  EXPECT_NEAR(b[0].projected_envelope.min_y, 187257.780, 0.001);
  EXPECT_NEAR(b.extent(Frame::kLonLat).max_x, -2.98, 1e-12);
}

TEST(Boundaries, FindsTheContainingFeatureInBothFrames) {
  const auto dir = TempDir("boundaries-find");
  const Boundaries b = LoadOrDie(WriteFile(dir, "two.geojson", TwoSquares()));
  BoundaryLocator ll = LocatorOrDie(b, Frame::kLonLat);
  EXPECT_EQ(ll.feature_count(), 2u);
  EXPECT_EQ(ll.Find(-2.995, 51.585), 0);
  EXPECT_EQ(ll.Find(-2.985, 51.585), 1);
  EXPECT_EQ(ll.Find(-2.97, 51.585), kNoFeature);
  EXPECT_EQ(ll.Find(-2.995, 51.60), kNoFeature);
  EXPECT_EQ(ll.Find(std::nan(""), 51.585), kNoFeature);
  EXPECT_EQ(ll.Find(INFINITY, 51.585), kNoFeature);
  // Boundaries belong to the feature; a shared edge to the smaller index.
  EXPECT_EQ(ll.Find(-3.00, 51.585), 0);
  EXPECT_EQ(ll.Find(-2.99, 51.585), 0);
  EXPECT_EQ(ll.Find(-2.98, 51.59), 1);
  EXPECT_TRUE(ll.Contains(1, -2.99, 51.585));
  EXPECT_FALSE(ll.Contains(1, -2.995, 51.585));

  BoundaryLocator proj = LocatorOrDie(b, Frame::kProjected);
  auto to_bng = Projection::Create(kWgs84, kBritishNationalGrid);
  ASSERT_TRUE(to_bng);
  for (const auto& [lon, lat, expected] : std::vector<std::tuple<double, double, int>>{
           {-2.995, 51.585, 0}, {-2.985, 51.585, 1}, {-2.97, 51.585, kNoFeature}}) {
    auto xy = to_bng->Forward(lon, lat);
    ASSERT_TRUE(xy);
    EXPECT_EQ(proj.Find(xy->x, xy->y), expected) << lon << "," << lat;
  }
  EXPECT_EQ(ll.geos_errors(), 0u);
}

TEST(Boundaries, HolesAreNotPartOfAFeatureAndIslandsAre) {
  // Feature 0: a square with a square hole plus a separate island; feature 1 fills the hole.
  const std::string outer = Square(-3.00, 51.58, -2.97, 51.61);
  const std::string hole =
      "[[-2.99,51.59],[-2.99,51.60],[-2.98,51.60],[-2.98,51.59],[-2.99,51.59]]";
  const std::string island = Square(-2.95, 51.58, -2.94, 51.59);
  const std::string text = Collection({
      Feature(R"({"code":"RING","name":"doughnut"})", R"({"type":"MultiPolygon","coordinates":[[)" +
                                                          outer + "," + hole + "],[" + island +
                                                          "]]}"),
      Feature(R"({"code":"HOLE","name":"filling"})",
              R"({"type":"Polygon","coordinates":[)" + Square(-2.99, 51.59, -2.98, 51.60) + "]}"),
  });
  const auto dir = TempDir("boundaries-holes");
  const Boundaries b = LoadOrDie(WriteFile(dir, "holes.geojson", text));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b.code_property(), "code");
  EXPECT_EQ(b.name_property(), "name");
  ASSERT_EQ(b[0].lonlat.size(), 2u);
  EXPECT_EQ(b[0].lonlat[0].rings.size(), 2u);
  BoundaryLocator l = LocatorOrDie(b, Frame::kLonLat);
  EXPECT_EQ(l.Find(-2.995, 51.585), 0);          // in the ring
  EXPECT_EQ(l.Find(-2.985, 51.595), 1);          // in the hole: the other feature, despite index 1
  EXPECT_EQ(l.Find(-2.945, 51.585), 0);          // on the island
  EXPECT_EQ(l.Find(-2.96, 51.585), kNoFeature);  // between ring and island
  EXPECT_EQ(l.FindBruteForce(-2.985, 51.595), 1);
}

// The indexed, prepared lookup must give exactly the brute-force answer everywhere, including
// the overlaps and shared edges where "smallest index wins" decides.
TEST(Boundaries, IndexedLookupAgreesWithBruteForceOnRandomPoints) {
  std::vector<std::string> features;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  // A 6 x 5 lattice of squares, plus some random overlapping rectangles and triangles.
  int n = 0;
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 5; ++j) {
      const double x0 = -3.1 + 0.02 * i;
      const double y0 = 51.5 + 0.02 * j;
      features.push_back(Feature(
          R"({"code":"S)" + std::to_string(n++) + R"("})",
          R"({"type":"Polygon","coordinates":[)" + Square(x0, y0, x0 + 0.02, y0 + 0.02) + "]}"));
    }
  }
  for (int k = 0; k < 15; ++k) {
    const double x0 = -3.1 + 0.12 * u(rng);
    const double y0 = 51.5 + 0.1 * u(rng);
    const double x1 = x0 + 0.005 + 0.03 * u(rng);
    const double y1 = y0 + 0.005 + 0.03 * u(rng);
    if (k % 2 == 0) {
      features.push_back(
          Feature(R"({"code":"R)" + std::to_string(n++) + R"("})",
                  R"({"type":"Polygon","coordinates":[)" + Square(x0, y0, x1, y1) + "]}"));
    } else {
      features.push_back(Feature(R"({"code":"T)" + std::to_string(n++) + R"("})",
                                 R"({"type":"Polygon","coordinates":[[[)" + std::to_string(x0) +
                                     "," + std::to_string(y0) + "],[" + std::to_string(x1) + "," +
                                     std::to_string(y0) + "],[" + std::to_string(x0) + "," +
                                     std::to_string(y1) + "],[" + std::to_string(x0) + "," +
                                     std::to_string(y0) + "]]]}"));
    }
  }
  const auto dir = TempDir("boundaries-random");
  const Boundaries b = LoadOrDie(WriteFile(dir, "lattice.geojson", Collection(features)));
  ASSERT_EQ(b.size(), 45u);
  for (Frame frame : {Frame::kLonLat, Frame::kProjected}) {
    BoundaryLocator l = LocatorOrDie(b, frame);
    const Envelope e = b.extent(frame);
    const double mx = (e.max_x - e.min_x) * 0.1;
    const double my = (e.max_y - e.min_y) * 0.1;
    int inside = 0;
    for (int i = 0; i < 20000; ++i) {
      double x = e.min_x - mx + (e.max_x - e.min_x + 2 * mx) * u(rng);
      double y = e.min_y - my + (e.max_y - e.min_y + 2 * my) * u(rng);
      if (i % 10 == 0 && frame == Frame::kLonLat) {
        // Snap some points onto the lattice lines to exercise shared edges and corners.
        x = -3.1 + 0.02 * std::round((x + 3.1) / 0.02);
        if (i % 20 == 0) y = 51.5 + 0.02 * std::round((y - 51.5) / 0.02);
      }
      const int fast = l.Find(x, y);
      ASSERT_EQ(fast, l.FindBruteForce(x, y)) << x << "," << y;
      inside += fast != kNoFeature;
    }
    EXPECT_GT(inside, 10000);  // the sample is not trivially "outside everything"
    EXPECT_EQ(l.geos_errors(), 0u);
  }
}

TEST(Boundaries, ExplicitAndUnknownProperties) {
  const auto dir = TempDir("boundaries-props");
  const auto path = WriteFile(dir, "two.geojson", TwoSquares());
  BoundaryLoadOptions options;
  options.code_property = "LSOA21NM";
  options.name_property = "pop";
  const Boundaries b = LoadOrDie(path, options);
  EXPECT_EQ(b[0].code, "West 001A");
  EXPECT_EQ(b[0].name, "1500");

  options = {};
  options.code_property = "LSOA11CD";
  auto missing = Boundaries::Load(path, options);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kMissingColumn);
  EXPECT_NE(missing.error().message.find("LSOA21CD"), std::string::npos)
      << "the message lists the available properties: " << missing.error().message;
  options = {};
  options.name_property = "nope";
  EXPECT_EQ(Boundaries::Load(path, options).error().code, ErrorCode::kMissingColumn);

  // No recognisable code column at all.
  const auto anon = WriteFile(
      dir, "anon.geojson",
      Collection({Feature(R"({"colour":"red"})", R"({"type":"Polygon","coordinates":[)" +
                                                     Square(-3, 51, -2.9, 51.1) + "]}")}));
  auto undetected = Boundaries::Load(anon);
  ASSERT_FALSE(undetected);
  EXPECT_EQ(undetected.error().code, ErrorCode::kMissingColumn);
  options = {};
  options.code_property = "colour";
  const Boundaries named = LoadOrDie(anon, options);
  EXPECT_EQ(named[0].code, "red");
  EXPECT_EQ(named[0].name, "red");  // no name column: the code stands in
}

TEST(Boundaries, DetectsPoliceForceAreaProperties) {
  const auto dir = TempDir("boundaries-pfa");
  const auto path =
      WriteFile(dir, "pfa.geojson",
                Collection({Feature(R"({"pfa20_name":"Gwent","pfa20_code":"W15000002"})",
                                    R"({"type":"MultiPolygon","coordinates":[[)" +
                                        Square(-3.3, 51.5, -2.6, 51.9) + "]]}")},
                           "urn:ogc:def:crs:OGC:1.3:CRS84"));
  const Boundaries b = LoadOrDie(path);
  EXPECT_EQ(b.code_property(), "pfa20_code");
  EXPECT_EQ(b.name_property(), "pfa20_name");
  EXPECT_EQ(b[0].code, "W15000002");
  EXPECT_EQ(b[0].name, "Gwent");
}

TEST(Boundaries, BadFilesGiveClearErrors) {
  const auto dir = TempDir("boundaries-bad");
  auto missing = Boundaries::Load(dir / "nope.geojson");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kFileNotFound);
  EXPECT_NE(missing.error().message.find("nope.geojson"), std::string::npos);

  auto text = Boundaries::Load(WriteFile(dir, "notes.txt", "these are not polygons\n"));
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, ErrorCode::kFileUnreadable) << text.error().message;

  std::string binary(4096, '\0');
  for (std::size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>((i * 131) % 256);
  auto bin = Boundaries::Load(WriteFile(dir, "noise.geojson", binary));
  ASSERT_FALSE(bin);
  EXPECT_EQ(bin.error().code, ErrorCode::kFileUnreadable) << bin.error().message;

  auto empty = Boundaries::Load(WriteFile(dir, "empty.geojson", ""));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kFileUnreadable) << empty.error().message;

  auto truncated = Boundaries::Load(WriteFile(dir, "cut.geojson", TwoSquares().substr(0, 120)));
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code, ErrorCode::kFileUnreadable) << truncated.error().message;

  auto points = Boundaries::Load(WriteFile(
      dir, "points.geojson",
      Collection({Feature(R"({"code":"P1"})", R"({"type":"Point","coordinates":[-3,51.5]})"),
                  Feature(R"({"code":"L1"})",
                          R"({"type":"LineString","coordinates":[[-3,51.5],[-2.9,51.6]]})")})));
  ASSERT_FALSE(points);
  EXPECT_EQ(points.error().code, ErrorCode::kBadGeometry);
  EXPECT_NE(points.error().message.find("no polygons"), std::string::npos);

  auto no_features = Boundaries::Load(WriteFile(dir, "none.geojson", Collection({})));
  ASSERT_FALSE(no_features);
  EXPECT_EQ(no_features.error().code, ErrorCode::kBadGeometry);

  // British National Grid metres in a GeoJSON that does not say so (GeoJSON means WGS84).
  auto metres = Boundaries::Load(WriteFile(
      dir, "metres.geojson",
      Collection({Feature(R"({"code":"M"})", R"({"type":"Polygon","coordinates":[)" +
                                                 Square(331000, 188000, 332000, 189000) + "]}")})));
  ASSERT_FALSE(metres);
  EXPECT_EQ(metres.error().code, ErrorCode::kBadCrs);
  EXPECT_NE(metres.error().message.find("CRS"), std::string::npos);
}

TEST(Boundaries, MixedGeometriesInvalidPolygonsAndEmptyFeatures) {
  const std::string bowtie = "[[[-3.0,51.5],[-2.9,51.6],[-2.9,51.5],[-3.0,51.6],[-3.0,51.5]]]";
  const auto dir = TempDir("boundaries-mixed");
  const Boundaries b = LoadOrDie(WriteFile(
      dir, "mixed.geojson",
      Collection(
          {Feature(R"({"code":"P"})", R"({"type":"Point","coordinates":[-3,51.5]})"),
           Feature(R"({"code":"BOW"})", R"({"type":"Polygon","coordinates":)" + bowtie + "}"),
           Feature(R"({"code":"NULL"})", "null"),
           Feature(R"({"code":"SQ"})", R"({"type":"Polygon","coordinates":[)" +
                                           Square(-2.8, 51.5, -2.7, 51.6) + "]}")})));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b.report().features_read, 4u);
  EXPECT_EQ(b.report().skipped_not_polygon, 1u);
  EXPECT_EQ(b.report().skipped_empty, 1u);
  EXPECT_EQ(b.report().repaired_invalid, 1u);
  EXPECT_EQ(b[0].code, "BOW");
  // The bow-tie became its two triangles: west and east lobes are in, the pinched top is out.
  EXPECT_EQ(b[0].lonlat.size(), 2u);
  BoundaryLocator l = LocatorOrDie(b, Frame::kLonLat);
  EXPECT_EQ(l.Find(-2.99, 51.55), 0);
  EXPECT_EQ(l.Find(-2.91, 51.55), 0);
  EXPECT_EQ(l.Find(-2.95, 51.59), kNoFeature);
  EXPECT_EQ(l.Find(-2.75, 51.55), 1);
}

TEST(Boundaries, ProjectedSourceCrsIsKeptExactlyAndTransformedToWgs84) {
  // BNG squares declared with the legacy GeoJSON "crs" member.
  const std::string text =
      Collection({Feature(R"({"code":"A"})", R"({"type":"Polygon","coordinates":[)" +
                                                 Square(331000, 188000, 332000, 189000) + "]}")},
                 "urn:ogc:def:crs:EPSG::27700");
  const auto dir = TempDir("boundaries-bng");
  const Boundaries b = LoadOrDie(WriteFile(dir, "bng.geojson", text));
  EXPECT_EQ(b.report().source_crs, "EPSG:27700");
  EXPECT_EQ(b.projected_epsg(), kBritishNationalGrid);
  EXPECT_EQ(b[0].projected_envelope.min_x, 331000.0);  // the file's numbers, no round trip
  EXPECT_EQ(b[0].projected_envelope.max_y, 189000.0);
  auto to_wgs = Projection::Create(kBritishNationalGrid, kWgs84);
  ASSERT_TRUE(to_wgs);
  auto sw = to_wgs->Forward(331000, 188000);
  ASSERT_TRUE(sw);
  EXPECT_NEAR(b[0].lonlat[0].rings[0].xy[0], sw->x, 1e-12);
  EXPECT_NEAR(b[0].lonlat[0].rings[0].xy[1], sw->y, 1e-12);

  // Asking for UTM instead re-projects from WGS84.
  BoundaryLoadOptions utm;
  utm.projected_epsg = 32630;
  const Boundaries u = LoadOrDie(dir / "bng.geojson", utm);
  EXPECT_EQ(u.projected_epsg(), 32630);
  EXPECT_GT(u[0].projected_envelope.min_y, 5.7e6);  // UTM northings are from the equator

  // A wrong EPSG override is caught by the range check (BNG metres as degrees).
  BoundaryLoadOptions wrong;
  wrong.source_epsg = kWgs84;
  EXPECT_EQ(Boundaries::Load(dir / "bng.geojson", wrong).error().code, ErrorCode::kBadCrs);
  BoundaryLoadOptions unknown;
  unknown.source_epsg = 999999;
  EXPECT_EQ(Boundaries::Load(dir / "bng.geojson", unknown).error().code, ErrorCode::kBadCrs);
}

TEST(Boundaries, NonUkDataGetsItsUtmZone) {
  const auto dir = TempDir("boundaries-van");
  const Boundaries b = LoadOrDie(WriteFile(
      dir, "van.geojson",
      Collection(
          {Feature(R"({"code":"CBD"})", R"({"type":"Polygon","coordinates":[)" +
                                            Square(-123.13, 49.27, -123.10, 49.29) + "]}")})));
  EXPECT_EQ(b.projected_epsg(), 32610);
  BoundaryLocator l = LocatorOrDie(b, Frame::kProjected);
  auto p = Projection::Create(kWgs84, 32610);
  ASSERT_TRUE(p);
  auto xy = p->Forward(-123.115, 49.28);
  ASSERT_TRUE(xy);
  EXPECT_EQ(l.Find(xy->x, xy->y), 0);
}

// Shapefile and GeoPackage go through the same GDAL path; ogr2ogr (gdal-bin) makes the fixtures.
TEST(Boundaries, ReadsShapefileAndGeoPackage) {
  if (RunCommand("ogr2ogr --version") != 0) GTEST_SKIP() << "ogr2ogr (gdal-bin) not installed";
  const auto dir = TempDir("boundaries-formats");
  const auto src = WriteFile(dir, "two.geojson", TwoSquares());
  ASSERT_EQ(RunCommand("ogr2ogr -f 'ESRI Shapefile' " + (dir / "two.shp").string() + " " +
                       src.string() + " -nln two"),
            0);
  ASSERT_EQ(RunCommand("ogr2ogr -f GPKG -t_srs EPSG:27700 " + (dir / "two.gpkg").string() + " " +
                       src.string() + " -nln squares"),
            0);
  // A second, non-polygon layer in the same GeoPackage.
  const auto pts = WriteFile(
      dir, "pts.geojson",
      Collection({Feature(R"({"code":"P"})", R"({"type":"Point","coordinates":[-3,51.5]})")}));
  ASSERT_EQ(RunCommand("ogr2ogr -f GPKG -update -nln points " + (dir / "two.gpkg").string() + " " +
                       pts.string()),
            0);

  for (const char* file : {"two.shp", "two.gpkg"}) {
    SCOPED_TRACE(file);
    const Boundaries b = LoadOrDie(dir / file);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b.code_property(), "LSOA21CD");
    EXPECT_EQ(b.FindByCode("W01000002"), 1);
    EXPECT_EQ(b.projected_epsg(), kBritishNationalGrid);
    BoundaryLocator l = LocatorOrDie(b, Frame::kLonLat);
    EXPECT_EQ(l.Find(-2.995, 51.585), 0);
    EXPECT_EQ(l.Find(-2.985, 51.585), 1);
  }
  // The Shapefile's .prj is ESRI WKT without an authority; GDAL matches it to EPSG:4326.
  EXPECT_EQ(LoadOrDie(dir / "two.shp").report().source_crs, "EPSG:4326");
  EXPECT_EQ(LoadOrDie(dir / "two.gpkg").layer_name(), "squares");
  EXPECT_EQ(LoadOrDie(dir / "two.gpkg").report().source_crs, "EPSG:27700");

  BoundaryLoadOptions layer;
  layer.layer = "points";
  EXPECT_EQ(Boundaries::Load(dir / "two.gpkg", layer).error().code, ErrorCode::kBadGeometry);
  layer.layer = "nope";
  auto no_layer = Boundaries::Load(dir / "two.gpkg", layer);
  ASSERT_FALSE(no_layer);
  EXPECT_EQ(no_layer.error().code, ErrorCode::kNotFound);
  EXPECT_NE(no_layer.error().message.find("squares"), std::string::npos);

  // A custom CRS with no EPSG code (a local transverse Mercator) goes through GDAL's own
  // transformation to WGS84 and must give back the original squares.
  ASSERT_EQ(RunCommand("ogr2ogr -f GPKG -t_srs '+proj=tmerc +lat_0=51.5 +lon_0=-3 +k=1 +x_0=1000 "
                       "+y_0=2000 +ellps=WGS84 +units=m +no_defs' " +
                       (dir / "local.gpkg").string() + " " + src.string()),
            0);
  const Boundaries local = LoadOrDie(dir / "local.gpkg");
  EXPECT_EQ(local.report().source_crs.find("EPSG:"), std::string::npos)
      << local.report().source_crs;
  ASSERT_EQ(local.size(), 2u);
  EXPECT_NEAR(local[0].lonlat_envelope.min_x, -3.00, 1e-9);
  EXPECT_NEAR(local[0].lonlat_envelope.max_y, 51.59, 1e-9);
  EXPECT_NEAR(local[1].lonlat_envelope.max_x, -2.98, 1e-9);
  EXPECT_EQ(local.projected_epsg(), kBritishNationalGrid);

  // A Shapefile without its .prj has no CRS: an error, unless the caller supplies one.
  std::filesystem::remove(dir / "two.prj");
  auto no_prj = Boundaries::Load(dir / "two.shp");
  ASSERT_FALSE(no_prj);
  EXPECT_EQ(no_prj.error().code, ErrorCode::kBadCrs);
  BoundaryLoadOptions wgs;
  wgs.source_epsg = kWgs84;
  EXPECT_EQ(LoadOrDie(dir / "two.shp", wgs).size(), 2u);
}

TEST(Boundaries, BatchLocateCountAndClip) {
  const auto dir = TempDir("boundaries-batch");
  const Boundaries b = LoadOrDie(WriteFile(dir, "two.geojson", TwoSquares()));
  // More points than the parallel threshold, so the multi-threaded path runs.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> ux(-3.005, -2.975);
  std::uniform_real_distribution<double> uy(51.578, 51.592);
  const std::size_t n = 120'000;
  std::vector<double> xs(n);
  std::vector<double> ys(n);
  for (std::size_t i = 0; i < n; ++i) {
    xs[i] = ux(rng);
    ys[i] = uy(rng);
  }
  xs[5] = std::nan("");
  auto located = LocatePoints(b, Frame::kLonLat, xs, ys);
  ASSERT_TRUE(located) << located.error().message;
  BoundaryLocator serial = LocatorOrDie(b, Frame::kLonLat);
  std::int64_t expect[2] = {0, 0};
  std::int64_t outside = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int f = serial.Find(xs[i], ys[i]);
    ASSERT_EQ((*located)[i], f) << i;
    if (f >= 0) {
      ++expect[f];
    } else if (i != 5) {
      ++outside;
    }
  }
  auto counts = CountPointsPerFeature(b, Frame::kLonLat, xs, ys);
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->counts[0], expect[0]);
  EXPECT_EQ(counts->counts[1], expect[1]);
  EXPECT_EQ(counts->outside, outside);
  EXPECT_EQ(counts->invalid, 1);
  // Geometry check on the totals: the squares cover 2/3 of the sampled longitudes and 10/14
  // of the latitudes, so about 47.6% of points are inside, half in each square.
  EXPECT_NEAR(static_cast<double>(expect[0] + expect[1]) / n, (2.0 / 3.0) * (10.0 / 14.0), 0.01);

  const int east[] = {1};
  auto clipped = ClipPoints(b, Frame::kLonLat, east, xs, ys);
  ASSERT_TRUE(clipped);
  EXPECT_EQ(static_cast<std::int64_t>(clipped->size()), expect[1]);
  for (std::size_t i : *clipped) EXPECT_TRUE(serial.Contains(1, xs[i], ys[i]));
  auto all = ClipPoints(b, Frame::kLonLat, {}, xs, ys);
  ASSERT_TRUE(all);
  EXPECT_EQ(static_cast<std::int64_t>(all->size()), expect[0] + expect[1]);
  EXPECT_TRUE(std::is_sorted(all->begin(), all->end()));
  // A point on the shared edge is in the west square for Find, but in the east one when only
  // the east one is selected.
  const std::vector<double> ex = {-2.99};
  const std::vector<double> ey = {51.585};
  EXPECT_EQ(ClipPoints(b, Frame::kLonLat, east, ex, ey)->size(), 1u);

  const int bad_index[] = {2};
  EXPECT_EQ(ClipPoints(b, Frame::kLonLat, bad_index, xs, ys).error().code, ErrorCode::kOutOfRange);
  const std::vector<double> short_ys(3, 51.585);
  EXPECT_EQ(LocatePoints(b, Frame::kLonLat, xs, short_ys).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(LocatePoints(b, Frame::kLonLat, {}, {})->empty());
}

// Boundaries + grid, drawn: events on a grid around two BNG squares, clipped to the squares.
// Cells whose centre is outside the area are masked ('#').
TEST(Boundaries, CellsInsideAndClippedCountsAsAsciiGrids) {
  const std::string text =
      Collection({Feature(R"({"code":"A"})", R"({"type":"Polygon","coordinates":[)" +
                                                 Square(331000, 188000, 332000, 189000) + "]}"),
                  Feature(R"({"code":"B"})", R"({"type":"Polygon","coordinates":[)" +
                                                 Square(332000, 188000, 333000, 189000) + "]}")},
                 "urn:ogc:def:crs:EPSG::27700");
  const auto dir = TempDir("boundaries-cells");
  const Boundaries b = LoadOrDie(WriteFile(dir, "ab.geojson", text));
  auto grid = Grid::Covering(kBritishNationalGrid, 500, 330600, 187600, 333400, 189400);
  ASSERT_TRUE(grid);
  ASSERT_EQ(grid->nx(), 6);
  ASSERT_EQ(grid->ny(), 4);

  auto mask = CellsInside(b, *grid);
  ASSERT_TRUE(mask) << mask.error().message;
  std::vector<std::uint8_t> outside(mask->size());
  for (std::size_t i = 0; i < mask->size(); ++i) outside[i] = (*mask)[i] ? 0 : 1;
  const std::vector<std::int64_t> zeros(mask->size(), 0);
  EXPECT_EQ(FormatAsciiGrid(grid->nx(), grid->ny(), zeros, outside), NormaliseAsciiGrid(R"(
      # # # # # #
      # . . . . #
      # . . . . #
      # # # # # #
  )"));

  const int only_b[] = {1};
  auto mask_b = CellsInside(b, *grid, only_b);
  ASSERT_TRUE(mask_b);
  for (std::size_t i = 0; i < mask_b->size(); ++i) outside[i] = (*mask_b)[i] ? 0 : 1;
  EXPECT_EQ(FormatAsciiGrid(grid->nx(), grid->ny(), zeros, outside), NormaliseAsciiGrid(R"(
      # # # # # #
      # # # . . #
      # # # . . #
      # # # # # #
  )"));

  // A grid in another CRS (UTM 30N) is matched through WGS84: same cells inside, up to the
  // rotation between the CRSs; count them rather than draw them.
  auto utm_grid = Grid::Covering(32630, 250, 499000, 5714000, 503500, 5717000);
  ASSERT_TRUE(utm_grid);
  auto utm_mask = CellsInside(b, *utm_grid);
  ASSERT_TRUE(utm_mask);
  std::int64_t inside = 0;
  for (auto m : *utm_mask) inside += m;
  EXPECT_NEAR(static_cast<double>(inside) * 0.0625, 2.0, 0.3);  // 2 km2 of 250 m cells

  // Events drawn per cell, clipped to the area, re-binned: outside cells lose their events.
  auto events = ParseAsciiGrid(R"(
      1 . . 2 . .
      . 3 . . 1 4
      2 . 5 . . .
      . . . . 1 9
  )");
  ASSERT_TRUE(events);
  std::vector<double> xs;
  std::vector<double> ys;
  for (std::int64_t local = 0; local < grid->cell_count(); ++local) {
    const CellIndex c = grid->IndexOfLocal(local);
    for (std::int64_t k = 0; k < events->counts[static_cast<std::size_t>(local)]; ++k) {
      xs.push_back(grid->CentreX(c) + 10.0 * static_cast<double>(k));
      ys.push_back(grid->CentreY(c) - 7.0 * static_cast<double>(k));
    }
  }
  auto kept = ClipPoints(b, Frame::kProjected, {}, xs, ys);
  ASSERT_TRUE(kept);
  std::vector<std::int64_t> binned(static_cast<std::size_t>(grid->cell_count()), 0);
  for (std::size_t i : *kept) ++binned[static_cast<std::size_t>(grid->LocalOf(xs[i], ys[i]))];
  for (std::size_t i = 0; i < mask->size(); ++i) outside[i] = (*mask)[i] ? 0 : 1;
  EXPECT_EQ(FormatAsciiGrid(grid->nx(), grid->ny(), binned, outside), NormaliseAsciiGrid(R"(
      # # # # # #
      # 3 . . 1 #
      # . 5 . . #
      # # # # # #
  )"));
}

}  // namespace
}  // namespace crimecast::spatial
