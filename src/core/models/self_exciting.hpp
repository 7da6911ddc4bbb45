// core/models/self_exciting.hpp
//
// The self-exciting ("near repeat") forecasting models, fitted by EM:
//
// * "etas-grid": grid ETAS (Mohler et al. 2015). Each grid cell n has its own background rate
//   mu_n; every event raises its own cell's rate by theta * omega * exp(-omega dt):
//     lambda_n(t) = mu_n + sum_{t_i < t, i in n} theta omega exp(-omega (t - t_i)).
//   Parameters: mu_n (events/day per cell), theta (mean offspring per event), omega (1/days).
// * "sepp": continuous-space self-exciting point process with EM declustering (Mohler et al.
//   2011) made robust along the lines of Rosser & Cheng (2019): isotropic Gaussian triggering
//   truncated in space and time, a cross-validated kernel-density background shape, bounded
//   and accelerated iterations:
//     lambda(t, x) = mu f(x) + sum_{t_i < t} theta omega e^{-omega (t - t_i)} N2(x - x_i; sigma).
//   Parameters: mu (events/day), f (1/m^2), theta, omega (1/days), sigma (metres).
//
// Both predict calibrated expected counts for [T, T + h): background immigrants in the horizon
// plus the remaining triggering of past events, including the cascade of offspring born within
// the horizon (see docs/models.md, "Grid ETAS" and "Continuous SEPP").
//
// Neither fails on data it cannot model. Too few events, weak clustering (theta near 0 or no
// likelihood gain over a Poisson model), no EM convergence, an explosive fit, or triggering
// faster than the data's time resolution (a month for month-only data) all lead to the
// naive-decay baseline (models/baselines.hpp); Forecast::model_used then says "naive-decay" and
// Forecast::notes says why.
// Forecast::parameters always carries the fitted values ("theta", "omega_per_day",
// "mean_delay_days", "mu_per_day" (whole area), "sigma_m" for sepp, "iterations", "converged",
// "lr_vs_poisson", "events", "fallback" = 0 or 1).
//
// Options (ModelOptions::params; unknown keys are errors): see docs/models.md. Both models use
// oneTBB for the E-step; ModelOptions::threads limits the cores (0: all).
#pragma once

#include <memory>

#include "core/common/error.hpp"
#include "core/models/model.hpp"

namespace crimecast::models {

inline constexpr std::string_view kEtasGridModelName = "etas-grid";
inline constexpr std::string_view kSeppModelName = "sepp";

// Factories for the model registry. Invalid options are reported by Predict (and, earlier, by
// the Check functions below, which the registry may call to fail fast).
std::unique_ptr<Model> MakeEtasGridModel(const ModelOptions& options = {});
std::unique_ptr<Model> MakeSeppModel(const ModelOptions& options = {});

Result<void> CheckEtasGridOptions(const ModelOptions& options);
Result<void> CheckSeppOptions(const ModelOptions& options);

}  // namespace crimecast::models
