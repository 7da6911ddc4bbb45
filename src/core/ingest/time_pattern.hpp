// core/ingest/time_pattern.hpp
//
// Turning a feed's date/time text into an honest occurrence interval.
//
// The interval spans what the text actually says (see core/common/time.hpp):
// * month only ("2024-03")       -> [local start of the month, local start of the next month)
// * date only ("2024-03-05")     -> [local midnight, next local midnight)
// * a time of day (to the minute or second) -> [t, t + 1 s)
// Local civil times are converted to UTC with the feed's TimeZone; an explicit offset in the
// text wins over the zone.
//
// TimePattern is a small strftime-like parser for feeds that do not write ISO 8601. Supported
// conversions:
//   %Y 4-digit year        %y 2-digit year (69-99 -> 19xx, 00-68 -> 20xx, as POSIX)
//   %m month 1-12          %b %B %h English month name or 3-letter abbreviation
//   %d %e day 1-31         %H hour 0-23   %I hour 1-12 (with %p AM/PM)   %M minute  %S second
//   %f fractional seconds (digits, ignored)   %z UTC offset (Z, +hh, +hhmm, +hh:mm)
//   %F = %Y-%m-%d   %T = %H:%M:%S   %R = %H:%M   %D = %m/%d/%y   %% a literal %
// Numbers may have 1 or 2 digits (with or without a leading zero); a space in the pattern
// matches one or more spaces; any other character must match itself. Leading and trailing
// spaces of the text are ignored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/time.hpp"

namespace crimecast::ingest {

// The finest unit a time text gives.
enum class TimePrecision { kMonth, kDay, kSecond };

// The interval a civil time of the given precision denotes in `tz` (fields finer than the
// precision are ignored).
TimeInterval IntervalFromCivil(const CivilTime& civil, TimePrecision precision, const TimeZone& tz);

// ISO 8601 or YYYY-MM (see the top of this file). Fails with kBadTime.
Result<TimeInterval> ParseIsoInterval(std::string_view text, const TimeZone& tz);

class TimePattern {
 public:
  // Fails with kBadMapping for unknown conversions or a pattern without year and month.
  static Result<TimePattern> Compile(std::string_view pattern);

  // Parses `text` and returns its interval. Fails with kBadTime.
  Result<TimeInterval> Parse(std::string_view text, const TimeZone& tz) const;

  const std::string& pattern() const { return pattern_; }
  TimePrecision precision() const { return precision_; }

 private:
  enum class Kind {
    kLiteral,
    kSpace,
    kYear4,
    kYear2,
    kMonth,
    kMonthName,
    kDay,
    kHour24,
    kHour12,
    kAmPm,
    kMinute,
    kSecond,
    kFraction,
    kOffset
  };
  struct Token {
    Kind kind;
    char literal = 0;
  };
  std::string pattern_;
  std::vector<Token> tokens_;
  TimePrecision precision_ = TimePrecision::kSecond;
};

}  // namespace crimecast::ingest
