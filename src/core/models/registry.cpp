#include "core/models/registry.hpp"

#include <fmt/format.h>

#include <functional>

#include "core/models/baselines.hpp"
#include "core/models/learned.hpp"
#include "core/models/model.hpp"
#include "core/models/self_exciting.hpp"

namespace crimecast::models {
namespace {

using Factory = std::function<Result<std::unique_ptr<Model>>(const ModelOptions&)>;

struct Entry {
  ModelInfo info;
  Factory make;
};

// One row per model, in display order.
const std::vector<Entry>& Entries() {
  static const std::vector<Entry> entries = {
      {{"naive-all", "all-history count per cell, scaled to the horizon", ""}, MakeNaiveAllModel},
      {{"naive-recent", "count per cell over the last N calendar months",
        "window_months (3): months back from T"},
       MakeNaiveRecentModel},
      {{"naive-decay", "exponentially decayed count per cell",
        "half_life_days (180): weight halves every this many days"},
       MakeNaiveDecayModel},
      {{"kde", "retrospective kernel density estimate of all history",
        "bandwidth_m (0 = select); kernel (0 quartic, 1 Gaussian); bandwidth_rule (0 hold-out "
        "likelihood, 1 Scott, 2 Silverman); window_months (0 = all)"},
       MakeKdeModel},
      {{"prospective",
        "prospective hot-spotting (Bowers, Johnson & Pease 2004): 1/(1+d) x 1/(1+weeks)",
        "bandwidth_m (400); bandwidth_weeks (8); distance (0 Euclidean, 1 Chebyshev)"},
       MakeProspectiveModel},
      {{std::string(kEtasGridModelName),
        "grid ETAS fitted by EM (Mohler et al. 2015); falls back to a decayed count when the "
        "data are not self-exciting",
        "window_days (365); theta/omega/fallback settings: docs/models.md \"Grid ETAS\""},
       [](const ModelOptions& o) -> Result<std::unique_ptr<Model>> {
         if (auto ok = CheckEtasGridOptions(o); !ok) return Unexpected(ok.error());
         return MakeEtasGridModel(o);
       }},
      {{std::string(kSeppModelName),
        "continuous-space SEPP with stochastic declustering (Mohler et al. 2011; Rosser & "
        "Cheng); falls back to a decayed count when the data are not self-exciting",
        "window_days (365); max_days (60); max_distance_m (500); more: docs/models.md "
        "\"Continuous SEPP\""},
       [](const ModelOptions& o) -> Result<std::unique_ptr<Model>> {
         if (auto ok = CheckSeppOptions(o); !ok) return Unexpected(ok.error());
         return MakeSeppModel(o);
       }},
      {{"learned",
        "gradient-boosted Poisson trees (XGBoost) on multi-scale per-cell features, trained on "
        "rolling origins before T",
        "see docs/models.md#learned-model-gradient-boosted-trees"},
       [](const ModelOptions& o) { return MakeLearnedModel(o); }},
      {{"auto", "the default: candidates chosen or blended by rolling backtest before T only",
        "see docs/models.md#auto"},
       [](const ModelOptions& o) { return MakeAutoModel(o); }},
  };
  return entries;
}

}  // namespace

const std::vector<ModelInfo>& ModelCatalog() {
  static const std::vector<ModelInfo> catalog = [] {
    std::vector<ModelInfo> out;
    for (const auto& e : Entries()) out.push_back(e.info);
    return out;
  }();
  return catalog;
}

std::vector<std::string> ModelNames() {
  std::vector<std::string> out;
  for (const auto& e : Entries()) out.push_back(e.info.name);
  return out;
}

std::string DefaultModelName() {
  for (const auto& e : Entries()) {
    if (e.info.name == "auto") return "auto";
  }
  return "naive-all";
}

Result<std::unique_ptr<Model>> CreateModel(std::string_view name, const ModelOptions& options) {
  for (const auto& e : Entries()) {
    if (e.info.name == name) return e.make(options);
  }
  std::string known;
  for (const auto& e : Entries()) known += (known.empty() ? "" : ", ") + e.info.name;
  return Fail(ErrorCode::kUnknownModel, fmt::format("unknown model '{}' (known: {})", name, known));
}

}  // namespace crimecast::models
