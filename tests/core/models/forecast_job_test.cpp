#include "core/models/forecast_job.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/models/registry.hpp"
#include "core/spatial/projection.hpp"
#include "core/storage/sqlite_event_store.hpp"
#include "support/paths.hpp"

namespace crimecast::models {
namespace {

// Month-only events around Newport (EPSG:27700), Jan 2023 .. `last_month`.
void Fill(storage::EventStore& store, const std::string& last_month, std::uint64_t seed = 1) {
  auto proj = *spatial::Projection::Create(27700, spatial::kWgs84);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> ux(330000, 334000), uy(186000, 189000);
  storage::BatchInfo info;
  info.source = "police-uk";
  info.format = "police-uk";
  info.file_name = "test.csv";
  info.sha256 = "t-" + last_month;
  auto writer = store.BeginBatch(info);
  ASSERT_TRUE(writer);
  int id = 0;
  for (TimePoint m = ParseMonth("2023-01")->start; m <= ParseMonth(last_month)->start;
       m = AddMonths(m, 1)) {
    for (int k = 0; k < 60; ++k) {
      Event e;
      e.source = "police-uk";
      e.source_id = fmt::format("e{}", ++id);
      e.category = k % 3 == 0 ? Category::kBurglary : Category::kViolenceSexualOffences;
      e.source_type = std::string(DisplayName(e.category));
      e.when = {m, AddMonths(m, 1)};
      // A hot spot takes a third of the events.
      e.x = k % 3 == 1 ? 331020 : ux(rng);
      e.y = k % 3 == 1 ? 187020 : uy(rng);
      auto ll = proj.Forward(e.x, e.y);
      e.lon = ll->x;
      e.lat = ll->y;
      e.epsg = 27700;
      e.quality = LocationQuality::kSnapped;
      ASSERT_TRUE((*writer)->Write(e));
    }
  }
  ASSERT_TRUE((*writer)->Commit(info));
}

std::unique_ptr<storage::SqliteEventStore> Store(const std::string& name,
                                                 const std::string& last_month) {
  auto dir = testing::TempDir(name);
  auto s = storage::SqliteEventStore::Open((dir / "t.db").string());
  EXPECT_TRUE(s);
  Fill(**s, last_month);
  return std::move(*s);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ForecastJob Job(const std::string& model, const char* at = "2023-07") {
  ForecastJob j;
  j.model = model;
  j.at = ParseMonth(at)->start;
  j.horizon = {0, 1};
  j.cell_m = 150;
  return j;
}

TEST(ForecastJob, WritesAlignedCsvWithTheContractHeader) {
  auto store = Store("fj-csv", "2023-06");
  auto r = RunForecastJob(*store, Job("naive-all"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->grid.epsg(), 27700);  // the store's dominant CRS
  EXPECT_EQ(r->grid.size_m(), 150);
  EXPECT_EQ(r->history_events, 360u);
  const auto dir = testing::TempDir("fj-csv-out");
  const std::string path = (dir / "f.csv").string();
  ASSERT_TRUE(WriteForecastCsv(path, *r));
  const std::string text = ReadFile(path);
  EXPECT_EQ(text.rfind("cell_x,cell_y,size_m,crs,lon,lat,risk,", 0), 0u);
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);
  int rows = 0;
  double total = 0;
  while (std::getline(lines, line)) {
    ++rows;
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) f.push_back(cell);
    ASSERT_GE(f.size(), 7u);
    // Corners are multiples of the cell size; the centre lies near Newport.
    EXPECT_EQ(std::fmod(std::stod(f[0]), 150.0), 0.0);
    EXPECT_EQ(std::fmod(std::stod(f[1]), 150.0), 0.0);
    EXPECT_EQ(f[3], "EPSG:27700");
    EXPECT_NEAR(std::stod(f[4]), -2.99, 0.1);
    EXPECT_NEAR(std::stod(f[5]), 51.58, 0.1);
    total += std::stod(f[6]);
  }
  EXPECT_GT(rows, 10);
  // 360 events over 6 months (181 days); July has 31 days.
  EXPECT_NEAR(total, 360.0 * 31 / 181, 1e-3);
  // The hot spot is the top band.
  bool hot_in_top = false;
  std::istringstream again(text);
  std::getline(again, line);
  while (std::getline(again, line)) {
    if (line.find(",27700:150:2206:1246,") != std::string::npos) hot_in_top = line.back() == '1';
  }
  EXPECT_TRUE(hot_in_top);
}

TEST(ForecastJob, GeoJsonPolygonsInWgs84) {
  auto store = Store("fj-geojson", "2023-06");
  const ForecastJob job = Job("kde");
  auto r = RunForecastJob(*store, job);
  ASSERT_TRUE(r) << r.error().message;
  const auto dir = testing::TempDir("fj-geojson-out");
  const std::string path = (dir / "f.geojson").string();
  ASSERT_TRUE(WriteForecastGeoJson(path, *r, job));
  const auto j = nlohmann::json::parse(ReadFile(path));
  EXPECT_EQ(j["type"], "FeatureCollection");
  EXPECT_EQ(j["crimecast"]["model"], "kde");
  ASSERT_GT(j["features"].size(), 10u);
  const auto& f = j["features"][0];
  EXPECT_EQ(f["geometry"]["type"], "Polygon");
  const auto& ring = f["geometry"]["coordinates"][0];
  ASSERT_EQ(ring.size(), 5u);
  EXPECT_EQ(ring[0], ring[4]);
  EXPECT_NEAR(ring[0][0].get<double>(), -2.99, 0.1);
  EXPECT_NEAR(ring[0][1].get<double>(), 51.58, 0.1);
  EXPECT_GT(f["properties"]["risk"].get<double>(), 0);
}

// The no-look-ahead test, end to end: the same forecast from a store that holds three
// more months of events after T and from one that stops at T.
TEST(ForecastJob, NoLookAheadThroughTheStore) {
  auto longer = Store("fj-la-long", "2023-09");
  auto shorter = Store("fj-la-short", "2023-06");
  const auto dir = testing::TempDir("fj-la-out");
  for (const std::string& model : ModelNames()) {
    SCOPED_TRACE(model);
    const ForecastJob job = Job(model);
    auto a = RunForecastJob(*longer, job);
    auto b = RunForecastJob(*shorter, job);
    ASSERT_TRUE(a && b);
    const std::string pa = (dir / (model + "-a.csv")).string();
    const std::string pb = (dir / (model + "-b.csv")).string();
    ASSERT_TRUE(WriteForecastCsv(pa, *a));
    ASSERT_TRUE(WriteForecastCsv(pb, *b));
    EXPECT_EQ(ReadFile(pa), ReadFile(pb));
  }
}

TEST(ForecastJob, ClearErrorsForBadRequests) {
  auto store = Store("fj-errors", "2023-06");
  ForecastJob j = Job("magic");
  EXPECT_EQ(RunForecastJob(*store, j).error().code, ErrorCode::kUnknownModel);
  j = Job("naive-all");
  j.categories = {Category::kRobbery};
  auto r = RunForecastJob(*store, j);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kEmptyTrainingWindow);
  EXPECT_NE(r.error().message.find("robbery"), std::string::npos);
  j = Job("naive-all", "2022-12");
  EXPECT_EQ(RunForecastJob(*store, j).error().code, ErrorCode::kOutOfRange);
  j = Job("naive-all", "2023-01");  // at the first event: nothing before it
  EXPECT_EQ(RunForecastJob(*store, j).error().code, ErrorCode::kOutOfRange);
  j = Job("naive-all", "2023-09");  // more than one horizon after the data end (2023-07-01)
  EXPECT_EQ(RunForecastJob(*store, j).error().code, ErrorCode::kOutOfRange);
  j = Job("naive-all", "2023-08");  // exactly one horizon after: allowed, with a note
  auto late = RunForecastJob(*store, j);
  ASSERT_TRUE(late) << late.error().message;
  ASSERT_FALSE(late->notes.empty());
  j = Job("naive-all");
  j.cell_m = 0;
  EXPECT_EQ(RunForecastJob(*store, j).error().code, ErrorCode::kBadGrid);
  j.cell_m = 10001;
  EXPECT_EQ(RunForecastJob(*store, j).error().code, ErrorCode::kBadGrid);
  j.cell_m = -5;
  EXPECT_EQ(RunForecastJob(*store, j).error().code, ErrorCode::kBadGrid);
  j.cell_m = 1;
  j.max_cells = 1000;  // a 4 km x 3 km extent at 1 m is 12 million cells
  EXPECT_EQ(RunForecastJob(*store, j).error().code, ErrorCode::kTooLarge);
  j = Job("naive-all");
  j.epsg = 4326;
  EXPECT_EQ(RunForecastJob(*store, j).error().code, ErrorCode::kBadCrs);
  j.epsg = 999999;
  EXPECT_FALSE(RunForecastJob(*store, j));
}

TEST(ForecastJob, OtherCrsAndHarmWeights) {
  auto store = Store("fj-crs", "2023-06");
  ForecastJob j = Job("naive-all");
  j.epsg = 32630;  // UTM 30N
  j.harm = HarmWeights::Default();
  auto r = RunForecastJob(*store, j);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->grid.epsg(), 32630);
  double total = 0;
  for (double v : r->forecast.expected) total += v;
  // 120 burglaries (240 days each) and 240 violence (120) over 181 days, July 31 days.
  EXPECT_NEAR(total, (120 * 240.0 + 240 * 120.0) * 31 / 181, 1e-6);
}

TEST(ForecastJob, RiskBandsShareTiesAndSkipZeros) {
  // 10 active cells: risks 9 8 7 ... the top 1 % / 2 % / 5 % / 10 % is ceil(0.1..1) = 1 cell,
  // 20 % is 2 cells.
  std::vector<double> risk = {9, 8, 7, 6, 5, 4, 3, 2, 0, 0, 5};
  std::vector<std::int64_t> active = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const auto b = RiskBands(risk, active);
  EXPECT_EQ(b[0], 1);
  EXPECT_EQ(b[1], 20);
  EXPECT_EQ(b[2], 100);
  EXPECT_EQ(b[8], 100);  // zero risk never gets a top band
  EXPECT_EQ(b[10], 0);   // outside the active area
  // Ties: two cells at the top share band 1.
  const auto tied = RiskBands({5, 5, 1, 1}, {0, 1, 2, 3});
  EXPECT_EQ(tied[0], 1);
  EXPECT_EQ(tied[1], 1);
}

}  // namespace
}  // namespace crimecast::models
