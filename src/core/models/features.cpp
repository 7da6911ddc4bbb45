#include "core/models/features.hpp"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/common/assert.hpp"

namespace crimecast::models {
namespace {

constexpr double kSecondsPerDay = 86400.0;
constexpr double kMeanMonthSeconds = 30.436875 * kSecondsPerDay;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();
// Share of the cell itself in the baseline rate (the rest is its 3x3 neighbourhood mean).
constexpr double kBaseCell = 0.95;

double WeightOf(const History& h, std::size_t i) {
  return h.weight.size() == h.size() ? h.weight[i] : 1.0;
}

std::string WindowLabel(bool monthly, int k) {
  if (k == 0) return "all";
  return monthly ? fmt::format("{}m", k) : fmt::format("{}d", k);
}

}  // namespace

int CategoryGroup(Category c) {
  switch (c) {
    case Category::kViolenceSexualOffences:
      return 0;
    case Category::kAntiSocialBehaviour:
      return 1;
    case Category::kBurglary:
    case Category::kVehicleCrime:
    case Category::kBicycleTheft:
    case Category::kRobbery:
    case Category::kTheftFromPerson:
    case Category::kOtherTheft:
      return 2;
    case Category::kShoplifting:
      return 3;
    case Category::kPublicOrder:
    case Category::kCriminalDamageArson:
      return 4;
    case Category::kDrugs:
    case Category::kPossessionOfWeapons:
    case Category::kOtherCrime:
      return 5;
  }
  return 5;
}

std::string_view CategoryGroupName(int group) {
  static constexpr std::string_view kNames[kCategoryGroupCount] = {
      "violence", "asb", "property", "shoplifting", "disorder", "other"};
  return group >= 0 && group < kCategoryGroupCount ? kNames[group] : "other";
}

double NearRepeatKernel::Space(double distance_m) const {
  if (!(distance_m < radius_m)) return 0.0;
  const double u = distance_m / radius_m;
  const double v = 1.0 - u * u;
  return v * v;
}

double NearRepeatKernel::TimeWeight(std::int64_t t, std::int64_t s, std::int64_t e) const {
  if (s >= t) return 0.0;
  const std::int64_t end = std::min(e, t);
  const double a = static_cast<double>(t - end);  // age of the interval's latest instant
  const double len = static_cast<double>(end - s);
  // For a short interval (a timestamped event) the average equals the point value.
  if (len <= 1.0 || len < 1e-6 * tau_s) return std::exp(-a / tau_s);
  // Mean of exp(-(t-u)/tau) over u in [s, end): tau/len * (exp(-a/tau) - exp(-(a+len)/tau)).
  return tau_s / len * (std::exp(-a / tau_s) - std::exp(-(a + len) / tau_s));
}

// ---------------------------------------------------------------------------------------------
// EventGridIndex

EventGridIndex::EventGridIndex(const History& history, const spatial::Grid& grid)
    : history_(&history), grid_(grid) {
  const std::size_t n = history.size();
  const auto cells = static_cast<std::size_t>(grid.cell_count());
  month_only_ = history.MonthOnly();
  // The start of the observation window (all categories, see History): a rare category's
  // rates are not inflated by a late first event.
  data_start_ = history.WindowStart();
  std::vector<std::int64_t> local(n, -1);
  std::vector<std::uint32_t> per_cell(cells, 0);
  for (std::size_t i = 0; i < n; ++i) {
    local[i] = grid.LocalOf(history.x[i], history.y[i]);
    if (local[i] >= 0) ++per_cell[static_cast<std::size_t>(local[i])];
  }
  // Active ids in ascending local-cell order, so every later loop is deterministic.
  grid_to_active_.assign(cells, -1);
  offset_.push_back(0);
  for (std::size_t c = 0; c < cells; ++c) {
    if (per_cell[c] == 0) continue;
    grid_to_active_[c] = static_cast<std::int32_t>(active_cell_.size());
    active_cell_.push_back(static_cast<std::int64_t>(c));
    offset_.push_back(offset_.back() + per_cell[c]);
  }
  const std::size_t m = offset_.back();
  times_.resize(m);
  event_.resize(m);
  std::vector<std::size_t> fill(offset_.begin(), offset_.end() - 1);
  // Visiting events in time order keeps each cell's list sorted; History promises t_start order
  // but a stable sort of the visiting order makes the index correct for any input.
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return history.t_start[a] < history.t_start[b];
  });
  all_times_.reserve(m);
  all_cum_weight_.reserve(m + 1);
  all_cum_weight_.push_back(0.0);
  for (const std::uint32_t i : order) {
    if (local[i] < 0) continue;
    const auto a = static_cast<std::size_t>(grid_to_active_[static_cast<std::size_t>(local[i])]);
    const std::size_t slot = fill[a]++;
    times_[slot] = history.t_start[i];
    event_[slot] = i;
    all_times_.push_back(history.t_start[i]);
    all_cum_weight_.push_back(all_cum_weight_.back() + WeightOf(history, i));
  }
  cum_weight_.resize(m + 1);
  cum_weight_[0] = 0.0;
  for (std::size_t k = 0; k < m; ++k)
    cum_weight_[k + 1] = cum_weight_[k] + WeightOf(history, event_[k]);
}

std::span<const std::uint32_t> EventGridIndex::Events(std::size_t a) const {
  return {event_.data() + offset_[a], offset_[a + 1] - offset_[a]};
}

std::span<const std::int64_t> EventGridIndex::Times(std::size_t a) const {
  return {times_.data() + offset_[a], offset_[a + 1] - offset_[a]};
}

double EventGridIndex::Count(std::size_t a, std::int64_t from, std::int64_t to) const {
  if (to <= from) return 0.0;
  const auto* begin = times_.data() + offset_[a];
  const auto* end = times_.data() + offset_[a + 1];
  const auto* lo = std::lower_bound(begin, end, from);
  const auto* hi = std::lower_bound(lo, end, to);
  const std::size_t base = offset_[a];
  return cum_weight_[base + static_cast<std::size_t>(hi - begin)] -
         cum_weight_[base + static_cast<std::size_t>(lo - begin)];
}

std::size_t EventGridIndex::CountBefore(std::size_t a, std::int64_t t) const {
  const auto* begin = times_.data() + offset_[a];
  const auto* end = times_.data() + offset_[a + 1];
  return static_cast<std::size_t>(std::lower_bound(begin, end, t) - begin);
}

double EventGridIndex::TotalCount(std::int64_t from, std::int64_t to) const {
  if (to <= from) return 0.0;
  const auto lo = std::lower_bound(all_times_.begin(), all_times_.end(), from);
  const auto hi = std::lower_bound(lo, all_times_.end(), to);
  return all_cum_weight_[static_cast<std::size_t>(hi - all_times_.begin())] -
         all_cum_weight_[static_cast<std::size_t>(lo - all_times_.begin())];
}

// ---------------------------------------------------------------------------------------------
// FeatureBuilder

Result<FeatureBuilder> FeatureBuilder::Create(const EventGridIndex& index, const Horizon& horizon,
                                              FeatureOptions options) {
  if (horizon.months <= 0 && horizon.seconds <= 0) {
    return Fail(ErrorCode::kBadHorizon, "the forecast horizon must be positive");
  }
  for (const auto& layer : options.covariates) {
    if (static_cast<std::int64_t>(layer.value.size()) != index.grid().cell_count()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("covariate layer '{}' has {} values for a grid of {} cells",
                              layer.name, layer.value.size(), index.grid().cell_count()));
    }
  }
  if (!(options.near_repeat_radius_m > 0) || !std::isfinite(options.near_repeat_radius_m)) {
    return Fail(ErrorCode::kInvalidArgument, "the near-repeat radius must be positive");
  }
  FeatureBuilder b;
  b.index_ = &index;
  b.horizon_ = horizon;
  b.options_ = std::move(options);
  b.monthly_ = horizon.months > 0 || index.month_only();
  b.unit_s_ = horizon.months > 0 ? horizon.months * kMeanMonthSeconds
                                 : static_cast<double>(horizon.seconds);
  if (b.monthly_) {
    b.windows_ = {1, 3, 6, 12, 0};
    b.half_life_s_ = 6 * kMeanMonthSeconds;
    b.short_window_ = 3;
    b.long_window_ = 12;
    b.near_repeat_ = {{b.options_.near_repeat_radius_m, kMeanMonthSeconds},
                      {b.options_.near_repeat_radius_m, 4 * kMeanMonthSeconds}};
  } else {
    for (int d : {1, 7, 28, 91, 182, 365}) {
      if (d * kSecondsPerDay >= b.unit_s_) b.windows_.push_back(d);
    }
    if (b.windows_.empty())
      b.windows_.push_back(static_cast<int>(std::ceil(b.unit_s_ / kSecondsPerDay)));
    b.windows_.push_back(0);
    b.short_window_ = b.windows_.front();
    for (int d : b.windows_) {
      if (d >= 28) {
        b.short_window_ = d;
        break;
      }
    }
    b.long_window_ = b.windows_.size() >= 2 ? b.windows_[b.windows_.size() - 2] : 0;
    b.half_life_s_ = 182 * kSecondsPerDay;
    b.near_repeat_ = {{b.options_.near_repeat_radius_m, 7 * kSecondsPerDay},
                      {b.options_.near_repeat_radius_m, 35 * kSecondsPerDay}};
  }
  const double size = index.grid().size_m();
  // Cells whose centre lies within R of this cell's centre.
  b.nr_radius_cells_ =
      std::clamp(static_cast<int>(std::floor(b.options_.near_repeat_radius_m / size)), 0, 8);
  b.support_radius_ = std::max(2, b.nr_radius_cells_);

  auto& n = b.names_;
  for (int k : b.windows_) {
    if (k == 0) b.col_all_ = n.size();
    if (k == b.short_window_) b.col_short_ = n.size();
    n.push_back("cell_" + WindowLabel(b.monthly_, k));
  }
  const std::string s = WindowLabel(b.monthly_, b.short_window_);
  const std::string l = WindowLabel(b.monthly_, b.long_window_);
  n.push_back("decay_cell");
  n.push_back("decay_nbhd");
  for (int g = 0; g < kCategoryGroupCount; ++g) {
    n.push_back(fmt::format("decay_{}", CategoryGroupName(g)));
  }
  n.push_back("ring1_" + s);
  n.push_back("ring1_" + l);
  b.col_ring1_all_ = n.size();
  n.push_back("ring1_all");
  n.push_back("ring2_" + l);
  n.push_back("ring2_all");
  n.push_back("trend_cell");
  n.push_back("trend_nbhd");
  n.push_back("season_cell");
  n.push_back("season_nbhd");
  if (!b.monthly_ && b.unit_s_ < 7 * kSecondsPerDay) {
    n.push_back("week_phase_cell");
    n.push_back("week_phase_nbhd");
  }
  for (const auto& k : b.near_repeat_) {
    n.push_back(
        fmt::format("near_repeat_{}d", static_cast<int>(std::lround(k.tau_s / kSecondsPerDay))));
  }
  n.push_back("kde_small_all");
  n.push_back("since_cell");
  n.push_back("since_nbhd");
  for (int g = 0; g < kCategoryGroupCount; ++g)
    n.push_back(fmt::format("mix_{}", CategoryGroupName(g)));
  n.push_back("points_cell");
  n.push_back("span");
  n.push_back("dist_m");
  for (const auto& layer : b.options_.covariates) n.push_back("cov_" + layer.name);
  return b;
}

std::int64_t FeatureBuilder::HorizonEnd(std::int64_t t) const {
  return horizon_.EndFrom(TimePoint{Seconds{t}}).time_since_epoch().count();
}

std::int64_t FeatureBuilder::Back(std::int64_t t, int k) const {
  if (monthly_) return AddMonths(TimePoint{Seconds{t}}, -k).time_since_epoch().count();
  return t - static_cast<std::int64_t>(k) * 86400;
}

FeatureRows FeatureBuilder::Compute(std::int64_t t) const {
  const EventGridIndex& idx = *index_;
  const History& h = idx.history();
  const spatial::Grid& grid = idx.grid();
  const std::int64_t nx = grid.nx(), ny = grid.ny();
  const std::size_t n_active = idx.active_count();
  const std::size_t nw = windows_.size();
  const std::size_t n_nr = near_repeat_.size();
  const std::size_t n_cov = options_.covariates.size();
  const std::int64_t start = idx.data_start();
  const double span_units = std::max(static_cast<double>(t - start), 0.0) / unit_s_;

  // Windows of the origin.
  const std::int64_t h_len = HorizonEnd(t) - t;
  const bool week_phase = !monthly_ && unit_s_ < 7 * kSecondsPerDay;
  const std::int64_t season_from =
      monthly_ ? Back(t, 12) : t - 364 * static_cast<std::int64_t>(86400);
  const std::int64_t season_to =
      monthly_ ? AddMonths(TimePoint{Seconds{season_from}}, std::max(horizon_.months, 1))
                     .time_since_epoch()
                     .count()
               : season_from + h_len;
  const bool season_known = season_from >= start;
  constexpr int kPhaseWeeks = 8;
  int phase_weeks = 0;
  for (int k = 1; k <= kPhaseWeeks; ++k) {
    if (t - k * 7 * 86400 >= start) phase_weeks = k;
  }
  std::vector<std::int64_t> window_from(nw);
  for (std::size_t k = 0; k < nw; ++k) {
    window_from[k] = windows_[k] == 0 ? start : Back(t, windows_[k]);
  }

  // Pass 1, per active cell (events before t only): window counts, same period last year, week
  // phase, category groups, distinct points, decayed counts. Slots of `acc`:
  const std::size_t s_season = nw, s_phase = nw + 1, s_group = nw + 2;
  const std::size_t s_points = s_group + kCategoryGroupCount;
  const std::size_t s_decay = s_points + 1;
  const std::size_t s_gdecay = s_decay + 1;
  const std::size_t s_nr = s_gdecay + kCategoryGroupCount;
  const std::size_t per = s_nr + n_nr;
  const NearRepeatKernel decay{1.0, half_life_s_ / std::log(2.0)};
  std::vector<double> acc(n_active * per, 0.0);
  std::vector<std::int64_t> last(n_active, kNoTime);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n_active), [&](const auto& range) {
    std::vector<std::pair<double, double>> pts;
    for (std::size_t a = range.begin(); a != range.end(); ++a) {
      double* out = acc.data() + a * per;
      const std::size_t before = idx.CountBefore(a, t);
      if (before == 0) continue;
      for (std::size_t k = 0; k < nw; ++k) out[k] = idx.Count(a, window_from[k], t);
      out[s_season] = season_known ? idx.Count(a, season_from, std::min(season_to, t)) : 0.0;
      if (week_phase) {
        for (int k = 1; k <= phase_weeks; ++k) {
          const std::int64_t from = t - k * 7 * 86400;
          out[s_phase] += idx.Count(a, from, std::min(from + h_len, t));
        }
      }
      last[a] = idx.Times(a)[before - 1];
      pts.clear();
      for (const std::uint32_t e : idx.Events(a).first(before)) {
        const double w = WeightOf(h, e);
        out[s_group + CategoryGroup(h.category[e])] += w;
        const double dw = w * decay.TimeWeight(t, h.t_start[e], h.t_end[e]);
        out[s_decay] += dw;
        out[s_gdecay + CategoryGroup(h.category[e])] += dw;
        for (std::size_t k = 0; k < n_nr; ++k) {
          out[s_nr + k] += w * near_repeat_[k].TimeWeight(t, h.t_start[e], h.t_end[e]);
        }
        pts.emplace_back(h.x[e], h.y[e]);
      }
      std::sort(pts.begin(), pts.end());
      out[s_points] = static_cast<double>(std::unique(pts.begin(), pts.end()) - pts.begin());
    }
  });

  // Chebyshev distance (in cells) from every cell to the nearest cell with an event before t:
  // an exact two-pass chamfer transform with unit weights on all 8 neighbours. O(cells).
  const auto cells = static_cast<std::size_t>(grid.cell_count());
  constexpr std::int32_t kFar = std::numeric_limits<std::int32_t>::max() / 2;
  std::vector<std::int32_t> dist(cells, kFar);
  std::size_t active_now = 0;
  for (std::size_t a = 0; a < n_active; ++a) {
    if (last[a] == kNoTime) continue;
    ++active_now;
    dist[static_cast<std::size_t>(idx.ActiveCell(a))] = 0;
  }
  auto at = [&](std::int64_t x, std::int64_t y) -> std::int32_t& {
    return dist[static_cast<std::size_t>(y * nx + x)];
  };
  for (std::int64_t y = 0; y < ny; ++y) {
    for (std::int64_t x = 0; x < nx; ++x) {
      std::int32_t& d = at(x, y);
      if (x > 0) d = std::min(d, at(x - 1, y) + 1);
      if (y > 0) {
        d = std::min(d, at(x, y - 1) + 1);
        if (x > 0) d = std::min(d, at(x - 1, y - 1) + 1);
        if (x + 1 < nx) d = std::min(d, at(x + 1, y - 1) + 1);
      }
    }
  }
  for (std::int64_t y = ny - 1; y >= 0; --y) {
    for (std::int64_t x = nx - 1; x >= 0; --x) {
      std::int32_t& d = at(x, y);
      if (x + 1 < nx) d = std::min(d, at(x + 1, y) + 1);
      if (y + 1 < ny) {
        d = std::min(d, at(x, y + 1) + 1);
        if (x + 1 < nx) d = std::min(d, at(x + 1, y + 1) + 1);
        if (x > 0) d = std::min(d, at(x - 1, y + 1) + 1);
      }
    }
  }
  // Support: cells within support_radius_ of an active cell, plus covariate cells. The others
  // fall into distance bands.
  const std::int32_t r = support_radius_;
  FeatureRows rows;
  rows.origin = t;
  rows.cols = names_.size();
  rows.band_of.assign(cells, FeatureRows::kInSupport);
  rows.band_cells.assign(FeatureRows::kBands, 0);
  for (std::size_t c = 0; c < cells; ++c) {
    bool covariate = false;
    if (options_.covariates_extend_support) {
      for (const auto& layer : options_.covariates)
        covariate = covariate || !std::isnan(layer.value[c]);
    }
    if (dist[c] <= r || covariate) {
      rows.cell.push_back(static_cast<std::int64_t>(c));
      continue;
    }
    int band = 0;
    while (band + 1 < FeatureRows::kBands && dist[c] > (r << (band + 1))) ++band;
    rows.band_of[c] = static_cast<std::uint8_t>(band);
    ++rows.band_cells[static_cast<std::size_t>(band)];
  }
  const std::size_t n_rows = rows.cell.size();
  rows.x.assign(n_rows * rows.cols, 0.0f);
  rows.base.assign(n_rows, 0.0f);

  // Normalisers: the observed part of each window, in horizon units.
  std::vector<double> norm(nw);
  for (std::size_t k = 0; k < nw; ++k) {
    const double observed = static_cast<double>(t - std::max(window_from[k], start));
    norm[k] = observed > 0 ? unit_s_ / observed : 0.0;
  }
  auto window_index = [&](int w) {
    return static_cast<std::size_t>(std::find(windows_.begin(), windows_.end(), w) -
                                    windows_.begin());
  };
  const std::size_t k_short = window_index(short_window_);
  const std::size_t k_long = window_index(long_window_);
  const std::size_t k_all = nw - 1;
  const double short_len_units =
      static_cast<double>(t - std::max(window_from[k_short], start)) / unit_s_;
  // Decayed counts are divided by the decayed length of the observed history, so they are rates
  // per horizon like the window counts.
  const double tau = half_life_s_ / std::log(2.0);
  const double observed = static_cast<double>(std::max<std::int64_t>(t - start, 1));
  const double decay_norm = unit_s_ / (tau * (1.0 - std::exp(-observed / tau)));
  // The baseline floor: 1% of the mean rate of an active cell, so empty cells get a small
  // positive base.
  const double base_floor = active_now > 0 ? 0.01 * idx.TotalCount(start, t) / observed * unit_s_ /
                                                 static_cast<double>(active_now)
                                           : 1e-3;

  // Spatial kernels act between cell centres (|offset| * size): the near-repeat quartic of
  // radius R and a small-bandwidth quartic (1.5 cells) for the KDE. Cell centres instead of
  // event points keep the cost at O(rows x stencil) whatever the event count; the error (at most
  // half a cell diagonal) is small against R. Explanations use exact event positions.
  const int stencil = support_radius_;
  const int side = 2 * stencil + 1;
  std::vector<double> k_nr(static_cast<std::size_t>(side * side));
  std::vector<double> k_kde(k_nr.size());
  const NearRepeatKernel kde{1.5 * grid.size_m(), 1.0};
  const NearRepeatKernel space{options_.near_repeat_radius_m, 1.0};
  for (int dy = -stencil; dy <= stencil; ++dy) {
    for (int dx = -stencil; dx <= stencil; ++dx) {
      const double d = grid.size_m() * std::hypot(dx, dy);
      const auto k = static_cast<std::size_t>((dy + stencil) * side + dx + stencil);
      k_nr[k] = space.Space(d);
      k_kde[k] = kde.Space(d);
    }
  }

  // Pass 2, per row: neighbourhood sums over the stencil.
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n_rows), [&](const auto& range) {
    std::vector<double> nr(n_nr);
    for (std::size_t row = range.begin(); row != range.end(); ++row) {
      float* out = rows.x.data() + row * rows.cols;
      const std::int64_t c = rows.cell[row];
      const std::int64_t cx = c % nx, cy = c / nx;
      double ring1[3] = {0, 0, 0};  // short, long, all (raw counts)
      double ring2[2] = {0, 0};     // long, all
      double nb_season = 0, nb_phase = 0, nb_decay = 0, nb_groups[kCategoryGroupCount] = {};
      std::int64_t nb_last = kNoTime;
      double kde_sum = 0;
      std::fill(nr.begin(), nr.end(), 0.0);
      const double* self = nullptr;
      std::int64_t self_last = kNoTime;
      for (std::int64_t dy = -stencil; dy <= stencil; ++dy) {
        const std::int64_t y = cy + dy;
        if (y < 0 || y >= ny) continue;
        for (std::int64_t dx = -stencil; dx <= stencil; ++dx) {
          const std::int64_t x = cx + dx;
          if (x < 0 || x >= nx) continue;
          const std::int32_t a = idx.ActiveOf(y * nx + x);
          if (a < 0 || last[static_cast<std::size_t>(a)] == kNoTime) continue;
          const auto au = static_cast<std::size_t>(a);
          const double* v = acc.data() + au * per;
          const std::int64_t ring = std::max(std::abs(dx), std::abs(dy));
          if (ring == 0) {
            self = v;
            self_last = last[au];
          }
          if (ring <= 1) {
            nb_season += v[s_season];
            nb_phase += v[s_phase];
            nb_decay += v[s_decay];
            for (int g = 0; g < kCategoryGroupCount; ++g) nb_groups[g] += v[s_group + g];
            nb_last = std::max(nb_last, last[au]);
          }
          if (ring == 1) {
            ring1[0] += v[k_short];
            ring1[1] += v[k_long];
            ring1[2] += v[k_all];
          } else if (ring == 2) {
            ring2[0] += v[k_long];
            ring2[1] += v[k_all];
          }
          const auto k = static_cast<std::size_t>((dy + stencil) * side + dx + stencil);
          kde_sum += k_kde[k] * v[k_all];
          for (std::size_t j = 0; j < n_nr; ++j) nr[j] += k_nr[k] * v[s_nr + j];
        }
      }
      std::size_t col = 0;
      for (std::size_t k = 0; k < nw; ++k) {
        out[col++] = self ? static_cast<float>(self[k] * norm[k]) : 0.0f;
      }
      const double self_decay = self ? self[s_decay] * decay_norm : 0.0;
      out[col++] = static_cast<float>(self_decay);
      out[col++] = static_cast<float>(nb_decay * decay_norm);
      for (int g = 0; g < kCategoryGroupCount; ++g) {
        out[col++] = self ? static_cast<float>(self[s_gdecay + g] * decay_norm) : 0.0f;
      }
      rows.base[row] = static_cast<float>(
          kBaseCell * self_decay + (1 - kBaseCell) * nb_decay * decay_norm / 9.0 + base_floor);
      out[col++] = static_cast<float>(ring1[0] * norm[k_short]);
      out[col++] = static_cast<float>(ring1[1] * norm[k_long]);
      out[col++] = static_cast<float>(ring1[2] * norm[k_all]);
      out[col++] = static_cast<float>(ring2[0] * norm[k_long]);
      out[col++] = static_cast<float>(ring2[1] * norm[k_all]);
      // Trend: log of (recent count + 1/2) over (the count the long-term rate predicts for the
      // recent window + 1/2); the pseudo-count keeps near-empty cells near 0 instead of +-inf.
      const double self_short = self ? self[k_short] : 0.0;
      const double self_all_rate = self ? self[k_all] * norm[k_all] : 0.0;
      out[col++] = static_cast<float>(
          std::log((self_short + 0.5) / (self_all_rate * short_len_units + 0.5)));
      const double nb_short = self_short + ring1[0];
      const double nb_all_rate = self_all_rate + ring1[2] * norm[k_all];
      out[col++] =
          static_cast<float>(std::log((nb_short + 0.5) / (nb_all_rate * short_len_units + 0.5)));
      out[col++] = season_known ? static_cast<float>(self ? self[s_season] : 0.0) : kNaN;
      out[col++] = season_known ? static_cast<float>(nb_season) : kNaN;
      if (week_phase) {
        const double inv = phase_weeks > 0 ? 1.0 / phase_weeks : 0.0;
        out[col++] =
            phase_weeks > 0 ? static_cast<float>((self ? self[s_phase] : 0.0) * inv) : kNaN;
        out[col++] = phase_weeks > 0 ? static_cast<float>(nb_phase * inv) : kNaN;
      }
      for (std::size_t k = 0; k < n_nr; ++k) out[col++] = static_cast<float>(nr[k]);
      out[col++] = static_cast<float>(kde_sum * norm[k_all]);
      out[col++] = self_last == kNoTime
                       ? kNaN
                       : static_cast<float>(static_cast<double>(t - self_last) / unit_s_);
      out[col++] = nb_last == kNoTime
                       ? kNaN
                       : static_cast<float>(static_cast<double>(t - nb_last) / unit_s_);
      double nb_total = 0;
      for (double g : nb_groups) nb_total += g;
      for (int g = 0; g < kCategoryGroupCount; ++g) {
        out[col++] = nb_total > 0 ? static_cast<float>(nb_groups[g] / nb_total) : kNaN;
      }
      out[col++] = self ? static_cast<float>(self[s_points]) : 0.0f;
      out[col++] = static_cast<float>(span_units);
      const std::int32_t dc = dist[static_cast<std::size_t>(c)];
      out[col++] = dc >= kFar ? kNaN : static_cast<float>(dc * grid.size_m());
      for (std::size_t k = 0; k < n_cov; ++k) {
        out[col++] = options_.covariates[k].value[static_cast<std::size_t>(c)];
      }
      CRIMECAST_ASSERT(col == rows.cols, "feature column count mismatch");
    }
  });

  // Cells outside the support: no events within the stencil, so every count is zero and every
  // "time since" and share is missing; they differ only in their distance band.
  std::vector<float> empty(rows.cols, 0.0f);
  {
    std::size_t col = nw + 7 + kCategoryGroupCount;
    empty[col++] = 0.0f;  // trend_cell: log(0.5 / 0.5)
    empty[col++] = 0.0f;  // trend_nbhd
    empty[col++] = season_known ? 0.0f : kNaN;
    empty[col++] = season_known ? 0.0f : kNaN;
    if (week_phase) {
      empty[col++] = phase_weeks > 0 ? 0.0f : kNaN;
      empty[col++] = phase_weeks > 0 ? 0.0f : kNaN;
    }
    col += n_nr + 1;
    empty[col++] = kNaN;
    empty[col++] = kNaN;
    for (int g = 0; g < kCategoryGroupCount; ++g) empty[col++] = kNaN;
    col++;
    empty[col++] = static_cast<float>(span_units);
    const std::size_t col_dist = col++;
    for (std::size_t k = 0; k < n_cov; ++k) empty[col++] = kNaN;
    CRIMECAST_ASSERT(col == rows.cols, "empty-row column count mismatch");
    rows.band_x.clear();
    for (int b = 0; b < FeatureRows::kBands; ++b) {
      // The band's middle distance; the last band (beyond 8R) is represented at 12R. With no
      // event at all before t every cell is "infinitely" far: missing.
      const double d = 1.5 * static_cast<double>(r << b);
      empty[col_dist] = active_now > 0 ? static_cast<float>(d * grid.size_m()) : kNaN;
      rows.band_x.insert(rows.band_x.end(), empty.begin(), empty.end());
    }
  }
  rows.band_base.assign(FeatureRows::kBands, static_cast<float>(base_floor));
  return rows;
}

FeatureTargets FeatureBuilder::Targets(const FeatureRows& rows, std::int64_t from,
                                       std::int64_t to) const {
  const EventGridIndex& idx = *index_;
  FeatureTargets out;
  out.count.assign(rows.rows(), 0.0);
  out.band_count.assign(FeatureRows::kBands, 0.0);
  for (std::size_t r = 0; r < rows.rows(); ++r) {
    const std::int32_t a = idx.ActiveOf(rows.cell[r]);
    if (a >= 0) out.count[r] = idx.Count(static_cast<std::size_t>(a), from, to);
  }
  for (std::size_t a = 0; a < idx.active_count(); ++a) {
    const auto c = static_cast<std::size_t>(idx.ActiveCell(a));
    if (rows.band_of[c] == FeatureRows::kInSupport) continue;
    out.band_count[rows.band_of[c]] += idx.Count(a, from, to);
  }
  return out;
}

}  // namespace crimecast::models
