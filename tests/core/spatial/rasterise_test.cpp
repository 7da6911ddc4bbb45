// Cell-centre rasterisation (spatial/rasterise.hpp), checked against pictures and brute force.
#include "core/spatial/rasterise.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace crimecast::spatial {
namespace {

std::string Picture(const Grid& g, const std::vector<std::int32_t>& owner) {
  std::string s;
  for (std::int64_t j = g.ny() - 1; j >= 0; --j) {
    for (std::int64_t i = 0; i < g.nx(); ++i) {
      const std::int32_t o = owner[static_cast<std::size_t>(j * g.nx() + i)];
      s += o < 0 ? '.' : static_cast<char>('a' + o);
    }
    s += '\n';
  }
  return s;
}

Ring Box(double x0, double y0, double x1, double y1) {
  return {{x0, y0, x1, y0, x1, y1, x0, y1, x0, y0}};
}

// Even-odd point in polygon (reference).
bool Inside(const MultiPolygon& mp, double x, double y) {
  bool in = false;
  for (const auto& p : mp) {
    for (const auto& r : p.rings) {
      for (std::size_t i = 0; i + 1 < r.PointCount(); ++i) {
        const double x1 = r.xy[2 * i], y1 = r.xy[2 * i + 1], x2 = r.xy[2 * i + 2],
                     y2 = r.xy[2 * i + 3];
        if ((y1 <= y) != (y2 <= y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1)) in = !in;
      }
    }
  }
  return in;
}

TEST(RasteriseCentres, HolesPartsAndFirstPolygonWins) {
  // 10 m cells, 10 x 6 from the origin.
  auto g = Grid::Create(27700, 10, 0, 0, 10, 6);
  ASSERT_TRUE(g);
  MultiPolygon a(2);
  a[0].rings = {Box(0, 0, 50, 50), Box(20, 20, 30, 30)};  // a square with a hole
  a[1].rings = {Box(80, 0, 100, 10)};                     // and an island
  MultiPolygon b(1);
  b[0].rings = {Box(40, 0, 70, 60)};  // overlaps a's column 4: a wins there
  const std::vector<MultiPolygon> polys = {a, b};
  EXPECT_EQ(Picture(*g, RasteriseCentres(*g, polys)),
            "....bbb...\n"
            "aaaaabb...\n"
            "aaaaabb...\n"
            "aa.aabb...\n"
            "aaaaabb...\n"
            "aaaaabb.aa\n");
}

TEST(RasteriseCentres, AgreesWithBruteForceOnRandomPolygons) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  auto g = Grid::Create(32630, 7, -3, 2, 40, 30);
  ASSERT_TRUE(g);
  std::vector<MultiPolygon> polys;
  for (int k = 0; k < 6; ++k) {
    // A star-shaped polygon around a random centre (non-convex, many edges).
    const double cx = -21 + 280 * u(rng), cy = 14 + 210 * u(rng);
    Ring r;
    const int n = 17;
    for (int i = 0; i <= n; ++i) {
      const double t = 2 * 3.141592653589793 * (i % n) / n;
      const double rad = 20 + 60 * u(rng);
      r.xy.push_back(cx + rad * std::cos(t));
      r.xy.push_back(cy + rad * std::sin(t));
    }
    r.xy[2 * n] = r.xy[0];
    r.xy[2 * n + 1] = r.xy[1];
    MultiPolygon mp(1);
    mp[0].rings.push_back(r);
    polys.push_back(mp);
  }
  const auto owner = RasteriseCentres(*g, polys);
  std::int64_t inside = 0;
  for (std::int64_t l = 0; l < g->cell_count(); ++l) {
    const CellIndex c = g->IndexOfLocal(l);
    int expect = -1;
    for (std::size_t p = 0; p < polys.size() && expect < 0; ++p) {
      if (Inside(polys[p], g->CentreX(c), g->CentreY(c))) expect = static_cast<int>(p);
    }
    EXPECT_EQ(owner[static_cast<std::size_t>(l)], expect) << "cell " << l;
    inside += expect >= 0;
  }
  EXPECT_GT(inside, 100);  // the test is not vacuous
}

TEST(RasteriseCentres, HugeAndUnprojectableCoordinatesAreSafe) {
  auto g = Grid::Create(27700, 10, 0, 0, 4, 2);
  ASSERT_TRUE(g);
  MultiPolygon huge(1), broken(1);
  huge[0].rings = {Box(-1e300, 5, 1e300, 6)};  // covers the centre line y = 5 of row 0
  broken[0].rings = {Box(0, 0, 40, 20)};
  broken[0].rings[0].xy[4] = std::nan("");  // a vertex PROJ could not transform
  const std::vector<MultiPolygon> polys = {broken, huge};
  EXPECT_EQ(Picture(*g, RasteriseCentres(*g, polys)),
            "....\n"
            "bbbb\n");
}

TEST(RasteriseCentres, PolygonOutsideTheWindowTouchesNothing) {
  auto g = Grid::Create(27700, 10, 0, 0, 3, 3);
  ASSERT_TRUE(g);
  MultiPolygon far(1);
  far[0].rings = {Box(1000, 1000, 1100, 1100)};
  const std::vector<MultiPolygon> polys = {far, MultiPolygon{}};
  for (auto o : RasteriseCentres(*g, polys)) EXPECT_EQ(o, -1);
}

}  // namespace
}  // namespace crimecast::spatial
