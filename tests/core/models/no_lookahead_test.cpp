// The no-look-ahead contract (model.hpp, issue 3): a forecast at T is identical whether or not
// the input holds events at or after T. Checked for EVERY registered model, so a model added to
// the registry later is covered automatically.
#include <gtest/gtest.h>

#include "core/models/history.hpp"
#include "core/models/model.hpp"
#include "core/models/model_test_util.hpp"

namespace crimecast::models {
namespace {

using testutil::Add;
using testutil::Month;
using testutil::Secs;

constexpr std::int64_t kDay = 86400;

// Timestamped events around T = 2023-07-01 on a daily rhythm, plus a heavy cluster AFTER T
// that any look-ahead would show up as.
struct Data {
  storage::PointColumns all, before;
  std::int64_t t = Month("2023-07");
};

Data Make(bool month_only) {
  Data d;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0, 3000);
  const std::int64_t from = Month("2021-07");
  for (std::int64_t day = from; day < d.t + 90 * kDay; day += kDay) {
    for (int k = 0; k < 6; ++k) {
      const std::int64_t s = day + static_cast<std::int64_t>(k) * 3600 * 4;
      const double x = u(rng), y = u(rng);
      std::int64_t start = s, end = s + 1;
      if (month_only) {
        start = Secs(StartOfMonth(TimePoint{Seconds{s}}));
        end = Secs(AddMonths(TimePoint{Seconds{start}}, 1));
      }
      const auto cat = static_cast<Category>(k % kCategoryCount);
      Add(d.all, x, y, start, end, cat);
      if (start < d.t) Add(d.before, x, y, start, end, cat);
    }
  }
  for (int k = 0; k < 500; ++k) {  // the post-T cluster
    Add(d.all, 1500 + k % 10, 1500, d.t + k * 60, d.t + k * 60 + 1, Category::kBurglary);
  }
  return d;
}

TEST(NoLookAhead, EveryRegisteredModelIgnoresEventsAfterT) {
  auto grid = *spatial::Grid::Create(27700, 100, -5, -5, 40, 40);
  for (bool month_only : {false, true}) {
    const Data d = Make(month_only);
    for (const std::string& name : ModelNames()) {
      SCOPED_TRACE(name + (month_only ? " (month-only)" : " (timestamped)"));
      for (const auto& cats : std::vector<std::vector<Category>>{{}, {Category::kBurglary}}) {
        HistoryOptions o;
        o.cutoff = TimePoint{Seconds{d.t}};
        o.categories = cats;
        o.harm = HarmWeights::Default();
        // The data end is what a store would report: later for the full data.
        o.data_end = TimePoint{Seconds{*std::max_element(d.all.t_end.begin(), d.all.t_end.end())}};
        auto with = BuildHistory(d.all, o);
        std::int64_t end_before = 0;
        for (std::int64_t e : d.before.t_end) end_before = std::max(end_before, e);
        o.data_end = TimePoint{Seconds{end_before}};
        auto without = BuildHistory(d.before, o);
        ASSERT_TRUE(with && without);
        for (const Horizon& hz : {Horizon{7 * kDay, 0}, Horizon{0, 1}}) {
          auto m1 = CreateModel(name);
          auto m2 = CreateModel(name);
          ASSERT_TRUE(m1 && m2);
          const ForecastRequest req{grid, TimePoint{Seconds{d.t}}, hz};
          auto f1 = (*m1)->Predict(*with, req);
          auto f2 = (*m2)->Predict(*without, req);
          ASSERT_TRUE(f1) << f1.error().message;
          ASSERT_TRUE(f2) << f2.error().message;
          EXPECT_EQ(f1->model_used, f2->model_used);
          ASSERT_EQ(f1->expected.size(), f2->expected.size());
          for (std::size_t i = 0; i < f1->expected.size(); ++i) {
            ASSERT_EQ(f1->expected[i], f2->expected[i]) << "cell " << i;
          }
          EXPECT_EQ(f1->background, f2->background);
          EXPECT_EQ(f1->recent, f2->recent);
        }
      }
    }
  }
}

}  // namespace
}  // namespace crimecast::models
