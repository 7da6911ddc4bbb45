// core/models/baseline_common.hpp (internal to models/): the observation window and the
// per-event temporal weights shared by the naive, KDE and prospective models.
#pragma once

#include <tbb/parallel_for.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"
#include "core/models/model.hpp"

namespace crimecast::models::detail {

struct Window {
  std::int64_t from = 0;  // History::WindowStart()
  std::int64_t end = 0;   // E = History::WindowEnd(T)
  std::int64_t t = 0;     // T
  double horizon_s = 0;   // length of [T, T + horizon) in seconds (calendar-aware)
  bool month_only = false;
};

// Fails with kEmptyTrainingWindow when the history is empty or the window has no length.
Result<Window> PrepareWindow(std::string_view model, const History& history,
                             const ForecastRequest& request);

// weight[i] = history.weight[i] * kernel.Weight(t_start[i], t_end[i]), in parallel.
template <class Kernel>
std::vector<double> EventWeights(const History& history, const Kernel& kernel) {
  std::vector<double> w(history.size());
  tbb::parallel_for(std::size_t{0}, history.size(), std::size_t{4096}, [&](std::size_t begin) {
    const std::size_t end = std::min(begin + 4096, history.size());
    for (std::size_t i = begin; i < end; ++i) {
      w[i] = history.weight[i] * kernel.Weight(history.t_start[i], history.t_end[i]);
    }
  });
  return w;
}

double Sum(const std::vector<double>& v);

}  // namespace crimecast::models::detail
