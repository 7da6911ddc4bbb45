#include "core/models/time_weights.hpp"

#include <algorithm>
#include <cmath>

namespace crimecast::models {
namespace {

constexpr std::int64_t kWeek = 7LL * 86400;

// Length of [a0, a1) intersected with [b0, b1), in seconds.
double Overlap(std::int64_t a0, std::int64_t a1, std::int64_t b0, std::int64_t b1) {
  const std::int64_t lo = std::max(a0, b0);
  const std::int64_t hi = std::min(a1, b1);
  return hi > lo ? static_cast<double>(hi - lo) : 0.0;
}

}  // namespace

double BoxKernel::Weight(std::int64_t s, std::int64_t e) const {
  if (e <= s) return 0.0;
  const std::int64_t lo = std::max(end - length, window_start);
  return Overlap(s, e, lo, end) / static_cast<double>(e - s);
}

double BoxKernel::Exposure() const {
  const std::int64_t lo = std::max(end - length, window_start);
  return end > lo ? static_cast<double>(end - lo) : 0.0;
}

ExpKernel::ExpKernel(std::int64_t window_start, std::int64_t end, double half_life_s)
    : window_start_(window_start),
      end_(end),
      lambda_(std::log(2.0) / half_life_s),
      one_second_(-std::expm1(-lambda_) / lambda_) {}

double ExpKernel::Weight(std::int64_t s, std::int64_t e) const {
  if (e <= s) return 0.0;
  const std::int64_t lo = std::max(s, window_start_);
  const std::int64_t hi = std::min(e, end_);
  if (hi <= lo) return 0.0;
  const double a_lo = static_cast<double>(end_ - hi);  // age at the interval's newer edge
  // Timestamped events are one-second intervals: one exp() instead of two (this loop runs
  // over every event of the history).
  if (hi - lo == 1 && e - s == 1) return std::exp(-lambda_ * a_lo) * one_second_;
  const double a_hi = static_cast<double>(end_ - lo);  // age at its older edge
  // integral of exp(-lambda a) over ages [a_lo, a_hi], divided by the interval length;
  // expm1 keeps short intervals exact instead of cancelling.
  const double integral =
      std::exp(-lambda_ * a_lo) * -std::expm1(-lambda_ * (a_hi - a_lo)) / lambda_;
  return integral / static_cast<double>(e - s);
}

double ExpKernel::Exposure() const {
  if (end_ <= window_start_) return 0.0;
  return -std::expm1(-lambda_ * static_cast<double>(end_ - window_start_)) / lambda_;
}

double WeeksKernel::Weight(std::int64_t s, std::int64_t e) const {
  if (e <= s) return 0.0;
  const std::int64_t lo = std::max(s, window_start);
  const std::int64_t hi = std::min(e, end);
  if (hi <= lo) return 0.0;
  // Whole-week age classes: class w covers t in (E - (w+1) week, E - w week]. The interval
  // usually falls in one class (timestamped data) or spans about five (a month).
  double sum = 0.0;
  // Instants are whole seconds t in [lo, hi); the age of t is E - t >= 1.
  const std::int64_t w_first = (end - (hi - 1)) / kWeek;  // class of the newest instant
  const std::int64_t w_last = (end - lo) / kWeek;         // class of the oldest instant
  for (std::int64_t w = w_first; w <= w_last && w < weeks; ++w) {
    const std::int64_t c0 = end - (w + 1) * kWeek;  // class covers ages [w week, (w+1) week)
    const std::int64_t c1 = end - w * kWeek;
    sum += Overlap(lo, hi, c0 + 1, c1 + 1) / (1.0 + static_cast<double>(w));
  }
  return sum / static_cast<double>(e - s);
}

}  // namespace crimecast::models
