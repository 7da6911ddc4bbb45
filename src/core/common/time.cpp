#include "core/common/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

namespace crimecast {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

bool ParseInt(std::string_view s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2) {
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[m - 1];
}

std::int64_t ReadBe(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

// Reads the 64-bit section of a TZif (version 2+) file: RFC 8536. Times after the last
// transition keep its offset; Debian ships "fat" files whose transitions run to 2037, which
// covers every date crime data can carry.
Result<std::vector<TimeZone::Transition>> ReadTzif(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kInvalidArgument, "unknown time zone (no file " + path + ")");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* b = reinterpret_cast<const unsigned char*>(data.data());
  auto header = [&](std::size_t off, std::int64_t c[6]) -> bool {
    if (data.size() < off + 44 || data.compare(off, 4, "TZif") != 0) return false;
    for (int i = 0; i < 6; ++i) c[i] = ReadBe(b + off + 20 + 4 * i, 4);
    return true;
  };
  std::int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(0, c)) return Fail(ErrorCode::kInvalidArgument, path + " is not a TZif file");
  const char version = data[4];
  std::size_t off = 44;
  int tsize = 4;
  if (version >= '2') {
    off += static_cast<std::size_t>(c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
    if (!header(off, c)) return Fail(ErrorCode::kInvalidArgument, path + ": bad TZif v2 header");
    off += 44;
    tsize = 8;
  }
  const auto timecnt = static_cast<std::size_t>(c[3]);
  const auto typecnt = static_cast<std::size_t>(c[4]);
  if (typecnt == 0 || data.size() < off + timecnt * (tsize + 1) + typecnt * 6) {
    return Fail(ErrorCode::kInvalidArgument, path + ": truncated TZif file");
  }
  const unsigned char* times = b + off;
  const unsigned char* idx = times + timecnt * tsize;
  const unsigned char* types = idx + timecnt;
  std::vector<std::int32_t> offsets(typecnt);
  for (std::size_t i = 0; i < typecnt; ++i) {
    offsets[i] = static_cast<std::int32_t>(ReadBe(types + 6 * i, 4));
  }
  // Before the first transition the first non-DST type applies (RFC 8536 s3.2); type 0 is it
  // in practice.
  std::vector<TimeZone::Transition> out;
  out.push_back({std::numeric_limits<std::int64_t>::min(), offsets[0]});
  for (std::size_t i = 0; i < timecnt; ++i) {
    const std::size_t t = idx[i];
    if (t >= typecnt) return Fail(ErrorCode::kInvalidArgument, path + ": bad TZif type index");
    out.push_back({ReadBe(times + i * tsize, tsize), offsets[t]});
  }
  return out;
}

}  // namespace

bool IsValidCivil(const CivilTime& c) {
  if (c.year < 1 || c.year > 9999 || c.month < 1 || c.month > 12 || c.day < 1) return false;
  if (c.day > DaysInMonth(c.year, c.month)) return false;
  return c.hour >= 0 && c.hour < 24 && c.minute >= 0 && c.minute < 60 && c.second >= 0 &&
         c.second < 61;
}

TimePoint CivilToUtc(const CivilTime& c) {
  const sys_days d =
      year_month_day{std::chrono::year{c.year}, std::chrono::month{static_cast<unsigned>(c.month)},
                     std::chrono::day{static_cast<unsigned>(c.day)}};
  return TimePoint{d.time_since_epoch()} + std::chrono::hours{c.hour} +
         std::chrono::minutes{c.minute} + Seconds{c.second};
}

CivilTime UtcToCivil(TimePoint t) {
  const auto d = std::chrono::floor<days>(t);
  const year_month_day ymd{d};
  const auto secs = (t - d).count();
  return CivilTime{static_cast<int>(ymd.year()),          static_cast<int>(unsigned(ymd.month())),
                   static_cast<int>(unsigned(ymd.day())), static_cast<int>(secs / 3600),
                   static_cast<int>(secs / 60 % 60),      static_cast<int>(secs % 60)};
}

TimeZone::TimeZone(std::string name, std::vector<Transition> transitions)
    : name_(std::move(name)), transitions_(std::move(transitions)) {}

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const auto utc = std::make_shared<const TimeZone>(
      "UTC", std::vector<Transition>{{std::numeric_limits<std::int64_t>::min(), 0}});
  return utc;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Get(std::string_view name) {
  if (name.empty() || name == "UTC" || name == "Z" || name == "Etc/UTC") return Utc();
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const TimeZone>, std::less<>> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  std::vector<Transition> tr;
  if (name[0] == '+' || name[0] == '-') {
    int h = 0;
    int m = 0;
    if (name.size() != 6 || name[3] != ':' || !ParseInt(name.substr(1, 2), h) ||
        !ParseInt(name.substr(4, 2), m) || h > 14 || m > 59) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("time zone offset '{}' must look like +01:00", name));
    }
    const int off = (h * 3600 + m * 60) * (name[0] == '-' ? -1 : 1);
    tr.push_back({std::numeric_limits<std::int64_t>::min(), off});
  } else {
    // Names come from users: refuse path tricks before touching the file system.
    if (name.find("..") != std::string_view::npos || name.front() == '/') {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("bad time zone name '{}'", name));
    }
    auto r = ReadTzif("/usr/share/zoneinfo/" + std::string(name));
    if (!r) return Unexpected(r.error());
    tr = std::move(*r);
  }
  auto tz = std::make_shared<const TimeZone>(std::string(name), std::move(tr));
  cache.emplace(std::string(name), tz);
  return std::shared_ptr<const TimeZone>(tz);
}

Seconds TimeZone::OffsetAt(TimePoint t) const {
  const std::int64_t s = t.time_since_epoch().count();
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), s,
                             [](std::int64_t v, const Transition& tr) { return v < tr.at; });
  return Seconds{std::prev(it)->offset};
}

TimePoint TimeZone::LocalToUtc(const CivilTime& local) const {
  const TimePoint as_utc = CivilToUtc(local);
  // Candidate offsets are those in force within +-1 day; keep the ones consistent with the
  // wall time, preferring the earliest instant (the first of a repeated hour).
  const Seconds before = OffsetAt(as_utc - std::chrono::hours{26});
  const Seconds after = OffsetAt(as_utc + std::chrono::hours{26});
  TimePoint best = TimePoint::max();
  for (Seconds o : {before, after}) {
    const TimePoint u = as_utc - o;
    if (OffsetAt(u) == o) best = std::min(best, u);
  }
  if (best != TimePoint::max()) return best;
  // Skipped wall time: interpret with the offset before the gap (moves the time forward).
  return as_utc - before;
}

CivilTime TimeZone::UtcToLocal(TimePoint t) const { return UtcToCivil(t + OffsetAt(t)); }

Result<TimeInterval> ParseMonth(std::string_view text) {
  int y = 0;
  int m = 0;
  if (text.size() != 7 || text[4] != '-' || !ParseInt(text.substr(0, 4), y) ||
      !ParseInt(text.substr(5, 2), m)) {
    return Fail(ErrorCode::kBadTime, fmt::format("'{}' is not a month (expected YYYY-MM)", text));
  }
  if (m < 1 || m > 12 || y < 1900 || y > 2200) {
    return Fail(ErrorCode::kBadTime, fmt::format("'{}' is not a valid month", text));
  }
  const TimePoint start = CivilToUtc({y, m, 1, 0, 0, 0});
  return TimeInterval{start, AddMonths(start, 1)};
}

Result<TimePoint> ParseDateTime(std::string_view text, const TimeZone* tz) {
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kBadTime, fmt::format("'{}' is not an ISO 8601 time: {}", text, why));
  };
  CivilTime c;
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' ||
      !ParseInt(text.substr(0, 4), c.year) || !ParseInt(text.substr(5, 2), c.month) ||
      !ParseInt(text.substr(8, 2), c.day)) {
    return bad("expected YYYY-MM-DD");
  }
  std::string_view rest = text.substr(10);
  std::optional<int> offset_s;
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != ' ' && rest[0] != 't') return bad("expected T after the date");
    rest.remove_prefix(1);
    if (rest.size() < 5 || rest[2] != ':' || !ParseInt(rest.substr(0, 2), c.hour) ||
        !ParseInt(rest.substr(3, 2), c.minute)) {
      return bad("expected HH:MM");
    }
    rest.remove_prefix(5);
    if (!rest.empty() && rest[0] == ':') {
      if (rest.size() < 3 || !ParseInt(rest.substr(1, 2), c.second)) return bad("bad seconds");
      rest.remove_prefix(3);
      if (!rest.empty() && (rest[0] == '.' || rest[0] == ',')) {
        std::size_t i = 1;
        while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
        if (i == 1) return bad("bad fractional seconds");
        rest.remove_prefix(i);
      }
    }
    if (!rest.empty()) {
      if (rest == "Z" || rest == "z") {
        offset_s = 0;
      } else if ((rest[0] == '+' || rest[0] == '-') &&
                 (rest.size() == 6 || rest.size() == 5 || rest.size() == 3)) {
        int oh = 0;
        int om = 0;
        const bool ok = ParseInt(rest.substr(1, 2), oh) &&
                        (rest.size() == 3 ||
                         (rest.size() == 6 ? rest[3] == ':' && ParseInt(rest.substr(4, 2), om)
                                           : ParseInt(rest.substr(3, 2), om)));
        if (!ok || oh > 14 || om > 59) return bad("bad UTC offset");
        offset_s = (oh * 3600 + om * 60) * (rest[0] == '-' ? -1 : 1);
      } else {
        return bad("unexpected text after the time");
      }
    }
  }
  if (!IsValidCivil(c) || c.year < 1900 || c.year > 2200) return bad("no such date or time");
  if (offset_s) return CivilToUtc(c) - Seconds{*offset_s};
  if (tz != nullptr) return tz->LocalToUtc(c);
  return CivilToUtc(c);
}

Result<TimePoint> ParseInstant(std::string_view text, const TimeZone* tz) {
  if (text.size() == 7) {
    auto m = ParseMonth(text);
    if (!m) return Unexpected(m.error());
    return m->start;
  }
  return ParseDateTime(text, tz);
}

std::string FormatIso(TimePoint t) {
  const CivilTime c = UtcToCivil(t);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", c.year, c.month, c.day, c.hour,
                     c.minute, c.second);
}
std::string FormatMonth(TimePoint t) {
  const CivilTime c = UtcToCivil(t);
  return fmt::format("{:04d}-{:02d}", c.year, c.month);
}
std::string FormatDate(TimePoint t) {
  const CivilTime c = UtcToCivil(t);
  return fmt::format("{:04d}-{:02d}-{:02d}", c.year, c.month, c.day);
}

TimePoint AddMonths(TimePoint t, int months) {
  CivilTime c = UtcToCivil(t);
  int total = c.year * 12 + (c.month - 1) + months;
  c.year = total / 12;
  c.month = total % 12 + 1;
  c.day = std::min(c.day, DaysInMonth(c.year, c.month));
  return CivilToUtc(c);
}

TimePoint StartOfMonth(TimePoint t) {
  CivilTime c = UtcToCivil(t);
  return CivilToUtc({c.year, c.month, 1, 0, 0, 0});
}

TimePoint Horizon::EndFrom(TimePoint start) const {
  if (months > 0) return AddMonths(start, months);
  return start + Seconds{seconds};
}

std::string Horizon::ToString() const {
  if (months > 0) return fmt::format("{}M", months);
  if (seconds % 86400 == 0) return fmt::format("{}d", seconds / 86400);
  return fmt::format("{}h", seconds / 3600);
}

Result<Horizon> ParseHorizon(std::string_view text) {
  auto bad = [&] {
    return Fail(ErrorCode::kBadHorizon,
                fmt::format("horizon '{}' must be a positive number of hours (12h), days (1d, 7d) "
                            "or calendar months (1M)",
                            text));
  };
  if (text.size() < 2) return bad();
  int n = 0;
  if (!ParseInt(text.substr(0, text.size() - 1), n) || n <= 0) return bad();
  switch (text.back()) {
    case 'h':
      if (n > 24 * 366) return bad();
      return Horizon{static_cast<std::int64_t>(n) * 3600, 0};
    case 'd':
      if (n > 366) return bad();
      return Horizon{static_cast<std::int64_t>(n) * 86400, 0};
    case 'M':
      if (n > 24) return bad();
      return Horizon{0, n};
    default:
      return bad();
  }
}

}  // namespace crimecast
