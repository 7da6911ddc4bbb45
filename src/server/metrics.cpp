#include "server/metrics.hpp"

#include <fmt/format.h>

namespace crimecast::server {

void Metrics::ObserveRequest(std::string_view route, std::string_view method, int status,
                             double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), std::string(method), status}];
  Histogram& h = latency_[std::string(route)];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::CountError(std::string_view key) {
  std::lock_guard lock(mu_);
  ++errors_[std::string(key)];
}

void Metrics::AddIngest(std::int64_t inserted, std::int64_t duplicate, std::int64_t merged,
                        std::int64_t rejected) {
  std::lock_guard lock(mu_);
  ingest_[0] += inserted;
  ingest_[1] += duplicate;
  ingest_[2] += merged;
  ingest_[3] += rejected;
}

void Metrics::AddAudit(std::int64_t records, std::int64_t commits) {
  std::lock_guard lock(mu_);
  audit_records_ += records;
  audit_commits_ += commits;
}

void Metrics::SetGauge(const std::string& name, const std::string& help, const std::string& labels,
                       std::function<double()> read) {
  std::lock_guard lock(mu_);
  gauges_[{name, labels}] = Gauge{help, std::move(read)};
}

std::int64_t Metrics::requests_total() const {
  std::lock_guard lock(mu_);
  std::int64_t n = 0;
  for (const auto& [k, v] : requests_) n += static_cast<std::int64_t>(v);
  return n;
}

std::string Metrics::Render() const {
  std::unique_lock lock(mu_);
  std::string out;
  out += "# HELP crimecast_http_requests_total HTTP requests by route pattern, method, status.\n";
  out += "# TYPE crimecast_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out += fmt::format(
        "crimecast_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n", route,
        method, status, n);
  }
  out +=
      "# HELP crimecast_http_request_duration_seconds Time from request read to response "
      "ready (includes the audit commit).\n";
  out += "# TYPE crimecast_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out += fmt::format(
          "crimecast_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route,
          kBuckets[i], h.buckets[i]);
    }
    out += fmt::format(
        "crimecast_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route,
        h.count);
    out += fmt::format("crimecast_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route,
                       h.sum);
    out += fmt::format("crimecast_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route,
                       h.count);
  }
  out += "# HELP crimecast_http_errors_total Error responses by error-table key.\n";
  out += "# TYPE crimecast_http_errors_total counter\n";
  for (const auto& [key, n] : errors_) {
    out += fmt::format("crimecast_http_errors_total{{key=\"{}\"}} {}\n", key, n);
  }
  out += "# HELP crimecast_ingest_events_total Events posted to /api/events by outcome.\n";
  out += "# TYPE crimecast_ingest_events_total counter\n";
  constexpr const char* kOutcomes[] = {"inserted", "duplicate", "merged", "rejected"};
  for (int i = 0; i < 4; ++i) {
    out += fmt::format("crimecast_ingest_events_total{{outcome=\"{}\"}} {}\n", kOutcomes[i],
                       ingest_[i]);
  }
  out += "# HELP crimecast_audit_records_total Audit records appended by the server.\n";
  out += "# TYPE crimecast_audit_records_total counter\n";
  out += fmt::format("crimecast_audit_records_total {}\n", audit_records_);
  out += "# HELP crimecast_audit_commits_total Durable commits of audit records (group commit).\n";
  out += "# TYPE crimecast_audit_commits_total counter\n";
  out += fmt::format("crimecast_audit_commits_total {}\n", audit_commits_);
  // Gauges are read without holding our lock: their callbacks take other components' locks,
  // and those components report to us while holding theirs.
  const auto gauges = gauges_;
  lock.unlock();
  std::string last_name;
  for (const auto& [key, g] : gauges) {
    const auto& [name, labels] = key;
    if (name != last_name) {
      out += fmt::format("# HELP crimecast_{} {}\n# TYPE crimecast_{} gauge\n", name, g.help, name);
      last_name = name;
    }
    const double v = g.read ? g.read() : 0.0;
    if (labels.empty()) {
      out += fmt::format("crimecast_{} {}\n", name, v);
    } else {
      out += fmt::format("crimecast_{}{{{}}} {}\n", name, labels, v);
    }
  }
  return out;
}

}  // namespace crimecast::server
