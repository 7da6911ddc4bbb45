#include "core/models/learned.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <thread>

#include "tests/core/models/history_fixtures.hpp"

namespace crimecast::models {
namespace {

using testing::Month;
using testing::SimulateMonthly;

constexpr double kSize = 150.0;
constexpr std::int64_t kN = 20;  // 20 x 20 cells

std::vector<double> TrueRates() {
  // A smooth hot spot plus a few isolated hot cells; many cells near zero.
  std::vector<double> r(static_cast<std::size_t>(kN * kN));
  for (std::int64_t iy = 0; iy < kN; ++iy) {
    for (std::int64_t ix = 0; ix < kN; ++ix) {
      const double d2 = static_cast<double>((ix - 6) * (ix - 6) + (iy - 12) * (iy - 12));
      r[static_cast<std::size_t>(iy * kN + ix)] = 6.0 * std::exp(-d2 / 8.0) + 0.02;
    }
  }
  r[static_cast<std::size_t>(3 * kN + 15)] = 4.0;
  r[static_cast<std::size_t>(16 * kN + 17)] = 2.5;
  return r;
}

ForecastRequest Request(std::int64_t t, Horizon h = Horizon{0, 1}) {
  return {*spatial::Grid::Create(27700, kSize, 0, 0, kN, kN), TimePoint{Seconds{t}}, h};
}

double Sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

double Correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  const double ma = Sum(a) / n, mb = Sum(b) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

ModelOptions Fast() {
  ModelOptions o;
  o.threads = 1;
  o.params = {{"trees", 40}, {"max_origins", 12}};
  return o;
}

TEST(LearnedOptions, ParsesKnownKeysAndRejectsOthers) {
  ModelOptions o;
  o.params = {{"trees", 50}, {"max_depth", 4}, {"tweedie_power", 1.3}, {"offset", 0}};
  auto p = LearnedOptions::FromModelOptions(o);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->trees, 50);
  EXPECT_EQ(p->max_depth, 4);
  EXPECT_DOUBLE_EQ(p->tweedie_power, 1.3);
  EXPECT_FALSE(p->offset);
  for (const auto& bad : std::vector<std::map<std::string, double>>{{{"tree", 5}},
                                                                    {{"trees", 0}},
                                                                    {{"trees", 2.5}},
                                                                    {{"learning_rate", 2}},
                                                                    {{"tweedie_power", 2.5}},
                                                                    {{"subsample", 0}}}) {
    o.params = bad;
    auto r = LearnedOptions::FromModelOptions(o);
    ASSERT_FALSE(r) << bad.begin()->first;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(MakeLearnedModel(ModelOptions{{{"bogus", 1}}, 0}));
}

TEST(LearnedModel, RecoversSimulatedRatesAndIsCalibrated) {
  const auto rate = TrueRates();
  const History h = SimulateMonthly(rate, kN, kSize, 2022, 1, 24, 7);
  auto model = MakeLearnedModel(Fast());
  ASSERT_TRUE(model);
  const std::int64_t t = Month(2024, 1);
  auto f = (*model)->Predict(h, Request(t));
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->model_used, "learned");
  ASSERT_EQ(f->expected.size(), rate.size());
  // Calibrated in total: the recent rate (last 3 months), which for a stationary process is
  // the true total within Poisson noise (~sd 1.1 % here).
  const double truth = Sum(rate);
  EXPECT_NEAR(Sum(f->expected), truth, 0.06 * truth);
  // Shares: the forecast tracks the true rates closely.
  EXPECT_GT(Correlation(f->expected, rate), 0.97);
  for (double v : f->expected) EXPECT_GE(v, 0.0);
  EXPECT_NEAR(f->expected[3 * kN + 15], 4.0, 1.0);
}

TEST(LearnedModel, DeterministicAcrossRuns) {
  const History h = SimulateMonthly(TrueRates(), kN, kSize, 2022, 1, 18, 3);
  auto m1 = MakeLearnedModel(Fast());
  auto m2 = MakeLearnedModel(Fast());
  const auto req = Request(Month(2023, 7));
  auto a = (*m1)->Predict(h, req);
  auto b = (*m2)->Predict(h, req);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->expected, b->expected);
  auto c = (*m1)->Predict(h, req);  // same model object again
  EXPECT_EQ(a->expected, c->expected);
}

TEST(LearnedModel, NeverReadsEventsAtOrAfterT) {
  // A valid History holds only events before T; a model that used anything later would change
  // its forecast when (invalidly) given more. The learned model's windows all end by T.
  const auto rate = TrueRates();
  const History all = SimulateMonthly(rate, kN, kSize, 2022, 1, 24, 11);
  const std::int64_t t = Month(2023, 10);
  History before;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all.t_start[i] >= t) break;
    before.x.push_back(all.x[i]);
    before.y.push_back(all.y[i]);
    before.t_start.push_back(all.t_start[i]);
    before.t_end.push_back(all.t_end[i]);
    before.category.push_back(all.category[i]);
    before.weight.push_back(all.weight[i]);
    before.id.push_back(all.id[i]);
  }
  auto model = MakeLearnedModel(Fast());
  auto a = (*model)->Predict(before, Request(t));
  auto b = (*model)->Predict(all, Request(t));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->expected, b->expected);
}

TEST(LearnedModel, TrainingOriginsEndByTheLimitAndKeepHistory) {
  const History h = SimulateMonthly(TrueRates(), kN, kSize, 2022, 1, 24, 5);
  const auto req = Request(Month(2024, 1));
  const EventGridIndex idx(h, req.grid);
  auto b = FeatureBuilder::Create(idx, Horizon{0, 1});
  ASSERT_TRUE(b);
  const std::int64_t limit = Month(2024, 1);
  const auto origins = TrainingOrigins(*b, limit, 100);
  ASSERT_EQ(origins.size(), 21u);  // 2022-04 .. 2023-12: each needs 3 months of history
  EXPECT_EQ(origins.front(), Month(2023, 12));
  EXPECT_EQ(origins.back(), Month(2022, 4));
  for (auto o : origins) EXPECT_LE(b->HorizonEnd(o), limit);
  EXPECT_EQ(TrainingOrigins(*b, limit, 5).size(), 5u);

  // Weekly horizon on timestamped data: steps of 7 days.
  History ts = h;
  for (std::size_t i = 0; i < ts.size(); ++i) ts.t_end[i] = ts.t_start[i] + 1;
  const EventGridIndex idx2(ts, req.grid);
  auto b2 = FeatureBuilder::Create(idx2, Horizon{7 * 86400, 0});
  const auto weekly = TrainingOrigins(*b2, limit, 10);
  ASSERT_EQ(weekly.size(), 10u);
  EXPECT_EQ(weekly[0], limit - 7 * 86400);
  EXPECT_EQ(weekly[1] - weekly[0], -7 * 86400);
  // 12 h horizon: whole weeks back, so every origin has T's time of day and weekday.
  auto b3 = FeatureBuilder::Create(idx2, Horizon{12 * 3600, 0});
  for (auto o : TrainingOrigins(*b3, limit + 12 * 3600, 5)) {
    EXPECT_EQ((limit + 12 * 3600 - o) % (7 * 86400), 0);
  }
}

TEST(SharedLearnedFit, SameInputsShareOneFitAndAnyChangeRefits) {
  const History h = SimulateMonthly(TrueRates(), kN, kSize, 2022, 1, 18, 21);
  const auto req = Request(Month(2023, 7));
  const EventGridIndex idx(h, req.grid);
  auto b = FeatureBuilder::Create(idx, Horizon{0, 1});
  ASSERT_TRUE(b);
  LearnedOptions o;
  o.trees = 10;
  o.max_origins = 6;
  const std::int64_t limit = Month(2023, 7);
  // Concurrent first requests: one fit, shared (single flight).
  std::vector<std::shared_ptr<const Result<LearnedFit>>> got(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] { got[i] = SharedLearnedFit(*b, limit, o); });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(*got[0]) << got[0]->error().message;
  for (const auto& g : got) EXPECT_EQ(g.get(), got[0].get());
  // A copy of the history (another object, same events) hits the cache too.
  const History copy = h;
  const EventGridIndex idx_copy(copy, req.grid);
  auto b_copy = FeatureBuilder::Create(idx_copy, Horizon{0, 1});
  EXPECT_EQ(SharedLearnedFit(*b_copy, limit, o).get(), got[0].get());
  // Another limit, option or event: another fit, with the same result as an uncached fit.
  EXPECT_NE(SharedLearnedFit(*b, Month(2023, 6), o).get(), got[0].get());
  LearnedOptions o2 = o;
  o2.trees = 11;
  EXPECT_NE(SharedLearnedFit(*b, limit, o2).get(), got[0].get());
  History moved = h;
  moved.x[0] += 1.0;
  const EventGridIndex idx_moved(moved, req.grid);
  auto b_moved = FeatureBuilder::Create(idx_moved, Horizon{0, 1});
  EXPECT_NE(SharedLearnedFit(*b_moved, limit, o).get(), got[0].get());
  auto direct = LearnedFit::Train(*b, limit, o);
  ASSERT_TRUE(direct);
  EXPECT_EQ(*direct->PredictRaw(*b, limit), *(*got[0])->PredictRaw(*b, limit));
}

TEST(LearnedModel, FallsBackWithTooLittleHistory) {
  const History h = SimulateMonthly(TrueRates(), kN, kSize, 2023, 1, 2, 5);
  auto model = MakeLearnedModel(Fast());
  auto f = (*model)->Predict(h, Request(Month(2023, 3)));
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->model_used, "naive-all");
  ASSERT_FALSE(f->notes.empty());
  EXPECT_NE(f->notes.front().find("fell back"), std::string::npos);
  EXPECT_GT(Sum(f->expected), 0.0);
}

TEST(LearnedModel, EmptyHistoryIsAnError) {
  auto model = MakeLearnedModel(Fast());
  auto f = (*model)->Predict(History{}, Request(Month(2023, 3)));
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::kEmptyTrainingWindow);
}

TEST(LearnedModel, MonthOnlyDataWithAWeekHorizonTakesTheWeeksShare) {
  const auto rate = TrueRates();
  const History h = SimulateMonthly(rate, kN, kSize, 2022, 1, 24, 9);
  auto model = MakeLearnedModel(Fast());
  auto month = (*model)->Predict(h, Request(Month(2024, 1)));
  auto week = (*model)->Predict(h, Request(Month(2024, 1), Horizon{7 * 86400, 0}));
  ASSERT_TRUE(month && week);
  EXPECT_NEAR(Sum(week->expected), Sum(month->expected) * 7 / 30.436875,
              1e-6 * Sum(month->expected));
  EXPECT_NE(week->notes.front().find("month-only"), std::string::npos);
}

TEST(RecentTotal, MonthsAndWeeks) {
  const History h = SimulateMonthly(std::vector<double>(4, 10.0), 2, kSize, 2023, 1, 12, 1);
  const auto grid = *spatial::Grid::Create(27700, kSize, 0, 0, 2, 2);
  const EventGridIndex idx(h, grid);
  auto b = FeatureBuilder::Create(idx, Horizon{0, 1});
  const std::int64_t t = Month(2024, 1);
  // Last three months (Oct..Dec, 92 days) scaled to January (31 days).
  const double last3 = idx.TotalCount(Month(2023, 10), t);
  EXPECT_NEAR(RecentTotal(*b, t), last3 / 92.0 * 31.0, 1e-9);
  std::vector<double> v = {1, 3};
  ScaleToTotal(v, 8);
  EXPECT_DOUBLE_EQ(v[0], 2);
  EXPECT_DOUBLE_EQ(v[1], 6);
}

}  // namespace
}  // namespace crimecast::models
