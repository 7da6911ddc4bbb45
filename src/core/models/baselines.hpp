// core/models/baselines.hpp
//
// The classic models: the naive counts (the baselines every other model must beat),
// retrospective kernel density estimation and prospective hot-spotting. Each is documented,
// with its paper and parameters, in docs/models.md; the registry (models/registry.hpp) creates
// them by name. All are calibrated (expected counts for the horizon, see model.hpp) and cost
// O(events + cells x stencil) per forecast (models/grid_ops.hpp).
//
// Parameters (ModelOptions::params; an unknown key is an error):
//   naive-all     none
//   naive-recent  window_months (3; whole months 1..120)
//   naive-decay   half_life_days (180; 1..3650)
//   kde           bandwidth_m (0 = select), kernel (0 quartic, 1 Gaussian),
//                 bandwidth_rule (0 hold-out likelihood, 1 Scott, 2 Silverman),
//                 window_months (0 = all history)
//   prospective   bandwidth_m (400), bandwidth_weeks (8), distance (0 Euclidean, 1 Chebyshev)
#pragma once

#include <memory>

#include "core/common/error.hpp"
#include "core/models/model.hpp"

namespace crimecast::models {

Result<std::unique_ptr<Model>> MakeNaiveAllModel(const ModelOptions& options);
Result<std::unique_ptr<Model>> MakeNaiveRecentModel(const ModelOptions& options);
Result<std::unique_ptr<Model>> MakeNaiveDecayModel(const ModelOptions& options);
Result<std::unique_ptr<Model>> MakeKdeModel(const ModelOptions& options);
Result<std::unique_ptr<Model>> MakeProspectiveModel(const ModelOptions& options);

// Rule-of-thumb bandwidths (metres) on the projected coordinates of `history`, for a Gaussian
// kernel (its standard deviation): Scott (1992): sigma * n^(-1/6), sigma the root mean of the
// two coordinate variances; Silverman (1986): the same with each axis's spread taken as
// min(sd, IQR / 1.349), robust to outliers. 0 when history has fewer than 2 events.
double ScottBandwidth(const History& history);
double SilvermanBandwidth(const History& history);

}  // namespace crimecast::models
