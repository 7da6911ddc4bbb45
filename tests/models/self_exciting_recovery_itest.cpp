// Larger parameter-recovery runs for the self-exciting models on simulated cities (no shared
// data needed). Named *Slow*: excluded from the default test run, run with the `slow` label.
// Each prints the per-seed errors, so the figures quoted in docs/models.md can be reproduced.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/models/self_exciting.hpp"
#include "support/self_exciting_fixtures.hpp"

namespace crimecast::models {
namespace {

using testing::Simulate;

TEST(SelfExcitingRecovery, EtasGridTimestampedSlow) {
  double theta_error_sum = 0, omega_error_sum = 0;
  const int seeds = 5;
  for (int seed = 0; seed < seeds; ++seed) {
    // ~30,000 events a year in a 10 km town, 1 km cells, sigma 30 m.
    const auto sim = Simulate({.mu = 50,
                               .theta = 0.45,
                               .omega = 0.3,
                               .sigma = 30,
                               .days = 365,
                               .cell_m = 1000,
                               .seed = static_cast<std::uint64_t>(100 + seed)});
    auto f = MakeEtasGridModel()->Predict(sim.history, sim.request);
    ASSERT_TRUE(f) << f.error().ToString();
    ASSERT_EQ(f->model_used, "etas-grid");
    const double truth = sim.InCellBranching();
    const double dtheta = f->parameters["theta"] - truth;
    const double domega = f->parameters["omega_per_day"] / 0.3 - 1;
    std::printf("etas-grid seed %d: n=%zu theta %.3f (in-cell truth %.3f, %+.3f), omega %+.1f %%\n",
                seed, sim.history.size(), f->parameters["theta"], truth, dtheta, 100 * domega);
    EXPECT_NEAR(dtheta, 0, 0.05);
    EXPECT_NEAR(domega, 0, 0.15);
    theta_error_sum += dtheta;
    omega_error_sum += domega;
  }
  // Grid ETAS has a small known bias (docs/models.md): per-cell backgrounds absorb part of the
  // slowest offspring, so theta comes out ~0.02-0.03 low and omega ~5 % high. Guard its size.
  EXPECT_NEAR(theta_error_sum / seeds, -0.02, 0.02);
  EXPECT_NEAR(omega_error_sum / seeds, 0.05, 0.05);
}

TEST(SelfExcitingRecovery, SeppTimestampedSlow) {
  const int seeds = 4;
  double theta_error_sum = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    // ~16,000 events a year, theta 0.4, mean delay 4 days, sigma 80 m.
    const auto sim = Simulate({.mu = 25,
                               .theta = 0.4,
                               .omega = 0.25,
                               .sigma = 80,
                               .days = 365,
                               .cell_m = 250,
                               .seed = static_cast<std::uint64_t>(200 + seed)});
    auto f = MakeSeppModel()->Predict(sim.history, sim.request);
    ASSERT_TRUE(f) << f.error().ToString();
    ASSERT_EQ(f->model_used, "sepp") << f->notes.back();
    const double dtheta = f->parameters["theta"] - 0.4;
    const double domega = f->parameters["omega_per_day"] / 0.25 - 1;
    const double dsigma = f->parameters["sigma_m"] / 80 - 1;
    std::printf(
        "sepp seed %d: n=%zu theta %+.3f, omega %+.1f %%, sigma %+.1f %%, bandwidth %.0f m\n", seed,
        sim.history.size(), dtheta, 100 * domega, 100 * dsigma, f->parameters["bg_bandwidth_m"]);
    EXPECT_NEAR(dtheta, 0, 0.05);
    EXPECT_NEAR(domega, 0, 0.15);
    EXPECT_NEAR(dsigma, 0, 0.1);
    theta_error_sum += dtheta;
  }
  EXPECT_NEAR(theta_error_sum / seeds, 0, 0.04);
}

TEST(SelfExcitingRecovery, PoissonCitiesAlwaysFallBackSlow) {
  for (int seed = 0; seed < 4; ++seed) {
    const auto sim = Simulate({.mu = 20,
                               .theta = 0,
                               .omega = 0.3,
                               .sigma = 50,
                               .days = 365,
                               .cell_m = 250,
                               .seed = static_cast<std::uint64_t>(300 + seed)});
    for (auto make : {MakeEtasGridModel, MakeSeppModel}) {
      auto f = make({})->Predict(sim.history, sim.request);
      ASSERT_TRUE(f);
      std::printf("%s poisson seed %d: used %s, theta %.3f, lr %.1f\n", f->model.c_str(), seed,
                  f->model_used.c_str(), f->parameters["theta"], f->parameters["lr_vs_poisson"]);
      EXPECT_EQ(f->model_used, "naive-decay") << f->model << " seed " << seed;
    }
  }
}

}  // namespace
}  // namespace crimecast::models
