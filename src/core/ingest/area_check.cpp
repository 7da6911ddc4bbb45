#include "core/ingest/area_check.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace crimecast::ingest {
namespace {

// The q-quantile (nearest rank, lower) of v; reorders v. v must be non-empty.
double Quantile(std::vector<double>& v, double q) {
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1);
  const auto k = static_cast<std::size_t>(std::floor(pos));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Median of v (mean of the two middle values for even sizes); reorders v.
double Median(std::vector<double>& v) {
  const std::size_t n = v.size();
  const std::size_t mid = n / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (n % 2 == 1) return upper;
  // The lower middle is the largest element of the left part.
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lower + upper);
}

}  // namespace

AreaCheckResult CheckArea(std::vector<Event>& events, const AreaCheckOptions& options) {
  AreaCheckResult result;
  std::map<int, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < events.size(); ++i) {
    Event& e = events[i];
    e.out_of_area = false;
    if (e.Located() && std::isfinite(e.x) && std::isfinite(e.y)) groups[e.epsg].push_back(i);
  }
  std::size_t largest = 0;
  std::vector<double> xs;
  std::vector<double> ys;
  std::vector<double> ds;
  for (const auto& [epsg, idx] : groups) {
    result.located += idx.size();
    const bool report = idx.size() > largest;
    if (report) {
      largest = idx.size();
      result.epsg = epsg;
      result.centre_x = result.centre_y = result.radius_m = result.cutoff_m = 0;
    }
    if (idx.size() < std::max<std::size_t>(options.min_points, 1)) continue;
    xs.resize(idx.size());
    ys.resize(idx.size());
    for (std::size_t k = 0; k < idx.size(); ++k) {
      xs[k] = events[idx[k]].x;
      ys[k] = events[idx[k]].y;
    }
    const double cx = Median(xs);
    const double cy = Median(ys);
    ds.resize(idx.size());
    for (std::size_t k = 0; k < idx.size(); ++k) {
      ds[k] = std::hypot(events[idx[k]].x - cx, events[idx[k]].y - cy);
    }
    const double radius = Quantile(ds, options.quantile);
    const double cutoff = std::max(radius + options.margin_m, options.radius_factor * radius);
    for (std::size_t i : idx) {
      Event& e = events[i];
      if (std::hypot(e.x - cx, e.y - cy) > cutoff) {
        e.out_of_area = true;
        ++result.flagged;
      }
    }
    if (report) {
      result.centre_x = cx;
      result.centre_y = cy;
      result.radius_m = radius;
      result.cutoff_m = cutoff;
    }
  }
  return result;
}

std::size_t FlagOutOfArea(std::vector<Event>& events, const AreaCheckOptions& options) {
  return CheckArea(events, options).flagged;
}

}  // namespace crimecast::ingest
