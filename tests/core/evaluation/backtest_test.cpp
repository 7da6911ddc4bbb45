#include "core/evaluation/backtest.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/evaluation/report.hpp"
#include "core/models/model_test_util.hpp"

namespace crimecast::evaluation {
namespace {

using testutil::AddMonth;

// Four cells in a row (100 m). Month-only history:
//   cell 0: 3 events every month, Jan..Jun 2023
//   cell 1: 1 event every month, Jan..Jun
//   cell 2: 5 events in May only
//   cell 3: never
storage::PointColumns RowOfCells() {
  storage::PointColumns p;
  const char* months[] = {"2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"};
  for (const char* m : months) {
    for (int i = 0; i < 3; ++i) AddMonth(p, 50, 50, m);
    AddMonth(p, 150, 50, m, Category::kShoplifting);
  }
  for (int i = 0; i < 5; ++i) AddMonth(p, 250, 50, "2023-05");
  return p;
}

BacktestConfig RowConfig() {
  BacktestConfig c;
  c.grid = *spatial::Grid::Create(27700, 100, 0, 0, 4, 1);
  c.from = ParseMonth("2023-04")->start;
  c.to = ParseMonth("2023-08")->start;
  c.horizon = {0, 1};
  c.models = {{"naive-all", {}}};
  c.coverages = {0.5};
  return c;
}

// Hand-worked (coverage 50 %):
//   origin Apr: active {0,1} (A=2), k=1: naive ranks cell 0 first; April: cell0 3, cell1 1
//               -> HR 3/4.
//   origin May: active {0,1}; May: cell0 3, cell1 1, cell2 5 (outside the active area) -> N=9,
//               hits 3 -> HR 1/3.
//   origin Jun: active {0,1,2} (A=3), k=round(1.5)=2: cell0 (15 events before T), then cells 1
//               and 2 tie (5 each): the second flagged cell is half of that tie group.
//   origin Jul: its horizon ends after the data (2023-07-01): skipped.
TEST(Backtest, HandWorkedRollingOrigins) {
  auto r = RunBacktest(RowOfCells(), RowConfig());
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->origins.size(), 3u);
  ASSERT_EQ(r->skipped_origins.size(), 1u);
  EXPECT_EQ(r->skipped_origins[0], ParseMonth("2023-07")->start);
  ASSERT_EQ(r->active_area.size(), 3u);
  EXPECT_EQ(r->active_area[0].cells, 2);
  EXPECT_EQ(r->active_area[2].cells, 3);
  EXPECT_DOUBLE_EQ(r->active_area[2].km2, 0.03);
  ASSERT_EQ(r->scores.size(), 3u);
  EXPECT_DOUBLE_EQ(r->scores[0].scores.coverage[0].hit_rate, 0.75);
  EXPECT_DOUBLE_EQ(r->scores[1].scores.events_total, 9);
  EXPECT_DOUBLE_EQ(r->scores[1].scores.events_active, 4);
  EXPECT_DOUBLE_EQ(r->scores[1].scores.coverage[0].hit_rate, 3.0 / 9);
  // June: cell0 15, cell1 5, cell2 5 events before T; k = 2 takes cell0 and one of the tied
  // pair {cell1, cell2}: credited half their June events (cell1 1, cell2 0) -> 3 + 0.5 of 4.
  EXPECT_DOUBLE_EQ(r->scores[2].scores.coverage[0].hits, 3.5);
  EXPECT_DOUBLE_EQ(r->scores[2].scores.coverage[0].hit_rate, 3.5 / 4);
  ASSERT_EQ(r->summaries.size(), 1u);
  const ModelSummary& s = r->summaries[0];
  EXPECT_EQ(s.origins_scored, 3);
  EXPECT_DOUBLE_EQ(s.coverage[0].hit_rate, (0.75 + 1.0 / 3 + 0.875) / 3);
  EXPECT_DOUBLE_EQ(s.events_total, 4 + 9 + 4);
}

TEST(Backtest, PerCategoryGroupsAndRecordedFailures) {
  storage::PointColumns p = RowOfCells();
  AddMonth(p, 350, 50, "2023-05", Category::kRobbery);  // first robbery after the first origin
  BacktestConfig c = RowConfig();
  c.to = ParseMonth("2023-07")->start;
  c.per_category = true;
  c.models = {{"naive-all", {}}, {"naive-recent", {{{"window_months", 1}}, 0}}};
  auto r = RunBacktest(p, c);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->groups, (std::vector<std::string>{"all", "burglary", "robbery", "shoplifting"}));
  // Robbery has no history at the April and May origins: recorded, not fatal.
  int robbery_failures = 0;
  for (const auto& o : r->scores) {
    if (o.group == "robbery" && !o.ok) {
      ++robbery_failures;
      EXPECT_NE(o.error.find("EmptyTrainingWindow"), std::string::npos) << o.error;
    }
  }
  EXPECT_EQ(robbery_failures, 2 * 2);  // two origins x two models
  for (const auto& s : r->summaries) {
    if (s.group == "robbery") {
      EXPECT_EQ(s.origins_scored, 1);
      EXPECT_EQ(s.origins_failed, 2);
    }
    if (s.group == "shoplifting") {
      EXPECT_EQ(s.events_total, 3);  // one shoplifting a month, Apr..Jun
    }
  }
}

TEST(Backtest, RejectsBadConfigurations) {
  const storage::PointColumns p = RowOfCells();
  BacktestConfig c = RowConfig();
  c.models = {{"nonsense", {}}};
  EXPECT_EQ(RunBacktest(p, c).error().code, ErrorCode::kUnknownModel);
  c = RowConfig();
  c.models[0].options.params["bogus"] = 1;
  EXPECT_EQ(RunBacktest(p, c).error().code, ErrorCode::kInvalidArgument);
  c = RowConfig();
  c.to = c.from;
  EXPECT_FALSE(RunBacktest(p, c));
  // Month-only data cannot be scored from mid-month or on a 7-day horizon.
  c = RowConfig();
  c.from = *ParseDateTime("2023-04-15");
  EXPECT_EQ(RunBacktest(p, c).error().code, ErrorCode::kInvalidArgument);
  c = RowConfig();
  c.horizon = {7 * 86400, 0};
  EXPECT_EQ(RunBacktest(p, c).error().code, ErrorCode::kInvalidArgument);
  // Every origin beyond the data.
  c = RowConfig();
  c.from = ParseMonth("2023-09")->start;
  c.to = ParseMonth("2023-12")->start;
  EXPECT_EQ(RunBacktest(p, c).error().code, ErrorCode::kOutOfRange);
  // First origin before any history.
  c = RowConfig();
  c.from = ParseMonth("2023-01")->start;
  EXPECT_EQ(RunBacktest(p, c).error().code, ErrorCode::kEmptyTrainingWindow);
  c = RowConfig();
  c.boundary_cells = std::vector<std::int64_t>{};
  EXPECT_FALSE(RunBacktest(p, c));
  EXPECT_EQ(RunBacktest({}, RowConfig()).error().code, ErrorCode::kNoData);
}

TEST(Backtest, BoundaryOverridesTheActiveArea) {
  BacktestConfig c = RowConfig();
  c.boundary_cells = std::vector<std::int64_t>{0, 1, 2, 3};
  auto r = RunBacktest(RowOfCells(), c);
  ASSERT_TRUE(r);
  for (const auto& a : r->active_area) EXPECT_EQ(a.cells, 4);
  // May, A = 4, k = 2: cells 0 and 1 (naive) -> 4 of 9.
  EXPECT_DOUBLE_EQ(r->scores[1].scores.coverage[0].hit_rate, 4.0 / 9);
}

TEST(Backtest, SameResultOnOneOrAllThreads) {
  // A timestamped random field, weekly origins, every registered model.
  auto g = *spatial::Grid::Create(27700, 100, 0, 0, 20, 20);
  std::vector<double> rate(400);
  for (std::size_t i = 0; i < rate.size(); ++i)
    rate[i] = 0.01 + 0.05 * static_cast<double>(i % 7 == 0);
  auto p = testutil::PoissonField(g, rate, testutil::Month("2022-01"), testutil::Month("2023-03"),
                                  false, 9);
  BacktestConfig c;
  c.grid = g;
  c.from = ParseMonth("2023-01")->start;
  c.to = ParseMonth("2023-02")->start;
  c.horizon = {7 * 86400, 0};
  for (const auto& n : models::ModelNames()) c.models.push_back({n, {}});
  c.threads = 1;
  auto one = RunBacktest(p, c);
  c.threads = 0;
  auto all = RunBacktest(p, c);
  ASSERT_TRUE(one && all);
  EXPECT_EQ(one->origins.size(), 5u);  // Jan 1, 8, 15, 22, 29
  ASSERT_EQ(one->summaries.size(), all->summaries.size());
  for (std::size_t i = 0; i < one->summaries.size(); ++i) {
    for (std::size_t k = 0; k < one->summaries[i].coverage.size(); ++k) {
      EXPECT_EQ(one->summaries[i].coverage[k].hit_rate, all->summaries[i].coverage[k].hit_rate);
    }
    EXPECT_EQ(one->summaries[i].log_likelihood_mean, all->summaries[i].log_likelihood_mean);
  }
  // Renderings.
  const auto j = nlohmann::json::parse(BacktestJson(*all));
  EXPECT_EQ(j["schema"], "crimecast.backtest/1");
  EXPECT_EQ(j["origins"].size(), 5u);
  EXPECT_EQ(j["summary"].size(), models::ModelNames().size());
  EXPECT_EQ(j["per_origin"].size(), 5 * models::ModelNames().size());
  EXPECT_EQ(j["summary"][0]["coverage"].size(), 5u);
  EXPECT_EQ(j["summary"][0]["curve_hit_rate"].size(), 40u);
  EXPECT_EQ(j["config"]["grid"]["cells"], 400);
  const std::string table = BacktestTable(*all);
  for (const auto& n : models::ModelNames()) EXPECT_NE(table.find(n), std::string::npos);
  EXPECT_NE(table.find("HR@5%"), std::string::npos);
  const std::string svg = BacktestSvg(*all);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  std::size_t lines = 0;
  for (std::size_t pos = 0; (pos = svg.find("<polyline", pos)) != std::string::npos; ++pos) ++lines;
  EXPECT_EQ(lines, models::ModelNames().size());
}

TEST(Backtest, UndefinedPeiIsNullInJson) {
  // A month with no scored events: PEI undefined -> null, never NaN in the JSON text.
  storage::PointColumns p;
  AddMonth(p, 50, 50, "2023-01");
  AddMonth(p, 50, 50, "2023-03", Category::kShoplifting);  // keeps the data running to April
  BacktestConfig c;
  c.grid = *spatial::Grid::Create(27700, 100, 0, 0, 2, 1);
  c.from = ParseMonth("2023-02")->start;
  c.to = ParseMonth("2023-03")->start;
  c.horizon = {0, 1};
  c.categories = {Category::kBurglary};
  c.models = {{"naive-all", {}}};
  auto r = RunBacktest(p, c);
  ASSERT_TRUE(r) << r.error().message;
  const std::string text = BacktestJson(*r);
  EXPECT_EQ(text.find("NaN"), std::string::npos);
  const auto j = nlohmann::json::parse(text);
  EXPECT_TRUE(j["per_origin"][0]["coverage"][0]["pei"].is_null());
}

}  // namespace
}  // namespace crimecast::evaluation
