#include "support/ascii_grid.hpp"

#include <fmt/format.h>

#include <charconv>
#include <numeric>

namespace crimecast::testing {
namespace {

std::vector<std::vector<std::string_view>> Tokenise(std::string_view drawing) {
  std::vector<std::vector<std::string_view>> rows;
  std::size_t line_start = 0;
  while (line_start <= drawing.size()) {
    std::size_t line_end = drawing.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = drawing.size();
    const std::string_view line = drawing.substr(line_start, line_end - line_start);
    std::vector<std::string_view> tokens;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      const std::size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
      if (i > start) tokens.push_back(line.substr(start, i - start));
    }
    if (!tokens.empty()) rows.push_back(std::move(tokens));
    line_start = line_end + 1;
  }
  return rows;
}

}  // namespace

std::int64_t AsciiGrid::Total() const {
  return std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
}

Result<AsciiGrid> ParseAsciiGrid(std::string_view drawing) {
  const auto rows = Tokenise(drawing);
  if (rows.empty()) return Fail(ErrorCode::kInvalidArgument, "the ASCII grid is empty");
  AsciiGrid g;
  g.ny = static_cast<std::int64_t>(rows.size());
  g.nx = static_cast<std::int64_t>(rows.front().size());
  g.counts.assign(static_cast<std::size_t>(g.nx * g.ny), 0);
  g.masked.assign(static_cast<std::size_t>(g.nx * g.ny), 0);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (static_cast<std::int64_t>(rows[r].size()) != g.nx) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("ASCII grid line {} has {} cells but the first has {}", r + 1,
                              rows[r].size(), g.nx));
    }
    // The first line drawn is the northernmost row.
    const std::int64_t row = g.ny - 1 - static_cast<std::int64_t>(r);
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      const std::string_view t = rows[r][c];
      const auto local = static_cast<std::size_t>(g.Local(static_cast<std::int64_t>(c), row));
      if (t == ".") continue;
      if (t == "#") {
        g.masked[local] = 1;
        continue;
      }
      std::int64_t value = 0;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
      if (ec != std::errc() || p != t.data() + t.size() || value < 0) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("ASCII grid line {} cell {}: '{}' is not a count, '.' or '#'",
                                r + 1, c + 1, t));
      }
      g.counts[local] = value;
    }
  }
  return g;
}

std::string FormatAsciiGrid(std::int64_t nx, std::int64_t ny,
                            const std::vector<std::int64_t>& counts,
                            const std::vector<std::uint8_t>& masked) {
  std::string out;
  for (std::int64_t row = ny - 1; row >= 0; --row) {
    for (std::int64_t col = 0; col < nx; ++col) {
      const auto local = static_cast<std::size_t>(row * nx + col);
      if (col > 0) out += ' ';
      if (!masked.empty() && masked[local] != 0) {
        out += '#';
      } else if (counts[local] == 0) {
        out += '.';
      } else {
        out += std::to_string(counts[local]);
      }
    }
    out += '\n';
  }
  return out;
}

std::string FormatAsciiGrid(const AsciiGrid& grid) {
  return FormatAsciiGrid(grid.nx, grid.ny, grid.counts, grid.masked);
}

std::string NormaliseAsciiGrid(std::string_view drawing) {
  std::string out;
  for (const auto& row : Tokenise(drawing)) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ' ';
      out += row[i];
    }
    out += '\n';
  }
  return out;
}

}  // namespace crimecast::testing
