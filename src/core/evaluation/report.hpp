// core/evaluation/report.hpp
//
// Renderings of a BacktestResult:
// * BacktestJson: the machine-readable result, schema "crimecast.backtest/1" (every field is
//   documented in docs/evaluation.md "JSON output"). NaN (undefined PEI with no events) is null.
// * BacktestTable: a fixed-width text table per group, one row per model, with hit rates at
//   every coverage level, PAI and PEI* at 5 %, log-likelihood per event, predicted/observed
//   totals and the ratio of the model's 5 % hit rate to the best naive-* baseline's.
// * BacktestSvg: a hand-written SVG chart, one panel per group: mean hit rate against coverage
//   (the curve_coverages, 0-20 %) per model, the standard coverage levels marked with dots.
#pragma once

#include <string>

#include "core/evaluation/backtest.hpp"

namespace crimecast::evaluation {

std::string BacktestJson(const BacktestResult& result, int indent = 2);
std::string BacktestTable(const BacktestResult& result);
std::string BacktestSvg(const BacktestResult& result);

}  // namespace crimecast::evaluation
