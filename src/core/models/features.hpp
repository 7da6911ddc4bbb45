// core/models/features.hpp
//
// Per-cell features for learned forecasting models (models/learned.hpp) and explanations
// (models/explain.hpp).
//
// Concepts:
// * An EventGridIndex bins the events of a History to the cells of a grid ONCE: every cell
//   holding at least one event is an "active" cell, and its events are kept sorted by t_start
//   with a running (prefix) sum of their weights. The weighted count of any cell over any time
//   window [a, b) is then two binary searches and a subtraction, so features at many origins
//   cost O(active cells x windows x log n), not a pass over the events per window.
// * A feature is computed at an ORIGIN t from events with t_start < t only, so the same
//   FeatureBuilder serves training origins inside the history (t < T) and the forecast origin T
//   without look-ahead. Targets (realised counts in [t, t + h)) are read from the same index and
//   are only ever requested for windows ending at or before T.
// * Time scale. Counts are normalised to "events per horizon" so that windows of different
//   lengths, and origins with different amounts of history, are comparable. With a horizon in
//   calendar months, or month-only data (data.police.uk), windows are whole calendar months
//   (1, 3, 6, 12 and all); otherwise windows are days (1, 7, 28, 91, 182, 365 and all, keeping
//   those at least as long as the horizon). A window that reaches back before the first event
//   of the data is divided by the part of it that was observed.
// * Month-only data are used honestly: an event known only to lie in a month [s, e) is counted
//   in a window when its whole interval is in it (true for month-aligned windows), and kernels
//   in time are averaged over the interval (NearRepeatKernel::TimeWeight) rather than evaluated
//   at its first instant.
// * Support. Only cells within `SupportRadiusCells()` cells of an active cell (at the origin)
//   get their own feature row; every other cell of the grid falls into one of four distance
//   bands whose cells share one feature vector (FeatureRows::BandRow), so models predict each
//   band once. With covariate layers and FeatureOptions::covariates_extend_support, every cell
//   where a covariate is known is in the support too.
//
// Units: distances in metres of the grid CRS, times in UTC seconds, rates in (weighted) events
// per horizon length.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/time.hpp"
#include "core/models/model.hpp"
#include "core/spatial/grid.hpp"

namespace crimecast::models {

// A near-repeat kernel: an event at distance d (metres) and time s raises the risk of a place at
// time t by Space(d) * TimeWeight(...). Space is the quartic (biweight) kernel
// (1 - (d/R)^2)^2 for d < R and 0 beyond, scaled to 1 at d = 0; TimeWeight is exp(-(t - s)/tau),
// averaged over the event's occurrence interval [s, e) when the event is month-only (so a crime
// known only to lie in last month counts as its expected decay over that month). Both factors
// are in [0, 1]. References: Johnson & Bowers (2004) and Bowers, Johnson & Pease (2004) put the
// elevated risk within about 400 m and a few weeks.
struct NearRepeatKernel {
  double radius_m = 400.0;
  double tau_s = 14.0 * 86400.0;

  double Space(double distance_m) const;
  // Mean of exp(-(t - u)/tau) over u in [s, min(e, t)); 0 when s >= t.
  double TimeWeight(std::int64_t t, std::int64_t s, std::int64_t e) const;
};

// An area covariate (deprivation, population, land use, ...): one value per local cell of the
// grid the features are built on; NaN where unknown. Appended to the features as column
// "cov_<name>". This is the hook for covariate layers once they exist.
struct CovariateLayer {
  std::string name;
  std::vector<float> value;  // size == grid.cell_count()
};

struct FeatureOptions {
  std::vector<CovariateLayer> covariates;
  // true: every cell with a known covariate gets its own feature row (joins the support), so
  // covariates can raise the forecast of a cell far from past events; false: the support stays
  // the cells near past events and covariates only refine those rows (band rows see NaN).
  bool covariates_extend_support = true;
  double near_repeat_radius_m = 400.0;
};

// Events of a History binned to a grid (see the header comment). Events outside the grid window
// or without finite coordinates are left out. Immutable after construction; safe to share
// between threads.
class EventGridIndex {
 public:
  EventGridIndex(const History& history, const spatial::Grid& grid);

  const History& history() const { return *history_; }
  const spatial::Grid& grid() const { return grid_; }
  std::size_t active_count() const { return active_cell_.size(); }
  // Local cell of active cell a.
  std::int64_t ActiveCell(std::size_t a) const { return active_cell_[a]; }
  // Active index of a local cell, or -1 when it holds no event.
  std::int32_t ActiveOf(std::int64_t local) const { return grid_to_active_[local]; }
  // Indices into history() of the events of active cell a, sorted by t_start.
  std::span<const std::uint32_t> Events(std::size_t a) const;
  std::span<const std::int64_t> Times(std::size_t a) const;
  // Weighted count of the events of active cell a with t_start in [from, to).
  double Count(std::size_t a, std::int64_t from, std::int64_t to) const;
  // Number of events (unweighted) of active cell a with t_start < t.
  std::size_t CountBefore(std::size_t a, std::int64_t t) const;
  // Weighted count of every indexed event with t_start in [from, to).
  double TotalCount(std::int64_t from, std::int64_t to) const;
  // Start of the history's observation window (History::WindowStart(); 0 when empty).
  std::int64_t data_start() const { return data_start_; }
  bool month_only() const { return month_only_; }
  std::size_t indexed_events() const { return times_.size(); }

 private:
  const History* history_;
  spatial::Grid grid_;
  std::vector<std::int32_t> grid_to_active_;
  std::vector<std::int64_t> active_cell_;
  std::vector<std::size_t> offset_;      // CSR offsets, size active + 1
  std::vector<std::int64_t> times_;      // t_start, sorted within each cell
  std::vector<std::uint32_t> event_;     // history index
  std::vector<double> cum_weight_;       // prefix sums of weights in CSR order, size n + 1
  std::vector<std::int64_t> all_times_;  // every indexed t_start, sorted
  std::vector<double> all_cum_weight_;   // prefix sums over all_times_, size n + 1
  std::int64_t data_start_ = 0;
  bool month_only_ = false;
};

// Feature rows at one origin.
struct FeatureRows {
  std::int64_t origin = 0;
  std::size_t cols = 0;
  std::vector<std::int64_t> cell;  // local cell of each row (sorted ascending)
  std::vector<float> x;            // row-major, cell.size() x cols; NaN = missing
  // A smoothed baseline rate per row (events per horizon, > 0): the exponentially decayed count
  // of the cell blended with its 3x3 neighbourhood and a small floor. Learned models use its log
  // as the offset (base margin) that the trees correct multiplicatively.
  std::vector<float> base;

  // Cells outside the support are grouped into distance bands by their Chebyshev distance d
  // (in cells) to the nearest cell with an event before the origin, R the support radius:
  // band 0: R < d <= 2R, 1: 2R < d <= 4R, 2: 4R < d <= 8R, 3: d > 8R. Every cell of a band has
  // the same features (BandRow) and baseline, so a model predicts each band once; the bands let
  // it put the (small) risk of an event in a new place near past events, not spread evenly
  // over empty hills and sea.
  static constexpr int kBands = 4;
  static constexpr std::uint8_t kInSupport = 255;
  std::vector<float> band_x;             // kBands x cols
  std::vector<float> band_base;          // kBands
  std::vector<std::int64_t> band_cells;  // number of grid cells in each band
  std::vector<std::uint8_t> band_of;     // per grid cell: its band, or kInSupport

  std::size_t rows() const { return cell.size(); }
  std::span<const float> Row(std::size_t r) const { return {x.data() + r * cols, cols}; }
  std::span<const float> BandRow(int b) const {
    return {band_x.data() + static_cast<std::size_t>(b) * cols, cols};
  }
};

// The realised (weighted) counts of a window, on the rows of a FeatureRows.
struct FeatureTargets {
  std::vector<double> count;       // per row
  std::vector<double> band_count;  // per distance band: events in its cells (FeatureRows)
};

// Computes the feature table (see the header comment and docs/models.md for the list).
class FeatureBuilder {
 public:
  // The time scale follows the horizon (calendar months or days) and the data (month-only).
  // Fails on a horizon that is not positive or on covariate layers of the wrong size.
  static Result<FeatureBuilder> Create(const EventGridIndex& index, const Horizon& horizon,
                                       FeatureOptions options = {});

  const std::vector<std::string>& names() const { return names_; }
  const EventGridIndex& index() const { return *index_; }
  const Horizon& horizon() const { return horizon_; }
  const FeatureOptions& options() const { return options_; }
  // True when windows are calendar months.
  bool monthly() const { return monthly_; }
  // Length of the normalising unit (the horizon) in seconds; months count 30.436875 days.
  double unit_seconds() const { return unit_s_; }
  int SupportRadiusCells() const { return support_radius_; }
  // End of the forecast window that starts at t.
  std::int64_t HorizonEnd(std::int64_t t) const;
  // Start of the window reaching `k` units (months when monthly, else days) back from t.
  std::int64_t Back(std::int64_t t, int k) const;

  // Features at origin t (events with t_start < t only). Parallel over rows (oneTBB).
  FeatureRows Compute(std::int64_t t) const;
  // Realised weighted counts in [from, to) on the rows of `rows` (requires to <= the end of the
  // history's observation window for honest training; the caller enforces that).
  FeatureTargets Targets(const FeatureRows& rows, std::int64_t from, std::int64_t to) const;

  // Column positions of a few features other modules read by meaning.
  std::size_t col_all() const { return col_all_; }              // cell rate over all history
  std::size_t col_short() const { return col_short_; }          // cell rate over the short window
  std::size_t col_ring1_all() const { return col_ring1_all_; }  // 3x3 ring (centre excluded)

 private:
  FeatureBuilder() = default;

  const EventGridIndex* index_ = nullptr;
  Horizon horizon_;
  FeatureOptions options_;
  bool monthly_ = false;
  double unit_s_ = 0;
  int support_radius_ = 2;
  int nr_radius_cells_ = 2;
  std::vector<int> windows_;  // units back: months when monthly_, else days; 0 = all history
  int short_window_ = 0, long_window_ = 0;
  double half_life_s_ = 0;
  std::vector<NearRepeatKernel> near_repeat_;
  std::vector<std::string> names_;
  std::size_t col_all_ = 0, col_short_ = 0, col_ring1_all_ = 0;
};

// Category groups used for the category-mix features (and by explanations).
inline constexpr int kCategoryGroupCount = 6;
// 0 violence and sexual offences, 1 anti-social behaviour, 2 property (burglary, vehicle,
// bicycle, robbery, theft from the person, other theft), 3 shoplifting, 4 public order and
// criminal damage, 5 other (drugs, weapons, other crime).
int CategoryGroup(Category c);
std::string_view CategoryGroupName(int group);

}  // namespace crimecast::models
