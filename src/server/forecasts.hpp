// server/forecasts.hpp
//
// Forecasts for the server: a cache of fitted forecasts, the LIVE forecast that follows posted
// events without refitting, and background refits on a schedule.
//
// Concepts:
// * A ForecastSpec names a forecast: model, origin T (absent = "live"), horizon, cell size, CRS
//   and categories. Its Key() is the cache key.
// * An entry is immutable once published (readers hold a shared_ptr; an update publishes a new
//   entry), so reads never wait for writers. Each entry carries its serialised GeoJSON and CSV
//   (all cells with risk > 0), so GET /api/forecast of a cached forecast costs a lookup and a
//   socket write.
// * A missing entry is computed on the requesting thread (single flight: concurrent requests
//   for the same key wait for one computation). An entry whose data version is older than the
//   store's (events were posted since it was fitted) is still served, marked stale, and the
//   background thread refits it: full refits never block readers.
// * LIVE forecasts (no `at`): T is the end of the data when fitted. When events are posted,
//   the near-repeat part of self-exciting models (etas-grid, sepp; also `auto` when it chooses
//   one) is updated incrementally with the FITTED parameters, moving the origin to
//   T' = max(T, latest posted event end):
//     recent_c(T') = recent_c(T) e^{-omega (T' - T)}            (old excitation decays)
//                  + sum_new j  contribution_c(j, T')             (new events excite)
//   where a new event's contribution is exactly what the model's Predict gives a past event at
//   origin T' (grid ETAS: RecentFactor(theta, omega, h) e^{-omega (T' - b_j)} G(omega L_j) in its
//   own cell; SEPP: the truncated first generation spread with N(sigma^2) and the cascade with
//   N(2 sigma^2), see models/self_exciting_common.hpp and docs/models.md). The background part
//   (stationary) is unchanged. For etas-grid this equals a Predict at T' with the parameters
//   held fixed; for sepp it is the same up to events crossing the time cutoff between T and T'.
//   Other models do not change until the next refit. Changed cells are broadcast on /api/live
//   ("forecast"), and cells entering the top 1 % band raise an "alert".
// * Updates are coalesced (at most one every `live_update_interval_s`); refits run every
//   `refit_interval_s` for entries whose data changed; at most `max_entries` forecasts are
//   kept (least recently used evicted).
// Thread-safety: all public members may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/time.hpp"
#include "core/ingest/event.hpp"
#include "core/models/forecast_job.hpp"
#include "core/storage/event_store.hpp"

namespace crimecast::server {

class LiveHub;
class Metrics;

struct ForecastSpec {
  std::string model;            // resolved (never empty)
  std::optional<TimePoint> at;  // absent: the live forecast
  Horizon horizon;
  double cell_m = 150;
  std::optional<int> epsg;
  std::vector<Category> categories;  // sorted, unique; empty = all
  std::string Key() const;
};

struct ForecastEntry {
  ForecastSpec spec;
  models::ForecastJob job;  // job.at = the fitted origin
  models::ForecastJobResult result;
  std::vector<int> bands;          // RiskBands(result.forecast.expected, result.active)
  std::uint64_t data_version = 0;  // store version the fit (and live updates) saw
  std::int64_t fitted_at_ms = 0;   // wall clock of the fit
  double fit_seconds = 0;
  TimePoint effective_at{};      // origin after live updates (== job.at until then)
  std::int64_t live_events = 0;  // events folded in since the fit
  // Incremental near-repeat updates (self-exciting fits only).
  enum class Kernel { kNone, kCell, kGaussian } kernel = Kernel::kNone;
  double theta = 0, omega_per_day = 0, sigma_m = 0, time_cutoff_days = 0;
  std::shared_ptr<const std::string> geojson;
  std::shared_ptr<const std::string> csv;
  // The same, gzip-compressed once per fit or update (GeoJSON compresses about 8x), for clients
  // that send Accept-Encoding: gzip (every browser).
  std::shared_ptr<const std::string> geojson_gz;
  std::shared_ptr<const std::string> csv_gz;
  double serialise_seconds = 0;
};

struct ForecastServiceOptions {
  double refit_interval_s = 300;
  double live_update_interval_s = 0.25;
  std::size_t max_entries = 16;
  // Partners see forecast messages only on cells at least this large (disclosure control).
  double partner_min_cell_m = 500;
};

class ForecastService {
 public:
  ForecastService(std::string db_path, ForecastServiceOptions options, LiveHub& hub,
                  Metrics& metrics);
  ~ForecastService();
  void Start();
  void Stop();

  // The entry for `spec` (computed now, on the calling thread, when missing). `store` is the
  // caller's read connection.
  Result<std::shared_ptr<const ForecastEntry>> Get(const ForecastSpec& spec,
                                                   storage::EventStore& store);
  // True when the store has changed since the entry was fitted or last updated.
  bool Stale(const ForecastEntry& entry) const { return entry.data_version < data_version(); }

  // Called (from the writer thread) after a batch committed: the inserted or merged events.
  // Returns at once; the work happens on the forecast thread.
  void OnEventsCommitted(std::vector<Event> events);

  std::uint64_t data_version() const { return data_version_.load(); }
  std::size_t entries() const;
  std::int64_t refits() const { return refits_.load(); }
  std::int64_t live_updates() const { return live_updates_.load(); }
  // Age in seconds of the oldest live forecast fit (for /metrics), 0 when none.
  double OldestLiveAgeSeconds() const;
  // Applies the queued live updates now, and with `refit` also runs a refit pass; returns when
  // done (tests).
  void FlushForTesting(bool refit);

 private:
  Result<std::shared_ptr<const ForecastEntry>> Compute(const ForecastSpec& spec,
                                                       storage::EventStore& store);
  void Loop();
  void ApplyLiveUpdates(std::vector<Event> events);
  void RefitStale();

  std::string db_path_;
  ForecastServiceOptions options_;
  LiveHub& hub_;
  Metrics& metrics_;
  mutable std::mutex mu_;
  // EPSG code of the data's default grid CRS, 0 until the first forecast without one is fitted.
  std::atomic<int> default_epsg_{0};
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<const ForecastEntry>> entries_;
  std::map<std::string, std::int64_t> last_access_;
  std::map<std::string, std::shared_future<Result<std::shared_ptr<const ForecastEntry>>>> pending_;
  std::vector<Event> queued_events_;
  std::atomic<std::uint64_t> data_version_{1};
  std::atomic<std::int64_t> refits_{0};
  std::atomic<std::int64_t> live_updates_{0};
  bool stop_ = false;
  bool flush_live_ = false;
  bool flush_refit_ = false;
  bool busy_ = false;  // the thread is working on what it took (FlushForTesting waits)
  std::thread thread_;
  std::unique_ptr<storage::EventStore> store_;  // the forecast thread's own connection
};

// gzip (RFC 1952) of `data` at zlib level `level` (1: fastest).
std::string Gzip(std::string_view data, int level = 1);

// Applies posted events to a live entry (exposed for tests): returns the updated copy and the
// local ids of cells whose expected count changed.
std::shared_ptr<ForecastEntry> ApplyNearRepeat(const ForecastEntry& entry,
                                               const std::vector<Event>& events,
                                               std::vector<std::int64_t>* changed);

}  // namespace crimecast::server
