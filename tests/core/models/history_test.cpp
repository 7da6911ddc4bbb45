#include "core/models/history.hpp"

#include <gtest/gtest.h>

#include "core/models/harm.hpp"
#include "core/models/model_test_util.hpp"

namespace crimecast::models {
namespace {

using testutil::Add;
using testutil::AddMonth;
using testutil::At;
using testutil::Month;

TEST(History, KeepsOnlyEventsStartingStrictlyBeforeT) {
  storage::PointColumns p;
  const std::int64_t t = At("2024-03-01T00:00:00Z");
  Add(p, 1, 1, t - 1);
  Add(p, 2, 2, t);  // starts at T: not history
  Add(p, 3, 3, t + 100);
  Add(p, 4, 4, t - 500);
  HistoryOptions o;
  o.cutoff = TimePoint{Seconds{t}};
  auto h = BuildHistory(p, o);
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ(h->t_start[0], t - 500);  // sorted by start
  EXPECT_EQ(h->x[1], 1);
  EXPECT_EQ(h->observed_from, t - 500);
  EXPECT_EQ(h->observed_to, t);
  EXPECT_FALSE(h->MonthOnly());
  EXPECT_EQ(h->EarliestStart(), t - 500);
  EXPECT_EQ(h->LatestStart(), t - 1);
}

TEST(History, FiltersCategoriesButTakesTheWindowFromEveryCategory) {
  storage::PointColumns p;
  AddMonth(p, 0, 0, "2023-01", Category::kShoplifting);
  AddMonth(p, 0, 0, "2023-06", Category::kRobbery);
  AddMonth(p, 0, 0, "2023-07", Category::kRobbery);
  HistoryOptions o;
  o.cutoff = ParseMonth("2023-08")->start;
  o.categories = {Category::kRobbery};
  auto h = BuildHistory(p, o);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), 2u);
  EXPECT_TRUE(h->MonthOnly());
  // The robbery rate is over Jan..Jul (7 whole months), not from the first robbery.
  EXPECT_EQ(h->WindowStart(), Month("2023-01"));
  EXPECT_EQ(h->WindowEnd(Month("2023-08")), Month("2023-08"));
}

TEST(History, AppliesHarmWeightsAndSkipsUnlocated) {
  storage::PointColumns p;
  AddMonth(p, 0, 0, "2023-01", Category::kBurglary);
  AddMonth(p, 0, 0, "2023-01", Category::kShoplifting);
  AddMonth(p, NAN, NAN, "2023-01", Category::kBurglary);
  HistoryOptions o;
  o.cutoff = ParseMonth("2023-02")->start;
  o.harm = HarmWeights::Default();
  auto h = BuildHistory(p, o);
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ(h->weight[0], HarmWeights::Default()(Category::kBurglary));
  EXPECT_EQ(h->weight[1], HarmWeights::Default()(Category::kShoplifting));
}

TEST(History, DataEndingBeforeTShortensTheWindowButAQuietDayDoesNot) {
  storage::PointColumns p;
  const std::int64_t t = At("2024-03-01T00:00:00Z");
  Add(p, 0, 0, t - 40 * 86400);
  Add(p, 0, 0, t - 3600);
  HistoryOptions o;
  o.cutoff = TimePoint{Seconds{t}};
  o.data_end = TimePoint{Seconds{t - 3600 + 1}};  // last event an hour before T
  auto h = BuildHistory(p, o);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->observed_to, t);
  o.data_end = TimePoint{Seconds{t - 10 * 86400}};  // the feed stopped 10 days before T
  h = BuildHistory(p, o);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->observed_to, t - 10 * 86400);
  EXPECT_EQ(h->WindowEnd(t), t - 10 * 86400);
}

TEST(History, RejectsInconsistentColumnsAndEmptyIntervals) {
  storage::PointColumns p;
  Add(p, 0, 0, 100, 100);  // empty interval
  HistoryOptions o;
  o.cutoff = TimePoint{Seconds{1000}};
  EXPECT_EQ(BuildHistory(p, o).error().code, ErrorCode::kBadTime);
  p.y.pop_back();
  EXPECT_FALSE(BuildHistory(p, o));
}

TEST(History, SortByStartPermutesEveryColumn) {
  storage::PointColumns p;
  Add(p, 3, 30, 300);
  Add(p, 1, 10, 100);
  Add(p, 2, 20, 200);
  SortByStart(p);
  EXPECT_EQ(p.t_start, (std::vector<std::int64_t>{100, 200, 300}));
  EXPECT_EQ(p.x, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(p.y, (std::vector<double>{10, 20, 30}));
  EXPECT_EQ(p.id, (std::vector<std::int64_t>{2, 3, 1}));
}

TEST(HarmWeights, ParsesTomlWithDefaultAndRejectsMistakes) {
  auto h = ParseHarmWeights(R"(
name = "test table"
[weights]
burglary = 365
"Violence and sexual offences" = 100
default = 2
)");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->name, "test table");
  EXPECT_EQ((*h)(Category::kBurglary), 365);
  EXPECT_EQ((*h)(Category::kViolenceSexualOffences), 100);
  EXPECT_EQ((*h)(Category::kShoplifting), 2);

  EXPECT_EQ(ParseHarmWeights("[weights]\nburglary = 1\n").error().code,
            ErrorCode::kInvalidArgument);  // missing categories, no default
  EXPECT_EQ(ParseHarmWeights("[weights]\nburglarly = 1\ndefault = 1\n").error().code,
            ErrorCode::kUnknownCategory);
  EXPECT_FALSE(ParseHarmWeights("[weights]\nburglary = -1\ndefault = 1\n"));
  EXPECT_FALSE(ParseHarmWeights("[weights\n"));
  EXPECT_FALSE(ParseHarmWeights("colour = 1\n[weights]\ndefault = 1\n"));
  EXPECT_EQ(LoadHarmWeights("/nonexistent/harm.toml").error().code, ErrorCode::kFileNotFound);
  auto d = LoadHarmWeights("default");
  ASSERT_TRUE(d);
  for (double w : d->weight) EXPECT_GE(w, 0);
  // The ordering the table exists to express.
  EXPECT_GT((*d)(Category::kRobbery), (*d)(Category::kBurglary));
  EXPECT_GT((*d)(Category::kBurglary), (*d)(Category::kShoplifting));
}

}  // namespace
}  // namespace crimecast::models
