// Self-exciting models at national scale.
//
// Input: a simulated year of one million events (crimecast's own simulator: 200 km square,
// 200 hotspots, theta 0.4, mean delay ~3.3 days, sigma 60 m), forecast on a 150 m grid.
// Measures, in one run:
//   * grid ETAS Predict (EM fit + forecast) with 2 threads: the target is < 10 s;
//   * the same with 1 thread: the 2-core scaling;
//   * one linear-time E-step against the naive pairwise E-step (named baseline) on the same
//     cells: the speed-up of the recursive form;
//   * continuous SEPP Predict on the last 5 weeks of the year (~100k events), 2 threads.
// and prints the ratios at the end.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdio>
#include <map>
#include <string>

#include "core/models/etas_grid.hpp"
#include "core/models/self_exciting.hpp"
#include "core/simulate/output.hpp"
#include "core/simulate/simulate.hpp"

namespace {

using namespace crimecast;

// CPU seconds of the whole process (all threads): on a shared machine wall time depends on the
// neighbours, CPU time does not.
double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Data {
  simulate::SimulationConfig config;
  models::History history;  // the whole year
  models::History recent;   // the last 35 days
  models::ForecastRequest request;
  models::etas::CellEvents cells;
};

const Data& GetData() {
  static const Data data = [] {
    Data d;
    simulate::SimulationConfig& c = d.config;
    c = simulate::DefaultConfig(5);
    c.width_m = c.height_m = 200000;
    c.x0_m = 331000 - c.width_m / 2;
    c.y0_m = 250000 - c.height_m / 2;
    c.hotspots = simulate::MakeHotspots(200, c.x0_m, c.y0_m, c.width_m, c.height_m, 5);
    c.theta = 0.4;
    c.omega_per_day = 0.3;
    c.sigma_m = 60;
    c.mu_per_day = 1e6 * (1 - c.theta) / 366;
    auto r = simulate::SimulateAll(c);
    if (!r) std::abort();
    d.history = simulate::ToHistory(r->events, c, c.end, simulate::TimeResolution::kTimestamp);
    d.recent = simulate::ToHistory(r->events, c, c.end, simulate::TimeResolution::kTimestamp);
    const std::int64_t cut = (c.end - std::chrono::days{35}).time_since_epoch().count();
    models::History& h = d.recent;
    std::size_t k = 0;
    while (k < h.size() && h.t_start[k] < cut) ++k;
    for (auto* v : {&h.x, &h.y, &h.weight}) v->erase(v->begin(), v->begin() + k);
    for (auto* v : {&h.t_start, &h.t_end, &h.id}) v->erase(v->begin(), v->begin() + k);
    h.category.erase(h.category.begin(), h.category.begin() + k);
    auto grid = spatial::Grid::Covering(c.epsg, 150, c.x0_m - 1000, c.y0_m - 1000,
                                        c.x0_m + c.width_m + 1000, c.y0_m + c.height_m + 1000);
    d.request = models::ForecastRequest{*grid, c.end, *ParseHorizon("7d")};
    auto prepared = models::self_exciting::PrepareEvents(d.history, c.end, 0);
    d.cells = models::etas::BuildCellEvents(*prepared, *grid);
    std::fprintf(stderr, "simulated %zu events (%zu in the last 35 days), %zu occupied cells\n",
                 d.history.size(), d.recent.size(), d.cells.cells());
    return d;
  }();
  return data;
}

void PredictBench(benchmark::State& state, bool sepp, int threads) {
  const Data& d = GetData();
  models::ModelOptions options;
  options.threads = threads;
  options.params["window_days"] = 0;
  auto model = sepp ? models::MakeSeppModel(options) : models::MakeEtasGridModel(options);
  models::Forecast f;
  const double cpu0 = ProcessCpuSeconds();
  for (auto _ : state) {
    auto r = model->Predict(sepp ? d.recent : d.history, d.request);
    if (!r) {
      state.SkipWithError(r.error().ToString().c_str());
      return;
    }
    f = std::move(*r);
  }
  state.counters["cpu_s_all_threads"] =
      (ProcessCpuSeconds() - cpu0) / static_cast<double>(state.iterations());
  state.counters["events"] = f.parameters["events"];
  state.counters["theta"] = f.parameters["theta"];
  state.counters["mean_delay_days"] = f.parameters["mean_delay_days"];
  state.counters["esteps"] = f.parameters["iterations"];
  state.counters["fallback"] = f.parameters["fallback"];
  if (sepp) state.counters["sigma_m"] = f.parameters["sigma_m"];
}

void EStepBench(benchmark::State& state, bool naive) {
  const Data& d = GetData();
  const std::vector<double> mu(d.cells.cells(), 0.01);
  double sink = 0;
  for (auto _ : state) {
    const auto s = naive ? models::etas::EStepNaive(d.cells, mu, 0.4, 0.3)
                         : models::etas::EStep(d.cells, mu, 0.4, 0.3);
    sink += s.triggered;
  }
  benchmark::DoNotOptimize(sink);
}

// Keeps each benchmark's mean real time (seconds) for the closing ratios.
class CapturingReporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> seconds;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      const double multiplier = benchmark::GetTimeUnitMultiplier(run.time_unit);
      seconds[run.run_name.function_name] = run.GetAdjustedRealTime() / multiplier;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("etas_grid_predict_1M/threads:2", PredictBench, false, 2)
      ->Unit(benchmark::kSecond)
      ->Iterations(1)
      ->UseRealTime();
  benchmark::RegisterBenchmark("etas_grid_predict_1M/threads:1", PredictBench, false, 1)
      ->Unit(benchmark::kSecond)
      ->Iterations(1)
      ->UseRealTime();
  benchmark::RegisterBenchmark("etas_estep_recursive_1M", EStepBench, false)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("etas_estep_naive_pairs_1M", EStepBench, true)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(1)
      ->UseRealTime();
  benchmark::RegisterBenchmark("sepp_predict_last35d/threads:2", PredictBench, true, 2)
      ->Unit(benchmark::kSecond)
      ->Iterations(1)
      ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  CapturingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto& s = reporter.seconds;
  auto has = [&](const char* k) { return s.count(k) > 0; };
  std::printf("\n== self-exciting models, summary\n");
  if (has("etas_grid_predict_1M/threads:2")) {
    const double t2 = s["etas_grid_predict_1M/threads:2"];
    std::printf("grid ETAS fit+forecast, 1M events, 2 threads: %.2f s (target < 10 s: %s)\n", t2,
                t2 < 10 ? "met" : "NOT met");
    if (has("etas_grid_predict_1M/threads:1")) {
      std::printf("2-thread scaling vs 1 thread (baseline): %.2fx\n",
                  s["etas_grid_predict_1M/threads:1"] / t2);
    }
  }
  if (has("etas_estep_recursive_1M") && has("etas_estep_naive_pairs_1M")) {
    std::printf("E-step, recursive vs naive pairwise (baseline): %.1f ms vs %.1f ms = %.1fx\n",
                1e3 * s["etas_estep_recursive_1M"], 1e3 * s["etas_estep_naive_pairs_1M"],
                s["etas_estep_naive_pairs_1M"] / s["etas_estep_recursive_1M"]);
  }
  if (has("sepp_predict_last35d/threads:2")) {
    std::printf("continuous SEPP fit+forecast, last 35 days (~100k events), 2 threads: %.2f s\n",
                s["sepp_predict_last35d/threads:2"]);
  }
  benchmark::Shutdown();
  return 0;
}
