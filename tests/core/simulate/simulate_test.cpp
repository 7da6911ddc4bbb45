#include "core/simulate/simulate.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "core/ingest/reader.hpp"
#include "core/simulate/output.hpp"
#include "core/simulate/random.hpp"
#include "support/paths.hpp"

namespace crimecast::simulate {
namespace {

SimulationConfig SmallCity(std::uint64_t seed) {
  SimulationConfig c = DefaultConfig(seed);
  c.mu_per_day = 20;
  c.theta = 0.4;
  c.omega_per_day = 0.2;
  c.sigma_m = 100;
  return c;  // the year 2024: E[N] ~ 12,160 events
}

TEST(Rng, DistributionsHaveTheirMoments) {
  Rng rng(7);
  const int n = 200000;
  double sum_e = 0, sum_n = 0, sum_n2 = 0, sum_p = 0, sum_p2 = 0;
  for (int i = 0; i < n; ++i) {
    sum_e += rng.Exponential(0.5);
    const double z = rng.Normal();
    sum_n += z;
    sum_n2 += z * z;
    const double k = rng.Poisson(0.7);
    sum_p += k;
    sum_p2 += k * k;
  }
  EXPECT_NEAR(sum_e / n, 2.0, 4 * 2.0 / std::sqrt(n));
  EXPECT_NEAR(sum_n / n, 0.0, 4 / std::sqrt(n));
  EXPECT_NEAR(sum_n2 / n, 1.0, 4 * std::sqrt(2.0 / n));
  EXPECT_NEAR(sum_p / n, 0.7, 4 * std::sqrt(0.7 / n));
  EXPECT_NEAR(sum_p2 / n - (sum_p / n) * (sum_p / n), 0.7, 0.02);
}

TEST(Simulate, ExpectedTotalFormula) {
  SimulationConfig c = SmallCity(1);
  const double t = c.DurationDays();
  EXPECT_DOUBLE_EQ(t, 366.0);
  // Long period: the boundary correction mu*theta/(omega (1-theta)^2) = 20*0.4/(0.2*0.36) = 111.
  EXPECT_NEAR(ExpectedTotal(c), 20 * 366 / 0.6 - 111.111, 0.01);
  c.theta = 0;
  EXPECT_DOUBLE_EQ(ExpectedTotal(c), 20 * 366.0);
}

TEST(Simulate, CountsMatchTheProcessWithinStatisticalTolerance) {
  const SimulationConfig c = SmallCity(42);
  auto r = SimulateAll(c);
  ASSERT_TRUE(r) << r.error().ToString();
  const auto& counts = r->counts;
  const double t = c.DurationDays();
  // Total: Poisson cluster process, Var ~ mu T / (1 - theta)^3.
  const double expected = ExpectedTotal(c);
  const double sd = std::sqrt(c.mu_per_day * t / std::pow(1 - c.theta, 3));
  EXPECT_NEAR(static_cast<double>(counts.total), expected, 4.5 * sd);
  // Background: Poisson(mu T).
  EXPECT_NEAR(static_cast<double>(counts.background), c.mu_per_day * t,
              4.5 * std::sqrt(c.mu_per_day * t));
  EXPECT_EQ(counts.total, counts.background + counts.triggered);
  EXPECT_EQ(static_cast<std::int64_t>(r->events.size()), counts.total);
  // Branching fraction: triggered share ~ theta (slightly less: cascades cut at the end).
  const double share = static_cast<double>(counts.triggered) / static_cast<double>(counts.total);
  EXPECT_NEAR(share, (expected - c.mu_per_day * t) / expected, 0.02);
  EXPECT_NEAR(share, c.theta, 0.03);
  std::int64_t by_cat = 0;
  for (auto n : counts.by_category) by_cat += n;
  EXPECT_EQ(by_cat, counts.total);
}

TEST(Simulate, BranchingStructureIsConsistentAndHasTheTrueKernels) {
  const SimulationConfig c = SmallCity(3);
  auto r = SimulateAll(c);
  ASSERT_TRUE(r);
  const auto& ev = r->events;
  const double horizon = c.DurationDays() - 40.0 / c.omega_per_day;  // children rarely cut off
  std::vector<int> children(ev.size(), 0);
  double delay_sum = 0, d2_sum = 0;
  std::int64_t pairs = 0;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    const SimulatedEvent& e = ev[i];
    ASSERT_EQ(e.id, static_cast<std::int64_t>(i));
    if (i > 0) {
      ASSERT_GE(e.t_days, ev[i - 1].t_days);
    }
    ASSERT_GE(e.t_days, 0.0);
    ASSERT_LT(e.t_days, c.DurationDays());
    if (e.parent < 0) {
      ASSERT_EQ(e.generation, 0);
      ASSERT_GE(e.x_m, c.x0_m);
      ASSERT_LT(e.x_m, c.x0_m + c.width_m);
      continue;
    }
    ASSERT_LT(e.parent, e.id);
    const SimulatedEvent& p = ev[static_cast<std::size_t>(e.parent)];
    ASSERT_EQ(e.generation, p.generation + 1);
    ASSERT_EQ(e.category, p.category);
    ASSERT_LE(p.t_days, e.t_days);
    if (p.t_days < horizon) {
      ++children[static_cast<std::size_t>(e.parent)];
      delay_sum += e.t_days - p.t_days;
      d2_sum += (e.x_m - p.x_m) * (e.x_m - p.x_m) + (e.y_m - p.y_m) * (e.y_m - p.y_m);
      ++pairs;
    }
  }
  std::int64_t parents = 0, kids = 0;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    if (ev[i].t_days < horizon) {
      ++parents;
      kids += children[i];
    }
  }
  ASSERT_GT(pairs, 1500);
  const double n = static_cast<double>(pairs);
  // Offspring per event ~ Poisson(theta); delay ~ Exp(omega); displacement ~ N(0, sigma^2 I).
  EXPECT_NEAR(static_cast<double>(kids) / static_cast<double>(parents), c.theta,
              4 * std::sqrt(c.theta / static_cast<double>(parents)));
  EXPECT_NEAR(delay_sum / n, 1 / c.omega_per_day, 4 * (1 / c.omega_per_day) / std::sqrt(n));
  EXPECT_NEAR(std::sqrt(d2_sum / (2 * n)), c.sigma_m, 4 * c.sigma_m / std::sqrt(4 * n));
}

TEST(Simulate, CategorySharesFollowTheMix) {
  SimulationConfig c = SmallCity(5);
  c.category_mix = {};
  c.category_mix[static_cast<int>(Category::kBurglary)] = 3;
  c.category_mix[static_cast<int>(Category::kVehicleCrime)] = 1;
  auto r = SimulateAll(c);
  ASSERT_TRUE(r);
  const double total = static_cast<double>(r->counts.total);
  const double burglary =
      static_cast<double>(r->counts.by_category[static_cast<int>(Category::kBurglary)]);
  const double vehicle =
      static_cast<double>(r->counts.by_category[static_cast<int>(Category::kVehicleCrime)]);
  EXPECT_EQ(burglary + vehicle, total);
  // Clusters share a category, which inflates the variance by ~1/(1-theta)^2; 0.03 is > 4 sd.
  EXPECT_NEAR(burglary / total, 0.75, 0.03);
  const auto national = NationalCategoryMix();
  EXPECT_NEAR(national[static_cast<int>(Category::kViolenceSexualOffences)], 101750.0 / 343201,
              1e-12);
}

TEST(Simulate, SameSeedSameEventsOtherSeedOtherEvents) {
  SimulationConfig c = SmallCity(11);
  c.end = c.start + std::chrono::days{60};
  auto a = SimulateAll(c);
  auto b = SimulateAll(c);
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->events.size(), b->events.size());
  for (std::size_t i = 0; i < a->events.size(); ++i) {
    ASSERT_EQ(a->events[i].t_days, b->events[i].t_days);
    ASSERT_EQ(a->events[i].x_m, b->events[i].x_m);
    ASSERT_EQ(a->events[i].parent, b->events[i].parent);
    ASSERT_EQ(a->events[i].category, b->events[i].category);
  }
  c.seed = 12;
  auto d = SimulateAll(c);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->events.size() != a->events.size() || d->events[0].t_days != a->events[0].t_days);
}

TEST(Simulate, PurePoissonHasNoOffspringAndUniformBackgroundIsUniform) {
  SimulationConfig c = SmallCity(8);
  c.theta = 0;
  c.hotspots.clear();
  auto r = SimulateAll(c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->counts.triggered, 0);
  double mx = 0;
  for (const auto& e : r->events) mx += e.x_m - c.x0_m;
  const double n = static_cast<double>(r->events.size());
  EXPECT_NEAR(mx / n, c.width_m / 2, 4 * c.width_m / std::sqrt(12 * n));
}

TEST(Simulate, RejectsBadConfigurations) {
  auto expect_bad = [](SimulationConfig c, const char* what) {
    auto r = Validate(c);
    ASSERT_FALSE(r) << what;
    EXPECT_FALSE(r.error().message.empty());
    EXPECT_FALSE(SimulateAll(c)) << what;
  };
  SimulationConfig c = SmallCity(1);
  c.theta = 1.0;
  expect_bad(c, "theta 1");
  c = SmallCity(1);
  c.omega_per_day = 0;
  expect_bad(c, "omega 0");
  c = SmallCity(1);
  c.mu_per_day = -1;
  expect_bad(c, "mu < 0");
  c = SmallCity(1);
  c.end = c.start;
  expect_bad(c, "empty period");
  c = SmallCity(1);
  c.category_mix = {};
  expect_bad(c, "no categories");
  c = SmallCity(1);
  c.hotspots.push_back({0, 0, 100, 1});
  expect_bad(c, "hotspot outside");
  c = SmallCity(1);
  c.mu_per_day = 1e9;
  auto r = Validate(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
}

TEST(SimulateOutput, CsvRowsAreCanonicalAndProjectedNearNewport) {
  SimulationConfig c = SmallCity(2);
  c.end = c.start + std::chrono::days{20};
  auto r = SimulateAll(c);
  ASSERT_TRUE(r);
  const auto dir = testing::TempDir("sim-csv");
  for (auto res : {TimeResolution::kTimestamp, TimeResolution::kMonth}) {
    const auto path = (dir / "out.csv").string();
    auto w = CsvEventWriter::Open(path, c, res);
    ASSERT_TRUE(w) << w.error().ToString();
    ASSERT_TRUE(w->Write(r->events));
    ASSERT_TRUE(w->Close());
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "id,category,time,lon,lat");
    const std::regex row(
        res == TimeResolution::kMonth
            ? R"(^\d+,[a-z-]+,2024-01,-?\d+\.\d{6},\d+\.\d{6}$)"
            : R"(^\d+,[a-z-]+,2024-01-\d\dT\d\d:\d\d:\d\dZ,-?\d+\.\d{6},\d+\.\d{6}$)");
    std::size_t rows = 0;
    while (std::getline(in, line)) {
      ASSERT_TRUE(std::regex_match(line, row)) << line;
      const auto last = line.rfind(',');
      const auto prev = line.rfind(',', last - 1);
      const double lon = std::stod(line.substr(prev + 1, last - prev - 1));
      const double lat = std::stod(line.substr(last + 1));
      EXPECT_NEAR(lon, -3.0, 0.15);
      EXPECT_NEAR(lat, 51.58, 0.1);
      ++rows;
    }
    EXPECT_EQ(rows, r->events.size());
  }
}

TEST(SimulateOutput, CanonicalReaderReadsBackEveryEvent) {
  SimulationConfig c = SmallCity(13);
  c.end = c.start + std::chrono::days{45};
  auto r = SimulateAll(c);
  ASSERT_TRUE(r);
  const auto dir = testing::TempDir("sim-roundtrip");
  for (auto res : {TimeResolution::kTimestamp, TimeResolution::kMonth}) {
    const auto path = (dir / "rt.csv").string();
    auto w = CsvEventWriter::Open(path, c, res);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->Write(r->events));
    ASSERT_TRUE(w->Close());
    ingest::ReaderOptions options;
    options.format = ingest::InputFormat::kCanonicalCsv;
    options.store_epsg = 27700;
    auto reader = ingest::OpenEventReader(path, options);
    ASSERT_TRUE(reader) << reader.error().ToString();
    std::vector<Event> events;
    std::vector<ingest::RowError> errors;
    while (true) {
      auto more = (*reader)->Next(events, errors, 4096);
      ASSERT_TRUE(more) << more.error().ToString();
      if (!*more) break;
    }
    ASSERT_TRUE(errors.empty()) << errors.front().ToString();
    ASSERT_EQ(events.size(), r->events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      const SimulatedEvent& e = r->events[i];
      ASSERT_EQ(events[i].source_id, std::to_string(e.id));
      ASSERT_EQ(events[i].category, e.category);
      const TimePoint t = e.Time(c.start);
      if (res == TimeResolution::kMonth) {
        ASSERT_EQ(events[i].when.start, StartOfMonth(t));
        ASSERT_EQ(events[i].when.end, AddMonths(StartOfMonth(t), 1));
      } else {
        ASSERT_EQ(events[i].when.start, t);
      }
      // 6 decimals of a degree: ~0.1 m; PROJ both ways.
      ASSERT_NEAR(events[i].x, e.x_m, 0.2);
      ASSERT_NEAR(events[i].y, e.y_m, 0.2);
    }
  }
}

TEST(SimulateOutput, FirstRowTimeIsTheSimulatedInstant) {
  SimulationConfig c = SmallCity(2);
  c.end = c.start + std::chrono::days{3};
  auto r = SimulateAll(c);
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->events.empty());
  const auto path = (testing::TempDir("sim-first") / "a.csv").string();
  auto w = CsvEventWriter::Open(path, c, TimeResolution::kTimestamp);
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->Write(std::span(r->events).first(1)));
  ASSERT_TRUE(w->Close());
  std::ifstream in(path);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  EXPECT_NE(row.find(FormatIso(r->events[0].Time(c.start))), std::string::npos) << row;
}

TEST(SimulateOutput, TruthJsonCarriesParametersAndCounts) {
  SimulationConfig c = SmallCity(4);
  c.end = c.start + std::chrono::days{30};
  auto r = SimulateAll(c);
  ASSERT_TRUE(r);
  auto j = TruthJson(c, r->counts, TimeResolution::kMonth, "x.csv");
  ASSERT_TRUE(j) << j.error().ToString();
  EXPECT_EQ((*j)["parameters"]["theta"], 0.4);
  EXPECT_EQ((*j)["parameters"]["mean_delay_days"], 5.0);
  EXPECT_EQ((*j)["counts"]["total"], r->counts.total);
  EXPECT_EQ((*j)["time_resolution"], "month");
  EXPECT_EQ((*j)["hotspots"].size(), 6u);
  EXPECT_NEAR((*j)["hotspots"][0]["lat"].get<double>(), 51.58, 0.1);
  const std::string text = TruthText(c, r->counts);
  EXPECT_NE(text.find("theta = 0.4"), std::string::npos) << text;
}

TEST(SimulateOutput, HistoryHonoursTheCutOffAndMonthIntervals) {
  SimulationConfig c = SmallCity(6);
  c.end = c.start + std::chrono::days{70};
  auto r = SimulateAll(c);
  ASSERT_TRUE(r);
  const TimePoint before = c.start + std::chrono::days{40};  // 2024-02-10
  auto ts = ToHistory(r->events, c, before, TimeResolution::kTimestamp);
  auto mo = ToHistory(r->events, c, before, TimeResolution::kMonth);
  std::size_t expect_ts = 0, expect_mo = 0;
  for (const auto& e : r->events) {
    if (e.t_days < 40) ++expect_ts;
    if (e.t_days < 60) ++expect_mo;  // February 2024 started before the cut-off
  }
  EXPECT_EQ(ts.size(), expect_ts);
  EXPECT_EQ(mo.size(), expect_mo);
  for (std::size_t i = 0; i < mo.size(); ++i) EXPECT_GE(mo.t_end[i] - mo.t_start[i], 28 * 86400);
  for (std::size_t i = 0; i < ts.size(); ++i) EXPECT_EQ(ts.t_end[i] - ts.t_start[i], 1);
}

TEST(SimulateCli, WritesReproducibleFilesAndExplainsItself) {
  const auto dir = testing::TempDir("sim-cli");
  const std::string cli = testing::CliPath().string();
  std::string out;
  const std::string base = cli + " simulate --days 20 --seed 9 --quiet";
  ASSERT_EQ(testing::RunCommand(base + " --out " + (dir / "a.csv").string() + " --truth " +
                                    (dir / "a.json").string(),
                                &out),
            0)
      << out;
  ASSERT_EQ(testing::RunCommand(base + " --out " + (dir / "b.csv").string(), &out), 0) << out;
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const std::string a = slurp(dir / "a.csv");
  EXPECT_EQ(a, slurp(dir / "b.csv"));
  EXPECT_GT(std::count(a.begin(), a.end(), '\n'), 200);
  const auto truth = nlohmann::json::parse(slurp(dir / "a.json"));
  EXPECT_EQ(truth["parameters"]["mu_per_day"], 20.0);
  EXPECT_EQ(truth["counts"]["total"].get<std::int64_t>() + 1, std::count(a.begin(), a.end(), '\n'));

  ASSERT_EQ(testing::RunCommand(cli + " simulate --help", &out), 0);
  for (const char* word : {"--theta", "--omega", "--sigma", "--month-only", "--truth", "--crs"}) {
    EXPECT_NE(out.find(word), std::string::npos) << word;
  }
  EXPECT_NE(testing::RunCommand(
                cli + " simulate --out " + (dir / "c.csv").string() + " --theta 1.2", &out),
            0);
  EXPECT_NE(out.find("theta"), std::string::npos) << out;
  EXPECT_NE(testing::RunCommand(cli + " simulate --out x.csv --crs EPSG:32610", &out), 0);
  EXPECT_NE(out.find("--centre"), std::string::npos) << out;
  EXPECT_NE(testing::RunCommand(cli + " simulate --out " + (dir / "d.csv").string() +
                                    " --categories burglary=1,nonsense=2",
                                &out),
            0);
  EXPECT_NE(out.find("nonsense"), std::string::npos) << out;
}

}  // namespace
}  // namespace crimecast::simulate
