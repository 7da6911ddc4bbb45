#include "core/ingest/csv_tokenizer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "core/ingest/text.hpp"

namespace crimecast::ingest {
namespace {

constexpr std::uint64_t kLf8 = 0x0A0A0A0A0A0A0A0AULL;

// Bit 7 of each byte of the result is set for the zero bytes of v. Exact for the lowest zero
// byte (bytes above it may be false positives, which the callers never look at). Assumes a
// little-endian machine, like the rest of crimecast.
constexpr std::uint64_t ZeroByteMask(std::uint64_t v) {
  return (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
}

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Result<std::size_t> Read(char* dst, std::size_t capacity) override {
    while (true) {
      const ssize_t n = ::read(fd_, dst, capacity);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      return Fail(ErrorCode::kFileUnreadable, fmt::format("read failed: {}", std::strerror(errno)));
    }
  }
  std::uint64_t size_hint() const override { return size_; }

 private:
  int fd_;
  std::uint64_t size_;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  Result<std::size_t> Read(char* dst, std::size_t capacity) override {
    const std::size_t n = std::min(capacity, data_.size() - pos_);
    if (n > 0) std::memcpy(dst, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  std::uint64_t size_hint() const override { return data_.size(); }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return Fail(ErrorCode::kFileNotFound, fmt::format("{}: no such file", path));
    }
    return Fail(ErrorCode::kFileUnreadable,
                fmt::format("{}: cannot open: {}", path, std::strerror(err)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Fail(ErrorCode::kFileUnreadable, fmt::format("{}: is a directory, not a file", path));
  }
#if defined(POSIX_FADV_SEQUENTIAL)
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  const std::uint64_t size = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
  return std::unique_ptr<ByteSource>(std::make_unique<FileSource>(fd, size));
}

std::unique_ptr<ByteSource> MakeMemorySource(std::string_view data) {
  return std::make_unique<MemorySource>(data);
}

CsvTokenizer::CsvTokenizer(std::unique_ptr<ByteSource> source, CsvOptions options)
    : source_(std::move(source)), options_(options) {
  options_.chunk_bytes = std::max<std::size_t>(options_.chunk_bytes, 1);
  options_.max_record_bytes = std::max<std::size_t>(options_.max_record_bytes, 16);
  // One record up to the limit plus one chunk always fits, so a refill never finds the buffer
  // full while a record is still legal.
  // Also room for a full Peek() window whatever the chunk size, so that sniffing sees the same
  // bytes however the input is read.
  capacity_ = std::max(options_.max_record_bytes + options_.chunk_bytes, kMaxPeek) + 16;
  delim8_ = 0x0101010101010101ULL * static_cast<unsigned char>(options_.delimiter);
  buf_ = std::make_unique_for_overwrite<char[]>(capacity_);  // no memset of 2 MiB per file
}

CsvTokenizer::~CsvTokenizer() = default;

Result<bool> CsvTokenizer::Refill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    base_offset_ += begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  const std::size_t want = std::min(capacity_ - end_, options_.chunk_bytes);
  if (want == 0) return true;  // full: the caller's length check decides what to do
  auto n = source_->Read(buf_.get() + end_, want);
  if (!n) return Unexpected(n.error());
  if (*n == 0) {
    eof_ = true;
    return false;
  }
  end_ += *n;
  return true;
}

Result<std::string_view> CsvTokenizer::Peek(std::size_t n) {
  if (!started_) {
    started_ = true;
    if (auto r = SkipBom(); !r) return Unexpected(r.error());
  }
  n = std::min(n, kMaxPeek);
  while (end_ - begin_ < n && !eof_) {
    auto r = Refill();
    if (!r) return Unexpected(r.error());
  }
  return std::string_view(buf_.get() + begin_, std::min(n, end_ - begin_));
}

Result<void> CsvTokenizer::SkipBom() {
  while (end_ - begin_ < 3 && !eof_) {
    auto r = Refill();
    if (!r) return Unexpected(r.error());
  }
  if (end_ - begin_ >= 3 && std::memcmp(buf_.get() + begin_, "\xEF\xBB\xBF", 3) == 0) {
    begin_ += 3;
    bom_skipped_ = true;
  }
  return {};
}

CsvTokenizer::Scan CsvTokenizer::ScanRecord() {
  spans_.clear();
  quoted_newlines_ = 0;
  scan_problem_.clear();
  const char* b = buf_.get();
  const char d = options_.delimiter;
  // The scan never looks at or beyond `limit`: whether a record is too long then depends only
  // on its bytes, never on how the input happened to be chunked.
  const std::size_t limit = begin_ + options_.max_record_bytes;
  const std::size_t end = std::min(end_, limit);
  const bool at_eof = eof_ && end_ < limit;  // the true end of input is inside the window
  const Scan stop = end == limit ? Scan::kTooLong : Scan::kNeedMore;
  std::size_t p = begin_;
  while (true) {
    if (p < end && b[p] == '"') {
      // Quoted field: find the closing quote, treating "" as an escaped quote.
      std::size_t q = p + 1;
      bool escaped = false;
      while (true) {
        const void* hit = std::memchr(b + q, '"', end - q);
        if (hit == nullptr) {
          if (!at_eof) return stop;
          scan_problem_ = fmt::format(
              "unterminated quoted field {} (the closing quote is missing before the end of the "
              "file; truncated file?)",
              spans_.size() + 1);
          record_end_ = end;
          return Scan::kDone;
        }
        const auto h = static_cast<std::size_t>(static_cast<const char*>(hit) - b);
        if (h + 1 == end && !at_eof) return stop;  // cannot tell "" from " yet
        if (h + 1 < end && b[h + 1] == '"') {
          escaped = true;
          q = h + 2;
          continue;
        }
        quoted_newlines_ += std::count(b + p + 1, b + h, '\n');
        spans_.push_back({p + 1, h, escaped});
        p = h + 1;
        break;
      }
      if (p == end) {
        if (!at_eof) return stop;
        record_end_ = end;
        return Scan::kDone;
      }
      const char c = b[p];
      if (c == d) {
        ++p;
        continue;
      }
      if (c == '\n') {
        record_end_ = p + 1;
        return Scan::kDone;
      }
      if (c == '\r') {
        if (p + 1 == end) {
          if (!at_eof) return stop;
          record_end_ = end;
          return Scan::kDone;
        }
        if (b[p + 1] == '\n') {
          record_end_ = p + 2;
          return Scan::kDone;
        }
      }
      scan_problem_ = fmt::format(
          "unexpected '{}' after the closing quote of field {} (a quoted field must be followed "
          "by a delimiter or the end of the line)",
          Excerpt(std::string_view(&b[p], 1)), spans_.size());
      record_end_ = p;
      return Scan::kDone;
    }
    // Unquoted field: up to the delimiter or the end of the line. Most bytes of a crime file
    // are here, so look at 8 bytes at a time (SWAR): a byte equal to d or LF becomes a zero
    // byte of w ^ pattern, and the lowest flagged zero byte is the first match.
    std::size_t q = p;
    while (q + 8 <= end) {
      std::uint64_t w;
      std::memcpy(&w, b + q, 8);
      const std::uint64_t hit = ZeroByteMask(w ^ delim8_) | ZeroByteMask(w ^ kLf8);
      if (hit != 0) {
        q += static_cast<std::size_t>(std::countr_zero(hit)) / 8;
        break;
      }
      q += 8;
    }
    while (q < end && b[q] != d && b[q] != '\n') ++q;
    if (q == end) {
      if (!at_eof) return stop;
      std::size_t e = q;
      if (e > p && b[e - 1] == '\r') --e;
      spans_.push_back({p, e, false});
      record_end_ = end;
      return Scan::kDone;
    }
    if (b[q] == d) {
      spans_.push_back({p, q, false});
      p = q + 1;
      continue;
    }
    std::size_t e = q;
    if (e > p && b[e - 1] == '\r') --e;
    spans_.push_back({p, e, false});
    record_end_ = q + 1;
    return Scan::kDone;
  }
}

void CsvTokenizer::BuildFields(CsvRecord& record) {
  record.fields.resize(spans_.size());
  const char* b = buf_.get();
  std::size_t escaped_bytes = 0;
  for (const Span& s : spans_) {
    if (s.escaped) escaped_bytes += s.end - s.begin;
  }
  unescaped_.clear();
  // Reserve once so that views into unescaped_ stay valid while it is filled.
  unescaped_.reserve(escaped_bytes);
  for (std::size_t i = 0; i < spans_.size(); ++i) {
    const Span& s = spans_[i];
    if (!s.escaped) {
      record.fields[i] = std::string_view(b + s.begin, s.end - s.begin);
      continue;
    }
    const std::size_t start = unescaped_.size();
    for (std::size_t k = s.begin; k < s.end; ++k) {
      unescaped_ += b[k];
      if (b[k] == '"') ++k;  // "" -> "
    }
    record.fields[i] = std::string_view(unescaped_.data() + start, unescaped_.size() - start);
  }
}

Result<void> CsvTokenizer::SkipToNextLine(std::size_t from) {
  // Why not quote-aware: the record is already known to be broken, and its quoting is the most
  // likely culprit. The next physical line is the best guess at where good data resumes.
  const std::int64_t next_line = line_ + 1;
  std::size_t pos = from;
  while (true) {
    const void* hit = std::memchr(buf_.get() + pos, '\n', end_ - pos);
    if (hit != nullptr) {
      begin_ = static_cast<std::size_t>(static_cast<const char*>(hit) - buf_.get()) + 1;
      line_ = next_line;
      return {};
    }
    begin_ = end_;  // discard what we have: never buffer an over-long line
    auto r = Refill();
    if (!r) return Unexpected(r.error());
    if (!*r) {
      line_ = next_line;
      return {};
    }
    pos = begin_;
  }
}

Result<CsvStatus> CsvTokenizer::Next(CsvRecord& record, CsvProblem& problem) {
  if (!started_) {
    started_ = true;
    if (auto r = SkipBom(); !r) return Unexpected(r.error());
  }
  last_multiline_ = false;
  while (true) {
    if (begin_ == end_) {
      auto r = Refill();
      if (!r) return Unexpected(r.error());
      if (!*r && begin_ == end_) return CsvStatus::kEnd;
      continue;
    }
    // Skip empty lines (LF or CRLF alone).
    const char c = buf_[begin_];
    if (c == '\n') {
      ++begin_;
      ++line_;
      continue;
    }
    if (c == '\r') {
      if (begin_ + 1 == end_ && !eof_) {
        auto r = Refill();
        if (!r) return Unexpected(r.error());
        continue;
      }
      if (begin_ + 1 < end_ && buf_[begin_ + 1] == '\n') {
        begin_ += 2;
        ++line_;
        continue;
      }
    }
    const Scan scan = ScanRecord();
    if (scan == Scan::kNeedMore) {
      auto r = Refill();
      if (!r) return Unexpected(r.error());
      continue;  // rescan with more data (or at end of input)
    }
    if (scan == Scan::kTooLong) {
      problem.line = line_;
      problem.code = ErrorCode::kLineTooLong;
      problem.reason =
          fmt::format("record is longer than the limit of {} bytes; skipped to the next line",
                      options_.max_record_bytes);
      if (auto r = SkipToNextLine(begin_); !r) return Unexpected(r.error());
      return CsvStatus::kProblem;
    }
    if (!scan_problem_.empty()) {
      problem.line = line_;
      problem.code = ErrorCode::kMalformedCsv;
      problem.reason = std::move(scan_problem_);
      scan_problem_.clear();
      if (auto r = SkipToNextLine(begin_); !r) return Unexpected(r.error());
      return CsvStatus::kProblem;
    }
    BuildFields(record);
    std::size_t raw_end = record_end_;
    if (raw_end > begin_ && buf_[raw_end - 1] == '\n') --raw_end;
    if (raw_end > begin_ && buf_[raw_end - 1] == '\r') --raw_end;
    record.raw = std::string_view(buf_.get() + begin_, raw_end - begin_);
    record.line = line_;
    record.last_line = line_ + quoted_newlines_;
    last_start_ = begin_;
    last_line_ = line_;
    last_multiline_ = quoted_newlines_ > 0;
    line_ += quoted_newlines_ + 1;
    begin_ = record_end_;
    return CsvStatus::kRecord;
  }
}

void CsvTokenizer::ResyncAfterFirstLine() {
  if (!last_multiline_) return;
  last_multiline_ = false;
  // The record is still in the buffer (no refill since it was returned), so its first LF is.
  const void* hit = std::memchr(buf_.get() + last_start_, '\n', end_ - last_start_);
  if (hit == nullptr) return;
  begin_ = static_cast<std::size_t>(static_cast<const char*>(hit) - buf_.get()) + 1;
  line_ = last_line_ + 1;
}

}  // namespace crimecast::ingest
