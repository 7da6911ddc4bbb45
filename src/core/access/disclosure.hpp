// core/access/disclosure.hpp
//
// Statistical disclosure control for partners (councils, social services).
//
// Partners receive aggregates only. Two rules, both configurable:
// * Spatial aggregation: grid cells of at least `min_cell_m` metres (default 500 m) or LSOAs
//   (Lower-layer Super Output Areas: about 1,500 residents each), never points or street-level
//   locations.
// * Small-number suppression: a count c with 0 < c < `min_count` is withheld (primary
//   suppression). The default threshold is 5; UK practice varies between "fewer than 5"
//   (e.g. ONS and NHS Digital small-number guidance for counts of people) and "fewer than 10"
//   for more sensitive tables, so deployments can raise it. Zero is published: a police.uk
//   style crime count of zero reveals nothing about a victim.
// * Secondary (complementary) suppression: when a table is published with totals, a single
//   suppressed cell in a row or column could be recovered by subtraction. SuppressTable
//   therefore also withholds, in every row and column that has exactly one suppressed cell, the
//   smallest other published cell, repeating until no row or column has exactly one; totals
//   below the threshold are withheld too. This is the classic heuristic of Cox (1980),
//   "Properties of the sensitivity criterion and suppression of cells in tables", greedy rather
//   than optimal (it may suppress more than strictly necessary; it never suppresses less).
//
// Suppressed values are reported as std::nullopt (JSON null with "suppressed": true).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/common/error.hpp"

namespace crimecast::access {

struct DisclosurePolicy {
  double min_cell_m = 500.0;
  std::int64_t min_count = 5;  // counts 1 .. min_count-1 are suppressed; 1 disables suppression
};

// kForbidden when a partner asks for cells smaller than the policy allows.
Result<void> CheckAggregateCellSize(const DisclosurePolicy& policy, double cell_m);

// True when a single count must be withheld.
inline bool Suppress(const DisclosurePolicy& policy, std::int64_t count) {
  return count > 0 && count < policy.min_count;
}

// A rows x cols table of counts with its margins after suppression.
struct SuppressedTable {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::optional<std::int64_t>> cells;  // row-major
  std::vector<std::optional<std::int64_t>> row_totals;
  std::vector<std::optional<std::int64_t>> col_totals;
  std::optional<std::int64_t> total;
  std::int64_t primary = 0;    // cells withheld because they are small
  std::int64_t secondary = 0;  // cells withheld to protect them
  const std::optional<std::int64_t>& At(std::int64_t r, std::int64_t c) const {
    return cells[static_cast<std::size_t>(r * cols + c)];
  }
};

// `counts` is row-major rows x cols (values >= 0). Totals are the true sums, published unless
// they are themselves small.
SuppressedTable SuppressTable(const DisclosurePolicy& policy, std::int64_t rows, std::int64_t cols,
                              const std::vector<std::int64_t>& counts);

}  // namespace crimecast::access
