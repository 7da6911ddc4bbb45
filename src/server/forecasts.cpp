#include "server/forecasts.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>

#include "core/models/self_exciting_common.hpp"
#include "core/models/sepp.hpp"
#include "core/spatial/projection.hpp"
#include "core/storage/sqlite_event_store.hpp"
#include "server/error_response.hpp"
#include "server/live_hub.hpp"
#include "server/metrics.hpp"

namespace crimecast::server {
namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double ElapsedSeconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

Result<void> Serialise(ForecastEntry& e) {
  const auto t0 = std::chrono::steady_clock::now();
  auto geojson = models::ForecastGeoJsonText(e.result, e.job);
  if (!geojson) return Unexpected(geojson.error());
  auto csv = models::ForecastCsvText(e.result);
  if (!csv) return Unexpected(csv.error());
  e.geojson_gz = std::make_shared<const std::string>(Gzip(*geojson));
  e.csv_gz = std::make_shared<const std::string>(Gzip(*csv));
  e.geojson = std::make_shared<const std::string>(std::move(*geojson));
  e.csv = std::make_shared<const std::string>(std::move(*csv));
  e.serialise_seconds = ElapsedSeconds(t0);
  return {};
}

}  // namespace

std::string Gzip(std::string_view data, int level) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

std::string ForecastSpec::Key() const {
  std::string cats;
  for (Category c : categories) {
    if (!cats.empty()) cats += ',';
    cats += Slug(c);
  }
  return fmt::format("{}|{}|{}|{:g}|{}|{}", model, at ? FormatIso(*at) : "live", horizon.ToString(),
                     cell_m, epsg.value_or(0), cats);
}

std::shared_ptr<ForecastEntry> ApplyNearRepeat(const ForecastEntry& entry,
                                               const std::vector<Event>& events,
                                               std::vector<std::int64_t>* changed) {
  auto next = std::make_shared<ForecastEntry>(entry);
  if (entry.kernel == ForecastEntry::Kernel::kNone) return next;
  const spatial::Grid& grid = next->result.grid;
  models::Forecast& f = next->result.forecast;
  const auto cells = static_cast<std::size_t>(grid.cell_count());
  struct Point {
    double x, y, a, b;  // metres; UTC seconds
  };
  std::vector<Point> pts;
  std::int64_t new_t = entry.effective_at.time_since_epoch().count();
  auto proj_lease = spatial::LeaseProjection(spatial::kWgs84, grid.epsg());
  const spatial::Projection* proj = proj_lease ? proj_lease->get() : nullptr;
  for (const Event& e : events) {
    if (!e.Located() || e.out_of_area || proj == nullptr) continue;
    if (!entry.spec.categories.empty() &&
        !std::binary_search(entry.spec.categories.begin(), entry.spec.categories.end(),
                            e.category)) {
      continue;
    }
    auto xy = proj->Forward(e.lon, e.lat);
    if (!xy) continue;
    pts.push_back({xy->x, xy->y, static_cast<double>(e.when.start.time_since_epoch().count()),
                   static_cast<double>(e.when.end.time_since_epoch().count())});
    new_t = std::max(new_t, e.when.end.time_since_epoch().count());
  }
  if (pts.empty()) return next;

  constexpr double kDay = models::self_exciting::kSecondsPerDay;
  const TimePoint t_new{Seconds{new_t}};
  const double omega = entry.omega_per_day;
  const double theta = entry.theta;
  const double h = static_cast<double>((next->job.horizon.EndFrom(t_new) - t_new).count()) / kDay;
  const double dt =
      static_cast<double>(new_t - entry.effective_at.time_since_epoch().count()) / kDay;
  const std::vector<double> before = f.expected;
  if (f.recent.size() != cells) f.recent.assign(cells, 0.0);
  if (f.background.size() != cells) {
    f.background.assign(cells, 0.0);
    for (std::size_t c = 0; c < cells; ++c) f.background[c] = f.expected[c] - f.recent[c];
  }
  // Old excitation decays (exact for grid ETAS; sepp's truncation is ignored here).
  const double decay = std::exp(-omega * dt);
  for (double& r : f.recent) r *= decay;

  std::vector<std::int64_t> touched;
  std::vector<double> mass_x, mass_y;  // scratch of SpreadGaussian
  const double recent_factor = models::self_exciting::RecentFactor(theta, omega, h);
  for (const Point& p : pts) {
    const double u = (static_cast<double>(new_t) - p.b) / kDay;  // time since the event ended
    const double length = (p.b - p.a) / kDay;
    // E[e^{-omega (T' - t)}] for t uniform on [a, b).
    const double e = std::exp(-omega * u) * models::self_exciting::MeanExp(omega * length);
    if (entry.kernel == ForecastEntry::Kernel::kCell) {
      const std::int64_t local = grid.LocalOf(p.x, p.y);
      if (local < 0) continue;
      f.recent[static_cast<std::size_t>(local)] += recent_factor * e;
      touched.push_back(local);
    } else {
      const double tc = entry.time_cutoff_days;
      if (u >= tc) continue;
      const double zt = 1.0 / -std::expm1(-omega * tc);
      const double first = theta * zt * e * -std::expm1(-omega * std::min(h, tc - u));
      const double first_untruncated = theta * -std::expm1(-omega * h);
      const double cascade = first_untruncated > 0 ? recent_factor / first_untruncated : 1.0;
      models::sepp::SpreadGaussian(grid, p.x, p.y, entry.sigma_m, first, f.recent, mass_x, mass_y,
                                   &touched);
      if (cascade > 1) {
        models::sepp::SpreadGaussian(grid, p.x, p.y, entry.sigma_m * std::numbers::sqrt2,
                                     first * (cascade - 1), f.recent, mass_x, mass_y, &touched);
      }
    }
  }
  for (std::size_t c = 0; c < cells; ++c) {
    f.expected[c] = f.background[c] + f.recent[c] + (f.other.size() == cells ? f.other[c] : 0.0);
  }
  // Cells where an event happened join the active area (as a refit would make them).
  auto& active = next->result.active;
  for (const Point& p : pts) {
    const std::int64_t local = grid.LocalOf(p.x, p.y);
    if (local < 0) continue;
    auto it = std::lower_bound(active.begin(), active.end(), local);
    if (it == active.end() || *it != local) active.insert(it, local);
  }
  next->bands = models::RiskBands(f.expected, active);
  next->effective_at = t_new;
  next->live_events += static_cast<std::int64_t>(pts.size());
  if (changed) {
    changed->clear();
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (std::int64_t c : touched) {
      const auto i = static_cast<std::size_t>(c);
      const double old = before[i];
      if (std::abs(f.expected[i] - old) > std::max(1e-6, 1e-3 * old)) changed->push_back(c);
    }
  }
  return next;
}

// ---------------------------------------------------------------------------------------------
ForecastService::ForecastService(std::string db_path, ForecastServiceOptions options, LiveHub& hub,
                                 Metrics& metrics)
    : db_path_(std::move(db_path)), options_(options), hub_(hub), metrics_(metrics) {}

ForecastService::~ForecastService() { Stop(); }

void ForecastService::Start() {
  auto store = storage::SqliteEventStore::Open(db_path_);
  if (!store) {
    spdlog::error("forecast thread: cannot open the store: {}", store.error().ToString());
    return;
  }
  store_ = std::move(*store);
  thread_ = std::thread([this] { Loop(); });
}

void ForecastService::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

std::size_t ForecastService::entries() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

double ForecastService::OldestLiveAgeSeconds() const {
  std::lock_guard lock(mu_);
  double oldest = 0;
  const std::int64_t now = NowMs();
  for (const auto& [key, e] : entries_) {
    if (!e->spec.at) oldest = std::max(oldest, static_cast<double>(now - e->fitted_at_ms) / 1000);
  }
  return oldest;
}

Result<std::shared_ptr<const ForecastEntry>> ForecastService::Compute(const ForecastSpec& spec,
                                                                      storage::EventStore& store) {
  const std::uint64_t version = data_version();
  const auto t0 = std::chrono::steady_clock::now();
  auto e = std::make_shared<ForecastEntry>();
  e->spec = spec;
  e->job.model = spec.model;
  e->job.horizon = spec.horizon;
  e->job.cell_m = spec.cell_m;
  e->job.epsg = spec.epsg;
  e->job.categories = spec.categories;
  if (spec.at) {
    e->job.at = *spec.at;
  } else {
    auto extent = store.Extent();
    if (!extent) return Unexpected(extent.error());
    e->job.at = extent->end;  // the live origin: the end of the data
  }
  auto result = models::RunForecastJob(store, e->job);
  if (!result) return Unexpected(result.error());
  e->result = std::move(*result);
  e->bands = models::RiskBands(e->result.forecast.expected, e->result.active);
  e->data_version = version;
  e->fitted_at_ms = NowMs();
  e->effective_at = e->job.at;
  const auto& p = e->result.forecast.parameters;
  auto param = [&p](const char* k) {
    auto it = p.find(k);
    return it == p.end() ? std::nan("") : it->second;
  };
  const std::string& used = e->result.forecast.model_used;
  if (param("fallback") == 0 && std::isfinite(param("theta")) &&
      std::isfinite(param("omega_per_day")) && param("omega_per_day") > 0) {
    e->theta = param("theta");
    e->omega_per_day = param("omega_per_day");
    if (used == "etas-grid") {
      e->kernel = ForecastEntry::Kernel::kCell;
    } else if (used == "sepp" && std::isfinite(param("sigma_m")) &&
               std::isfinite(param("time_cutoff_days"))) {
      e->kernel = ForecastEntry::Kernel::kGaussian;
      e->sigma_m = param("sigma_m");
      e->time_cutoff_days = param("time_cutoff_days");
    }
  }
  e->fit_seconds = ElapsedSeconds(t0);
  if (auto s = Serialise(*e); !s) return Unexpected(s.error());
  spdlog::info("forecast {}: fitted in {:.2f} s ({} used, {} cells, serialised in {:.3f} s)",
               spec.Key(), e->fit_seconds, used, e->result.grid.cell_count(), e->serialise_seconds);
  return std::shared_ptr<const ForecastEntry>(std::move(e));
}

Result<std::shared_ptr<const ForecastEntry>> ForecastService::Get(const ForecastSpec& requested,
                                                                  storage::EventStore& store) {
  // A request without a CRS gets the data's default one. Resolving it before the cache lookup
  // makes /api/forecast (no crs) and /api/cells/{id} (the id names the CRS) share one entry, and
  // so one fit and one stream of live updates.
  ForecastSpec spec = requested;
  if (!spec.epsg && default_epsg_.load() != 0) spec.epsg = default_epsg_.load();
  std::string key = spec.Key();
  std::promise<Result<std::shared_ptr<const ForecastEntry>>> promise;
  {
    std::unique_lock lock(mu_);
    last_access_[key] = NowMs();
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
    if (auto it = pending_.find(key); it != pending_.end()) {
      auto fut = it->second;
      lock.unlock();
      return fut.get();
    }
    pending_[key] = promise.get_future().share();
  }
  Result<std::shared_ptr<const ForecastEntry>> r = Fail(ErrorCode::kInternal, "not computed");
  try {
    r = Compute(spec, store);
  } catch (const std::exception& ex) {
    // Waiters on the shared future must be released whatever happens.
    r = Fail(ErrorCode::kInternal, std::string("forecast failed: ") + ex.what());
  }
  {
    std::lock_guard lock(mu_);
    pending_.erase(key);
    if (r && !spec.epsg) {
      // First forecast without a CRS: remember the default and file the entry under it.
      const int epsg = (*r)->result.grid.epsg();
      default_epsg_.store(epsg);
      auto resolved = std::make_shared<ForecastEntry>(**r);
      resolved->spec.epsg = epsg;
      r = std::shared_ptr<const ForecastEntry>(std::move(resolved));
      last_access_.erase(key);
      key = (*r)->spec.Key();
      last_access_[key] = NowMs();
    }
    if (r) {
      entries_[key] = *r;
      // Evict the least recently used beyond the cap.
      while (entries_.size() > options_.max_entries) {
        auto victim = std::min_element(entries_.begin(), entries_.end(),
                                       [this](const auto& a, const auto& b) {
                                         return last_access_[a.first] < last_access_[b.first];
                                       });
        last_access_.erase(victim->first);
        entries_.erase(victim);
      }
    }
  }
  promise.set_value(r);
  return r;
}

void ForecastService::OnEventsCommitted(std::vector<Event> events) {
  std::lock_guard lock(mu_);
  ++data_version_;
  queued_events_.insert(queued_events_.end(), std::make_move_iterator(events.begin()),
                        std::make_move_iterator(events.end()));
  cv_.notify_all();
}

void ForecastService::FlushForTesting(bool refit) {
  {
    std::lock_guard lock(mu_);
    flush_live_ = true;
    flush_refit_ = flush_refit_ || refit;
    cv_.notify_all();
  }
  // Wait until the thread has taken the flush and finished it.
  for (int i = 0; i < 3000; ++i) {
    {
      std::lock_guard lock(mu_);
      if (!flush_live_ && !flush_refit_ && queued_events_.empty() && !busy_) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void ForecastService::Loop() {
  auto last_live = std::chrono::steady_clock::now() - std::chrono::hours(1);
  auto last_refit = std::chrono::steady_clock::now();
  const auto live_gap = std::chrono::duration<double>(options_.live_update_interval_s);
  const auto refit_gap = std::chrono::duration<double>(options_.refit_interval_s);
  for (;;) {
    std::vector<Event> events;
    bool refit = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(100),
                   [this] { return stop_ || flush_live_ || flush_refit_; });
      if (stop_) return;
      const auto now = std::chrono::steady_clock::now();
      if (!queued_events_.empty() && (flush_live_ || now - last_live >= live_gap)) {
        events.swap(queued_events_);
        last_live = now;
      }
      refit = flush_refit_ || now - last_refit >= refit_gap;
      if (refit) last_refit = now;
      busy_ = !events.empty() || refit;
      flush_live_ = false;
      flush_refit_ = false;
    }
    if (!events.empty()) ApplyLiveUpdates(std::move(events));
    if (refit) RefitStale();
    std::lock_guard lock(mu_);
    busy_ = false;
  }
}

void ForecastService::ApplyLiveUpdates(std::vector<Event> events) {
  std::vector<std::shared_ptr<const ForecastEntry>> live;
  std::uint64_t version = 0;
  {
    std::lock_guard lock(mu_);
    version = data_version();
    for (const auto& [key, e] : entries_) {
      if (!e->spec.at && e->kernel != ForecastEntry::Kernel::kNone) live.push_back(e);
    }
  }
  for (const auto& entry : live) {
    std::vector<std::int64_t> changed;
    auto next = ApplyNearRepeat(*entry, events, &changed);
    if (next->live_events == entry->live_events) continue;  // nothing in its categories
    next->data_version = version;
    if (auto s = Serialise(*next); !s) {
      spdlog::error("live forecast update: {}", s.error().ToString());
      continue;
    }
    ++live_updates_;
    {
      std::lock_guard lock(mu_);
      auto it = entries_.find(entry->spec.Key());
      if (it == entries_.end() || it->second != entry) continue;  // replaced meanwhile
      it->second = next;
    }
    // Broadcast the changed cells, and alerts for cells that entered the top 1 % band.
    const spatial::Grid& g = next->result.grid;
    auto inv_lease = spatial::LeaseProjection(g.epsg(), spatial::kWgs84);
    const spatial::Projection* inv = inv_lease ? inv_lease->get() : nullptr;
    std::string msg = fmt::format(
        "{{\"key\":\"{}\",\"model\":\"{}\",\"model_used\":\"{}\",\"at\":\"{}\",\"horizon\":\"{}\","
        "\"cell_m\":{:g},\"crs\":\"EPSG:{}\",\"live_events\":{},\"changed\":[",
        next->spec.Key(), next->result.forecast.model, next->result.forecast.model_used,
        FormatIso(next->effective_at), next->spec.horizon.ToString(), g.size_m(), g.epsg(),
        next->live_events);
    constexpr std::size_t kMaxCells = 2000;
    const bool record_level = g.size_m() < options_.partner_min_cell_m;
    for (std::size_t k = 0; k < changed.size() && k < kMaxCells; ++k) {
      const auto l = static_cast<std::size_t>(changed[k]);
      const auto& f = next->result.forecast;
      msg += fmt::format("{}{{\"cell_id\":\"{}\",\"risk\":{:.6g},\"recent\":{:.6g},\"band\":{}}}",
                         k ? "," : "", g.IdOf(g.IndexOfLocal(changed[k])).ToString(), f.expected[l],
                         f.recent.empty() ? 0.0 : f.recent[l], next->bands[l]);
      if (next->bands[l] == 1 && entry->bands.size() == next->bands.size() &&
          entry->bands[l] != 1) {
        const spatial::CellIndex idx = g.IndexOfLocal(changed[k]);
        double lon = std::nan(""), lat = std::nan("");
        if (inv) {
          if (auto ll = inv->Forward(g.CentreX(idx), g.CentreY(idx))) {
            lon = ll->x;
            lat = ll->y;
          }
        }
        hub_.Publish("alert",
                     fmt::format("{{\"kind\":\"entered-top-1-percent\",\"cell_id\":\"{}\","
                                 "\"lon\":{:.6f},\"lat\":{:.6f},\"risk\":{:.6g},\"recent\":{:.6g},"
                                 "\"reason\":\"near-repeat risk raised by new events\"}}",
                                 g.IdOf(idx).ToString(), lon, lat, f.expected[l],
                                 f.recent.empty() ? 0.0 : f.recent[l]),
                     record_level);
      }
    }
    msg += fmt::format("],\"changed_cells\":{}}}", changed.size());
    hub_.Publish("forecast", msg, record_level);
  }
}

void ForecastService::RefitStale() {
  if (!store_) return;
  std::vector<std::shared_ptr<const ForecastEntry>> stale;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, e] : entries_) {
      // Live forecasts that absorbed events are refit too: their parameters and background
      // have not seen those events yet.
      if (Stale(*e) || (!e->spec.at && e->live_events > 0)) stale.push_back(e);
    }
  }
  for (const auto& old : stale) {
    auto fresh = Compute(old->spec, *store_);
    if (!fresh) {
      spdlog::warn("refit of {} failed: {}", old->spec.Key(), fresh.error().ToString());
      continue;
    }
    ++refits_;
    {
      std::lock_guard lock(mu_);
      auto it = entries_.find(old->spec.Key());
      if (it == entries_.end()) continue;  // evicted meanwhile
      it->second = *fresh;
    }
    if (!old->spec.at) {
      const auto& e = **fresh;
      hub_.Publish("forecast",
                   fmt::format("{{\"key\":\"{}\",\"refit\":true,\"model_used\":\"{}\","
                               "\"at\":\"{}\",\"cell_m\":{:g}}}",
                               e.spec.Key(), e.result.forecast.model_used,
                               FormatIso(e.effective_at), e.result.grid.size_m()),
                   e.result.grid.size_m() < options_.partner_min_cell_m);
    }
  }
}

}  // namespace crimecast::server
