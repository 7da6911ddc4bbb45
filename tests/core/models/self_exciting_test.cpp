// Tests of the self-exciting models: kernel algebra against numerical integration, the
// linear-time E-step against explicit pairs, a hand-worked example, parameter recovery on
// processes simulated with known parameters, honest fallbacks, calibration and the model
// contract (no look-ahead, options, harm weights).
#include "core/models/self_exciting.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/models/baselines.hpp"
#include "core/models/etas_grid.hpp"
#include "core/models/self_exciting_common.hpp"
#include "core/models/sepp.hpp"
#include "core/simulate/output.hpp"
#include "core/simulate/simulate.hpp"
#include "support/self_exciting_fixtures.hpp"

namespace crimecast::models {
namespace {

using self_exciting::MeanExp;
using self_exciting::MeanOffset;
using self_exciting::SameIntervalDelayMoment;
using self_exciting::SameIntervalKernel;
using testing::Simulate;
using testing::SimulatedCase;

// Midpoint rule on [0, 1] with n points.
template <class F>
double Integrate01(F f, int n = 200000) {
  double acc = 0;
  for (int i = 0; i < n; ++i) acc += f((i + 0.5) / n);
  return acc / n;
}

TEST(SelfExcitingKernels, IntervalAveragesMatchNumericalIntegration) {
  for (double length : {1.0 / 86400, 0.5, 30.0}) {
    for (double omega : {1e-3, 0.2, 2.0, 40.0}) {
      const double x = omega * length;
      // G: E[e^{-w u}], u ~ U[0, L].
      const double g = Integrate01([&](double s) { return std::exp(-x * s); });
      EXPECT_NEAR(MeanExp(x), g, 1e-8 * std::max(1.0, g)) << x;
      // C: E[u e^{-w u}] / E[e^{-w u}].
      const double c = length * Integrate01([&](double s) { return s * std::exp(-x * s); }) / g;
      EXPECT_NEAR(MeanOffset(length, omega), c, 1e-6 * length) << x;
      // K1 and M1: t_i, t_j iid U[0, L], ordered pairs; d = t_i - t_j has density 2(1 - s) on
      // (0, 1) (in units of L) restricted to half the pairs, hence the factor 1/2.
      const double k1 = 0.5 * Integrate01([&](double s) { return 2 * (1 - s) * std::exp(-x * s); });
      const double m1 =
          0.5 * length * Integrate01([&](double s) { return 2 * (1 - s) * s * std::exp(-x * s); });
      EXPECT_NEAR(SameIntervalKernel(x), k1, 1e-7) << x;
      EXPECT_NEAR(SameIntervalDelayMoment(length, omega), m1, 1e-7 * length) << x;
    }
  }
}

TEST(SelfExcitingKernels, CascadeFactorsSolveTheIntensityOde) {
  // m(t) = mu + theta w g(t), g' = m - w g, g(0) = R: integrate numerically over [0, h].
  const double mu = 3, r = 2.5, theta = 0.6, omega = 0.4, h = 9;
  double g = r, integral = 0;
  const int steps = 2000000;
  const double dt = h / steps;
  for (int i = 0; i < steps; ++i) {  // RK2 (midpoint)
    const double m1 = mu + theta * omega * g;
    const double g_mid = g + 0.5 * dt * (m1 - omega * g);
    const double m_mid = mu + theta * omega * g_mid;
    integral += dt * m_mid;
    g += dt * (m_mid - omega * g_mid);
  }
  const double model = mu * self_exciting::BackgroundFactor(theta, omega, h) +
                       r * self_exciting::RecentFactor(theta, omega, h);
  EXPECT_NEAR(model, integral, 1e-6 * integral);
  EXPECT_DOUBLE_EQ(self_exciting::BackgroundFactor(0, omega, h), h);
  EXPECT_DOUBLE_EQ(self_exciting::RecentFactor(0, omega, h), 0);
}

// A hand-made history mixing exact times, ties, and month intervals, in two cells.
History MixedHistory() {
  History h;
  auto add = [&](double x, std::int64_t start, std::int64_t end) {
    h.x.push_back(x);
    h.y.push_back(50);
    h.t_start.push_back(start);
    h.t_end.push_back(end);
    h.category.push_back(Category::kBurglary);
    h.weight.push_back(1);
    h.id.push_back(static_cast<std::int64_t>(h.x.size()));
  };
  const std::int64_t jan = CivilToUtc({2024, 1, 1}).time_since_epoch().count();
  const std::int64_t feb = CivilToUtc({2024, 2, 1}).time_since_epoch().count();
  const std::int64_t mar = CivilToUtc({2024, 3, 1}).time_since_epoch().count();
  for (int k = 0; k < 3; ++k) add(10, jan, feb);  // three in January (cell 0)
  add(20, feb, mar);                              // one in February
  add(30, feb + 86400 * 3, feb + 86400 * 3 + 1);  // exact times, one tie
  add(40, feb + 86400 * 3, feb + 86400 * 3 + 1);
  add(45, feb + 86400 * 10 + 7200, feb + 86400 * 10 + 7201);
  add(150, jan + 86400 * 5, jan + 86400 * 5 + 1);  // cell 1
  add(160, jan + 86400 * 6, jan + 86400 * 6 + 1);
  add(170, jan + 86400 * 6 + 30, jan + 86400 * 6 + 31);
  return h;
}

TEST(EtasGrid, RecursiveEStepEqualsExplicitPairs) {
  const History h = MixedHistory();
  const TimePoint at = CivilToUtc({2024, 3, 15});  // clips nothing; March is empty
  auto prepared = self_exciting::PrepareEvents(h, at, 0);
  ASSERT_TRUE(prepared);
  auto grid = spatial::Grid::Create(27700, 100, 0, 0, 2, 1);
  ASSERT_TRUE(grid);
  const etas::CellEvents ce = etas::BuildCellEvents(*prepared, *grid);
  ASSERT_EQ(ce.cells(), 2u);
  ASSERT_EQ(ce.size(), h.size());
  for (double omega : {0.01, 0.3, 5.0}) {
    const std::vector<double> mu = {0.05, 0.2};
    const auto fast = etas::EStep(ce, mu, 0.4, omega);
    const auto slow = etas::EStepNaive(ce, mu, 0.4, omega);
    EXPECT_NEAR(fast.triggered, slow.triggered, 1e-9 * slow.triggered) << omega;
    EXPECT_NEAR(fast.delay, slow.delay, 1e-9 * slow.delay) << omega;
    EXPECT_NEAR(fast.sum_log_intensity, slow.sum_log_intensity, 1e-9) << omega;
    EXPECT_NEAR(fast.trigger_mass, slow.trigger_mass, 1e-9) << omega;
    EXPECT_NEAR(fast.boundary_delay, slow.boundary_delay, 1e-9 * slow.boundary_delay) << omega;
    for (std::size_t c = 0; c < 2; ++c) {
      EXPECT_NEAR(fast.cell_background[c], slow.cell_background[c], 1e-9) << omega;
    }
  }
}

TEST(EtasGrid, HandWorkedTwoEvents) {
  // One cell, events at day 0 and day 1 (timestamps), T = day 2, mu = 0.5, theta = 0.5,
  // omega = 1: lambda_1 = 0.5, lambda_2 = 0.5 + 0.5 e^-1 = 0.683940.
  History h;
  const std::int64_t t0 = CivilToUtc({2024, 5, 1}).time_since_epoch().count();
  for (int d = 0; d < 2; ++d) {
    h.x.push_back(5);
    h.y.push_back(5);
    h.t_start.push_back(t0 + 86400 * d);
    h.t_end.push_back(t0 + 86400 * d + 1);
    h.category.push_back(Category::kBurglary);
    h.weight.push_back(1);
    h.id.push_back(d);
  }
  auto prepared = self_exciting::PrepareEvents(h, CivilToUtc({2024, 5, 3}), 0);
  ASSERT_TRUE(prepared);
  auto grid = spatial::Grid::Create(27700, 100, 0, 0, 1, 1);
  const etas::CellEvents ce = etas::BuildCellEvents(*prepared, *grid);
  const std::vector<double> mu = {0.5};
  const auto s = etas::EStep(ce, mu, 0.5, 1.0);
  const double l2 = 0.5 + 0.5 * std::exp(-1.0);
  // One-second intervals shift the kernel by ~1e-5 relative; the tolerance covers it.
  EXPECT_NEAR(s.triggered, 0.5 * std::exp(-1.0) / l2, 1e-4);
  EXPECT_NEAR(s.cell_background[0], 1 + 0.5 / l2, 1e-4);
  EXPECT_NEAR(s.sum_log_intensity, std::log(0.5) + std::log(l2), 1e-4);
  EXPECT_NEAR(s.trigger_mass, (1 - std::exp(-2.0)) + (1 - std::exp(-1.0)), 1e-4);
  EXPECT_NEAR(s.delay, 0.5 * std::exp(-1.0) * 1.0 / l2, 1e-4);
}

TEST(EtasGrid, RecoversParametersOnTimestampedData) {
  // Cells of 1 km and sigma 30 m: most offspring stay in their parent's cell. Grid ETAS
  // measures the in-cell branching ratio, which the simulation's true parents give exactly.
  const SimulatedCase sim = Simulate(
      {.mu = 8, .theta = 0.5, .omega = 0.5, .sigma = 30, .days = 300, .cell_m = 1000, .seed = 21});
  auto model = MakeEtasGridModel();
  auto f = model->Predict(sim.history, sim.request);
  ASSERT_TRUE(f) << f.error().ToString();
  EXPECT_EQ(f->model_used, "etas-grid");
  const double in_cell_theta = sim.InCellBranching();
  EXPECT_NEAR(f->parameters["theta"], in_cell_theta, 0.05);
  EXPECT_NEAR(f->parameters["omega_per_day"], 0.5, 0.2 * 0.5);
  // Offspring that left their parent's cell look like background to grid ETAS:
  // mu_grid = mu + (theta - in-cell theta) * (total rate mu / (1 - theta)).
  EXPECT_NEAR(f->parameters["mu_per_day"], 8 + (0.5 - in_cell_theta) * 8 / 0.5, 0.15 * 8);
  EXPECT_EQ(f->parameters["converged"], 1);
  EXPECT_EQ(f->parameters["fallback"], 0);
}

TEST(Sepp, RecoversParametersOnTimestampedData) {
  const SimulatedCase sim = Simulate(
      {.mu = 8, .theta = 0.4, .omega = 0.25, .sigma = 80, .days = 300, .cell_m = 250, .seed = 22});
  auto model = MakeSeppModel();
  auto f = model->Predict(sim.history, sim.request);
  ASSERT_TRUE(f) << f.error().ToString();
  ASSERT_EQ(f->model_used, "sepp") << f->notes.back();
  EXPECT_NEAR(f->parameters["theta"], 0.4, 0.05);
  EXPECT_NEAR(f->parameters["omega_per_day"], 0.25, 0.2 * 0.25);
  EXPECT_NEAR(f->parameters["sigma_m"], 80, 0.2 * 80);
  EXPECT_NEAR(f->parameters["mu_per_day"], 8, 0.15 * 8);
}

TEST(SelfExciting, PurePoissonIsReportedAsWeakClustering) {
  const SimulatedCase sim = Simulate(
      {.mu = 15, .theta = 0, .omega = 0.5, .sigma = 50, .days = 200, .cell_m = 250, .seed = 23});
  for (auto make : {MakeEtasGridModel, MakeSeppModel}) {
    auto f = make({})->Predict(sim.history, sim.request);
    ASSERT_TRUE(f) << f.error().ToString();
    // Either an honest fallback, or a fit that found (almost) no clustering.
    if (f->model_used == "naive-decay") {
      bool weak = false;
      for (const auto& n : f->notes) weak |= n.find("weak clustering") != std::string::npos;
      EXPECT_TRUE(weak) << f->model;
    } else {
      EXPECT_LT(f->parameters["theta"], 0.05) << f->model;
    }
    EXPECT_LT(f->parameters["theta"], 0.05) << f->model;
  }
}

TEST(SelfExciting, DuplicatedTimestampsAreNotNearRepeats) {
  // A Poisson city in which every third record is entered twice (same time, same place), as
  // multi-offence incidents are: simultaneous records must not pass for instant triggering.
  const SimulatedCase sim = Simulate(
      {.mu = 15, .theta = 0, .omega = 0.5, .sigma = 50, .days = 200, .cell_m = 250, .seed = 31});
  History h;
  for (std::size_t i = 0; i < sim.history.size(); ++i) {
    for (int copy = 0; copy < (i % 3 == 0 ? 2 : 1); ++copy) {
      h.x.push_back(sim.history.x[i]);
      h.y.push_back(sim.history.y[i]);
      h.t_start.push_back(sim.history.t_start[i]);
      h.t_end.push_back(sim.history.t_end[i]);
      h.category.push_back(sim.history.category[i]);
      h.weight.push_back(1);
      h.id.push_back(static_cast<std::int64_t>(h.id.size()));
    }
  }
  for (auto make : {MakeEtasGridModel, MakeSeppModel}) {
    auto f = make({})->Predict(h, sim.request);
    ASSERT_TRUE(f) << f.error().ToString();
    EXPECT_LT(f->parameters["theta"], 0.05) << f->model;
    EXPECT_EQ(f->model_used, "naive-decay") << f->model;
  }
}

TEST(SelfExciting, MonthOnlyNearRepeatsFallBackWithANote) {
  // Mean delay 4 days: invisible in monthly data.
  const SimulatedCase sim = Simulate({.mu = 8,
                                      .theta = 0.4,
                                      .omega = 0.25,
                                      .sigma = 80,
                                      .days = 366,
                                      .cell_m = 250,
                                      .seed = 24,
                                      .month_only = true,
                                      .horizon = "1M"});
  for (auto make : {MakeEtasGridModel, MakeSeppModel}) {
    auto f = make({})->Predict(sim.history, sim.request);
    ASSERT_TRUE(f) << f.error().ToString();
    EXPECT_EQ(f->model_used, "naive-decay") << f->model;
    EXPECT_EQ(f->parameters["fallback"], 1);
    bool explained = false;
    for (const auto& note : f->notes) {
      if (note.find("fell back") != std::string::npos &&
          (note.find("month-only") != std::string::npos ||
           note.find("weak clustering") != std::string::npos ||
           note.find("does not decay") != std::string::npos ||
           note.find("did not converge") != std::string::npos)) {
        explained = true;
      }
    }
    EXPECT_TRUE(explained) << f->model << ": " << f->notes.back();
    // The fallback still forecasts: a month of a ~13 events/day city.
    double total = 0;
    for (double v : f->expected) total += v;
    EXPECT_NEAR(total, sim.realised, 0.25 * sim.realised);
  }
}

TEST(Sepp, MonthOnlyDataWithAShortTriggeringWindowFallsBackBeforeFitting) {
  // With months of resolution no mean delay is both >= the resolution and <= max_days / 2, so
  // the model must not spend an EM fit on it; with max_days = 100 it does fit.
  const SimulatedCase sim = Simulate({.mu = 4,
                                      .theta = 0.3,
                                      .omega = 0.25,
                                      .sigma = 80,
                                      .days = 200,
                                      .cell_m = 250,
                                      .seed = 7,
                                      .month_only = true,
                                      .horizon = "1M"});
  // max_days 50: half of it (25 days) is below every month's length, whichever months the
  // simulation spans (with the default 60 it depends on whether the median month has 30 or 31
  // days; Gwent's has 31).
  ModelOptions narrow;
  narrow.params["max_days"] = 50;
  auto f = MakeSeppModel(narrow)->Predict(sim.history, sim.request);
  ASSERT_TRUE(f) << f.error().ToString();
  EXPECT_EQ(f->model_used, "naive-decay");
  EXPECT_EQ(f->parameters.count("iterations"), 0u) << "an EM fit ran";
  bool explained = false;
  for (const auto& note : f->notes)
    explained = explained || note.find("time resolution") != std::string::npos;
  EXPECT_TRUE(explained);
  ModelOptions wide;
  wide.params["max_days"] = 100;
  auto g = MakeSeppModel(wide)->Predict(sim.history, sim.request);
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(g->parameters.count("iterations"), 1u);
}

TEST(EtasGrid, MonthOnlySlowTriggeringIsKeptWithANote) {
  // Mean delay 200 days: resolvable from monthly data, and grid ETAS keeps its fit.
  const SimulatedCase sim = Simulate({.mu = 6,
                                      .theta = 0.7,
                                      .omega = 0.005,
                                      .sigma = 30,
                                      .days = 1096,
                                      .cell_m = 2000,
                                      .seed = 40,
                                      .month_only = true,
                                      .horizon = "1M"});
  ModelOptions options;
  options.params["window_days"] = 1096;
  auto f = MakeEtasGridModel(options)->Predict(sim.history, sim.request);
  ASSERT_TRUE(f) << f.error().ToString();
  ASSERT_EQ(f->model_used, "etas-grid") << f->notes.back();
  EXPECT_NE(f->notes.back().find("month-only"), std::string::npos) << f->notes.back();
  EXPECT_NEAR(f->parameters["mean_delay_days"], 200, 0.4 * 200);
  EXPECT_NEAR(f->parameters["theta"], sim.InCellBranching(), 0.1);
  double total = 0;
  for (double v : f->expected) total += v;
  EXPECT_NEAR(total, sim.realised, 4 * std::sqrt(sim.realised) / (1 - 0.7));
}

TEST(EtasGrid, PredictedTotalsAreCalibrated) {
  // Several forecast origins, 7 days each: predicted vs realised totals over the grid.
  double predicted = 0, realised = 0;
  for (int k = 0; k < 6; ++k) {
    const SimulatedCase sim = Simulate({.mu = 8,
                                        .theta = 0.5,
                                        .omega = 0.5,
                                        .sigma = 30,
                                        .days = 200.0 + 7 * k,
                                        .cell_m = 1000,
                                        .seed = 25,
                                        .simulate_days = 260});
    auto f = MakeEtasGridModel()->Predict(sim.history, sim.request);
    ASSERT_TRUE(f);
    ASSERT_EQ(f->model_used, "etas-grid");
    for (double v : f->expected) predicted += v;
    realised += sim.realised;
  }
  // Realised counts of a cluster process: sd ~ sqrt(N) / (1 - theta).
  EXPECT_NEAR(predicted, realised, 4 * std::sqrt(realised) / 0.5) << predicted << " " << realised;
}

TEST(Sepp, PredictedTotalIsCalibrated) {
  const SimulatedCase sim = Simulate({.mu = 8,
                                      .theta = 0.4,
                                      .omega = 0.25,
                                      .sigma = 80,
                                      .days = 250,
                                      .cell_m = 250,
                                      .seed = 26,
                                      .simulate_days = 300,
                                      .horizon = "30d"});
  auto f = MakeSeppModel()->Predict(sim.history, sim.request);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->model_used, "sepp");
  double predicted = 0, bg = 0, recent = 0;
  for (std::size_t c = 0; c < f->expected.size(); ++c) {
    predicted += f->expected[c];
    bg += f->background[c];
    recent += f->recent[c];
    ASSERT_GE(f->expected[c], 0);
  }
  EXPECT_NEAR(predicted, bg + recent, 1e-6 * predicted);
  EXPECT_NEAR(predicted, sim.realised, 4 * std::sqrt(sim.realised) / 0.6);
  EXPECT_GT(recent, 0);
}

TEST(SelfExciting, NoLookAhead) {
  const SimulatedCase sim = Simulate({.mu = 6,
                                      .theta = 0.4,
                                      .omega = 0.3,
                                      .sigma = 60,
                                      .days = 120,
                                      .cell_m = 500,
                                      .seed = 27,
                                      .simulate_days = 160});
  // The same events plus everything after T.
  const History full = simulate::ToHistory(sim.events, sim.config, sim.config.end,
                                           simulate::TimeResolution::kTimestamp);
  ASSERT_GT(full.size(), sim.history.size());
  for (auto make : {MakeEtasGridModel, MakeSeppModel}) {
    auto a = make({})->Predict(sim.history, sim.request);
    auto b = make({})->Predict(full, sim.request);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->model_used, b->model_used);
    ASSERT_EQ(a->expected.size(), b->expected.size());
    for (std::size_t c = 0; c < a->expected.size(); ++c) {
      ASSERT_EQ(a->expected[c], b->expected[c]) << a->model << " cell " << c;
    }
  }
}

TEST(SelfExciting, HarmWeightsScaleExpectedHarm) {
  SimulatedCase sim = Simulate(
      {.mu = 6, .theta = 0.4, .omega = 0.3, .sigma = 60, .days = 150, .cell_m = 500, .seed = 28});
  History doubled = sim.history;
  for (double& w : doubled.weight) w = 2;
  for (auto make : {MakeEtasGridModel, MakeSeppModel}) {
    auto a = make({})->Predict(sim.history, sim.request);
    auto b = make({})->Predict(doubled, sim.request);
    ASSERT_TRUE(a && b);
    for (std::size_t c = 0; c < a->expected.size(); ++c) {
      ASSERT_NEAR(b->expected[c], 2 * a->expected[c], 1e-9 + 1e-9 * a->expected[c]);
    }
  }
}

TEST(SelfExciting, OneThreadGivesTheSameForecastBitForBit) {
  const SimulatedCase sim = Simulate(
      {.mu = 6, .theta = 0.4, .omega = 0.3, .sigma = 60, .days = 150, .cell_m = 500, .seed = 29});
  for (auto make : {MakeEtasGridModel, MakeSeppModel}) {
    ModelOptions one;
    one.threads = 1;
    auto a = make({})->Predict(sim.history, sim.request);
    auto b = make(one)->Predict(sim.history, sim.request);
    ASSERT_TRUE(a && b);
    // Deterministic reductions: bit-identical whatever the thread count.
    EXPECT_EQ(a->parameters["theta"], b->parameters["theta"]);
    ASSERT_EQ(a->expected.size(), b->expected.size());
    for (std::size_t c = 0; c < a->expected.size(); ++c) {
      ASSERT_EQ(a->expected[c], b->expected[c]) << a->model << " cell " << c;
    }
  }
}

TEST(SelfExciting, OptionsAreCheckedAndBadInputIsAnError) {
  ModelOptions bad;
  bad.params["bandwith_m"] = 300;  // misspelt
  EXPECT_FALSE(CheckEtasGridOptions(bad));
  EXPECT_FALSE(CheckSeppOptions(bad));
  ModelOptions range;
  range.params["min_theta"] = 2;
  EXPECT_FALSE(CheckSeppOptions(range));
  ModelOptions good;
  good.params["window_days"] = 180;
  good.params["max_distance_m"] = 400;
  EXPECT_TRUE(CheckSeppOptions(good));
  EXPECT_FALSE(CheckEtasGridOptions(good));  // max_distance_m is a sepp option

  auto grid = spatial::Grid::Create(27700, 100, 0, 0, 10, 10);
  ForecastRequest request{*grid, CivilToUtc({2024, 1, 1}), Horizon{86400, 0}};
  auto f = MakeSeppModel(bad)->Predict(History{}, request);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(f.error().message.find("bandwith_m"), std::string::npos);
  auto empty = MakeEtasGridModel()->Predict(History{}, request);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kEmptyTrainingWindow);
  EXPECT_EQ(MakeEtasGridModel()->name(), "etas-grid");
  EXPECT_EQ(MakeSeppModel()->name(), "sepp");
}

TEST(SelfExciting, TooFewEventsFallBackToNaiveDecay) {
  // Two events, 10 and 40 days before T, in one cell.
  History h;
  const TimePoint at = CivilToUtc({2024, 6, 1});
  const std::int64_t t = at.time_since_epoch().count();
  for (int age : {40, 10}) {
    h.x.push_back(50);
    h.y.push_back(50);
    h.t_start.push_back(t - 86400 * age);
    h.t_end.push_back(t - 86400 * age + 1);
    h.category.push_back(Category::kRobbery);
    h.weight.push_back(1);
    h.id.push_back(age);
  }
  auto grid = spatial::Grid::Create(27700, 100, 0, 0, 2, 1);
  ForecastRequest request{*grid, at, Horizon{7 * 86400, 0}};
  ModelOptions options;
  options.params["fallback_half_life_days"] = 60;
  ModelOptions decay_options;
  decay_options.params["half_life_days"] = 60;
  auto decay = MakeNaiveDecayModel(decay_options);
  ASSERT_TRUE(decay);
  auto reference = (*decay)->Predict(h, request);
  ASSERT_TRUE(reference);
  for (auto make : {MakeEtasGridModel, MakeSeppModel}) {
    auto f = make(options)->Predict(h, request);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->model_used, "naive-decay");
    EXPECT_EQ(f->parameters["fallback"], 1);
    bool noted = false;
    for (const auto& n : f->notes) noted |= n.find("too few events") != std::string::npos;
    EXPECT_TRUE(noted);
    ASSERT_EQ(f->expected.size(), reference->expected.size());
    for (std::size_t c = 0; c < f->expected.size(); ++c) {
      EXPECT_EQ(f->expected[c], reference->expected[c]);
    }
    EXPECT_GT(f->expected[0], 0);
    EXPECT_EQ(f->expected[1], 0);
  }
}

}  // namespace
}  // namespace crimecast::models
