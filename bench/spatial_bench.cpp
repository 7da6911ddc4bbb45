// bench/spatial_bench.cpp: the two spatial hot paths, each against a named baseline measured in
// the same run.
//
// 1. Point-in-polygon, "which LSOA is this point in?": BoundaryLocator::Find (GEOS STRtree over
//    the feature envelopes + one prepared geometry per feature) against the baseline
//    BoundaryLocator::FindBruteForce (every feature in turn, plain GEOSIntersects, which still
//    rejects most features on their envelope first). Polygons: the 2,696 Welsh LSOAs (2021) from
//    ../shared/data when present, else a synthetic lattice of 2,500 40-vertex polygons. Points:
//    uniform in the envelopes of randomly chosen features, in BNG metres.
// 2. Projection of 1M lon/lat points to BNG: one batch Projection::Forward(span, span) call
//    against the baseline of one Projection::Forward(x, y) call per point.
//
// Run: build/<dir>/bench/spatial_bench [--benchmark_min_time=0.5]. The ratios are printed after
// Google Benchmark's table; they use items/s, which Google Benchmark computes from CPU time for
// the single-threaded benchmarks (steadier than wall-clock time on a shared machine).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/spatial/boundaries.hpp"
#include "core/spatial/projection.hpp"

namespace {

using crimecast::spatial::Boundaries;
using crimecast::spatial::BoundaryLocator;
using crimecast::spatial::Frame;
using crimecast::spatial::kBritishNationalGrid;
using crimecast::spatial::kWgs84;
using crimecast::spatial::Projection;

std::filesystem::path SharedData() {
  if (const char* env = std::getenv("CRIMECAST_SHARED_DATA"); env != nullptr && *env != '\0') {
    return env;
  }
  return std::filesystem::path(CRIMECAST_SOURCE_DIR).parent_path() / "shared" / "data";
}

// 50 x 50 squares of 0.02 degrees near Newport, each edge split into 10 segments (40 vertices):
// roughly the size and vertex count of the super-generalised LSOAs.
std::filesystem::path WriteSyntheticPolygons() {
  const auto path = std::filesystem::temp_directory_path() /
                    ("crimecast-spatial-bench-" + std::to_string(::getpid()) + ".geojson");
  std::ofstream out(path);
  out << R"({"type":"FeatureCollection","features":[)";
  for (int i = 0; i < 50; ++i) {
    for (int j = 0; j < 50; ++j) {
      const double x0 = -3.5 + 0.02 * i;
      const double y0 = 51.3 + 0.02 * j;
      out << (i + j > 0 ? "," : "") << R"({"type":"Feature","properties":{"code":"S)" << i * 50 + j
          << R"("},"geometry":{"type":"Polygon","coordinates":[[)";
      const double cx[5] = {x0, x0 + 0.02, x0 + 0.02, x0, x0};
      const double cy[5] = {y0, y0, y0 + 0.02, y0 + 0.02, y0};
      for (int e = 0; e < 4; ++e) {
        for (int k = 0; k < 10; ++k) {
          const double t = k / 10.0;
          out << "[" << cx[e] + (cx[e + 1] - cx[e]) * t << "," << cy[e] + (cy[e + 1] - cy[e]) * t
              << "],";
        }
      }
      out << "[" << x0 << "," << y0 << "]]]}}";
    }
  }
  out << "]}";
  return path;
}

struct PipInput {
  std::string source;
  std::optional<Boundaries> boundaries;
  std::vector<double> xs;
  std::vector<double> ys;
};

const PipInput& GetPipInput() {
  static const PipInput input = [] {
    PipInput in;
    auto path = SharedData() / "ons-lsoa-boundaries-wales" / "lsoa21_boundaries.geojson";
    in.source = "Welsh LSOAs 2021 (shared data)";
    if (!std::filesystem::exists(path)) {
      path = WriteSyntheticPolygons();
      in.source = "synthetic 50x50 lattice, 40 vertices each";
    }
    auto b = Boundaries::Load(path);
    if (!b) {
      std::fprintf(stderr, "cannot load %s: %s\n", path.c_str(), b.error().ToString().c_str());
      std::exit(1);
    }
    in.boundaries.emplace(std::move(*b));
    std::mt19937_64 rng(20240601);
    std::uniform_int_distribution<std::size_t> pick(0, in.boundaries->size() - 1);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int i = 0; i < 100'000; ++i) {
      const auto& e = (*in.boundaries)[pick(rng)].projected_envelope;
      in.xs.push_back(e.min_x + u(rng) * (e.max_x - e.min_x));
      in.ys.push_back(e.min_y + u(rng) * (e.max_y - e.min_y));
    }
    return in;
  }();
  return input;
}

void BM_LocateStrTreePrepared(benchmark::State& state) {
  const PipInput& in = GetPipInput();
  auto locator = BoundaryLocator::Create(*in.boundaries, Frame::kProjected);
  if (!locator) {
    state.SkipWithError(locator.error().message.c_str());
    return;
  }
  std::size_t i = 0;
  std::int64_t found = 0;
  for (auto _ : state) {
    found += locator->Find(in.xs[i], in.ys[i]) >= 0;
    i = (i + 1) % in.xs.size();
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(in.source);
}
BENCHMARK(BM_LocateStrTreePrepared);

void BM_LocateBruteForce(benchmark::State& state) {
  const PipInput& in = GetPipInput();
  auto locator = BoundaryLocator::Create(*in.boundaries, Frame::kProjected);
  if (!locator) {
    state.SkipWithError(locator.error().message.c_str());
    return;
  }
  std::size_t i = 0;
  std::int64_t found = 0;
  for (auto _ : state) {
    found += locator->FindBruteForce(in.xs[i], in.ys[i]) >= 0;
    i = (i + 1) % in.xs.size();
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(in.source);
}
BENCHMARK(BM_LocateBruteForce);

// For information: the TBB batch path on all cores, locator construction per thread included
// (wall-clock time, since CPU time would hide the parallelism).
void BM_LocatePointsParallel(benchmark::State& state) {
  const PipInput& in = GetPipInput();
  for (auto _ : state) {
    auto out = crimecast::spatial::LocatePoints(*in.boundaries, Frame::kProjected, in.xs, in.ys);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(in.xs.size()));
}
BENCHMARK(BM_LocatePointsParallel)->Unit(benchmark::kMillisecond)->UseRealTime();

constexpr std::size_t kProjectPoints = 1'000'000;

// 1M points spread over Great Britain.
const std::pair<std::vector<double>, std::vector<double>>& LonLats() {
  static const auto points = [] {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> lon(-5.5, 1.5);
    std::uniform_real_distribution<double> lat(50.2, 55.8);
    std::pair<std::vector<double>, std::vector<double>> p;
    p.first.resize(kProjectPoints);
    p.second.resize(kProjectPoints);
    for (std::size_t i = 0; i < kProjectPoints; ++i) {
      p.first[i] = lon(rng);
      p.second[i] = lat(rng);
    }
    return p;
  }();
  return points;
}

void BM_ProjectBatch1M(benchmark::State& state) {
  auto projection = Projection::Create(kWgs84, kBritishNationalGrid);
  const auto& [lons, lats] = LonLats();
  std::vector<double> xs(kProjectPoints);
  std::vector<double> ys(kProjectPoints);
  for (auto _ : state) {
    state.PauseTiming();
    xs = lons;
    ys = lats;
    state.ResumeTiming();
    benchmark::DoNotOptimize(projection->Forward(xs, ys));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kProjectPoints));
}
BENCHMARK(BM_ProjectBatch1M)->Unit(benchmark::kMillisecond);

void BM_ProjectOneByOne1M(benchmark::State& state) {
  auto projection = Projection::Create(kWgs84, kBritishNationalGrid);
  const auto& [lons, lats] = LonLats();
  std::vector<double> xs(kProjectPoints);
  std::vector<double> ys(kProjectPoints);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kProjectPoints; ++i) {
      auto p = projection->Forward(lons[i], lats[i]);
      xs[i] = p ? p->x : 0;
      ys[i] = p ? p->y : 0;
    }
    benchmark::DoNotOptimize(xs.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kProjectPoints));
}
BENCHMARK(BM_ProjectOneByOne1M)->Unit(benchmark::kMillisecond);

// Console output as usual, plus a record of each benchmark's items/s for the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) rates_[run.benchmark_name()] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  double Rate(const std::string& name) const {
    auto it = rates_.find(name);
    return it == rates_.end() ? 0.0 : it->second;
  }

 private:
  std::map<std::string, double> rates_;
};

void PrintRatio(const RatioReporter& r, const char* what, const std::string& fast,
                const std::string& baseline) {
  const double a = r.Rate(fast);
  const double b = r.Rate(baseline);
  if (a > 0 && b > 0) {
    std::printf("%s: %s %.0f points/s vs baseline %s %.0f points/s -> ratio %.1fx\n", what,
                fast.c_str(), a, baseline.c_str(), b, a / b);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\n");
  PrintRatio(reporter, "point-in-polygon", "BM_LocateStrTreePrepared", "BM_LocateBruteForce");
  PrintRatio(reporter, "projection of 1M points", "BM_ProjectBatch1M", "BM_ProjectOneByOne1M");
  benchmark::Shutdown();
  return 0;
}
