#include "core/access/disclosure.hpp"

#include <fmt/format.h>

namespace crimecast::access {

Result<void> CheckAggregateCellSize(const DisclosurePolicy& policy, double cell_m) {
  if (!(cell_m >= policy.min_cell_m)) {
    return Fail(ErrorCode::kForbidden,
                fmt::format("partners receive aggregates on cells of at least {:g} m (asked for "
                            "{:g} m) or by LSOA",
                            policy.min_cell_m, cell_m));
  }
  return {};
}

SuppressedTable SuppressTable(const DisclosurePolicy& policy, std::int64_t rows, std::int64_t cols,
                              const std::vector<std::int64_t>& counts) {
  // Work on the table augmented with its margins: (rows+1) x (cols+1), last column = row totals,
  // last row = column totals, corner = grand total. Every line (row or column) of it then has
  // the same structure: its last entry is the sum of the others, so one withheld entry in a line
  // is recoverable from the rest. That uniformity lets one rule cover cells and totals alike.
  const std::int64_t R = rows + 1;
  const std::int64_t C = cols + 1;
  std::vector<std::int64_t> v(static_cast<std::size_t>(R * C), 0);
  auto at = [&](std::int64_t r, std::int64_t c) -> std::int64_t& {
    return v[static_cast<std::size_t>(r * C + c)];
  };
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const std::int64_t x = counts[static_cast<std::size_t>(r * cols + c)];
      at(r, c) = x;
      at(r, cols) += x;
      at(rows, c) += x;
      at(rows, cols) += x;
    }
  }
  std::vector<char> sup(v.size(), 0);
  auto is_sup = [&](std::int64_t r, std::int64_t c) -> char& {
    return sup[static_cast<std::size_t>(r * C + c)];
  };
  SuppressedTable out;
  for (std::int64_t r = 0; r < R; ++r) {
    for (std::int64_t c = 0; c < C; ++c) {
      if (Suppress(policy, at(r, c))) {
        is_sup(r, c) = 1;
        if (r < rows && c < cols) ++out.primary;
      }
    }
  }
  // One line: `n` entries addressed by index -> (r, c).
  auto fix_line = [&](std::int64_t n, auto&& coord) {
    std::int64_t suppressed = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      auto [r, c] = coord(i);
      suppressed += is_sup(r, c);
    }
    if (suppressed != 1) return false;
    // Complement: the smallest positive published entry (a zero complement protects less: an
    // attacker who guesses it is zero recovers the small cell); interior cells before totals.
    std::int64_t best = -1;
    std::int64_t best_value = 0;
    bool best_positive = false;
    bool best_interior = false;
    for (std::int64_t i = 0; i < n; ++i) {
      auto [r, c] = coord(i);
      if (is_sup(r, c)) continue;
      const std::int64_t x = at(r, c);
      const bool positive = x > 0;
      const bool interior = r < rows && c < cols;
      const bool better = best < 0 || (positive && !best_positive) ||
                          (positive == best_positive &&
                           (x < best_value || (x == best_value && interior && !best_interior)));
      if (better) {
        best = i;
        best_value = x;
        best_positive = positive;
        best_interior = interior;
      }
    }
    if (best < 0) return false;
    auto [r, c] = coord(best);
    is_sup(r, c) = 1;
    if (r < rows && c < cols) ++out.secondary;
    return true;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (std::int64_t r = 0; r < R; ++r) {
      changed |= fix_line(C, [r](std::int64_t i) { return std::pair{r, i}; });
    }
    for (std::int64_t c = 0; c < C; ++c) {
      changed |= fix_line(R, [c](std::int64_t i) { return std::pair{i, c}; });
    }
  }

  out.rows = rows;
  out.cols = cols;
  auto value = [&](std::int64_t r, std::int64_t c) -> std::optional<std::int64_t> {
    if (is_sup(r, c)) return std::nullopt;
    return at(r, c);
  };
  out.cells.reserve(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) out.cells.push_back(value(r, c));
    out.row_totals.push_back(value(r, cols));
  }
  for (std::int64_t c = 0; c < cols; ++c) out.col_totals.push_back(value(rows, c));
  out.total = value(rows, cols);
  return out;
}

}  // namespace crimecast::access
