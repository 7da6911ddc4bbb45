// Covariate layers: import (join, per-km2, missing codes, errors), replace, remove, the
// migration, WKB, and rasterising onto a grid. Fixture: two 300 m squares in British National
// Grid side by side and a 3-row table (one code has no polygon).
//
//   y=200300 +--------+--------+
//            |   A    |   B    |      A: E01000001, value 10
//   y=200000 +--------+--------+      B: E01000002, value 20
//         x=300000 300300   300600    C: E01000003 (table only), value 30
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <fstream>

#include "core/models/covariate_layers.hpp"
#include "core/storage/layer_import.hpp"
#include "core/storage/migrations.hpp"
#include "core/storage/sqlite_event_store.hpp"
#include "core/storage/sqlite_layer_store.hpp"
#include "tests/support/paths.hpp"

namespace crimecast::storage {
namespace {

constexpr const char* kSquares = R"({"type":"FeatureCollection",
"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::27700"}},
"features":[
{"type":"Feature","properties":{"LSOA11CD":"E01000001","LSOA11NM":"A"},"geometry":{"type":"Polygon",
 "coordinates":[[[300000,200000],[300300,200000],[300300,200300],[300000,200300],[300000,200000]]]}},
{"type":"Feature","properties":{"LSOA11CD":"E01000002","LSOA11NM":"B"},"geometry":{"type":"Polygon",
 "coordinates":[[[300300,200000],[300600,200000],[300600,200300],[300300,200300],[300300,200000]]]}}
]})";

void Write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::int64_t CountRows(SqliteEventStore& s, const char* table) {
  sqlite3_stmt* st = nullptr;
  const std::string sql = std::string("SELECT COUNT(*) FROM ") + table;
  sqlite3_prepare_v2(s.handle(), sql.c_str(), -1, &st, nullptr);
  sqlite3_step(st);
  const std::int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

class LayerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir(
        "layers_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    Write(dir_ / "squares.geojson", kSquares);
    Write(dir_ / "values.csv",
          "lsoa11_code,rank,pop\nE01000001,10,900\nE01000002,20,450\n"
          "E01000003,30,100\n");
    auto s = SqliteEventStore::Open((dir_ / "t.db").string());
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
  }
  LayerImportOptions Options(const std::string& name, const std::string& column) const {
    LayerImportOptions o;
    o.name = name;
    o.boundaries_file = (dir_ / "squares.geojson").string();
    o.id_field = "LSOA11CD";
    o.table_file = (dir_ / "values.csv").string();
    o.key_column = "lsoa11_code";
    o.value_column = column;
    return o;
  }
  std::filesystem::path dir_;
  std::unique_ptr<SqliteEventStore> store_;
};

TEST_F(LayerStoreTest, MigrationCreatesTheLayerTables) {
  EXPECT_EQ(store_->SchemaVersion(), LatestSchemaVersion());
  EXPECT_GE(LatestSchemaVersion(), 3);
  EXPECT_EQ(CountRows(*store_, "covariate_layers"), 0);
  EXPECT_EQ(CountRows(*store_, "area_sets"), 0);
  // An older database (before the layer step) is upgraded on open.
  ASSERT_EQ(sqlite3_exec(store_->handle(),
                         "DROP TABLE covariate_values; DROP TABLE covariate_layers; DROP TABLE "
                         "area_geometries; DROP TABLE area_sets; DELETE FROM schema_migrations "
                         "WHERE version >= 3",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  store_.reset();
  auto s = SqliteEventStore::Open((dir_ / "t.db").string());
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)->SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(CountRows(**s, "covariate_values"), 0);
}

TEST_F(LayerStoreTest, AddJoinsByCodeAndCountsMissingCodes) {
  auto rep = ImportLayer(*store_->layers(), Options("rank", "rank"));
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(rep->areas, 2);
  EXPECT_EQ(rep->table_rows, 3);
  EXPECT_EQ(rep->values, 2);
  EXPECT_EQ(rep->codes_without_area, 1);
  ASSERT_EQ(rep->examples_without_area.size(), 1u);
  EXPECT_EQ(rep->examples_without_area[0], "E01000003");
  EXPECT_EQ(rep->areas_without_value, 0);
  EXPECT_FALSE(rep->replaced);
  auto v = store_->layers()->GetLayerValues("rank");
  ASSERT_TRUE(v);
  ASSERT_EQ(v->codes.size(), 2u);
  EXPECT_EQ(v->codes[0], "E01000001");
  EXPECT_DOUBLE_EQ(v->values[0], 10);
  EXPECT_DOUBLE_EQ(v->values[1], 20);
  EXPECT_EQ(v->info.unit, "rank");
  EXPECT_EQ(v->info.areas.id_field, "LSOA11CD");
  EXPECT_EQ(v->info.codes_without_area, 1);
}

TEST_F(LayerStoreTest, PerKm2DividesByPolygonArea) {
  auto o = Options("density", "pop");
  o.per_km2 = true;
  auto rep = ImportLayer(*store_->layers(), o);
  ASSERT_TRUE(rep) << rep.error().ToString();
  auto v = store_->layers()->GetLayerValues("density");
  ASSERT_TRUE(v);
  // Each square is 300 m x 300 m = 0.09 km2.
  EXPECT_NEAR(v->values[0], 900 / 0.09, 1e-6);
  EXPECT_NEAR(v->values[1], 450 / 0.09, 1e-6);
  EXPECT_EQ(v->info.unit, "pop per km2");
  EXPECT_TRUE(v->info.per_km2);
}

TEST_F(LayerStoreTest, PolygonsWithoutValueAreCountedAndUnknown) {
  Write(dir_ / "one.csv", "lsoa11_code,rank\nE01000001,7\n");
  auto o = Options("one", "rank");
  o.table_file = (dir_ / "one.csv").string();
  auto rep = ImportLayer(*store_->layers(), o);
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(rep->areas_without_value, 1);
  ASSERT_EQ(rep->examples_without_value.size(), 1u);
  EXPECT_EQ(rep->examples_without_value[0], "E01000002");
  EXPECT_EQ(rep->codes_without_area, 0);
}

TEST_F(LayerStoreTest, ReAddingReplacesAndSharesTheAreaSet) {
  ASSERT_TRUE(ImportLayer(*store_->layers(), Options("x", "rank")));
  auto v1 = store_->layers()->LayersVersion();
  ASSERT_TRUE(ImportLayer(*store_->layers(), Options("pop", "pop")));
  auto rep = ImportLayer(*store_->layers(), Options("x", "pop"));
  ASSERT_TRUE(rep) << rep.error().ToString();
  ASSERT_TRUE(rep->replaced);
  EXPECT_EQ(rep->replaced->value_column, "rank");
  auto list = store_->layers()->ListLayers();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "pop");
  EXPECT_EQ((*list)[1].name, "x");
  EXPECT_EQ((*list)[1].value_column, "pop");
  // Both layers come from the same file and code column: one area set, two polygons.
  EXPECT_EQ(CountRows(*store_, "area_sets"), 1);
  EXPECT_EQ(CountRows(*store_, "area_geometries"), 2);
  EXPECT_EQ(CountRows(*store_, "covariate_values"), 4);
  auto v2 = store_->layers()->LayersVersion();
  ASSERT_TRUE(v1 && v2);
  EXPECT_NE(*v1, *v2);
  auto x = store_->layers()->GetLayerValues("x");
  ASSERT_TRUE(x);
  EXPECT_DOUBLE_EQ(x->values[0], 900);
}

TEST_F(LayerStoreTest, RemoveDeletesValuesAndUnusedAreas) {
  ASSERT_TRUE(ImportLayer(*store_->layers(), Options("a", "rank")));
  ASSERT_TRUE(ImportLayer(*store_->layers(), Options("b", "pop")));
  ASSERT_TRUE(store_->layers()->RemoveLayer("a"));
  EXPECT_EQ(CountRows(*store_, "area_sets"), 1);  // still used by b
  ASSERT_TRUE(store_->layers()->RemoveLayer("b"));
  EXPECT_EQ(CountRows(*store_, "area_sets"), 0);
  EXPECT_EQ(CountRows(*store_, "area_geometries"), 0);
  EXPECT_EQ(CountRows(*store_, "covariate_values"), 0);
  auto again = store_->layers()->RemoveLayer("b");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
}

TEST_F(LayerStoreTest, BadInputGivesFileLineAndColumn) {
  auto o = Options("bad", "no_such_column");
  auto r = ImportLayer(*store_->layers(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kMissingColumn);
  EXPECT_NE(r.error().message.find("values.csv:1"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("lsoa11_code, rank, pop"), std::string::npos);

  Write(dir_ / "text.csv", "lsoa11_code,rank\nE01000001,7\nE01000002,seven\n");
  o = Options("bad", "rank");
  o.table_file = (dir_ / "text.csv").string();
  r = ImportLayer(*store_->layers(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadField);
  EXPECT_NE(r.error().message.find("text.csv:3"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("'rank'"), std::string::npos);
  EXPECT_NE(r.error().message.find("'seven'"), std::string::npos);

  Write(dir_ / "dup.csv", "lsoa11_code,rank\nE01000001,7\nE01000001,8\n");
  o.table_file = (dir_ / "dup.csv").string();
  r = ImportLayer(*store_->layers(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kDuplicate);
  EXPECT_NE(r.error().message.find("dup.csv:3"), std::string::npos) << r.error().message;

  Write(dir_ / "none.csv", "lsoa11_code,rank\nW01000001,7\n");
  o.table_file = (dir_ / "none.csv").string();
  r = ImportLayer(*store_->layers(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kEmptyInput);

  o = Options("bad name!", "rank");
  r = ImportLayer(*store_->layers(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);

  o = Options("bad", "rank");
  o.boundaries_file = (dir_ / "missing.geojson").string();
  r = ImportLayer(*store_->layers(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kFileNotFound);
  // Nothing was stored by the failures.
  EXPECT_EQ(CountRows(*store_, "covariate_layers"), 0);
}

TEST_F(LayerStoreTest, EmptyAndNaValuesAreUnknownNotZero) {
  Write(dir_ / "na.csv", "lsoa11_code,rank\nE01000001,NA\nE01000002,\n");
  auto o = Options("na", "rank");
  o.table_file = (dir_ / "na.csv").string();
  auto r = ImportLayer(*store_->layers(), o);
  ASSERT_FALSE(r);  // nothing joins with a value
  EXPECT_EQ(r.error().code, ErrorCode::kEmptyInput);
  Write(dir_ / "na.csv", "lsoa11_code,rank\nE01000001,NA\nE01000002,3\n");
  r = ImportLayer(*store_->layers(), o);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->missing_values, 1);
  EXPECT_EQ(r->areas_without_value, 1);
}

TEST_F(LayerStoreTest, RasterisedOnTheGridByCellCentre) {
  ASSERT_TRUE(ImportLayer(*store_->layers(), Options("rank", "rank")));
  // 100 m cells from (299900, 199900): 8 x 5. Centres x = 299950 + 100 i, y = 199950 + 100 j.
  auto grid = spatial::Grid::Create(27700, 100, 2999, 1999, 8, 5);
  ASSERT_TRUE(grid);
  auto cov = models::CovariatesForGrid(*store_, *grid);
  ASSERT_TRUE(cov) << cov.error().ToString();
  ASSERT_TRUE(*cov);
  ASSERT_EQ((*cov)->layers.size(), 1u);
  const auto& v = (*cov)->layers[0].value;
  // Expected: row j = 1..3 (centres 200050..200250), columns 1..3 -> A (10), 4..6 -> B (20).
  std::string picture;
  for (int j = 4; j >= 0; --j) {
    for (int i = 0; i < 8; ++i) {
      const float x = v[static_cast<std::size_t>(j * 8 + i)];
      picture += std::isnan(x) ? '.' : x == 10 ? 'A' : x == 20 ? 'B' : '?';
    }
    picture += '\n';
  }
  EXPECT_EQ(picture,
            "........\n"
            ".AAABBB.\n"
            ".AAABBB.\n"
            ".AAABBB.\n"
            "........\n");
  EXPECT_EQ((*cov)->cells_with_value[0], 18);
  EXPECT_EQ((*cov)->info[0].name, "rank");
  // Cached: the same grid and layers give the same object.
  auto again = models::CovariatesForGrid(*store_, *grid);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get(), cov->get());
  // A change invalidates the cache.
  ASSERT_TRUE(store_->layers()->RemoveLayer("rank"));
  auto none = models::CovariatesForGrid(*store_, *grid);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(Wkb, RoundTripsMultipolygonsWithHoles) {
  spatial::MultiPolygon mp(2);
  mp[0].rings.push_back({{0, 0, 4, 0, 4, 4, 0, 4, 0, 0}});
  mp[0].rings.push_back({{1, 1, 2, 1, 2, 2, 1, 1}});
  mp[1].rings.push_back({{10, 10, 11, 10, 11, 11, 10, 10}});
  const std::string wkb = EncodeWkb(mp);
  EXPECT_EQ(wkb.size(), 1 + 4 + 4 + 2 * (1 + 4 + 4) + 3 * 4 + (5 + 4 + 4) * 16);
  auto back = DecodeWkb(wkb);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].rings[1].xy, mp[0].rings[1].xy);
  EXPECT_EQ((*back)[1].rings[0].xy, mp[1].rings[0].xy);
  EXPECT_FALSE(DecodeWkb(wkb.substr(0, wkb.size() - 3)));
  EXPECT_FALSE(DecodeWkb("junk"));
}

TEST(PlanarArea, SubtractsHoles) {
  spatial::MultiPolygon mp(1);
  mp[0].rings.push_back({{0, 0, 4, 0, 4, 4, 0, 4, 0, 0}});
  mp[0].rings.push_back({{1, 1, 1, 2, 2, 2, 2, 1, 1, 1}});
  EXPECT_DOUBLE_EQ(PlanarArea(mp), 15);
}

}  // namespace
}  // namespace crimecast::storage
