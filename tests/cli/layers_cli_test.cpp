// `crimecast layers add | list | remove` end to end on tiny fixtures.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/paths.hpp"

namespace crimecast {
namespace {

class LayersCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("layers-cli");
    std::ofstream(dir_ / "sq.geojson") << R"({"type":"FeatureCollection",
"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::27700"}},"features":[
{"type":"Feature","properties":{"LSOA11CD":"A1"},"geometry":{"type":"Polygon","coordinates":
 [[[300000,200000],[301000,200000],[301000,201000],[300000,201000],[300000,200000]]]}},
{"type":"Feature","properties":{"LSOA11CD":"B2"},"geometry":{"type":"Polygon","coordinates":
 [[[301000,200000],[302000,200000],[302000,201000],[301000,201000],[301000,200000]]]}}]})";
    std::ofstream(dir_ / "t.csv") << "code,pop,rank\nA1,2000,5\nB2,500,9\nZ9,1,1\n";
    std::ofstream(dir_ / "bad.csv") << "code,pop,rank\nA1,2000,5\nB2,lots,9\n";
    db_ = (dir_ / "t.db").string();
  }
  std::string Cli(const std::string& args) const {
    return testing::CliPath().string() + " " + args + " 2>&1";
  }
  std::string Add(const std::string& name, const std::string& column,
                  const std::string& extra = "") const {
    return Cli("layers add --db " + db_ + " --name " + name + " --boundaries " +
               (dir_ / "sq.geojson").string() + " --id-field LSOA11CD --table " +
               (dir_ / "t.csv").string() + " --key-column code --value-column " + column + " " +
               extra);
  }
  std::filesystem::path dir_;
  std::string db_;
};

TEST_F(LayersCli, AddListReplaceRemove) {
  std::string out;
  ASSERT_EQ(testing::RunCommand(Add("density", "pop", "--per-km2 --description 'mid-2020'"), &out),
            0)
      << out;
  EXPECT_NE(out.find("layer 'density': 2 areas with a value, unit 'pop per km2'"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("codes in the table with no polygon: 1 (e.g. Z9)"), std::string::npos) << out;
  EXPECT_NE(out.find("polygons with no value (unknown in forecasts): 0"), std::string::npos);
  ASSERT_EQ(testing::RunCommand(Add("density", "rank"), &out), 0) << out;
  EXPECT_NE(out.find("replaced layer 'density'"), std::string::npos) << out;
  ASSERT_EQ(testing::RunCommand(Add("rank", "rank"), &out), 0) << out;
  ASSERT_EQ(testing::RunCommand(Cli("layers list --db " + db_ + " --json"), &out), 0) << out;
  auto j = nlohmann::json::parse(out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["name"], "density");
  EXPECT_EQ(j[0]["value_column"], "rank");
  EXPECT_EQ(j[0]["codes_without_area"], 1);
  ASSERT_EQ(testing::RunCommand(Cli("layers list --db " + db_), &out), 0) << out;
  EXPECT_NE(out.find("rank: 2 of 2 areas"), std::string::npos) << out;
  ASSERT_EQ(testing::RunCommand(Cli("layers remove --db " + db_ + " --name rank"), &out), 0);
  EXPECT_NE(out.find("removed layer 'rank'"), std::string::npos) << out;
  EXPECT_NE(testing::RunCommand(Cli("layers remove --db " + db_ + " --name rank"), &out), 0);
  EXPECT_NE(out.find("no covariate layer 'rank'"), std::string::npos) << out;
  // Every change is in the audit log (collection for adds, erasure for removals, failures too),
  // and the chain verifies.
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &h), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(h,
                               "SELECT action || ' ' || object || ' ' || outcome FROM audit_log "
                               "ORDER BY seq",
                               -1, &st, nullptr),
            SQLITE_OK);
  std::vector<std::string> log;
  while (sqlite3_step(st) == SQLITE_ROW) {
    log.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  EXPECT_EQ(log,
            (std::vector<std::string>{"collection layer density ok", "collection layer density ok",
                                      "collection layer rank ok", "erasure layer rank ok",
                                      "erasure layer rank error"}));
  ASSERT_EQ(testing::RunCommand(Cli("audit verify --db " + db_), &out), 0) << out;
  EXPECT_NE(out.find("audit log ok: 5 records"), std::string::npos) << out;
}

TEST_F(LayersCli, BadInputIsAClearError) {
  std::string out;
  EXPECT_EQ(testing::RunCommand(Add("x", "population"), &out), 1);
  EXPECT_NE(out.find("t.csv:1: --value-column 'population' is not a column"), std::string::npos)
      << out;
  EXPECT_NE(out.find("columns: code, pop, rank"), std::string::npos) << out;
  const std::string bad =
      Cli("layers add --db " + db_ + " --name x --boundaries " + (dir_ / "sq.geojson").string() +
          " --table " + (dir_ / "bad.csv").string() + " --key-column code --value-column pop");
  EXPECT_EQ(testing::RunCommand(bad, &out), 1);
  EXPECT_NE(out.find("bad.csv:3: column 'pop': 'lots' is not a number"), std::string::npos) << out;
  for (const char* sub : {"add", "list", "remove"}) {
    EXPECT_EQ(testing::RunCommand(Cli(std::string("layers ") + sub + " --help"), &out), 0);
    EXPECT_NE(out.find("--db"), std::string::npos) << sub;
  }
}

}  // namespace
}  // namespace crimecast
