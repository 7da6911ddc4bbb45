// Mapped CSV reader, mapping files, time patterns and withheld rules.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ingest/mapping.hpp"
#include "core/ingest/reader.hpp"
#include "core/ingest/time_pattern.hpp"
#include "ingest_fixtures.hpp"

namespace crimecast::ingest {
namespace {

using testing::ReadResult;
using testing::ReadText;
using testing::TestDir;
using testing::WriteFile;

ReaderOptions Vancouver() {
  ReaderOptions o;
  o.format = InputFormat::kMapped;
  o.mapping_path = (crimecast::testing::SourceDir() / "mappings" / "vancouver-vpd.toml").string();
  return o;
}

ReaderOptions MappedWith(const std::string& toml) {
  ReaderOptions o;
  o.format = InputFormat::kMapped;
  o.mapping_path = WriteFile(TestDir() / "mapping.toml", toml).string();
  return o;
}

constexpr char kVancouverHeader[] =
    "TYPE,YEAR,MONTH,DAY,HOUR,MINUTE,HUNDRED_BLOCK,NEIGHBOURHOOD,X,Y\r\n";

TEST(MappedReader, VancouverRowsThroughShippedMapping) {
  const ReadResult r = ReadText(
      std::string(kVancouverHeader) +
          "Theft from Vehicle,2020,1,15,12,9,7XX DUNSMUIR ST,Central Business District,"
          "491511.6366,5459023.6766\r\n"
          "Theft from Vehicle,2020,1,15,12,9,7XX DUNSMUIR ST,Central Business District,"
          "491511.6366,5459023.6766\r\n"
          "Offence Against a Person,2020,7,4,0,0,OFFSET TO PROTECT PRIVACY,Kitsilano,0,0\r\n"
          "Mischief,2020,7,4,0,0,10XX ROBSON ST,West End,491000,5459000\r\n"
          "Jaywalking,2020,7,4,1,0,10XX ROBSON ST,West End,491000,5459000\r\n"
          "Mischief,2021,2,30,1,0,10XX ROBSON ST,West End,491000,5459000\r\n"
          "Break and Enter Commercial,2020,7,4,23,59,10XX ROBSON ST,West End,491000,5459000\r\n",
      Vancouver());
  ASSERT_TRUE(r.opened) << r.open_error.ToString();
  EXPECT_EQ(r.format, "mapped:vancouver-vpd");
  ASSERT_EQ(r.events.size(), 5u);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].line, 6);
  EXPECT_EQ(r.errors[0].field, "TYPE");
  EXPECT_EQ(r.errors[0].code, ErrorCode::kUnknownCategory);
  EXPECT_EQ(r.errors[1].line, 7);
  EXPECT_EQ(r.errors[1].code, ErrorCode::kBadTime);  // 30 February

  const Event& e = r.events[0];
  EXPECT_EQ(e.source, "vancouver-vpd");
  EXPECT_EQ(e.category, Category::kVehicleCrime);
  EXPECT_EQ(e.source_type, "Theft from Vehicle");
  // 12:09 PST (UTC-8) on 15 January.
  EXPECT_EQ(FormatIso(e.when.start), "2020-01-15T20:09:00Z");
  EXPECT_EQ(e.when.Length(), std::chrono::seconds{1});
  EXPECT_EQ(e.quality, LocationQuality::kSnapped);
  EXPECT_EQ(e.epsg, 32610);
  EXPECT_NEAR(e.lon, -123.117, 0.01);
  EXPECT_NEAR(e.lat, 49.283, 0.01);
  EXPECT_EQ(e.location_text, "7XX DUNSMUIR ST");
  EXPECT_EQ(e.area_code, "Central Business District");
  EXPECT_EQ(e.force, "Vancouver Police Department");
  // Exact duplicates: same hash, ordinals 1 and 2.
  EXPECT_EQ(r.events[0].source_id.substr(0, 64), r.events[1].source_id.substr(0, 64));
  EXPECT_EQ(r.events[0].source_id.substr(64), "#1");
  EXPECT_EQ(r.events[1].source_id.substr(64), "#2");
  // Privacy row: X=Y=0 is withheld; 00:00 means "time unknown": the whole local day (PDT).
  const Event& w = r.events[2];
  EXPECT_EQ(w.quality, LocationQuality::kWithheld);
  EXPECT_TRUE(std::isnan(w.x));
  EXPECT_EQ(w.category, Category::kViolenceSexualOffences);
  EXPECT_EQ(FormatIso(w.when.start), "2020-07-04T07:00:00Z");
  EXPECT_EQ(FormatIso(w.when.end), "2020-07-05T07:00:00Z");
  EXPECT_EQ(r.events[3].category, Category::kCriminalDamageArson);
  EXPECT_EQ(r.events[4].category, Category::kBurglary);
  EXPECT_EQ(FormatIso(r.events[4].when.start), "2020-07-05T06:59:00Z");
}

TEST(MappedReader, PatternTimeLonLatIdColumnDefaultCategory) {
  const ReaderOptions options = MappedWith(R"(
source = "testville"
[id]
column = "Ref"
[category]
column = "Offence"
default = "other-crime"
[category.map]
"BURGLARY - DWELLING" = "burglary"
[time]
column = "Reported"
format = "%d/%m/%Y %H:%M"
timezone = "Europe/London"
[location]
lon = "Lng"
lat = "Lat"
withheld_if_zero = true
[columns]
outcome = "Result"
force = "Agency"
)");
  const ReadResult r = ReadText(
      "Ref;Offence;Reported;Lng;Lat;Result;Agency\n"
      "R1;burglary - dwelling ;05/07/2024 14:30;-0.1;51.5;NFA;Met\n"
      "R2;Fraud;05/12/2024 09:05;0;0;;Met\n"
      "R3;Fraud;32/12/2024 09:05;0;0;;Met\n"
      ";Fraud;05/12/2024 09:05;-0.1;51.5;;Met\n",
      options);
  // The delimiter is ',' by default: ';' files need `delimiter`, so this one fails to find
  // its columns with a clear error.
  ASSERT_FALSE(r.opened);
  EXPECT_EQ(r.open_error.code, ErrorCode::kMissingColumn);

  ReaderOptions semi = MappedWith(R"(
source = "testville"
delimiter = ";"
[id]
column = "Ref"
[category]
column = "Offence"
default = "other-crime"
[category.map]
"BURGLARY - DWELLING" = "burglary"
[time]
column = "Reported"
format = "%d/%m/%Y %H:%M"
timezone = "Europe/London"
[location]
lon = "Lng"
lat = "Lat"
withheld_if_zero = true
[columns]
outcome = "Result"
force = "Agency"
)");
  const ReadResult ok = ReadText(
      "Ref;Offence;Reported;Lng;Lat;Result;Agency\n"
      "R1;burglary - dwelling ;05/07/2024 14:30;-0.1;51.5;NFA;Met\n"
      "R2;Fraud;05/12/2024 09:05;0;0;;Met\n"
      "R3;Fraud;32/12/2024 09:05;0;0;;Met\n"
      ";Fraud;05/12/2024 09:05;-0.1;51.5;;Met\n",
      semi);
  ASSERT_TRUE(ok.opened) << ok.open_error.ToString();
  ASSERT_EQ(ok.events.size(), 3u);
  ASSERT_EQ(ok.errors.size(), 1u);
  EXPECT_EQ(ok.errors[0].line, 4);
  EXPECT_EQ(ok.errors[0].field, "Reported");
  EXPECT_EQ(ok.events[0].source_id, "R1");
  EXPECT_EQ(ok.events[0].category, Category::kBurglary);  // case/space-insensitive fallback
  EXPECT_EQ(FormatIso(ok.events[0].when.start), "2024-07-05T13:30:00Z");  // BST
  EXPECT_EQ(ok.events[0].outcome, "NFA");
  EXPECT_EQ(ok.events[0].force, "Met");
  EXPECT_EQ(ok.events[0].quality, LocationQuality::kExact);
  EXPECT_EQ(ok.events[1].category, Category::kOtherCrime);                // default
  EXPECT_EQ(FormatIso(ok.events[1].when.start), "2024-12-05T09:05:00Z");  // GMT
  EXPECT_EQ(ok.events[1].quality, LocationQuality::kWithheld);            // 0,0
  EXPECT_EQ(ok.events[2].source_id.substr(64), "#1");  // empty id column: derived
}

TEST(MappedReader, WithheldWhenExpression) {
  const ReaderOptions options = MappedWith(R"(
source = "t"
[category]
column = "type"
default = "other-crime"
[time]
year = "y"
month = "m"
[location]
x = "e"
y = "n"
epsg = 27700
withheld_when = "block == 'OFFSET TO PROTECT PRIVACY' or x < 1000 and y < 1000"
)");
  const ReadResult r = ReadText(
      "type,y,m,e,n,block\n"
      "a,2024,1,330000,190000,OFFSET TO PROTECT PRIVACY\n"
      "a,2024,1,500,500,1XX MAIN\n"
      "a,2024,1,500,190000,1XX MAIN\n"
      "a,2024,2,330000,190000,1XX MAIN\n",
      options);
  ASSERT_TRUE(r.opened) << r.open_error.ToString();
  ASSERT_EQ(r.events.size(), 4u);
  EXPECT_FALSE(r.events[0].Located());
  EXPECT_FALSE(r.events[1].Located());
  EXPECT_TRUE(r.events[2].Located());
  EXPECT_TRUE(r.events[3].Located());
  // Year + month parts only: the whole month.
  EXPECT_EQ(FormatIso(r.events[3].when.start), "2024-02-01T00:00:00Z");
  EXPECT_EQ(FormatIso(r.events[3].when.end), "2024-03-01T00:00:00Z");
  EXPECT_EQ(r.events[3].epsg, 27700);
  EXPECT_DOUBLE_EQ(r.events[3].x, 330000);
}

TEST(MappedReader, MappingErrorsNameFileTableAndKey) {
  struct Case {
    const char* toml;
    const char* needle;
  };
  const Case cases[] = {
      {"source = \"t\"\n[category]\ncolum = \"a\"\n", "unknown key 'colum'"},
      {"source = \"t\"\n[category]\ncolumn = \"a\"\n[category.map]\nX = \"Fraud\"\n",
       "not a canonical category"},
      {"source = \"t\"\n[category]\ncolumn = \"a\"\ndefault = \"burglary\"\n[time]\n"
       "column = \"d\"\nformat = \"%d/%m/%Q\"\n",
       "unsupported conversion '%Q'"},
      {"source = \"t\"\n[category]\ncolumn = \"a\"\ndefault = \"burglary\"\n[time]\n"
       "column = \"d\"\n[location]\nx = \"e\"\ny = \"n\"\n",
       "need 'epsg'"},
      {"source = \"t\"\n[category]\ncolumn = \"a\"\ndefault = \"burglary\"\n[time]\n"
       "column = \"d\"\n[location]\nlon = \"e\"\nlat = \"n\"\nwithheld_when = \"x ==\"\n",
       "withheld_when"},
      {"source = \"t\"\n[category]\ncolumn = \"a\"\ndefault = \"burglary\"\n[time]\n"
       "column = \"d\"\ntimezone = \"Nowhere/Land\"\n",
       "timezone"},
      {"source = \n", "not valid TOML"},
      {"[category]\ncolumn = \"a\"\n", "'source' is required"},
  };
  for (const Case& c : cases) {
    auto m = ParseMapping(c.toml, "m.toml");
    ASSERT_FALSE(m) << c.toml;
    EXPECT_EQ(m.error().code, ErrorCode::kBadMapping) << c.toml;
    EXPECT_NE(m.error().message.find(c.needle), std::string::npos) << m.error().message;
    EXPECT_EQ(m.error().message.substr(0, 6), "m.toml") << m.error().message;
  }
  auto missing = LoadMapping("/nonexistent/mapping.toml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kFileNotFound);
  ReaderOptions no_mapping;
  no_mapping.format = InputFormat::kMapped;
  auto reader = OpenEventReaderFromMemory("a,b\n", "x.csv", no_mapping);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::kBadMapping);
}

TEST(MappedReader, ColumnMissingFromFile) {
  const ReadResult r = ReadText("TYPE,YEAR,MONTH,DAY,HOUR,MINUTE,X,Y\n", Vancouver());
  ASSERT_FALSE(r.opened);
  EXPECT_EQ(r.open_error.code, ErrorCode::kMissingColumn);
  EXPECT_NE(r.open_error.message.find("HUNDRED_BLOCK"), std::string::npos);
}

TEST(TimePattern, ParsesCommonFeedFormats) {
  auto utc = TimeZone::Utc();
  struct Case {
    const char* pattern;
    const char* text;
    const char* start;
    std::int64_t length_s;
  };
  const Case cases[] = {
      {"%d/%m/%Y %H:%M", "5/7/2024 14:30", "2024-07-05T14:30:00Z", 1},
      {"%m/%d/%Y %I:%M:%S %p", "07/05/2024 02:30:15 PM", "2024-07-05T14:30:15Z", 1},
      {"%m/%d/%Y %I:%M %p", "07/05/2024 12:05 am", "2024-07-05T00:05:00Z", 1},
      {"%Y%m%d", "20240705", "2024-07-05T00:00:00Z", 86400},
      {"%d %b %Y", "5 Sept 2024", "2024-09-05T00:00:00Z", 86400},
      {"%B %Y", "February 2024", "2024-02-01T00:00:00Z", 29 * 86400},
      {"%FT%T%z", "2024-07-05T14:30:00+02:00", "2024-07-05T12:30:00Z", 1},
      {"%FT%T.%f%z", "2024-07-05T14:30:00.123Z", "2024-07-05T14:30:00Z", 1},
      {"%D %R", "07/05/24 14:30", "2024-07-05T14:30:00Z", 1},
  };
  for (const Case& c : cases) {
    auto p = TimePattern::Compile(c.pattern);
    ASSERT_TRUE(p) << c.pattern << ": " << p.error().message;
    auto t = p->Parse(c.text, *utc);
    ASSERT_TRUE(t) << c.pattern << " / " << c.text << ": " << t.error().message;
    EXPECT_EQ(FormatIso(t->start), c.start) << c.pattern;
    EXPECT_EQ(t->Length().count(), c.length_s) << c.pattern;
  }
  auto p = TimePattern::Compile("%d/%m/%Y");
  ASSERT_TRUE(p);
  for (const char* bad : {"31/02/2024", "5/7/24x", "", "05-07-2024", "5/13/2024"}) {
    auto t = p->Parse(bad, *utc);
    ASSERT_FALSE(t) << bad;
    EXPECT_EQ(t.error().code, ErrorCode::kBadTime);
  }
  for (const char* bad : {"%H:%M", "%Y-%m %H", "%Y %m %d %I", "%Y%"}) {
    auto c = TimePattern::Compile(bad);
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().code, ErrorCode::kBadMapping);
  }
}

TEST(TimePattern, LocalTimesAcrossDaylightSaving) {
  auto london = TimeZone::Get("Europe/London");
  ASSERT_TRUE(london);
  // Clocks went forward at 01:00 GMT on 31 March 2024: that day is 23 hours long.
  auto day = ParseIsoInterval("2024-03-31", **london);
  ASSERT_TRUE(day);
  EXPECT_EQ(day->Length(), std::chrono::hours{23});
  auto month = ParseIsoInterval("2024-07", **london);
  ASSERT_TRUE(month);
  EXPECT_EQ(FormatIso(month->start), "2024-06-30T23:00:00Z");
}

TEST(WithheldRule, SyntaxErrors) {
  for (const char* bad : {"", "x", "x ==", "x == 0 and", "x = 0", "x == 'a", "x < 'a'", "== 0",
                          "x == 0 y == 0", "x is", "x is full"}) {
    auto r = WithheldRule::Parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kBadMapping);
  }
}

TEST(WithheldRule, EvaluatesAndBeforeOr) {
  auto r = WithheldRule::Parse("a == 0 and b == 0 or `c d` is empty");
  ASSERT_TRUE(r);
  const std::vector<std::string> cols = {"a", "b", "c d"};
  auto find = [&](std::string_view n) {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (cols[i] == n) return static_cast<int>(i);
    }
    return -1;
  };
  ASSERT_TRUE(r->Bind(find, [](std::string_view) { return std::string(); }));
  using F = std::vector<std::string_view>;
  EXPECT_TRUE(r->Matches(F{"0", "0.0", "x"}));
  EXPECT_FALSE(r->Matches(F{"0", "1", "x"}));
  EXPECT_TRUE(r->Matches(F{"0", "1", " "}));
  EXPECT_FALSE(r->Matches(F{"zero", "0", "x"}));  // not a number: never equal to one
  auto unbound = WithheldRule::Parse("nope == 1");
  ASSERT_TRUE(unbound);
  auto bound = unbound->Bind(find, [](std::string_view) { return std::string(); });
  ASSERT_FALSE(bound);
  EXPECT_EQ(bound.error().code, ErrorCode::kMissingColumn);
}

}  // namespace
}  // namespace crimecast::ingest
