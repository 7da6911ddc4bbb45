#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/models/history.hpp"
#include "core/models/model.hpp"
#include "core/models/model_test_util.hpp"
#include "support/ascii_grid.hpp"

namespace crimecast::models {
namespace {

using testutil::Add;
using testutil::At;

constexpr std::int64_t kDay = 86400;

// A 5 x 5 grid of 100 m cells at the origin; bandwidth 250 m (2.5 cells), 8 weeks.
// Events at cell centres, T = 2024-03-01:
//   A in cell (2,2),   3 days old  -> week 0, time weight 1
//   B in cell (3,2),  10 days old  -> week 1, time weight 1/2
//   C in cell (2,2),  60 days old  -> week 8: outside the 8-week bandwidth
//   D far away (cell (40,40)), 200 days old: only widens the observation window
// Space weights 1/(1+d), d in cells between centres, d < 2.5:
//   d=0: 1   d=1: 1/2   d=sqrt2: 1/(1+1.41421)=0.41421   d=2: 1/3   d=sqrt5: 0.30902
// Hand-computed risk (sum over A and B of space x time weight):
//   (2,2): A d=0 -> 1;        B d=1 -> 1/2 x 1/2 = 0.25         => 1.25
//   (3,2): A d=1 -> 0.5;      B d=0 -> 0.5                      => 1.0
//   (4,2): A d=2 -> 0.33333;  B d=1 -> 0.25                     => 0.58333
//   (2,4): A d=2 -> 0.33333;  B d=sqrt5 -> 0.30902 x 0.5        => 0.48784
//   (0,0): A d=sqrt8 >= 2.5;  B d=sqrt13                        => 0
//   (4,4): A d=sqrt8 (out);   B d=sqrt5 -> 0.15451              => 0.15451
//   (1,1): A d=sqrt2 -> 0.41421; B d=sqrt5 -> 0.15451           => 0.56872
// Calibration: 2 events in the 8-week box (A, B) over 56 days -> 2/56 per day; a 7-day
// horizon expects 0.25 events in all. Every event spreads total weight (time weight x stencil
// sum S) over space, S = 1 + 4(1/2) + 4(0.41421) + 4(1/3) + 8(0.30902) = 8.46232, so
// expected = risk x 0.25 / (1.5 x S).
TEST(Prospective, MatchesTheHandComputedGrid) {
  const std::int64_t t = At("2024-03-01T00:00:00Z");
  storage::PointColumns p;
  Add(p, 250, 250, t - 3 * kDay);
  Add(p, 350, 250, t - 10 * kDay);
  Add(p, 250, 250, t - 60 * kDay);
  Add(p, 4050, 4050, t - 200 * kDay);
  HistoryOptions o;
  o.cutoff = TimePoint{Seconds{t}};
  auto h = BuildHistory(p, o);
  ASSERT_TRUE(h);
  auto g = *spatial::Grid::Create(27700, 100, 0, 0, 5, 5);
  auto m = CreateModel("prospective", {{{"bandwidth_m", 250}, {"bandwidth_weeks", 8}}, 0});
  ASSERT_TRUE(m);
  auto f = (*m)->Predict(*h, {g, TimePoint{Seconds{t}}, {7 * kDay, 0}});
  ASSERT_TRUE(f) << f.error().message;
  const double s = 1 + 4 * 0.5 + 4 / (1 + std::sqrt(2.0)) + 4.0 / 3 + 8 / (1 + std::sqrt(5.0));
  EXPECT_NEAR(s, 8.46232, 1e-5);
  const double scale = 0.25 / (1.5 * s);
  auto at = [&](int ix, int iy) { return f->expected[static_cast<std::size_t>(iy * 5 + ix)]; };
  EXPECT_NEAR(at(2, 2), 1.25 * scale, 1e-12);
  EXPECT_NEAR(at(3, 2), 1.0 * scale, 1e-12);
  EXPECT_NEAR(at(4, 2), (1.0 / 3 + 0.25) * scale, 1e-12);
  EXPECT_NEAR(at(2, 4), (1.0 / 3 + 0.5 / (1 + std::sqrt(5.0))) * scale, 1e-12);
  EXPECT_NEAR(at(0, 0), 0.0, 1e-15);
  EXPECT_NEAR(at(4, 4), 0.5 / (1 + std::sqrt(5.0)) * scale, 1e-12);
  EXPECT_NEAR(at(1, 1), (1 / (1 + std::sqrt(2.0)) + 0.5 / (1 + std::sqrt(5.0))) * scale, 1e-12);
  // The whole grid, hand-computed in thousandths of the raw risk (north at the top):
  //   (1,2): A at d=1 -> 0.5, B at d=2 -> 0.5/3 = 0.1667: 667;  (4,3): A at d=sqrt5 -> 0.3090,
  //   B at d=sqrt2 -> 0.5 x 0.4142 = 0.2071: 516;  (1,4): A at d=sqrt5 -> 309, B out of reach.
  const auto want = testing::ParseAsciiGrid(R"(
      .  309  488  476  155
    309  569  707  664  516
    333  667 1250 1000  583
    309  569  707  664  516
      .  309  488  476  155
  )");
  ASSERT_TRUE(want);
  ASSERT_EQ(want->nx, 5);
  for (std::size_t l = 0; l < 25; ++l) {
    EXPECT_EQ(std::lround(f->expected[l] / scale * 1000), want->counts[l]) << "cell " << l;
  }
  EXPECT_NEAR(f->parameters.at("expected_total_all_space"), 0.25, 1e-12);
  EXPECT_EQ(f->recent, f->expected);
}

TEST(Prospective, AgreesWithADirectSumOverEventsAndCells) {
  // Random events; the binned-stencil result must equal the definition evaluated directly.
  const std::int64_t t = At("2023-06-01T00:00:00Z");
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> ux(-300, 2300), age(0, 90 * kDay);
  storage::PointColumns p;
  for (int i = 0; i < 400; ++i) {
    Add(p, ux(rng), ux(rng), t - 1 - static_cast<std::int64_t>(age(rng)));
  }
  HistoryOptions o;
  o.cutoff = TimePoint{Seconds{t}};
  auto h = BuildHistory(p, o);
  auto g = *spatial::Grid::Create(27700, 50, 0, 0, 40, 40);
  for (int distance : {0, 1}) {
    SCOPED_TRACE(distance);
    auto m = CreateModel("prospective", {{{"distance", distance}}, 0});  // 400 m, 8 weeks
    auto f = (*m)->Predict(*h, {g, TimePoint{Seconds{t}}, {7 * kDay, 0}});
    ASSERT_TRUE(f);
    std::vector<double> direct(static_cast<std::size_t>(g.cell_count()), 0.0);
    double time_total = 0;
    double recent = 0;
    for (std::size_t i = 0; i < h->size(); ++i) {
      const std::int64_t weeks = (t - h->t_start[i]) / (7 * kDay);
      if (weeks >= 8) continue;
      const double tw = 1.0 / (1.0 + static_cast<double>(weeks));
      time_total += tw;
      recent += 1;
      const auto ex = static_cast<std::int64_t>(std::floor(h->x[i] / 50));
      const auto ey = static_cast<std::int64_t>(std::floor(h->y[i] / 50));
      for (std::int64_t l = 0; l < g.cell_count(); ++l) {
        const spatial::CellIndex c = g.IndexOfLocal(l);
        const double dx = static_cast<double>(c.ix - ex);
        const double dy = static_cast<double>(c.iy - ey);
        const double d = distance == 1 ? std::max(std::abs(dx), std::abs(dy)) : std::hypot(dx, dy);
        if (d < 8.0) direct[static_cast<std::size_t>(l)] += tw / (1.0 + d);
      }
    }
    // Stencil sum for the scale.
    double s = 0;
    for (int dy = -8; dy <= 8; ++dy) {
      for (int dx = -8; dx <= 8; ++dx) {
        const double d = distance == 1 ? std::max(std::abs(dx), std::abs(dy)) : std::hypot(dx, dy);
        if (d < 8.0) s += 1.0 / (1.0 + d);
      }
    }
    const double scale = recent / 56.0 * 7.0 / (time_total * s);
    for (std::size_t l = 0; l < direct.size(); ++l) {
      ASSERT_NEAR(f->expected[l], direct[l] * scale, 1e-12) << l;
    }
  }
}

TEST(Prospective, FallsBackToNaiveWhenNothingIsRecent) {
  const std::int64_t t = At("2024-03-01T00:00:00Z");
  storage::PointColumns p;
  Add(p, 50, 50, t - 100 * kDay);
  HistoryOptions o;
  o.cutoff = TimePoint{Seconds{t}};
  auto h = BuildHistory(p, o);
  auto g = *spatial::Grid::Create(27700, 100, 0, 0, 2, 2);
  auto m = CreateModel("prospective");
  auto f = (*m)->Predict(*h, {g, TimePoint{Seconds{t}}, {7 * kDay, 0}});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->model, "prospective");
  EXPECT_EQ(f->model_used, "naive-all");
  ASSERT_FALSE(f->notes.empty());
  EXPECT_NE(f->notes.back().find("fell back"), std::string::npos);
  EXPECT_GT(f->expected[0], 0);
}

TEST(Prospective, RefusesAHugeStencil) {
  const std::int64_t t = At("2024-03-01T00:00:00Z");
  storage::PointColumns p;
  Add(p, 50, 50, t - kDay);
  HistoryOptions o;
  o.cutoff = TimePoint{Seconds{t}};
  auto h = BuildHistory(p, o);
  auto g = *spatial::Grid::Create(27700, 10, 0, 0, 2, 2);
  auto m = CreateModel("prospective", {{{"bandwidth_m", 5000}}, 0});
  auto f = (*m)->Predict(*h, {g, TimePoint{Seconds{t}}, {7 * kDay, 0}});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::kOutOfRange);
}

}  // namespace
}  // namespace crimecast::models
