#include "core/models/features.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/core/models/history_fixtures.hpp"

namespace crimecast::models {
namespace {

using testing::MakeHistory;
using testing::Month;
using testing::MonthEvent;

constexpr double kSize = 100.0;

spatial::Grid SmallGrid(std::int64_t n = 9) {
  return *spatial::Grid::Create(27700, kSize, 0, 0, n, n);
}

std::size_t Col(const FeatureBuilder& b, std::string_view name) {
  const auto& n = b.names();
  const auto it = std::find(n.begin(), n.end(), name);
  EXPECT_NE(it, n.end()) << name;
  return static_cast<std::size_t>(it - n.begin());
}

float Feature(const FeatureRows& rows, const FeatureBuilder& b, std::int64_t local,
              std::string_view name) {
  const auto it = std::find(rows.cell.begin(), rows.cell.end(), local);
  if (it == rows.cell.end()) {
    return rows.BandRow(rows.band_of[static_cast<std::size_t>(local)])[Col(b, name)];
  }
  return rows.Row(static_cast<std::size_t>(it - rows.cell.begin()))[Col(b, name)];
}

TEST(NearRepeatKernel, SpaceIsQuarticScaledToOne) {
  const NearRepeatKernel k{400.0, 14 * 86400.0};
  EXPECT_DOUBLE_EQ(k.Space(0), 1.0);
  EXPECT_DOUBLE_EQ(k.Space(200), 0.5625);  // (1 - 0.25)^2
  EXPECT_DOUBLE_EQ(k.Space(400), 0.0);
  EXPECT_DOUBLE_EQ(k.Space(1000), 0.0);
}

TEST(NearRepeatKernel, TimeWeightOfPointAndIntervalEvents) {
  const double tau = 10 * 86400.0;
  const NearRepeatKernel k{400.0, tau};
  const std::int64_t t = 100 * 86400;
  // A timestamped event 5 days old: exp(-0.5).
  EXPECT_NEAR(k.TimeWeight(t, t - 5 * 86400, t - 5 * 86400 + 1), std::exp(-0.5), 1e-6);
  // An interval [t - 30d, t - 10d): the mean of exp(-a/tau) over ages 10..30 days, by midpoint
  // quadrature.
  double mean = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double age = 10 * 86400.0 + (i + 0.5) * (20 * 86400.0 / n);
    mean += std::exp(-age / tau);
  }
  mean /= n;
  EXPECT_NEAR(k.TimeWeight(t, t - 30 * 86400, t - 10 * 86400), mean, 1e-9);
  // Only the part before t counts, and an event starting at t weighs nothing.
  EXPECT_NEAR(k.TimeWeight(t, t - 86400, t + 86400), tau / 86400.0 * (1 - std::exp(-0.1)), 1e-9);
  EXPECT_EQ(k.TimeWeight(t, t, t + 1), 0.0);
}

TEST(EventGridIndex, WindowCountsAreDifferencesOfSortedTimes) {
  const auto grid = SmallGrid();
  History h = MakeHistory({MonthEvent(kSize, 2, 3, 2023, 1),
                           MonthEvent(kSize, 2, 3, 2023, 2),
                           MonthEvent(kSize, 2, 3, 2023, 2),
                           MonthEvent(kSize, 5, 5, 2023, 3),
                           {-50.0, 10.0, Month(2023, 1), Month(2023, 2)}});  // outside the grid
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (h.x[i] == 550.0) h.weight[i] = 2.5;  // the event in cell (5, 5)
  }
  const EventGridIndex idx(h, grid);
  EXPECT_TRUE(idx.month_only());
  EXPECT_EQ(idx.active_count(), 2u);
  EXPECT_EQ(idx.indexed_events(), 4u);
  const std::int32_t a = idx.ActiveOf(grid.LocalOf(spatial::CellIndex{2, 3}));
  ASSERT_GE(a, 0);
  const auto au = static_cast<std::size_t>(a);
  EXPECT_EQ(idx.Count(au, Month(2023, 1), Month(2023, 2)), 1.0);
  EXPECT_EQ(idx.Count(au, Month(2023, 2), Month(2023, 3)), 2.0);
  EXPECT_EQ(idx.Count(au, Month(2022, 1), Month(2024, 1)), 3.0);
  EXPECT_EQ(idx.CountBefore(au, Month(2023, 2)), 1u);
  EXPECT_EQ(idx.TotalCount(Month(2023, 1), Month(2023, 4)), 5.5);  // weights: 1 + 2 + 2.5
  EXPECT_EQ(idx.ActiveOf(0), -1);
}

TEST(FeatureBuilder, WindowRatesRingsTrendAndSince) {
  const auto grid = SmallGrid(15);
  // Twelve months of data (2023-01 .. 2023-12); forecast at 2024-01.
  std::vector<testing::EventSpec> ev;
  for (int m = 1; m <= 12; ++m) ev.push_back(MonthEvent(kSize, 4, 4, 2023, m));  // 1 a month
  for (int k = 0; k < 3; ++k) ev.push_back(MonthEvent(kSize, 4, 4, 2023, 12));   // +3 in Dec
  ev.push_back(MonthEvent(kSize, 5, 4, 2023, 6));                                // ring 1
  ev.push_back(MonthEvent(kSize, 6, 6, 2023, 6));                                // ring 2
  const History h = MakeHistory(ev);
  const EventGridIndex idx(h, grid);
  auto b = FeatureBuilder::Create(idx, Horizon{0, 1});
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_TRUE(b->monthly());
  const std::int64_t t = Month(2024, 1);
  const FeatureRows rows = b->Compute(t);
  const std::int64_t centre = grid.LocalOf(spatial::CellIndex{4, 4});
  const double month = 30.436875 * 86400;
  const double dec = 31 * 86400;
  // cell_1m: 4 events over December (31 days), per mean month.
  EXPECT_NEAR(Feature(rows, *b, centre, "cell_1m"), 4 * month / dec, 1e-4);
  // cell_all: 15 events over 365 days.
  EXPECT_NEAR(Feature(rows, *b, centre, "cell_all"), 15 * month / (365 * 86400.0), 1e-4);
  EXPECT_NEAR(Feature(rows, *b, centre, "ring1_all"), 1 * month / (365 * 86400.0), 1e-5);
  EXPECT_NEAR(Feature(rows, *b, centre, "ring2_all"), 1 * month / (365 * 86400.0), 1e-5);
  // Trend: 6 events in Oct..Dec (92 days) against 15 * 92/365 expected.
  const double expected = 15.0 * 92.0 / 365.0;
  EXPECT_NEAR(Feature(rows, *b, centre, "trend_cell"), std::log(6.5 / (expected + 0.5)), 1e-4);
  // The last event started on 1 December: 31 days before t.
  EXPECT_NEAR(Feature(rows, *b, centre, "since_cell"), dec / month, 1e-4);
  // Same month last year (2023-01) holds one event.
  EXPECT_NEAR(Feature(rows, *b, centre, "season_cell"), 1.0, 1e-6);
  // Category mix over the 3x3 neighbourhood: all burglary (property).
  EXPECT_NEAR(Feature(rows, *b, centre, "mix_property"), 1.0, 1e-6);
  EXPECT_NEAR(Feature(rows, *b, centre, "points_cell"), 1.0, 1e-6);
  // A cell far from every event is outside the support and has the empty row.
  const std::int64_t far = grid.LocalOf(spatial::CellIndex{14, 14});
  EXPECT_EQ(std::find(rows.cell.begin(), rows.cell.end(), far), rows.cell.end());
  EXPECT_TRUE(std::isnan(Feature(rows, *b, far, "since_cell")));
  EXPECT_EQ(Feature(rows, *b, far, "cell_all"), 0.0f);
  EXPECT_GT(rows.band_base[0], 0.0f);
  // (14, 14) is 8 cells from (6, 6): with R = 4 (400 m / 100 m cells) it is in band 0 (4 < d <= 8).
  EXPECT_EQ(rows.band_of[static_cast<std::size_t>(far)], 0);
  EXPECT_NEAR(Feature(rows, *b, far, "dist_m"), 1.5 * 4 * kSize, 1e-3);
  EXPECT_EQ(Feature(rows, *b, centre, "dist_m"), 0.0f);
  EXPECT_NEAR(Feature(rows, *b, grid.LocalOf(spatial::CellIndex{5, 6}), "dist_m"), 100.0, 1e-3);
  EXPECT_NEAR(Feature(rows, *b, grid.LocalOf(spatial::CellIndex{4, 6}), "dist_m"), 200.0, 1e-3);
}

TEST(FeatureBuilder, FeaturesAtAnOriginIgnoreLaterEvents) {
  // No look-ahead: features at t are identical whether or not the history holds events at or
  // after t.
  const auto grid = SmallGrid();
  std::vector<testing::EventSpec> early, all;
  for (int m = 1; m <= 12; ++m) {
    early.push_back(MonthEvent(kSize, 3, 3, 2023, m));
    early.push_back(MonthEvent(kSize, 3 + m % 3, 4, 2023, m, Category::kViolenceSexualOffences));
  }
  all = early;
  for (int m = 1; m <= 6; ++m) {
    all.push_back(MonthEvent(kSize, 3, 3, 2024, m));
    all.push_back(MonthEvent(kSize, 7, 7, 2024, m));  // a new hot spot after t
  }
  const History he = MakeHistory(early), ha = MakeHistory(all);
  const EventGridIndex ie(he, grid), ia(ha, grid);
  auto be = FeatureBuilder::Create(ie, Horizon{0, 1});
  auto ba = FeatureBuilder::Create(ia, Horizon{0, 1});
  const std::int64_t t = Month(2024, 1);
  const FeatureRows re = be->Compute(t), ra = ba->Compute(t);
  EXPECT_EQ(re.cell, ra.cell);
  ASSERT_EQ(re.x.size(), ra.x.size());
  for (std::size_t i = 0; i < re.x.size(); ++i) {
    if (std::isnan(re.x[i])) {
      EXPECT_TRUE(std::isnan(ra.x[i]));
    } else {
      EXPECT_EQ(re.x[i], ra.x[i]) << be->names()[i % re.cols];
    }
  }
  EXPECT_EQ(re.base, ra.base);
}

TEST(FeatureBuilder, TimestampedWindowsAndWeekPhase) {
  const auto grid = SmallGrid();
  const std::int64_t t0 = Month(2023, 1);
  std::vector<testing::EventSpec> ev;
  // One event every Monday at 10:00 for 20 weeks in cell (4, 4).
  for (int w = 0; w < 20; ++w) {
    const std::int64_t s = t0 + w * 7 * 86400 + 10 * 3600;
    ev.push_back({450, 450, s, s + 1});
  }
  const History h = MakeHistory(ev);
  const EventGridIndex idx(h, grid);
  EXPECT_FALSE(idx.month_only());
  auto b = FeatureBuilder::Create(idx, Horizon{86400, 0});
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->monthly());
  const std::int64_t t = t0 + 20 * 7 * 86400;  // the Monday after the last event
  const FeatureRows rows = b->Compute(t);
  const std::int64_t c = grid.LocalOf(spatial::CellIndex{4, 4});
  EXPECT_NEAR(Feature(rows, *b, c, "cell_7d"), 1.0 / 7.0, 1e-6);  // per day
  EXPECT_NEAR(Feature(rows, *b, c, "cell_28d"), 4.0 / 28.0, 1e-6);
  // Every one of the last 8 same weekdays had its event inside [T - 7k d, T - 7k d + 1 d).
  EXPECT_NEAR(Feature(rows, *b, c, "week_phase_cell"), 1.0, 1e-6);
}

TEST(FeatureBuilder, RejectsBadInput) {
  const auto grid = SmallGrid();
  const History h = MakeHistory({MonthEvent(kSize, 1, 1, 2023, 1)});
  const EventGridIndex idx(h, grid);
  EXPECT_FALSE(FeatureBuilder::Create(idx, Horizon{0, 0}));
  FeatureOptions o;
  o.covariates.push_back({"imd", std::vector<float>(3, 1.0f)});
  auto b = FeatureBuilder::Create(idx, Horizon{0, 1}, o);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kInvalidArgument);
}

TEST(FeatureBuilder, CovariateHookAddsColumnsAndSupport) {
  const auto grid = SmallGrid();
  const History h =
      MakeHistory({MonthEvent(kSize, 1, 1, 2023, 1), MonthEvent(kSize, 1, 1, 2023, 5)});
  const EventGridIndex idx(h, grid);
  FeatureOptions o;
  std::vector<float> v(static_cast<std::size_t>(grid.cell_count()), std::nanf(""));
  v[80] = 7.0f;  // the far corner (8, 8), outside the event support
  o.covariates.push_back({"imd", v});
  auto b = FeatureBuilder::Create(idx, Horizon{0, 1}, o);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->names().back(), "cov_imd");
  const FeatureRows rows = b->Compute(Month(2023, 9));
  EXPECT_EQ(Feature(rows, *b, 80, "cov_imd"), 7.0f);
  EXPECT_TRUE(std::isnan(rows.BandRow(0).back()));
}

TEST(CategoryGroups, EveryCategoryHasAGroup) {
  for (int c = 0; c < kCategoryCount; ++c) {
    const int g = CategoryGroup(static_cast<Category>(c));
    EXPECT_GE(g, 0);
    EXPECT_LT(g, kCategoryGroupCount);
  }
  EXPECT_EQ(CategoryGroupName(CategoryGroup(Category::kAntiSocialBehaviour)), "asb");
}

}  // namespace
}  // namespace crimecast::models
