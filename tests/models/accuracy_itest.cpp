// Accuracy of the default model (`auto`) against the naive baselines on the real developer
// data, through the product's own path: `storage::ImportFile` into a SQLite store (the code
// behind `crimecast import`), `EventStore::LoadPoints`, and `evaluation::RunBacktest` (the code
// behind `crimecast backtest`), 150 m cells.
//
// Issue 3's targets, each its own test so a miss is reported precisely:
// * hit rate at 5 % coverage of the default model >= 1.05 x the best naive baseline (max over
//   naive-all, naive-recent, naive-decay) on Gwent monthly (each month 2024-01 .. 2024-06 from
//   all earlier data) and Vancouver weekly (each week of 2022);
// * never below the best naive baseline at 1, 2, 10, 20 % (nor at 5 %).
// docs/models.md ("Accuracy") explains why the 1.05 x target is out of reach on these data
// (a forecast that peeks at the months on both sides of the target reaches about 1.02 x); those
// two tests are expected to FAIL and say by how much. The "never below" tests allow 0.2 %
// (relative) for rounding of mean hit rates. Per-category results (violence, ASB, burglary,
// vehicle crime) are printed, not asserted. All of these are Slow (several minutes: Vancouver
// has 52 origins); GwentTwoValidationMonths... is the quick default-run guard.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/evaluation/backtest.hpp"
#include "core/evaluation/report.hpp"
#include "core/models/history.hpp"
#include "core/storage/importer.hpp"
#include "core/storage/sqlite_event_store.hpp"
#include "support/paths.hpp"

namespace crimecast::evaluation {
namespace {

const std::vector<std::string> kNaive = {"naive-all", "naive-recent", "naive-decay"};

struct Dataset {
  storage::PointColumns points;
  spatial::Grid grid;
};

// Imports every CSV of a shared-data folder into a fresh store, as `crimecast import` does, and
// loads the located, in-area events with their grid.
Dataset Import(const std::string& folder, const ingest::ReaderOptions& reader) {
  Dataset d;
  const auto dir = testing::SharedDataDir() / folder;
  std::vector<std::filesystem::path> files;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().extension() == ".csv") files.push_back(f.path());
  }
  std::sort(files.begin(), files.end());
  const auto db = testing::TempDir("accuracy-" + folder) / "store.db";
  auto store = storage::SqliteEventStore::Open(db.string());
  EXPECT_TRUE(store) << store.error().ToString();
  if (!store) return d;
  storage::ImportOptions io;
  io.reader = reader;
  for (const auto& f : files) {
    auto r = storage::ImportFile(**store, f.string(), io);
    EXPECT_TRUE(r) << f << ": " << r.error().ToString();
  }
  auto epsg = (*store)->DominantEpsg();
  EXPECT_TRUE(epsg && *epsg != 0);
  storage::EventFilter filter;
  filter.located_only = true;
  filter.include_out_of_area = false;
  auto points = (*store)->LoadPoints(filter, *epsg);
  EXPECT_TRUE(points) << points.error().ToString();
  d.points = std::move(*points);
  models::SortByStart(d.points);
  double x0 = d.points.x[0], x1 = x0, y0 = d.points.y[0], y1 = y0;
  for (std::size_t i = 0; i < d.points.size(); ++i) {
    x0 = std::min(x0, d.points.x[i]);
    x1 = std::max(x1, d.points.x[i]);
    y0 = std::min(y0, d.points.y[i]);
    y1 = std::max(y1, d.points.y[i]);
  }
  d.grid = *spatial::Grid::Covering(*epsg, 150, x0, y0, x1, y1);
  return d;
}

BacktestConfig Config(const Dataset& d, const char* from, const char* to, Horizon h) {
  BacktestConfig c;
  c.grid = d.grid;
  c.from = *ParseInstant(from);
  c.to = *ParseInstant(to);
  c.horizon = h;
  for (const auto& n : kNaive) c.models.push_back({n, {}});
  c.models.push_back({"learned", {}});
  c.models.push_back({"auto", {}});
  return c;
}

const ModelSummary* Find(const BacktestResult& r, const std::string& group,
                         const std::string& model) {
  for (const auto& s : r.summaries) {
    if (s.group == group && s.model == model) return &s;
  }
  return nullptr;
}

// auto's hit rate / the best naive hit rate, per coverage (1, 2, 5, 10, 20 %).
std::vector<double> Ratios(const BacktestResult& r, const std::string& group) {
  const ModelSummary* a = Find(r, group, "auto");
  EXPECT_NE(a, nullptr);
  std::vector<double> out;
  if (!a) return out;
  for (std::size_t k = 0; k < a->coverage.size(); ++k) {
    double best = 0;
    for (const auto& n : kNaive) {
      const ModelSummary* s = Find(r, group, n);
      if (s) best = std::max(best, s->coverage[k].hit_rate);
    }
    out.push_back(best > 0 ? a->coverage[k].hit_rate / best : 0.0);
  }
  return out;
}

void Print(const char* title, const BacktestResult& r, double seconds) {
  std::printf("== %s (%.1f s)\n%s\n", title, seconds, BacktestTable(r).c_str());
  for (const auto& g : r.groups) {
    const auto ratios = Ratios(r, g);
    std::printf("auto / best naive [%s]:", g.c_str());
    for (double v : ratios) std::printf(" %.3f", v);
    std::printf("\n");
  }
  for (const auto& s : r.scores) {
    if (s.model == "auto" && s.group == "all" && !s.notes.empty()) {
      std::printf("  %s: %s\n", FormatDate(s.origin).c_str(), s.model_used.c_str());
    }
  }
}

// One backtest per dataset, shared by the tests below.
struct Results {
  std::optional<BacktestResult> gwent, gwent_categories, vancouver;
};

Results& Shared() {
  static Results r;
  return r;
}

const BacktestResult* Gwent() {
  auto& r = Shared();
  if (!r.gwent) {
    ingest::ReaderOptions o;
    o.format = ingest::InputFormat::kPoliceUk;
    const Dataset d = Import("police-uk-gwent-street", o);
    if (d.points.size() == 0) return nullptr;
    const auto t0 = std::chrono::steady_clock::now();
    auto res = RunBacktest(d.points, Config(d, "2024-01", "2024-07", {0, 1}));
    EXPECT_TRUE(res) << res.error().ToString();
    if (!res) return nullptr;
    Print("Gwent monthly, all categories", *res,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    r.gwent = std::move(*res);
    // Per category: the four the issue names, each fitted and scored alone.
    BacktestConfig c = Config(d, "2024-01", "2024-07", {0, 1});
    c.categories = {Category::kViolenceSexualOffences, Category::kAntiSocialBehaviour,
                    Category::kBurglary, Category::kVehicleCrime};
    c.per_category = true;
    const auto t1 = std::chrono::steady_clock::now();
    auto cat = RunBacktest(d.points, c);
    EXPECT_TRUE(cat) << cat.error().ToString();
    if (cat) {
      Print("Gwent monthly, per category", *cat,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count());
      r.gwent_categories = std::move(*cat);
    }
  }
  return &*r.gwent;
}

const BacktestResult* Vancouver() {
  auto& r = Shared();
  if (!r.vancouver) {
    ingest::ReaderOptions o;
    o.format = ingest::InputFormat::kMapped;
    o.mapping_path = (testing::SourceDir() / "mappings" / "vancouver-vpd.toml").string();
    const Dataset d = Import("vancouver-vpd-crime", o);
    if (d.points.size() == 0) return nullptr;
    const auto t0 = std::chrono::steady_clock::now();
    BacktestConfig c = Config(d, "2022-01-01", "2023-01-01", {7 * 86400, 0});
    auto res = RunBacktest(d.points, c);
    EXPECT_TRUE(res) << res.error().ToString();
    if (!res) return nullptr;
    Print("Vancouver weekly, all categories", *res,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    r.vancouver = std::move(*res);
  }
  return &*r.vancouver;
}

void ExpectNeverBelow(const BacktestResult& r) {
  const auto ratios = Ratios(r, "all");
  ASSERT_EQ(ratios.size(), 5u);
  const char* names[] = {"1%", "2%", "5%", "10%", "20%"};
  for (std::size_t k = 0; k < ratios.size(); ++k) {
    EXPECT_GE(ratios[k], 0.998) << "auto below the best naive baseline at " << names[k];
  }
}

TEST(AccuracySlow, GwentMonthlyAutoNeverBelowBestNaive) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-gwent-street");
  const BacktestResult* r = Gwent();
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->origins.size(), 6u);
  ExpectNeverBelow(*r);
}

TEST(AccuracySlow, GwentMonthlyAutoIssueTarget105) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-gwent-street");
  const BacktestResult* r = Gwent();
  ASSERT_NE(r, nullptr);
  EXPECT_GE(Ratios(*r, "all")[2], 1.05) << "issue 3 target (see docs/models.md, Accuracy)";
}

TEST(AccuracySlow, VancouverWeeklyAutoNeverBelowBestNaive) {
  CRIMECAST_REQUIRE_SHARED_DATA("vancouver-vpd-crime");
  const BacktestResult* r = Vancouver();
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->origins.size(), 52u);
  ExpectNeverBelow(*r);
}

TEST(AccuracySlow, VancouverWeeklyAutoIssueTarget105) {
  CRIMECAST_REQUIRE_SHARED_DATA("vancouver-vpd-crime");
  const BacktestResult* r = Vancouver();
  ASSERT_NE(r, nullptr);
  EXPECT_GE(Ratios(*r, "all")[2], 1.05) << "issue 3 target (see docs/models.md, Accuracy)";
}

// The default-run guard (a few seconds): two validation months of Gwent (2023-11, 2023-12, so
// the test windows stay unseen by anything tuned against this check), auto against the best
// naive baseline at every coverage. Two months are noisy, so the bar is 0.99, not 1: it
// catches a broken learned model or selection, not a tenth of a point.
TEST(AccuracyItest, GwentTwoValidationMonthsAutoKeepsUpWithBestNaive) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-gwent-street");
  ingest::ReaderOptions o;
  o.format = ingest::InputFormat::kPoliceUk;
  const Dataset d = Import("police-uk-gwent-street", o);
  ASSERT_GT(d.points.size(), 100000u);
  auto r = RunBacktest(d.points, Config(d, "2023-11", "2024-01", {0, 1}));
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->origins.size(), 2u);
  for (const auto& s : r->summaries) EXPECT_EQ(s.origins_failed, 0) << s.model;
  const auto ratios = Ratios(*r, "all");
  ASSERT_EQ(ratios.size(), 5u);
  const char* names[] = {"1%", "2%", "5%", "10%", "20%"};
  for (std::size_t k = 0; k < ratios.size(); ++k) {
    EXPECT_GE(ratios[k], 0.99) << "auto / best naive at " << names[k];
  }
  // auto's own validation found a learned candidate usable: it is not stuck on a fallback.
  for (const auto& sc : r->scores) {
    if (sc.model == "auto") {
      EXPECT_NE(sc.model_used.find("learned"), std::string::npos) << sc.model_used;
    }
  }
}

}  // namespace
}  // namespace crimecast::evaluation
