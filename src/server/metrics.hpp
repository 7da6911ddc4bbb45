// server/metrics.hpp
//
// Counters, gauges and latency histograms, rendered in the Prometheus text exposition format
// (version 0.0.4) at GET /metrics:
//   crimecast_http_requests_total{route,method,status}        counter
//   crimecast_http_request_duration_seconds{route}            histogram (handler + audit commit)
//   crimecast_http_errors_total{key}                          counter (error table metric keys)
//   crimecast_ingest_events_total{outcome}                    counter: inserted, duplicate,
//                                                             merged, rejected
//   crimecast_audit_records_total, crimecast_audit_commits_total  counters
//   crimecast_<gauge>                                         gauges registered by the server
//                                                             (SSE clients, queue depths, model
//                                                             ages, ...)
// `route` is the route PATTERN ("/api/cells/{id}"), never the raw path, so label cardinality is
// bounded by the route table. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace crimecast::server {

class Metrics {
 public:
  static constexpr std::array<double, 13> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

  void ObserveRequest(std::string_view route, std::string_view method, int status, double seconds);
  void CountError(std::string_view key);
  void AddIngest(std::int64_t inserted, std::int64_t duplicate, std::int64_t merged,
                 std::int64_t rejected);
  void AddAudit(std::int64_t records, std::int64_t commits);
  // A gauge read when /metrics is rendered. `labels` is a pre-rendered label set ("" or
  // `model="kde"`).
  void SetGauge(const std::string& name, const std::string& help, const std::string& labels,
                std::function<double()> read);

  std::string Render() const;
  std::int64_t requests_total() const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct Gauge {
    std::string help;
    std::function<double()> read;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, std::uint64_t> errors_;
  std::int64_t ingest_[4] = {0, 0, 0, 0};
  std::int64_t audit_records_ = 0, audit_commits_ = 0;
  std::map<std::pair<std::string, std::string>, Gauge> gauges_;
};

}  // namespace crimecast::server
