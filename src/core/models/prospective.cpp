// Prospective hot-spotting (Bowers, Johnson & Pease 2004). See docs/models.md
// "Prospective hotspotting".
#include <fmt/format.h>

#include <cmath>

#include "core/models/baseline_common.hpp"
#include "core/models/baselines.hpp"
#include "core/models/grid_ops.hpp"
#include "core/models/params.hpp"
#include "core/models/time_weights.hpp"

namespace crimecast::models {
namespace {

constexpr std::int64_t kWeek = 7LL * 86400;
// The stencil costs (2R+1)^2 per cell; refuse rather than silently take seconds.
constexpr int kMaxRadiusCells = 50;

class ProspectiveModel final : public Model {
 public:
  ProspectiveModel(double bandwidth_m, int weeks, int distance, int threads)
      : bandwidth_m_(bandwidth_m), weeks_(weeks), distance_(distance), threads_(threads) {}

  std::string_view name() const override { return "prospective"; }

  Result<Forecast> Predict(const History& history, const ForecastRequest& request) override {
    auto win = detail::PrepareWindow(name(), history, request);
    if (!win) return Unexpected(win.error());
    Result<Forecast> out = Forecast{};
    WithThreads(threads_, [&] { out = Run(history, request, *win); });
    return out;
  }

 private:
  Result<Forecast> Run(const History& history, const ForecastRequest& request,
                       const detail::Window& win) {
    const double cell = request.grid.size_m();
    Forecast f;
    f.model = f.model_used = "prospective";
    // Space: 1 / (1 + d), d the distance between cell centres in cells, for d * cell <
    // bandwidth (strictly, as in open_cp's ClassicWeight). The event's own cell (d = 0) always
    // counts, even when the bandwidth is below one cell.
    const double limit = bandwidth_m_ / cell;
    const int radius = static_cast<int>(std::floor(limit));
    if (radius > kMaxRadiusCells) {
      return Fail(ErrorCode::kOutOfRange,
                  fmt::format("prospective: bandwidth {:.0f} m is more than {} cells of {} m; "
                              "use larger cells or a smaller bandwidth",
                              bandwidth_m_, kMaxRadiusCells, cell));
    }
    const bool chebyshev = distance_ == 1;
    Stencil stencil;
    stencil.radius = radius;
    const int side = 2 * radius + 1;
    stencil.w.assign(static_cast<std::size_t>(side * side), 0.0);
    for (int dy = -radius; dy <= radius; ++dy) {
      for (int dx = -radius; dx <= radius; ++dx) {
        const double d = chebyshev ? std::max(std::abs(dx), std::abs(dy)) : std::hypot(dx, dy);
        if (d == 0 || d < limit) {
          stencil.w[static_cast<std::size_t>((dy + radius) * side + (dx + radius))] =
              1.0 / (1.0 + d);
        }
      }
    }
    // Time: 1 / (1 + whole weeks before E), weeks < bandwidth_weeks, averaged over each event's
    // occurrence interval.
    const WeeksKernel time_k{win.from, win.end, weeks_};
    const std::vector<double> w = detail::EventWeights(history, time_k);
    const double total_w = detail::Sum(w);
    // Level: the rate over the same time bandwidth (every event in it counting 1), so the
    // forecast is calibrated to recent volume, which is what the method assumes persists.
    const BoxKernel box{win.from, win.end, weeks_ * kWeek};
    const std::vector<double> recent = detail::EventWeights(history, box);
    const double expected_total = detail::Sum(recent) / box.Exposure() * win.horizon_s;

    if (!(total_w > 0) || !(expected_total > 0)) {
      // Nothing in the time bandwidth: the method has no signal. Fall back to all-history
      // counts rather than forecasting zero everywhere.
      auto naive = MakeNaiveAllModel({});
      auto fb = (*naive)->Predict(history, request);
      if (!fb) return Unexpected(fb.error());
      fb->model = "prospective";
      fb->notes.push_back(
          fmt::format("prospective: no events in the {} weeks before {}; fell back to naive-all",
                      weeks_, FormatIso(TimePoint{Seconds{win.end}})));
      return fb;
    }
    const CellWindow out_window = WindowOf(request.grid);
    const CellWindow padded = Padded(request.grid, radius);
    const std::vector<double> binned = Bin(padded, cell, history.x, history.y, w);
    std::vector<double> risk = Convolve(binned, padded, stencil, out_window);
    // Every event spreads total weight w_i * stencil.Sum() over space; scaling by the global
    // total (not the grid's) keeps a cell's value independent of the grid window.
    const double scale = expected_total / (total_w * stencil.Sum());
    for (double& v : risk) v = std::max(0.0, v * scale);
    f.expected = std::move(risk);
    f.recent = f.expected;
    f.parameters["bandwidth_m"] = bandwidth_m_;
    f.parameters["bandwidth_weeks"] = weeks_;
    f.parameters["stencil_radius_cells"] = radius;
    f.parameters["expected_total_all_space"] = expected_total;
    f.parameters["recent_events"] = detail::Sum(recent);
    if (win.month_only) {
      f.notes.push_back(
          "prospective: month-only history; week weights are averaged over each event's month");
    }
    return f;
  }

  double bandwidth_m_;
  int weeks_;
  int distance_;
  int threads_;
};

}  // namespace

Result<std::unique_ptr<Model>> MakeProspectiveModel(const ModelOptions& options) {
  ParamReader p("prospective", options);
  const double bandwidth = p.Get("bandwidth_m", 400, 1, 5000);
  const int weeks = p.GetInt("bandwidth_weeks", 8, 1, 520);
  const int distance = p.GetInt("distance", 0, 0, 1);
  if (auto ok = p.Finish(); !ok) return Unexpected(ok.error());
  return std::make_unique<ProspectiveModel>(bandwidth, weeks, distance, options.threads);
}

}  // namespace crimecast::models
