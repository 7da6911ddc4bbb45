// core/models/etas_grid.hpp
//
// Grid ETAS (Mohler, Short, Malinowski, Johnson, Tita, Bertozzi & Brantingham 2015): the fitting
// machinery behind the "etas-grid" model (models/self_exciting.hpp). Exposed for tests and
// benchmarks; applications use MakeEtasGridModel.
//
// Model, per grid cell n (time in days):
//   lambda_n(t) = mu_n + sum_{t_i < t, i in cell n} theta omega exp(-omega (t - t_i))
//
// EM (Mohler et al. 2015, section 2; Veen & Schoenberg 2008). The E-step needs, for each event
// i, the summed kernel of all earlier events of its cell. Done naively that is O(n_c^2) per
// cell; with the exponential kernel it is a running sum updated in O(1) per event:
//   S0(t) = sum_{j done by t} G_j e^{-omega (t - b_j)}   decays as S0(t + d) = e^{-omega d} S0(t)
//   S1(t) = sum_j G_j e^{-omega (t - b_j)} ((t - b_j) + C_j)  (S1(t + d) = e^{-omega d}(S1 + d S0))
// where G_j, C_j are the interval terms of self_exciting_common.hpp (1 and 0 for timestamps),
// so one E-step costs O(n) and is parallel over cells (oneTBB). Events whose intervals are
// identical (same month, or same second) trigger each other with the same-interval kernel K1;
// partially overlapping intervals of different lengths are treated as unordered (no triggering
// either way) in this model.
//
// M-step, with T the window length (all sums over events; p = E-step probabilities):
//   mu_n  = (sum_{i in n} p_ii) / T
//   theta = P / sum_j (1 - E[e^{-omega (T - t_j)}])             P = sum_{i != j} p_ij
//   omega = P / (D + theta sum_j E[(T - t_j) e^{-omega (T - t_j)}])   D = sum p_ij E[t_i - t_j]
// The denominators carry the edge correction for offspring not yet born by T (exact maximiser
// for theta; one fixed-point step for omega, i.e. a generalised EM step).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/models/self_exciting_common.hpp"
#include "core/spatial/grid.hpp"

namespace crimecast::models::etas {

// Events regrouped by grid cell (only cells holding events), each cell's events sorted by
// (a, b). Indices below are positions in these arrays, not in PreparedEvents.
struct CellEvents {
  double t_end = 0;  // window length T, days
  std::vector<double> a, b;
  std::vector<std::uint16_t> length_class;
  std::vector<double> weight;
  std::vector<std::uint32_t> same_count;  // other events of the cell with the identical interval
  std::vector<std::uint32_t> by_b;        // per cell, positions sorted by b (sources' order)
  std::vector<std::size_t> cell_begin;    // cell k holds positions [cell_begin[k], cell_begin[k+1])
  std::vector<std::int64_t> cell_local;   // grid-local index of cell k
  std::vector<double> lengths;            // interval length per length class, days
  std::size_t outside = 0;                // events outside the grid window (ignored)
  std::size_t size() const { return a.size(); }
  std::size_t cells() const { return cell_local.size(); }
};
CellEvents BuildCellEvents(const self_exciting::PreparedEvents& events, const spatial::Grid& grid);

struct EStepSums {
  std::vector<double> cell_background;  // sum_{i in cell} p_ii
  double triggered = 0;                 // P = sum_{i != j} p_ij
  double delay = 0;                     // D = sum p_ij E[t_i - t_j]
  double sum_log_intensity = 0;         // sum_i log lambda(t_i)
  double trigger_mass = 0;              // sum_j (1 - E[e^{-omega (T - t_j)}])
  double boundary_delay = 0;            // sum_j E[(T - t_j) e^{-omega (T - t_j)}]
};
// The linear-time E-step (parallel over cells in the calling oneTBB arena).
EStepSums EStep(const CellEvents& ce, std::span<const double> mu, double theta, double omega);
// The same by explicit pairs, O(sum n_c^2): the reference for tests and the benchmark baseline.
EStepSums EStepNaive(const CellEvents& ce, std::span<const double> mu, double theta, double omega);

struct FitSettings {
  int max_iterations = 300;
  double tolerance = 1e-6;  // stop when theta and omega change by less (relative)
  double initial_theta = 0.3;
  double initial_omega = 0;  // 0: 1 / max(7 days, 2 x data resolution)
  double stop_theta = 1e-6;  // stop (as converged) once theta falls below: no clustering
};

struct Fit {
  double theta = 0;
  double omega = 0;
  std::vector<double> mu;  // per cell k of CellEvents, events/day
  int iterations = 0;
  bool converged = false;
  double last_change = 0;  // relative parameter change at the last iteration
  double log_likelihood = 0;
  double poisson_log_likelihood = 0;  // the same data under per-cell constant rates
};
Fit FitEtas(const CellEvents& ce, const FitSettings& settings);

}  // namespace crimecast::models::etas
