#include "core/ingest/time_pattern.hpp"

#include <fmt/format.h>

#include <array>
#include <limits>
#include <optional>

#include "core/ingest/text.hpp"

namespace crimecast::ingest {
namespace {

CivilTime NextDay(CivilTime c) {
  const TimePoint t = CivilToUtc({c.year, c.month, c.day, 0, 0, 0}) + std::chrono::days{1};
  return UtcToCivil(t);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads 1..max_digits digits at text[pos].
bool ReadNumber(std::string_view text, std::size_t& pos, int max_digits, int& out) {
  int v = 0;
  int n = 0;
  while (pos < text.size() && n < max_digits && IsDigit(text[pos])) {
    v = v * 10 + (text[pos] - '0');
    ++pos;
    ++n;
  }
  if (n == 0) return false;
  out = v;
  return true;
}

constexpr std::array<std::string_view, 12> kMonthNames = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

}  // namespace

TimeInterval IntervalFromCivil(const CivilTime& civil, TimePrecision precision,
                               const TimeZone& tz) {
  switch (precision) {
    case TimePrecision::kMonth: {
      CivilTime start{civil.year, civil.month, 1, 0, 0, 0};
      CivilTime next = start;
      if (++next.month > 12) {
        next.month = 1;
        ++next.year;
      }
      return {tz.LocalToUtc(start), tz.LocalToUtc(next)};
    }
    case TimePrecision::kDay: {
      CivilTime start{civil.year, civil.month, civil.day, 0, 0, 0};
      return {tz.LocalToUtc(start), tz.LocalToUtc(NextDay(start))};
    }
    case TimePrecision::kSecond:
      break;
  }
  const TimePoint t = tz.LocalToUtc(civil);
  return {t, t + Seconds{1}};
}

Result<TimeInterval> ParseIsoInterval(std::string_view text, const TimeZone& tz) {
  text = Trim(text);
  if (text.empty()) return Fail(ErrorCode::kBadTime, "the time is empty");
  if (text.size() == 7) {
    auto month = ParseMonth(text);
    if (!month) return Unexpected(month.error());
    const CivilTime c = UtcToCivil(month->start);
    return IntervalFromCivil(c, TimePrecision::kMonth, tz);
  }
  auto t = ParseDateTime(text, &tz);
  if (!t) return Unexpected(t.error());
  if (text.size() == 10) {
    // A date alone: the whole local day.
    return IntervalFromCivil(tz.UtcToLocal(*t), TimePrecision::kDay, tz);
  }
  return TimeInterval{*t, *t + Seconds{1}};
}

Result<TimePattern> TimePattern::Compile(std::string_view pattern) {
  TimePattern p;
  p.pattern_ = std::string(pattern);
  bool year = false;
  bool month = false;
  bool day = false;
  bool time = false;
  bool hour12 = false;
  bool ampm = false;
  auto add = [&](Kind k) { p.tokens_.push_back({k, 0}); };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == ' ') {
      if (p.tokens_.empty() || p.tokens_.back().kind != Kind::kSpace) add(Kind::kSpace);
      continue;
    }
    if (c != '%') {
      p.tokens_.push_back({Kind::kLiteral, c});
      continue;
    }
    if (++i == pattern.size()) {
      return Fail(ErrorCode::kBadMapping,
                  fmt::format("time format '{}' ends with a lone '%'", pattern));
    }
    switch (pattern[i]) {
      case 'Y':
        add(Kind::kYear4);
        year = true;
        break;
      case 'y':
        add(Kind::kYear2);
        year = true;
        break;
      case 'm':
        add(Kind::kMonth);
        month = true;
        break;
      case 'b':
      case 'B':
      case 'h':
        add(Kind::kMonthName);
        month = true;
        break;
      case 'd':
      case 'e':
        add(Kind::kDay);
        day = true;
        break;
      case 'H':
        add(Kind::kHour24);
        time = true;
        break;
      case 'I':
        add(Kind::kHour12);
        time = hour12 = true;
        break;
      case 'p':
        add(Kind::kAmPm);
        ampm = true;
        break;
      case 'M':
        add(Kind::kMinute);
        time = true;
        break;
      case 'S':
        add(Kind::kSecond);
        time = true;
        break;
      case 'f':
        add(Kind::kFraction);
        break;
      case 'z':
        add(Kind::kOffset);
        break;
      case 'F':
        add(Kind::kYear4);
        p.tokens_.push_back({Kind::kLiteral, '-'});
        add(Kind::kMonth);
        p.tokens_.push_back({Kind::kLiteral, '-'});
        add(Kind::kDay);
        year = month = day = true;
        break;
      case 'T':
      case 'R':
        add(Kind::kHour24);
        p.tokens_.push_back({Kind::kLiteral, ':'});
        add(Kind::kMinute);
        if (pattern[i] == 'T') {
          p.tokens_.push_back({Kind::kLiteral, ':'});
          add(Kind::kSecond);
        }
        time = true;
        break;
      case 'D':
        add(Kind::kMonth);
        p.tokens_.push_back({Kind::kLiteral, '/'});
        add(Kind::kDay);
        p.tokens_.push_back({Kind::kLiteral, '/'});
        add(Kind::kYear2);
        year = month = day = true;
        break;
      case '%':
        p.tokens_.push_back({Kind::kLiteral, '%'});
        break;
      default:
        return Fail(ErrorCode::kBadMapping,
                    fmt::format("time format '{}': unsupported conversion '%{}' (see "
                                "docs/mapping.md for the supported ones)",
                                pattern, pattern[i]));
    }
  }
  if (!year || !month) {
    return Fail(ErrorCode::kBadMapping,
                fmt::format("time format '{}' must contain a year (%Y or %y) and a month (%m or "
                            "%b)",
                            pattern));
  }
  if (time && !day) {
    return Fail(ErrorCode::kBadMapping,
                fmt::format("time format '{}' has a time of day but no day (%d)", pattern));
  }
  if (hour12 != ampm) {
    return Fail(ErrorCode::kBadMapping,
                fmt::format("time format '{}': %I and %p must be used together", pattern));
  }
  p.precision_ = time ? TimePrecision::kSecond : day ? TimePrecision::kDay : TimePrecision::kMonth;
  return p;
}

Result<TimeInterval> TimePattern::Parse(std::string_view text, const TimeZone& tz) const {
  const std::string_view original = text;
  text = Trim(text);
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kBadTime, fmt::format("'{}' does not match the time format '{}': {}",
                                                 Excerpt(original), pattern_, why));
  };
  CivilTime c{1970, 1, 1, 0, 0, 0};
  std::optional<int> offset_s;
  bool pm = false;
  bool has_ampm = false;
  std::size_t pos = 0;
  for (const Token& t : tokens_) {
    switch (t.kind) {
      case Kind::kLiteral:
        if (pos >= text.size() || text[pos] != t.literal) {
          return bad(fmt::format("expected '{}' at position {}", t.literal, pos + 1));
        }
        ++pos;
        break;
      case Kind::kSpace: {
        const std::size_t start = pos;
        while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
        if (pos == start) return bad(fmt::format("expected a space at position {}", pos + 1));
        break;
      }
      case Kind::kYear4:
        if (!ReadNumber(text, pos, 4, c.year)) return bad("expected a year");
        break;
      case Kind::kYear2: {
        int y = 0;
        if (!ReadNumber(text, pos, 2, y)) return bad("expected a 2-digit year");
        c.year = y >= 69 ? 1900 + y : 2000 + y;
        break;
      }
      case Kind::kMonth:
        if (!ReadNumber(text, pos, 2, c.month)) return bad("expected a month number");
        break;
      case Kind::kMonthName: {
        std::size_t end = pos;
        while (end < text.size() &&
               ((text[end] >= 'a' && text[end] <= 'z') || (text[end] >= 'A' && text[end] <= 'Z'))) {
          ++end;
        }
        const std::string word = AsciiLower(text.substr(pos, end - pos));
        int found = 0;
        for (std::size_t m = 0; m < kMonthNames.size(); ++m) {
          if (word == kMonthNames[m] || (word.size() == 3 && kMonthNames[m].substr(0, 3) == word) ||
              (word == "sept" && m == 8)) {
            found = static_cast<int>(m) + 1;
          }
        }
        if (found == 0) return bad("expected an English month name");
        c.month = found;
        pos = end;
        break;
      }
      case Kind::kDay:
        if (pos < text.size() && text[pos] == ' ') ++pos;  // %e pads with a space
        if (!ReadNumber(text, pos, 2, c.day)) return bad("expected a day of the month");
        break;
      case Kind::kHour24:
      case Kind::kHour12:
        if (!ReadNumber(text, pos, 2, c.hour)) return bad("expected an hour");
        if (t.kind == Kind::kHour12 && (c.hour < 1 || c.hour > 12)) {
          return bad("a 12-hour clock hour must be 1-12");
        }
        break;
      case Kind::kAmPm: {
        const std::string word = AsciiLower(text.substr(pos, 2));
        if (word == "am") {
          pm = false;
        } else if (word == "pm") {
          pm = true;
        } else {
          return bad("expected AM or PM");
        }
        has_ampm = true;
        pos += 2;
        break;
      }
      case Kind::kMinute:
        if (!ReadNumber(text, pos, 2, c.minute)) return bad("expected minutes");
        break;
      case Kind::kSecond:
        if (!ReadNumber(text, pos, 2, c.second)) return bad("expected seconds");
        break;
      case Kind::kFraction: {
        const std::size_t start = pos;
        while (pos < text.size() && IsDigit(text[pos])) ++pos;
        if (pos == start) return bad("expected fractional seconds");
        break;
      }
      case Kind::kOffset: {
        if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
          offset_s = 0;
          ++pos;
          break;
        }
        if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) {
          return bad("expected a UTC offset");
        }
        const int sign = text[pos] == '-' ? -1 : 1;
        ++pos;
        int hh = 0;
        int mm = 0;
        const std::size_t start = pos;
        if (!ReadNumber(text, pos, 2, hh) || pos - start != 2) return bad("bad UTC offset");
        if (pos < text.size() && text[pos] == ':') ++pos;
        if (pos < text.size() && IsDigit(text[pos])) {
          const std::size_t mstart = pos;
          if (!ReadNumber(text, pos, 2, mm) || pos - mstart != 2) return bad("bad UTC offset");
        }
        if (hh > 14 || mm > 59) return bad("bad UTC offset");
        offset_s = sign * (hh * 3600 + mm * 60);
        break;
      }
    }
  }
  if (pos != text.size()) {
    return bad(fmt::format("unexpected text '{}' at the end", Excerpt(text.substr(pos), 20)));
  }
  if (has_ampm) {
    if (c.hour == 12) c.hour = 0;
    if (pm) c.hour += 12;
  }
  if (!IsValidCivil(c) || c.year < 1900 || c.year > 2200) return bad("no such date or time");
  if (offset_s) {
    // An explicit offset is exact: no zone rules apply.
    const auto fixed = TimeZone("offset", {{std::numeric_limits<std::int64_t>::min(), *offset_s}});
    return IntervalFromCivil(c, precision_, fixed);
  }
  return IntervalFromCivil(c, precision_, tz);
}

}  // namespace crimecast::ingest
