#include "server/rate_limiter.hpp"

#include <algorithm>

namespace crimecast::server {

bool RateLimiter::Allow(const std::string& key) {
  const double now =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  return Allow(key, now);
}

bool RateLimiter::Allow(const std::string& key, double now_s) {
  if (rate_ <= 0) return true;
  std::lock_guard lock(mu_);
  // Forget buckets that have refilled completely: they behave exactly like new ones.
  const double refill_s = burst_ / rate_;
  if (now_s - last_sweep_s_ > refill_s) {
    std::erase_if(buckets_, [&](const auto& kv) { return now_s - kv.second.last_s > refill_s; });
    last_sweep_s_ = now_s;
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now_s});
  Bucket& b = it->second;
  if (!inserted) {
    b.tokens = std::min(burst_, b.tokens + (now_s - b.last_s) * rate_);
    b.last_s = now_s;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

std::size_t RateLimiter::tracked_keys() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace crimecast::server
