#include "core/storage/event_key_index.hpp"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

namespace crimecast::storage::internal {
namespace {

TEST(KeyMap, FindsWhatWasPutThroughGrowth) {
  KeyMap map;
  EXPECT_EQ(map.Find(42), -1);
  std::unordered_map<std::uint64_t, std::int64_t> truth;
  std::mt19937_64 rng(7);
  for (std::int64_t id = 1; id <= 50'000; ++id) {
    std::uint64_t key = rng() >> 1;
    if (id % 1000 == 0) key = id;  // small, clustered keys too
    map.Put(key, id);
    truth[key] = id;
  }
  // Overwrites keep one entry per key.
  map.Put(5000, -7);
  truth[5000] = -7;
  EXPECT_EQ(map.size(), truth.size());
  for (const auto& [key, id] : truth) ASSERT_EQ(map.Find(key), id) << key;
  std::mt19937_64 other(8);
  for (int i = 0; i < 10'000; ++i) {
    const std::uint64_t key = other() >> 1;
    if (!truth.contains(key)) {
      ASSERT_EQ(map.Find(key), -1);
    }
  }
  // Load factor at most 3/4.
  EXPECT_LE(map.size() * 4, map.memory_bytes() / 16 * 3);
  map.Clear();
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.Find(truth.begin()->first), -1);
}

TEST(KeyMap, ReserveAvoidsRehashing) {
  KeyMap map;
  map.Reserve(10'000);
  const std::size_t bytes = map.memory_bytes();
  for (std::uint64_t k = 0; k < 10'000; ++k) map.Put(k * 0x9E3779B97F4A7C1ull >> 1, 1);
  EXPECT_EQ(map.memory_bytes(), bytes);
}

}  // namespace
}  // namespace crimecast::storage::internal
