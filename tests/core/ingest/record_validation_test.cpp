#include "core/ingest/record_validation.hpp"

#include <gtest/gtest.h>

namespace crimecast::ingest {
namespace {

RecordFields Good() {
  RecordFields f;
  f.id = "A-1";
  f.category = "burglary";
  f.time = "2024-03-05T14:30:00Z";
  f.lon = -3.0;
  f.lat = 51.6;
  return f;
}

RecordContext Ctx() {
  RecordContext c;
  c.source = "api";
  return c;
}

TEST(RecordValidation, AcceptsAValidRecordAndProjectsIt) {
  auto r = ValidateRecord(Good(), Ctx());
  ASSERT_TRUE(r.ok()) << r.error.reason;
  const Event& e = *r.event;
  EXPECT_EQ(e.source, "api");
  EXPECT_EQ(e.source_id, "A-1");
  EXPECT_EQ(e.category, Category::kBurglary);
  EXPECT_EQ(e.epsg, 27700);  // Great Britain
  EXPECT_NEAR(e.x, 3.3e5, 2e4);
  EXPECT_NEAR(e.y, 1.9e5, 2e4);
  EXPECT_EQ(e.quality, LocationQuality::kExact);
  EXPECT_EQ(FormatIso(e.when.start), "2024-03-05T14:30:00Z");
  EXPECT_EQ(e.when.Length(), Seconds{1});
}

TEST(RecordValidation, OccurrenceIntervalsAreHonest) {
  auto tz = TimeZone::Get("Europe/London");
  ASSERT_TRUE(tz);
  auto month = ParseOccurrence("2024-07", tz->get());
  ASSERT_TRUE(month);
  EXPECT_EQ(FormatIso(month->start), "2024-06-30T23:00:00Z");  // BST midnight
  EXPECT_EQ(FormatIso(month->end), "2024-07-31T23:00:00Z");
  auto day = ParseOccurrence("2024-03-31", tz->get());  // clocks go forward: a 23-hour day
  ASSERT_TRUE(day);
  EXPECT_EQ(day->Length(), Seconds{23 * 3600});
  auto utc_month = ParseOccurrence("2024-12", nullptr);
  EXPECT_EQ(FormatIso(utc_month->end), "2025-01-01T00:00:00Z");
  auto local = ParseOccurrence("2024-07-01 10:00", tz->get());
  EXPECT_EQ(FormatIso(local->start), "2024-07-01T09:00:00Z");
  EXPECT_FALSE(ParseOccurrence("2024-13", nullptr));
  EXPECT_FALSE(ParseOccurrence("2024-02-30", nullptr));
  EXPECT_FALSE(ParseOccurrence("yesterday", nullptr));
}

TEST(RecordValidation, RejectsEachBadFieldWithItsName) {
  struct Case {
    std::function<void(RecordFields&)> edit;
    std::string field;
    ErrorCode code;
  };
  const std::string long_id(201, 'x');
  const std::string nul("a\0b", 3);
  const std::string bad_utf8 = "caf\xC3";
  const std::vector<Case> cases = {
      {[](RecordFields& f) { f.id = ""; }, "id", ErrorCode::kBadField},
      {[&](RecordFields& f) { f.id = long_id; }, "id", ErrorCode::kBadField},
      {[](RecordFields& f) { f.category = "jaywalking"; }, "category", ErrorCode::kUnknownCategory},
      {[](RecordFields& f) { f.time = ""; }, "time", ErrorCode::kBadTime},
      {[](RecordFields& f) { f.time = "2024-13"; }, "time", ErrorCode::kBadTime},
      {[](RecordFields& f) { f.lat = 95.0; }, "lat", ErrorCode::kBadCoordinate},
      {[](RecordFields& f) { f.lon = 181.0; }, "lon", ErrorCode::kBadCoordinate},
      {[](RecordFields& f) { f.lat.reset(); }, "lat", ErrorCode::kBadCoordinate},
      {[](RecordFields& f) { f.lon = std::nan(""); }, "lon", ErrorCode::kBadCoordinate},
      {[](RecordFields& f) { f.x = 1.0; }, "lon", ErrorCode::kBadCoordinate},
      {[](RecordFields& f) { f.quality = "approximate"; }, "quality", ErrorCode::kBadField},
      {[](RecordFields& f) { f.quality = "withheld"; }, "quality", ErrorCode::kBadField},
      {[&](RecordFields& f) { f.outcome = nul; }, "outcome", ErrorCode::kBadEncoding},
      {[&](RecordFields& f) { f.location = bad_utf8; }, "location", ErrorCode::kBadEncoding},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    RecordFields f = Good();
    cases[i].edit(f);
    auto r = ValidateRecord(f, Ctx());
    ASSERT_FALSE(r.ok()) << "case " << i;
    EXPECT_EQ(r.error.field, cases[i].field) << "case " << i << ": " << r.error.reason;
    EXPECT_EQ(r.error.code, cases[i].code) << "case " << i << ": " << r.error.reason;
    EXPECT_FALSE(r.error.reason.empty());
  }
}

TEST(RecordValidation, WithheldAndProjectedInputs) {
  RecordFields f = Good();
  f.lon.reset();
  f.lat.reset();
  auto r = ValidateRecord(f, Ctx());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.event->Located());
  f.quality = "withheld";
  EXPECT_TRUE(ValidateRecord(f, Ctx()).ok());

  RecordFields xy = Good();
  xy.lon.reset();
  xy.lat.reset();
  xy.x = 331000;
  xy.y = 191000;
  EXPECT_EQ(ValidateRecord(xy, Ctx()).error.code, ErrorCode::kBadCrs);  // no CRS
  xy.input_epsg = 27700;
  auto p = ValidateRecord(xy, Ctx());
  ASSERT_TRUE(p.ok()) << p.error.reason;
  EXPECT_NEAR(p.event->x, 331000, 0.01);
  EXPECT_NEAR(p.event->y, 191000, 0.01);
  EXPECT_NEAR(p.event->lon, -3.0, 0.1);

  // Vancouver: UTM zone 10N unless the server fixes the store CRS.
  RecordFields v = Good();
  v.lon = -123.1;
  v.lat = 49.28;
  EXPECT_EQ(ValidateRecord(v, Ctx()).event->epsg, 32610);
  RecordContext fixed = Ctx();
  fixed.store_epsg = 3857;
  EXPECT_EQ(ValidateRecord(v, fixed).event->epsg, 3857);
}

TEST(RecordValidation, StorableTextProblems) {
  EXPECT_EQ(StorableTextProblem("plain"), "");
  EXPECT_EQ(StorableTextProblem("caf\xC3\xA9"), "");
  EXPECT_EQ(StorableTextProblem("\xF0\x9F\x9A\x93"), "");  // police car emoji
  EXPECT_NE(StorableTextProblem("\xC0\xAF"), "");          // overlong '/'
  EXPECT_NE(StorableTextProblem("\xED\xA0\x80"), "");      // surrogate
  EXPECT_NE(StorableTextProblem("\xE2\x82"), "");          // truncated
  EXPECT_NE(StorableTextProblem(std::string("a\0", 2)), "");
}

}  // namespace
}  // namespace crimecast::ingest
