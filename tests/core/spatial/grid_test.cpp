#include "core/spatial/grid.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "support/ascii_grid.hpp"

namespace crimecast::spatial {
namespace {

using testing::FormatAsciiGrid;
using testing::NormaliseAsciiGrid;
using testing::ParseAsciiGrid;

TEST(Grid, CellIdRoundTrips) {
  const CellId id{27700, 150, CellIndex{2110, 1273}};
  EXPECT_EQ(id.ToString(), "27700:150:2110:1273");
  auto back = CellId::Parse(id.ToString());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, id);
  const CellId negative{32610, 62.5, CellIndex{-3, -1}};
  EXPECT_EQ(*CellId::Parse(negative.ToString()), negative);
  for (const char* bad : {"", "27700:150:1", "27700:150:1:2:3", "x:150:1:2", "27700:0:1:2",
                          "27700:20000:1:2", "27700:150:1.5:2", "27700::1:2", "27700:-5:1:2"}) {
    auto r = CellId::Parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kBadGrid);
  }
}

TEST(Grid, CoveringIsAlignedToMultiplesOfTheCellSize) {
  // Two overlapping extents give windows of the same global lattice.
  auto a = Grid::Covering(27700, 150, 331001, 188001, 331999, 188999);
  auto b = Grid::Covering(27700, 150, 330000, 187000, 332000, 190000);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->ix0(), 2206);  // floor(331001 / 150)
  EXPECT_EQ(a->iy0(), 1253);
  EXPECT_EQ(a->nx(), 2213 - 2206 + 1);
  EXPECT_DOUBLE_EQ(a->CornerX(CellIndex{a->ix0(), 0}), 330900.0);
  // The same point is the same global cell in both.
  EXPECT_EQ(a->IndexOf(331500, 188500), b->IndexOf(331500, 188500));
  EXPECT_NE(a->LocalOf(331500, 188500), b->LocalOf(331500, 188500));

  // Negative coordinates floor (not truncate) towards minus infinity.
  auto neg = Grid::Covering(32610, 100, -150, -50, 50, 50);
  ASSERT_TRUE(neg);
  EXPECT_EQ(neg->ix0(), -2);
  EXPECT_EQ(neg->iy0(), -1);
  EXPECT_EQ(neg->nx(), 3);
  EXPECT_EQ(neg->ny(), 2);
}

TEST(Grid, CellsAreHalfOpen) {
  auto g = Grid::Create(27700, 100, 10, 20, 3, 2);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->LocalOf(1000, 2000), 0);  // the south-west corner belongs to cell 0
  EXPECT_EQ(g->LocalOf(1099.999, 2000), 0);
  EXPECT_EQ(g->LocalOf(1100, 2000), 1);  // the east edge belongs to the next cell
  EXPECT_EQ(g->LocalOf(1000, 2100), 3);  // row 1 starts at local nx
  EXPECT_EQ(g->LocalOf(1299.9, 2199.9), 5);
  EXPECT_EQ(g->LocalOf(1300, 2000), -1);  // outside the window
  EXPECT_EQ(g->LocalOf(999.9, 2000), -1);
  EXPECT_EQ(g->LocalOf(std::nan(""), 2000), -1);
  for (std::int64_t local = 0; local < g->cell_count(); ++local) {
    EXPECT_EQ(g->LocalOf(g->IndexOfLocal(local)), local);
    const CellIndex c = g->IndexOfLocal(local);
    EXPECT_EQ(g->LocalOf(g->CentreX(c), g->CentreY(c)), local);
  }
  EXPECT_DOUBLE_EQ(g->CellAreaKm2(), 0.01);
}

TEST(Grid, RejectsBadSizesAndWindows) {
  for (double size : {0.0, -1.0, 10000.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    auto g = Grid::Create(27700, size, 0, 0, 1, 1);
    ASSERT_FALSE(g) << size;
    EXPECT_EQ(g.error().code, ErrorCode::kBadGrid);
  }
  EXPECT_EQ(Grid::Create(27700, 100, 0, 0, 0, 1).error().code, ErrorCode::kBadGrid);
  EXPECT_EQ(Grid::Create(27700, 100, 0, 0, 1001, 1000, 1'000'000).error().code,
            ErrorCode::kTooLarge);
  EXPECT_TRUE(Grid::Create(27700, 100, 0, 0, 1000, 1000, 1'000'000));
  EXPECT_EQ(Grid::Covering(27700, 100, 5, 0, 4, 1).error().code, ErrorCode::kBadGrid);
  EXPECT_EQ(Grid::Covering(27700, 100, 0, 0, std::nan(""), 1).error().code, ErrorCode::kBadGrid);
  // A national extent at 1 m cells is refused, not allocated.
  EXPECT_EQ(Grid::Covering(27700, 1, 0, 0, 700000, 1200000).error().code, ErrorCode::kTooLarge);
}

// Points scattered at random inside the cells of a drawing, binned with Grid::LocalOf, must draw
// the same picture: checks row order (north at the top = highest row), column order and the
// half-open cell edges all at once.
TEST(Grid, BinningReproducesAnAsciiDrawing) {
  const char* drawing = R"(
    . . 3 . .
    . 1 5 . 2
    4 . . . .
    . . . 1 .
  )";
  auto expected = ParseAsciiGrid(drawing);
  ASSERT_TRUE(expected) << expected.error().message;
  ASSERT_EQ(expected->nx, 5);
  ASSERT_EQ(expected->ny, 4);
  EXPECT_EQ(expected->Total(), 16);

  auto grid = Grid::Create(27700, 250, 1320, 750, expected->nx, expected->ny);
  ASSERT_TRUE(grid);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> xs;
  std::vector<double> ys;
  for (std::int64_t local = 0; local < grid->cell_count(); ++local) {
    const CellIndex c = grid->IndexOfLocal(local);
    for (std::int64_t k = 0; k < expected->counts[static_cast<std::size_t>(local)]; ++k) {
      xs.push_back(grid->CornerX(c) + u(rng) * grid->size_m());
      ys.push_back(grid->CornerY(c) + u(rng) * grid->size_m());
    }
  }
  std::vector<std::int64_t> binned(static_cast<std::size_t>(grid->cell_count()), 0);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const std::int64_t local = grid->LocalOf(xs[i], ys[i]);
    ASSERT_GE(local, 0);
    ++binned[static_cast<std::size_t>(local)];
  }
  EXPECT_EQ(FormatAsciiGrid(grid->nx(), grid->ny(), binned), NormaliseAsciiGrid(drawing));
  // The top-left of the drawing is the north-west cell: column 0 of the last row.
  const CellIndex north_west{grid->ix0(), grid->iy0() + grid->ny() - 1};
  EXPECT_EQ(grid->LocalOf(north_west), grid->cell_count() - grid->nx());
  // The "5" is at column 2 of the second row from the top.
  EXPECT_EQ(binned[static_cast<std::size_t>(expected->Local(2, 2))], 5);
}

}  // namespace
}  // namespace crimecast::spatial
