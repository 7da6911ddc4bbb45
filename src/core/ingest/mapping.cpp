#include "core/ingest/mapping.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include "core/ingest/csv_event_reader.hpp"
#include "core/ingest/text.hpp"
#include "core/spatial/projection.hpp"

namespace crimecast::ingest {
namespace {

// ---------------------------------------------------------------------------------------------
// withheld_when tokenizer and parser (a hand-written recursive descent of two levels: the
// grammar in mapping.hpp is flat, so no recursion depth can be forced by the input).

enum class TokKind { kIdent, kNumber, kString, kOp, kEnd };
struct Tok {
  TokKind kind;
  std::string text;
};

Result<std::vector<Tok>> Lex(std::string_view s) {
  std::vector<Tok> out;
  std::size_t i = 0;
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kBadMapping,
                fmt::format("withheld_when '{}': {} at position {}", s, why, i + 1));
  };
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t') {
      ++i;
      continue;
    }
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_') {
      std::size_t j = i;
      while (j < s.size() && ((s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= 'a' && s[j] <= 'z') ||
                              (s[j] >= '0' && s[j] <= '9') || s[j] == '_')) {
        ++j;
      }
      out.push_back({TokKind::kIdent, std::string(s.substr(i, j - i))});
      i = j;
      continue;
    }
    if (c == '`') {
      const std::size_t j = s.find('`', i + 1);
      if (j == std::string_view::npos) return bad("unterminated `column name`");
      // A quoted column name is an identifier that cannot be a keyword.
      std::string name = "`";
      name.append(s.substr(i + 1, j - i - 1));
      out.push_back({TokKind::kIdent, std::move(name)});
      i = j + 1;
      continue;
    }
    if (c == '"' || c == '\'') {
      const std::size_t j = s.find(c, i + 1);
      if (j == std::string_view::npos) return bad("unterminated string");
      out.push_back({TokKind::kString, std::string(s.substr(i + 1, j - i - 1))});
      i = j + 1;
      continue;
    }
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') {
      std::size_t j = i + 1;
      while (j < s.size() &&
             ((s[j] >= '0' && s[j] <= '9') || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
              ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E')))) {
        ++j;
      }
      out.push_back({TokKind::kNumber, std::string(s.substr(i, j - i))});
      i = j;
      continue;
    }
    for (std::string_view op : {"==", "!=", "<=", ">=", "<", ">"}) {
      if (s.substr(i, op.size()) == op) {
        out.push_back({TokKind::kOp, std::string(op)});
        i += op.size();
        goto next;
      }
    }
    return bad(fmt::format("unexpected character '{}'", Excerpt(s.substr(i, 1))));
  next:;
  }
  out.push_back({TokKind::kEnd, ""});
  return out;
}

bool IsKeyword(const Tok& t, std::string_view word) {
  return t.kind == TokKind::kIdent && IEquals(t.text, word);
}

// ---------------------------------------------------------------------------------------------
// TOML helpers. Every lookup names the file, table and key in its error.

Unexpected BadMapping(const std::string& file, std::string_view where, std::string_view what) {
  return Fail(ErrorCode::kBadMapping, fmt::format("{}: {}: {}", file, where, what));
}

Result<void> CheckKeys(const toml::table& t, const std::string& file, std::string_view where,
                       std::initializer_list<std::string_view> allowed) {
  for (auto&& [key, value] : t) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || key.str() == a;
    if (!ok) {
      std::string list;
      for (std::string_view a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      return BadMapping(file, where,
                        fmt::format("unknown key '{}' (allowed: {})", key.str(), list));
    }
  }
  return {};
}

Result<std::string> GetString(const toml::table& t, std::string_view key, const std::string& file,
                              std::string_view where, bool required = false) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    if (required) return BadMapping(file, where, fmt::format("'{}' is required", key));
    return std::string();
  }
  const auto* s = n->as_string();
  if (s == nullptr) return BadMapping(file, where, fmt::format("'{}' must be a string", key));
  if (required && s->get().empty()) {
    return BadMapping(file, where, fmt::format("'{}' must not be empty", key));
  }
  return s->get();
}

Result<bool> GetBool(const toml::table& t, std::string_view key, const std::string& file,
                     std::string_view where) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return false;
  const auto* b = n->as_boolean();
  if (b == nullptr) return BadMapping(file, where, fmt::format("'{}' must be true or false", key));
  return b->get();
}

Result<const toml::table*> GetTable(const toml::table& t, std::string_view key,
                                    const std::string& file, bool required) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    if (required) return BadMapping(file, fmt::format("[{}]", key), "this table is required");
    return static_cast<const toml::table*>(nullptr);
  }
  const auto* tbl = n->as_table();
  if (tbl == nullptr) return BadMapping(file, key, fmt::format("must be a table ([{}])", key));
  return tbl;
}

Result<Category> GetCategory(std::string_view text, const std::string& file,
                             std::string_view where) {
  if (auto c = ParseCategory(text)) return *c;
  std::string names;
  for (int i = 0; i < kCategoryCount; ++i) {
    if (i > 0) names += ", ";
    names += Slug(static_cast<Category>(i));
  }
  return BadMapping(file, where,
                    fmt::format("'{}' is not a canonical category (use a data.police.uk category "
                                "name or one of: {})",
                                text, names));
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Result<WithheldRule> WithheldRule::Parse(std::string_view text) {
  auto toks = Lex(text);
  if (!toks) return Unexpected(toks.error());
  WithheldRule rule;
  rule.text_ = std::string(text);
  std::size_t i = 0;
  const std::vector<Tok>& t = *toks;
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kBadMapping, fmt::format("withheld_when '{}': {}", text, why));
  };
  rule.any_of_.emplace_back();
  while (true) {
    if (t[i].kind != TokKind::kIdent || IsKeyword(t[i], "and") || IsKeyword(t[i], "or")) {
      return bad(fmt::format("expected a column name, found '{}'",
                             t[i].kind == TokKind::kEnd ? "end of text" : t[i].text));
    }
    Term term;
    term.column = t[i].text;
    ++i;
    if (IsKeyword(t[i], "is")) {
      ++i;
      term.op = Op::kEmpty;
      if (IsKeyword(t[i], "not")) {
        term.op = Op::kNotEmpty;
        ++i;
      }
      if (!IsKeyword(t[i], "empty")) return bad("expected 'empty' after 'is'");
      ++i;
    } else {
      if (t[i].kind != TokKind::kOp) {
        return bad(fmt::format("expected ==, !=, <, <=, > or >= after '{}'", term.column));
      }
      const std::string& op = t[i].text;
      term.op = op == "=="   ? Op::kEq
                : op == "!=" ? Op::kNe
                : op == "<"  ? Op::kLt
                : op == "<=" ? Op::kLe
                : op == ">"  ? Op::kGt
                             : Op::kGe;
      ++i;
      if (t[i].kind == TokKind::kNumber) {
        if (!ParseFiniteDouble(t[i].text, term.number)) {
          return bad(fmt::format("'{}' is not a number", t[i].text));
        }
        term.numeric = true;
      } else if (t[i].kind == TokKind::kString) {
        if (term.op != Op::kEq && term.op != Op::kNe) {
          return bad("strings can only be compared with == and !=");
        }
        term.text = t[i].text;
      } else {
        return bad(fmt::format("expected a number or a quoted string after '{}'", op));
      }
      ++i;
    }
    rule.any_of_.back().push_back(std::move(term));
    if (t[i].kind == TokKind::kEnd) break;
    if (IsKeyword(t[i], "and")) {
      ++i;
    } else if (IsKeyword(t[i], "or")) {
      ++i;
      rule.any_of_.emplace_back();
    } else {
      return bad(fmt::format("expected 'and', 'or' or the end, found '{}'", t[i].text));
    }
  }
  return rule;
}

Result<void> WithheldRule::Bind(const std::function<int(std::string_view)>& find_column,
                                const std::function<std::string(std::string_view)>& alias) {
  for (auto& group : any_of_) {
    for (Term& term : group) {
      std::string name = term.column;
      if (!name.empty() && name[0] == '`') {
        name.erase(0, 1);
      } else if (std::string a = alias(name); !a.empty()) {
        name = a;
      }
      term.index = find_column(name);
      if (term.index < 0) {
        return Fail(ErrorCode::kMissingColumn,
                    fmt::format("withheld_when '{}': no column '{}' in the file", text_, name));
      }
    }
  }
  return {};
}

bool WithheldRule::Matches(const std::vector<std::string_view>& fields) const {
  for (const auto& group : any_of_) {
    bool all = true;
    for (const Term& term : group) {
      const std::string_view v = Trim(fields[static_cast<std::size_t>(term.index)]);
      bool ok = false;
      switch (term.op) {
        case Op::kEmpty:
          ok = v.empty();
          break;
        case Op::kNotEmpty:
          ok = !v.empty();
          break;
        default:
          if (term.numeric) {
            double x = 0;
            if (!ParseFiniteDouble(v, x)) {
              ok = term.op == Op::kNe;
            } else {
              switch (term.op) {
                case Op::kEq:
                  ok = x == term.number;
                  break;
                case Op::kNe:
                  ok = x != term.number;
                  break;
                case Op::kLt:
                  ok = x < term.number;
                  break;
                case Op::kLe:
                  ok = x <= term.number;
                  break;
                case Op::kGt:
                  ok = x > term.number;
                  break;
                case Op::kGe:
                  ok = x >= term.number;
                  break;
                default:
                  break;
              }
            }
          } else {
            ok = (v == term.text) == (term.op == Op::kEq);
          }
      }
      if (!ok) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------

Result<Mapping> ParseMapping(std::string_view toml_text, const std::string& name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, name);
  } catch (const toml::parse_error& e) {
    return Fail(ErrorCode::kBadMapping,
                fmt::format("{}:{}:{}: not valid TOML: {}", name, e.source().begin.line,
                            e.source().begin.column, e.description()));
  }
  Mapping m;
  m.path = name;
  const std::string& f = name;
  if (auto r = CheckKeys(root, f, "top level",
                         {"format_version", "source", "description", "force", "delimiter", "id",
                          "category", "time", "location", "columns"});
      !r) {
    return Unexpected(r.error());
  }
  if (const toml::node* v = root.get("format_version")) {
    const auto* i = v->as_integer();
    if (i == nullptr || i->get() != 1) {
      return BadMapping(f, "format_version", "only format_version = 1 is supported");
    }
  }
  {
    auto source = GetString(root, "source", f, "top level", true);
    if (!source) return Unexpected(source.error());
    m.source = *source;
    auto desc = GetString(root, "description", f, "top level");
    if (!desc) return Unexpected(desc.error());
    auto force = GetString(root, "force", f, "top level");
    if (!force) return Unexpected(force.error());
    m.force = *force;
    auto delim = GetString(root, "delimiter", f, "top level");
    if (!delim) return Unexpected(delim.error());
    if (!delim->empty()) {
      const std::string d = *delim == "\\t" ? "\t" : *delim;
      if (d.size() != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r') {
        return BadMapping(f, "delimiter", "must be one character (not a quote or line break)");
      }
      m.delimiter = d[0];
    }
  }

  // [id]
  {
    auto t = GetTable(root, "id", f, false);
    if (!t) return Unexpected(t.error());
    if (*t != nullptr) {
      if (auto r = CheckKeys(**t, f, "[id]", {"column", "columns"}); !r)
        return Unexpected(r.error());
      auto col = GetString(**t, "column", f, "[id]");
      if (!col) return Unexpected(col.error());
      if (!col->empty()) m.id_columns.push_back(*col);
      if (const toml::node* n = (*t)->get("columns")) {
        const auto* arr = n->as_array();
        if (arr == nullptr) return BadMapping(f, "[id]", "'columns' must be an array of strings");
        for (const toml::node& el : *arr) {
          const auto* s = el.as_string();
          if (s == nullptr || s->get().empty()) {
            return BadMapping(f, "[id]", "'columns' must be an array of column names");
          }
          m.id_columns.push_back(s->get());
        }
      }
    }
  }

  // [category]
  {
    auto t = GetTable(root, "category", f, true);
    if (!t) return Unexpected(t.error());
    const toml::table& c = **t;
    if (auto r = CheckKeys(c, f, "[category]", {"column", "default", "map"}); !r) {
      return Unexpected(r.error());
    }
    auto col = GetString(c, "column", f, "[category]", true);
    if (!col) return Unexpected(col.error());
    m.category_column = *col;
    auto def = GetString(c, "default", f, "[category]");
    if (!def) return Unexpected(def.error());
    if (!def->empty()) {
      auto cat = GetCategory(*def, f, "[category] default");
      if (!cat) return Unexpected(cat.error());
      m.default_category = *cat;
    }
    auto map = GetTable(c, "map", f, false);
    if (!map) return Unexpected(map.error());
    if (*map != nullptr) {
      for (auto&& [key, value] : **map) {
        const auto* s = value.as_string();
        const std::string where = fmt::format("[category.map] \"{}\"", key.str());
        if (s == nullptr) return BadMapping(f, where, "must be a category name (a string)");
        auto cat = GetCategory(s->get(), f, where);
        if (!cat) return Unexpected(cat.error());
        m.category_exact.emplace(std::string(key.str()), *cat);
        m.category_folded.emplace(AsciiLower(Trim(key.str())), *cat);
      }
    }
    if (m.category_exact.empty() && !m.default_category) {
      return BadMapping(f, "[category]", "give a [category.map] table, a default, or both");
    }
  }

  // [time]
  {
    auto t = GetTable(root, "time", f, true);
    if (!t) return Unexpected(t.error());
    const toml::table& c = **t;
    if (auto r = CheckKeys(c, f, "[time]",
                           {"column", "format", "timezone", "year", "month", "day", "hour",
                            "minute", "second", "midnight_means_unknown"});
        !r) {
      return Unexpected(r.error());
    }
    struct Key {
      std::string_view key;
      std::string* out;
    };
    for (const Key& k :
         {Key{"column", &m.time_column}, Key{"format", &m.time_format}, Key{"year", &m.year_column},
          Key{"month", &m.month_column}, Key{"day", &m.day_column}, Key{"hour", &m.hour_column},
          Key{"minute", &m.minute_column}, Key{"second", &m.second_column}}) {
      auto v = GetString(c, k.key, f, "[time]");
      if (!v) return Unexpected(v.error());
      *k.out = *v;
    }
    auto tz = GetString(c, "timezone", f, "[time]");
    if (!tz) return Unexpected(tz.error());
    if (!tz->empty()) m.timezone = *tz;
    if (auto zone = TimeZone::Get(m.timezone); !zone) {
      return BadMapping(f, "[time] timezone", zone.error().message);
    }
    auto midnight = GetBool(c, "midnight_means_unknown", f, "[time]");
    if (!midnight) return Unexpected(midnight.error());
    m.midnight_means_unknown = *midnight;

    const bool parts = !m.year_column.empty() || !m.month_column.empty() || !m.day_column.empty() ||
                       !m.hour_column.empty() || !m.minute_column.empty() ||
                       !m.second_column.empty();
    if (parts == !m.time_column.empty()) {
      return BadMapping(f, "[time]",
                        "give either 'column' (with 'format') or part columns ('year', 'month', "
                        "and optionally 'day', 'hour', 'minute', 'second'), not both");
    }
    if (parts) {
      if (m.year_column.empty() || m.month_column.empty()) {
        return BadMapping(f, "[time]", "part columns need at least 'year' and 'month'");
      }
      if (m.day_column.empty() && !m.hour_column.empty()) {
        return BadMapping(f, "[time]", "an 'hour' column needs a 'day' column");
      }
      if (m.hour_column.empty() && (!m.minute_column.empty() || !m.second_column.empty())) {
        return BadMapping(f, "[time]", "'minute'/'second' columns need an 'hour' column");
      }
      if (!m.time_format.empty()) {
        return BadMapping(f, "[time]", "'format' applies to 'column', not to part columns");
      }
    } else {
      if (m.time_format.empty()) m.time_format = "iso8601";
      if (m.time_format != "iso8601") {
        auto pattern = TimePattern::Compile(m.time_format);
        if (!pattern) return BadMapping(f, "[time] format", pattern.error().message);
        m.time_pattern = std::move(*pattern);
      }
    }
  }

  // [location]
  {
    auto t = GetTable(root, "location", f, true);
    if (!t) return Unexpected(t.error());
    const toml::table& c = **t;
    if (auto r = CheckKeys(
            c, f, "[location]",
            {"lon", "lat", "x", "y", "epsg", "quality", "withheld_if_zero", "withheld_when"});
        !r) {
      return Unexpected(r.error());
    }
    struct Key {
      std::string_view key;
      std::string* out;
    };
    for (const Key& k : {Key{"lon", &m.lon_column}, Key{"lat", &m.lat_column},
                         Key{"x", &m.x_column}, Key{"y", &m.y_column}}) {
      auto v = GetString(c, k.key, f, "[location]");
      if (!v) return Unexpected(v.error());
      *k.out = *v;
    }
    const bool lonlat = !m.lon_column.empty() || !m.lat_column.empty();
    const bool xy = !m.x_column.empty() || !m.y_column.empty();
    if (lonlat == xy) {
      return BadMapping(f, "[location]", "give either 'lon' and 'lat' or 'x' and 'y' columns");
    }
    if ((lonlat && (m.lon_column.empty() || m.lat_column.empty())) ||
        (xy && (m.x_column.empty() || m.y_column.empty()))) {
      return BadMapping(f, "[location]", "both coordinate columns are needed");
    }
    if (const toml::node* n = c.get("epsg")) {
      const auto* i = n->as_integer();
      if (i == nullptr || i->get() <= 0 || i->get() > 999999) {
        return BadMapping(f, "[location] epsg", "must be an EPSG code number, e.g. 26910");
      }
      m.epsg = static_cast<int>(i->get());
    } else if (xy) {
      return BadMapping(f, "[location]", "'x'/'y' columns need 'epsg' (their CRS)");
    }
    if (lonlat && m.epsg != 4326) {
      return BadMapping(f, "[location]",
                        "'lon'/'lat' columns are WGS84 (epsg 4326); use 'x'/'y' "
                        "for projected coordinates");
    }
    auto quality = GetString(c, "quality", f, "[location]");
    if (!quality) return Unexpected(quality.error());
    if (quality->empty() || *quality == "exact") {
      m.quality = LocationQuality::kExact;
    } else if (*quality == "snapped") {
      m.quality = LocationQuality::kSnapped;
    } else {
      return BadMapping(f, "[location] quality", "must be \"exact\" or \"snapped\"");
    }
    auto zero = GetBool(c, "withheld_if_zero", f, "[location]");
    if (!zero) return Unexpected(zero.error());
    m.withheld_if_zero = *zero;
    auto when = GetString(c, "withheld_when", f, "[location]");
    if (!when) return Unexpected(when.error());
    if (!when->empty()) {
      auto rule = WithheldRule::Parse(*when);
      if (!rule) return BadMapping(f, "[location] withheld_when", rule.error().message);
      m.withheld_when = std::move(*rule);
    }
  }

  // [columns]
  {
    auto t = GetTable(root, "columns", f, false);
    if (!t) return Unexpected(t.error());
    if (*t != nullptr) {
      const toml::table& c = **t;
      if (auto r = CheckKeys(c, f, "[columns]", {"location_text", "area_code", "outcome", "force"});
          !r) {
        return Unexpected(r.error());
      }
      struct Key {
        std::string_view key;
        std::string* out;
      };
      for (const Key& k :
           {Key{"location_text", &m.location_column}, Key{"area_code", &m.area_column},
            Key{"outcome", &m.outcome_column}, Key{"force", &m.force_column}}) {
        auto v = GetString(c, k.key, f, "[columns]");
        if (!v) return Unexpected(v.error());
        *k.out = *v;
      }
    }
  }
  // Check the coordinate CRS now, so a typo fails before any data is read.
  if (m.epsg != 4326) {
    // Cached: creating a PROJ transformation costs milliseconds, and mappings are reloaded for
    // every file of an import.
    if (auto p = internal::CachedProjection(m.epsg, spatial::kWgs84); !p) {
      return BadMapping(f, "[location] epsg", p.error().message);
    }
  }
  return m;
}

Result<Mapping> LoadMapping(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Fail(ErrorCode::kFileNotFound, fmt::format("mapping file {} cannot be opened", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  if (s.size() > (1 << 20)) {
    return Fail(ErrorCode::kBadMapping,
                fmt::format("{}: a mapping file must be under 1 MiB", path));
  }
  return ParseMapping(s, path);
}

}  // namespace crimecast::ingest
