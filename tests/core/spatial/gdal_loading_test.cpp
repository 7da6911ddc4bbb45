// GDAL is loaded on first use, not at start-up (core/spatial/gdal_api.hpp: linked, its ~100
// dependent libraries cost every crimecast process about 40 ms before main()).
#include <gtest/gtest.h>

#include <string>

#include "support/paths.hpp"

namespace crimecast::spatial {
namespace {

TEST(GdalLoading, CliDoesNotLinkGdal) {
  std::string out;
  if (testing::RunCommand("ldd --version", &out) != 0) GTEST_SKIP() << "ldd not available";
  ASSERT_EQ(testing::RunCommand("ldd '" + testing::CliPath().string() + "'", &out), 0) << out;
  EXPECT_NE(out.find("libsqlite3"), std::string::npos) << out;  // the listing is real
  EXPECT_EQ(out.find("libgdal"), std::string::npos) << out;
}

}  // namespace
}  // namespace crimecast::spatial
