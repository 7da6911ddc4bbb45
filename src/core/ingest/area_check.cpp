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

bool AreaFit::Outside(double x, double y) const {
  return std::hypot(x - centre_x, y - centre_y) > cutoff_m;
}

AreaFit FitArea(std::vector<double> xs, std::vector<double> ys, const AreaCheckOptions& options) {
  AreaFit fit;
  if (xs.empty() || xs.size() != ys.size()) return fit;
  std::vector<double> ds(xs.size());
  // Distances need the original pairing, so compute the centre on copies.
  {
    std::vector<double> cx = xs;
    std::vector<double> cy = ys;
    fit.centre_x = Median(cx);
    fit.centre_y = Median(cy);
  }
  for (std::size_t k = 0; k < xs.size(); ++k) {
    ds[k] = std::hypot(xs[k] - fit.centre_x, ys[k] - fit.centre_y);
  }
  fit.radius_m = Quantile(ds, options.quantile);
  fit.cutoff_m = std::max(fit.radius_m + options.margin_m, options.radius_factor * fit.radius_m);
  return fit;
}

AreaCheckResult CheckArea(std::vector<Event>& events, const AreaCheckOptions& options) {
  AreaCheckResult result;
  std::map<std::pair<int, std::string>, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < events.size(); ++i) {
    Event& e = events[i];
    e.out_of_area = false;
    if (e.Located() && std::isfinite(e.x) && std::isfinite(e.y)) {
      groups[{e.epsg, e.force}].push_back(i);
    }
  }
  std::size_t largest = 0;
  for (const auto& [key, idx] : groups) {
    result.located += idx.size();
    const bool report = idx.size() > largest;
    if (report) {
      largest = idx.size();
      result.epsg = key.first;
      result.centre_x = result.centre_y = result.radius_m = result.cutoff_m = 0;
    }
    if (idx.size() < std::max<std::size_t>(options.min_points, 1)) continue;
    std::vector<double> xs(idx.size());
    std::vector<double> ys(idx.size());
    for (std::size_t k = 0; k < idx.size(); ++k) {
      xs[k] = events[idx[k]].x;
      ys[k] = events[idx[k]].y;
    }
    const AreaFit fit = FitArea(std::move(xs), std::move(ys), options);
    for (std::size_t i : idx) {
      Event& e = events[i];
      if (fit.Outside(e.x, e.y)) {
        e.out_of_area = true;
        ++result.flagged;
      }
    }
    if (report) {
      result.centre_x = fit.centre_x;
      result.centre_y = fit.centre_y;
      result.radius_m = fit.radius_m;
      result.cutoff_m = fit.cutoff_m;
    }
  }
  return result;
}

std::size_t FlagOutOfArea(std::vector<Event>& events, const AreaCheckOptions& options) {
  return CheckArea(events, options).flagged;
}

}  // namespace crimecast::ingest
