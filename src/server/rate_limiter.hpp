// server/rate_limiter.hpp
//
// Per-caller request rate limits: one token bucket per key (the bearer token's hash for
// authenticated requests, "ip:<address>" otherwise). A bucket holds up to `burst` tokens and
// refills at `rate_per_s`; a request takes one token or is refused (HTTP 429, Retry-After: 1).
// rate_per_s <= 0 disables limiting. Buckets idle long enough to be full again are forgotten, so
// memory is bounded by the number of callers active in the last burst/rate seconds.
// Thread-safe (one mutex; a check costs well under a microsecond).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace crimecast::server {

class RateLimiter {
 public:
  RateLimiter(double rate_per_s, double burst) : rate_(rate_per_s), burst_(burst) {}
  // True when the request may proceed. `now_s`: a monotonic clock in seconds.
  bool Allow(const std::string& key, double now_s);
  bool Allow(const std::string& key);
  std::size_t tracked_keys() const;
  bool enabled() const { return rate_ > 0; }

 private:
  struct Bucket {
    double tokens;
    double last_s;
  };
  double rate_;
  double burst_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  double last_sweep_s_ = 0;
};

}  // namespace crimecast::server
