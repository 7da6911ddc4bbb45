// core/ingest/text.hpp
//
// Small text helpers shared by the importers: field validation (UTF-8, NUL bytes), number
// parsing without allocation, printable excerpts for error messages, and the derived-id
// generator used for feeds whose records carry no id.
//
// Everything here works on std::string_view into the tokenizer's buffer, so the hot path of an
// import does not allocate per field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crimecast::ingest {

// Result of checking that a field is text crimecast can store.
enum class TextProblem { kNone, kNulByte, kInvalidUtf8 };
struct TextCheck {
  TextProblem problem = TextProblem::kNone;
  std::size_t offset = 0;  // byte offset of the first bad byte
};
// Rejects NUL bytes and byte sequences that are not well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF). ASCII runs are checked 8 bytes at a time.
TextCheck CheckText(std::string_view s);
// True when s is plain ASCII without NUL bytes (then CheckText finds nothing); 8 bytes a step.
bool IsPlainAscii(std::string_view s);
// "invalid UTF-8 (byte 0xE9 at offset 12)" / "embedded NUL byte at offset 3".
std::string DescribeTextProblem(const TextCheck& check, std::string_view s);

// Leading/trailing ASCII spaces and tabs removed.
std::string_view Trim(std::string_view s);
bool IEquals(std::string_view a, std::string_view b);
std::string AsciiLower(std::string_view s);

// Parses a finite decimal number (surrounding spaces allowed; "inf", "nan", hex and empty
// strings are rejected).
bool ParseFiniteDouble(std::string_view s, double& out);
// Parses a decimal integer (surrounding spaces allowed, optional leading '+' or '-').
bool ParseInt64(std::string_view s, std::int64_t& out);

// A short, printable excerpt for error messages: at most max_chars bytes, control and
// non-ASCII bytes written as \xNN, "..." appended when cut.
std::string Excerpt(std::string_view s, std::size_t max_chars = 60);

// Stable ids for records that have none (data.police.uk anti-social behaviour rows, feeds
// without an id column).
//
// id = hex(BLAKE2b-256(domain, parts...)) + "#" + n, where the parts are length-prefixed (so
// ("ab","c") and ("a","bc") differ) and n is the 1-based ordinal of this content among the
// identical contents seen by this generator. Identical rows (e.g. two ASB reports at the same
// snap point in the same month) are distinct records, and their ordinals keep them apart; the
// same file read twice yields the same ids, so re-importing never duplicates. One generator
// is used per file, so the ordinal counts within the file. Memory: at most 48 bytes per
// distinct content.
class DerivedIdGenerator {
 public:
  explicit DerivedIdGenerator(std::string_view domain);
  std::string Next(std::initializer_list<std::string_view> parts);
  std::string Next(std::span<const std::string_view> parts);

 private:
  // Open addressing with linear probing keyed by the first 16 digest bytes (why not
  // std::unordered_map: a node allocation and a cache miss per row showed up as a sixth of a
  // Vancouver import). A slot with count 0 is empty; the load factor stays below 1/2.
  struct Slot {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::uint32_t count = 0;
  };
  std::uint32_t Bump(std::uint64_t a, std::uint64_t b);
  std::string Finish(const unsigned char* digest);
  std::string domain_;
  std::vector<Slot> slots_;
  std::size_t used_ = 0;
  // Scratch for the length-prefixed message, reused across rows.
  std::string message_;
};

}  // namespace crimecast::ingest
