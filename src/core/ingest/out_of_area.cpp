#include "core/ingest/out_of_area.hpp"

#include <algorithm>
#include <cmath>

namespace crimecast::ingest {
namespace {
double Median(std::vector<double>& v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}
}  // namespace

std::size_t OutOfAreaChecker::Apply(std::vector<Event>& events) {
  // Gather located points of forces that are not fitted yet.
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> pending;
  for (const Event& e : events) {
    if (!e.Located() || fits_.contains(e.force)) continue;
    auto& [xs, ys] = pending[e.force];
    xs.push_back(e.x);
    ys.push_back(e.y);
  }
  for (auto& [force, xy] : pending) {
    auto& [xs, ys] = xy;
    if (xs.size() < kMinPoints) continue;
    std::vector<double> xc = xs;
    std::vector<double> yc = ys;
    Fit f;
    f.cx = Median(xc);
    f.cy = Median(yc);
    std::vector<double> d(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) d[i] = std::hypot(xs[i] - f.cx, ys[i] - f.cy);
    const auto k = static_cast<std::ptrdiff_t>(0.95 * static_cast<double>(d.size() - 1));
    std::nth_element(d.begin(), d.begin() + k, d.end());
    f.r95 = d[static_cast<std::size_t>(k)];
    f.threshold = std::max(3.0 * f.r95, f.r95 + kMarginM);
    fits_.emplace(force, f);
  }
  std::size_t flagged = 0;
  for (Event& e : events) {
    if (!e.Located()) continue;
    auto it = fits_.find(e.force);
    if (it == fits_.end()) continue;
    const Fit& f = it->second;
    e.out_of_area = std::hypot(e.x - f.cx, e.y - f.cy) > f.threshold;
    flagged += e.out_of_area ? 1 : 0;
  }
  return flagged;
}

}  // namespace crimecast::ingest
