// Integration tests of the file importers on ../shared/data (skipped when it is absent).
// Expected figures come from each data folder's README.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/ingest/area_check.hpp"
#include "core/ingest/reader.hpp"
#include "support/paths.hpp"

namespace crimecast::ingest {
namespace {

namespace fs = std::filesystem;
using crimecast::testing::SharedDataDir;
using crimecast::testing::SourceDir;

std::vector<fs::path> CsvFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".csv") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct FileRead {
  std::vector<Event> events;
  std::vector<RowError> errors;
  std::int64_t rows = 0;
};

FileRead ReadAll(const fs::path& file, const ReaderOptions& options) {
  FileRead out;
  auto reader = OpenEventReader(file.string(), options);
  EXPECT_TRUE(reader) << file << ": " << reader.error().ToString();
  if (!reader) return out;
  while (true) {
    auto more = (*reader)->Next(out.events, out.errors, 8192);
    EXPECT_TRUE(more) << more.error().ToString();
    if (!more || !*more) break;
  }
  EXPECT_DOUBLE_EQ((*reader)->fraction_done(), 1.0);
  out.rows = (*reader)->rows_read();
  return out;
}

TEST(ReadersITest, GwentTwentyFourFilesMatchReadme) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-gwent-street");
  const auto files = CsvFiles(SharedDataDir() / "police-uk-gwent-street");
  ASSERT_EQ(files.size(), 24u);
  std::int64_t rows = 0;
  std::size_t events = 0;
  std::size_t unlocated = 0;
  std::size_t errors = 0;
  std::size_t asb_without_id = 0;
  std::map<std::string, std::size_t> by_category;
  std::set<std::string> asb_ids;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& file : files) {
    FileRead r = ReadAll(file, ReaderOptions{});
    rows += r.rows;
    events += r.events.size();
    errors += r.errors.size();
    for (const RowError& e : r.errors) ADD_FAILURE() << e.ToString();
    for (const Event& e : r.events) {
      by_category[std::string(DisplayName(e.category))]++;
      if (!e.Located()) {
        ++unlocated;
        EXPECT_TRUE(std::isnan(e.x) && std::isnan(e.lon));
      } else {
        ASSERT_EQ(e.epsg, 27700);
        ASSERT_EQ(e.quality, LocationQuality::kSnapped);
        // British National Grid metres of Gwent and its surroundings.
        ASSERT_GT(e.x, 0);
        ASSERT_LT(e.x, 700000);
      }
      EXPECT_EQ(e.source, "police-uk");
      EXPECT_EQ(e.when.end - e.when.start >= std::chrono::hours{24 * 28}, true);
      if (e.category == Category::kAntiSocialBehaviour &&
          e.source_id.find('#') != e.source_id.npos) {
        ++asb_without_id;
        asb_ids.insert(e.source_id);
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ gwent    ] 24 files, " << rows << " rows, " << unlocated << " unlocated, "
            << errors << " row errors, read+validate+project in " << seconds * 1000 << " ms\n";

  EXPECT_EQ(rows, 131216);
  EXPECT_EQ(events, 131216u);
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(unlocated, 1256u);
  const std::map<std::string, std::size_t> expected = {
      {"Violence and sexual offences", 51146},
      {"Anti-social behaviour", 23498},
      {"Public order", 17277},
      {"Shoplifting", 7766},
      {"Other theft", 7670},
      {"Criminal damage and arson", 6099},
      {"Vehicle crime", 5676},
      {"Burglary", 3435},
      {"Other crime", 3145},
      {"Drugs", 2922},
      {"Possession of weapons", 908},
      {"Robbery", 675},
      {"Bicycle theft", 549},
      {"Theft from the person", 450},
  };
  EXPECT_EQ(by_category, expected);
  // Every ASB row got a derived id, and no two ASB rows share one.
  EXPECT_EQ(asb_without_id, 23498u);
  EXPECT_EQ(asb_ids.size(), 23498u);
}

TEST(ReadersITest, GwentReimportGivesIdenticalIds) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-gwent-street");
  const fs::path file = SharedDataDir() / "police-uk-gwent-street" / "2023-10-gwent-street.csv";
  ReaderOptions small_chunks;
  small_chunks.chunk_bytes = 4093;  // a different chunking must not change anything
  const FileRead a = ReadAll(file, ReaderOptions{});
  const FileRead b = ReadAll(file, small_chunks);
  ASSERT_EQ(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    ASSERT_EQ(a.events[i].source_id, b.events[i].source_id) << i;
    ASSERT_EQ(a.events[i].Located(), b.events[i].Located()) << i;
    if (a.events[i].Located()) {
      ASSERT_EQ(a.events[i].x, b.events[i].x) << i;
    }
  }
}

TEST(ReadersITest, GwentOutOfAreaPointsAreFlagged) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-gwent-street");
  std::size_t flagged = 0;
  std::size_t located = 0;
  bool barnsley_flagged = false;
  std::map<std::string, int> flagged_areas;
  std::vector<Event> all;
  for (const auto& file : CsvFiles(SharedDataDir() / "police-uk-gwent-street")) {
    FileRead r = ReadAll(file, ReaderOptions{});
    const AreaCheckResult check = CheckArea(r.events);  // one batch per file, as on import
    flagged += check.flagged;
    located += check.located;
    EXPECT_GT(check.radius_m, 5000);
    EXPECT_LT(check.radius_m, 40000);
    for (const Event& e : r.events) {
      if (e.area_code == "E01007347") {  // Barnsley 008D
        barnsley_flagged = barnsley_flagged || e.out_of_area;
      }
      if (e.out_of_area) flagged_areas[e.area_code]++;
      all.push_back(e);
    }
  }
  std::cout << "[ gwent    ] out-of-area (per-file batches): " << flagged << " of " << located
            << " located events, in " << flagged_areas.size() << " LSOAs\n";
  EXPECT_TRUE(barnsley_flagged);
  EXPECT_GE(flagged, 10u);
  EXPECT_LT(flagged, located / 500);  // a handful, not a share of the force
  // No row of Gwent's five local authorities is flagged (LSOA names from the raw files; these
  // files have no quoted fields, so splitting on commas is exact).
  std::map<std::string, std::string> lsoa_names;
  for (const auto& file : CsvFiles(SharedDataDir() / "police-uk-gwent-street")) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
      if (f.size() > 8) lsoa_names[f[7]] = f[8];
    }
  }
  std::size_t flagged_in_gwent = 0;
  for (const auto& [code, n] : flagged_areas) {
    const std::string& name = lsoa_names[code];
    for (const char* la : {"Newport", "Caerphilly", "Torfaen", "Monmouthshire", "Blaenau Gwent"}) {
      if (name.rfind(la, 0) == 0) flagged_in_gwent += static_cast<std::size_t>(n);
    }
  }
  EXPECT_EQ(flagged_in_gwent, 0u);
  const AreaCheckResult whole = CheckArea(all);
  std::cout << "[ gwent    ] out-of-area (all 24 files as one batch): " << whole.flagged
            << ", centre (" << whole.centre_x << ", " << whole.centre_y << "), radius "
            << whole.radius_m / 1000 << " km, cutoff " << whole.cutoff_m / 1000 << " km\n";
  EXPECT_NEAR(whole.centre_x, 325000, 20000);  // Gwent, around Newport / Pontypool
  EXPECT_NEAR(whole.centre_y, 195000, 20000);
  for (const Event& e : all) {
    if (e.out_of_area) {
      EXPECT_GT(std::hypot(e.x - whole.centre_x, e.y - whole.centre_y), 50000) << e.area_code;
    }
  }
}

TEST(ReadersITest, NationalBtpFileFlagsNothing) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-national-2019-02");
  FileRead r = ReadAll(SharedDataDir() / "police-uk-national-2019-02" / "2019-02-btp-street.csv",
                       ReaderOptions{});
  EXPECT_TRUE(r.errors.empty());
  const AreaCheckResult check = CheckArea(r.events);
  std::cout << "[ btp      ] " << r.events.size() << " events, " << check.located
            << " located, radius " << check.radius_m / 1000 << " km, cutoff "
            << check.cutoff_m / 1000 << " km, flagged " << check.flagged << "\n";
  EXPECT_GT(check.located, 1000u);
  EXPECT_EQ(check.flagged, 0u);
  EXPECT_GT(check.radius_m, 150000);
}

TEST(ReadersITest, NationalMonthAllFortyOneForces) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-national-2019-02");
  const auto files = CsvFiles(SharedDataDir() / "police-uk-national-2019-02");
  ASSERT_EQ(files.size(), 41u);
  std::int64_t rows = 0;
  std::size_t unlocated = 0;
  std::size_t derived_ids = 0;
  std::size_t errors = 0;
  std::size_t flagged = 0;
  std::map<std::string, std::size_t> by_category;
  for (const auto& file : files) {
    FileRead r = ReadAll(file, ReaderOptions{});
    rows += r.rows;
    errors += r.errors.size();
    for (const RowError& e : r.errors) ADD_FAILURE() << e.ToString();
    const AreaCheckResult check = CheckArea(r.events);
    flagged += check.flagged;
    for (const Event& e : r.events) {
      by_category[std::string(DisplayName(e.category))]++;
      unlocated += e.Located() ? 0 : 1;
      derived_ids += e.source_id.find('#') != std::string::npos ? 1 : 0;
    }
  }
  std::cout << "[ national ] 41 files, " << rows << " rows, " << unlocated << " unlocated, "
            << flagged << " out-of-area (per-force batches)\n";
  EXPECT_EQ(rows, 343201);
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(unlocated, 8132u);
  EXPECT_EQ(derived_ids, 76359u);
  EXPECT_EQ(by_category["Violence and sexual offences"], 101750u);
  EXPECT_EQ(by_category["Anti-social behaviour"], 72029u);
  EXPECT_EQ(by_category["Possession of weapons"], 2328u);
}

TEST(ReadersITest, VancouverThroughShippedMapping) {
  CRIMECAST_REQUIRE_SHARED_DATA("vancouver-vpd-crime");
  ReaderOptions options;
  options.format = InputFormat::kMapped;
  options.mapping_path = (SourceDir() / "mappings" / "vancouver-vpd.toml").string();
  std::int64_t rows = 0;
  std::size_t withheld = 0;
  std::size_t errors = 0;
  std::size_t day_intervals = 0;
  std::map<std::string, std::size_t> by_type;
  std::map<Category, std::size_t> by_category;
  std::set<std::string> ids;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& file : CsvFiles(SharedDataDir() / "vancouver-vpd-crime")) {
    FileRead r = ReadAll(file, options);
    rows += r.rows;
    errors += r.errors.size();
    for (const RowError& e : r.errors) ADD_FAILURE() << e.ToString();
    for (const Event& e : r.events) {
      ids.insert(e.source_id);
      by_type[e.source_type]++;
      by_category[e.category]++;
      EXPECT_EQ(e.source, "vancouver-vpd");
      EXPECT_EQ(e.force, "Vancouver Police Department");
      if (e.when.Length() == std::chrono::hours{24} || e.when.Length() == std::chrono::hours{23} ||
          e.when.Length() == std::chrono::hours{25}) {
        ++day_intervals;
      } else {
        ASSERT_EQ(e.when.Length(), std::chrono::seconds{1});
      }
      if (!e.Located()) {
        ++withheld;
        continue;
      }
      ASSERT_EQ(e.quality, LocationQuality::kSnapped);
      ASSERT_EQ(e.epsg, 32610);  // UTM 10N on WGS84, chosen from the first point
      ASSERT_NEAR(e.lon, -123.1, 0.2);
      ASSERT_NEAR(e.lat, 49.25, 0.1);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ vancouver] 3 files, " << rows << " rows, " << withheld << " withheld, "
            << day_intervals << " with unknown time of day, " << errors << " row errors, "
            << seconds * 1000 << " ms\n";
  EXPECT_EQ(rows, 103918);
  EXPECT_EQ(withheld, 11452u);
  EXPECT_EQ(errors, 0u);
  // Exact duplicate rows keep distinct ids through their ordinal: nothing is lost.
  EXPECT_EQ(ids.size(), 103918u);
  EXPECT_EQ(by_type["Other Theft"], 27964u);
  EXPECT_EQ(by_type["Theft from Vehicle"], 25191u);
  EXPECT_EQ(by_type["Homicide"], 49u);
  EXPECT_EQ(by_category[Category::kVehicleCrime], 25191u + 2604u);
  EXPECT_EQ(by_category[Category::kBurglary], 6851u + 4838u);
  EXPECT_EQ(by_category[Category::kViolenceSexualOffences], 11399u + 49u);
  EXPECT_EQ(by_category[Category::kOtherCrime], 2888u + 46u);
  EXPECT_EQ(by_category[Category::kCriminalDamageArson], 17123u);
  EXPECT_EQ(by_category[Category::kBicycleTheft], 4965u);
  EXPECT_EQ(by_category[Category::kOtherTheft], 27964u);
}

TEST(ReadersITest, VancouverReimportGivesIdenticalIds) {
  CRIMECAST_REQUIRE_SHARED_DATA("vancouver-vpd-crime");
  ReaderOptions options;
  options.format = InputFormat::kMapped;
  options.mapping_path = (SourceDir() / "mappings" / "vancouver-vpd.toml").string();
  const fs::path file =
      SharedDataDir() / "vancouver-vpd-crime" / "crimedata_csv_AllNeighbourhoods_2021.csv";
  const FileRead a = ReadAll(file, options);
  options.chunk_bytes = 1000;
  const FileRead b = ReadAll(file, options);
  ASSERT_EQ(a.events.size(), b.events.size());
  std::size_t ordinal_above_one = 0;
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    ASSERT_EQ(a.events[i].source_id, b.events[i].source_id);
    if (a.events[i].source_id.substr(a.events[i].source_id.find('#')) != "#1") ++ordinal_above_one;
  }
  EXPECT_GT(ordinal_above_one, 100u);  // the README's exact duplicates exist in every year
}

}  // namespace
}  // namespace crimecast::ingest
