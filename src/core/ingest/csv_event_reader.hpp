// core/ingest/csv_event_reader.hpp (internal to the ingest module)
//
// The machinery every CSV-based EventReader shares: opening and sniffing the input, the header,
// the row loop with its error bookkeeping, and batched projection.
//
// A format reader (police-uk, canonical, mapped) only converts one tokenized record into an
// Event. It validates the fields it uses, fills everything except the projected coordinates,
// and queues the point (lon/lat, or x/y in the input CRS) with QueueLonLat/QueueXy. After each
// Next() batch the base class transforms all queued points with one proj_trans_generic call per
// transformation (why: a call per point costs ~10x more), fills lon/lat/x/y/epsg, and turns
// points PROJ cannot transform into RowErrors.
//
// Store CRS: ReaderOptions::store_epsg, else spatial::DefaultProjectedEpsg of the first located
// point of the file (EPSG:27700 for Great Britain, else its UTM zone), fixed for the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/ingest/csv_tokenizer.hpp"
#include "core/ingest/mapping.hpp"
#include "core/ingest/reader.hpp"

namespace crimecast::spatial {
class Projection;
}

namespace crimecast::ingest::internal {

// The header row, with case-insensitive lookup of column names.
class Header {
 public:
  Header() = default;
  explicit Header(std::vector<std::string> names) : names_(std::move(names)) {}
  // Index of the column whose trimmed name equals `name` ignoring ASCII case; -1 when absent.
  int Find(std::string_view name) const;
  std::size_t size() const { return names_.size(); }
  const std::string& name(int i) const { return names_[static_cast<std::size_t>(i)]; }
  std::string Describe() const;  // "'Crime ID', 'Month', ..." for error messages

 private:
  std::vector<std::string> names_;
};

// An opened CSV input whose header has been read and checked to be text.
struct OpenedCsv {
  std::unique_ptr<CsvTokenizer> tokenizer;
  Header header;
};

// Opens the input and reads its header. Whole-file failures: kEmptyInput (0 bytes or only
// blank lines), kMalformedCsv (binary data, an image, an archive, JSON/XML, a broken header
// line), kLineTooLong (header longer than the limit), kBadEncoding (header not UTF-8).
Result<OpenedCsv> OpenCsv(std::unique_ptr<ByteSource> source, const std::string& name,
                          const ReaderOptions& options, char delimiter = ',');

// Why a file is certainly not delimited text, or nullopt. Looks at the first bytes only.
std::optional<std::string> SniffNotCsv(std::string_view head);

// A projection shared by all readers of this thread (creating one costs ~1 ms; PROJ objects
// are not thread-safe, hence per thread).
Result<const spatial::Projection*> CachedProjection(int from_epsg, int to_epsg);

// Results of earlier transformations, keyed by (input CRS, store CRS) and the exact input
// coordinates, shared by all readers of the process (the importer reads each file on its own
// thread). Why: published crime points are snapped to a fixed set of map points (the 24 Gwent
// files: 8,780 distinct points in 130k rows, 62k if each file were cached on its own), and a
// datum-shifting transformation costs ~1 us a point, more than all the rest of a row's
// processing. A NaN lon marks a point that cannot be converted to WGS84, a NaN x one that cannot
// be projected. Thread-safe; bounded (a table is cleared when it passes ~1M points).
struct PointKey {
  std::uint64_t a;
  std::uint64_t b;
  bool operator==(const PointKey&) const = default;
};
struct PointKeyHash {
  std::size_t operator()(const PointKey& k) const {
    return static_cast<std::size_t>((k.a * 0x9E3779B97F4A7C15ULL) ^ (k.b + (k.a >> 29)));
  }
};
struct TransformedPoint {
  double lon, lat, x, y;
};
class SharedPointCache {
 public:
  // For each key: the cached result, or nullopt (a miss). One lock per call.
  static void Lookup(int input_epsg, int store_epsg, const std::vector<PointKey>& keys,
                     std::vector<std::optional<TransformedPoint>>& out);
  static void Insert(int input_epsg, int store_epsg, const std::vector<PointKey>& keys,
                     const std::vector<TransformedPoint>& values);
};

class CsvEventReader : public EventReader {
 public:
  ~CsvEventReader() override;

  Result<bool> Next(std::vector<Event>& events, std::vector<RowError>& errors,
                    std::size_t max_rows) final;
  std::int64_t rows_read() const final { return rows_read_; }
  double fraction_done() const final;
  const std::string& source() const final { return source_; }
  int store_epsg() const final { return store_epsg_; }
  void ReuseEvents(std::vector<Event>* pool) final { pool_ = pool; }

 protected:
  CsvEventReader(std::string file, const ReaderOptions& options, OpenedCsv opened);

  // Converts one record. Returns true after appending an Event to `events`; otherwise reports
  // the row with RowFail() and returns false.
  virtual bool ConvertRecord(const CsvRecord& record, std::vector<Event>& events) = 0;

  // Appends a default Event to `events` (from the ReuseEvents pool when it has one) and returns
  // it. ConvertRecord appends through this.
  Event& AppendEvent(std::vector<Event>& events);

  // Records one bad row (called from ConvertRecord).
  void RowFail(std::int64_t line, std::string_view field, ErrorCode code, std::string reason);
  // The record has as many fields as the header; otherwise RowFail and, for a multi-line
  // record, resynchronise at its second line.
  bool CheckFieldCount(const CsvRecord& record);
  // The listed columns (-1 entries ignored) hold UTF-8 text without NUL bytes.
  bool CheckText(const CsvRecord& record, std::span<const int> columns);

  // Queue the located event at `event_index` for projection. QueueLonLat takes validated WGS84
  // degrees; QueueXy takes coordinates in input_epsg() (validated after conversion).
  void QueueLonLat(std::size_t event_index, std::int64_t line, double lon, double lat);
  void QueueXy(std::size_t event_index, std::int64_t line, double x, double y);

  // Names used in error messages about the coordinate columns.
  void SetCoordinateFields(std::string first, std::string second) {
    coord_fields_ = {std::move(first), std::move(second)};
  }
  // CRS of x/y input (4326 when the input is lon/lat).
  void SetInputEpsg(int epsg) { input_epsg_ = epsg; }
  int input_epsg() const { return input_epsg_; }

  const Header& header() const { return header_; }
  const std::string& file() const { return file_; }
  const ReaderOptions& options() const { return options_; }
  void set_source(std::string s) { source_ = std::move(s); }

 private:
  struct Pending {
    std::size_t event_index;
    std::int64_t line;
    double a;  // lon or x
    double b;  // lat or y
  };
  // Transforms the queued points; drops events whose point fails. Returns whole-file errors
  // only (an unusable store CRS).
  Result<void> ProjectPending(std::vector<Event>& events, std::size_t first_event);

  std::string file_;
  ReaderOptions options_;
  std::unique_ptr<CsvTokenizer> tokenizer_;
  Header header_;
  std::string source_;
  std::int64_t rows_read_ = 0;
  bool done_ = false;
  int input_epsg_ = 4326;
  int store_epsg_ = 0;
  std::pair<std::string, std::string> coord_fields_{"lon", "lat"};
  std::vector<RowError>* errors_ = nullptr;  // valid during Next()
  std::vector<Event>* pool_ = nullptr;       // ReuseEvents()
  std::vector<Pending> pending_;
  std::vector<double> xs_, ys_, lons_, lats_;
  std::vector<char> keep_;

  // Per batch: cache keys of pending_, their results, and the distinct misses to transform.
  std::vector<PointKey> keys_;
  std::vector<std::optional<TransformedPoint>> resolved_;
  std::vector<PointKey> miss_keys_;
  std::vector<std::size_t> miss_first_;  // a pending_ index holding each miss's input
  std::vector<TransformedPoint> miss_results_;
  CsvRecord record_;
  CsvProblem problem_;
};

// Format readers (defined in police_uk_reader.cpp, canonical_reader.cpp, mapped_reader.cpp).
Result<std::unique_ptr<EventReader>> CreatePoliceUkReader(std::string file,
                                                          const ReaderOptions& options,
                                                          OpenedCsv opened);
Result<std::unique_ptr<EventReader>> CreateCanonicalReader(std::string file,
                                                           const ReaderOptions& options,
                                                           OpenedCsv opened);
Result<std::unique_ptr<EventReader>> CreateMappedReader(std::string file,
                                                        const ReaderOptions& options,
                                                        Mapping mapping, OpenedCsv opened);

// Small memo of text -> value for columns with few distinct values (month, crime type): the
// same dozen strings repeat on every row, so a short linear scan beats parsing or hashing.
// Holds at most 64 entries; later keys are simply not memoised.
template <class T>
class SmallMemo {
 public:
  const T* Find(std::string_view key) const {
    for (const auto& [k, v] : entries_) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  void Add(std::string_view key, T value) {
    if (entries_.size() < 64) entries_.emplace_back(std::string(key), std::move(value));
  }

 private:
  std::vector<std::pair<std::string, T>> entries_;
};

}  // namespace crimecast::ingest::internal
