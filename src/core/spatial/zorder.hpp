// core/spatial/zorder.hpp
//
// Z-order (Morton) keys of WGS84 positions, for a one-column spatial index in a plain B-tree.
//
// The globe is cut into a 2^20 x 2^20 grid of lon/lat cells (360/2^20 = 0.000343 deg of
// longitude, 180/2^20 = 0.000172 deg of latitude: about 24 m x 19 m in Great Britain). A
// position's key interleaves the bits of its column (even bits) and row (odd bits), so nearby
// positions mostly get nearby keys. A bounding box becomes a short list of key ranges
// (ZRanges), each answered by an index range scan; callers still filter on lon/lat exactly,
// because the ranges cover the box (they may include some cells outside it, never miss one).
//
// Why not SQLite's R*Tree: inserting into it costs ~44,000 instructions per event (measured with
// callgrind on a data.police.uk month), several times the rest of the import; an integer index
// costs a few thousand.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace crimecast::spatial {

inline constexpr int kZOrderBits = 20;  // per axis

// Key of a WGS84 position (lon in [-180, 180], lat in [-90, 90]; values outside are clamped).
std::uint64_t ZKey(double lon, double lat);

// Inclusive key ranges covering the box, sorted and merged, at most about `max_ranges` of them
// (coarser ranges cover a little more area). Empty when the box is empty.
std::vector<std::pair<std::uint64_t, std::uint64_t>> ZRanges(double min_lon, double min_lat,
                                                             double max_lon, double max_lat,
                                                             int max_ranges = 32);

}  // namespace crimecast::spatial
