#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/evaluation/metrics.hpp"
#include "core/models/baselines.hpp"
#include "core/models/history.hpp"
#include "core/models/model.hpp"
#include "core/models/model_test_util.hpp"

namespace crimecast::models {
namespace {

using testutil::AddMonth;
using testutil::PoissonField;

spatial::Grid SmallGrid() { return *spatial::Grid::Create(27700, 100, 0, 0, 3, 1); }

Forecast RunModel(const std::string& model, const History& h, const spatial::Grid& g, TimePoint at,
                  Horizon hz, ModelOptions opt = {}) {
  auto m = CreateModel(model, opt);
  EXPECT_TRUE(m) << m.error().message;
  auto f = (*m)->Predict(h, {g, at, hz});
  EXPECT_TRUE(f) << f.error().message;
  return *f;
}

// Month-only history Jan..Mar 2024 (31 + 29 + 31 = 91 days); forecast April (30 days).
//   cell 0: 2 in Jan, 1 in Feb, 3 in Mar   cell 1: 1 in Jan   cell 2: nothing
History HandHistory() {
  storage::PointColumns p;
  for (int i = 0; i < 2; ++i) AddMonth(p, 50, 50, "2024-01");
  AddMonth(p, 50, 50, "2024-02");
  for (int i = 0; i < 3; ++i) AddMonth(p, 50, 50, "2024-03");
  AddMonth(p, 150, 50, "2024-01");
  HistoryOptions o;
  o.cutoff = ParseMonth("2024-04")->start;
  return *BuildHistory(p, o);
}

TEST(NaiveModels, HandWorkedMonthOnlyCounts) {
  const History h = HandHistory();
  const TimePoint at = ParseMonth("2024-04")->start;
  const Horizon month{0, 1};
  // naive-all: count x 30 days / 91 days.
  Forecast all = RunModel("naive-all", h, SmallGrid(), at, month);
  ASSERT_EQ(all.expected.size(), 3u);
  EXPECT_DOUBLE_EQ(all.expected[0], 6.0 * 30 / 91);
  EXPECT_DOUBLE_EQ(all.expected[1], 1.0 * 30 / 91);
  EXPECT_DOUBLE_EQ(all.expected[2], 0.0);
  EXPECT_EQ(all.background, all.expected);
  // naive-recent with a one-month window: March only, 3 events in 31 days.
  Forecast recent =
      RunModel("naive-recent", h, SmallGrid(), at, month, {{{"window_months", 1}}, 0});
  EXPECT_DOUBLE_EQ(recent.expected[0], 3.0 * 30 / 31);
  EXPECT_DOUBLE_EQ(recent.expected[1], 0.0);
  // naive-recent, 2 months: Feb + Mar, 4 events in 60 days.
  recent = RunModel("naive-recent", h, SmallGrid(), at, month, {{{"window_months", 2}}, 0});
  EXPECT_DOUBLE_EQ(recent.expected[0], 4.0 * 30 / 60);
  // naive-decay, half-life 30 days: each month's weight is the mean of 2^(-age/30d) over the
  // month; the exposure is the kernel's integral over the 91 days.
  Forecast decay =
      RunModel("naive-decay", h, SmallGrid(), at, month, {{{"half_life_days", 30}}, 0});
  const double l = std::log(2.0) / 30.0;  // per day
  auto month_weight = [&](double newest_age, double oldest_age) {
    return (std::exp(-l * newest_age) - std::exp(-l * oldest_age)) /
           (l * (oldest_age - newest_age));
  };
  const double w_mar = month_weight(0, 31);
  const double w_feb = month_weight(31, 60);
  const double w_jan = month_weight(60, 91);
  const double exposure = (1 - std::exp(-l * 91)) / l;
  EXPECT_NEAR(decay.expected[0], (2 * w_jan + w_feb + 3 * w_mar) / exposure * 30, 1e-9);
  EXPECT_NEAR(decay.expected[1], w_jan / exposure * 30, 1e-9);
}

TEST(NaiveModels, MidMonthOriginCountsTheObservedShareOfTheMonth) {
  // T = 2024-03-16: March events count for 15/31 of their month; the window is
  // Jan 1 .. Mar 16 = 75 days; a 7-day horizon.
  const History h = [] {
    storage::PointColumns p;
    AddMonth(p, 50, 50, "2024-01");
    AddMonth(p, 50, 50, "2024-03");
    HistoryOptions o;
    o.cutoff = *ParseDateTime("2024-03-16");
    return *BuildHistory(p, o);
  }();
  Forecast f = RunModel("naive-all", h, SmallGrid(), *ParseDateTime("2024-03-16"), {7 * 86400, 0});
  EXPECT_NEAR(f.expected[0], (1 + 15.0 / 31) * 7 / 75, 1e-12);
}

TEST(NaiveModels, CalibratedOnAStationaryPoissonField) {
  // 40 x 40 cells with a strongly uneven rate (a few hot cells), 2000 events a month in all.
  auto g = *spatial::Grid::Create(27700, 150, 2000, 1000, 40, 40);
  std::vector<double> rate(static_cast<std::size_t>(g.cell_count()));
  std::mt19937_64 rng(7);
  std::gamma_distribution<double> gamma(0.5, 1.0);
  for (double& r : rate) r = gamma(rng);
  const double total_rate = std::accumulate(rate.begin(), rate.end(), 0.0);
  for (double& r : rate) r *= (2000.0 / 30.4375) / total_rate;  // per day
  const std::int64_t from = testutil::Month("2022-01");
  const std::int64_t t = testutil::Month("2024-01");
  const TimePoint at{Seconds{t}};
  const Horizon month{0, 1};  // January: 31 days
  const double true_total = 2000.0 / 30.4375 * 31;
  for (bool month_only : {false, true}) {
    SCOPED_TRACE(month_only ? "month-only" : "timestamped");
    for (const char* model : {"naive-all", "naive-recent", "naive-decay"}) {
      SCOPED_TRACE(model);
      double sum_expected = 0;
      double sum_realised = 0;
      const int seeds = 6;
      for (int seed = 0; seed < seeds; ++seed) {
        auto past = PoissonField(g, rate, from, t, month_only, 100 + seed);
        auto future = PoissonField(g, rate, t, testutil::Month("2024-02"), month_only, 900 + seed);
        HistoryOptions o;
        o.cutoff = at;
        auto h = BuildHistory(past, o);
        ASSERT_TRUE(h);
        Forecast f = RunModel(model, *h, g, at, month);
        const double e = std::accumulate(f.expected.begin(), f.expected.end(), 0.0);
        sum_expected += e;
        sum_realised += static_cast<double>(future.size());
        // Each forecast's total is unbiased: its sd is at most sqrt(3 months of events)
        // scaled to one month for naive-recent, i.e. about sqrt(6000)/3 = 26 events.
        EXPECT_NEAR(e, true_total, 5 * 26.0);
      }
      // Pooled over seeds: expected vs realised totals agree within Poisson noise (sd of the
      // realised sum is sqrt(6 * 2037) = 111; allow 4 sd plus the forecasts' own noise).
      EXPECT_NEAR(sum_expected, sum_realised, 4 * 111.0 + 4 * 26.0 * std::sqrt(6.0));
    }
  }
}

TEST(NaiveModels, CalibratedByDecile) {
  // Per predicted-decile bin, mean observed ~ mean predicted (pooled over 10 replicate months).
  auto g = *spatial::Grid::Create(27700, 150, 0, 0, 30, 30);
  std::vector<double> rate(static_cast<std::size_t>(g.cell_count()));
  for (std::int64_t l = 0; l < g.cell_count(); ++l) {
    rate[static_cast<std::size_t>(l)] = 0.02 * static_cast<double>(1 + (l * 37) % 50);  // per day
  }
  const std::int64_t from = testutil::Month("2021-01");
  const std::int64_t t = testutil::Month("2024-01");
  auto past = PoissonField(g, rate, from, t, true, 3);
  HistoryOptions o;
  o.cutoff = TimePoint{Seconds{t}};
  auto h = BuildHistory(past, o);
  Forecast f = RunModel("naive-all", *h, g, TimePoint{Seconds{t}}, {0, 1});
  std::vector<std::int64_t> active(static_cast<std::size_t>(g.cell_count()));
  std::iota(active.begin(), active.end(), 0);
  std::vector<double> pred_sum(10, 0.0), obs_sum(10, 0.0);
  for (int rep = 0; rep < 10; ++rep) {
    auto future = PoissonField(g, rate, t, testutil::Month("2024-02"), true, 50 + rep);
    std::vector<double> observed(static_cast<std::size_t>(g.cell_count()), 0.0);
    for (std::size_t i = 0; i < future.size(); ++i) {
      observed[static_cast<std::size_t>(g.LocalOf(future.x[i], future.y[i]))] += 1;
    }
    auto s = evaluation::Score({f.expected, observed, active, g.CellAreaKm2()});
    ASSERT_TRUE(s);
    for (const auto& b : s->calibration) {
      pred_sum[static_cast<std::size_t>(b.decile - 1)] += b.sum_predicted;
      obs_sum[static_cast<std::size_t>(b.decile - 1)] += b.sum_observed;
    }
  }
  for (int d = 0; d < 10; ++d) {
    SCOPED_TRACE(d);
    // Poisson noise on ~10 x 90 cells x (0.6..30) events: a few percent. Shrinkage towards
    // the mean is expected (top deciles slightly over-predicted), so allow 15 %.
    EXPECT_NEAR(obs_sum[static_cast<std::size_t>(d)] / pred_sum[static_cast<std::size_t>(d)], 1.0,
                0.15);
  }
}

TEST(NaiveModels, RejectUnknownOrOutOfRangeParameters) {
  EXPECT_EQ(CreateModel("naive-all", {{{"window_months", 3}}, 0}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_FALSE(CreateModel("naive-recent", {{{"window_months", 0}}, 0}));
  EXPECT_FALSE(CreateModel("naive-recent", {{{"window_months", 2.5}}, 0}));
  EXPECT_FALSE(CreateModel("naive-decay", {{{"half_life_days", -1}}, 0}));
  EXPECT_EQ(CreateModel("naive-everything").error().code, ErrorCode::kUnknownModel);
}

TEST(NaiveModels, EmptyHistoryIsAnEmptyTrainingWindow) {
  History empty;
  auto m = CreateModel("naive-all");
  auto f = (*m)->Predict(empty, {SmallGrid(), ParseMonth("2024-01")->start, {0, 1}});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::kEmptyTrainingWindow);
}

}  // namespace
}  // namespace crimecast::models
