// The streaming CSV tokenizer and the text helpers, on in-memory input.
#include "core/ingest/csv_tokenizer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/ingest/text.hpp"

namespace crimecast::ingest {
namespace {

struct Item {
  CsvStatus status;
  std::int64_t line;
  std::vector<std::string> fields;
  ErrorCode code = ErrorCode::kOk;
};

std::vector<Item> Tokenize(const std::string& text, std::size_t chunk = 1 << 20,
                           std::size_t max_record = 1 << 20) {
  CsvOptions options;
  options.chunk_bytes = chunk;
  options.max_record_bytes = max_record;
  CsvTokenizer tok(MakeMemorySource(text), options);
  std::vector<Item> out;
  CsvRecord rec;
  CsvProblem problem;
  while (true) {
    auto s = tok.Next(rec, problem);
    EXPECT_TRUE(s);
    if (!s || *s == CsvStatus::kEnd) break;
    if (*s == CsvStatus::kRecord) {
      out.push_back({*s, rec.line, std::vector<std::string>(rec.fields.begin(), rec.fields.end())});
    } else {
      out.push_back({*s, problem.line, {}, problem.code});
    }
  }
  return out;
}

TEST(CsvTokenizer, Rfc4180Basics) {
  const auto items = Tokenize(
      "a,b,c\r\n"
      "\"x,1\",\"he said \"\"hi\"\"\",\r\n"
      "\"multi\nline\",,\"\"\n"
      "last,row,no-newline");
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(items[1].fields, (std::vector<std::string>{"x,1", "he said \"hi\"", ""}));
  EXPECT_EQ(items[2].fields, (std::vector<std::string>{"multi\nline", "", ""}));
  EXPECT_EQ(items[2].line, 3);
  EXPECT_EQ(items[3].line, 5);
  EXPECT_EQ(items[3].fields, (std::vector<std::string>{"last", "row", "no-newline"}));
}

TEST(CsvTokenizer, BomBlankLinesAndLiteralQuotes) {
  const auto items = Tokenize("\xEF\xBB\xBFh1,h2\n\n\r\nab\"c,d\n,\n");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].fields[0], "h1");
  EXPECT_EQ(items[1].line, 4);
  EXPECT_EQ(items[1].fields, (std::vector<std::string>{"ab\"c", "d"}));
  EXPECT_EQ(items[2].fields, (std::vector<std::string>{"", ""}));
}

TEST(CsvTokenizer, GarbageAfterClosingQuoteResyncs) {
  const auto items = Tokenize("a,b\n\"x\"y,z\nc,d\n");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1].status, CsvStatus::kProblem);
  EXPECT_EQ(items[1].line, 2);
  EXPECT_EQ(items[1].code, ErrorCode::kMalformedCsv);
  EXPECT_EQ(items[2].fields, (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(items[2].line, 3);
}

TEST(CsvTokenizer, UnterminatedQuoteResyncsAtNextLine) {
  const auto items = Tokenize("a,b\n\"open,x\nc,d\ne,f\n");
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[1].status, CsvStatus::kProblem);
  EXPECT_EQ(items[1].line, 2);
  EXPECT_EQ(items[2].fields, (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(items[2].line, 3);
  EXPECT_EQ(items[3].line, 4);
}

TEST(CsvTokenizer, OverlongLineIsSkippedWithBoundedBuffer) {
  const std::string text =
      "a,b\n" + std::string(5000, 'x') + ",y\nc,d\n" + "\"" + std::string(5000, 'q') + "\nq\"\ne,f";
  for (std::size_t chunk : {1u, 7u, 100u, 4096u}) {
    const auto items = Tokenize(text, chunk, 1000);
    ASSERT_EQ(items.size(), 6u) << chunk;
    EXPECT_EQ(items[1].status, CsvStatus::kProblem);
    EXPECT_EQ(items[1].code, ErrorCode::kLineTooLong);
    EXPECT_EQ(items[1].line, 2);
    EXPECT_EQ(items[2].fields, (std::vector<std::string>{"c", "d"})) << chunk;
    EXPECT_EQ(items[3].code, ErrorCode::kLineTooLong);
    EXPECT_EQ(items[3].line, 4);
    // After the over-long quoted record, reading resumes at its second line: `q"` is a
    // one-field record with a literal quote.
    EXPECT_EQ(items[4].line, 5);
    EXPECT_EQ(items[4].fields, (std::vector<std::string>{"q\""})) << chunk;
    EXPECT_EQ(items[5].fields, (std::vector<std::string>{"e", "f"})) << chunk;
    EXPECT_EQ(items[5].line, 6);
  }
}

TEST(CsvTokenizer, ChunkBoundariesNeverMatter) {
  std::string text = "\xEF\xBB\xBFid,text\r\n";
  for (int i = 0; i < 30; ++i) {
    text += std::to_string(i) + ",\"v" + std::string(static_cast<std::size_t>(i % 7), '"') +
            std::string(static_cast<std::size_t>(i % 7), '"') + "\r\nw\"\r\n";
  }
  const auto ref = Tokenize(text);
  ASSERT_EQ(ref.size(), 31u);
  for (std::size_t chunk = 1; chunk < 40; ++chunk) {
    const auto items = Tokenize(text, chunk);
    ASSERT_EQ(items.size(), ref.size()) << chunk;
    for (std::size_t i = 0; i < items.size(); ++i) {
      EXPECT_EQ(items[i].fields, ref[i].fields) << chunk << " " << i;
      EXPECT_EQ(items[i].line, ref[i].line) << chunk << " " << i;
    }
  }
}

TEST(Text, Utf8Validation) {
  EXPECT_EQ(CheckText("plain ascii text here").problem, TextProblem::kNone);
  EXPECT_EQ(CheckText("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80").problem, TextProblem::kNone);
  struct Bad {
    std::string text;
    TextProblem problem;
    std::size_t offset;
  };
  const Bad bad[] = {
      {"abc\xE9", TextProblem::kInvalidUtf8, 3},           // Latin-1
      {"\xC0\xAF", TextProblem::kInvalidUtf8, 0},          // overlong '/'
      {"ab\xED\xA0\x80", TextProblem::kInvalidUtf8, 2},    // surrogate
      {"\xF4\x90\x80\x80", TextProblem::kInvalidUtf8, 0},  // > U+10FFFF
      {"\xE2\x82", TextProblem::kInvalidUtf8, 0},          // truncated
      {"12345678\x80", TextProblem::kInvalidUtf8, 8},      // stray continuation
      {std::string("abcdefgh\0ij", 11), TextProblem::kNulByte, 8},
  };
  for (const Bad& b : bad) {
    const TextCheck c = CheckText(b.text);
    EXPECT_EQ(c.problem, b.problem) << Excerpt(b.text);
    EXPECT_EQ(c.offset, b.offset) << Excerpt(b.text);
    EXPECT_FALSE(IsPlainAscii(b.text));
  }
  EXPECT_TRUE(IsPlainAscii("0123456789abcdefg"));
}

TEST(Text, NumbersAndExcerpts) {
  double d = 0;
  EXPECT_TRUE(ParseFiniteDouble(" -3.25 ", d));
  EXPECT_EQ(d, -3.25);
  EXPECT_TRUE(ParseFiniteDouble("+1e3", d));
  EXPECT_EQ(d, 1000);
  EXPECT_TRUE(ParseFiniteDouble(".5", d));
  for (const char* bad : {"", "-", "inf", "nan", "1,5", "0x10", "1e999", "1.2.3", "--1"}) {
    EXPECT_FALSE(ParseFiniteDouble(bad, d)) << bad;
  }
  std::int64_t i = 0;
  EXPECT_TRUE(ParseInt64(" 42", i));
  EXPECT_EQ(i, 42);
  EXPECT_FALSE(ParseInt64("4.2", i));
  EXPECT_EQ(Excerpt("a\tb\xE9"), "a\\x09b\\xE9");
  EXPECT_EQ(Excerpt(std::string(100, 'z'), 5), "zzzzz...");
}

TEST(Text, DerivedIdsAreLengthPrefixed) {
  DerivedIdGenerator a("d");
  DerivedIdGenerator b("d");
  EXPECT_NE(a.Next({"ab", "c"}).substr(0, 64), b.Next({"a", "bc"}).substr(0, 64));
  DerivedIdGenerator c("other-domain");
  DerivedIdGenerator d("d");
  EXPECT_NE(c.Next({"x"}), d.Next({"x"}));
}

}  // namespace
}  // namespace crimecast::ingest
