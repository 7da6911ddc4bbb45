// core/models/time_weights.hpp
//
// Temporal weights of history events, honest about interval-censored times.
//
// Every count-type model weights an event by a kernel g(a) of its age a = E - t, where E is the
// end of the observation window (History::WindowEnd(T), normally T itself). An event is only
// known to have happened somewhere in [s, e): data.police.uk gives a month, a timestamped feed
// gives one second. Its weight is the kernel AVERAGED over the part of its interval inside the
// window, assuming the occurrence is uniform over [s, e):
//
//     weight = (1 / (e - s)) * integral over t in [s, min(e, E)) of g(E - t) dt.
//
// So a month-only event is never treated as happening on the 1st of its month, and an event
// whose month straddles E counts with the share of the month before E. The same kernel
// integrated over the whole window, Exposure(), is what a weighted count is divided by to give
// a rate per second: for a stationary Poisson process, E[sum of weights] = rate * Exposure
// exactly, whichever kernel is used. That identity is what makes the count models calibrated.
//
// All times are UTC seconds (std::int64_t). Results are dimensionless (weights) or seconds
// (exposures).
#pragma once

#include <cstdint>

namespace crimecast::models {

// g(a) = 1 for a in [0, length): a box over [E - length, E), clipped to the window start.
struct BoxKernel {
  std::int64_t window_start;  // observation window start (History::WindowStart())
  std::int64_t end;           // E
  std::int64_t length;        // seconds; the box covers [max(E - length, window_start), E)
  double Weight(std::int64_t s, std::int64_t e) const;
  double Exposure() const;  // seconds
};

// g(a) = exp(-lambda a), lambda = ln 2 / half_life.
class ExpKernel {
 public:
  ExpKernel(std::int64_t window_start, std::int64_t end, double half_life_s);
  double Weight(std::int64_t s, std::int64_t e) const;
  double Exposure() const;  // (1 - exp(-lambda (E - window_start))) / lambda

 private:
  std::int64_t window_start_;
  std::int64_t end_;
  double lambda_;
  double one_second_;  // integral of exp(-lambda a) over one second of age, / exp(-lambda a_lo)
};

// Bowers, Johnson & Pease (2004): g(a) = 1 / (1 + floor(a / week)) for floor(a / week) < weeks,
// else 0 (ages counted in whole weeks, as in the paper and open_cp's ClassicWeight).
struct WeeksKernel {
  std::int64_t window_start;
  std::int64_t end;
  int weeks;  // time bandwidth in weeks
  double Weight(std::int64_t s, std::int64_t e) const;
};

}  // namespace crimecast::models
