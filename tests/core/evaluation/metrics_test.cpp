#include "core/evaluation/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "support/ascii_grid.hpp"

namespace crimecast::evaluation {
namespace {

// A drawing (tests/support/ascii_grid.hpp: north at the top, '.' zero, '#' masked) as values in
// local cell order; masked cells are listed in *masked.
std::vector<double> ParseAscii(std::string_view drawing, std::int64_t* nx = nullptr,
                               std::vector<std::int64_t>* masked = nullptr) {
  auto g = testing::ParseAsciiGrid(drawing);
  EXPECT_TRUE(g) << g.error().message;
  if (!g) return {};
  if (nx) *nx = g->nx;
  if (masked) {
    for (std::size_t i = 0; i < g->masked.size(); ++i) {
      if (g->masked[i]) masked->push_back(static_cast<std::int64_t>(i));
    }
  }
  return {g->counts.begin(), g->counts.end()};
}

// The worked example of docs/evaluation.md. A 4 x 3 grid, every cell active (A = 12), N = 8.
//
//   predicted        observed
//   . 1 . 4          . . 1 2
//   2 . 3 .          1 . . .
//   . 1 . 5          3 . . 1
//
// Ranking (predicted desc): 5 (obs 1), 4 (obs 2), 3 (obs 0), 2 (obs 1), then a tie group of
// two 1s (obs 0, 0), then a tie group of six 0s (obs 3, 0, 0, 0, 0, 1 = 4 events).
// Observed counts sorted desc (perfect foresight): 3 2 1 1 1 0 0 ..., 5 cells hold events.
constexpr const char* kPredicted = R"(
  . 1 . 4
  2 . 3 .
  . 1 . 5
)";
constexpr const char* kObserved = R"(
  . . 1 2
  1 . . .
  3 . . 1
)";

struct Example {
  std::vector<double> predicted = ParseAscii(kPredicted);
  std::vector<double> observed = ParseAscii(kObserved);
  std::vector<std::int64_t> active = [] {
    std::vector<std::int64_t> a(12);
    std::iota(a.begin(), a.end(), 0);
    return a;
  }();
};

TEST(Metrics, HandWorkedHitRatePaiPei) {
  Example ex;
  // k = 1, 3, 6, 9, 12 cells.
  const std::vector<double> coverages = {1.0 / 12, 0.25, 0.5, 0.75, 1.0};
  ScoreInput in{ex.predicted, ex.observed, ex.active, 0.01, coverages};
  auto s = Score(in);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->active_cells, 12);
  EXPECT_DOUBLE_EQ(s->active_km2, 0.12);
  EXPECT_DOUBLE_EQ(s->events_total, 8);
  EXPECT_DOUBLE_EQ(s->events_active, 8);
  EXPECT_DOUBLE_EQ(s->predicted_total_grid, 16);  // 1+4+2+3+1+5
  ASSERT_EQ(s->coverage.size(), 5u);
  struct Want {
    double k, hits, perfect, a_star;
  };
  // k=1: the 5 (obs 1); n* = 3.
  // k=3: 5, 4, 3 -> 1+2+0 = 3; n* = 3+2+1 = 6.
  // k=6: 5,4,3,2 and the whole tie group of 1s -> 4; n* = 8; a* = 5 cells hold all 8.
  // k=9: the above plus 3 of the six tied 0-cells -> 4 + 4 * 3/6 = 6; n* = 8, a* = 5.
  // k=12: all 8.
  const Want want[] = {{1, 1, 3, 1}, {3, 3, 6, 3}, {6, 4, 8, 5}, {9, 6, 8, 5}, {12, 8, 8, 5}};
  for (std::size_t i = 0; i < 5; ++i) {
    const CoverageScore& c = s->coverage[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(static_cast<double>(c.cells), want[i].k);
    EXPECT_DOUBLE_EQ(c.hits, want[i].hits);
    EXPECT_DOUBLE_EQ(c.hit_rate, want[i].hits / 8);
    EXPECT_DOUBLE_EQ(c.area_fraction, want[i].k / 12.0);
    EXPECT_DOUBLE_EQ(c.pai, (want[i].hits / 8) / (want[i].k / 12.0));
    EXPECT_DOUBLE_EQ(c.perfect_hits, want[i].perfect);
    EXPECT_DOUBLE_EQ(c.perfect_cells, want[i].a_star);
    EXPECT_DOUBLE_EQ(c.pei, want[i].hits / want[i].perfect);
    EXPECT_DOUBLE_EQ(c.pei_star, (want[i].hits / want[i].perfect) * want[i].a_star / want[i].k);
  }
  // Spelled out: PAI at k=1 is (1/8)/(1/12) = 1.5; PEI* at k=6 is (4/8)*(5/6) = 0.41667.
  EXPECT_DOUBLE_EQ(s->coverage[0].pai, 1.5);
  EXPECT_NEAR(s->coverage[2].pei_star, 0.416667, 1e-6);
}

TEST(Metrics, HandWorkedPoissonLogLikelihood) {
  Example ex;
  ScoreInput in{ex.predicted, ex.observed, ex.active, 0.01};
  auto s = Score(in);
  ASSERT_TRUE(s);
  const double e = kLogLikelihoodFloor;
  // Cell by cell: y log(mu) - mu - log(y!), mu floored at 1e-6.
  const double ll = (3 * std::log(e) - e - std::log(6.0))      // predicted 0, observed 3
                    + (-1) + (-1)                              // two cells predicted 1, none seen
                    + (std::log(5.0) - 5)                      // 5 predicted, 1 seen
                    + (std::log(2.0) - 2)                      // 2 predicted, 1 seen
                    + (-3)                                     // 3 predicted, none seen
                    + (std::log(e) - e)                        // 0 predicted, 1 seen
                    + (2 * std::log(4.0) - 4 - std::log(2.0))  // 4 predicted, 2 seen
                    + 4 * (-e);                                // four empty cells predicted 0
  EXPECT_NEAR(s->log_likelihood, ll, 1e-9);
  EXPECT_NEAR(s->log_likelihood, -68.671781, 1e-5);
  EXPECT_NEAR(s->log_likelihood_per_event, ll / 8, 1e-9);
}

TEST(Metrics, HandWorkedCalibrationDeciles) {
  Example ex;
  ScoreInput in{ex.predicted, ex.observed, ex.active, 0.01};
  auto s = Score(in);
  ASSERT_TRUE(s);
  // 12 cells in 10 bins: bins 5 and 10 hold two cells, the others one. Rank order (predicted
  // desc, ties by cell number): c3 c11 c6 c4 | c1 c9 | c0 c2 c5 c7 | c8 c10.
  ASSERT_EQ(s->calibration.size(), 10u);
  EXPECT_EQ(s->calibration[0].cells, 1);
  EXPECT_DOUBLE_EQ(s->calibration[0].mean_predicted, 5);
  EXPECT_DOUBLE_EQ(s->calibration[0].mean_observed, 1);
  EXPECT_DOUBLE_EQ(s->calibration[1].mean_observed, 2);
  EXPECT_EQ(s->calibration[4].cells, 2);  // c1, c9
  EXPECT_DOUBLE_EQ(s->calibration[4].mean_predicted, 1);
  EXPECT_DOUBLE_EQ(s->calibration[4].mean_observed, 0);
  EXPECT_DOUBLE_EQ(s->calibration[5].mean_observed, 3);  // c0
  EXPECT_EQ(s->calibration[9].cells, 2);                 // c8, c10
  EXPECT_DOUBLE_EQ(s->calibration[9].mean_observed, 0.5);
  double pred = 0, obs = 0;
  for (const auto& b : s->calibration) {
    pred += b.sum_predicted;
    obs += b.sum_observed;
  }
  EXPECT_DOUBLE_EQ(pred, 16);
  EXPECT_DOUBLE_EQ(obs, 8);
}

TEST(Metrics, MaskedCellsCountInTotalButNeverHit) {
  // '#' cells are outside the active area. Their 3 events count in N (= 6) but cannot be hits.
  std::vector<std::int64_t> masked;
  std::int64_t nx = 0;
  const auto predicted = ParseAscii(R"(
    9 . 2
    # 1 .
  )",
                                    &nx, &masked);
  const auto observed = ParseAscii(R"(
    2 . 1
    3 . .
  )");
  ASSERT_EQ(masked, std::vector<std::int64_t>{0});
  std::vector<std::int64_t> active;
  for (std::int64_t i = 0; i < 6; ++i) {
    if (i != 0) active.push_back(i);
  }
  const std::vector<double> cov = {0.2, 0.4, 1.0};  // k = 1, 2, 5 of A = 5
  auto s = Score({predicted, observed, active, 1.0, cov});
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->events_total, 6);
  EXPECT_DOUBLE_EQ(s->events_active, 3);
  EXPECT_DOUBLE_EQ(s->coverage[0].hit_rate, 2.0 / 6);  // the 9
  EXPECT_DOUBLE_EQ(s->coverage[1].hit_rate, 3.0 / 6);  // 9, 2
  EXPECT_DOUBLE_EQ(s->coverage[2].hit_rate, 3.0 / 6);  // the ceiling: events in the area
}

TEST(Metrics, TiesAreSplitProportionallyWhateverTheCellOrder) {
  // Everything tied: the top k of A cells are credited with k/A of the events, whichever
  // cells carry them, so numbering the cells differently cannot change a score.
  const std::vector<double> predicted(10, 0.3);
  std::vector<double> observed(10, 0.0);
  observed[0] = 4;  // the lowest-numbered cell holds every event
  std::vector<std::int64_t> active(10);
  std::iota(active.begin(), active.end(), 0);
  const std::vector<double> cov = {0.1, 0.3};
  auto s = Score({predicted, observed, active, 1.0, cov});
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->coverage[0].hit_rate, 0.1);
  EXPECT_DOUBLE_EQ(s->coverage[1].hit_rate, 0.3);
  std::vector<double> moved(10, 0.0);
  moved[9] = 4;
  auto s2 = Score({predicted, moved, active, 1.0, cov});
  ASSERT_TRUE(s2);
  EXPECT_DOUBLE_EQ(s2->coverage[0].hit_rate, 0.1);
  EXPECT_DOUBLE_EQ(s2->coverage[1].hit_rate, 0.3);
}

TEST(Metrics, StandardCoveragesRoundToWholeCells) {
  // A = 150: 1 % -> round(1.5) = 2 cells, 2 % -> 3, 5 % -> round(7.5) = 8, 10 % -> 15, 20 % -> 30.
  std::vector<double> predicted(150), observed(150, 0.0);
  for (int i = 0; i < 150; ++i) predicted[static_cast<std::size_t>(i)] = 150 - i;
  observed[0] = 1;
  std::vector<std::int64_t> active(150);
  std::iota(active.begin(), active.end(), 0);
  auto s = Score({predicted, observed, active, 1.0});
  ASSERT_TRUE(s);
  const std::int64_t want[] = {2, 3, 8, 15, 30};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(s->coverage[static_cast<std::size_t>(i)].cells, want[i]);
}

TEST(Metrics, NoEventsGivesZeroHitRateAndUndefinedPei) {
  std::vector<double> predicted = {1, 2, 3}, observed = {0, 0, 0};
  std::vector<std::int64_t> active = {0, 1, 2};
  auto s = Score({predicted, observed, active, 1.0});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->coverage[0].hit_rate, 0);
  EXPECT_TRUE(std::isnan(s->coverage[0].pei));
  EXPECT_TRUE(std::isnan(s->coverage[0].pei_star));
  EXPECT_TRUE(std::isnan(s->log_likelihood_per_event));
}

TEST(Metrics, RejectsBadInput) {
  std::vector<double> p = {1, 2}, o = {0, 1}, short_o = {0};
  std::vector<std::int64_t> active = {0, 1}, outside = {0, 2}, twice = {1, 1}, none;
  EXPECT_EQ(Score({p, short_o, active, 1.0}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Score({p, o, outside, 1.0}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Score({p, o, twice, 1.0}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Score({p, o, none, 1.0}).error().code, ErrorCode::kInvalidArgument);
  std::vector<double> neg = {-1, 2}, nan = {NAN, 1};
  EXPECT_FALSE(Score({neg, o, active, 1.0}));
  EXPECT_FALSE(Score({p, nan, active, 1.0}));
  const std::vector<double> bad_cov = {0.0};
  EXPECT_FALSE(Score({p, o, active, 1.0, bad_cov}));
}

TEST(Metrics, CurveMatchesScoreAtTheSameLevels) {
  Example ex;
  const std::vector<double> cov = {1.0 / 12, 0.25, 0.5, 0.75, 1.0};
  ScoreInput in{ex.predicted, ex.observed, ex.active, 0.01, cov};
  auto s = Score(in);
  auto curve = HitRateCurve(in, cov);
  ASSERT_TRUE(s && curve);
  for (std::size_t i = 0; i < cov.size(); ++i) {
    EXPECT_DOUBLE_EQ((*curve)[i], s->coverage[i].hit_rate);
  }
}

TEST(Metrics, CellsWithPointsListsOccupiedCells) {
  auto g = spatial::Grid::Create(27700, 100, 0, 0, 3, 2);
  ASSERT_TRUE(g);
  const std::vector<double> x = {50, 150, 160, 250, 999, -1};
  const std::vector<double> y = {50, 150, 120, 50, 50, 50};
  EXPECT_EQ(CellsWithPoints(*g, x, y), (std::vector<std::int64_t>{0, 2, 4}));
}

}  // namespace
}  // namespace crimecast::evaluation
