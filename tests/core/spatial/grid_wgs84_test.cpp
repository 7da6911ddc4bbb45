#include "core/spatial/grid_wgs84.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace crimecast::spatial {
namespace {

// Twice the signed area of a ring (shoelace); > 0 for counter-clockwise.
double SignedArea2(const std::vector<LonLat>& ring) {
  double a = 0;
  for (std::size_t i = 0; i + 1 < ring.size(); ++i) {
    a += ring[i].lon * ring[i + 1].lat - ring[i + 1].lon * ring[i].lat;
  }
  return a;
}

struct Fixture {
  Grid grid;
  Projection to_wgs84;
  Projection from_wgs84;
};

Fixture MakeNewportGrid() {
  auto grid = Grid::Create(kBritishNationalGrid, 150, 2206, 1254, 10, 8);
  auto to = Projection::Create(kBritishNationalGrid, kWgs84);
  auto from = Projection::Create(kWgs84, kBritishNationalGrid);
  EXPECT_TRUE(grid && to && from);
  return Fixture{*grid, std::move(*to), std::move(*from)};
}

TEST(GridWgs84, CellRingIsClosedCounterClockwiseAndHasExactCorners) {
  Fixture f = MakeNewportGrid();
  const CellIndex cell{2210, 1256};
  auto ring = CellRingLonLat(f.grid, cell, f.to_wgs84);
  ASSERT_TRUE(ring) << ring.error().message;
  ASSERT_EQ(ring->size(), 5u);
  EXPECT_EQ(ring->front().lon, ring->back().lon);
  EXPECT_EQ(ring->front().lat, ring->back().lat);
  EXPECT_GT(SignedArea2(*ring), 0);
  // South-west corner first, then south-east: east is larger longitude, north larger latitude.
  EXPECT_LT((*ring)[0].lon, (*ring)[1].lon);
  EXPECT_LT((*ring)[1].lat, (*ring)[2].lat);
  // Back in BNG the corners are the cell's corners. The two Projections are separate PROJ
  // operations (the Helmert step and its inverse are not exact inverses of each other), so the
  // round trip is good to about 1 mm, not to the last bit.
  const double cx[4] = {331500, 331650, 331650, 331500};
  const double cy[4] = {188400, 188400, 188550, 188550};
  for (int i = 0; i < 4; ++i) {
    auto xy = f.from_wgs84.Forward((*ring)[static_cast<std::size_t>(i)].lon,
                                   (*ring)[static_cast<std::size_t>(i)].lat);
    ASSERT_TRUE(xy);
    EXPECT_NEAR(xy->x, cx[i], 2e-3);
    EXPECT_NEAR(xy->y, cy[i], 2e-3);
  }
  // A 150 m cell near Newport spans about 0.0022 degrees of longitude and 0.00135 of latitude.
  EXPECT_NEAR((*ring)[1].lon - (*ring)[0].lon, 150.0 / (111320.0 * std::cos(51.58 * M_PI / 180)),
              5e-5);
  EXPECT_NEAR((*ring)[3].lat - (*ring)[0].lat, 150.0 / 111250.0, 2e-5);
}

TEST(GridWgs84, EitherProjectionDirectionGivesTheSameAnswer) {
  Fixture f = MakeNewportGrid();
  const CellIndex cell{2207, 1260};
  auto a = CellRingLonLat(f.grid, cell, f.to_wgs84);
  auto b = CellRingLonLat(f.grid, cell, f.from_wgs84);
  ASSERT_TRUE(a && b);
  for (std::size_t i = 0; i < a->size(); ++i) {
    EXPECT_NEAR((*a)[i].lon, (*b)[i].lon, 1e-12);
    EXPECT_NEAR((*a)[i].lat, (*b)[i].lat, 1e-12);
  }
  auto ca = CellCentreLonLat(f.grid, cell, f.to_wgs84);
  auto cb = CellCentreLonLat(f.grid, cell, f.from_wgs84);
  ASSERT_TRUE(ca && cb);
  EXPECT_NEAR(ca->lon, cb->lon, 1e-12);
  EXPECT_NEAR(ca->lat, cb->lat, 1e-12);
}

TEST(GridWgs84, DensifiedRingKeepsTheCornersAndAddsEdgePoints) {
  Fixture f = MakeNewportGrid();
  const CellIndex cell{2210, 1256};
  auto corners = CellRingLonLat(f.grid, cell, f.to_wgs84, 1);
  auto dense = CellRingLonLat(f.grid, cell, f.to_wgs84, 4);
  ASSERT_TRUE(corners && dense);
  ASSERT_EQ(dense->size(), 17u);
  for (std::size_t e = 0; e < 4; ++e) {
    EXPECT_EQ((*dense)[4 * e].lon, (*corners)[e].lon);
    EXPECT_EQ((*dense)[4 * e].lat, (*corners)[e].lat);
  }
  EXPECT_EQ(dense->front().lon, dense->back().lon);
  EXPECT_GT(SignedArea2(*dense), 0);
  // For a 150 m cell the edges are straight in lon/lat to about half a millimetre: the
  // densified mid-point of the south edge is the lon/lat mid-point of its corners to within
  // 1e-8 degrees (1 mm of latitude; measured 5e-9).
  EXPECT_NEAR((*dense)[2].lon, ((*corners)[0].lon + (*corners)[1].lon) / 2, 1e-8);
  EXPECT_NEAR((*dense)[2].lat, ((*corners)[0].lat + (*corners)[1].lat) / 2, 1e-8);
  auto bad = CellRingLonLat(f.grid, cell, f.to_wgs84, 0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

// Where densifying matters: a 10 km cell far from the central meridian of its UTM zone. The
// straight edge in UTM bows away from the straight lon/lat segment between its corners.
TEST(GridWgs84, LargeUtmCellEdgesBendInLonLat) {
  auto grid = Grid::Create(32610, 10000, 70, 540, 1, 1);  // x 700-710 km, y 5400-5410 km
  auto to = Projection::Create(32610, kWgs84);
  auto back = Projection::Create(kWgs84, 32610);
  ASSERT_TRUE(grid && to && back);
  auto corners = CellRingLonLat(*grid, CellIndex{70, 540}, *to, 1);
  auto dense = CellRingLonLat(*grid, CellIndex{70, 540}, *to, 2);
  ASSERT_TRUE(corners && dense);
  // Mid-point of the north edge (index 5 of 9): true (dense) vs chord of its corners.
  const LonLat chord{((*corners)[2].lon + (*corners)[3].lon) / 2,
                     ((*corners)[2].lat + (*corners)[3].lat) / 2};
  auto chord_xy = back->Forward(chord.lon, chord.lat);
  ASSERT_TRUE(chord_xy);
  const double bow_m = std::hypot(chord_xy->x - 705000.0, chord_xy->y - 5410000.0);
  // cs2cs on the same chord mid-point gives (704999.855, 5409997.764): a 2.24 m bow.
  EXPECT_NEAR(bow_m, 2.24, 0.02);
  auto mid_xy = back->Forward((*dense)[5].lon, (*dense)[5].lat);
  ASSERT_TRUE(mid_xy);
  EXPECT_NEAR(mid_xy->x, 705000.0, 1e-6);
  EXPECT_NEAR(mid_xy->y, 5410000.0, 1e-6);
}

TEST(GridWgs84, CentresAndCellLookupAgree) {
  Fixture f = MakeNewportGrid();
  auto centres = CellCentresLonLat(f.grid, f.to_wgs84);
  ASSERT_TRUE(centres) << centres.error().message;
  ASSERT_EQ(static_cast<std::int64_t>(centres->size()), f.grid.cell_count());
  for (std::int64_t local = 0; local < f.grid.cell_count(); ++local) {
    const CellIndex cell = f.grid.IndexOfLocal(local);
    const LonLat c = (*centres)[static_cast<std::size_t>(local)];
    auto one = CellCentreLonLat(f.grid, cell, f.to_wgs84);
    ASSERT_TRUE(one);
    EXPECT_DOUBLE_EQ(one->lon, c.lon);
    EXPECT_DOUBLE_EQ(one->lat, c.lat);
    auto found = CellIndexOfLonLat(f.grid, c, f.from_wgs84);
    ASSERT_TRUE(found);
    EXPECT_EQ(*found, cell);
    // The centre is inside the cell's lon/lat ring's bounding box.
    auto ring = CellRingLonLat(f.grid, cell, f.to_wgs84);
    ASSERT_TRUE(ring);
    EXPECT_GT(c.lon, (*ring)[0].lon);
    EXPECT_LT(c.lon, (*ring)[1].lon);
    EXPECT_GT(c.lat, (*ring)[0].lat);
    EXPECT_LT(c.lat, (*ring)[3].lat);
  }
  auto invalid = CellIndexOfLonLat(f.grid, LonLat{0, 95}, f.to_wgs84);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, ErrorCode::kBadCoordinate);
}

TEST(GridWgs84, ProjectionMustConnectTheGridToWgs84) {
  Fixture f = MakeNewportGrid();
  auto utm = Projection::Create(kWgs84, 32630);
  ASSERT_TRUE(utm);
  auto r = CellRingLonLat(f.grid, CellIndex{2210, 1256}, *utm);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadCrs);
  EXPECT_FALSE(CellCentreLonLat(f.grid, CellIndex{2210, 1256}, *utm));
  EXPECT_FALSE(CellCentresLonLat(f.grid, *utm));
}

TEST(GridWgs84, CoveringPicksTheCrsAndContainsEveryValidPoint) {
  const std::vector<LonLat> gwent = {{-2.9977, 51.5880},
                                     {-3.2000, 51.7800},
                                     {-2.6700, 51.8100},
                                     {std::nan(""), 51.6},
                                     {-3.1, 95.0}};
  auto cover = GridCoveringLonLat(gwent, 200);
  ASSERT_TRUE(cover) << cover.error().message;
  EXPECT_EQ(cover->grid.epsg(), kBritishNationalGrid);
  EXPECT_EQ(cover->points_used, 3u);
  EXPECT_EQ(cover->points_skipped, 2u);
  auto to_bng = Projection::Create(kWgs84, kBritishNationalGrid);
  ASSERT_TRUE(to_bng);
  for (std::size_t i = 0; i < 3; ++i) {
    auto cell = CellIndexOfLonLat(cover->grid, gwent[i], *to_bng);
    ASSERT_TRUE(cell);
    EXPECT_GE(cover->grid.LocalOf(*cell), 0);
  }
  // The window is the tightest one: its first and last rows and columns hold a point.
  EXPECT_EQ(cover->grid.ix0(),
            static_cast<std::int64_t>(std::floor(to_bng->Forward(-3.2000, 51.7800)->x / 200.0)));

  const std::vector<LonLat> vancouver = {{-123.1139, 49.2611}, {-123.0200, 49.2300}};
  auto van = GridCoveringLonLat(vancouver, 100);
  ASSERT_TRUE(van);
  EXPECT_EQ(van->grid.epsg(), 32610);
  const std::vector<LonLat> sydney = {{151.2153, -33.8568}};
  auto syd = GridCoveringLonLat(sydney, 100);
  ASSERT_TRUE(syd);
  EXPECT_EQ(syd->grid.epsg(), 32756);
  EXPECT_EQ(syd->grid.cell_count(), 1);
  // An explicit CRS wins over the automatic one.
  auto forced = GridCoveringLonLat(gwent, 200, 32630);
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->grid.epsg(), 32630);
}

TEST(GridWgs84, CoveringErrors) {
  const std::vector<LonLat> none = {{std::nan(""), 1.0}};
  auto r = GridCoveringLonLat(none, 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNoData);
  const std::vector<LonLat> gb = {{-5.0, 50.0}, {1.5, 58.5}};
  auto big = GridCoveringLonLat(gb, 1, 0, 1'000'000);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::kTooLarge);
  auto bad_size = GridCoveringLonLat(gb, 0);
  ASSERT_FALSE(bad_size);
  EXPECT_EQ(bad_size.error().code, ErrorCode::kBadGrid);
  auto bad_crs = GridCoveringLonLat(gb, 100, 999999);
  ASSERT_FALSE(bad_crs);
  EXPECT_EQ(bad_crs.error().code, ErrorCode::kBadCrs);
}

}  // namespace
}  // namespace crimecast::spatial
