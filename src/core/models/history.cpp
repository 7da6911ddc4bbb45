#include "core/models/history.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace crimecast::models {
namespace {

constexpr std::int64_t kMonthOnlyMinSeconds = 28LL * 86400;
// A silence shorter than this before T is a quiet spell, not the end of the data.
constexpr std::int64_t kDataGapTolerance = 86400;

std::int64_t Secs(TimePoint t) { return t.time_since_epoch().count(); }

}  // namespace

bool History::MonthOnly() const {
  if (t_start.empty()) return false;
  for (std::size_t i = 0; i < t_start.size(); ++i) {
    if (t_end[i] - t_start[i] < kMonthOnlyMinSeconds) return false;
  }
  return true;
}

std::int64_t History::EarliestStart() const {
  if (t_start.empty()) return 0;
  return *std::min_element(t_start.begin(), t_start.end());
}

std::int64_t History::LatestStart() const {
  if (t_start.empty()) return 0;
  return *std::max_element(t_start.begin(), t_start.end());
}

std::int64_t History::WindowStart() const {
  return observed_from != 0 ? observed_from : EarliestStart();
}

std::int64_t History::WindowEnd(std::int64_t t) const {
  return observed_to != 0 ? std::min(observed_to, t) : t;
}

void SortByStart(storage::PointColumns& p) {
  const std::size_t n = p.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  const bool have_id = p.id.size() == n;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (p.t_start[a] != p.t_start[b]) return p.t_start[a] < p.t_start[b];
    return have_id && p.id[a] < p.id[b];
  });
  if (std::is_sorted(order.begin(), order.end())) return;
  auto permute = [&](auto& v) {
    if (v.size() != n) return;
    std::remove_reference_t<decltype(v)> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = v[order[i]];
    v.swap(out);
  };
  permute(p.x);
  permute(p.y);
  permute(p.lon);
  permute(p.lat);
  permute(p.t_start);
  permute(p.t_end);
  permute(p.category);
  permute(p.id);
  permute(p.quality);
}

Result<History> BuildHistory(const storage::PointColumns& p, const HistoryOptions& opt) {
  const std::size_t n = p.size();
  if (p.y.size() != n || p.t_start.size() != n || p.t_end.size() != n || p.category.size() != n) {
    return Fail(ErrorCode::kInternal, "point columns have different lengths");
  }
  const bool have_id = p.id.size() == n;
  const std::int64_t cutoff = Secs(opt.cutoff);

  std::array<bool, kCategoryCount> wanted{};
  wanted.fill(opt.categories.empty());
  for (Category c : opt.categories) wanted[static_cast<std::size_t>(c)] = true;

  std::vector<std::size_t> keep;
  std::int64_t earliest_any = std::numeric_limits<std::int64_t>::max();
  for (std::size_t i = 0; i < n; ++i) {
    if (p.t_start[i] >= cutoff) continue;
    if (p.t_end[i] <= p.t_start[i]) {
      return Fail(ErrorCode::kBadTime,
                  fmt::format("event {} has an empty occurrence interval",
                              have_id ? p.id[i] : static_cast<std::int64_t>(i)));
    }
    earliest_any = std::min(earliest_any, p.t_start[i]);
    if (!wanted[static_cast<std::size_t>(p.category[i])]) continue;
    if (!std::isfinite(p.x[i]) || !std::isfinite(p.y[i])) continue;
    keep.push_back(i);
  }
  std::stable_sort(keep.begin(), keep.end(),
                   [&](std::size_t a, std::size_t b) { return p.t_start[a] < p.t_start[b]; });

  History h;
  h.x.reserve(keep.size());
  h.y.reserve(keep.size());
  h.t_start.reserve(keep.size());
  h.t_end.reserve(keep.size());
  h.category.reserve(keep.size());
  h.weight.reserve(keep.size());
  h.id.reserve(keep.size());
  for (std::size_t i : keep) {
    h.x.push_back(p.x[i]);
    h.y.push_back(p.y[i]);
    h.t_start.push_back(p.t_start[i]);
    h.t_end.push_back(p.t_end[i]);
    h.category.push_back(p.category[i]);
    h.weight.push_back(opt.harm ? (*opt.harm)(p.category[i]) : 1.0);
    h.id.push_back(have_id ? p.id[i] : static_cast<std::int64_t>(i));
  }
  if (opt.observed_from) {
    h.observed_from = std::min(Secs(*opt.observed_from), cutoff);
  } else if (earliest_any != std::numeric_limits<std::int64_t>::max()) {
    h.observed_from = earliest_any;
  }
  h.observed_to = cutoff;
  if (opt.data_end && Secs(*opt.data_end) < cutoff - kDataGapTolerance) {
    h.observed_to = std::max(Secs(*opt.data_end), h.observed_from + 1);
  }
  return h;
}

Result<History> LoadHistory(storage::EventStore& store, int epsg, const HistoryOptions& options) {
  HistoryOptions opt = options;
  auto extent = store.Extent();
  if (!extent) {
    if (extent.error().code == ErrorCode::kNoData) {
      return Fail(ErrorCode::kEmptyTrainingWindow, "the database holds no events");
    }
    return Unexpected(extent.error());
  }
  if (!opt.observed_from) opt.observed_from = extent->start;
  if (!opt.data_end) opt.data_end = extent->end;
  storage::EventFilter filter;
  filter.to = opt.cutoff;
  filter.categories = opt.categories;
  filter.located_only = true;
  filter.include_out_of_area = false;
  auto points = store.LoadPoints(filter, epsg);
  if (!points) return Unexpected(points.error());
  return BuildHistory(*points, opt);
}

}  // namespace crimecast::models
