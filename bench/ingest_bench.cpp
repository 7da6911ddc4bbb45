// bench/ingest_bench.cpp: the file importers against the sqlite3 shell's `.import`, measured in
// the same run.
//
// Baseline: `sqlite3 DB` with `.mode csv` and one `.import FILE t` per file into a fresh
// database file: the plain-table load the import benchmark target of issue 2 names. It only
// splits CSV and stores text.
// Measured: crimecast's readers (ingest/reader.hpp) on the same files: tokenize, validate every
// field, parse months/times, map categories, derive ASB ids, project to the store CRS, and run
// the per-file out-of-area check. The store's insert is not included here (that is the import
// benchmark's job); this bench shows how much of the budget the readers use.
//
// Inputs: the 24 Gwent files and the 3 Vancouver files from ../shared/data when present
// (CRIMECAST_SHARED_DATA or beside the checkout); otherwise 24 synthetic data.police.uk files of
// 5,500 rows each.
//
// Run: build/<dir>/bench/ingest_bench [--benchmark_min_time=1]. Times are wall-clock (the
// baseline runs in a child process), so run on a quiet machine; the ratios printed after the
// table are rows/s of the reader over rows/s of the baseline (> 1: the reader is faster).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/ingest/area_check.hpp"
#include "core/ingest/reader.hpp"

namespace {

namespace fs = std::filesystem;
using crimecast::Event;
using crimecast::ingest::CheckArea;
using crimecast::ingest::InputFormat;
using crimecast::ingest::OpenEventReader;
using crimecast::ingest::ReaderOptions;
using crimecast::ingest::RowError;

fs::path SharedData() {
  if (const char* env = std::getenv("CRIMECAST_SHARED_DATA"); env != nullptr && *env != '\0') {
    return env;
  }
  return fs::path(CRIMECAST_SOURCE_DIR).parent_path() / "shared" / "data";
}

fs::path TempRoot() {
  static const fs::path root =
      fs::temp_directory_path() / ("crimecast-ingest-bench-" + std::to_string(::getpid()));
  fs::create_directories(root);
  return root;
}

std::vector<fs::path> CsvFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::exists(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".csv") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// 24 synthetic monthly files shaped like data.police.uk's: 8,000 snap points, 18% ASB rows
// without an id, 1% without coordinates.
std::vector<fs::path> SyntheticPoliceFiles() {
  std::vector<fs::path> files;
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::pair<double, double>> points(8000);
  for (auto& p : points) p = {-3.4 + 0.6 * u(rng), 51.5 + 0.4 * u(rng)};
  const char* types[] = {
      "Violence and sexual offences", "Public order",  "Shoplifting", "Other theft",
      "Criminal damage and arson",    "Vehicle crime", "Burglary"};
  for (int f = 0; f < 24; ++f) {
    const fs::path path = TempRoot() / ("synthetic-" + std::to_string(f) + ".csv");
    std::ofstream out(path);
    out << "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
           "LSOA name,Crime type,Last outcome category,Context\n";
    const std::string month =
        "2023-" + std::string(f % 12 < 9 ? "0" : "") + std::to_string(f % 12 + 1);
    for (int i = 0; i < 5500; ++i) {
      const auto& p = points[static_cast<std::size_t>(u(rng) * 7999)];
      const bool asb = u(rng) < 0.18;
      const bool unlocated = u(rng) < 0.01;
      char id[65];
      for (int k = 0; k < 64; ++k) id[k] = "0123456789abcdef"[static_cast<int>(u(rng) * 15.99)];
      id[64] = '\0';
      out << (asb ? "" : id) << ',' << month << ",Gwent Police,Gwent Police,";
      if (!unlocated)
        out << p.first << ',' << p.second;
      else
        out << ',';
      out << ",On or near Street " << static_cast<int>(p.first * -1000) % 500 << ",W0100"
          << i % 1000 << ",Newport 0" << i % 90 << "A,"
          << (asb ? "Anti-social behaviour" : types[i % 7])
          << (asb ? ",," : ",Investigation complete; no suspect identified,") << "\n";
    }
    files.push_back(path);
  }
  return files;
}

struct Inputs {
  std::vector<fs::path> police;
  std::vector<fs::path> vancouver;
  std::int64_t police_rows = 0;
  std::int64_t vancouver_rows = 0;
};

std::int64_t CountDataRows(const std::vector<fs::path>& files) {
  std::int64_t rows = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) rows += line.empty() ? 0 : 1;
  }
  return rows;
}

const Inputs& GetInputs() {
  static const Inputs inputs = [] {
    Inputs in;
    in.police = CsvFiles(SharedData() / "police-uk-gwent-street");
    if (in.police.empty()) in.police = SyntheticPoliceFiles();
    in.vancouver = CsvFiles(SharedData() / "vancouver-vpd-crime");
    in.police_rows = CountDataRows(in.police);
    in.vancouver_rows = CountDataRows(in.vancouver);
    return in;
  }();
  return inputs;
}

void SqliteImport(benchmark::State& state, const std::vector<fs::path>& files, std::int64_t rows) {
  if (files.empty()) {
    state.SkipWithError("no input files");
    return;
  }
  const fs::path script = TempRoot() / "import.sql";
  {
    std::ofstream out(script);
    out << ".mode csv\n";
    for (const auto& f : files) out << ".import '" << f.string() << "' t\n";
  }
  const fs::path db = TempRoot() / "baseline.db";
  const std::string command =
      "sqlite3 '" + db.string() + "' < '" + script.string() + "' > /dev/null 2>&1";
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove(db);
    state.ResumeTiming();
    if (std::system(command.c_str()) != 0) {
      state.SkipWithError("sqlite3 shell failed (is the sqlite3 package installed?)");
      return;
    }
  }
  fs::remove(db);
  state.SetItemsProcessed(state.iterations() * rows);
}

void ReadAll(benchmark::State& state, const std::vector<fs::path>& files,
             const ReaderOptions& options) {
  if (files.empty()) {
    state.SkipWithError("no input files");
    return;
  }
  std::int64_t rows = 0;
  std::vector<Event> events;
  std::vector<RowError> errors;
  for (auto _ : state) {
    for (const auto& f : files) {
      auto reader = OpenEventReader(f.string(), options);
      if (!reader) {
        state.SkipWithError(reader.error().ToString().c_str());
        return;
      }
      events.clear();
      errors.clear();
      while (true) {
        auto more = (*reader)->Next(events, errors, 1 << 17);
        if (!more || !*more) break;
      }
      CheckArea(events);  // one batch per file, as on import
      rows += (*reader)->rows_read();
      benchmark::DoNotOptimize(events.data());
    }
  }
  state.SetItemsProcessed(rows);
}

void BM_SqliteShellImportGwent(benchmark::State& state) {
  SqliteImport(state, GetInputs().police, GetInputs().police_rows);
}
BENCHMARK(BM_SqliteShellImportGwent)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ReadPoliceUkGwent(benchmark::State& state) {
  ReadAll(state, GetInputs().police, ReaderOptions{});
}
BENCHMARK(BM_ReadPoliceUkGwent)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SqliteShellImportVancouver(benchmark::State& state) {
  SqliteImport(state, GetInputs().vancouver, GetInputs().vancouver_rows);
}
BENCHMARK(BM_SqliteShellImportVancouver)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ReadMappedVancouver(benchmark::State& state) {
  ReaderOptions options;
  options.format = InputFormat::kMapped;
  options.mapping_path = std::string(CRIMECAST_SOURCE_DIR) + "/mappings/vancouver-vpd.toml";
  ReadAll(state, GetInputs().vancouver, options);
}
BENCHMARK(BM_ReadMappedVancouver)->Unit(benchmark::kMillisecond)->UseRealTime();

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

void PrintRatio(const RatioReporter& r, const char* what, const std::string& ours,
                const std::string& baseline) {
  const double a = r.Rate(ours + "/real_time");
  const double b = r.Rate(baseline + "/real_time");
  if (a > 0 && b > 0) {
    std::printf("%s: %s %.0f rows/s vs baseline %s %.0f rows/s -> ratio %.2fx\n", what,
                ours.c_str(), a, baseline.c_str(), b, a / b);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\n");
  PrintRatio(reporter, "data.police.uk (Gwent, 24 files)", "BM_ReadPoliceUkGwent",
             "BM_SqliteShellImportGwent");
  PrintRatio(reporter, "Vancouver (3 files, mapped)", "BM_ReadMappedVancouver",
             "BM_SqliteShellImportVancouver");
  std::error_code ec;
  fs::remove_all(TempRoot(), ec);
  benchmark::Shutdown();
  return 0;
}
