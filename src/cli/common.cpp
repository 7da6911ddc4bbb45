#include "cli/common.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>

namespace crimecast::cli {

Result<std::unique_ptr<storage::SqliteEventStore>> OpenStore(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  return storage::SqliteEventStore::Open(path);
}

Result<std::unique_ptr<storage::SqliteEventStore>> OpenExistingStore(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    return Fail(
        ErrorCode::kFileNotFound,
        fmt::format("database '{}' does not exist (create it with `crimecast import`)", path));
  }
  return storage::SqliteEventStore::Open(path);
}

Result<std::vector<Category>> ParseCategoryList(const std::string& text) {
  std::vector<Category> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = text.substr(start, comma - start);
    if (!item.empty()) {
      auto c = ParseCategory(item);
      if (!c) {
        std::string known;
        for (int i = 0; i < kCategoryCount; ++i) {
          known += (i ? ", " : "") + std::string(Slug(static_cast<Category>(i)));
        }
        return Fail(ErrorCode::kUnknownCategory,
                    fmt::format("unknown category '{}' (known: {})", item, known));
      }
      out.push_back(*c);
    }
    start = comma + 1;
  }
  return out;
}

Result<std::array<double, 4>> ParseBbox(const std::string& text) {
  std::array<double, 4> b{};
  std::size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    auto [p, ec] = std::from_chars(text.data() + start, text.data() + end, b[i]);
    if (ec != std::errc() || p != text.data() + end || (i < 3 && end == text.size())) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("bbox '{}' must be minlon,minlat,maxlon,maxlat", text));
    }
    start = end + 1;
  }
  if (b[0] > b[2] || b[1] > b[3] || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("bbox '{}' is not a valid WGS84 box (min <= max, in range)", text));
  }
  return b;
}

Result<storage::EventFilter> ParseTimeCategoryFilter(const std::string& from, const std::string& to,
                                                     const std::string& categories) {
  storage::EventFilter filter;
  if (!from.empty()) {
    auto t = ParseInstant(from);
    if (!t) return Unexpected(t.error());
    filter.from = *t;
  }
  if (!to.empty()) {
    auto t = ParseInstant(to);
    if (!t) return Unexpected(t.error());
    filter.to = *t;
  }
  if (!categories.empty()) {
    auto c = ParseCategoryList(categories);
    if (!c) return Unexpected(c.error());
    filter.categories = *c;
  }
  return filter;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

bool StderrIsTty() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace crimecast::cli
