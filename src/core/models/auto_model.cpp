#include "core/models/auto_model.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/models/covariate_layers.hpp"
#include "core/models/features.hpp"
#include "core/models/grid_ops.hpp"

namespace crimecast::models {
namespace {

constexpr double kHeadlineCoverage = 0.05;
constexpr double kLogLikelihoodFloor = 1e-6;
// Hit rates within 1 % (relative) of the best count as tied, whatever the standard error. On
// the validation windows (Gwent 2023, Vancouver 2021) no candidate beat naive-decay by more
// than 0.2 % at 5 %, and even a forecast that peeks at the months on both sides of the
// target gained under 2 %: differences this small are noise, and the paired standard error of
// two near-identical candidates is too small to say so. Ties go to the better log-likelihood,
// a proper score that separates calibrated candidates more reliably.
constexpr double kRelativeTieTolerance = 0.01;

std::int64_t Seconds64(TimePoint t) { return t.time_since_epoch().count(); }

// Per-candidate validation record.
struct Candidate {
  std::string name;
  bool ok = true;
  std::string error;
  std::vector<double> hit_rate;  // per validation origin
  double hits = 0, total = 0, log_likelihood = 0;
  double Pooled() const { return total > 0 ? hits / total : 0.0; }
};

bool IsLearnedKey(std::string_view key) {
  static constexpr std::string_view kKeys[] = {
      "trees",     "max_depth",       "learning_rate",        "min_child_weight",
      "subsample", "colsample",       "max_origins",          "zero_ratio",
      "seed",      "tweedie_power",   "near_repeat_radius_m", "recent_windows",
      "offset",    "booster_threads", "covariates",           "covariate_support"};
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

class AutoModel final : public Model {
 public:
  AutoModel(AutoOptions options, ModelFactory factory)
      : opt_(std::move(options)), factory_(std::move(factory)) {}
  std::string_view name() const override { return "auto"; }

  Result<Forecast> Predict(const History& history, const ForecastRequest& request) override {
    Result<Forecast> out = Fail(ErrorCode::kInternal, "not run");
    WithThreads(opt_.threads, [&] { out = Run(history, request); });
    return out;
  }

 private:
  Result<std::unique_ptr<Model>> Make(std::string_view name) const {
    ModelOptions mo;
    mo.threads = opt_.threads;
    if (name == "learned") return MakeLearnedModel(mo, opt_.learned);
    return factory_(name, mo);
  }

  Result<Forecast> Run(const History& history, const ForecastRequest& request) const;
  // Position in opt_.preferred, or its size when absent.
  int PreferenceRank(std::string_view name) const {
    const auto it = std::find(opt_.preferred.begin(), opt_.preferred.end(), name);
    return static_cast<int>(it - opt_.preferred.begin());
  }

  AutoOptions opt_;
  ModelFactory factory_;
};

Result<Forecast> AutoModel::Run(const History& history, const ForecastRequest& request) const {
  if (history.size() == 0) {
    return Fail(ErrorCode::kEmptyTrainingWindow, "auto: no events before the forecast time");
  }
  // Validate on windows before the end of the data (History::WindowEnd: T, or earlier when
  // the feed stopped before T).
  const std::int64_t t = history.WindowEnd(Seconds64(request.at));
  const spatial::Grid& grid = request.grid;
  const auto cells = static_cast<std::size_t>(grid.cell_count());
  const EventGridIndex index(history, grid);
  // Validation windows: month-only data are validated on whole months whatever the horizon
  // (a week of month-only data cannot be scored).
  const bool months = request.horizon.months > 0 || index.month_only();
  const Horizon vh = months && request.horizon.months == 0 ? Horizon{0, 1} : request.horizon;
  // The learned candidate validates with the same features it forecasts with, covariates
  // included (static layers: no look-ahead at any validation origin).
  FeatureOptions fo;
  fo.near_repeat_radius_m = opt_.learned.near_repeat_radius_m;
  if (const auto* cov = UsableCovariates(request, opt_.learned)) {
    fo.covariates = cov->layers;
    fo.covariates_extend_support = opt_.learned.covariate_support;
  }
  auto builder = FeatureBuilder::Create(index, vh, fo);
  if (!builder) return Unexpected(builder.error());
  const int k_max = opt_.validation_origins > 0 ? opt_.validation_origins : (months ? 6 : 8);
  std::vector<std::int64_t> origins;
  {
    const std::int64_t start = index.data_start();
    const std::int64_t step_s = std::max<std::int64_t>(vh.seconds, 86400);
    for (int j = 1; static_cast<int>(origins.size()) < k_max && j <= 4 * k_max; ++j) {
      const std::int64_t o = months ? builder->Back(t, j * std::max(vh.months, 1)) : t - j * step_s;
      const bool enough = months ? builder->Back(o, 3) >= start
                                 : o - start >= std::max<std::int64_t>(28 * 86400, 2 * vh.seconds);
      if (!enough) break;
      if (builder->HorizonEnd(o) <= t) origins.push_back(o);
    }
  }

  Forecast out;
  out.model = "auto";
  std::vector<Candidate> cands;
  for (const auto& name : opt_.candidates) cands.push_back({name});
  auto find = [&](std::string_view name) -> Candidate* {
    for (auto& c : cands) {
      if (c.name == name) return &c;
    }
    return nullptr;
  };

  std::string chosen;
  if (origins.size() < 2) {
    chosen = "naive-decay";
    out.notes.push_back(
        fmt::format("auto: too little history before {} for a validation backtest; using {}",
                    FormatIso(request.at), chosen));
  } else {
    // The learned candidate's validation fit: targets end at or before the earliest origin.
    const bool want_learned = find("learned") != nullptr || find("blend") != nullptr;
    std::optional<LearnedFit> fit;
    if (want_learned) {
      auto f = LearnedFit::Train(*builder, origins.back(), opt_.learned);
      if (f) {
        fit.emplace(std::move(*f));
      } else {
        for (auto* c : {find("learned"), find("blend")}) {
          if (c) {
            c->ok = false;
            c->error = f.error().message;
          }
        }
      }
    }
    std::vector<double> observed(cells);
    for (const std::int64_t o : origins) {
      const std::int64_t end = builder->HorizonEnd(o);
      const History sub = HistoryBefore(history, o);
      std::fill(observed.begin(), observed.end(), 0.0);
      std::vector<std::int64_t> active;
      for (std::size_t a = 0; a < index.active_count(); ++a) {
        if (index.CountBefore(a, o) > 0) active.push_back(index.ActiveCell(a));
        const double y = index.Count(a, o, end);
        if (y > 0) observed[static_cast<std::size_t>(index.ActiveCell(a))] = y;
      }
      const ForecastRequest req{grid, TimePoint{Seconds{o}}, vh, request.covariates};
      std::vector<double> learned_pred, partner_pred;
      auto score = [&](Candidate& c, const std::vector<double>& pred) {
        const HitCount h = HitsAtCoverage(pred, observed, active, kHeadlineCoverage);
        c.hits += h.hits;
        c.total += h.total;
        c.hit_rate.push_back(h.total > 0 ? h.hits / h.total : 0.0);
        c.log_likelihood += PoissonLogLikelihood(pred, observed);
      };
      for (auto& c : cands) {
        if (!c.ok || c.name == "blend") continue;
        if (c.name == "learned") {
          auto raw = fit->PredictRaw(*builder, o);
          if (!raw) {
            c.ok = false;
            c.error = raw.error().message;
            continue;
          }
          learned_pred = std::move(*raw);
          ScaleToTotal(learned_pred, RecentTotal(*builder, o, opt_.learned.recent_windows));
          score(c, learned_pred);
          continue;
        }
        auto model = Make(c.name);
        Result<Forecast> f = model ? (*model)->Predict(sub, req) : Unexpected(model.error());
        if (!f || f->expected.size() != cells) {
          c.ok = false;
          c.error = f ? "wrong forecast size" : f.error().message;
          continue;
        }
        if (c.name == opt_.blend_partner) partner_pred = f->expected;
        score(c, f->expected);
      }
      if (Candidate* b = find("blend"); b && b->ok) {
        if (learned_pred.empty() && fit) {
          auto raw = fit->PredictRaw(*builder, o);
          if (raw) {
            learned_pred = std::move(*raw);
            ScaleToTotal(learned_pred, RecentTotal(*builder, o, opt_.learned.recent_windows));
          }
        }
        if (partner_pred.empty()) {
          auto model = Make(opt_.blend_partner);
          Result<Forecast> f = model ? (*model)->Predict(sub, req) : Unexpected(model.error());
          if (f && f->expected.size() == cells) partner_pred = std::move(f->expected);
        }
        if (learned_pred.empty() || partner_pred.empty()) {
          b->ok = false;
          b->error = "a blend component failed";
        } else {
          std::vector<double> blend(cells);
          for (std::size_t c = 0; c < cells; ++c) {
            blend[c] =
                opt_.blend_weight * learned_pred[c] + (1 - opt_.blend_weight) * partner_pred[c];
          }
          score(*b, blend);
        }
      }
    }
    // Selection (step 4 of the header comment).
    const Candidate* best = nullptr;
    for (const auto& c : cands) {
      if (c.ok && (!best || c.Pooled() > best->Pooled())) best = &c;
    }
    if (!best) {
      chosen = "naive-decay";
      out.notes.push_back("auto: every candidate failed validation; using naive-decay");
    } else {
      const Candidate* pick = best;
      for (const auto& c : cands) {
        if (!c.ok || &c == best) continue;
        const std::size_t k = c.hit_rate.size();
        double mean = 0, sq = 0;
        for (std::size_t j = 0; j < k; ++j) mean += c.hit_rate[j] - best->hit_rate[j];
        mean /= static_cast<double>(k);
        for (std::size_t j = 0; j < k; ++j) {
          const double d = c.hit_rate[j] - best->hit_rate[j] - mean;
          sq += d * d;
        }
        const double se =
            k > 1 ? std::sqrt(sq / static_cast<double>(k - 1) / static_cast<double>(k)) : 0.0;
        const bool tied =
            c.Pooled() >= best->Pooled() - std::max(se, kRelativeTieTolerance * best->Pooled());
        if (!tied) continue;
        // Among tied candidates the earliest in opt_.preferred wins; when neither is
        // preferred, the higher log-likelihood does.
        const int rank_c = PreferenceRank(c.name), rank_pick = PreferenceRank(pick->name);
        if (rank_c < rank_pick ||
            (rank_c == rank_pick && c.log_likelihood > pick->log_likelihood)) {
          pick = &c;
        }
      }
      chosen = pick->name;
      std::string table;
      for (const auto& c : cands) {
        if (!c.ok) {
          table += fmt::format("; {} failed ({})", c.name, c.error);
          continue;
        }
        table += fmt::format("; {} {:.2f}% (LL/event {:.3f})", c.name, 100 * c.Pooled(),
                             c.total > 0 ? c.log_likelihood / c.total : 0.0);
        out.parameters["validation_hit_rate_5_" + c.name] = c.Pooled();
      }
      out.notes.push_back(fmt::format(
          "auto: chose {} by a rolling backtest on {} origins {} .. {} (hit rate at 5% of the "
          "active area; within one standard error or 1 % count as tied and go to {}, else to "
          "the higher log-likelihood){}",
          chosen, origins.size(), FormatIso(TimePoint{Seconds{origins.back()}}),
          FormatIso(TimePoint{Seconds{origins.front()}}),
          opt_.preferred.empty() ? std::string("none")
                                 : fmt::format("{}", fmt::join(opt_.preferred, " then ")),
          table));
      out.parameters["validation_origins"] = static_cast<double>(origins.size());
    }
  }

  // The final forecast at T by the chosen candidate.
  auto run = [&](std::string_view name) -> Result<Forecast> {
    if (name != "blend") {
      auto model = Make(name);
      if (!model) return Unexpected(model.error());
      return (*model)->Predict(history, request);
    }
    auto lm = Make("learned");
    if (!lm) return Unexpected(lm.error());
    auto lf = (*lm)->Predict(history, request);
    if (!lf) return Unexpected(lf.error());
    auto pm = Make(opt_.blend_partner);
    if (!pm) return Unexpected(pm.error());
    auto pf = (*pm)->Predict(history, request);
    if (!pf) return Unexpected(pf.error());
    if (pf->expected.size() != lf->expected.size()) {
      return Fail(ErrorCode::kInternal, "blend components have different sizes");
    }
    Forecast f;
    f.model_used = fmt::format("blend({:g} {} + {:g} {})", opt_.blend_weight, lf->model_used,
                               1 - opt_.blend_weight, pf->model_used);
    f.expected.resize(lf->expected.size());
    for (std::size_t c = 0; c < f.expected.size(); ++c) {
      f.expected[c] =
          opt_.blend_weight * lf->expected[c] + (1 - opt_.blend_weight) * pf->expected[c];
    }
    f.notes = lf->notes;
    f.notes.insert(f.notes.end(), pf->notes.begin(), pf->notes.end());
    f.parameters = lf->parameters;
    return f;
  };
  auto f = run(chosen);
  if (!f && chosen != "naive-decay") {
    out.notes.push_back(fmt::format("auto: {} failed at the forecast time ({}); using naive-decay",
                                    chosen, f.error().message));
    f = run("naive-decay");
  }
  if (!f) return Unexpected(f.error());
  out.model_used = f->model_used.empty() ? chosen : f->model_used;
  out.expected = std::move(f->expected);
  out.background = std::move(f->background);
  out.recent = std::move(f->recent);
  out.other = std::move(f->other);
  out.notes.insert(out.notes.end(), f->notes.begin(), f->notes.end());
  for (const auto& [k, v] : f->parameters) out.parameters.emplace(k, v);
  return out;
}

}  // namespace

Result<AutoOptions> AutoOptions::FromModelOptions(const ModelOptions& options) {
  AutoOptions o;
  o.threads = options.threads;
  ModelOptions learned;
  learned.threads = options.threads;
  for (const auto& [key, v] : options.params) {
    if (key == "validation_origins") {
      if (!(v >= 1 && v <= 104 && v == std::floor(v))) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format("auto: validation_origins must be an integer in [1, 104], got {}", v));
      }
      o.validation_origins = static_cast<int>(v);
    } else if (key == "blend_weight") {
      if (!(v >= 0 && v <= 1)) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("auto: blend_weight must be in [0, 1], got {}", v));
      }
      o.blend_weight = v;
    } else if (IsLearnedKey(key)) {
      learned.params[key] = v;
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("auto: unknown parameter '{}' (known: validation_origins, "
                              "blend_weight and the learned model's keys)",
                              key));
    }
  }
  auto lo = LearnedOptions::FromModelOptions(learned);
  if (!lo) return Unexpected(lo.error());
  o.learned = *lo;
  return o;
}

HitCount HitsAtCoverage(std::span<const double> predicted, std::span<const double> observed,
                        std::span<const std::int64_t> active, double coverage) {
  HitCount out;
  for (double y : observed) out.total += y;
  if (active.empty()) return out;
  const auto k = static_cast<std::size_t>(
      std::max<double>(1.0, std::round(coverage * static_cast<double>(active.size()))));
  std::vector<std::int64_t> order(active.begin(), active.end());
  std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    const double pa = predicted[static_cast<std::size_t>(a)];
    const double pb = predicted[static_cast<std::size_t>(b)];
    return pa != pb ? pa > pb : a < b;
  });
  std::size_t i = 0;
  while (i < order.size() && i < k) {
    const double v = predicted[static_cast<std::size_t>(order[i])];
    std::size_t j = i;
    double group = 0;
    while (j < order.size() && predicted[static_cast<std::size_t>(order[j])] == v) {
      group += observed[static_cast<std::size_t>(order[j])];
      ++j;
    }
    const std::size_t taken = std::min(j, k) - i;
    out.hits += group * static_cast<double>(taken) / static_cast<double>(j - i);
    i = j;
  }
  return out;
}

double PoissonLogLikelihood(std::span<const double> predicted, std::span<const double> observed) {
  double ll = 0;
  for (std::size_t c = 0; c < predicted.size(); ++c) {
    const double mu = std::max(predicted[c], kLogLikelihoodFloor);
    const double y = observed[c];
    ll += (y > 0 ? y * std::log(mu) - std::lgamma(y + 1) : 0.0) - mu;
  }
  return ll;
}

History HistoryBefore(const History& h, std::int64_t t) {
  History out;
  out.observed_from = h.observed_from;
  out.observed_to = h.observed_to != 0 ? std::min(h.observed_to, t) : 0;
  if (!std::is_sorted(h.t_start.begin(), h.t_start.end())) {
    // Not the promised order: filter event by event.
    for (std::size_t i = 0; i < h.size(); ++i) {
      if (h.t_start[i] >= t) continue;
      out.x.push_back(h.x[i]);
      out.y.push_back(h.y[i]);
      out.t_start.push_back(h.t_start[i]);
      out.t_end.push_back(h.t_end[i]);
      out.category.push_back(h.category[i]);
      out.weight.push_back(h.weight.size() == h.size() ? h.weight[i] : 1.0);
      if (h.id.size() == h.size()) out.id.push_back(h.id[i]);
    }
    return out;
  }
  const auto cut = static_cast<std::size_t>(
      std::lower_bound(h.t_start.begin(), h.t_start.end(), t) - h.t_start.begin());
  out.x.assign(h.x.begin(), h.x.begin() + static_cast<std::ptrdiff_t>(cut));
  out.y.assign(h.y.begin(), h.y.begin() + static_cast<std::ptrdiff_t>(cut));
  out.t_start.assign(h.t_start.begin(), h.t_start.begin() + static_cast<std::ptrdiff_t>(cut));
  out.t_end.assign(h.t_end.begin(), h.t_end.begin() + static_cast<std::ptrdiff_t>(cut));
  out.category.assign(h.category.begin(), h.category.begin() + static_cast<std::ptrdiff_t>(cut));
  if (h.weight.size() == h.size()) {
    out.weight.assign(h.weight.begin(), h.weight.begin() + static_cast<std::ptrdiff_t>(cut));
  } else {
    out.weight.assign(cut, 1.0);
  }
  if (h.id.size() == h.size()) {
    out.id.assign(h.id.begin(), h.id.begin() + static_cast<std::ptrdiff_t>(cut));
  }
  return out;
}

std::unique_ptr<Model> MakeAutoModel(AutoOptions options, ModelFactory factory) {
  return std::make_unique<AutoModel>(std::move(options), std::move(factory));
}

}  // namespace crimecast::models
