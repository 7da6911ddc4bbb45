// Covariate layers on the real files in ../shared/data: WIMD 2019 ranks and mid-2020
// population density on the 2011 LSOAs (Wales + border), rasterised on a 150 m grid over Gwent.
// The raster is checked cell by cell against GEOS point-in-polygon (BoundaryLocator through
// LocatePoints), and the stored counts against the files.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <string>

#include "core/models/covariate_layers.hpp"
#include "core/spatial/boundaries.hpp"
#include "core/storage/layer_import.hpp"
#include "core/storage/sqlite_event_store.hpp"
#include "support/paths.hpp"

namespace crimecast::models {
namespace {

using crimecast::testing::SharedDataDir;

constexpr const char* kBoundaries = "ons-lsoa-boundaries-wales/lsoa11_boundaries.geojson";
constexpr const char* kWimd = "wimd-2019-lsoa/wimd2019_lsoa11.csv";
constexpr const char* kPopulation =
    "ons-lsoa-population-mid2020-wales/population_mid2020_lsoa11_wales_border.csv";

std::int64_t Scalar(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  std::int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

bool IsGwent(const std::string& lsoa_name) {
  for (const char* la :
       {"Blaenau Gwent ", "Caerphilly ", "Monmouthshire ", "Newport ", "Torfaen "}) {
    if (lsoa_name.rfind(la, 0) == 0) return true;
  }
  return false;
}

TEST(CovariateLayersReal, WimdAndDensityOnGwent150m) {
  CRIMECAST_REQUIRE_SHARED_DATA("ons-lsoa-boundaries-wales");
  CRIMECAST_REQUIRE_SHARED_DATA("wimd-2019-lsoa");
  CRIMECAST_REQUIRE_SHARED_DATA("ons-lsoa-population-mid2020-wales");
  const auto dir = testing::TempDir("cov-real");
  auto store = storage::SqliteEventStore::Open((dir / "t.db").string());
  ASSERT_TRUE(store);
  storage::LayerImportOptions o;
  o.name = "imd_rank";
  o.boundaries_file = (SharedDataDir() / kBoundaries).string();
  o.id_field = "LSOA11CD";
  o.table_file = (SharedDataDir() / kWimd).string();
  o.key_column = "lsoa11_code";
  o.value_column = "IMD_rank";
  auto imd = storage::ImportLayer(*(*store)->layers(), o);
  ASSERT_TRUE(imd) << imd.error().ToString();
  // README: 2,661 polygons (1,909 Welsh + 752 English); WIMD covers every Welsh LSOA11.
  EXPECT_EQ(imd->areas, 2661);
  EXPECT_EQ(imd->table_rows, 1909);
  EXPECT_EQ(imd->values, 1909);
  EXPECT_EQ(imd->codes_without_area, 0);
  EXPECT_EQ(imd->areas_without_value, 752);
  o.name = "pop_density";
  o.table_file = (SharedDataDir() / kPopulation).string();
  o.value_column = "total_population";
  o.per_km2 = true;
  auto pop = storage::ImportLayer(*(*store)->layers(), o);
  ASSERT_TRUE(pop) << pop.error().ToString();
  EXPECT_EQ(pop->values, 2661);
  EXPECT_EQ(pop->areas_without_value, 0);
  // The SQL view of the same facts: one area set shared by both layers.
  sqlite3* db = (*store)->handle();
  EXPECT_EQ(Scalar(db, "SELECT COUNT(*) FROM area_sets"), 1);
  EXPECT_EQ(Scalar(db, "SELECT COUNT(*) FROM area_geometries"), 2661);
  EXPECT_EQ(Scalar(db,
                   "SELECT COUNT(*) FROM covariate_values v JOIN covariate_layers l ON "
                   "l.id = v.layer_id WHERE l.name = 'imd_rank'"),
            1909);
  EXPECT_EQ(Scalar(db,
                   "SELECT COUNT(*) FROM covariate_values v JOIN covariate_layers l ON "
                   "l.id = v.layer_id WHERE l.name = 'imd_rank' AND v.code LIKE 'W01%'"),
            1909);

  // The ONS Shape__Area (m2, BNG) of the same generalised polygons against our planar km2.
  spatial::BoundaryLoadOptions bo;
  bo.code_property = "LSOA11CD";
  bo.projected_epsg = 27700;
  auto b = spatial::Boundaries::Load(SharedDataDir() / kBoundaries, bo);
  ASSERT_TRUE(b);
  auto dens = (*store)->layers()->GetLayerValues("pop_density");
  ASSERT_TRUE(dens);
  std::map<std::string, double> density;
  for (std::size_t i = 0; i < dens->codes.size(); ++i) density[dens->codes[i]] = dens->values[i];
  {
    // By hand: people / (ONS Shape__Area in km2) for the first 50 rows of the table.
    std::ifstream in(SharedDataDir() / kPopulation);
    std::string line;
    std::getline(in, line);
    int checked = 0;
    while (std::getline(in, line) && checked < 50) {
      const auto c1 = line.find(','), c2 = line.find(',', c1 + 1), c3 = line.find(',', c2 + 1);
      const std::string code = line.substr(c1 + 1, c2 - c1 - 1);
      const double people = std::stod(line.substr(c2 + 1, c3 - c2 - 1));
      const int f = b->FindByCode(code);
      ASSERT_GE(f, 0) << code;
      auto area = b->Property(static_cast<std::size_t>(f), "Shape__Area");
      ASSERT_TRUE(area);
      const double ons_km2 = std::stod(std::string(*area)) / 1e6;
      // Same polygons; ONS measured the full-resolution clipped shape, so allow 5 %.
      EXPECT_NEAR(density[code], people / ons_km2, 0.05 * people / ons_km2) << code;
      ++checked;
    }
    EXPECT_EQ(checked, 50);
  }

  // A 150 m grid over Gwent's 368 LSOAs.
  spatial::Envelope gwent;
  int gwent_lsoas = 0;
  for (const auto& f : b->features()) {
    if (!IsGwent(f.name)) continue;
    gwent.Expand(f.projected_envelope);
    ++gwent_lsoas;
  }
  ASSERT_EQ(gwent_lsoas, 368);
  auto grid = spatial::Grid::Covering(27700, 150, gwent.min_x, gwent.min_y, gwent.max_x,
                                      gwent.max_y, 10'000'000);
  ASSERT_TRUE(grid);
  const auto t0 = std::chrono::steady_clock::now();
  auto cov = CovariatesForGrid(**store, *grid);
  const double raster_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(cov) << cov.error().ToString();
  ASSERT_TRUE(*cov);
  ASSERT_EQ((*cov)->layers.size(), 2u);
  EXPECT_EQ((*cov)->layers[0].name, "imd_rank");  // sorted by name
  EXPECT_EQ((*cov)->layers[1].name, "pop_density");

  // Reference: GEOS point-in-polygon of every cell centre (BNG frame).
  std::vector<double> xs, ys;
  for (std::int64_t l = 0; l < grid->cell_count(); ++l) {
    xs.push_back(grid->CentreX(grid->IndexOfLocal(l)));
    ys.push_back(grid->CentreY(grid->IndexOfLocal(l)));
  }
  const auto t1 = std::chrono::steady_clock::now();
  auto located = spatial::LocatePoints(*b, spatial::Frame::kProjected, xs, ys);
  const double geos_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  // Timing (a report, not an assertion): loading both layers from the store and scan-converting
  // them, against GEOS locating every cell centre in one layer's boundaries.
  std::printf(
      "rasterise 2 layers from the store: %.3f s; GEOS LocatePoints of %lld centres: "
      "%.3f s (ratio %.2f)\n",
      raster_s, static_cast<long long>(grid->cell_count()), geos_s, geos_s / raster_s);
  ASSERT_TRUE(located);
  auto ranks = (*store)->layers()->GetLayerValues("imd_rank");
  ASSERT_TRUE(ranks);
  std::map<std::string, double> rank;
  for (std::size_t i = 0; i < ranks->codes.size(); ++i) rank[ranks->codes[i]] = ranks->values[i];
  std::int64_t welsh = 0, with_rank = 0, agree = 0, disagree = 0, in_gwent = 0;
  const auto& imd_v = (*cov)->layers[0].value;
  for (std::int64_t l = 0; l < grid->cell_count(); ++l) {
    const int f = (*located)[static_cast<std::size_t>(l)];
    const float got = imd_v[static_cast<std::size_t>(l)];
    with_rank += std::isnan(got) ? 0 : 1;
    double expect = std::nan("");
    if (f >= 0) {
      const auto& code = (*b)[static_cast<std::size_t>(f)].code;
      if (code.rfind("W01", 0) == 0) {
        ++welsh;
        expect = rank.at(code);
        in_gwent += IsGwent((*b)[static_cast<std::size_t>(f)].name) ? 1 : 0;
      }
    }
    const bool same = (std::isnan(expect) && std::isnan(got)) || expect == got;
    (same ? agree : disagree) += 1;
  }
  std::printf(
      "grid %lld x %lld: %lld cells with a centre in a Welsh LSOA (%lld in Gwent), %lld "
      "with an IMD rank, %lld disagree with GEOS\n",
      static_cast<long long>(grid->nx()), static_cast<long long>(grid->ny()),
      static_cast<long long>(welsh), static_cast<long long>(in_gwent),
      static_cast<long long>(with_rank), static_cast<long long>(disagree));
  // Every cell whose centre is in a Welsh LSOA gets that LSOA's rank, and no other cell does
  // (up to centres within floating-point distance of a shared edge: none expected).
  EXPECT_EQ(disagree, 0);
  EXPECT_EQ(with_rank, welsh);
  // Gwent's 368 LSOAs cover about 1,550 km2: ~69,000 cells of 150 m.
  EXPECT_GT(in_gwent, 60'000);
  EXPECT_LT(in_gwent, 80'000);
}

}  // namespace
}  // namespace crimecast::models
