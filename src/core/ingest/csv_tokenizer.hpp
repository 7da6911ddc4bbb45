// core/ingest/csv_tokenizer.hpp
//
// A streaming RFC 4180 CSV tokenizer that never holds more than one record (plus one read
// chunk) in memory, so a 1 GB national file costs the same memory as a 1 KB one.
//
// Dialect accepted:
// * Fields separated by a one-byte delimiter (',' by default); records end with LF or CRLF
//   (a CR before the LF is dropped). The last record may lack a line ending.
// * A field that starts with '"' is quoted: it ends at the next lone '"', "" inside it is one
//   '"', and it may contain delimiters, CR and LF (a multi-line record). After the closing
//   quote only a delimiter or the line end may follow.
// * A '"' inside an unquoted field is kept literally (common in the wild, harmless).
// * A UTF-8 byte order mark at the very start is skipped. Completely empty lines are skipped.
//
// Line numbers are 1-based physical line numbers (LF count + 1); a record's line is the line of
// its first byte.
//
// Recovery (why: good rows around a bad one must survive). A record that cannot be tokenized
// is reported as a CsvProblem and the tokenizer resumes at the physical line after the bad
// record's FIRST line, not after the record. A stray opening quote therefore costs one row,
// not every row up to the next quote in the file:
// * unterminated quoted field at end of input (e.g. a truncated file);
// * a character other than a delimiter or line end after a closing quote;
// * a record longer than max_record_bytes (counting its line ending). Such a record is never
//   buffered whole: once the limit is reached, bytes are discarded up to the next LF.
// A caller that rejects a well-tokenized multi-line record (wrong column count) can ask for the
// same recovery with ResyncAfterFirstLine().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"

namespace crimecast::ingest {

// Where bytes come from: a file read in chunks, or memory (tests, fuzzers).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `capacity` bytes into dst; 0 means end of input.
  virtual Result<std::size_t> Read(char* dst, std::size_t capacity) = 0;
  // Total size in bytes when known (for progress), else 0.
  virtual std::uint64_t size_hint() const = 0;
};

// Fails with kFileNotFound / kFileUnreadable (including when the path is a directory).
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);
// `data` must outlive the source.
std::unique_ptr<ByteSource> MakeMemorySource(std::string_view data);

struct CsvOptions {
  char delimiter = ',';
  std::size_t max_record_bytes = 1 << 20;
  std::size_t chunk_bytes = 1 << 20;  // bytes requested per read
};

struct CsvRecord {
  std::int64_t line = 0;       // physical line of the record's first byte
  std::int64_t last_line = 0;  // physical line of its last byte (> line for multi-line records)
  // Field values, unquoted and unescaped. Views into the tokenizer's buffers: valid until the
  // next call to Next().
  std::vector<std::string_view> fields;
  // The record's bytes as in the input, without its line ending (same lifetime as fields).
  std::string_view raw;
};

struct CsvProblem {
  std::int64_t line = 0;
  ErrorCode code = ErrorCode::kMalformedCsv;  // kMalformedCsv or kLineTooLong
  std::string reason;
};

enum class CsvStatus { kRecord, kProblem, kEnd };

class CsvTokenizer {
 public:
  CsvTokenizer(std::unique_ptr<ByteSource> source, CsvOptions options);
  ~CsvTokenizer();
  CsvTokenizer(const CsvTokenizer&) = delete;
  CsvTokenizer& operator=(const CsvTokenizer&) = delete;

  // Reads the next record into `record` (kRecord) or reports one that could not be tokenized
  // (kProblem; the tokenizer has already resynchronised). kEnd at end of input. Fails only on
  // I/O errors.
  Result<CsvStatus> Next(CsvRecord& record, CsvProblem& problem);

  // After Next() returned a multi-line kRecord that the caller rejects: continue at the line
  // after the record's first line instead of after the record. Must be called before the next
  // Next(); a no-op for single-line records.
  void ResyncAfterFirstLine();

  // Up to n (at most kMaxPeek) bytes from the current position (after the BOM), without
  // consuming them. Used to sniff whether the input is CSV at all. Fewer bytes are returned
  // only at end of input. Must be called before the first Next().
  static constexpr std::size_t kMaxPeek = 4096;
  Result<std::string_view> Peek(std::size_t n);

  std::uint64_t bytes_consumed() const { return base_offset_ + begin_; }
  std::uint64_t size_hint() const { return source_->size_hint(); }
  bool bom_skipped() const { return bom_skipped_; }

 private:
  struct Span {
    std::size_t begin;
    std::size_t end;
    bool escaped;  // contains "" that must be unescaped
  };
  enum class Scan { kDone, kNeedMore, kTooLong };

  // Moves unread bytes to the front and reads one more chunk. Returns false at end of input.
  Result<bool> Refill();
  Scan ScanRecord();
  void BuildFields(CsvRecord& record);
  // Skips the bad record: resumes after the first LF at or after `from` (reading and discarding
  // as needed when it is not yet in the buffer).
  Result<void> SkipToNextLine(std::size_t from);
  Result<void> SkipBom();

  std::unique_ptr<ByteSource> source_;
  CsvOptions options_;
  std::unique_ptr<char[]> buf_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;          // first unconsumed byte
  std::size_t end_ = 0;            // end of valid data
  std::uint64_t base_offset_ = 0;  // stream offset of buf_[0]
  bool eof_ = false;
  bool started_ = false;
  bool bom_skipped_ = false;
  std::int64_t line_ = 1;  // physical line at begin_

  // State of the last scan.
  std::vector<Span> spans_;
  std::size_t record_end_ = 0;  // index after the record's terminator
  std::int64_t quoted_newlines_ = 0;
  std::string scan_problem_;  // non-empty when the record is malformed
  // The last returned record, for ResyncAfterFirstLine.
  std::size_t last_start_ = 0;
  std::int64_t last_line_ = 0;
  bool last_multiline_ = false;
  std::string unescaped_;     // storage for fields that contained ""
  std::uint64_t delim8_ = 0;  // the delimiter in every byte
};

}  // namespace crimecast::ingest
