#include "core/spatial/grid.hpp"

#include <fmt/format.h>

#include <charconv>
#include <limits>

namespace crimecast::spatial {

std::string CellId::ToString() const {
  return fmt::format("{}:{}:{}:{}", epsg, size_m, index.ix, index.iy);
}

Result<CellId> CellId::Parse(std::string_view text) {
  auto bad = [&] {
    return Fail(ErrorCode::kBadGrid,
                fmt::format("'{}' is not a cell id (expected EPSG:SIZE:IX:IY)", text));
  };
  std::string_view parts[4];
  std::size_t n = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ':') {
      if (n == 4) return bad();
      parts[n++] = text.substr(start, i - start);
      start = i + 1;
    }
  }
  if (n != 4) return bad();
  CellId id;
  auto parse_int = [](std::string_view s, auto& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
  };
  double size = 0;
  auto [p, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), size);
  if (!parse_int(parts[0], id.epsg) || ec != std::errc() ||
      p != parts[1].data() + parts[1].size() || !parse_int(parts[2], id.index.ix) ||
      !parse_int(parts[3], id.index.iy)) {
    return bad();
  }
  if (!(size > 0 && size <= kMaxCellSizeM)) return bad();
  id.size_m = size;
  return id;
}

Result<Grid> Grid::Create(int epsg, double size_m, std::int64_t ix0, std::int64_t iy0,
                          std::int64_t nx, std::int64_t ny, std::int64_t max_cells) {
  if (!(size_m > 0) || size_m > kMaxCellSizeM || !std::isfinite(size_m)) {
    return Fail(ErrorCode::kBadGrid,
                fmt::format("cell size {} m must be greater than 0 and at most {} m", size_m,
                            kMaxCellSizeM));
  }
  if (nx < 1 || ny < 1) return Fail(ErrorCode::kBadGrid, "a grid needs at least one cell");
  if (nx > max_cells / ny) {
    return Fail(ErrorCode::kTooLarge,
                fmt::format("a {} x {} grid of {} m cells has more than {} cells; use larger cells "
                            "or a smaller area",
                            nx, ny, size_m, max_cells));
  }
  Grid g;
  g.epsg_ = epsg;
  g.size_ = size_m;
  g.ix0_ = ix0;
  g.iy0_ = iy0;
  g.nx_ = nx;
  g.ny_ = ny;
  return g;
}

Result<Grid> Grid::Covering(int epsg, double size_m, double min_x, double min_y, double max_x,
                            double max_y, std::int64_t max_cells) {
  if (!(size_m > 0) || size_m > kMaxCellSizeM || !std::isfinite(size_m)) {
    return Grid::Create(epsg, size_m, 0, 0, 1, 1, max_cells);  // produces the size error
  }
  if (!(std::isfinite(min_x) && std::isfinite(min_y) && std::isfinite(max_x) &&
        std::isfinite(max_y)) ||
      max_x < min_x || max_y < min_y) {
    return Fail(ErrorCode::kBadGrid, "grid extent is empty or not finite");
  }
  const auto ix0 = static_cast<std::int64_t>(std::floor(min_x / size_m));
  const auto iy0 = static_cast<std::int64_t>(std::floor(min_y / size_m));
  const auto ix1 = static_cast<std::int64_t>(std::floor(max_x / size_m));
  const auto iy1 = static_cast<std::int64_t>(std::floor(max_y / size_m));
  return Grid::Create(epsg, size_m, ix0, iy0, ix1 - ix0 + 1, iy1 - iy0 + 1, max_cells);
}

}  // namespace crimecast::spatial
