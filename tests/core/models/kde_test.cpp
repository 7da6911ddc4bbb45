#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <numeric>

#include "core/models/baselines.hpp"
#include "core/models/grid_ops.hpp"
#include "core/models/history.hpp"
#include "core/models/model.hpp"
#include "core/models/model_test_util.hpp"

namespace crimecast::models {
namespace {

using testutil::Add;
using testutil::AddMonth;
using testutil::At;

constexpr std::int64_t kDay = 86400;

History RandomHistory(int n, double lo, double hi, std::uint64_t seed, std::int64_t t) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi), age(1, 365 * kDay);
  storage::PointColumns p;
  for (int i = 0; i < n; ++i) Add(p, u(rng), u(rng), t - static_cast<std::int64_t>(age(rng)));
  HistoryOptions o;
  o.cutoff = TimePoint{Seconds{t}};
  return *BuildHistory(p, o);
}

Forecast Predict(const std::string& model, const ModelOptions& opt, const History& h,
                 const spatial::Grid& g, std::int64_t t, Horizon hz = {7 * kDay, 0}) {
  auto m = CreateModel(model, opt);
  EXPECT_TRUE(m) << m.error().message;
  auto f = (*m)->Predict(h, {g, TimePoint{Seconds{t}}, hz});
  EXPECT_TRUE(f) << f.error().message;
  return *f;
}

TEST(Kde, ConservesTheNaiveTotalWhenTheGridHoldsAllMass) {
  const std::int64_t t = At("2024-01-01T00:00:00Z");
  const History h = RandomHistory(2000, 3000, 5000, 1, t);
  auto g = *spatial::Grid::Create(27700, 100, 0, 0, 80, 80);  // 0..8 km holds every kernel
  const Forecast naive = Predict("naive-all", {}, h, g, t);
  const double want = std::accumulate(naive.expected.begin(), naive.expected.end(), 0.0);
  for (int kernel : {0, 1}) {
    const Forecast f = Predict("kde", {{{"bandwidth_m", 400}, {"kernel", kernel}}, 0}, h, g, t);
    EXPECT_NEAR(std::accumulate(f.expected.begin(), f.expected.end(), 0.0), want, 1e-9 * want);
    EXPECT_EQ(f.background, f.expected);
  }
}

TEST(Kde, NarrowQuarticKernelIsTheNaiveCount) {
  // Support radius 0.3 cells: no sub-sample of a neighbouring cell is within reach.
  const std::int64_t t = At("2024-01-01T00:00:00Z");
  const History h = RandomHistory(500, 0, 1000, 2, t);
  auto g = *spatial::Grid::Create(27700, 100, 0, 0, 10, 10);
  const Forecast naive = Predict("naive-all", {}, h, g, t);
  const Forecast f = Predict("kde", {{{"bandwidth_m", 30}}, 0}, h, g, t);
  for (std::size_t i = 0; i < naive.expected.size(); ++i) {
    EXPECT_NEAR(f.expected[i], naive.expected[i], 1e-12);
  }
}

TEST(Kde, GaussianMatchesADirectSumOfCellIntegrals) {
  // Binned Gaussian KDE, evaluated directly: each event (at its cell centre) puts
  // Phi-differences of mass into every cell, normalised over the truncated +-4 sigma square.
  const std::int64_t t = At("2024-01-01T00:00:00Z");
  const History h = RandomHistory(300, 0, 1500, 3, t);
  auto g = *spatial::Grid::Create(27700, 100, 2, 3, 12, 9);
  const double sigma = 170;
  const Forecast f = Predict("kde", {{{"bandwidth_m", sigma}, {"kernel", 1}}, 0}, h, g, t);
  const Forecast naive = Predict("naive-all", {}, h, g, t);
  const double per_event = naive.parameters.at("expected_total_all_space") / 300.0;
  const int r = static_cast<int>(std::ceil(4 * sigma / 100));
  auto cdf = [&](double x) { return 0.5 * std::erfc(-x / (sigma / 100 * std::numbers::sqrt2)); };
  std::vector<double> k1(static_cast<std::size_t>(2 * r + 1));
  double norm = 0;
  for (int i = -r; i <= r; ++i) {
    k1[static_cast<std::size_t>(i + r)] = cdf(i + 0.5) - cdf(i - 0.5);
    norm += k1[static_cast<std::size_t>(i + r)];
  }
  for (std::int64_t l = 0; l < g.cell_count(); ++l) {
    const spatial::CellIndex c = g.IndexOfLocal(l);
    double v = 0;
    for (std::size_t i = 0; i < h.size(); ++i) {
      const auto dx = c.ix - static_cast<std::int64_t>(std::floor(h.x[i] / 100));
      const auto dy = c.iy - static_cast<std::int64_t>(std::floor(h.y[i] / 100));
      if (std::abs(dx) > r || std::abs(dy) > r) continue;
      v += k1[static_cast<std::size_t>(dx + r)] * k1[static_cast<std::size_t>(dy + r)] /
           (norm * norm);
    }
    ASSERT_NEAR(f.expected[static_cast<std::size_t>(l)], v * per_event, 1e-12) << l;
  }
}

TEST(Kde, ACellsValueDoesNotDependOnTheGridWindow) {
  // Same cells asked for through a big and a small window: identical numbers, for every
  // model whose parameters do not depend on the window.
  const std::int64_t t = At("2024-01-01T00:00:00Z");
  const History h = RandomHistory(3000, 0, 5000, 4, t);
  auto big = *spatial::Grid::Create(27700, 100, 0, 0, 50, 50);
  auto small = *spatial::Grid::Create(27700, 100, 17, 22, 6, 4);
  const std::vector<std::pair<std::string, ModelOptions>> cases = {
      {"naive-all", {}},
      {"naive-decay", {}},
      {"kde", {{{"bandwidth_m", 350}}, 0}},
      {"kde", {{{"bandwidth_m", 250}, {"kernel", 1}}, 0}},
      {"prospective", {}}};
  for (const auto& [name, opt] : cases) {
    SCOPED_TRACE(name);
    const Forecast fb = Predict(name, opt, h, big, t);
    const Forecast fs = Predict(name, opt, h, small, t);
    for (std::int64_t l = 0; l < small.cell_count(); ++l) {
      const std::int64_t lb = big.LocalOf(small.IndexOfLocal(l));
      ASSERT_GE(lb, 0);
      EXPECT_DOUBLE_EQ(fs.expected[static_cast<std::size_t>(l)],
                       fb.expected[static_cast<std::size_t>(lb)]);
    }
  }
}

TEST(Kde, HoldOutSelectionPrefersTheClusterScale) {
  // Events in tight clusters (sd 60 m) that persist over time: the hold-out likelihood must
  // prefer a narrow kernel to the widest candidate, and record how it chose.
  const std::int64_t t = At("2024-01-01T00:00:00Z");
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> centre(1000, 9000), age(1, 720 * kDay);
  std::normal_distribution<double> jitter(0, 60);
  std::vector<std::pair<double, double>> centres;
  for (int c = 0; c < 40; ++c) centres.emplace_back(centre(rng), centre(rng));
  storage::PointColumns p;
  for (int i = 0; i < 4000; ++i) {
    const auto& c = centres[static_cast<std::size_t>(i % 40)];
    Add(p, c.first + jitter(rng), c.second + jitter(rng), t - static_cast<std::int64_t>(age(rng)));
  }
  HistoryOptions o;
  o.cutoff = TimePoint{Seconds{t}};
  auto h = BuildHistory(p, o);
  auto g = *spatial::Grid::Create(27700, 50, 0, 0, 200, 200);
  const Forecast f = Predict("kde", {}, *h, g, t);
  const double bw = f.parameters.at("bandwidth_m");
  EXPECT_GE(bw, 25);
  EXPECT_LE(bw, 200);
  bool noted = false;
  for (const auto& n : f.notes) noted |= n.find("hold-out") != std::string::npos;
  EXPECT_TRUE(noted);
  // The rules of thumb see the 8 km spread of cluster centres and smooth far more.
  EXPECT_GT(ScottBandwidth(*h), 4 * bw / 2.78);
}

TEST(Kde, RulesOfThumbOnHandPoints) {
  // Four points on a 2 km square: each coordinate has variance 4/3 km^2 (n - 1 = 3), so
  // Scott = sqrt(4/3) km x 4^(-1/6). IQR / 1.349 is smaller than the sd here:
  // quantiles of {0, 0, 2, 2} km at 0.25 and 0.75 (nearest rank) are 0 and 2 -> IQR 2 km,
  // 2 / 1.349 = 1.4826 km > sd = 1.1547 km, so Silverman uses the sd too.
  storage::PointColumns p;
  Add(p, 0, 0, 100);
  Add(p, 0, 2000, 100);
  Add(p, 2000, 0, 100);
  Add(p, 2000, 2000, 100);
  HistoryOptions o;
  o.cutoff = TimePoint{Seconds{1000}};
  auto h = BuildHistory(p, o);
  const double want = std::sqrt(4.0 / 3.0) * 1000 * std::pow(4.0, -1.0 / 6);
  EXPECT_NEAR(ScottBandwidth(*h), want, 1e-9);
  EXPECT_NEAR(SilvermanBandwidth(*h), want, 1e-9);
}

TEST(Kde, MonthOnlyHistoryWithRuleSelection) {
  storage::PointColumns p;
  for (int i = 0; i < 50; ++i) AddMonth(p, 100.0 * (i % 7), 100.0 * (i % 5), "2023-05");
  HistoryOptions o;
  o.cutoff = ParseMonth("2023-06")->start;
  auto h = BuildHistory(p, o);
  auto g = *spatial::Grid::Create(27700, 100, -20, -20, 50, 50);
  // One month of history: too short for a hold-out; falls back to Silverman and says so.
  auto m = CreateModel("kde");
  auto f = (*m)->Predict(*h, {g, ParseMonth("2023-06")->start, {0, 1}});
  ASSERT_TRUE(f);
  bool fell_back = false;
  for (const auto& n : f->notes) fell_back |= n.find("Silverman") != std::string::npos;
  EXPECT_TRUE(fell_back);
  const double total = std::accumulate(f->expected.begin(), f->expected.end(), 0.0);
  EXPECT_NEAR(total, 50.0 * 30 / 31, 0.5);  // June 30 days / May 31 days, little leaves the grid
}

TEST(Kde, RejectsBadParametersAndOversizedStencils) {
  EXPECT_FALSE(CreateModel("kde", {{{"kernel", 2}}, 0}));
  EXPECT_FALSE(CreateModel("kde", {{{"bandwidth_rule", 5}}, 0}));
  EXPECT_FALSE(CreateModel("kde", {{{"bandwith_m", 100}}, 0}));
  const std::int64_t t = At("2024-01-01T00:00:00Z");
  const History h = RandomHistory(10, 0, 100, 6, t);
  auto g = *spatial::Grid::Create(27700, 5, 0, 0, 4, 4);
  auto m = CreateModel("kde", {{{"bandwidth_m", 5000}}, 0});
  auto f = (*m)->Predict(h, {g, TimePoint{Seconds{t}}, {kDay, 0}});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::kOutOfRange);
}

}  // namespace
}  // namespace crimecast::models
