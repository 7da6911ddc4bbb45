// core/models/harm.hpp
//
// Harm weights: one non-negative weight per canonical category, so that a forecast or a
// backtest can count "harm" instead of "events" (a burglary then weighs more than a
// shoplifting), in the style of the Cambridge Crime Harm Index (CCHI; Sherman, Neyroud &
// Neyroud 2016, Policing 10(3):171-183).
//
// * The CCHI scores each Home Office offence code by the days of imprisonment recommended by
//   the Sentencing Council's starting point for a first offender (fines and community orders
//   converted to days). data.police.uk publishes 14 broad categories, not offence codes, so a
//   category weight can only approximate the CCHI: it is the harm of the category's typical
//   offence. HarmWeights::Default() is crimecast's own order-of-magnitude table of that kind
//   (docs/models.md "Harm weights" gives each value's reasoning). It is NOT a table published
//   by the CCHI authors. A force that holds CCHI scores per offence code should aggregate them
//   to categories and load its own table with LoadHarmWeights.
// * Units are "CCHI-style days"; only ratios matter to a ranking, but the values are kept in
//   days so that harm-weighted expected counts read as "expected days of harm".
// * File format (TOML):
//
//       name = "Gwent CCHI 2023, category means"
//       [weights]
//       violence = 120          # any spelling ParseCategory accepts ("Violence and sexual ...")
//       burglary = 240
//       default = 5             # optional: used for categories not listed
//
//   Every category must get a weight (listed, or through `default`); weights must be finite
//   and >= 0; unknown keys are errors.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/common/error.hpp"
#include "core/ingest/event.hpp"

namespace crimecast::models {

struct HarmWeights {
  std::string name;
  std::array<double, kCategoryCount> weight{};

  double operator()(Category c) const { return weight[static_cast<std::size_t>(c)]; }

  // crimecast's default CCHI-style table (see the header comment and docs/models.md).
  static HarmWeights Default();
  // Every category weighs 1: harm weighting switched off.
  static HarmWeights Uniform();
};

// Parses the TOML format above. `origin` names the source in error messages.
Result<HarmWeights> ParseHarmWeights(std::string_view toml_text,
                                     std::string_view origin = "harm weights");
// Reads and parses a TOML file; "default" (the literal word) returns HarmWeights::Default().
Result<HarmWeights> LoadHarmWeights(const std::string& path_or_default);

}  // namespace crimecast::models
