#include "core/simulate/output.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/spatial/projection.hpp"

namespace crimecast::simulate {
namespace {

constexpr std::int64_t kSecondsPerDay = 86400;

}  // namespace

struct CsvEventWriter::Impl {
  std::FILE* file = nullptr;
  bool owns_file = false;
  std::string path;
  TimePoint start{};
  TimeResolution resolution = TimeResolution::kTimestamp;
  spatial::Projection to_wgs84;
  std::vector<double> xs, ys;
  fmt::memory_buffer buffer;
  std::int64_t rows = 0;
  // Formatting a civil date is the slow part of a row; events arrive in time order, so the
  // date (or month) text is recomputed only when the day changes.
  std::int64_t cached_day = std::numeric_limits<std::int64_t>::min();
  std::string cached_prefix;

  explicit Impl(spatial::Projection p) : to_wgs84(std::move(p)) {}
  ~Impl() {
    if (file != nullptr && owns_file) std::fclose(file);
  }

  Result<void> Flush() {
    if (buffer.size() == 0) return {};
    if (std::fwrite(buffer.data(), 1, buffer.size(), file) != buffer.size()) {
      return Fail(ErrorCode::kFileUnreadable,
                  fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    }
    buffer.clear();
    return {};
  }
};

CsvEventWriter::CsvEventWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CsvEventWriter::CsvEventWriter(CsvEventWriter&&) noexcept = default;
CsvEventWriter& CsvEventWriter::operator=(CsvEventWriter&&) noexcept = default;
CsvEventWriter::~CsvEventWriter() {
  if (impl_) (void)Close();
}

Result<CsvEventWriter> CsvEventWriter::Open(const std::string& path, const SimulationConfig& config,
                                            TimeResolution resolution) {
  auto projection = spatial::Projection::Create(config.epsg, spatial::kWgs84);
  if (!projection) return Unexpected(projection.error());
  auto impl = std::make_unique<Impl>(std::move(*projection));
  impl->path = path;
  impl->start = config.start;
  impl->resolution = resolution;
  if (path == "-") {
    impl->file = stdout;
  } else {
    impl->file = std::fopen(path.c_str(), "wb");
    if (impl->file == nullptr) {
      return Fail(ErrorCode::kFileUnreadable,
                  fmt::format("cannot create {}: {}", path, std::strerror(errno)));
    }
    impl->owns_file = true;
  }
  fmt::format_to(std::back_inserter(impl->buffer), "id,category,time,lon,lat\n");
  return CsvEventWriter(std::move(impl));
}

Result<void> CsvEventWriter::Write(std::span<const SimulatedEvent> events) {
  Impl& w = *impl_;
  if (w.file == nullptr) return Fail(ErrorCode::kInternal, "write after close");
  w.xs.resize(events.size());
  w.ys.resize(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    w.xs[i] = events[i].x_m;
    w.ys[i] = events[i].y_m;
  }
  const std::size_t ok = w.to_wgs84.Forward(w.xs, w.ys);
  if (ok != events.size()) {
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (std::isnan(w.xs[i])) {
        return Fail(ErrorCode::kProjection,
                    fmt::format("event {} at ({:.1f}, {:.1f}) cannot be projected to WGS84; is "
                                "the study area inside the CRS's area of use?",
                                events[i].id, events[i].x_m, events[i].y_m));
      }
    }
  }
  auto out = std::back_inserter(w.buffer);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const SimulatedEvent& e = events[i];
    const std::int64_t secs = e.Time(w.start).time_since_epoch().count();
    const std::int64_t day =
        secs >= 0 ? secs / kSecondsPerDay : (secs - kSecondsPerDay + 1) / kSecondsPerDay;
    if (day != w.cached_day) {
      const TimePoint midnight{Seconds{day * kSecondsPerDay}};
      w.cached_prefix = w.resolution == TimeResolution::kMonth ? FormatMonth(midnight)
                                                               : FormatDate(midnight) + "T";
      w.cached_day = day;
    }
    fmt::format_to(out, "{},{},{}", e.id, Slug(e.category), w.cached_prefix);
    if (w.resolution == TimeResolution::kTimestamp) {
      const std::int64_t s = secs - day * kSecondsPerDay;
      fmt::format_to(out, "{:02d}:{:02d}:{:02d}Z", s / 3600, s / 60 % 60, s % 60);
    }
    fmt::format_to(out, ",{:.6f},{:.6f}\n", w.xs[i], w.ys[i]);
    ++w.rows;
  }
  if (w.buffer.size() > (1u << 20)) return w.Flush();
  return {};
}

Result<void> CsvEventWriter::Close() {
  Impl& w = *impl_;
  if (w.file == nullptr) return {};
  auto flushed = w.Flush();
  const bool flush_failed = std::fflush(w.file) != 0;
  const int close_status = w.owns_file ? std::fclose(w.file) : 0;
  w.file = nullptr;
  if (!flushed) return flushed;
  if (flush_failed || close_status != 0) {
    return Fail(ErrorCode::kFileUnreadable,
                fmt::format("cannot finish writing {}: {}", w.path, std::strerror(errno)));
  }
  return {};
}

std::int64_t CsvEventWriter::rows_written() const { return impl_->rows; }

Result<nlohmann::json> TruthJson(const SimulationConfig& c, const SimulationCounts& counts,
                                 TimeResolution resolution, const std::string& csv_path) {
  auto projection = spatial::Projection::Create(c.epsg, spatial::kWgs84);
  if (!projection) return Unexpected(projection.error());
  using nlohmann::json;
  json hotspots = json::array();
  double weight_total = 0;
  for (const Hotspot& h : c.hotspots) weight_total += h.weight;
  for (const Hotspot& h : c.hotspots) {
    auto ll = projection->Forward(h.x_m, h.y_m);
    if (!ll) return Unexpected(ll.error());
    hotspots.push_back({{"x_m", h.x_m},
                        {"y_m", h.y_m},
                        {"lon", ll->x},
                        {"lat", ll->y},
                        {"sd_m", h.sd_m},
                        {"weight", h.weight / weight_total}});
  }
  json mix = json::object();
  json by_category = json::object();
  double mix_total = 0;
  for (double m : c.category_mix) mix_total += m;
  for (int i = 0; i < kCategoryCount; ++i) {
    const auto cat = static_cast<Category>(i);
    mix[std::string(Slug(cat))] = c.category_mix[i] / mix_total;
    by_category[std::string(Slug(cat))] = counts.by_category[i];
  }
  const double duration = c.DurationDays();
  json truth = {
      {"generator", "crimecast simulate"},
      {"model",
       "lambda(t,x,y) = mu*b(x,y) + sum_i theta*omega*exp(-omega*(t-t_i))*N2(x-x_i,y-y_i;sigma)"},
      {"csv", csv_path},
      {"time_resolution", resolution == TimeResolution::kMonth ? "month" : "timestamp"},
      {"seed", c.seed},
      {"crs", fmt::format("EPSG:{}", c.epsg)},
      {"area",
       {{"x0_m", c.x0_m}, {"y0_m", c.y0_m}, {"width_m", c.width_m}, {"height_m", c.height_m}}},
      {"start", FormatIso(c.start)},
      {"end", FormatIso(c.end)},
      {"duration_days", duration},
      {"parameters",
       {{"mu_per_day", c.mu_per_day},
        {"theta", c.theta},
        {"omega_per_day", c.omega_per_day},
        {"mean_delay_days", 1.0 / c.omega_per_day},
        {"sigma_m", c.sigma_m},
        {"uniform_share", c.hotspots.empty() ? 1.0 : c.uniform_share}}},
      {"hotspots", hotspots},
      {"category_mix", mix},
      {"counts",
       {{"total", counts.total},
        {"background", counts.background},
        {"triggered", counts.triggered},
        {"triggered_share", counts.total > 0 ? static_cast<double>(counts.triggered) /
                                                   static_cast<double>(counts.total)
                                             : 0.0},
        {"expected_total", ExpectedTotal(c)},
        {"expected_background", c.mu_per_day * duration},
        {"max_generation", counts.max_generation},
        {"triggered_outside_area", counts.outside_area},
        {"by_category", by_category}}},
  };
  return truth;
}

std::string TruthText(const SimulationConfig& c, const SimulationCounts& counts) {
  std::string s;
  auto out = std::back_inserter(s);
  fmt::format_to(out,
                 "true parameters: mu = {:g} events/day, theta = {:g} (mean offspring per event), "
                 "omega = {:g}/day (mean delay {:.3g} days), sigma = {:g} m\n",
                 c.mu_per_day, c.theta, c.omega_per_day, 1.0 / c.omega_per_day, c.sigma_m);
  fmt::format_to(out,
                 "area: EPSG:{} x {:.0f}..{:.0f}, y {:.0f}..{:.0f} m; period {} .. {} ({:.1f} "
                 "days); seed {}\n",
                 c.epsg, c.x0_m, c.x0_m + c.width_m, c.y0_m, c.y0_m + c.height_m,
                 FormatIso(c.start), FormatIso(c.end), c.DurationDays(), c.seed);
  double weight_total = 0;
  for (const Hotspot& h : c.hotspots) weight_total += h.weight;
  const double uniform = c.hotspots.empty() ? 1.0 : c.uniform_share;
  fmt::format_to(out, "background: {:.0f} % uniform, {} Gaussian hotspots", 100 * uniform,
                 c.hotspots.size());
  // A national run can have hundreds of hotspots: list the first few, the JSON has them all.
  constexpr std::size_t kListed = 8;
  for (std::size_t i = 0; i < c.hotspots.size() && i < kListed; ++i) {
    const Hotspot& h = c.hotspots[i];
    fmt::format_to(out, "\n  hotspot ({:.0f}, {:.0f}) sd {:.0f} m, share {:.3g}", h.x_m, h.y_m,
                   h.sd_m, (1 - uniform) * h.weight / weight_total);
  }
  if (c.hotspots.size() > kListed) {
    fmt::format_to(out, "\n  ... and {} more hotspots (see --truth)", c.hotspots.size() - kListed);
  }
  const double share =
      counts.total > 0 ? static_cast<double>(counts.triggered) / static_cast<double>(counts.total)
                       : 0.0;
  fmt::format_to(out,
                 "\nevents: {} ({} background, {} triggered = {:.1f} %; expected total {:.0f}); "
                 "deepest generation {}",
                 counts.total, counts.background, counts.triggered, 100 * share, ExpectedTotal(c),
                 counts.max_generation);
  return s;
}

models::History ToHistory(std::span<const SimulatedEvent> events, const SimulationConfig& config,
                          TimePoint before, TimeResolution resolution) {
  models::History h;
  for (const SimulatedEvent& e : events) {
    const TimePoint t = e.Time(config.start);
    TimePoint start = t;
    TimePoint end = t + Seconds{1};
    if (resolution == TimeResolution::kMonth) {
      start = StartOfMonth(t);
      end = AddMonths(start, 1);
    }
    if (start >= before) continue;
    h.x.push_back(e.x_m);
    h.y.push_back(e.y_m);
    h.t_start.push_back(start.time_since_epoch().count());
    h.t_end.push_back(end.time_since_epoch().count());
    h.category.push_back(e.category);
    h.weight.push_back(1.0);
    h.id.push_back(e.id);
  }
  return h;
}

}  // namespace crimecast::simulate
