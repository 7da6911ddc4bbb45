// core/common/time.hpp
//
// Time in crimecast.
//
// * An instant is a TimePoint: whole seconds since the Unix epoch, UTC (std::chrono::sys_seconds).
// * An occurrence is a TimeInterval [start, end): the event happened at some instant in it.
//   A timestamped record has end = start + 1 s; a data.police.uk record, which only gives a
//   month, has start = first instant of the month and end = first instant of the next month
//   (UTC). Month-only data is therefore stored honestly, never as "the 1st of the month".
// * Local times (a feed without an offset) are converted with a TimeZone, which reads the
//   system time-zone database (/usr/share/zoneinfo, Debian package tzdata).
// * A Horizon is a forecast length: a fixed number of seconds (12h, 1d, 7d) or a number of
//   calendar months (1M), because months differ in length.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"

namespace crimecast {

using TimePoint = std::chrono::sys_seconds;
using Seconds = std::chrono::seconds;

struct TimeInterval {
  TimePoint start;
  TimePoint end;  // exclusive; end > start
  Seconds Length() const { return end - start; }
  bool Contains(TimePoint t) const { return start <= t && t < end; }
  bool operator==(const TimeInterval&) const = default;
};

// Broken-down civil (wall-clock) time; fields as written, month 1..12, day 1..31.
struct CivilTime {
  int year = 1970;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// True when the civil time is a real calendar date with hour<24, minute<60, second<61.
bool IsValidCivil(const CivilTime& c);
// Civil time read as UTC.
TimePoint CivilToUtc(const CivilTime& c);
CivilTime UtcToCivil(TimePoint t);

// A time zone from the system database ("Europe/London", "America/Vancouver", "UTC"), or a fixed
// offset ("+01:00"). Immutable and thread-safe once created. Instances are cached per name.
class TimeZone {
 public:
  static Result<std::shared_ptr<const TimeZone>> Get(std::string_view name);
  static std::shared_ptr<const TimeZone> Utc();

  const std::string& name() const { return name_; }
  // UTC offset (local - UTC) in force at the instant t.
  Seconds OffsetAt(TimePoint t) const;
  // Converts a local civil time to UTC. In a repeated hour (clocks going back) the first
  // occurrence is taken; a time inside a skipped hour (clocks going forward) is moved forward
  // by the gap, as a clock that was not changed would read.
  TimePoint LocalToUtc(const CivilTime& local) const;
  CivilTime UtcToLocal(TimePoint t) const;

  struct Transition {
    std::int64_t at;      // UTC seconds at which `offset` starts to apply
    std::int32_t offset;  // seconds
  };
  TimeZone(std::string name, std::vector<Transition> transitions);

 private:
  std::string name_;
  std::vector<Transition> transitions_;  // sorted by `at`; transitions_[0].at is the far past
};

// "2024-03" -> [2024-03-01T00:00Z, 2024-04-01T00:00Z). Rejects months outside 1..12 and years
// outside 1900..2200.
Result<TimeInterval> ParseMonth(std::string_view text);

// ISO 8601 date or date-time: "2024-03-05", "2024-03-05T14:30", "2024-03-05 14:30:15",
// "...Z", "...+01:00", fractional seconds are accepted and truncated. A value without an
// offset is local time in `tz` (UTC when tz is null). A date alone is midnight local time.
Result<TimePoint> ParseDateTime(std::string_view text, const TimeZone* tz = nullptr);

// Accepts "YYYY-MM" (start of the month) or anything ParseDateTime accepts.
Result<TimePoint> ParseInstant(std::string_view text, const TimeZone* tz = nullptr);

std::string FormatIso(TimePoint t);    // "2024-03-05T14:30:00Z"
std::string FormatMonth(TimePoint t);  // "2024-03"
std::string FormatDate(TimePoint t);   // "2024-03-05"

TimePoint AddMonths(TimePoint t, int months);  // calendar months, keeping day-of-month clamp
TimePoint StartOfMonth(TimePoint t);

// A forecast horizon: "12h", "1d", "7d", "1M" (calendar months), "30m" is rejected.
struct Horizon {
  std::int64_t seconds = 0;  // > 0 when months == 0
  int months = 0;            // > 0 for calendar-month horizons
  TimePoint EndFrom(TimePoint start) const;
  std::string ToString() const;
  bool operator==(const Horizon&) const = default;
};
Result<Horizon> ParseHorizon(std::string_view text);

}  // namespace crimecast
