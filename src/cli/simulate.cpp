// crimecast simulate: writes a synthetic city's crimes (known parameters) as canonical CSV.
#include "core/simulate/simulate.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "core/simulate/output.hpp"
#include "core/spatial/projection.hpp"

namespace crimecast::cli {
namespace {

struct SimulateArgs {
  std::string out;
  std::string truth;
  std::uint64_t seed = 1;
  std::string start = "2024-01-01";
  std::string end;
  double days = 366;
  double mu = 20;
  double theta = 0.4;
  double omega = 0.2;
  double sigma = 100;
  int hotspots = 6;
  double uniform_share = 0.25;
  double size_km = 10;
  std::string crs = "EPSG:27700";
  std::string centre;
  bool month_only = false;
  std::string categories;
  bool quiet = false;
};

constexpr double kNewportLon = -2.9977;
constexpr double kNewportLat = 51.5842;

// "violence=3,asb=2" -> shares (unnamed categories get 0).
Result<std::array<double, kCategoryCount>> ParseMix(std::string_view spec) {
  std::array<double, kCategoryCount> mix{};
  std::size_t pos = 0;
  while (pos <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', pos), spec.size());
    const std::string_view item = spec.substr(pos, comma - pos);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("--categories item '{}' must look like slug=share", item));
    }
    const auto cat = ParseCategory(item.substr(0, eq));
    if (!cat) {
      return Fail(ErrorCode::kUnknownCategory,
                  fmt::format("--categories: unknown category '{}'", item.substr(0, eq)));
    }
    const std::string value(item.substr(eq + 1));
    char* end = nullptr;
    const double share = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size() || !(share >= 0) ||
        !std::isfinite(share)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("--categories: share '{}' must be a number >= 0", value));
    }
    mix[static_cast<int>(*cat)] += share;
    pos = comma + 1;
  }
  return mix;
}

Result<spatial::ProjectedPoint> ParseCentre(const std::string& text, int epsg) {
  double lon = kNewportLon;
  double lat = kNewportLat;
  if (text.empty()) {
    if (epsg == spatial::kBritishNationalGrid) return spatial::ProjectedPoint{331000, 188000};
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("--centre LON,LAT is required with --crs EPSG:{} (the default centre "
                            "is only defined for EPSG:27700)",
                            epsg));
  }
  if (std::sscanf(text.c_str(), "%lf,%lf", &lon, &lat) != 2 || !spatial::IsValidLonLat(lon, lat)) {
    return Fail(ErrorCode::kBadCoordinate,
                fmt::format("--centre '{}' must be LON,LAT in WGS84 degrees", text));
  }
  auto projection = spatial::Projection::Create(spatial::kWgs84, epsg);
  if (!projection) return Unexpected(projection.error());
  auto p = projection->Forward(lon, lat);
  if (!p) return Unexpected(p.error());
  return spatial::ProjectedPoint{std::round(p->x), std::round(p->y)};
}

Result<simulate::SimulationConfig> BuildConfig(const SimulateArgs& a) {
  simulate::SimulationConfig c;
  auto epsg = spatial::ParseEpsg(a.crs);
  if (!epsg) return Unexpected(epsg.error());
  c.epsg = *epsg;
  if (!(a.size_km > 0 && a.size_km <= 2000)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("--size-km {} must be in (0, 2000]", a.size_km));
  }
  auto centre = ParseCentre(a.centre, c.epsg);
  if (!centre) return Unexpected(centre.error());
  c.width_m = c.height_m = a.size_km * 1000;
  c.x0_m = centre->x - c.width_m / 2;
  c.y0_m = centre->y - c.height_m / 2;
  auto start = ParseInstant(a.start);
  if (!start) return Unexpected(start.error());
  c.start = *start;
  if (!a.end.empty()) {
    auto end = ParseInstant(a.end);
    if (!end) return Unexpected(end.error());
    c.end = *end;
  } else {
    if (!(a.days > 0 && a.days <= 36600)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("--days {} must be in (0, 36600]", a.days));
    }
    c.end = c.start + Seconds{static_cast<std::int64_t>(std::llround(a.days * 86400))};
  }
  c.mu_per_day = a.mu;
  c.theta = a.theta;
  c.omega_per_day = a.omega;
  c.sigma_m = a.sigma;
  c.uniform_share = a.uniform_share;
  c.seed = a.seed;
  if (a.hotspots < 0 || a.hotspots > 1000) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("--hotspots {} must be in 0..1000", a.hotspots));
  }
  c.hotspots = simulate::MakeHotspots(a.hotspots, c.x0_m, c.y0_m, c.width_m, c.height_m, a.seed);
  if (!a.categories.empty()) {
    auto mix = ParseMix(a.categories);
    if (!mix) return Unexpected(mix.error());
    c.category_mix = *mix;
  }
  if (auto ok = simulate::Validate(c); !ok) return Unexpected(ok.error());
  return c;
}

int Run(const SimulateArgs& a) {
  auto config = BuildConfig(a);
  if (!config) return ReportError(config.error());
  const auto resolution =
      a.month_only ? simulate::TimeResolution::kMonth : simulate::TimeResolution::kTimestamp;
  auto writer = simulate::CsvEventWriter::Open(a.out, *config, resolution);
  if (!writer) return ReportError(writer.error());

  const double expected = simulate::ExpectedTotal(*config);
  const bool progress = !a.quiet && expected > 200000 && ::isatty(STDERR_FILENO) == 1;
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t written = 0;
  std::int64_t next_report = 0;
  auto counts = simulate::Simulate(
      *config, [&](std::span<const simulate::SimulatedEvent> batch) -> Result<void> {
        if (auto ok = writer->Write(batch); !ok) return ok;
        written += static_cast<std::int64_t>(batch.size());
        if (progress && written >= next_report) {
          std::fprintf(stderr, "\rsimulated %lld events (%.0f %% of the expected %.0f)",
                       static_cast<long long>(written),
                       std::min(100.0, 100.0 * static_cast<double>(written) / expected), expected);
          next_report = written + static_cast<std::int64_t>(expected / 100);
        }
        return {};
      });
  if (progress) std::fputc('\n', stderr);
  if (!counts) return ReportError(counts.error());
  if (auto ok = writer->Close(); !ok) return ReportError(ok.error());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (!a.truth.empty()) {
    auto truth = simulate::TruthJson(*config, *counts, resolution, a.out == "-" ? "" : a.out);
    if (!truth) return ReportError(truth.error());
    std::ofstream f(a.truth);
    f << truth->dump(2) << '\n';
    f.close();
    if (!f) {
      return ReportError(
          Error{ErrorCode::kFileUnreadable, fmt::format("cannot write {}", a.truth)});
    }
  }
  if (!a.quiet) {
    std::fprintf(stderr, "%s\n", simulate::TruthText(*config, *counts).c_str());
    std::fprintf(stderr, "wrote %lld rows (%s) to %s in %.1f s%s%s\n",
                 static_cast<long long>(writer->rows_written()),
                 a.month_only ? "month-only" : "timestamped",
                 a.out == "-" ? "standard output" : a.out.c_str(), seconds,
                 a.truth.empty() ? "" : "; truth in ", a.truth.c_str());
  }
  return 0;
}

CommandRegistrar reg("simulate", [](CLI::App& app) -> Action {
  auto args = std::make_shared<SimulateArgs>();
  CLI::App* sub = app.add_subcommand(
      "simulate",
      "Write a synthetic city's crimes (background hotspots + self-exciting near repeats, known "
      "parameters) as canonical CSV");
  sub->add_option("--out", args->out, "Output CSV file ('-' for standard output)")->required();
  sub->add_option("--truth", args->truth,
                  "Also write the true parameters and realised counts to this JSON file");
  sub->add_option("--seed", args->seed, "Random seed; the same seed gives the same file")
      ->capture_default_str();
  sub->add_option("--start", args->start, "First instant, UTC (YYYY-MM, YYYY-MM-DD or ISO 8601)")
      ->capture_default_str();
  sub->add_option("--end", args->end, "End instant, exclusive (default: start + --days)");
  sub->add_option("--days", args->days, "Length of the period in days when --end is not given")
      ->capture_default_str();
  sub->add_option("--mu", args->mu, "Background rate mu: events per day over the whole area")
      ->capture_default_str();
  sub->add_option("--theta", args->theta,
                  "Branching ratio theta: mean offspring per event, 0 <= theta < 1 (the share "
                  "of triggered events in the long run)")
      ->capture_default_str();
  sub->add_option("--omega", args->omega,
                  "Offspring delay rate omega per day: delays ~ Exponential(omega), mean 1/omega "
                  "days")
      ->capture_default_str();
  sub->add_option("--sigma", args->sigma,
                  "Offspring displacement: isotropic Gaussian, sd in metres per axis")
      ->capture_default_str();
  sub->add_option("--hotspots", args->hotspots, "Number of Gaussian background hotspots")
      ->capture_default_str();
  sub->add_option("--uniform-share", args->uniform_share,
                  "Share of background events placed uniformly over the area (noise)")
      ->capture_default_str();
  sub->add_option("--size-km", args->size_km, "Side of the square study area in km")
      ->capture_default_str();
  sub->add_option("--crs", args->crs, "Projected CRS of the simulation (EPSG:N, metres)")
      ->capture_default_str();
  sub->add_option("--centre", args->centre,
                  "Centre of the study area as LON,LAT (WGS84); default Newport, South Wales "
                  "(331000 E, 188000 N); required with a CRS other than EPSG:27700");
  sub->add_flag("--month-only", args->month_only,
                "Write the month (YYYY-MM) instead of the instant, as data.police.uk does");
  sub->add_option("--categories", args->categories,
                  "Category mix as slug=share,... (e.g. burglary=1,vehicle-crime=1); default: "
                  "the national data.police.uk shares of February 2019");
  sub->add_flag("--quiet,-q", args->quiet, "Print nothing on success");
  sub->footer(
      "The process: background events arrive as a Poisson process with rate mu per day, placed\n"
      "around the hotspots or uniformly; every event has Poisson(theta) offspring, Exponential(\n"
      "omega) days later and Gaussian(sigma) metres away, with the parent's category. It is\n"
      "simulated exactly by branching. Expected total: about mu * days / (1 - theta).\n"
      "The CSV header is id,category,time,lon,lat; import it with\n"
      "  crimecast import --format csv --db DB FILE.csv\n"
      "Examples:\n"
      "  crimecast simulate --out town.csv --truth town.json\n"
      "  crimecast simulate --out town-monthly.csv --month-only --start 2022-01 --days 730\n"
      "  crimecast simulate --out van.csv --crs EPSG:32610 --centre -123.1,49.25 --theta 0.2\n"
      "  crimecast simulate --out national.csv --mu 11500 --size-km 500 --hotspots 300 -q\n"
      "  (the last is a national year: about 7 million events, ~10 s)");
  return [args] { return Run(*args); };
});

}  // namespace
}  // namespace crimecast::cli
