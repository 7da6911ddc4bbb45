#include "core/ingest/csv_event_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/ingest/text.hpp"
#include "core/spatial/projection.hpp"

namespace crimecast::ingest::internal {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

}  // namespace

int Header::Find(std::string_view name) const {
  const std::string_view want = Trim(name);
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (IEquals(Trim(names_[i]), want)) return static_cast<int>(i);
  }
  return -1;
}

std::string Header::Describe() const {
  std::string out;
  for (std::size_t i = 0; i < names_.size() && i < 20; ++i) {
    if (i > 0) out += ", ";
    out += fmt::format("'{}'", Excerpt(names_[i], 40));
  }
  if (names_.size() > 20) out += fmt::format(", ... ({} columns)", names_.size());
  return out;
}

std::optional<std::string> SniffNotCsv(std::string_view head) {
  struct Magic {
    std::string_view bytes;
    std::string_view what;
  };
  static constexpr Magic kMagic[] = {
      {"\x89PNG\r\n\x1A\n", "a PNG image"},
      {"\xFF\xD8\xFF", "a JPEG image"},
      {"GIF87a", "a GIF image"},
      {"GIF89a", "a GIF image"},
      {"%PDF", "a PDF document"},
      {"PK\x03\x04", "a ZIP archive (or an .xlsx/.ods spreadsheet: export it as CSV)"},
      {"\x1F\x8B", "a gzip-compressed file (decompress it first)"},
      {"BZh", "a bzip2-compressed file (decompress it first)"},
      {"\xFD"
       "7zXZ",
       "an xz-compressed file (decompress it first)"},
      {"SQLite format 3", "an SQLite database"},
      {"\x7F"
       "ELF",
       "an executable program"},
      {"\xD0\xCF\x11\xE0", "a legacy Microsoft Office document (export it as CSV)"},
      {"\xFF\xFE", "UTF-16 text (save it as UTF-8)"},
      {"\xFE\xFF", "UTF-16 text (save it as UTF-8)"},
  };
  for (const Magic& m : kMagic) {
    if (StartsWith(head, m.bytes)) return std::string("the data looks like ") + std::string(m.what);
  }
  std::size_t i = 0;
  while (i < head.size() &&
         (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n')) {
    ++i;
  }
  if (i < head.size() && (head[i] == '{' || head[i] == '[')) {
    return std::string("the data looks like a JSON document");
  }
  if (i < head.size() && head[i] == '<') {
    return std::string("the data looks like an XML or HTML document");
  }
  // A NUL in the first line (the header) means binary data; NULs further on are left to the
  // row checks so that one bad row does not condemn the file.
  const std::size_t first_line_end = std::min(head.find('\n'), head.size());
  if (head.substr(0, first_line_end).find('\0') != std::string_view::npos) {
    return std::string("the data is binary (NUL bytes in the first line)");
  }
  std::size_t control = 0;
  for (char c : head) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t' && c != '\r' && c != '\n') ++control;
  }
  if (head.size() >= 64 && control * 10 > head.size()) {
    return std::string("the data is binary (many control bytes)");
  }
  return std::nullopt;
}

Result<OpenedCsv> OpenCsv(std::unique_ptr<ByteSource> source, const std::string& name,
                          const ReaderOptions& options, char delimiter) {
  CsvOptions csv;
  csv.delimiter = delimiter;
  csv.max_record_bytes = options.max_line_bytes;
  csv.chunk_bytes = options.chunk_bytes;
  auto tokenizer = std::make_unique<CsvTokenizer>(std::move(source), csv);
  auto head = tokenizer->Peek(4096);
  if (!head) return Unexpected(head.error());
  if (head->empty()) {
    return Fail(ErrorCode::kEmptyInput,
                fmt::format("{}: the file is empty{}", name,
                            tokenizer->bom_skipped() ? " (only a byte order mark)" : " (0 bytes)"));
  }
  if (auto why = SniffNotCsv(*head)) {
    return Fail(ErrorCode::kMalformedCsv, fmt::format("{}: not a CSV file: {}", name, *why));
  }
  CsvRecord record;
  CsvProblem problem;
  auto status = tokenizer->Next(record, problem);
  if (!status) return Unexpected(status.error());
  if (*status == CsvStatus::kEnd) {
    return Fail(ErrorCode::kEmptyInput,
                fmt::format("{}: the file has no header line (only blank lines)", name));
  }
  if (*status == CsvStatus::kProblem) {
    return Fail(problem.code, fmt::format("{}:{}: cannot read the header line: {}", name,
                                          problem.line, problem.reason));
  }
  std::vector<std::string> names;
  names.reserve(record.fields.size());
  for (std::string_view f : record.fields) {
    const TextCheck check = CheckText(f);
    if (check.problem != TextProblem::kNone) {
      return Fail(ErrorCode::kBadEncoding,
                  fmt::format("{}:{}: the header line is not UTF-8 text ({}); not a CSV file?",
                              name, record.line, DescribeTextProblem(check, f)));
    }
    names.emplace_back(f);
  }
  return OpenedCsv{std::move(tokenizer), Header(std::move(names))};
}

Result<const spatial::Projection*> CachedProjection(int from_epsg, int to_epsg) {
  // Leases from the process-wide pool: the importer reads each file on a fresh thread, and a
  // thread's leases go back to the pool when it exits.
  thread_local std::map<std::pair<int, int>, spatial::ProjectionLease> cache;
  const auto key = std::make_pair(from_epsg, to_epsg);
  if (auto it = cache.find(key); it != cache.end()) return it->second.get();
  auto p = spatial::LeaseProjection(from_epsg, to_epsg);
  if (!p) return Unexpected(p.error());
  auto [it, inserted] = cache.emplace(key, std::move(*p));
  return it->second.get();
}

namespace {
struct PointCacheStore {
  std::mutex mu;
  std::map<std::pair<int, int>, std::unordered_map<PointKey, TransformedPoint, PointKeyHash>>
      tables;
};
PointCacheStore& PointCaches() {
  static PointCacheStore store;
  return store;
}
}  // namespace

void SharedPointCache::Lookup(int input_epsg, int store_epsg, const std::vector<PointKey>& keys,
                              std::vector<std::optional<TransformedPoint>>& out) {
  PointCacheStore& store = PointCaches();
  std::lock_guard lock(store.mu);
  auto& table = store.tables[{input_epsg, store_epsg}];
  out.resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto it = table.find(keys[i]);
    out[i] = it == table.end() ? std::nullopt : std::optional<TransformedPoint>(it->second);
  }
}

void SharedPointCache::Insert(int input_epsg, int store_epsg, const std::vector<PointKey>& keys,
                              const std::vector<TransformedPoint>& values) {
  PointCacheStore& store = PointCaches();
  std::lock_guard lock(store.mu);
  auto& table = store.tables[{input_epsg, store_epsg}];
  if (table.size() + keys.size() > (1u << 20)) table.clear();
  for (std::size_t i = 0; i < keys.size(); ++i) table.insert_or_assign(keys[i], values[i]);
}

CsvEventReader::CsvEventReader(std::string file, const ReaderOptions& options, OpenedCsv opened)
    : file_(std::move(file)),
      options_(options),
      tokenizer_(std::move(opened.tokenizer)),
      header_(std::move(opened.header)),
      store_epsg_(options.store_epsg) {}

CsvEventReader::~CsvEventReader() = default;

double CsvEventReader::fraction_done() const {
  if (done_) return 1.0;
  const std::uint64_t total = tokenizer_->size_hint();
  if (total == 0) return 0.0;
  return std::min(1.0,
                  static_cast<double>(tokenizer_->bytes_consumed()) / static_cast<double>(total));
}

Event& CsvEventReader::AppendEvent(std::vector<Event>& events) {
  Event& e = events.emplace_back();
  if (pool_ == nullptr || pool_->empty()) return e;
  // A default Event whose strings take over the spare's buffers (cleared): assigning a field of
  // the usual length then needs no allocation. Every other member keeps its default.
  Event& spare = pool_->back();
  for (std::string Event::*s :
       {&Event::source, &Event::source_id, &Event::source_type, &Event::location_text,
        &Event::area_code, &Event::force, &Event::outcome}) {
    (e.*s).swap(spare.*s);
    (e.*s).clear();
  }
  pool_->pop_back();
  return e;
}

void CsvEventReader::RowFail(std::int64_t line, std::string_view field, ErrorCode code,
                             std::string reason) {
  errors_->push_back(RowError{file_, line, std::string(field), code, std::move(reason)});
}

bool CsvEventReader::CheckFieldCount(const CsvRecord& record) {
  if (record.fields.size() == header_.size()) return true;
  std::string reason = fmt::format("expected {} fields (as in the header), found {}",
                                   header_.size(), record.fields.size());
  if (record.last_line > record.line) {
    reason += fmt::format(
        " in a record spanning lines {}-{} (a stray quote?); reading resumes at line {}",
        record.line, record.last_line, record.line + 1);
    tokenizer_->ResyncAfterFirstLine();
  }
  RowFail(record.line, "", ErrorCode::kMalformedCsv, std::move(reason));
  return false;
}

bool CsvEventReader::CheckText(const CsvRecord& record, std::span<const int> columns) {
  // Nearly every record is plain ASCII: one pass over the raw bytes clears all its fields.
  if (IsPlainAscii(record.raw)) return true;
  for (int c : columns) {
    if (c < 0) continue;
    const std::string_view f = record.fields[static_cast<std::size_t>(c)];
    const TextCheck check = ingest::CheckText(f);
    if (check.problem != TextProblem::kNone) {
      RowFail(record.line, header_.name(c), ErrorCode::kBadEncoding, DescribeTextProblem(check, f));
      return false;
    }
  }
  return true;
}

void CsvEventReader::QueueLonLat(std::size_t event_index, std::int64_t line, double lon,
                                 double lat) {
  pending_.push_back({event_index, line, lon, lat});
}

void CsvEventReader::QueueXy(std::size_t event_index, std::int64_t line, double x, double y) {
  pending_.push_back({event_index, line, x, y});
}

Result<void> CsvEventReader::ProjectPending(std::vector<Event>& events, std::size_t first_event) {
  if (pending_.empty()) return {};
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  const std::size_t n = pending_.size();
  auto key_of = [](const Pending& p) {
    PointKey k;
    std::memcpy(&k.a, &p.a, sizeof k.a);
    std::memcpy(&k.b, &p.b, sizeof k.b);
    return k;
  };
  const bool from_input = input_epsg_ != spatial::kWgs84;

  // 1. The store CRS, from the first located point of the file when not given.
  if (store_epsg_ == 0) {
    for (const Pending& p : pending_) {
      double lon = p.a;
      double lat = p.b;
      if (from_input) {
        auto to_wgs84 = CachedProjection(input_epsg_, spatial::kWgs84);
        if (!to_wgs84) return Unexpected(to_wgs84.error());
        auto ll = (*to_wgs84)->Forward(p.a, p.b);
        if (!ll) continue;
        lon = ll->x;
        lat = ll->y;
      }
      if (spatial::IsValidLonLat(lon, lat)) {
        store_epsg_ = spatial::DefaultProjectedEpsg(lon, lat);
        break;
      }
    }
    // When every point failed, store_epsg_ stays 0 (a later batch chooses) and the points of
    // this batch are reported below as not convertible.
  }
  // 2. Cached results, and the distinct points of this batch not transformed before.
  keys_.resize(n);
  for (std::size_t i = 0; i < n; ++i) keys_[i] = key_of(pending_[i]);
  SharedPointCache::Lookup(input_epsg_, store_epsg_, keys_, resolved_);
  miss_keys_.clear();
  miss_first_.clear();
  std::unordered_map<PointKey, std::size_t, PointKeyHash> miss_index;  // key -> miss number
  for (std::size_t i = 0; i < n; ++i) {
    if (resolved_[i] || !miss_index.try_emplace(keys_[i], miss_keys_.size()).second) continue;
    miss_keys_.push_back(keys_[i]);
    miss_first_.push_back(i);
  }
  const std::size_t m = miss_keys_.size();
  miss_results_.assign(m, TransformedPoint{kNaN, kNaN, kNaN, kNaN});
  if (m > 0 && store_epsg_ != 0) {
    // 3. WGS84 lon/lat.
    lons_.resize(m);
    lats_.resize(m);
    for (std::size_t k = 0; k < m; ++k) {
      lons_[k] = pending_[miss_first_[k]].a;
      lats_[k] = pending_[miss_first_[k]].b;
    }
    if (from_input) {
      auto to_wgs84 = CachedProjection(input_epsg_, spatial::kWgs84);
      if (!to_wgs84) return Unexpected(to_wgs84.error());
      (*to_wgs84)->Forward(std::span<double>(lons_), std::span<double>(lats_));
      for (std::size_t k = 0; k < m; ++k) {
        if (!spatial::IsValidLonLat(lons_[k], lats_[k])) lons_[k] = lats_[k] = kNaN;
      }
    }
    // 4. x/y in the store CRS: straight from the input CRS when it is projected (one
    // transformation, not two), a copy when it already is the store CRS.
    xs_.resize(m);
    ys_.resize(m);
    for (std::size_t k = 0; k < m; ++k) {
      const bool ok = std::isfinite(lons_[k]);
      xs_[k] = !ok ? kNaN : from_input ? pending_[miss_first_[k]].a : lons_[k];
      ys_[k] = !ok ? kNaN : from_input ? pending_[miss_first_[k]].b : lats_[k];
    }
    if (!(from_input && input_epsg_ == store_epsg_)) {
      auto proj = CachedProjection(from_input ? input_epsg_ : spatial::kWgs84, store_epsg_);
      if (!proj) return Unexpected(proj.error());
      (*proj)->Forward(std::span<double>(xs_), std::span<double>(ys_));
    }
    for (std::size_t k = 0; k < m; ++k) {
      miss_results_[k] = TransformedPoint{lons_[k], lats_[k], xs_[k], ys_[k]};
    }
  }
  if (m > 0) {
    SharedPointCache::Insert(input_epsg_, store_epsg_, miss_keys_, miss_results_);
    for (std::size_t i = 0; i < n; ++i) {
      if (!resolved_[i]) resolved_[i] = miss_results_[miss_index.find(keys_[i])->second];
    }
  }

  // 5. Fill the events; points that failed become row errors.
  keep_.assign(events.size() - first_event, 1);
  bool dropped = false;
  for (std::size_t i = 0; i < n; ++i) {
    const Pending& p = pending_[i];
    const TransformedPoint& t = *resolved_[i];
    if (!std::isfinite(t.lon)) {
      keep_[p.event_index - first_event] = 0;
      dropped = true;
      RowFail(p.line, coord_fields_.first, ErrorCode::kBadCoordinate,
              fmt::format("{}={}, {}={} cannot be converted from EPSG:{} to longitude/latitude",
                          coord_fields_.first, p.a, coord_fields_.second, p.b, input_epsg_));
      continue;
    }
    if (!std::isfinite(t.x) || !std::isfinite(t.y)) {
      keep_[p.event_index - first_event] = 0;
      dropped = true;
      RowFail(p.line, coord_fields_.first, ErrorCode::kProjection,
              fmt::format("the point (lon {}, lat {}) cannot be projected to EPSG:{}", t.lon, t.lat,
                          store_epsg_));
      continue;
    }
    Event& e = events[p.event_index];
    e.lon = t.lon;
    e.lat = t.lat;
    e.x = t.x;
    e.y = t.y;
    e.epsg = store_epsg_;
  }
  pending_.clear();

  // Remove dropped events, keeping file order.
  if (dropped) {
    std::size_t out = first_event;
    for (std::size_t i = first_event; i < events.size(); ++i) {
      if (keep_[i - first_event]) {
        if (out != i) events[out] = std::move(events[i]);
        ++out;
      }
    }
    events.resize(out);
  }
  return {};
}

Result<bool> CsvEventReader::Next(std::vector<Event>& events, std::vector<RowError>& errors,
                                  std::size_t max_rows) {
  if (done_) return false;
  max_rows = std::max<std::size_t>(max_rows, 1);  // 0 would never make progress
  errors_ = &errors;
  const std::size_t first_event = events.size();
  const std::size_t first_error = errors.size();
  pending_.clear();
  // One allocation per batch instead of log2(batch) regrowths (capped: max_rows may be huge).
  events.reserve(events.size() + std::min<std::size_t>(max_rows, 1 << 16));
  bool more = true;
  for (std::size_t rows = 0; rows < max_rows; ++rows) {
    auto status = tokenizer_->Next(record_, problem_);
    if (!status) {
      errors_ = nullptr;
      return Fail(status.error().code, fmt::format("{}: {}", file_, status.error().message));
    }
    if (*status == CsvStatus::kEnd) {
      more = false;
      break;
    }
    ++rows_read_;
    if (*status == CsvStatus::kProblem) {
      RowFail(problem_.line, "", problem_.code, std::move(problem_.reason));
      continue;
    }
    ConvertRecord(record_, events);
  }
  auto projected = ProjectPending(events, first_event);
  // Projection failures were appended after the row errors of the batch; restore file order.
  std::stable_sort(errors.begin() + static_cast<std::ptrdiff_t>(first_error), errors.end(),
                   [](const RowError& a, const RowError& b) { return a.line < b.line; });
  errors_ = nullptr;
  if (!projected) {
    return Fail(projected.error().code, fmt::format("{}: {}", file_, projected.error().message));
  }
  if (!more) done_ = true;
  return more;
}

}  // namespace crimecast::ingest::internal
