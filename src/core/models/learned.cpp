#include "core/models/learned.hpp"

#include <fmt/format.h>
#include <tbb/task_arena.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <deque>
#include <future>
#include <mutex>
#include <numeric>
#include <thread>

#include "core/models/covariate_layers.hpp"
#include "core/models/grid_ops.hpp"

namespace crimecast::models {
namespace {

constexpr double kMeanMonthSeconds = 30.436875 * 86400.0;

std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from (seed, origin, cell): the zero-row sample is the same on every run and
// every machine, whatever the thread count.
double UnitHash(std::uint64_t seed, std::int64_t origin, std::int64_t cell) {
  const std::uint64_t h =
      SplitMix64(seed ^ SplitMix64(static_cast<std::uint64_t>(origin) ^
                                   SplitMix64(static_cast<std::uint64_t>(cell))));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

Unexpected XgbError(std::string_view what) {
  return Fail(ErrorCode::kModelFit, fmt::format("XGBoost {} failed: {}", what, XGBGetLastError()));
}

// XGBoost prints warnings to stderr by default; a library must stay quiet.
void QuietXgboost() {
  static std::once_flag once;
  std::call_once(once, [] { XGBSetGlobalConfig(R"({"verbosity": 0})"); });
}

struct DMatrix {
  DMatrixHandle h = nullptr;
  ~DMatrix() {
    if (h) XGDMatrixFree(h);
  }
};

int ThreadCount(int threads) {
  if (threads > 0) return threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Covariates

const GridCovariates* UsableCovariates(const ForecastRequest& request,
                                       const LearnedOptions& options) {
  if (!options.covariates || !request.covariates || request.covariates->empty()) return nullptr;
  // Layers rasterised on another grid cannot be used (a caller bug, but never a crash).
  const spatial::Grid& a = request.covariates->grid;
  const spatial::Grid& b = request.grid;
  if (a.epsg() != b.epsg() || a.size_m() != b.size_m() || a.ix0() != b.ix0() ||
      a.iy0() != b.iy0() || a.nx() != b.nx() || a.ny() != b.ny()) {
    return nullptr;
  }
  return request.covariates.get();
}

std::string CovariateNames(const GridCovariates& cov) {
  std::string out;
  for (std::size_t k = 0; k < cov.layers.size(); ++k) {
    out += fmt::format("{}{} ({} cells known)", k ? ", " : "", cov.layers[k].name,
                       cov.cells_with_value[k]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Options

Result<LearnedOptions> LearnedOptions::FromModelOptions(const ModelOptions& options) {
  LearnedOptions o;
  if (options.threads > 0) o.threads = options.threads;
  if (options.threads < 0) return Fail(ErrorCode::kInvalidArgument, "threads must be >= 0");
  auto integer = [](std::string_view key, double v, int lo, int hi) -> Result<int> {
    if (!(v >= lo && v <= hi) || v != std::floor(v)) {
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format("learned: {} must be an integer in [{}, {}], got {}", key, lo, hi, v));
    }
    return static_cast<int>(v);
  };
  auto real = [](std::string_view key, double v, double lo, double hi) -> Result<double> {
    if (!(v >= lo && v <= hi)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("learned: {} must be in [{}, {}], got {}", key, lo, hi, v));
    }
    return v;
  };
  for (const auto& [key, v] : options.params) {
    Result<int> i = 0;
    Result<double> d = 0.0;
    if (key == "trees") {
      if (!(i = integer(key, v, 1, 5000))) return Unexpected(i.error());
      o.trees = *i;
    } else if (key == "max_depth") {
      if (!(i = integer(key, v, 1, 16))) return Unexpected(i.error());
      o.max_depth = *i;
    } else if (key == "max_origins") {
      if (!(i = integer(key, v, 1, 520))) return Unexpected(i.error());
      o.max_origins = *i;
    } else if (key == "recent_windows") {
      if (!(i = integer(key, v, 1, 52))) return Unexpected(i.error());
      o.recent_windows = *i;
    } else if (key == "seed") {
      if (!(i = integer(key, v, 0, 1 << 30))) return Unexpected(i.error());
      o.seed = static_cast<std::uint64_t>(*i);
    } else if (key == "booster_threads") {
      if (!(i = integer(key, v, 0, 256))) return Unexpected(i.error());
      o.booster_threads = *i;
    } else if (key == "offset") {
      if (!(i = integer(key, v, 0, 1))) return Unexpected(i.error());
      o.offset = *i == 1;
    } else if (key == "covariates") {
      if (!(i = integer(key, v, 0, 1))) return Unexpected(i.error());
      o.covariates = *i == 1;
    } else if (key == "covariate_support") {
      if (!(i = integer(key, v, 0, 1))) return Unexpected(i.error());
      o.covariate_support = *i == 1;
    } else if (key == "learning_rate") {
      if (!(d = real(key, v, 1e-4, 1.0))) return Unexpected(d.error());
      o.learning_rate = *d;
    } else if (key == "min_child_weight") {
      if (!(d = real(key, v, 0.0, 1e6))) return Unexpected(d.error());
      o.min_child_weight = *d;
    } else if (key == "subsample") {
      if (!(d = real(key, v, 0.05, 1.0))) return Unexpected(d.error());
      o.subsample = *d;
    } else if (key == "colsample") {
      if (!(d = real(key, v, 0.05, 1.0))) return Unexpected(d.error());
      o.colsample = *d;
    } else if (key == "zero_ratio") {
      if (!(d = real(key, v, 0.01, 1e6))) return Unexpected(d.error());
      o.zero_ratio = *d;
    } else if (key == "tweedie_power") {
      if (!(d = real(key, v, 1.0001, 1.9999))) return Unexpected(d.error());
      o.tweedie_power = *d;
    } else if (key == "near_repeat_radius_m") {
      if (!(d = real(key, v, 1.0, 5000.0))) return Unexpected(d.error());
      o.near_repeat_radius_m = *d;
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("learned: unknown parameter '{}' (known: trees, max_depth, "
                              "learning_rate, min_child_weight, subsample, colsample, max_origins, "
                              "zero_ratio, seed, tweedie_power, near_repeat_radius_m, "
                              "recent_windows, offset, booster_threads)",
                              key));
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Origins and totals

std::vector<std::int64_t> TrainingOrigins(const FeatureBuilder& builder, std::int64_t limit,
                                          int max_origins) {
  std::vector<std::int64_t> out;
  const std::int64_t start = builder.index().data_start();
  const Horizon& h = builder.horizon();
  const bool months = h.months > 0 || builder.monthly();
  // Each origin needs some history before it: 3 months, or 4 weeks (2 horizons if longer).
  auto enough_history = [&](std::int64_t o) {
    if (months) return builder.Back(o, 3) >= start;
    return o - start >= std::max<std::int64_t>(28 * 86400, 2 * h.seconds);
  };
  constexpr std::int64_t kWeek = 7 * 86400;
  for (int k = 1; static_cast<int>(out.size()) < max_origins && k < 100000; ++k) {
    std::int64_t o = 0;
    if (months) {
      o = AddMonths(TimePoint{Seconds{limit}}, -k).time_since_epoch().count();
    } else if (h.seconds >= kWeek) {
      o = limit - static_cast<std::int64_t>(k) * h.seconds;
    } else {
      o = limit - static_cast<std::int64_t>(k) * kWeek;
    }
    if (!enough_history(o)) break;
    if (builder.HorizonEnd(o) > limit) continue;
    out.push_back(o);
  }
  return out;
}

double RecentTotal(const FeatureBuilder& builder, std::int64_t t, int windows) {
  const EventGridIndex& idx = builder.index();
  const std::int64_t start = idx.data_start();
  const std::int64_t end = builder.HorizonEnd(t);
  const double len = static_cast<double>(end - t);
  if (t <= start) return 0.0;
  const double all_rate = idx.TotalCount(start, t) / static_cast<double>(t - start);
  if (builder.monthly()) {
    const int k_max = windows > 0 ? windows : 3;
    int k = 0;
    while (k < k_max && builder.Back(t, k + 1) >= start) ++k;
    if (k == 0) return all_rate * len;
    const std::int64_t from = builder.Back(t, k);
    return idx.TotalCount(from, t) / static_cast<double>(t - from) * len;
  }
  const int k_max = windows > 0 ? windows : 4;
  const std::int64_t h = end - t;
  const std::int64_t step = std::max<std::int64_t>(h, 7 * 86400);
  double sum = 0;
  int k = 0;
  for (int j = 1; j <= k_max; ++j) {
    const std::int64_t o = t - j * step;
    if (o < start) break;
    sum += idx.TotalCount(o, o + h);
    ++k;
  }
  return k > 0 ? sum / k : all_rate * len;
}

void ScaleToTotal(std::vector<double>& values, double total) {
  double sum = 0;
  for (double v : values) sum += v;
  if (!(sum > 0) || !std::isfinite(total)) return;
  const double f = total / sum;
  for (double& v : values) v *= f;
}

// ---------------------------------------------------------------------------------------------
// LearnedFit

LearnedFit::LearnedFit(LearnedFit&& o) noexcept
    : booster_(o.booster_),
      predict_mu_(std::move(o.predict_mu_)),
      origins_(std::move(o.origins_)),
      rows_(o.rows_),
      offset_(o.offset_),
      band_rate_(std::move(o.band_rate_)) {
  o.booster_ = nullptr;
}

LearnedFit& LearnedFit::operator=(LearnedFit&& o) noexcept {
  if (this != &o) {
    if (booster_) XGBoosterFree(booster_);
    booster_ = o.booster_;
    o.booster_ = nullptr;
    predict_mu_ = std::move(o.predict_mu_);
    origins_ = std::move(o.origins_);
    rows_ = o.rows_;
    offset_ = o.offset_;
    band_rate_ = std::move(o.band_rate_);
  }
  return *this;
}

LearnedFit::~LearnedFit() {
  if (booster_) XGBoosterFree(booster_);
}

Result<LearnedFit> LearnedFit::Train(const FeatureBuilder& builder, std::int64_t limit,
                                     const LearnedOptions& opt) {
  QuietXgboost();
  const std::vector<std::int64_t> origins = TrainingOrigins(builder, limit, opt.max_origins);
  if (origins.empty()) {
    return Fail(ErrorCode::kEmptyTrainingWindow,
                "learned: too little history before the forecast time for a training origin");
  }
  const std::size_t cols = builder.names().size();
  std::vector<float> x;
  std::vector<float> label, weight, margin;
  std::vector<double> band_events(FeatureRows::kBands, 0.0), band_cells(FeatureRows::kBands, 0.0);
  // Oldest origin first, so the row order (and thus the hist sketch) does not depend on how
  // many origins were available.
  for (auto it = origins.rbegin(); it != origins.rend(); ++it) {
    const std::int64_t o = *it;
    const FeatureRows rows = builder.Compute(o);
    const FeatureTargets target = builder.Targets(rows, o, builder.HorizonEnd(o));
    std::size_t positives = 0;
    for (double c : target.count) positives += c > 0 ? 1 : 0;
    const std::size_t zeros = rows.rows() - positives;
    const double p =
        zeros == 0
            ? 1.0
            : std::clamp(opt.zero_ratio * static_cast<double>(std::max<std::size_t>(positives, 1)) /
                             static_cast<double>(zeros),
                         1e-3, 1.0);
    for (std::size_t r = 0; r < rows.rows(); ++r) {
      double w = 1.0;
      if (!(target.count[r] > 0)) {
        if (p < 1.0 && UnitHash(opt.seed, o, rows.cell[r]) >= p) continue;
        w = 1.0 / p;
      }
      const auto row = rows.Row(r);
      x.insert(x.end(), row.begin(), row.end());
      label.push_back(static_cast<float>(target.count[r]));
      weight.push_back(static_cast<float>(w));
      margin.push_back(std::log(rows.base[r]));
    }
    // Cells far from every past event: the empirical rate per distance band (below), not the
    // trees. A pooled row of 800,000 empty cells has too little Poisson weight (hessian
    // mu x cells) for a leaf of its own under min_child_weight, so trees would give it the
    // rate of some nearby leaf and spread hundreds of phantom events over hills and sea.
    for (std::size_t b = 0; b < static_cast<std::size_t>(FeatureRows::kBands); ++b) {
      band_events[b] += target.band_count[b];
      band_cells[b] += static_cast<double>(rows.band_cells[b]);
    }
  }
  const std::size_t n = label.size();
  double wsum = 0, lsum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    wsum += weight[i];
    lsum += static_cast<double>(weight[i]) * label[i];
  }
  if (!(lsum > 0)) {
    return Fail(ErrorCode::kEmptyTrainingWindow,
                "learned: no events in any training window before the forecast time");
  }
  const int threads = ThreadCount(opt.booster_threads);
  DMatrix dtrain;
  if (XGDMatrixCreateFromMat_omp(x.data(), n, cols, std::numeric_limits<float>::quiet_NaN(),
                                 &dtrain.h, threads) != 0) {
    return XgbError("DMatrix creation");
  }
  if (XGDMatrixSetFloatInfo(dtrain.h, "label", label.data(), n) != 0 ||
      XGDMatrixSetFloatInfo(dtrain.h, "weight", weight.data(), n) != 0) {
    return XgbError("setting labels");
  }
  if (opt.offset && XGDMatrixSetFloatInfo(dtrain.h, "base_margin", margin.data(), n) != 0) {
    return XgbError("setting the offset");
  }
  LearnedFit fit;
  fit.offset_ = opt.offset;
  // Half an event of prior per band keeps a band that never saw an event from claiming
  // certainty (a zero forecast); with hundreds of thousands of cells it is negligible otherwise.
  fit.band_rate_.resize(FeatureRows::kBands);
  for (std::size_t b = 0; b < fit.band_rate_.size(); ++b) {
    fit.band_rate_[b] = band_cells[b] > 0 ? (band_events[b] + 0.5) / band_cells[b] : 0.0;
  }
  fit.origins_ = origins;
  fit.rows_ = n;
  if (XGBoosterCreate(&dtrain.h, 1, &fit.booster_) != 0) return XgbError("booster creation");
  const std::string base = fmt::format("{:.9g}", lsum / wsum);
  const std::vector<std::pair<std::string, std::string>> params = {
      {"objective", opt.tweedie_power > 0 ? "reg:tweedie" : "count:poisson"},
      {"tweedie_variance_power",
       fmt::format("{}", opt.tweedie_power > 0 ? opt.tweedie_power : 1.5)},
      {"tree_method", "hist"},
      {"max_depth", std::to_string(opt.max_depth)},
      {"eta", fmt::format("{}", opt.learning_rate)},
      {"min_child_weight", fmt::format("{}", opt.min_child_weight)},
      {"subsample", fmt::format("{}", opt.subsample)},
      {"colsample_bytree", fmt::format("{}", opt.colsample)},
      {"base_score", base},
      {"seed", std::to_string(opt.seed)},
      {"nthread", std::to_string(threads)},
      {"verbosity", "0"},
  };
  for (const auto& [k, v] : params) {
    if (XGBoosterSetParam(fit.booster_, k.c_str(), v.c_str()) != 0) return XgbError("set " + k);
  }
  for (int it = 0; it < opt.trees; ++it) {
    if (XGBoosterUpdateOneIter(fit.booster_, it, dtrain.h) != 0) return XgbError("training");
  }
  return fit;
}

Result<std::vector<double>> LearnedFit::PredictRaw(const FeatureBuilder& builder,
                                                   std::int64_t t) const {
  const FeatureRows rows = builder.Compute(t);
  const std::vector<float>& x = rows.x;
  const std::size_t n = rows.rows();
  std::vector<double> grid(rows.band_of.size());
  for (std::size_t c = 0; c < grid.size(); ++c) {
    if (rows.band_of[c] != FeatureRows::kInSupport) grid[c] = band_rate_[rows.band_of[c]];
  }
  if (n == 0) return grid;
  // XGBoost does not document concurrent predictions on one booster as safe, and a cached fit
  // (SharedLearnedFit) is shared between threads.
  std::lock_guard lock(*predict_mu_);
  DMatrix d;
  if (XGDMatrixCreateFromMat(x.data(), n, rows.cols, std::numeric_limits<float>::quiet_NaN(),
                             &d.h) != 0) {
    return XgbError("DMatrix creation");
  }
  if (offset_) {
    std::vector<float> margin(n);
    for (std::size_t r = 0; r < rows.rows(); ++r) margin[r] = std::log(rows.base[r]);
    if (XGDMatrixSetFloatInfo(d.h, "base_margin", margin.data(), n) != 0) {
      return XgbError("setting the offset");
    }
  }
  bst_ulong len = 0;
  const float* out = nullptr;
  if (XGBoosterPredict(booster_, d.h, 0, 0, 0, &len, &out) != 0) return XgbError("prediction");
  if (len != n) return Fail(ErrorCode::kInternal, "XGBoost returned the wrong number of rows");
  for (std::size_t r = 0; r < rows.rows(); ++r) {
    grid[static_cast<std::size_t>(rows.cell[r])] = static_cast<double>(out[r]);
  }
  return grid;
}

std::vector<std::pair<std::string, double>> LearnedFit::Importance(
    const FeatureBuilder& builder) const {
  std::vector<std::pair<std::string, double>> out;
  bst_ulong n_features = 0, dim = 0;
  const char** names = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  std::lock_guard lock(*predict_mu_);
  if (XGBoosterFeatureScore(booster_, R"({"importance_type": "total_gain"})", &n_features, &names,
                            &dim, &shape, &scores) != 0) {
    return out;
  }
  for (bst_ulong i = 0; i < n_features; ++i) {
    // Unnamed features come back as "f<column>".
    std::string name = names[i];
    if (name.size() > 1 && name[0] == 'f') {
      const std::size_t col = std::stoul(name.substr(1));
      if (col < builder.names().size()) name = builder.names()[col];
    }
    out.emplace_back(name, static_cast<double>(scores[i]));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shared fits

namespace {

// Two independent 64-bit streams of SplitMix64 mixing: a 128-bit fingerprint.
class Fingerprint {
 public:
  void Add(std::uint64_t v) {
    a_ = SplitMix64(a_ ^ v);
    b_ = SplitMix64(b_ + 0x632be59bd9b4e019ULL * (v ^ 0xd6e8feb86659fd93ULL));
  }
  void Add(double v) { Add(std::bit_cast<std::uint64_t>(v)); }
  void Add(std::int64_t v) { Add(static_cast<std::uint64_t>(v)); }
  void Add(int v) { Add(static_cast<std::uint64_t>(static_cast<std::int64_t>(v))); }
  std::pair<std::uint64_t, std::uint64_t> Get() const { return {a_, b_}; }

 private:
  std::uint64_t a_ = 0x243f6a8885a308d3ULL, b_ = 0x13198a2e03707344ULL;
};

std::pair<std::uint64_t, std::uint64_t> FitKey(const FeatureBuilder& builder, std::int64_t limit,
                                               const LearnedOptions& o) {
  Fingerprint f;
  const EventGridIndex& idx = builder.index();
  const History& h = idx.history();
  f.Add(static_cast<std::uint64_t>(h.size()));
  for (std::size_t i = 0; i < h.size(); ++i) {
    f.Add(h.x[i]);
    f.Add(h.y[i]);
    f.Add(h.t_start[i]);
    f.Add(h.t_end[i]);
    f.Add(static_cast<int>(h.category[i]));
    f.Add(h.weight.size() == h.size() ? h.weight[i] : 1.0);
  }
  f.Add(idx.data_start());
  f.Add(h.observed_from);
  f.Add(h.observed_to);
  const spatial::Grid& g = idx.grid();
  f.Add(g.epsg());
  f.Add(g.size_m());
  f.Add(g.ix0());
  f.Add(g.iy0());
  f.Add(g.nx());
  f.Add(g.ny());
  f.Add(builder.horizon().seconds);
  f.Add(builder.horizon().months);
  f.Add(builder.options().near_repeat_radius_m);
  f.Add(static_cast<int>(builder.options().covariates_extend_support));
  for (const auto& layer : builder.options().covariates) {
    for (char c : layer.name) f.Add(static_cast<int>(c));
    for (float v : layer.value) f.Add(static_cast<double>(v));
  }
  f.Add(limit);
  f.Add(o.trees);
  f.Add(o.max_depth);
  f.Add(o.learning_rate);
  f.Add(o.min_child_weight);
  f.Add(o.subsample);
  f.Add(o.colsample);
  f.Add(o.max_origins);
  f.Add(o.zero_ratio);
  f.Add(o.seed);
  f.Add(o.tweedie_power);
  f.Add(o.near_repeat_radius_m);
  f.Add(o.recent_windows);
  f.Add(o.booster_threads);
  f.Add(o.offset ? 1 : 0);
  return f.Get();
}

using SharedFit = std::shared_ptr<const Result<LearnedFit>>;

struct FitCacheEntry {
  std::pair<std::uint64_t, std::uint64_t> key;
  std::shared_future<SharedFit> fit;
};

constexpr std::size_t kFitCacheCapacity = 8;

}  // namespace

std::shared_ptr<const Result<LearnedFit>> SharedLearnedFit(const FeatureBuilder& builder,
                                                           std::int64_t limit,
                                                           const LearnedOptions& options) {
  // Never destroyed (Google style for static storage): destroying boosters from an exit handler
  // would run after XGBoost's own static state is gone, and crash the process at exit.
  static std::mutex& mu = *new std::mutex;
  static std::deque<FitCacheEntry>& cache = *new std::deque<FitCacheEntry>;  // MRU at the back
  const auto key = FitKey(builder, limit, options);
  std::promise<SharedFit> promise;
  std::shared_future<SharedFit> found;
  {
    std::lock_guard lock(mu);
    const auto it = std::find_if(cache.begin(), cache.end(),
                                 [&](const FitCacheEntry& e) { return e.key == key; });
    if (it != cache.end()) {
      found = it->fit;
      FitCacheEntry hit = std::move(*it);
      cache.erase(it);
      cache.push_back(std::move(hit));
    } else {
      cache.push_back({key, promise.get_future().share()});
      if (cache.size() > kFitCacheCapacity) cache.pop_front();
    }
  }
  // A hit waits (outside the lock) for the fit another thread may still be growing.
  if (found.valid()) return found.get();
  SharedFit fit;
  try {
    // Isolated: while this thread waits inside Train's parallel loops, oneTBB could otherwise
    // hand it an outer task (another model of the same backtest origin) that asks for this very
    // key and would wait forever on the promise this thread has yet to fulfil.
    tbb::this_task_arena::isolate([&] {
      fit = std::make_shared<const Result<LearnedFit>>(LearnedFit::Train(builder, limit, options));
    });
  } catch (...) {
    // Waiters see the same exception; the entry is dropped so a later call retries.
    promise.set_exception(std::current_exception());
    std::lock_guard lock(mu);
    std::erase_if(cache, [&](const FitCacheEntry& e) { return e.key == key; });
    throw;
  }
  promise.set_value(fit);
  return fit;
}

// ---------------------------------------------------------------------------------------------
// The model

namespace {

class LearnedModel final : public Model {
 public:
  explicit LearnedModel(LearnedOptions options) : opt_(options) {}
  std::string_view name() const override { return "learned"; }

  Result<Forecast> Predict(const History& history, const ForecastRequest& request) override {
    Result<Forecast> out = Fail(ErrorCode::kInternal, "not run");
    WithThreads(opt_.threads, [&] { out = Run(history, request); });
    return out;
  }

 private:
  Result<Forecast> Run(const History& history, const ForecastRequest& request) const {
    if (history.size() == 0) {
      return Fail(ErrorCode::kEmptyTrainingWindow, "learned: no events before the forecast time");
    }
    Forecast f;
    f.model = "learned";
    f.model_used = "learned";
    // Features and training windows end where the data end (T, or earlier when the feed
    // stopped before T: a silent gap is not evidence of a zero rate).
    const std::int64_t t = history.WindowEnd(request.at.time_since_epoch().count());
    if (t < request.at.time_since_epoch().count()) {
      f.notes.push_back(fmt::format("learned: the data end at {}; forecasting from there",
                                    FormatIso(TimePoint{Seconds{t}})));
    }
    const EventGridIndex index(history, request.grid);
    // Month-only data cannot say which week of a month an event fell in: forecast the month and
    // take the horizon's share of it.
    Horizon horizon = request.horizon;
    double share = 1.0;
    if (index.month_only() && horizon.months == 0) {
      horizon = Horizon{0, 1};
      share = static_cast<double>(request.horizon.seconds) / kMeanMonthSeconds;
      f.notes.push_back(fmt::format(
          "month-only data: forecast the month from {} and took the {} share ({:.3f}) of it",
          FormatDate(request.at), request.horizon.ToString(), share));
    }
    FeatureOptions fo;
    fo.near_repeat_radius_m = opt_.near_repeat_radius_m;
    if (const auto* cov = UsableCovariates(request, opt_)) {
      fo.covariates = cov->layers;
      fo.covariates_extend_support = opt_.covariate_support;
      f.notes.push_back(fmt::format("learned: area covariates {}", CovariateNames(*cov)));
    }
    auto builder = FeatureBuilder::Create(index, horizon, fo);
    if (!builder) return Unexpected(builder.error());
    const double total = RecentTotal(*builder, t, opt_.recent_windows) * share;

    const auto shared_fit = SharedLearnedFit(*builder, t, opt_);
    const Result<LearnedFit>& fit = *shared_fit;
    std::vector<double> expected;
    if (!fit) {
      if (fit.error().code != ErrorCode::kEmptyTrainingWindow) return Unexpected(fit.error());
      // Fallback: the all-history count per cell.
      f.model_used = "naive-all";
      f.notes.push_back("learned: " + fit.error().message + "; fell back to all-history counts");
      expected.assign(static_cast<std::size_t>(request.grid.cell_count()), 0.0);
      for (std::size_t a = 0; a < index.active_count(); ++a) {
        expected[static_cast<std::size_t>(index.ActiveCell(a))] =
            index.Count(a, index.data_start(), t);
      }
    } else {
      auto raw = fit->PredictRaw(*builder, t);
      if (!raw) return Unexpected(raw.error());
      expected = std::move(*raw);
      double raw_sum = 0;
      for (double v : expected) raw_sum += v;
      f.parameters["trees"] = opt_.trees;
      f.parameters["max_depth"] = opt_.max_depth;
      f.parameters["training_origins"] = static_cast<double>(fit->origins().size());
      f.parameters["training_rows"] = static_cast<double>(fit->training_rows());
      f.parameters["model_total"] = raw_sum * share;
      f.parameters["calibrated_total"] = total;
      const auto importance = fit->Importance(*builder);
      std::string top;
      for (std::size_t i = 0; i < std::min<std::size_t>(5, importance.size()); ++i) {
        top += fmt::format("{}{}", i ? ", " : "", importance[i].first);
      }
      f.notes.push_back(fmt::format(
          "learned: {} trees (depth {}) on {} origins {} .. {}, {} rows; strongest features: {}",
          opt_.trees, opt_.max_depth, fit->origins().size(),
          FormatIso(TimePoint{Seconds{fit->origins().back()}}),
          FormatIso(TimePoint{Seconds{fit->origins().front()}}), fit->training_rows(), top));
      f.notes.push_back(fmt::format(
          "learned: model total {:.1f} rescaled to the recent rate {:.1f} for the horizon",
          raw_sum * share, total));
    }
    ScaleToTotal(expected, total);
    f.expected = std::move(expected);
    return f;
  }

  LearnedOptions opt_;
};

}  // namespace

std::unique_ptr<Model> MakeLearnedModel(const ModelOptions& /*options*/, LearnedOptions parsed) {
  return std::make_unique<LearnedModel>(parsed);
}

Result<std::unique_ptr<Model>> MakeLearnedModel(const ModelOptions& options) {
  auto parsed = LearnedOptions::FromModelOptions(options);
  if (!parsed) return Unexpected(parsed.error());
  return MakeLearnedModel(options, *parsed);
}

}  // namespace crimecast::models
