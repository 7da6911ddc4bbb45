// core/models/history.hpp
//
// Building a models::History (the events a model may see) from the store's point columns.
//
// The no-look-ahead rule lives here: a History for a forecast at T holds exactly the located,
// in-area events whose occurrence interval STARTS before T (t_start < T), whatever else the
// input holds. Everything a model computes comes from the History and the request, so a
// forecast at T cannot depend on events at or after T.
//
// A month-only event (data.police.uk) whose month straddles T (T in the middle of a month)
// starts before T and is therefore included; models weight it by the share of its interval
// that lies before T (models/time_weights.hpp), which is the probability that it happened
// before T when the occurrence is uniform over the month. Backtests on month-only data use
// month-start origins, where no interval straddles T.
//
// The observation window [observed_from, observed_to) is set so that count models turn counts
// into rates honestly:
// * observed_from: the earliest t_start of ALL input points before T (every category), unless
//   given. A rare category whose first event came late is still divided by the whole span.
// * observed_to: T, unless the caller says the data end earlier (data_end more than one day
//   before T: the feed stopped, so the silent gap is not evidence of a zero rate). A gap of
//   up to a day is treated as an ordinary quiet spell, so that a forecast at midnight does not
//   depend on whether the last event came at 23:58 or 23:59.
#pragma once

#include <optional>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/time.hpp"
#include "core/models/harm.hpp"
#include "core/models/model.hpp"
#include "core/storage/event_store.hpp"

namespace crimecast::models {

struct HistoryOptions {
  TimePoint cutoff{};                      // T: only events with t_start < T
  std::vector<Category> categories;        // empty: every category
  std::optional<HarmWeights> harm;         // absent: every event weighs 1
  std::optional<TimePoint> observed_from;  // absent: earliest t_start before T (all categories)
  std::optional<TimePoint> data_end;       // absent: the data run up to T
};

// Selects, weights and sorts (by t_start, stable) the events of `points` for a forecast at
// options.cutoff. Points with non-finite x/y are skipped. The result may be empty (callers
// that need events report kEmptyTrainingWindow themselves). Fails only on inconsistent input
// (columns of different lengths, t_end <= t_start).
Result<History> BuildHistory(const storage::PointColumns& points, const HistoryOptions& options);

// Loads located, in-area events starting before options.cutoff from `store`, projected to
// `epsg`, and builds the History. observed_from and data_end default to the store's Extent().
Result<History> LoadHistory(storage::EventStore& store, int epsg, const HistoryOptions& options);

// Sorts every column of `points` by (t_start, id), in place. BuildHistory does not need it;
// the backtest uses it to take prefixes.
void SortByStart(storage::PointColumns& points);

}  // namespace crimecast::models
