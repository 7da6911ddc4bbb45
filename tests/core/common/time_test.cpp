#include "core/common/time.hpp"

#include <gtest/gtest.h>

namespace crimecast {
namespace {

TEST(Time, MonthIsWholeIntervalNotFirstDay) {
  auto m = ParseMonth("2024-02");
  ASSERT_TRUE(m);
  EXPECT_EQ(FormatIso(m->start), "2024-02-01T00:00:00Z");
  EXPECT_EQ(FormatIso(m->end), "2024-03-01T00:00:00Z");
  EXPECT_EQ(m->Length(), std::chrono::hours{24 * 29});  // leap year
}

TEST(Time, MonthRejectsBadValues) {
  for (const char* bad : {"2024-13", "2024-00", "24-01", "2024/01", "", "2024-1a", "1800-01"}) {
    auto m = ParseMonth(bad);
    ASSERT_FALSE(m) << bad;
    EXPECT_EQ(m.error().code, ErrorCode::kBadTime);
  }
}

TEST(Time, IsoWithOffsetsAndZones) {
  EXPECT_EQ(FormatIso(*ParseDateTime("2024-03-05T14:30:00Z")), "2024-03-05T14:30:00Z");
  EXPECT_EQ(FormatIso(*ParseDateTime("2024-03-05T14:30+01:00")), "2024-03-05T13:30:00Z");
  EXPECT_EQ(FormatIso(*ParseDateTime("2024-03-05 14:30:15.250")), "2024-03-05T14:30:15Z");
  auto van = TimeZone::Get("America/Vancouver");
  ASSERT_TRUE(van) << van.error().message;
  // PST (UTC-8) in winter, PDT (UTC-7) in summer.
  EXPECT_EQ(FormatIso(*ParseDateTime("2022-01-10T12:00", van->get())), "2022-01-10T20:00:00Z");
  EXPECT_EQ(FormatIso(*ParseDateTime("2022-07-10T12:00", van->get())), "2022-07-10T19:00:00Z");
  // Clocks went back at 02:00 PDT on 2022-11-06: 01:30 happens twice; the first is taken.
  EXPECT_EQ(FormatIso(*ParseDateTime("2022-11-06T01:30", van->get())), "2022-11-06T08:30:00Z");
  // Clocks went forward on 2022-03-13: 02:30 does not exist; it is read as 03:30 PDT.
  EXPECT_EQ(FormatIso(*ParseDateTime("2022-03-13T02:30", van->get())), "2022-03-13T10:30:00Z");
  auto london = TimeZone::Get("Europe/London");
  ASSERT_TRUE(london);
  EXPECT_EQ(FormatIso(*ParseDateTime("2024-06-01T09:00", london->get())), "2024-06-01T08:00:00Z");
  EXPECT_FALSE(TimeZone::Get("Mars/Olympus"));
  EXPECT_FALSE(TimeZone::Get("../../etc/passwd"));
}

TEST(Time, IsoRejectsGarbage) {
  for (const char* bad : {"2024-02-30", "2024-03-05T25:00", "2024-03-05T10", "yesterday",
                          "2024-03-05T10:00+99:00", "2024-03-05X"}) {
    EXPECT_FALSE(ParseDateTime(bad)) << bad;
  }
}

TEST(Time, Horizons) {
  EXPECT_EQ(ParseHorizon("12h")->seconds, 12 * 3600);
  EXPECT_EQ(ParseHorizon("7d")->seconds, 7 * 86400);
  EXPECT_EQ(ParseHorizon("1M")->months, 1);
  const TimePoint jan31 = *ParseDateTime("2024-01-31");
  EXPECT_EQ(FormatDate(ParseHorizon("1M")->EndFrom(jan31)), "2024-02-29");
  for (const char* bad : {"0d", "-1d", "1y", "d", "", "1.5d", "30m"}) {
    EXPECT_FALSE(ParseHorizon(bad)) << bad;
  }
}

}  // namespace
}  // namespace crimecast
