// A national store (one month of all 43 data.police.uk forces' street crime, 41 files) and a
// 150 m forecast of one force from it: the whole country's grid is too large, an area is not.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/paths.hpp"

namespace crimecast {
namespace {

using testing::CliPath;
using testing::RunCommand;
using testing::SharedDataDir;

std::string Quote(const std::filesystem::path& p) {
  std::string quoted = "'";
  quoted += p.string();
  quoted += '\'';
  return quoted;
}

TEST(NationalItest, OneForceAt150mFromANationalStore) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-national-2019-02");
  const auto dir = testing::TempDir("national-itest");
  const auto db = dir / "national.db";
  std::string out;
  ASSERT_EQ(RunCommand(Quote(CliPath()) + " import --quiet --db " + Quote(db) + " " +
                           Quote(SharedDataDir() / "police-uk-national-2019-02") + "/*.csv",
                       &out),
            0)
      << out;
  const std::string forecast = Quote(CliPath()) + " forecast --db " + Quote(db) +
                               " --model naive-all --at 2019-03 --horizon 1M --cell 150 --out ";
  // England, Wales and Northern Ireland at 150 m: about 24 million cells, over the limit.
  EXPECT_EQ(RunCommand(forecast + Quote(dir / "all.csv"), &out), 1) << out;
  EXPECT_NE(out.find("TooLarge"), std::string::npos) << out;
  // Gwent's box: a few thousand active cells.
  ASSERT_EQ(RunCommand(forecast + Quote(dir / "gwent.csv") + " --bbox=-3.35,51.5,-2.6,51.85", &out),
            0)
      << out;
  std::ifstream in(dir / "gwent.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("cell_x,cell_y,size_m,crs,lon,lat,risk", 0), 0u) << line;
  std::size_t rows = 0;
  double total = 0;
  while (std::getline(in, line)) {
    ++rows;
    std::size_t p = 0;
    for (int k = 0; k < 6; ++k) p = line.find(',', p) + 1;
    total += std::stod(line.substr(p, line.find(',', p) - p));
  }
  // 4,640 Gwent rows in February 2019 (plus a few from neighbouring forces' boxes): expected
  // events in the box are of that order.
  EXPECT_GT(rows, 1000u);
  EXPECT_GT(total, 3000);
  EXPECT_LT(total, 20000);
}

}  // namespace
}  // namespace crimecast
