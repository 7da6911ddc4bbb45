// Tests of the test helper itself (tests/support/ascii_grid.hpp): a wrong helper would make
// every drawing-based test pass or fail for the wrong reason.
#include "support/ascii_grid.hpp"

#include <gtest/gtest.h>

namespace crimecast::testing {
namespace {

TEST(AsciiGrid, ParsesCountsZerosAndMaskSouthWestFirst) {
  auto g = ParseAsciiGrid(R"(
      . . 3 .
      . 12 5 .
      . . . #
  )");
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->nx, 4);
  EXPECT_EQ(g->ny, 3);
  // Bottom line of the drawing is row 0.
  EXPECT_EQ(g->masked[static_cast<std::size_t>(g->Local(3, 0))], 1);
  EXPECT_EQ(g->counts[static_cast<std::size_t>(g->Local(3, 0))], 0);
  EXPECT_EQ(g->counts[static_cast<std::size_t>(g->Local(1, 1))], 12);  // multi-digit count
  EXPECT_EQ(g->counts[static_cast<std::size_t>(g->Local(2, 1))], 5);
  EXPECT_EQ(g->counts[static_cast<std::size_t>(g->Local(2, 2))], 3);
  EXPECT_EQ(g->Total(), 20);
  std::int64_t masked = 0;
  for (auto m : g->masked) masked += m;
  EXPECT_EQ(masked, 1);
}

TEST(AsciiGrid, FormatRoundTrips) {
  const std::string drawing = ". . 3 .\n. 12 5 .\n. . . #\n";
  auto g = ParseAsciiGrid(drawing);
  ASSERT_TRUE(g);
  EXPECT_EQ(FormatAsciiGrid(*g), drawing);
  EXPECT_EQ(*ParseAsciiGrid(FormatAsciiGrid(*g)), *g);
  EXPECT_EQ(NormaliseAsciiGrid("\n   1  .\t#\n\n  . 2 .  \n"), "1 . #\n. 2 .\n");
  EXPECT_EQ(FormatAsciiGrid(2, 1, {0, 7}, {1, 0}), "# 7\n");
}

TEST(AsciiGrid, RejectsMalformedDrawings) {
  EXPECT_FALSE(ParseAsciiGrid(""));
  EXPECT_FALSE(ParseAsciiGrid("  \n \n"));
  EXPECT_FALSE(ParseAsciiGrid(". .\n. . .\n"));  // ragged
  EXPECT_FALSE(ParseAsciiGrid(". x\n"));         // unknown token
  EXPECT_FALSE(ParseAsciiGrid(". -1\n"));        // negative count
  EXPECT_FALSE(ParseAsciiGrid(". 1.5\n"));
}

}  // namespace
}  // namespace crimecast::testing
