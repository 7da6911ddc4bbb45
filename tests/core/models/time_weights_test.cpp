#include "core/models/time_weights.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace crimecast::models {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kWeek = 7 * kDay;
constexpr std::int64_t kT = 1'700'000'000;  // any instant

TEST(BoxKernel, WeighsTheShareOfTheIntervalInsideTheWindow) {
  const BoxKernel k{kT - 100 * kDay, kT, 30 * kDay};  // box over the last 30 days
  EXPECT_DOUBLE_EQ(k.Weight(kT - 10 * kDay, kT - 10 * kDay + 1), 1.0);
  EXPECT_DOUBLE_EQ(k.Weight(kT - 31 * kDay, kT - 31 * kDay + 1), 0.0);
  // A 20-day interval, 10 days of it inside the box.
  EXPECT_DOUBLE_EQ(k.Weight(kT - 40 * kDay, kT - 20 * kDay), 0.5);
  // An interval straddling T: only the part before T is observed.
  EXPECT_DOUBLE_EQ(k.Weight(kT - 5 * kDay, kT + 15 * kDay), 0.25);
  EXPECT_DOUBLE_EQ(k.Exposure(), 30.0 * kDay);
  // The box is clipped by the window start.
  const BoxKernel short_window{kT - 10 * kDay, kT, 30 * kDay};
  EXPECT_DOUBLE_EQ(short_window.Exposure(), 10.0 * kDay);
}

TEST(ExpKernel, IntegratesTheDecayOverTheInterval) {
  const double half = 30.0 * kDay;
  const ExpKernel k(kT - 1000 * kDay, kT, half);
  // A timestamped event 30 days old weighs 1/2; 60 days old, 1/4.
  EXPECT_NEAR(k.Weight(kT - 30 * kDay, kT - 30 * kDay + 1), 0.5, 1e-6);
  EXPECT_NEAR(k.Weight(kT - 60 * kDay, kT - 60 * kDay + 1), 0.25, 1e-6);
  // A 30-day interval ending at T: mean of 2^(-a/30d) over a in [0, 30d] =
  // (1 - 1/2) / (30d * ln2 / 30d) = 0.5 / ln 2.
  EXPECT_NEAR(k.Weight(kT - 30 * kDay, kT), 0.5 / std::log(2.0), 1e-12);
  // Exposure: integral of the kernel over the 1000-day window.
  const double lambda = std::log(2.0) / half;
  EXPECT_NEAR(k.Exposure(), (1 - std::exp(-lambda * 1000 * kDay)) / lambda, 1e-3);
}

TEST(WeeksKernel, CountsWholeWeeks) {
  const WeeksKernel k{kT - 1000 * kDay, kT, 8};
  EXPECT_DOUBLE_EQ(k.Weight(kT - 3 * kDay, kT - 3 * kDay + 1), 1.0);        // week 0
  EXPECT_DOUBLE_EQ(k.Weight(kT - kWeek, kT - kWeek + 1), 0.5);              // exactly 1 week
  EXPECT_DOUBLE_EQ(k.Weight(kT - kWeek + 1, kT - kWeek + 2), 1.0);          // just under
  EXPECT_DOUBLE_EQ(k.Weight(kT - 10 * kDay, kT - 10 * kDay + 1), 0.5);      // week 1
  EXPECT_DOUBLE_EQ(k.Weight(kT - 55 * kDay, kT - 55 * kDay + 1), 1.0 / 8);  // week 7
  EXPECT_DOUBLE_EQ(k.Weight(kT - 56 * kDay, kT - 56 * kDay + 1), 0.0);      // week 8: out
  // A 4-week month-style interval ending at T averages weeks 0..3: (1 + 1/2 + 1/3 + 1/4) / 4
  // (instants are whole seconds of age 1 s .. 4 weeks, so the edges differ by ~1e-7).
  EXPECT_NEAR(k.Weight(kT - 4 * kWeek, kT), (1 + 0.5 + 1.0 / 3 + 0.25) / 4, 1e-6);
}

}  // namespace
}  // namespace crimecast::models
