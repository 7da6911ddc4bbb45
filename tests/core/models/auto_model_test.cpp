#include "core/models/auto_model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "tests/core/models/history_fixtures.hpp"

namespace crimecast::models {
namespace {

using testing::Month;
using testing::SimulateMonthly;

constexpr double kSize = 150.0;
constexpr std::int64_t kN = 16;

TEST(HitsAtCoverage, HandWorkedExampleWithTies) {
  // Five active cells (0..4) and one cell outside the active area (5).
  const std::vector<double> predicted = {5, 3, 3, 3, 1, 9};
  const std::vector<double> observed = {2, 1, 0, 3, 4, 10};
  const std::vector<std::int64_t> active = {0, 1, 2, 3, 4};
  // 20 % of 5 cells = 1 cell: cell 0 (2 of 20 events).
  HitCount h = HitsAtCoverage(predicted, observed, active, 0.2);
  EXPECT_DOUBLE_EQ(h.total, 20.0);
  EXPECT_DOUBLE_EQ(h.hits, 2.0);
  // 40 % = 2 cells: cell 0 plus one of the tied cells 1..3 (4 events between 3 cells): 2 + 4/3.
  h = HitsAtCoverage(predicted, observed, active, 0.4);
  EXPECT_NEAR(h.hits, 2.0 + 4.0 / 3.0, 1e-12);
  // 80 % = 4 cells: cell 0 and the whole tie group.
  h = HitsAtCoverage(predicted, observed, active, 0.8);
  EXPECT_DOUBLE_EQ(h.hits, 6.0);
  // Tiny coverage still flags one cell.
  h = HitsAtCoverage(predicted, observed, active, 0.01);
  EXPECT_DOUBLE_EQ(h.hits, 2.0);
}

TEST(PoissonLogLikelihood, HandValue) {
  const std::vector<double> mu = {2.0, 0.0};
  const std::vector<double> y = {3.0, 0.0};
  // 3 log 2 - 2 - log 3! for the first cell; the second predicts 0 (floored at 1e-6) and sees 0.
  EXPECT_NEAR(PoissonLogLikelihood(mu, y), 3 * std::log(2.0) - 2 - std::log(6.0) - 1e-6, 1e-12);
}

TEST(HistoryBefore, PrefixWithIds) {
  const History h = testing::MakeHistory({{0, 0, 10, 11}, {0, 0, 20, 21}, {0, 0, 30, 31}});
  const History p = HistoryBefore(h, 30);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p.id, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(HistoryBefore(h, 10).size(), 0u);
}

// A test model that knows the simulation's true rates (scaled to the horizon), or a noisy one.
// Both check the no-look-ahead contract on every call.
class FakeModel final : public Model {
 public:
  FakeModel(std::string name, std::vector<double> truth, double noise, int* calls)
      : name_(std::move(name)), truth_(std::move(truth)), noise_(noise), calls_(calls) {}
  std::string_view name() const override { return name_; }
  Result<Forecast> Predict(const History& h, const ForecastRequest& r) override {
    ++*calls_;
    const std::int64_t t = r.at.time_since_epoch().count();
    for (auto s : h.t_start) {
      if (s >= t) return Fail(ErrorCode::kInternal, "look-ahead: an event at or after T");
    }
    std::mt19937_64 rng(static_cast<std::uint64_t>(t) ^ std::hash<std::string>{}(name_));
    std::lognormal_distribution<double> ln(0.0, noise_);
    Forecast f;
    f.model = f.model_used = name_;
    f.expected = truth_;
    if (noise_ > 0) {
      for (double& v : f.expected) v *= ln(rng);
    }
    return f;
  }

 private:
  std::string name_;
  std::vector<double> truth_;
  double noise_;
  int* calls_;
};

std::vector<double> Rates() {
  std::vector<double> r(static_cast<std::size_t>(kN * kN));
  std::mt19937_64 rng(1);
  std::gamma_distribution<double> g(0.5, 2.0);
  for (auto& v : r) v = g(rng);
  return r;
}

TEST(AutoModel, PicksTheBetterCandidateWithoutLookingAhead) {
  const auto rate = Rates();
  const History h = SimulateMonthly(rate, kN, kSize, 2022, 1, 24, 4);
  int calls = 0;
  AutoOptions o;
  o.candidates = {"noisy", "oracle"};
  auto factory = [&](std::string_view name, const ModelOptions&) -> Result<std::unique_ptr<Model>> {
    if (name == "oracle") return std::make_unique<FakeModel>("oracle", rate, 0.0, &calls);
    if (name == "noisy") return std::make_unique<FakeModel>("noisy", rate, 1.5, &calls);
    if (name == "naive-decay") return std::make_unique<FakeModel>("naive-decay", rate, 0.1, &calls);
    return Fail(ErrorCode::kUnknownModel, std::string(name));
  };
  auto model = MakeAutoModel(o, factory);
  const ForecastRequest req{*spatial::Grid::Create(27700, kSize, 0, 0, kN, kN),
                            TimePoint{Seconds{Month(2024, 1)}}, Horizon{0, 1}};
  auto f = model->Predict(h, req);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->model, "auto");
  EXPECT_EQ(f->model_used, "oracle");
  EXPECT_EQ(calls, 2 * 6 + 1);  // two candidates on six validation origins, then the final run
  ASSERT_FALSE(f->notes.empty());
  EXPECT_NE(f->notes.front().find("chose oracle"), std::string::npos) << f->notes.front();
  EXPECT_EQ(f->parameters.at("validation_origins"), 6.0);
  EXPECT_GT(f->parameters.at("validation_hit_rate_5_oracle"),
            f->parameters.at("validation_hit_rate_5_noisy"));
  EXPECT_EQ(f->expected, rate);
}

TEST(AutoModel, TiesGoToThePreferredCandidateButAClearWinnerBeatsIt) {
  const auto rate = Rates();
  const History h = SimulateMonthly(rate, kN, kSize, 2022, 1, 24, 4);
  std::vector<double> scaled = rate;  // same ranking (same hit rates), worse log-likelihood
  for (double& v : scaled) v *= 1.5;
  int calls = 0;
  auto factory = [&](std::string_view name, const ModelOptions&) -> Result<std::unique_ptr<Model>> {
    if (name == "oracle") return std::make_unique<FakeModel>("oracle", rate, 0.0, &calls);
    if (name == "scaled") return std::make_unique<FakeModel>("scaled", scaled, 0.0, &calls);
    if (name == "noisy") return std::make_unique<FakeModel>("noisy", rate, 1.5, &calls);
    return Fail(ErrorCode::kUnknownModel, std::string(name));
  };
  const ForecastRequest req{*spatial::Grid::Create(27700, kSize, 0, 0, kN, kN),
                            TimePoint{Seconds{Month(2024, 1)}}, Horizon{0, 1}};
  AutoOptions o;
  o.candidates = {"oracle", "scaled"};
  o.preferred = {"scaled"};
  auto f = MakeAutoModel(o, factory)->Predict(h, req);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->model_used, "scaled");  // tied on hit rate: the preference decides
  o.preferred.clear();
  f = MakeAutoModel(o, factory)->Predict(h, req);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->model_used, "oracle");  // no preference: the better log-likelihood decides
  o.candidates = {"oracle", "noisy"};
  o.preferred = {"noisy"};
  f = MakeAutoModel(o, factory)->Predict(h, req);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->model_used, "oracle");  // clearly better on hit rate: the preference yields
}

TEST(AutoModel, LearnedAndBlendCandidatesRun) {
  const auto rate = Rates();
  const History h = SimulateMonthly(rate, kN, kSize, 2022, 1, 20, 8);
  int calls = 0;
  AutoOptions o;
  o.candidates = {"naive-decay", "learned", "blend"};
  o.learned.trees = 20;
  o.learned.max_origins = 8;
  o.learned.threads = 1;
  o.validation_origins = 3;
  auto factory = [&](std::string_view name, const ModelOptions&) -> Result<std::unique_ptr<Model>> {
    if (name == "naive-decay") return std::make_unique<FakeModel>("naive-decay", rate, 0.3, &calls);
    return Fail(ErrorCode::kUnknownModel, std::string(name));
  };
  auto model = MakeAutoModel(o, factory);
  const ForecastRequest req{*spatial::Grid::Create(27700, kSize, 0, 0, kN, kN),
                            TimePoint{Seconds{Month(2023, 9)}}, Horizon{0, 1}};
  auto f = model->Predict(h, req);
  ASSERT_TRUE(f) << f.error().message;
  for (const char* c : {"naive-decay", "learned", "blend"}) {
    EXPECT_TRUE(f->parameters.contains(std::string("validation_hit_rate_5_") + c)) << c;
  }
  EXPECT_EQ(f->expected.size(), rate.size());
  EXPECT_FALSE(f->model_used.empty());
}

TEST(AutoModel, TooLittleHistoryUsesNaiveDecay) {
  const auto rate = Rates();
  const History h = SimulateMonthly(rate, kN, kSize, 2023, 1, 3, 2);
  int calls = 0;
  auto factory = [&](std::string_view name, const ModelOptions&) -> Result<std::unique_ptr<Model>> {
    return std::make_unique<FakeModel>(std::string(name), rate, 0.0, &calls);
  };
  auto model = MakeAutoModel(AutoOptions{}, factory);
  const ForecastRequest req{*spatial::Grid::Create(27700, kSize, 0, 0, kN, kN),
                            TimePoint{Seconds{Month(2023, 4)}}, Horizon{0, 1}};
  auto f = model->Predict(h, req);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->model_used, "naive-decay");
  EXPECT_NE(f->notes.front().find("too little history"), std::string::npos);
}

TEST(AutoOptions, ForwardsLearnedKeysAndRejectsUnknown) {
  ModelOptions mo;
  mo.params = {{"validation_origins", 4}, {"trees", 40}, {"blend_weight", 0.3}};
  auto o = AutoOptions::FromModelOptions(mo);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->validation_origins, 4);
  EXPECT_EQ(o->learned.trees, 40);
  EXPECT_DOUBLE_EQ(o->blend_weight, 0.3);
  mo.params = {{"nope", 1}};
  auto bad = AutoOptions::FromModelOptions(mo);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  mo.params = {{"validation_origins", 0}};
  EXPECT_FALSE(AutoOptions::FromModelOptions(mo));
}

}  // namespace
}  // namespace crimecast::models
