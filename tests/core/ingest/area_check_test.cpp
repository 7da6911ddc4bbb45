// Out-of-area flagging: hand-worked small cases and simulated batches with known outliers.
#include "core/ingest/area_check.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace crimecast::ingest {
namespace {

Event At(double x, double y, int epsg = 27700) {
  Event e;
  e.quality = LocationQuality::kSnapped;
  e.x = x;
  e.y = y;
  e.lon = 0;
  e.lat = 0;
  e.epsg = epsg;
  return e;
}

TEST(AreaCheck, HandWorkedExample) {
  // 20 points on a 4 x 5 grid with 1 km spacing, one point 100 km east.
  std::vector<Event> events;
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 5; ++j) events.push_back(At(1000.0 * i, 1000.0 * j));
  }
  events.push_back(At(100000, 2000));
  const AreaCheckResult r = CheckArea(events);
  // Medians: x of 21 values {0 x5, 1000 x5, 2000 x5, 3000 x5, 100000} is 2000; y is 2000.
  EXPECT_DOUBLE_EQ(r.centre_x, 2000);
  EXPECT_DOUBLE_EQ(r.centre_y, 2000);
  // Distances sorted: the 95% quantile (rank floor(0.95 * 20) = 19 of 0..20) is the largest
  // grid distance, |(0,0)-(2000,2000)| = 2828.4 m; the far point is rank 20.
  EXPECT_NEAR(r.radius_m, std::hypot(2000, 2000), 1e-6);
  EXPECT_NEAR(r.cutoff_m, std::hypot(2000, 2000) + 30000, 1e-6);
  EXPECT_EQ(r.flagged, 1u);
  EXPECT_TRUE(events.back().out_of_area);
  for (std::size_t i = 0; i + 1 < events.size(); ++i) EXPECT_FALSE(events[i].out_of_area);
}

TEST(AreaCheck, ForceWithFarOutliersFlagsOnlyThem) {
  std::mt19937 rng(42);
  std::normal_distribution<double> n(0, 8000);  // a force ~40 km across
  std::vector<Event> events;
  for (int i = 0; i < 5000; ++i) events.push_back(At(330000 + n(rng), 195000 + n(rng)));
  Event unlocated;
  unlocated.out_of_area = true;  // stale flag must be cleared
  events.push_back(unlocated);
  // Barnsley-like points 200 km away, and one 45 km away (neighbouring force: kept).
  events.push_back(At(440000, 405000));
  events.push_back(At(441000, 404000));
  events.push_back(At(330000, 240000));
  const AreaCheckResult r = CheckArea(events);
  EXPECT_EQ(r.located, 5003u);
  EXPECT_EQ(r.flagged, 2u);
  EXPECT_FALSE(events[5000].out_of_area);
  EXPECT_TRUE(events[5001].out_of_area);
  EXPECT_TRUE(events[5002].out_of_area);
  EXPECT_FALSE(events[5003].out_of_area);
  // For a bivariate normal the 95% distance quantile is sigma * sqrt(-2 ln 0.05) = 2.45 sigma.
  EXPECT_NEAR(r.radius_m, 8000 * std::sqrt(-2 * std::log(0.05)), 600);
}

TEST(AreaCheck, NationalSpreadFlagsNothing) {
  // Points along "rail lines" across a 600 x 900 km country (like British Transport Police).
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> t(0, 1);
  std::vector<Event> events;
  for (int line = 0; line < 30; ++line) {
    const double x0 = 100000 + 500000 * t(rng);
    const double y0 = 50000 + 850000 * t(rng);
    const double x1 = 100000 + 500000 * t(rng);
    const double y1 = 50000 + 850000 * t(rng);
    for (int i = 0; i < 100; ++i) {
      const double s = t(rng);
      events.push_back(At(x0 + s * (x1 - x0), y0 + s * (y1 - y0)));
    }
  }
  const AreaCheckResult r = CheckArea(events);
  EXPECT_EQ(r.flagged, 0u);
  EXPECT_GT(r.radius_m, 200000);
}

TEST(AreaCheck, TooFewPointsFlagNothing) {
  std::vector<Event> events;
  for (int i = 0; i < 10; ++i) events.push_back(At(i, i));
  events.push_back(At(1e6, 1e6));
  EXPECT_EQ(FlagOutOfArea(events), 0u);
  AreaCheckOptions options;
  options.min_points = 5;
  EXPECT_EQ(FlagOutOfArea(events, options), 1u);
}

TEST(AreaCheck, GroupsByEpsg) {
  std::vector<Event> events;
  for (int i = 0; i < 30; ++i) events.push_back(At(1000.0 * (i % 5), 1000.0 * (i / 5), 27700));
  for (int i = 0; i < 25; ++i) {
    events.push_back(At(490000 + 100.0 * i, 5450000, 32610));
  }
  // Far from the 27700 group's centre but at home in its own CRS's group.
  const AreaCheckResult r = CheckArea(events);
  EXPECT_EQ(r.flagged, 0u);
  EXPECT_EQ(r.epsg, 27700);
  EXPECT_EQ(r.located, 55u);
}

TEST(AreaCheck, GroupsByForce) {
  // One combined file with two compact forces 300 km apart: each is judged by its own extent.
  std::mt19937 rng(3);
  std::normal_distribution<double> n(0, 5000);
  std::vector<Event> events;
  for (int i = 0; i < 400; ++i) {
    Event e = At(330000 + n(rng), 195000 + n(rng));
    e.force = i % 2 ? "Gwent Police" : "Northumbria Police";
    if (i % 2 == 0) e.y += 380000;
    events.push_back(e);
  }
  events.push_back(At(330000, 390000));
  events.back().force = "Gwent Police";  // 195 km north of Gwent
  EXPECT_EQ(FlagOutOfArea(events), 1u);
  EXPECT_TRUE(events.back().out_of_area);
}

TEST(AreaCheck, FitAreaMatchesCheckArea) {
  // FitArea is the core a streaming importer can fit on a first chunk and apply afterwards.
  std::mt19937 rng(11);
  std::normal_distribution<double> n(0, 9000);
  std::vector<Event> events;
  std::vector<double> xs;
  std::vector<double> ys;
  for (int i = 0; i < 3000; ++i) {
    events.push_back(At(330000 + n(rng), 195000 + n(rng)));
    xs.push_back(events.back().x);
    ys.push_back(events.back().y);
  }
  events.push_back(At(440000, 405000));
  xs.push_back(440000);
  ys.push_back(405000);
  const AreaCheckResult batch = CheckArea(events);
  const AreaFit fit = FitArea(xs, ys);
  EXPECT_DOUBLE_EQ(fit.cutoff_m, batch.cutoff_m);
  for (const Event& e : events) EXPECT_EQ(fit.Outside(e.x, e.y), e.out_of_area);
  EXPECT_EQ(batch.flagged, 1u);
}

}  // namespace
}  // namespace crimecast::ingest
