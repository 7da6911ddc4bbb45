#include "core/models/explain.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tests/core/models/history_fixtures.hpp"

namespace crimecast::models {
namespace {

using testing::MakeHistory;
using testing::Month;

TEST(CountInterval, PoissonQuantilesByHand) {
  // Poisson(4): F(0)=.018 F(1)=.092 F(2)=.238 F(6)=.889 F(7)=.949 F(8)=.979.
  PredictiveInterval i80 = CountInterval(4.0, 0.0, 0.8);
  EXPECT_EQ(i80.lower, 2);
  EXPECT_EQ(i80.upper, 7);
  PredictiveInterval i95 = CountInterval(4.0, 0.0, 0.95);
  EXPECT_EQ(i95.lower, 1);
  EXPECT_EQ(i95.upper, 8);
  PredictiveInterval zero = CountInterval(0.0, 0.0, 0.95);
  EXPECT_EQ(zero.lower, 0);
  EXPECT_EQ(zero.upper, 0);
}

TEST(CountInterval, NegativeBinomialIsGeometricWhenAlphaIsOne) {
  // mean 1, alpha 1 (size 1): P(Y = y) = 2^-(y+1), F(y) = 1 - 2^-(y+1).
  PredictiveInterval i80 = CountInterval(1.0, 1.0, 0.8);
  EXPECT_EQ(i80.lower, 0);
  EXPECT_EQ(i80.upper, 3);  // F(2) = .875 < .9 <= F(3) = .9375
  PredictiveInterval i95 = CountInterval(1.0, 1.0, 0.95);
  EXPECT_EQ(i95.upper, 5);  // F(4) = .969 < .975 <= F(5) = .984
  // Overdispersion widens the interval.
  EXPECT_GT(CountInterval(10.0, 0.5, 0.95).upper, CountInterval(10.0, 0.0, 0.95).upper);
}

TEST(EstimateDispersion, RecoversSimulatedAlpha) {
  std::mt19937_64 rng(42);
  const double alpha = 0.5;
  const int windows = 12, cells = 4000;
  std::vector<std::vector<double>> nb(windows, std::vector<double>(cells));
  std::vector<std::vector<double>> po(windows, std::vector<double>(cells));
  for (int c = 0; c < cells; ++c) {
    const double mu = 0.5 + 5.0 * (c % 10) / 10.0;
    for (int w = 0; w < windows; ++w) {
      // NB as a gamma-Poisson mixture: lambda ~ Gamma(1/alpha, alpha mu).
      std::gamma_distribution<double> g(1 / alpha, alpha * mu);
      std::poisson_distribution<int> p(g(rng));
      nb[w][c] = p(rng);
      std::poisson_distribution<int> q(mu);
      po[w][c] = q(rng);
    }
  }
  EXPECT_NEAR(EstimateDispersion(nb), alpha, 0.05);
  EXPECT_LT(EstimateDispersion(po), 0.02);
}

TEST(BinomialTwoSidedP, MatchesExactValues) {
  EXPECT_NEAR(BinomialTwoSidedP(0, 10, 0.5), 2.0 / 1024.0, 1e-12);
  EXPECT_NEAR(BinomialTwoSidedP(5, 10, 0.5), 1.0, 1e-12);
  // R: binom.test(2, 10, 0.5)$p.value = 0.109375; binom.test(7, 20, 0.1)$p.value = 0.002386.
  EXPECT_NEAR(BinomialTwoSidedP(2, 10, 0.5), 0.109375, 1e-9);
  EXPECT_NEAR(BinomialTwoSidedP(7, 20, 0.1), 0.002386, 5e-6);
}

struct Fixture {
  spatial::Grid grid = *spatial::Grid::Create(27700, 100.0, 0, 0, 20, 20);
  std::int64_t t = Month(2024, 1);
  History history;
  ForecastRequest request;
  Forecast forecast;

  Fixture() {
    std::vector<testing::EventSpec> ev;
    // Cell (10, 10) centre (1050, 1050): one event a month through 2023.
    for (int m = 1; m <= 12; ++m) ev.push_back(testing::MonthEvent(100.0, 10, 10, 2023, m));
    // Timestamped-like recent events near it, at 100 m, 300 m and 600 m from the centre.
    ev.push_back({1150, 1050, t - 2 * 86400, t - 2 * 86400 + 1, Category::kBurglary});
    ev.push_back({1050, 1350, t - 10 * 86400, t - 10 * 86400 + 1, Category::kVehicleCrime});
    ev.push_back({1650, 1050, t - 1 * 86400, t - 1 * 86400 + 1, Category::kBurglary});
    // Elsewhere: 12 events in a far cell.
    for (int m = 1; m <= 12; ++m) ev.push_back(testing::MonthEvent(100.0, 2, 2, 2023, m));
    history = MakeHistory(ev);
    request = {grid, TimePoint{Seconds{t}}, Horizon{0, 1}};
    forecast.expected.assign(static_cast<std::size_t>(grid.cell_count()), 0.1);
    forecast.expected[static_cast<std::size_t>(grid.LocalOf(spatial::CellIndex{10, 10}))] = 2.0;
  }
};

TEST(ExplainCell, BackgroundRecentEventsTrendAndParts) {
  Fixture fx;
  ExplainOptions o;
  o.near_repeat_tau_days = 14;
  o.dispersion = 0;
  auto e = ExplainCell(fx.history, fx.request, fx.forecast, {10, 10}, o);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->cell.ToString(), "27700:100:10:10");
  EXPECT_DOUBLE_EQ(e->expected, 2.0);
  // Background: 12 events over the 365 days of data, per January (31 days).
  EXPECT_DOUBLE_EQ(e->long_term_events, 12.0);
  EXPECT_NEAR(e->background_rate, 12.0 / 365.0 * 31.0, 1e-9);
  EXPECT_NEAR(e->background_share, 12.0 / 27.0, 1e-12);
  // Recent events within 400 m, largest weight first; the 600 m one is left out. The December
  // month-only event in the cell itself counts with exp(-age/tau) averaged over December.
  ASSERT_EQ(e->recent_events.size(), 3u);
  const double w1 = std::pow(1 - 0.0625, 2) * std::exp(-2.0 / 14.0);   // 100 m, 2 days
  const double wd = 14.0 / 31.0 * (1 - std::exp(-31.0 / 14.0));        // 0 m, December
  const double w2 = std::pow(1 - 0.5625, 2) * std::exp(-10.0 / 14.0);  // 300 m, 10 days
  EXPECT_NEAR(e->recent_events[0].weight, w1, 1e-6);
  EXPECT_NEAR(e->recent_events[0].distance_m, 100.0, 1e-9);
  EXPECT_EQ(e->recent_events[0].category, Category::kBurglary);
  EXPECT_NEAR(e->recent_events[1].weight, wd, 1e-9);
  EXPECT_EQ(e->recent_events[1].t_start, Month(2023, 12));
  EXPECT_NEAR(e->recent_events[2].weight, w2, 1e-6);
  EXPECT_EQ(e->recent_events[2].category, Category::kVehicleCrime);
  EXPECT_NEAR(e->recent_weight, w1 + wd + w2, 1e-6);
  // Parts: the excess over the background goes to the recent events, pro rata.
  EXPECT_FALSE(e->parts_from_model);
  EXPECT_NEAR(e->part_background + e->part_recent + e->part_other, 2.0, 1e-12);
  EXPECT_NEAR(e->part_recent, 2.0 - e->background_rate, 1e-12);
  EXPECT_NEAR(e->recent_events[0].share + e->recent_events[1].share + e->recent_events[2].share,
              e->part_recent, 1e-9);
  // Trend: 3 of 12 events in the last 92 of 365 days: no evidence of change.
  EXPECT_DOUBLE_EQ(e->trend_recent_count, 3.0);
  EXPECT_EQ(e->trend, "stable");
  EXPECT_GT(e->trend_p_value, 0.5);
  // Poisson intervals around 2.
  EXPECT_EQ(e->count_distribution, "Poisson");
  ASSERT_EQ(e->intervals.size(), 2u);
  EXPECT_EQ(e->intervals[1].lower, 0);
  EXPECT_EQ(e->intervals[1].upper, 5);  // Poisson(2): F(4) = .947, F(5) = .983
}

TEST(ExplainCell, UsesTheModelsOwnDecompositionAndFlagsRisingTrend) {
  Fixture fx;
  // Eight extra events in the cell in December: a significant rise.
  std::vector<testing::EventSpec> ev;
  for (std::size_t i = 0; i < fx.history.size(); ++i) {
    ev.push_back({fx.history.x[i], fx.history.y[i], fx.history.t_start[i], fx.history.t_end[i],
                  fx.history.category[i]});
  }
  for (int k = 0; k < 8; ++k) ev.push_back(testing::MonthEvent(100.0, 10, 10, 2023, 12));
  fx.history = MakeHistory(ev);
  const auto cells = static_cast<std::size_t>(fx.grid.cell_count());
  fx.forecast.background.assign(cells, 0.05);
  fx.forecast.recent.assign(cells, 0.01);
  auto e = ExplainCell(fx.history, fx.request, fx.forecast, {10, 10});
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_TRUE(e->parts_from_model);
  EXPECT_DOUBLE_EQ(e->part_background, 0.05);
  EXPECT_DOUBLE_EQ(e->part_recent, 0.01);
  EXPECT_NEAR(e->part_other, 2.0 - 0.06, 1e-12);
  EXPECT_EQ(e->trend, "rising");
  EXPECT_LT(e->trend_p_value, 0.02);
}

TEST(ExplainCell, RejectsCellsOutsideTheGridAndMismatchedForecasts) {
  Fixture fx;
  auto e = ExplainCell(fx.history, fx.request, fx.forecast, {40, 2});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::kInvalidArgument);
  Forecast small;
  small.expected.assign(3, 1.0);
  EXPECT_FALSE(ExplainCell(fx.history, fx.request, small, {10, 10}));
  EXPECT_FALSE(ExplainCell(History{}, fx.request, fx.forecast, {10, 10}));
}

TEST(ExplainCell, CovariatesAreReported) {
  Fixture fx;
  ExplainOptions o;
  std::vector<float> v(static_cast<std::size_t>(fx.grid.cell_count()), 0.0f);
  v[static_cast<std::size_t>(fx.grid.LocalOf(spatial::CellIndex{10, 10}))] = 0.42f;
  o.covariates.push_back({"deprivation", v});
  auto e = ExplainCell(fx.history, fx.request, fx.forecast, {10, 10}, o);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->covariates.size(), 1u);
  EXPECT_EQ(e->covariates[0].first, "deprivation");
  EXPECT_NEAR(e->covariates[0].second, 0.42, 1e-6);
}

}  // namespace
}  // namespace crimecast::models
