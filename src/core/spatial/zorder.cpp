#include "core/spatial/zorder.hpp"

#include <algorithm>
#include <cmath>

namespace crimecast::spatial {
namespace {

constexpr std::uint32_t kCells = 1u << kZOrderBits;

std::uint32_t Column(double lon) {
  const double v = std::floor((std::clamp(lon, -180.0, 180.0) + 180.0) / 360.0 * kCells);
  return static_cast<std::uint32_t>(std::clamp(v, 0.0, static_cast<double>(kCells - 1)));
}
std::uint32_t Row(double lat) {
  const double v = std::floor((std::clamp(lat, -90.0, 90.0) + 90.0) / 180.0 * kCells);
  return static_cast<std::uint32_t>(std::clamp(v, 0.0, static_cast<double>(kCells - 1)));
}

std::uint64_t Spread(std::uint32_t v) {
  std::uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFull;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0Full;
  x = (x | (x << 2)) & 0x3333333333333333ull;
  x = (x | (x << 1)) & 0x5555555555555555ull;
  return x;
}

std::uint64_t Interleave(std::uint32_t col, std::uint32_t row) {
  return Spread(col) | (Spread(row) << 1);
}

struct Box {
  std::uint32_t c0, r0, c1, r1;  // inclusive
};

// Quadtree walk: a node at `level` (0 = the whole grid) covers a square of 2^(bits-level)
// cells whose keys form one contiguous range.
void Walk(const Box& q, std::uint32_t c, std::uint32_t r, int level, int stop_level,
          std::vector<std::pair<std::uint64_t, std::uint64_t>>& out) {
  const std::uint32_t size = 1u << (kZOrderBits - level);
  const std::uint32_t c_end = c + size - 1;
  const std::uint32_t r_end = r + size - 1;
  if (c_end < q.c0 || c > q.c1 || r_end < q.r0 || r > q.r1) return;  // disjoint
  const bool inside = c >= q.c0 && c_end <= q.c1 && r >= q.r0 && r_end <= q.r1;
  if (inside || level == stop_level || level == kZOrderBits) {
    const std::uint64_t lo = Interleave(c, r);
    const std::uint64_t span = static_cast<std::uint64_t>(size) * size;
    out.emplace_back(lo, lo + span - 1);
    return;
  }
  const std::uint32_t half = size / 2;
  Walk(q, c, r, level + 1, stop_level, out);
  Walk(q, c + half, r, level + 1, stop_level, out);
  Walk(q, c, r + half, level + 1, stop_level, out);
  Walk(q, c + half, r + half, level + 1, stop_level, out);
}

}  // namespace

std::uint64_t ZKey(double lon, double lat) { return Interleave(Column(lon), Row(lat)); }

std::vector<std::pair<std::uint64_t, std::uint64_t>> ZRanges(double min_lon, double min_lat,
                                                             double max_lon, double max_lat,
                                                             int max_ranges) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> best;
  if (!(min_lon <= max_lon && min_lat <= max_lat)) return best;
  const Box q{Column(min_lon), Row(min_lat), Column(max_lon), Row(max_lat)};
  // Refine level by level while the (merged) range count stays within budget.
  for (int stop = 1; stop <= kZOrderBits; ++stop) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    Walk(q, 0, 0, 0, stop, out);
    std::sort(out.begin(), out.end());
    std::vector<std::pair<std::uint64_t, std::uint64_t>> merged;
    for (const auto& r : out) {
      if (!merged.empty() && r.first <= merged.back().second + 1) {
        merged.back().second = std::max(merged.back().second, r.second);
      } else {
        merged.push_back(r);
      }
    }
    if (static_cast<int>(merged.size()) > max_ranges && !best.empty()) break;
    best = std::move(merged);
    if (static_cast<int>(out.size()) > 64 * max_ranges) break;  // bound the work
  }
  return best;
}

}  // namespace crimecast::spatial
