// server/backtests.hpp
//
// Backtest jobs for POST /api/backtests: a rolling-origin backtest (evaluation/backtest.hpp) is
// minutes of work, so the request only validates and queues it; one background thread runs
// the jobs in order, reporting progress (forecasts scored / planned) that GET
// /api/backtests/{id} returns, and keeps the report (the JSON `crimecast backtest --json`
// writes, and the SVG chart) in memory. Jobs do not survive a restart.
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/time.hpp"
#include "core/evaluation/backtest.hpp"

namespace crimecast::server {

struct BacktestRequest {
  std::vector<std::string> models;  // empty: every model
  TimePoint from{}, to{};
  Horizon horizon;
  double cell_m = 0;
  std::optional<int> epsg;
  std::vector<Category> categories;
  bool per_category = false;
};

// Parses and validates the JSON body of POST /api/backtests:
// {"models": ["naive-all", "kde"], "from": "2024-01", "to": "2024-07", "horizon": "1M",
//  "cell": 150, "crs": "EPSG:27700", "categories": ["burglary"], "per_category": false}
Result<BacktestRequest> ParseBacktestRequest(const std::string& body);

struct BacktestJob {
  std::string id;
  std::string owner;  // user who asked
  BacktestRequest request;
  std::string request_json;
  enum class Status { kQueued, kRunning, kDone, kFailed } status = Status::kQueued;
  std::int64_t created_ms = 0, started_ms = 0, finished_ms = 0;
  std::int64_t done = 0, total = 0;  // progress
  std::string last_origin, last_model;
  std::string error;        // kFailed
  std::string report_json;  // kDone: evaluation::BacktestJson
  std::string report_svg;   // kDone: evaluation::BacktestSvg
};
std::string_view Name(BacktestJob::Status s);

class BacktestRunner {
 public:
  BacktestRunner(std::string db_path, int threads, std::size_t max_queued);
  ~BacktestRunner();
  void Start();
  void Stop();
  // Queues a job; kUnavailable when the queue is full.
  Result<std::string> Submit(BacktestRequest request, std::string request_json, std::string owner);
  // A copy of the job's state; nullopt for an unknown id.
  std::optional<BacktestJob> Get(const std::string& id) const;

 private:
  void Loop();
  void Run(const std::string& id);

  std::string db_path_;
  int threads_;
  std::size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, BacktestJob> jobs_;
  std::deque<std::string> queue_;
  std::uint64_t next_ = 1;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace crimecast::server
