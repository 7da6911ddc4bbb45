#include "core/access/disclosure.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace crimecast::access {
namespace {

using Opt = std::optional<std::int64_t>;
constexpr Opt kSup = std::nullopt;

TEST(Disclosure, CellSizeForPartners) {
  DisclosurePolicy p;
  EXPECT_TRUE(CheckAggregateCellSize(p, 500));
  EXPECT_TRUE(CheckAggregateCellSize(p, 1000));
  EXPECT_EQ(CheckAggregateCellSize(p, 150).error().code, ErrorCode::kForbidden);
  EXPECT_FALSE(CheckAggregateCellSize(p, std::nan("")));
}

TEST(Disclosure, PrimarySuppressionKeepsZerosAndLargeCounts) {
  DisclosurePolicy p;  // threshold 5
  EXPECT_FALSE(Suppress(p, 0));
  EXPECT_TRUE(Suppress(p, 1));
  EXPECT_TRUE(Suppress(p, 4));
  EXPECT_FALSE(Suppress(p, 5));
  p.min_count = 10;
  EXPECT_TRUE(Suppress(p, 9));
  p.min_count = 1;
  EXPECT_FALSE(Suppress(p, 1));
}

// Hand-worked 3 x 3 example, threshold 5:
//
//          c0  c1  c2 | total
//   r0     20   3  12 |  35
//   r1      8  15   9 |  32
//   r2     11   6  30 |  47
//   total  39  24  51 | 114
//
// Primary: only r0c1 = 3. Row r0 then has one suppressed entry: its smallest other published
// positive entry is r0c2 = 12 (r0c0 = 20, total 35). Column c1 has one suppressed entry
// (r0c1): its smallest other is r2c1 = 6. Now row r2 has one (r2c1): smallest other r2c0 = 11.
// Column c2 has one (r0c2): smallest other r1c2 = 9. Column c0 has one (r2c0): smallest other
// r1c0 = 8. Row r1 now has two (r1c0, r1c2): fine. Every line has 0 or 2 suppressed:
//   r0: c1,c2  r1: c0,c2  r2: c0,c1  c0: r1,r2  c1: r0,r2  c2: r0,r1.
// No total is suppressed, and no suppressed cell can be recovered by one subtraction.
TEST(Disclosure, SecondarySuppressionHandWorked) {
  DisclosurePolicy p;
  const auto t = SuppressTable(p, 3, 3, {20, 3, 12, 8, 15, 9, 11, 6, 30});
  const std::vector<Opt> want = {20, kSup, kSup, kSup, 15, kSup, kSup, kSup, 30};
  ASSERT_EQ(t.cells.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(t.cells[i], want[i]) << "cell " << i;
  EXPECT_EQ(t.primary, 1);
  EXPECT_EQ(t.secondary, 5);
  EXPECT_EQ(t.row_totals, (std::vector<Opt>{35, 32, 47}));
  EXPECT_EQ(t.col_totals, (std::vector<Opt>{39, 24, 51}));
  EXPECT_EQ(t.total, Opt(114));
}

TEST(Disclosure, NoSuppressedCellIsRecoverableFromALine) {
  // Property over many random tables: every row and column of the augmented table has 0 or >= 2
  // withheld entries, and every published interior value is the true one.
  DisclosurePolicy p;
  std::uint64_t s = 12345;
  auto rnd = [&s] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::int64_t>((s >> 33) % 14);  // 0..13: many small counts
  };
  for (int trial = 0; trial < 300; ++trial) {
    const std::int64_t rows = 1 + trial % 5, cols = 1 + (trial / 5) % 6;
    std::vector<std::int64_t> counts(static_cast<std::size_t>(rows * cols));
    for (auto& c : counts) c = rnd();
    const auto t = SuppressTable(p, rows, cols, counts);
    for (std::int64_t r = 0; r < rows; ++r) {
      int n = !t.row_totals[r].has_value();
      for (std::int64_t c = 0; c < cols; ++c) {
        const auto& v = t.At(r, c);
        n += !v.has_value();
        if (v) {
          EXPECT_FALSE(Suppress(p, *v));
          EXPECT_EQ(*v, counts[r * cols + c]);
        }
        if (Suppress(p, counts[r * cols + c])) {
          EXPECT_FALSE(v.has_value());
        }
      }
      EXPECT_NE(n, 1) << "trial " << trial << " row " << r;
    }
    for (std::int64_t c = 0; c < cols; ++c) {
      int n = !t.col_totals[c].has_value();
      for (std::int64_t r = 0; r < rows; ++r) n += !t.At(r, c).has_value();
      EXPECT_NE(n, 1) << "trial " << trial << " col " << c;
    }
    int n = !t.total.has_value();
    for (const auto& v : t.row_totals) n += !v.has_value();
    EXPECT_NE(n, 1) << "trial " << trial << " margin";
  }
}

TEST(Disclosure, SmallTotalsAreWithheld) {
  DisclosurePolicy p;
  const auto t = SuppressTable(p, 1, 3, {0, 3, 0});
  EXPECT_EQ(t.At(0, 1), kSup);
  EXPECT_EQ(t.row_totals[0], kSup);
  EXPECT_EQ(t.total, kSup);
  EXPECT_EQ(t.At(0, 0), Opt(0));
}

}  // namespace
}  // namespace crimecast::access
