// `crimecast forecast` and `crimecast backtest` end to end, on a small store built here.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/spatial/projection.hpp"
#include "core/storage/sqlite_event_store.hpp"
#include "support/paths.hpp"

namespace crimecast {
namespace {

// Month-only events around Newport, Jan 2023 .. Jun 2023, burglary and violence.
std::string MakeDb(const std::string& name) {
  const auto dir = testing::TempDir(name);
  const std::string path = (dir / "t.db").string();
  auto store = storage::SqliteEventStore::Open(path);
  EXPECT_TRUE(store);
  auto proj = *spatial::Projection::Create(27700, spatial::kWgs84);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> ux(330000, 333000), uy(186000, 188500);
  storage::BatchInfo info;
  info.source = "police-uk";
  info.format = "police-uk";
  info.file_name = "cli.csv";
  info.sha256 = "cli";
  auto writer = (*store)->BeginBatch(info);
  int id = 0;
  for (TimePoint m = ParseMonth("2023-01")->start; m <= ParseMonth("2023-06")->start;
       m = AddMonths(m, 1)) {
    for (int k = 0; k < 80; ++k) {
      Event e;
      e.source = "police-uk";
      e.source_id = fmt::format("c{}", ++id);
      e.category = k % 2 ? Category::kBurglary : Category::kViolenceSexualOffences;
      e.source_type = std::string(DisplayName(e.category));
      e.when = {m, AddMonths(m, 1)};
      e.x = k % 4 == 0 ? 331500 : ux(rng);
      e.y = k % 4 == 0 ? 187500 : uy(rng);
      auto ll = proj.Forward(e.x, e.y);
      e.lon = ll->x;
      e.lat = ll->y;
      e.epsg = 27700;
      e.quality = LocationQuality::kSnapped;
      EXPECT_TRUE((*writer)->Write(e));
    }
  }
  EXPECT_TRUE((*writer)->Commit(info));
  return path;
}

std::string Cli() { return testing::CliPath().string(); }

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ForecastCli, WritesCsvAndGeoJson) {
  const std::string db = MakeDb("cli-forecast");
  const auto out = testing::TempDir("cli-forecast-out");
  std::string log;
  const std::string csv = (out / "f.csv").string();
  ASSERT_EQ(testing::RunCommand(Cli() + " forecast --db " + db +
                                    " --model naive-all --at 2023-07 --horizon 1M --cell 150 "
                                    "--category burglary --out " +
                                    csv,
                                &log),
            0)
      << log;
  EXPECT_NE(log.find("naive-all"), std::string::npos);
  const std::string text = Read(csv);
  EXPECT_EQ(text.rfind("cell_x,cell_y,size_m,crs,lon,lat,risk,cell_id,background,recent,band\n", 0),
            0u);
  const std::string gj = (out / "f.geojson").string();
  ASSERT_EQ(testing::RunCommand(Cli() + " forecast --db " + db +
                                    " --model prospective --at 2023-06-15T12:00:00Z --horizon 7d "
                                    "--cell 200 --crs EPSG:27700 --out " +
                                    gj,
                                &log),
            0)
      << log;
  const auto j = nlohmann::json::parse(Read(gj));
  EXPECT_EQ(j["type"], "FeatureCollection");
  EXPECT_GT(j["features"].size(), 0u);
}

// Rows of a forecast CSV by cell_id: (lon, lat, risk, band).
std::map<std::string, std::array<std::string, 4>> RowsById(const std::string& text) {
  std::map<std::string, std::array<std::string, 4>> rows;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    if (line.back() == ',') f.emplace_back();
    EXPECT_EQ(f.size(), 11u) << line;
    if (f.size() == 11) rows[f[7]] = {f[4], f[5], f[6], f[10]};
  }
  return rows;
}

TEST(ForecastCli, BboxForecastsOneAreaOfTheStoreWithItsMargin) {
  const std::string db = MakeDb("cli-forecast-bbox");
  const auto out = testing::TempDir("cli-forecast-bbox-out");
  // The western part of the events' 3 km x 2.5 km square.
  auto proj = *spatial::Projection::Create(27700, spatial::kWgs84);
  const auto sw = *proj.Forward(329900, 185900);
  const auto ne = *proj.Forward(331400, 188600);
  const std::string bbox = fmt::format("{:.6f},{:.6f},{:.6f},{:.6f}", sw.x, sw.y, ne.x, ne.y);
  const std::string common = Cli() + " forecast --db " + db +
                             " --model naive-all --at 2023-07 --horizon 1M --cell 150 --out ";
  std::string log;
  const std::string all = (out / "all.csv").string();
  const std::string part = (out / "part.csv").string();
  const std::string tight = (out / "tight.csv").string();
  ASSERT_EQ(testing::RunCommand(common + all, &log), 0) << log;
  ASSERT_EQ(testing::RunCommand(common + part + " --bbox=" + bbox, &log), 0) << log;
  ASSERT_EQ(testing::RunCommand(common + tight + " --bbox=" + bbox + " --margin 0", &log), 0)
      << log;
  const auto whole = RowsById(Read(all));
  const auto area = RowsById(Read(part));
  // Exactly the whole forecast's cells whose centre is in the box, with the same risk: a count
  // model's answer does not depend on the area asked for.
  std::size_t inside = 0;
  for (const auto& [id, row] : whole) {
    const double lon = std::stod(row[0]), lat = std::stod(row[1]);
    if (lon < sw.x || lon > ne.x || lat < sw.y || lat > ne.y) continue;
    ++inside;
    auto it = area.find(id);
    ASSERT_NE(it, area.end()) << id;
    EXPECT_EQ(it->second[2], row[2]) << id;
  }
  EXPECT_GT(inside, 20u);
  EXPECT_LT(inside, whole.size());
  EXPECT_EQ(area.size(), inside);
  // Risk bands rank the area's own active cells: the area has a band-1 cell of its own.
  bool band1 = false;
  for (const auto& [id, row] : area) band1 |= row[3] == "1";
  EXPECT_TRUE(band1);
  // Without a margin the same cells come out (count models need no neighbourhood).
  EXPECT_EQ(RowsById(Read(tight)).size(), inside);

  // Bad areas: clear errors.
  struct Case {
    std::string args, expect;
  };
  const Case cases[] = {
      {"--bbox=1,2,3", "minlon,minlat,maxlon,maxlat"},
      {"--bbox=-2.9,51.6,-3.0,51.7", "bbox"},
      {"--bbox=10,10,10.1,10.1", "EmptyTrainingWindow"},
      {"--bbox=" + bbox + " --margin -5", "margin"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    EXPECT_NE(testing::RunCommand(common + tight + " " + c.args, &log), 0) << log;
    EXPECT_NE(log.find(c.expect), std::string::npos) << log;
  }
}

TEST(ForecastCli, BadInputGivesClearErrors) {
  const std::string db = MakeDb("cli-forecast-bad");
  const auto out = testing::TempDir("cli-forecast-bad-out");
  const std::string base = Cli() + " forecast --db " + db + " --out " + (out / "f.csv").string();
  struct Case {
    std::string args, expect;
  };
  const Case cases[] = {
      {"--model wizard --at 2023-07 --horizon 1M --cell 150", "UnknownModel"},
      {"--model kde --at 2023-07 --horizon 1M --cell 150 --category murderr", "UnknownCategory"},
      {"--model kde --at 2023-07 --horizon 1M --cell 150 --category robbery",
       "EmptyTrainingWindow"},
      {"--model kde --at 2019-07 --horizon 1M --cell 150", "OutOfRange"},
      {"--model kde --at 2030-07 --horizon 1M --cell 150", "OutOfRange"},
      {"--model kde --at 2023-07 --horizon 30m --cell 150", "BadHorizon"},
      {"--model kde --at 2023-13 --horizon 1M --cell 150", "BadTime"},
      {"--model kde --at 2023-07 --horizon 1M --cell 0", "BadGrid"},
      {"--model kde --at 2023-07 --horizon 1M --cell 20000", "BadGrid"},
      {"--model kde --at 2023-07 --horizon 1M --cell 0.01", "TooLarge"},
      {"--model kde --at 2023-07 --horizon 1M --cell 150 --param bandwith_m=3", "bandwith_m"},
      {"--model kde --at 2023-07 --horizon 1M --cell 150 --harm /no/such.toml", "FileNotFound"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    std::string log;
    EXPECT_EQ(testing::RunCommand(base + " " + c.args, &log), 1) << log;
    EXPECT_NE(log.find(c.expect), std::string::npos) << log;
  }
  std::string log;
  EXPECT_NE(testing::RunCommand(Cli() + " forecast --db /no/such.db --at 2023-07 --horizon 1M "
                                        "--cell 150 --out /tmp/x.csv",
                                &log),
            0);
  EXPECT_NE(log.find("does not exist"), std::string::npos) << log;
}

TEST(BacktestCli, TableJsonSvgAndProgress) {
  const std::string db = MakeDb("cli-backtest");
  const auto out = testing::TempDir("cli-backtest-out");
  const std::string json = (out / "b.json").string();
  const std::string svg = (out / "b.svg").string();
  std::string log;
  ASSERT_EQ(testing::RunCommand(Cli() + " backtest --db " + db +
                                    " --models naive-all,kde,prospective --from 2023-04 --to "
                                    "2023-07 --horizon 1M --cell 150 --per-category "
                                    "--param kde.bandwidth_m=300 --json " +
                                    json + " --svg " + svg,
                                &log),
            0)
      << log;
  EXPECT_NE(log.find("forecasts scored"), std::string::npos);  // progress on stderr
  EXPECT_NE(log.find("[all]"), std::string::npos);
  EXPECT_NE(log.find("[burglary]"), std::string::npos);
  EXPECT_NE(log.find("HR@5%"), std::string::npos);
  const auto j = nlohmann::json::parse(Read(json));
  EXPECT_EQ(j["origins"].size(), 3u);
  EXPECT_EQ(j["config"]["models"][1]["params"]["bandwidth_m"], 300);
  EXPECT_EQ(Read(svg).rfind("<svg", 0), 0u);
}

TEST(BacktestCli, BoundaryDefinesTheActiveArea) {
  const std::string db = MakeDb("cli-backtest-boundary");
  const auto out = testing::TempDir("cli-backtest-boundary-out");
  // A 1.5 km x 1.5 km square in British National Grid metres: 100 cells of 150 m.
  const std::string boundary = (out / "square.geojson").string();
  {
    std::ofstream f(boundary);
    f << R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":)"
         R"("urn:ogc:def:crs:EPSG::27700"}},"features":[{"type":"Feature","properties":)"
         R"({"code":"sq"},"geometry":{"type":"Polygon","coordinates":[[[330000,186000],)"
         R"([331500,186000],[331500,187500],[330000,187500],[330000,186000]]]}}]})";
  }
  const std::string json = (out / "b.json").string();
  std::string log;
  ASSERT_EQ(testing::RunCommand(Cli() + " backtest --db " + db +
                                    " --models naive-all --from 2023-04 --to 2023-05 --horizon 1M "
                                    "--cell 150 --quiet --boundary " +
                                    boundary + " --json " + json,
                                &log),
            0)
      << log;
  const auto j = nlohmann::json::parse(Read(json));
  EXPECT_EQ(j["config"]["active_area"], "boundary");
  EXPECT_EQ(j["active_area"][0]["cells"], 100);
  std::string bad_log;
  EXPECT_EQ(testing::RunCommand(Cli() + " backtest --db " + db +
                                    " --from 2023-04 --to 2023-05 --horizon 1M --cell 150 "
                                    "--boundary /no/such.geojson",
                                &bad_log),
            1);
  EXPECT_NE(bad_log.find("FileNotFound"), std::string::npos) << bad_log;
}

TEST(BacktestCli, BadInputGivesClearErrors) {
  const std::string db = MakeDb("cli-backtest-bad");
  const std::string base = Cli() + " backtest --db " + db;
  struct Case {
    std::string args, expect;
  };
  const Case cases[] = {
      {"--models naive-all,wizard --from 2023-04 --to 2023-07 --horizon 1M --cell 150",
       "UnknownModel"},
      {"--from 2023-07 --to 2023-04 --horizon 1M --cell 150", "must be before"},
      {"--from 2021-01 --to 2021-04 --horizon 1M --cell 150", "OutOfRange"},
      {"--from 2023-04 --to 2023-07 --horizon 7d --cell 150", "month-only"},
      {"--from 2023-04 --to 2023-07 --horizon 1M --cell -1", "BadGrid"},
      {"--models kde --from 2023-04 --to 2023-07 --horizon 1M --cell 150 --param naive-all.x=1",
       "not being run"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    std::string log;
    EXPECT_EQ(testing::RunCommand(base + " " + c.args, &log), 1) << log;
    EXPECT_NE(log.find(c.expect), std::string::npos) << log;
  }
}

}  // namespace
}  // namespace crimecast
