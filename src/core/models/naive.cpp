// The naive count models: expected[c] = (weighted count of c's events) / exposure * horizon.
// See docs/models.md "Naive counts".
#include <fmt/format.h>

#include <cmath>
#include <numeric>

#include "core/models/baseline_common.hpp"
#include "core/models/baselines.hpp"
#include "core/models/grid_ops.hpp"
#include "core/models/params.hpp"
#include "core/models/time_weights.hpp"

namespace crimecast::models {
namespace detail {

Result<Window> PrepareWindow(std::string_view model, const History& history,
                             const ForecastRequest& request) {
  if (history.size() == 0) {
    return Fail(ErrorCode::kEmptyTrainingWindow,
                fmt::format("{}: no events before {} to learn from", model, FormatIso(request.at)));
  }
  if (history.x.size() != history.weight.size() || history.t_end.size() != history.size()) {
    return Fail(ErrorCode::kInternal, "history columns have different lengths");
  }
  Window w;
  w.t = request.at.time_since_epoch().count();
  w.from = history.WindowStart();
  w.end = history.WindowEnd(w.t);
  if (w.end <= w.from) {
    return Fail(
        ErrorCode::kEmptyTrainingWindow,
        fmt::format("{}: the observation window before {} is empty", model, FormatIso(request.at)));
  }
  const TimePoint horizon_end = request.horizon.EndFrom(request.at);
  w.horizon_s = static_cast<double>((horizon_end - request.at).count());
  if (!(w.horizon_s > 0)) return Fail(ErrorCode::kBadHorizon, "the forecast horizon is empty");
  w.month_only = history.MonthOnly();
  return w;
}

double Sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

}  // namespace detail

namespace {

enum class NaiveKind { kAll, kRecent, kDecay };

class NaiveModel final : public Model {
 public:
  NaiveModel(NaiveKind kind, int window_months, double half_life_days, int threads)
      : kind_(kind),
        window_months_(window_months),
        half_life_days_(half_life_days),
        threads_(threads) {}

  std::string_view name() const override {
    switch (kind_) {
      case NaiveKind::kAll:
        return "naive-all";
      case NaiveKind::kRecent:
        return "naive-recent";
      case NaiveKind::kDecay:
        return "naive-decay";
    }
    return "naive";
  }

  Result<Forecast> Predict(const History& history, const ForecastRequest& request) override {
    auto win = detail::PrepareWindow(name(), history, request);
    if (!win) return Unexpected(win.error());
    Forecast f;
    f.model = f.model_used = std::string(name());
    WithThreads(threads_, [&] {
      std::vector<double> w;
      double exposure = 0;
      if (kind_ == NaiveKind::kDecay) {
        const ExpKernel k(win->from, win->end, half_life_days_ * 86400.0);
        w = detail::EventWeights(history, k);
        exposure = k.Exposure();
        f.parameters["half_life_days"] = half_life_days_;
      } else {
        std::int64_t length = win->end - win->from;
        if (kind_ == NaiveKind::kRecent) {
          // Calendar months back from E, so a month-only window is whole months.
          const TimePoint end{Seconds{win->end}};
          length = (end - AddMonths(end, -window_months_)).count();
          f.parameters["window_months"] = window_months_;
        }
        const BoxKernel k{win->from, win->end, length};
        w = detail::EventWeights(history, k);
        exposure = k.Exposure();
      }
      const double scale = win->horizon_s / exposure;
      std::vector<double> binned =
          Bin(WindowOf(request.grid), request.grid.size_m(), history.x, history.y, w);
      for (double& v : binned) v *= scale;
      f.parameters["exposure_days"] = exposure / 86400.0;
      f.parameters["weighted_events"] = detail::Sum(w);
      f.parameters["expected_total_all_space"] = detail::Sum(w) * scale;
      f.expected = std::move(binned);
    });
    if (kind_ == NaiveKind::kAll) {
      f.background = f.expected;
    } else {
      f.recent = f.expected;
    }
    if (win->month_only) {
      f.notes.push_back("month-only history: each event is spread uniformly over its month");
    }
    return f;
  }

 private:
  NaiveKind kind_;
  int window_months_;
  double half_life_days_;
  int threads_;
};

}  // namespace

Result<std::unique_ptr<Model>> MakeNaiveAllModel(const ModelOptions& options) {
  ParamReader p("naive-all", options);
  if (auto ok = p.Finish(); !ok) return Unexpected(ok.error());
  return std::make_unique<NaiveModel>(NaiveKind::kAll, 0, 0, options.threads);
}

Result<std::unique_ptr<Model>> MakeNaiveRecentModel(const ModelOptions& options) {
  ParamReader p("naive-recent", options);
  const int months = p.GetInt("window_months", 3, 1, 120);
  if (auto ok = p.Finish(); !ok) return Unexpected(ok.error());
  return std::make_unique<NaiveModel>(NaiveKind::kRecent, months, 0, options.threads);
}

Result<std::unique_ptr<Model>> MakeNaiveDecayModel(const ModelOptions& options) {
  ParamReader p("naive-decay", options);
  const double half_life = p.Get("half_life_days", 180, 1, 3650);
  if (auto ok = p.Finish(); !ok) return Unexpected(ok.error());
  return std::make_unique<NaiveModel>(NaiveKind::kDecay, 0, half_life, options.threads);
}

}  // namespace crimecast::models
