// core/ingest/mapping.hpp
//
// A mapping file describes how to read an arbitrary crime CSV feed (`--format mapped`): which
// columns give the id, category, time and location, how the feed's crime types map onto the 14
// canonical categories, the feed's time zone and CRS, and what marks a withheld location. The
// format is TOML; docs/mapping.md is the reference and mappings/vancouver-vpd.toml the worked
// example.
//
// Loading validates everything that does not depend on the data file: unknown keys (typos),
// category names, the time format, the CRS and time zone, and the syntax of `withheld_when`.
// Column names are checked against the file's header when a reader is opened.
//
// withheld_when grammar (a location matching it is treated as withheld, i.e. unlocated):
//   expr   := and_expr ( "or" and_expr )*
//   and_expr := term ( "and" term )*
//   term   := column op literal | column "is" ["not"] "empty"
//   op     := == | != | < | <= | > | >=
//   column := identifier | `any column name`   (x, y, lon, lat name the coordinate columns)
//   literal := number | "string" | 'string'
// Numbers compare numerically (a field that is not a number never equals one); strings compare
// exactly and only with == and !=. Field values are trimmed of surrounding spaces first.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/error.hpp"
#include "core/ingest/event.hpp"
#include "core/ingest/time_pattern.hpp"

namespace crimecast::ingest {

class WithheldRule {
 public:
  // Fails with kBadMapping on a syntax error.
  static Result<WithheldRule> Parse(std::string_view text);
  // Resolves column names with `find_column` (returns -1 when absent) after mapping the aliases
  // x/y/lon/lat through `alias`. Fails with kMissingColumn.
  Result<void> Bind(const std::function<int(std::string_view)>& find_column,
                    const std::function<std::string(std::string_view)>& alias);
  bool Matches(const std::vector<std::string_view>& fields) const;
  const std::string& text() const { return text_; }

 private:
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kEmpty, kNotEmpty };
  struct Term {
    std::string column;
    int index = -1;
    Op op = Op::kEq;
    bool numeric = false;
    double number = 0;
    std::string text;
  };
  std::string text_;
  std::vector<std::vector<Term>> any_of_;  // OR of AND-groups
};

struct Mapping {
  std::string path;    // where it was loaded from (for messages)
  std::string source;  // feed name, Event::source
  char delimiter = ',';
  std::string force;  // constant agency name when there is no force column

  std::vector<std::string> id_columns;  // empty: derived ids (hash of the row + ordinal)

  std::string category_column;
  std::unordered_map<std::string, Category> category_exact;   // feed text -> category
  std::unordered_map<std::string, Category> category_folded;  // lower-cased, trimmed text
  std::optional<Category> default_category;

  // Time: one column with a format, or part columns.
  std::string time_column;
  std::string time_format;  // "iso8601", or a TimePattern
  std::optional<TimePattern> time_pattern;
  std::string year_column, month_column, day_column, hour_column, minute_column, second_column;
  std::string timezone = "UTC";
  bool midnight_means_unknown = false;  // 00:00(:00) -> the whole day

  // Location: lon/lat columns (epsg 4326) or x/y columns in `epsg`.
  std::string lon_column, lat_column;
  std::string x_column, y_column;
  int epsg = 4326;
  LocationQuality quality = LocationQuality::kExact;
  bool withheld_if_zero = false;
  std::optional<WithheldRule> withheld_when;

  // Optional text columns.
  std::string location_column, area_column, outcome_column, force_column;

  bool uses_xy() const { return !x_column.empty(); }
  // The column names of the two coordinates (x/y or lon/lat).
  const std::string& first_coordinate() const { return uses_xy() ? x_column : lon_column; }
  const std::string& second_coordinate() const { return uses_xy() ? y_column : lat_column; }
};

// Reads and validates a mapping file. Fails with kFileNotFound or kBadMapping (the message
// names the file, the table and the key).
Result<Mapping> LoadMapping(const std::string& path);
Result<Mapping> ParseMapping(std::string_view toml_text, const std::string& name);

}  // namespace crimecast::ingest
