#include "core/storage/sqlite_layer_store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <unordered_map>

#include "core/storage/sqlite_common.hpp"

namespace crimecast::storage {
namespace {

using internal::Exec;
using internal::SqlError;

// RAII prepared statement (copies its bindings and reads blobs; see sqlite_common.hpp for why
// the event store keeps its own).
class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }
  static Result<Stmt> Prepare(sqlite3* db, std::string_view sql) {
    Stmt st;
    st.db_ = db;
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &st.s_, nullptr) !=
        SQLITE_OK) {
      return SqlError(db, fmt::format("prepare '{}'", sql.substr(0, 60)));
    }
    return st;
  }
  Stmt& Bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // true: a row; false: done.
  Result<bool> Step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqlError(db_, "step");
  }
  Result<void> Run() {
    auto r = Step();
    if (!r) return Unexpected(r.error());
    sqlite3_reset(s_);
    return {};
  }
  void Reset() { sqlite3_reset(s_); }
  std::int64_t Int(int c) const { return sqlite3_column_int64(s_, c); }
  double Real(int c) const { return sqlite3_column_double(s_, c); }
  std::string Text(int c) const {
    const auto* p = sqlite3_column_text(s_, c);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(s_, c)))
             : std::string();
  }
  std::string_view Blob(int c) const {
    const void* p = sqlite3_column_blob(s_, c);
    return p ? std::string_view(static_cast<const char*>(p),
                                static_cast<std::size_t>(sqlite3_column_bytes(s_, c)))
             : std::string_view();
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT; rolled back on destruction unless committed.
class Txn {
 public:
  static Result<Txn> Begin(sqlite3* db) {
    if (auto r = Exec(db, "BEGIN IMMEDIATE"); !r) return Unexpected(r.error());
    return Txn(db);
  }
  Txn(Txn&& o) noexcept : db_(o.db_), open_(o.open_) { o.open_ = false; }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  Txn& operator=(Txn&&) = delete;
  ~Txn() {
    if (open_) Exec(db_, "ROLLBACK");
  }
  Result<void> Commit() {
    open_ = false;
    return Exec(db_, "COMMIT");
  }

 private:
  explicit Txn(sqlite3* db) : db_(db), open_(true) {}
  sqlite3* db_;
  bool open_;
};

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr const char* kLayerColumns =
    "l.id, l.name, l.description, l.source, l.unit, l.per_km2, l.table_file, l.key_column, "
    "l.value_column, l.created_at, l.value_count, l.table_rows, l.codes_without_area, "
    "l.areas_without_value, s.id, s.file_name, s.sha256, s.id_field, s.source_crs, s.area_count";

LayerInfo ReadLayer(const Stmt& st) {
  LayerInfo l;
  l.id = st.Int(0);
  l.name = st.Text(1);
  l.description = st.Text(2);
  l.source = st.Text(3);
  l.unit = st.Text(4);
  l.per_km2 = st.Int(5) != 0;
  l.table_file = st.Text(6);
  l.key_column = st.Text(7);
  l.value_column = st.Text(8);
  l.created_at = st.Int(9);
  l.value_count = st.Int(10);
  l.table_rows = st.Int(11);
  l.codes_without_area = st.Int(12);
  l.areas_without_value = st.Int(13);
  l.areas.id = st.Int(14);
  l.areas.file_name = st.Text(15);
  l.areas.sha256 = st.Text(16);
  l.areas.id_field = st.Text(17);
  l.areas.source_crs = st.Text(18);
  l.areas.area_count = st.Int(19);
  return l;
}

Result<std::optional<LayerInfo>> FindLayer(sqlite3* db, const std::string& name) {
  auto st = Stmt::Prepare(db, fmt::format("SELECT {} FROM covariate_layers l JOIN area_sets s ON "
                                          "s.id = l.set_id WHERE l.name = ?",
                                          kLayerColumns));
  if (!st) return Unexpected(st.error());
  st->Bind(1, std::string_view(name));
  auto row = st->Step();
  if (!row) return Unexpected(row.error());
  if (!*row) return std::optional<LayerInfo>();
  return std::optional<LayerInfo>(ReadLayer(*st));
}

// Deletes a layer's row (values cascade) and its area set when no other layer uses it.
Result<void> DeleteLayer(sqlite3* db, const LayerInfo& l) {
  auto del = Stmt::Prepare(db, "DELETE FROM covariate_layers WHERE id = ?");
  if (!del) return Unexpected(del.error());
  if (auto r = del->Bind(1, l.id).Run(); !r) return r;
  auto users = Stmt::Prepare(db, "SELECT COUNT(*) FROM covariate_layers WHERE set_id = ?");
  if (!users) return Unexpected(users.error());
  users->Bind(1, l.areas.id);
  if (auto r = users->Step(); !r) return Unexpected(r.error());
  if (users->Int(0) == 0) {
    auto ds = Stmt::Prepare(db, "DELETE FROM area_sets WHERE id = ?");
    if (!ds) return Unexpected(ds.error());
    if (auto r = ds->Bind(1, l.areas.id).Run(); !r) return r;
  }
  return {};
}

Result<void> BumpVersion(sqlite3* db) {
  return Exec(
      db,
      "INSERT INTO settings(key, value) VALUES ('covariate_layers_version', CAST(1 + (random() & "
      "9007199254740991) AS TEXT)) "
      "ON CONFLICT(key) DO UPDATE SET value = CAST(1 + (random() & 9007199254740991) AS TEXT)");
}

// ---- WKB ----
void PutU32(std::string& out, std::uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);  // little-endian hosts only (checked below)
  out.append(b, 4);
}
void PutF64(std::string& out, double v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}
static_assert(std::endian::native == std::endian::little, "WKB code assumes a little-endian host");

struct WkbReader {
  std::string_view s;
  std::size_t pos = 0;
  bool ok = true;
  std::uint32_t U32() {
    if (pos + 4 > s.size()) {
      ok = false;
      return 0;
    }
    std::uint32_t v;
    std::memcpy(&v, s.data() + pos, 4);
    pos += 4;
    return v;
  }
  double F64() {
    if (pos + 8 > s.size()) {
      ok = false;
      return 0;
    }
    double v;
    std::memcpy(&v, s.data() + pos, 8);
    pos += 8;
    return v;
  }
  bool ByteOrder() {
    if (pos >= s.size() || s[pos] != 1) return ok = false;
    ++pos;
    return true;
  }
};

}  // namespace

std::string EncodeWkb(const spatial::MultiPolygon& geometry) {
  std::string out;
  out += '\x01';
  PutU32(out, 6);  // MultiPolygon
  PutU32(out, static_cast<std::uint32_t>(geometry.size()));
  for (const auto& poly : geometry) {
    out += '\x01';
    PutU32(out, 3);  // Polygon
    PutU32(out, static_cast<std::uint32_t>(poly.rings.size()));
    for (const auto& ring : poly.rings) {
      PutU32(out, static_cast<std::uint32_t>(ring.PointCount()));
      for (double v : ring.xy) PutF64(out, v);
    }
  }
  return out;
}

Result<spatial::MultiPolygon> DecodeWkb(std::string_view wkb) {
  WkbReader r{wkb};
  spatial::MultiPolygon out;
  if (!r.ByteOrder() || r.U32() != 6) {
    return Fail(ErrorCode::kBadGeometry, "stored area geometry is not a WKB MultiPolygon");
  }
  const std::uint32_t n = r.U32();
  for (std::uint32_t p = 0; p < n && r.ok; ++p) {
    if (!r.ByteOrder() || r.U32() != 3) break;
    spatial::Polygon poly;
    const std::uint32_t rings = r.U32();
    for (std::uint32_t k = 0; k < rings && r.ok; ++k) {
      const std::uint32_t pts = r.U32();
      if (!r.ok || static_cast<std::size_t>(pts) * 16 > wkb.size() - r.pos) {
        r.ok = false;
        break;
      }
      spatial::Ring ring;
      ring.xy.resize(2 * static_cast<std::size_t>(pts));
      for (double& v : ring.xy) v = r.F64();
      poly.rings.push_back(std::move(ring));
    }
    out.push_back(std::move(poly));
  }
  if (!r.ok || out.size() != n) {
    return Fail(ErrorCode::kBadGeometry, "stored area geometry is truncated or not polygonal");
  }
  return out;
}

Result<void> ValidateLayerName(const std::string& name) {
  const bool ok =
      !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
      });
  if (!ok) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("layer name '{}': use 1-64 letters, digits, '_' or '-' (it becomes "
                            "the feature column cov_<name>)",
                            name));
  }
  return {};
}

Result<std::optional<LayerInfo>> SqliteLayerStore::PutLayer(const LayerInfo& info,
                                                            const AreaSetInfo& area_info,
                                                            const std::vector<AreaGeometry>& areas,
                                                            const std::vector<std::string>& codes,
                                                            const std::vector<double>& values) {
  if (auto ok = ValidateLayerName(info.name); !ok) return Unexpected(ok.error());
  if (codes.size() != values.size()) {
    return Fail(ErrorCode::kInvalidArgument, "PutLayer: codes and values differ in length");
  }
  std::unordered_map<std::string_view, std::size_t> area_of;
  for (std::size_t i = 0; i < areas.size(); ++i) area_of.emplace(areas[i].code, i);
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (!area_of.contains(codes[i])) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("PutLayer: code '{}' has no area in the set", codes[i]));
    }
    if (!std::isfinite(values[i])) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("PutLayer: value of '{}' is not finite", codes[i]));
    }
  }
  auto txn = Txn::Begin(db_);
  if (!txn) return Unexpected(txn.error());
  auto previous = FindLayer(db_, info.name);
  if (!previous) return Unexpected(previous.error());
  if (*previous) {
    if (auto r = DeleteLayer(db_, **previous); !r) return Unexpected(r.error());
  }
  // The area set: reuse one stored from the same bytes and code column.
  std::int64_t set_id = 0;
  {
    auto find = Stmt::Prepare(db_, "SELECT id FROM area_sets WHERE sha256 = ? AND id_field = ?");
    if (!find) return Unexpected(find.error());
    find->Bind(1, std::string_view(area_info.sha256)).Bind(2, std::string_view(area_info.id_field));
    auto row = find->Step();
    if (!row) return Unexpected(row.error());
    if (*row) set_id = find->Int(0);
  }
  if (set_id == 0) {
    auto ins = Stmt::Prepare(db_,
                             "INSERT INTO area_sets (file_name, sha256, id_field, source_crs, "
                             "area_count, created_at) VALUES (?,?,?,?,?,?)");
    if (!ins) return Unexpected(ins.error());
    ins->Bind(1, std::string_view(area_info.file_name))
        .Bind(2, std::string_view(area_info.sha256))
        .Bind(3, std::string_view(area_info.id_field))
        .Bind(4, std::string_view(area_info.source_crs))
        .Bind(5, static_cast<std::int64_t>(areas.size()))
        .Bind(6, NowSeconds());
    if (auto r = ins->Run(); !r) return Unexpected(r.error());
    set_id = sqlite3_last_insert_rowid(db_);
    auto geo = Stmt::Prepare(db_,
                             "INSERT INTO area_geometries (set_id, code, name, area_km2, min_lon, "
                             "min_lat, max_lon, max_lat, wkb) VALUES (?,?,?,?,?,?,?,?,?)");
    if (!geo) return Unexpected(geo.error());
    for (const AreaGeometry& a : areas) {
      const std::string wkb = EncodeWkb(a.lonlat);
      geo->Bind(1, set_id)
          .Bind(2, std::string_view(a.code))
          .Bind(3, std::string_view(a.name))
          .Bind(4, a.area_km2)
          .Bind(5, a.envelope.min_x)
          .Bind(6, a.envelope.min_y)
          .Bind(7, a.envelope.max_x)
          .Bind(8, a.envelope.max_y)
          .BindBlob(9, wkb);
      if (auto r = geo->Run(); !r) {
        return Fail(ErrorCode::kStorage,
                    fmt::format("storing area '{}': {}", a.code, r.error().message));
      }
    }
  }
  auto ins = Stmt::Prepare(db_,
                           "INSERT INTO covariate_layers (name, description, source, unit, "
                           "per_km2, set_id, table_file, key_column, value_column, created_at, "
                           "value_count, table_rows, codes_without_area, areas_without_value) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!ins) return Unexpected(ins.error());
  ins->Bind(1, std::string_view(info.name))
      .Bind(2, std::string_view(info.description))
      .Bind(3, std::string_view(info.source))
      .Bind(4, std::string_view(info.unit))
      .Bind(5, static_cast<std::int64_t>(info.per_km2))
      .Bind(6, set_id)
      .Bind(7, std::string_view(info.table_file))
      .Bind(8, std::string_view(info.key_column))
      .Bind(9, std::string_view(info.value_column))
      .Bind(10, info.created_at ? info.created_at : NowSeconds())
      .Bind(11, static_cast<std::int64_t>(codes.size()))
      .Bind(12, info.table_rows)
      .Bind(13, info.codes_without_area)
      .Bind(14, info.areas_without_value);
  if (auto r = ins->Run(); !r) return Unexpected(r.error());
  const std::int64_t layer_id = sqlite3_last_insert_rowid(db_);
  auto val =
      Stmt::Prepare(db_, "INSERT INTO covariate_values (layer_id, code, value) VALUES (?,?,?)");
  if (!val) return Unexpected(val.error());
  for (std::size_t i = 0; i < codes.size(); ++i) {
    val->Bind(1, layer_id).Bind(2, std::string_view(codes[i])).Bind(3, values[i]);
    if (auto r = val->Run(); !r) {
      return Fail(ErrorCode::kStorage, fmt::format("storing the value of '{}': {} (a code may "
                                                   "appear only once)",
                                                   codes[i], r.error().message));
    }
  }
  if (auto r = BumpVersion(db_); !r) return Unexpected(r.error());
  if (auto r = txn->Commit(); !r) return Unexpected(r.error());
  return *previous;
}

Result<std::vector<LayerInfo>> SqliteLayerStore::ListLayers() {
  auto st = Stmt::Prepare(db_, fmt::format("SELECT {} FROM covariate_layers l JOIN area_sets s ON "
                                           "s.id = l.set_id ORDER BY l.name",
                                           kLayerColumns));
  if (!st) return Unexpected(st.error());
  std::vector<LayerInfo> out;
  for (;;) {
    auto row = st->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    out.push_back(ReadLayer(*st));
  }
  return out;
}

Result<LayerInfo> SqliteLayerStore::RemoveLayer(const std::string& name) {
  auto txn = Txn::Begin(db_);
  if (!txn) return Unexpected(txn.error());
  auto found = FindLayer(db_, name);
  if (!found) return Unexpected(found.error());
  if (!*found) return Fail(ErrorCode::kNotFound, fmt::format("no covariate layer '{}'", name));
  if (auto r = DeleteLayer(db_, **found); !r) return Unexpected(r.error());
  if (auto r = BumpVersion(db_); !r) return Unexpected(r.error());
  if (auto r = txn->Commit(); !r) return Unexpected(r.error());
  return **found;
}

Result<LayerValues> SqliteLayerStore::GetLayerValues(const std::string& name) {
  auto found = FindLayer(db_, name);
  if (!found) return Unexpected(found.error());
  if (!*found) return Fail(ErrorCode::kNotFound, fmt::format("no covariate layer '{}'", name));
  LayerValues out{**found, {}, {}};
  auto st = Stmt::Prepare(
      db_, "SELECT code, value FROM covariate_values WHERE layer_id = ? ORDER BY code");
  if (!st) return Unexpected(st.error());
  st->Bind(1, out.info.id);
  for (;;) {
    auto row = st->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    out.codes.push_back(st->Text(0));
    out.values.push_back(st->Real(1));
  }
  return out;
}

Result<LoadedLayers> SqliteLayerStore::LoadLayers(const std::array<double, 4>& bbox) {
  auto layers = ListLayers();
  if (!layers) return Unexpected(layers.error());
  LoadedLayers out;
  std::map<std::int64_t, std::size_t> set_index;                       // set id -> index
  std::vector<std::unordered_map<std::string, std::int32_t>> by_code;  // per loaded set
  for (const LayerInfo& l : *layers) {
    auto [it, fresh] = set_index.emplace(l.areas.id, out.area_sets.size());
    if (fresh) {
      out.area_sets.emplace_back();
      by_code.emplace_back();
      auto st = Stmt::Prepare(db_,
                              "SELECT code, name, area_km2, min_lon, min_lat, max_lon, max_lat, "
                              "wkb FROM area_geometries WHERE set_id = ? AND min_lon <= ? AND "
                              "max_lon >= ? AND min_lat <= ? AND max_lat >= ? ORDER BY code");
      if (!st) return Unexpected(st.error());
      st->Bind(1, l.areas.id).Bind(2, bbox[2]).Bind(3, bbox[0]).Bind(4, bbox[3]).Bind(5, bbox[1]);
      for (;;) {
        auto row = st->Step();
        if (!row) return Unexpected(row.error());
        if (!*row) break;
        AreaGeometry a;
        a.code = st->Text(0);
        a.name = st->Text(1);
        a.area_km2 = st->Real(2);
        a.envelope.Expand(st->Real(3), st->Real(4));
        a.envelope.Expand(st->Real(5), st->Real(6));
        auto geom = DecodeWkb(st->Blob(7));
        if (!geom) {
          return Fail(ErrorCode::kStorage,
                      fmt::format("area '{}': {}", a.code, geom.error().message));
        }
        a.lonlat = std::move(*geom);
        by_code.back().emplace(a.code, static_cast<std::int32_t>(out.area_sets.back().size()));
        out.area_sets.back().push_back(std::move(a));
      }
    }
    LoadedLayer ll;
    ll.info = l;
    ll.area_set = it->second;
    const auto& codes = by_code[it->second];
    if (!codes.empty()) {
      auto st = Stmt::Prepare(db_, "SELECT code, value FROM covariate_values WHERE layer_id = ?");
      if (!st) return Unexpected(st.error());
      st->Bind(1, l.id);
      for (;;) {
        auto row = st->Step();
        if (!row) return Unexpected(row.error());
        if (!*row) break;
        const auto c = codes.find(st->Text(0));
        if (c == codes.end()) continue;  // area outside the box
        ll.area.push_back(c->second);
        ll.value.push_back(st->Real(1));
      }
    }
    out.layers.push_back(std::move(ll));
  }
  return out;
}

Result<std::int64_t> SqliteLayerStore::LayersVersion() {
  auto st = Stmt::Prepare(
      db_, "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'covariate_layers_version'");
  if (!st) return Unexpected(st.error());
  auto row = st->Step();
  if (!row) return Unexpected(row.error());
  return *row ? st->Int(0) : 0;
}

}  // namespace crimecast::storage
