// Canonical CSV reader (`--format csv`).
#include <gtest/gtest.h>

#include <cmath>

#include "core/ingest/reader.hpp"
#include "core/spatial/projection.hpp"
#include "ingest_fixtures.hpp"

namespace crimecast::ingest {
namespace {

using testing::ReadResult;
using testing::ReadText;

ReaderOptions Canonical() {
  ReaderOptions o;
  o.format = InputFormat::kCanonicalCsv;
  return o;
}

TEST(CanonicalReader, LonLatWithAllTimeForms) {
  ReaderOptions options = Canonical();
  options.timezone = "Europe/London";
  const ReadResult r = ReadText(
      "id,category,time,lon,lat\n"
      "1,burglary,2024-03,-3.0,51.6\n"
      "2,Violence and sexual offences,2024-07-05,-3.0,51.6\n"
      "3,violent-crime,2024-07-05T14:30:00,-3.0,51.6\n"
      "4,robbery,2024-07-05T14:30:00Z,-3.0,51.6\n"
      "5,drugs,2024-07-05 14:30+02:00,,\n",
      options);
  ASSERT_TRUE(r.opened) << r.open_error.ToString();
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].ToString();
  ASSERT_EQ(r.events.size(), 5u);
  EXPECT_EQ(r.format, "csv");
  // Month-only: the whole local month. March 2024 starts in GMT and ends in BST.
  EXPECT_EQ(FormatIso(r.events[0].when.start), "2024-03-01T00:00:00Z");
  EXPECT_EQ(FormatIso(r.events[0].when.end), "2024-03-31T23:00:00Z");
  // Date only: the whole local day (BST, UTC+1).
  EXPECT_EQ(FormatIso(r.events[1].when.start), "2024-07-04T23:00:00Z");
  EXPECT_EQ(r.events[1].when.Length(), std::chrono::hours{24});
  // Local time without offset: BST.
  EXPECT_EQ(FormatIso(r.events[2].when.start), "2024-07-05T13:30:00Z");
  EXPECT_EQ(r.events[2].when.Length(), std::chrono::seconds{1});
  EXPECT_EQ(r.events[2].category, Category::kViolenceSexualOffences);
  EXPECT_EQ(FormatIso(r.events[3].when.start), "2024-07-05T14:30:00Z");
  EXPECT_EQ(FormatIso(r.events[4].when.start), "2024-07-05T12:30:00Z");
  EXPECT_EQ(r.events[0].quality, LocationQuality::kExact);
  EXPECT_EQ(r.events[0].epsg, 27700);
  EXPECT_EQ(r.events[4].quality, LocationQuality::kWithheld);
  EXPECT_EQ(r.events[0].source, "csv");
  EXPECT_EQ(r.events[0].source_type, "burglary");
}

TEST(CanonicalReader, XyNeedsCrsAndIsConverted) {
  const std::string text =
      "id,category,time,x,y\n"
      "a,robbery,2024-01,330000,190000\n"
      "b,robbery,2024-01,,\n";
  const ReadResult no_crs = ReadText(text, Canonical());
  ASSERT_FALSE(no_crs.opened);
  EXPECT_EQ(no_crs.open_error.code, ErrorCode::kBadCrs);

  ReaderOptions options = Canonical();
  options.input_epsg = 27700;
  const ReadResult r = ReadText(text, options);
  ASSERT_TRUE(r.opened) << r.open_error.ToString();
  ASSERT_EQ(r.events.size(), 2u);
  const Event& e = r.events[0];
  EXPECT_EQ(e.epsg, 27700);
  EXPECT_DOUBLE_EQ(e.x, 330000);  // input CRS is the store CRS: copied, not round-tripped
  EXPECT_DOUBLE_EQ(e.y, 190000);
  auto bng = spatial::Projection::Create(4326, 27700);
  ASSERT_TRUE(bng);
  auto back = bng->Inverse(330000, 190000);
  ASSERT_TRUE(back);
  EXPECT_NEAR(e.lon, back->x, 1e-9);
  EXPECT_NEAR(e.lat, back->y, 1e-9);
  EXPECT_FALSE(r.events[1].Located());
}

TEST(CanonicalReader, LonLatWithProjectedCrsIsRejected) {
  ReaderOptions options = Canonical();
  options.input_epsg = 27700;
  const ReadResult r = ReadText("id,category,time,lon,lat\n1,robbery,2024-01,-3,51\n", options);
  ASSERT_FALSE(r.opened);
  EXPECT_EQ(r.open_error.code, ErrorCode::kBadCrs);
}

TEST(CanonicalReader, BadRowsAreReportedAndGoodRowsKept) {
  const ReadResult r = ReadText(
      "id,category,time,lon,lat\n"
      "1,burglary,2024-01,-3.0,51.6\n"
      "2,burglary,2024-13,-3.0,51.6\n"
      "3,arson-ish,2024-01,-3.0,51.6\n"
      "4,burglary,2024-01-05T25:00,-3.0,51.6\n"
      "5,burglary,2024-01,-3.0,95\n"
      "6,burglary,2024-01,-3.0,51.6\n",
      Canonical());
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].source_id, "1");
  EXPECT_EQ(r.events[1].source_id, "6");
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[0].field, "time");
  EXPECT_EQ(r.errors[0].code, ErrorCode::kBadTime);
  EXPECT_EQ(r.errors[1].line, 4);
  EXPECT_EQ(r.errors[1].field, "category");
  EXPECT_EQ(r.errors[1].code, ErrorCode::kUnknownCategory);
  EXPECT_EQ(r.errors[2].line, 5);
  EXPECT_EQ(r.errors[2].code, ErrorCode::kBadTime);
  EXPECT_EQ(r.errors[3].line, 6);
  EXPECT_EQ(r.errors[3].field, "lat");
  EXPECT_EQ(r.errors[3].code, ErrorCode::kBadCoordinate);
}

TEST(CanonicalReader, EmptyIdGetsStableDerivedId) {
  const std::string text =
      "id,category,time,lon,lat\n"
      ",burglary,2024-01,-3.0,51.6\n"
      ",burglary,2024-01,-3.0,51.6\n";
  const ReadResult a = ReadText(text, Canonical());
  const ReadResult b = ReadText(text, Canonical());
  ASSERT_EQ(a.events.size(), 2u);
  EXPECT_NE(a.events[0].source_id, a.events[1].source_id);
  EXPECT_EQ(a.events[0].source_id.substr(64), "#1");
  EXPECT_EQ(a.events[1].source_id.substr(64), "#2");
  EXPECT_EQ(a.events[0].source_id, b.events[0].source_id);
  EXPECT_EQ(a.events[1].source_id, b.events[1].source_id);
}

TEST(CanonicalReader, OptionalColumnsAndQuality) {
  const ReadResult r = ReadText(
      "time,lat,lon,category,id,location,area_code,outcome,force,quality,source_type,extra\n"
      "2024-01,51.6,-3.0,shoplifting,s1,Tesco,W01,Charged,Gwent Police,snapped,Shop theft,z\n"
      "2024-01,,,shoplifting,s2,,,,,withheld,,z\n"
      "2024-01,51.6,-3.0,shoplifting,s3,,,,,withheld,,z\n",
      Canonical());
  ASSERT_EQ(r.events.size(), 2u);
  const Event& e = r.events[0];
  EXPECT_EQ(e.quality, LocationQuality::kSnapped);
  EXPECT_EQ(e.location_text, "Tesco");
  EXPECT_EQ(e.area_code, "W01");
  EXPECT_EQ(e.outcome, "Charged");
  EXPECT_EQ(e.force, "Gwent Police");
  EXPECT_EQ(e.source_type, "Shop theft");
  EXPECT_EQ(e.category, Category::kShoplifting);
  EXPECT_EQ(r.events[1].quality, LocationQuality::kWithheld);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_EQ(r.errors[0].field, "quality");
}

TEST(CanonicalReader, MissingColumnsAndBadTimezone) {
  const ReadResult r = ReadText("id,time,lon\n1,2024-01,3\n", Canonical());
  ASSERT_FALSE(r.opened);
  EXPECT_EQ(r.open_error.code, ErrorCode::kMissingColumn);
  EXPECT_NE(r.open_error.message.find("'category'"), std::string::npos);
  ReaderOptions options = Canonical();
  options.timezone = "Mars/Olympus_Mons";
  const ReadResult tz = ReadText("id,category,time,lon,lat\n", options);
  ASSERT_FALSE(tz.opened);
  EXPECT_NE(tz.open_error.message.find("time zone"), std::string::npos) << tz.open_error.message;
}

TEST(CanonicalReader, NonUkPointsGetUtmZone) {
  const ReadResult r =
      ReadText("id,category,time,lon,lat\n1,robbery,2024-01,-123.1,49.28\n", Canonical());
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].epsg, 32610);
  EXPECT_NEAR(r.events[0].x, 492700, 2000);
}

}  // namespace
}  // namespace crimecast::ingest
