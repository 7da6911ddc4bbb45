#include "core/spatial/projection.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace crimecast::spatial {
namespace {

TEST(ProjectionCrs, UtmZoneFromLonLat) {
  EXPECT_EQ(UtmEpsgFor(-123.1139, 49.2611), 32610);  // Vancouver City Hall
  EXPECT_EQ(UtmEpsgFor(-2.9977, 51.5880), 32630);    // Newport (UTM, were BNG not preferred)
  EXPECT_EQ(UtmEpsgFor(151.2153, -33.8568), 32756);  // Sydney: southern hemisphere -> 327zz
  EXPECT_EQ(UtmEpsgFor(18.4241, -33.9249), 32734);   // Cape Town
  EXPECT_EQ(UtmEpsgFor(-58.3816, -34.6037), 32721);  // Buenos Aires
  EXPECT_EQ(UtmEpsgFor(-73.9857, 40.7484), 32618);   // New York
  // Zone edges: zone 1 starts at 180 W, lon = 180 stays in zone 60, the equator is north.
  EXPECT_EQ(UtmEpsgFor(-180.0, 10.0), 32601);
  EXPECT_EQ(UtmEpsgFor(180.0, 10.0), 32660);
  EXPECT_EQ(UtmEpsgFor(-177.0, 0.0), 32601);
  EXPECT_EQ(UtmEpsgFor(-177.0, -0.000001), 32701);
  EXPECT_EQ(UtmEpsgFor(-174.0, 1.0), 32602);
  // The grid's exceptions: Bergen is in 32V, Svalbard in the double-width X zones.
  EXPECT_EQ(UtmEpsgFor(5.3221, 60.3913), 32632);
  EXPECT_EQ(UtmEpsgFor(2.5, 60.0), 32631);
  EXPECT_EQ(UtmEpsgFor(15.6356, 78.2232), 32633);  // Longyearbyen
  EXPECT_EQ(UtmEpsgFor(8.0, 79.0), 32631);
  EXPECT_EQ(UtmEpsgFor(25.0, 80.0), 32635);
  EXPECT_EQ(UtmEpsgFor(40.0, 80.0), 32637);
}

TEST(ProjectionCrs, DefaultPrefersBritishNationalGridInGreatBritain) {
  EXPECT_EQ(DefaultProjectedEpsg(-2.9977, 51.5880), kBritishNationalGrid);  // Newport, Gwent
  EXPECT_EQ(DefaultProjectedEpsg(-3.1791, 51.4816), kBritishNationalGrid);  // Cardiff
  EXPECT_EQ(DefaultProjectedEpsg(-1.6178, 54.9783), kBritishNationalGrid);  // Newcastle
  EXPECT_EQ(DefaultProjectedEpsg(-123.1139, 49.2611), 32610);               // Vancouver
  EXPECT_EQ(DefaultProjectedEpsg(151.2153, -33.8568), 32756);               // Sydney
  EXPECT_EQ(DefaultProjectedEpsg(-43.1729, -22.9068), 32723);               // Rio de Janeiro
}

TEST(ProjectionCrs, DefaultForAPointSetUsesTheMedianAndIgnoresInvalidPoints) {
  std::vector<LonLat> points;
  for (int i = 0; i < 60; ++i) points.push_back({-123.1 + 0.001 * i, 49.26});  // Vancouver
  for (int i = 0; i < 40; ++i) points.push_back({-2.99, 51.58});               // Gwent outliers
  points.push_back({std::nan(""), 10.0});
  points.push_back({500.0, 10.0});
  auto epsg = DefaultProjectedEpsg(points);
  ASSERT_TRUE(epsg) << epsg.error().message;
  EXPECT_EQ(*epsg, 32610);

  // Mostly Gwent with a few mis-located rows in Vancouver: still BNG.
  std::vector<LonLat> gwent(99, LonLat{-2.99, 51.58});
  gwent.push_back({-123.1, 49.26});
  EXPECT_EQ(*DefaultProjectedEpsg(gwent), kBritishNationalGrid);

  const std::vector<LonLat> invalid = {{std::nan(""), 1.0}, {0.0, 91.0}};
  auto none = DefaultProjectedEpsg(invalid);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNoData);
  EXPECT_FALSE(DefaultProjectedEpsg(std::span<const LonLat>{}));
}

TEST(ProjectionCrs, ParseEpsg) {
  EXPECT_EQ(*ParseEpsg("EPSG:27700"), 27700);
  EXPECT_EQ(*ParseEpsg("epsg:26910"), 26910);
  EXPECT_EQ(*ParseEpsg("4326"), 4326);
  for (const char* bad : {"", "EPSG:", "EPSG:abc", "abc", "-5", "0", "27700x", "EPSG 27700"}) {
    auto r = ParseEpsg(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kBadCrs);
  }
}

TEST(ProjectionCrs, IsValidLonLat) {
  EXPECT_TRUE(IsValidLonLat(-180, -90));
  EXPECT_TRUE(IsValidLonLat(180, 90));
  EXPECT_FALSE(IsValidLonLat(180.0001, 0));
  EXPECT_FALSE(IsValidLonLat(0, 95));
  EXPECT_FALSE(IsValidLonLat(std::nan(""), 0));
  EXPECT_FALSE(IsValidLonLat(0, std::numeric_limits<double>::infinity()));
}

// Control point 1 is independent of PROJ: the ONS internal point of LSOA E01007110 (Wirral
// 035A) as published in the ONS boundary file, LONG/LAT -3.0462101, 53.34903 and BNG_E/BNG_N
// 330452, 384080 (ONS uses the OSTN15 grid; PROJ without the grid file uses the 7-parameter
// Helmert transformation, good to about 2 m, and the BNG values are rounded to 1 m).
// `cs2cs EPSG:4326 EPSG:27700` (proj-bin 9.1.1) on the same point gives 330452.3988,
// 384081.4909: we must reproduce PROJ's own tool to the millimetre.
TEST(Projection, WgsToBritishNationalGridMatchesControlPoints) {
  auto p = Projection::Create(kWgs84, kBritishNationalGrid);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->from_epsg(), kWgs84);
  EXPECT_EQ(p->to_epsg(), kBritishNationalGrid);
  auto bng = p->Forward(-3.0462101, 53.34903);
  ASSERT_TRUE(bng) << bng.error().message;
  EXPECT_NEAR(bng->x, 330452.3988, 0.001);
  EXPECT_NEAR(bng->y, 384081.4909, 0.001);
  EXPECT_LT(std::hypot(bng->x - 330452.0, bng->y - 384080.0), 3.0);  // ONS, independent

  // Control point 2: Newport, cs2cs -> 330975.7892 188154.7484.
  auto newport = p->Forward(-2.9977, 51.5880);
  ASSERT_TRUE(newport);
  EXPECT_NEAR(newport->x, 330975.7892, 0.001);
  EXPECT_NEAR(newport->y, 188154.7484, 0.001);
}

TEST(Projection, BritishNationalGridRoundTripIsWithinMillimetres) {
  auto p = Projection::Create(kWgs84, kBritishNationalGrid);
  ASSERT_TRUE(p);
  std::vector<double> lons;
  std::vector<double> lats;
  for (double lon = -8.0; lon <= 1.5; lon += 0.5) {
    for (double lat = 50.0; lat <= 60.5; lat += 0.5) {
      lons.push_back(lon);
      lats.push_back(lat);
    }
  }
  std::vector<double> xs = lons;
  std::vector<double> ys = lats;
  ASSERT_EQ(p->Forward(xs, ys), xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    // Inside BNG's false-origin square.
    EXPECT_GT(xs[i], -100000);
    EXPECT_LT(xs[i], 800000);
    EXPECT_GT(ys[i], -100000);
    EXPECT_LT(ys[i], 1300000);
  }
  ASSERT_EQ(p->Inverse(xs, ys), xs.size());
  double worst = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    worst = std::max({worst, std::abs(xs[i] - lons[i]), std::abs(ys[i] - lats[i])});
  }
  // PROJ inverts the 7-parameter Helmert step approximately (to first order in the rotations),
  // so the round trip is not bit-exact: measured 1.7e-8 degrees (about 2 mm) at worst over GB.
  EXPECT_LT(worst, 5e-8);
}

// VPD publishes Vancouver crime as NAD83 / UTM zone 10N (EPSG:26910). `cs2cs EPSG:26910
// EPSG:4326` on (491000, 5457000) gives lat 49.265696091, lon -123.123706802, and the reverse
// on Vancouver City Hall (lat 49.2611, lon -123.1139) gives 491712.7012, 5456487.9301.
TEST(Projection, VancouverUtmNad83ToWgs84MatchesCs2cs) {
  auto p = Projection::Create(26910, kWgs84);
  ASSERT_TRUE(p) << p.error().message;
  auto ll = p->Forward(491000.0, 5457000.0);
  ASSERT_TRUE(ll) << ll.error().message;
  EXPECT_NEAR(ll->x, -123.123706802, 1e-8);  // lon first, whatever EPSG's axis order says
  EXPECT_NEAR(ll->y, 49.265696091, 1e-8);
  auto utm = p->Inverse(-123.1139, 49.2611);
  ASSERT_TRUE(utm);
  EXPECT_NEAR(utm->x, 491712.7012, 0.001);
  EXPECT_NEAR(utm->y, 5456487.9301, 0.001);
  // The automatic CRS for the same point (WGS84 UTM 10N) differs from NAD83 UTM 10N by the
  // datum shift PROJ applies (none: NAD83 and WGS84 are treated as equal to about 1 m).
  auto wgs_utm = Projection::Create(kWgs84, UtmEpsgFor(ll->x, ll->y));
  ASSERT_TRUE(wgs_utm);
  auto back = wgs_utm->Forward(ll->x, ll->y);
  ASSERT_TRUE(back);
  EXPECT_LT(std::hypot(back->x - 491000.0, back->y - 5457000.0), 2.0);
}

TEST(Projection, SouthernHemisphereUtmRoundTrip) {
  const int epsg = UtmEpsgFor(151.2153, -33.8568);
  ASSERT_EQ(epsg, 32756);
  auto p = Projection::Create(kWgs84, epsg);
  ASSERT_TRUE(p);
  auto xy = p->Forward(151.2153, -33.8568);
  ASSERT_TRUE(xy);
  // cs2cs EPSG:4326 EPSG:32756: 334900.5697 6252288.7529 (false northing 10,000 km south).
  EXPECT_NEAR(xy->x, 334900.5697, 0.001);
  EXPECT_NEAR(xy->y, 6252288.7529, 0.001);
  auto ll = p->Inverse(xy->x, xy->y);
  ASSERT_TRUE(ll);
  EXPECT_NEAR(ll->x, 151.2153, 1e-9);
  EXPECT_NEAR(ll->y, -33.8568, 1e-9);
}

TEST(Projection, BatchEqualsSinglePointAndMarksFailuresAsNaN) {
  auto p = Projection::Create(kWgs84, kBritishNationalGrid);
  ASSERT_TRUE(p);
  std::vector<double> xs = {-3.0, -2.5, std::nan(""), -1.0};
  std::vector<double> ys = {51.5, 52.0, 51.0, 53.0};
  const std::vector<double> lon = xs;
  const std::vector<double> lat = ys;
  EXPECT_EQ(p->Forward(xs, ys), 3u);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (std::isnan(lon[i])) {
      EXPECT_TRUE(std::isnan(xs[i]) && std::isnan(ys[i]));
      EXPECT_FALSE(p->Forward(lon[i], lat[i]));
      continue;
    }
    auto one = p->Forward(lon[i], lat[i]);
    ASSERT_TRUE(one);
    EXPECT_DOUBLE_EQ(one->x, xs[i]);
    EXPECT_DOUBLE_EQ(one->y, ys[i]);
  }
  EXPECT_EQ(p->Forward(std::span<double>{}, std::span<double>{}), 0u);
}

TEST(Projection, UnknownCrsIsAnError) {
  auto p = Projection::Create(kWgs84, 999999);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kBadCrs);
  EXPECT_NE(p.error().message.find("999999"), std::string::npos);
}

TEST(Projection, MovedProjectionStillWorks) {
  auto p = Projection::Create(kWgs84, kBritishNationalGrid);
  ASSERT_TRUE(p);
  Projection moved = std::move(*p);
  auto xy = moved.Forward(-2.9977, 51.5880);
  ASSERT_TRUE(xy);
  EXPECT_NEAR(xy->x, 330975.7892, 0.001);
}

}  // namespace
}  // namespace crimecast::spatial
