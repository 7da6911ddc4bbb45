#include "server/backtests.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/access/credentials.hpp"
#include "core/evaluation/report.hpp"
#include "core/models/covariate_layers.hpp"
#include "core/models/forecast_job.hpp"
#include "core/models/registry.hpp"
#include "core/spatial/projection.hpp"
#include "core/storage/sqlite_event_store.hpp"

namespace crimecast::server {
namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string_view Name(BacktestJob::Status s) {
  switch (s) {
    case BacktestJob::Status::kQueued:
      return "queued";
    case BacktestJob::Status::kRunning:
      return "running";
    case BacktestJob::Status::kDone:
      return "done";
    case BacktestJob::Status::kFailed:
      return "failed";
  }
  return "unknown";
}

Result<BacktestRequest> ParseBacktestRequest(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Fail(ErrorCode::kInvalidArgument,
                "expected a JSON object {\"models\": [...], \"from\": ..., \"to\": ..., "
                "\"horizon\": ..., \"cell\": ...}");
  }
  for (const auto& [k, v] : j.items()) {
    static const char* kKeys[] = {"models", "from", "to",         "horizon",
                                  "cell",   "crs",  "categories", "per_category"};
    if (std::find_if(std::begin(kKeys), std::end(kKeys), [&k](const char* a) { return k == a; }) ==
        std::end(kKeys)) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("unknown field '{}'", k.substr(0, 40)));
    }
  }
  BacktestRequest r;
  auto str = [&j](const char* k) -> Result<std::string> {
    if (!j.contains(k) || !j[k].is_string()) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("'{}' (a string) is required", k));
    }
    return j[k].get<std::string>();
  };
  if (j.contains("models")) {
    if (!j["models"].is_array()) return Fail(ErrorCode::kInvalidArgument, "'models' is a list");
    for (const auto& m : j["models"]) {
      if (!m.is_string()) return Fail(ErrorCode::kInvalidArgument, "model names are strings");
      r.models.push_back(m.get<std::string>());
    }
  }
  if (r.models.empty()) r.models = models::ModelNames();
  if (r.models.size() > 12) return Fail(ErrorCode::kTooLarge, "at most 12 models per backtest");
  for (const auto& m : r.models) {
    if (auto created = models::CreateModel(m, {}); !created) return Unexpected(created.error());
  }
  for (const char* k : {"from", "to"}) {
    auto s = str(k);
    if (!s) return Unexpected(s.error());
    auto t = ParseInstant(*s);
    if (!t) return Fail(ErrorCode::kBadTime, fmt::format("'{}': {}", k, t.error().message));
    (std::string_view(k) == "from" ? r.from : r.to) = *t;
  }
  if (r.from >= r.to) return Fail(ErrorCode::kInvalidArgument, "'from' must be before 'to'");
  auto h = str("horizon");
  if (!h) return Unexpected(h.error());
  auto horizon = ParseHorizon(*h);
  if (!horizon) return Unexpected(horizon.error());
  r.horizon = *horizon;
  if (!j.contains("cell") || !j["cell"].is_number()) {
    return Fail(ErrorCode::kInvalidArgument, "'cell' (metres) is required");
  }
  r.cell_m = j["cell"].get<double>();
  if (!(r.cell_m > 0) || r.cell_m > spatial::kMaxCellSizeM) {
    return Fail(ErrorCode::kBadGrid,
                fmt::format("cell {} m: the cell size must be greater than 0 and at most {} m",
                            r.cell_m, spatial::kMaxCellSizeM));
  }
  if (j.contains("crs")) {
    auto crs = str("crs");
    if (!crs) return Unexpected(crs.error());
    auto epsg = spatial::ParseEpsg(*crs);
    if (!epsg) return Unexpected(epsg.error());
    r.epsg = *epsg;
  }
  if (j.contains("categories")) {
    if (!j["categories"].is_array()) {
      return Fail(ErrorCode::kInvalidArgument, "'categories' is a list");
    }
    for (const auto& c : j["categories"]) {
      auto cat = c.is_string() ? ParseCategory(c.get<std::string>()) : std::nullopt;
      if (!cat)
        return Fail(ErrorCode::kUnknownCategory, fmt::format("unknown category {}", c.dump()));
      r.categories.push_back(*cat);
    }
  }
  if (j.contains("per_category")) {
    if (!j["per_category"].is_boolean()) {
      return Fail(ErrorCode::kInvalidArgument, "'per_category' is true or false");
    }
    r.per_category = j["per_category"].get<bool>();
  }
  return r;
}

BacktestRunner::BacktestRunner(std::string db_path, int threads, std::size_t max_queued)
    : db_path_(std::move(db_path)), threads_(threads), max_queued_(max_queued) {}

BacktestRunner::~BacktestRunner() { Stop(); }

void BacktestRunner::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void BacktestRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

Result<std::string> BacktestRunner::Submit(BacktestRequest request, std::string request_json,
                                           std::string owner) {
  std::lock_guard lock(mu_);
  if (queue_.size() >= max_queued_) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("{} backtests are already queued; try later", queue_.size()));
  }
  BacktestJob job;
  // A sequence number plus random bits: ids are not guessable across users.
  job.id = fmt::format("bt{}-{}", next_++, access::NewToken("").substr(0, 8));
  job.owner = std::move(owner);
  job.request = std::move(request);
  job.request_json = std::move(request_json);
  job.created_ms = NowMs();
  const std::string id = job.id;
  jobs_.emplace(id, std::move(job));
  queue_.push_back(id);
  cv_.notify_all();
  return id;
}

std::optional<BacktestJob> BacktestRunner::Get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

void BacktestRunner::Loop() {
  for (;;) {
    std::string id;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      id = queue_.front();
      queue_.pop_front();
      jobs_[id].status = BacktestJob::Status::kRunning;
      jobs_[id].started_ms = NowMs();
    }
    Run(id);
  }
}

void BacktestRunner::Run(const std::string& id) {
  BacktestRequest req;
  {
    std::lock_guard lock(mu_);
    req = jobs_[id].request;
  }
  auto fail = [&](const Error& e) {
    std::lock_guard lock(mu_);
    BacktestJob& j = jobs_[id];
    j.status = BacktestJob::Status::kFailed;
    j.error = e.ToString();
    j.finished_ms = NowMs();
  };
  auto store = storage::SqliteEventStore::Open(db_path_);
  if (!store) return fail(store.error());
  evaluation::BacktestConfig config;
  for (const auto& m : req.models) config.models.push_back({m, {}});
  config.from = req.from;
  config.to = req.to;
  config.horizon = req.horizon;
  config.categories = req.categories;
  config.per_category = req.per_category;
  config.threads = threads_;
  auto epsg = models::ChooseEpsg(**store, req.epsg);
  if (!epsg) return fail(epsg.error());
  auto extent = (*store)->Extent();
  if (!extent) return fail(extent.error());
  if (config.from <= extent->start || config.from >= extent->end) {
    return fail({ErrorCode::kOutOfRange,
                 fmt::format("'from' {} must lie inside the data ({} .. {})", FormatIso(req.from),
                             FormatIso(extent->start), FormatIso(extent->end))});
  }
  config.data_end = extent->end;
  storage::EventFilter filter;
  filter.to = config.horizon.EndFrom(config.to);
  filter.located_only = true;
  filter.include_out_of_area = false;
  auto points = (*store)->LoadPoints(filter, *epsg);
  if (!points) return fail(points.error());
  double min_x = std::numeric_limits<double>::infinity(), min_y = min_x;
  double max_x = -min_x, max_y = -min_x;
  for (std::size_t i = 0; i < points->size(); ++i) {
    if (!std::isfinite(points->x[i]) || !std::isfinite(points->y[i])) continue;
    min_x = std::min(min_x, points->x[i]);
    max_x = std::max(max_x, points->x[i]);
    min_y = std::min(min_y, points->y[i]);
    max_y = std::max(max_y, points->y[i]);
  }
  if (!(min_x <= max_x)) return fail({ErrorCode::kNoData, "the database holds no located events"});
  auto grid = spatial::Grid::Covering(*epsg, req.cell_m, min_x, min_y, max_x, max_y,
                                      models::kMaxForecastCells);
  if (!grid) return fail(grid.error());
  config.grid = *grid;
  // The stored area covariate layers, as `crimecast backtest` uses them.
  auto covariates = models::CovariatesForGrid(**store, *grid);
  if (!covariates) return fail(covariates.error());
  config.covariates = *covariates;
  config.progress = [this, &id](const evaluation::BacktestProgress& p) {
    std::lock_guard lock(mu_);
    BacktestJob& j = jobs_[id];
    j.done = p.done;
    j.total = p.total;
    j.last_origin = p.origin;
    j.last_model = p.model;
  };
  auto result = evaluation::RunBacktest(std::move(*points), config);
  if (!result) return fail(result.error());
  std::string json = evaluation::BacktestJson(*result);
  std::string svg = evaluation::BacktestSvg(*result);
  std::lock_guard lock(mu_);
  BacktestJob& j = jobs_[id];
  j.status = BacktestJob::Status::kDone;
  j.report_json = std::move(json);
  j.report_svg = std::move(svg);
  j.finished_ms = NowMs();
  if (j.total == 0) j.total = j.done;
  spdlog::info("backtest {} done in {:.1f} s", id,
               static_cast<double>(j.finished_ms - j.started_ms) / 1000);
}

}  // namespace crimecast::server
