// tests/support/ascii_grid.hpp: spatial fixtures drawn as ASCII maps (OSRM/Valhalla style).
//
// A drawing is a raw string of rows of whitespace-separated tokens, NORTH AT THE TOP, as on a
// map:
//
//     . . 3 .
//     . 1 5 .
//     . . . #
//
// * a number (one or more digits) is a count of events in that cell;
// * '.' is a cell with zero events;
// * '#' is a masked (invalid) cell, e.g. sea or outside the force; its count is 0.
// Blank lines and leading/trailing whitespace are ignored, so the string can start on the line
// after R"( and be indented like the surrounding code. Every row must have the same number of
// tokens.
//
// The parsed cells are stored in crimecast's grid order (spatial/grid.hpp): row-major from the
// SOUTH-WEST, local = row * nx + col with row 0 the BOTTOM line of the drawing. So an AsciiGrid
// lines up with Grid::Create(epsg, size, ix0, iy0, nx, ny) cell for cell.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"

namespace crimecast::testing {

struct AsciiGrid {
  std::int64_t nx = 0;               // columns
  std::int64_t ny = 0;               // rows
  std::vector<std::int64_t> counts;  // nx * ny, local order (south-west first)
  std::vector<std::uint8_t> masked;  // nx * ny, 1 = '#'

  std::int64_t Local(std::int64_t col, std::int64_t row) const { return row * nx + col; }
  std::int64_t Total() const;
  bool operator==(const AsciiGrid&) const = default;
};

// Parses a drawing. kInvalidArgument for an empty drawing, ragged rows or an unknown token.
Result<AsciiGrid> ParseAsciiGrid(std::string_view drawing);

// Draws a grid back (north at the top, one space between tokens, '\n' after each row), so that
// Format(*ParseAsciiGrid(s)) equals s up to whitespace. Counts print as numbers, 0 as '.'.
std::string FormatAsciiGrid(const AsciiGrid& grid);

// The same layout from plain vectors in local order (counts and optional mask of nx * ny).
std::string FormatAsciiGrid(std::int64_t nx, std::int64_t ny,
                            const std::vector<std::int64_t>& counts,
                            const std::vector<std::uint8_t>& masked = {});

// Normalises whitespace (single spaces, no blank lines, trailing '\n'), so that a drawing can be
// compared with FormatAsciiGrid output.
std::string NormaliseAsciiGrid(std::string_view drawing);

}  // namespace crimecast::testing
