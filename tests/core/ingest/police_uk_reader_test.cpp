// data.police.uk reader: one test per malformed-input case (each checks the error's line, field
// and code, and that the good rows around it survive), whole-file errors, and ASB ids.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "core/ingest/reader.hpp"
#include "core/spatial/projection.hpp"
#include "ingest_fixtures.hpp"

namespace crimecast::ingest {
namespace {

using testing::kPoliceHeader;
using testing::PoliceRow;
using testing::ReadResult;
using testing::ReadText;

// Good rows at lines 2 and 4 around a bad row at line 3: both good rows survive and exactly
// one error names line 3.
void ExpectOneBadRowBetweenGoodOnes(const ReadResult& r, std::string_view field, ErrorCode code) {
  ASSERT_TRUE(r.opened) << r.open_error.ToString();
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[0].field, field);
  EXPECT_EQ(r.errors[0].code, code) << r.errors[0].ToString();
  EXPECT_EQ(r.errors[0].file.substr(r.errors[0].file.size() - 11), "fixture.csv");
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].source_id, "good1");
  EXPECT_EQ(r.events[1].source_id, "good2");
  EXPECT_EQ(r.rows, 3);
}

TEST(PoliceUkReader, ReadsWellFormedRows) {
  const ReadResult r =
      ReadText(std::string(kPoliceHeader) + PoliceRow("a1") +
               PoliceRow("", "2024-02", "-3.002", "51.602", "Anti-social behaviour") +
               PoliceRow("d1", "2024-01", "", "", "Drugs"));
  ASSERT_TRUE(r.opened) << r.open_error.ToString();
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.format, "police-uk");
  const Event& e = r.events[0];
  EXPECT_EQ(e.source, "police-uk");
  EXPECT_EQ(e.source_id, "a1");
  EXPECT_EQ(e.category, Category::kBurglary);
  EXPECT_EQ(e.source_type, "Burglary");
  EXPECT_EQ(FormatIso(e.when.start), "2024-01-01T00:00:00Z");
  EXPECT_EQ(FormatIso(e.when.end), "2024-02-01T00:00:00Z");
  EXPECT_EQ(e.quality, LocationQuality::kSnapped);
  EXPECT_EQ(e.lon, -3.001);
  EXPECT_EQ(e.lat, 51.601);
  EXPECT_EQ(e.epsg, 27700);
  auto bng = spatial::Projection::Create(4326, 27700);
  ASSERT_TRUE(bng);
  auto expected = bng->Forward(-3.001, 51.601);
  ASSERT_TRUE(expected);
  EXPECT_NEAR(e.x, expected->x, 1e-6);
  EXPECT_NEAR(e.y, expected->y, 1e-6);
  EXPECT_NEAR(e.x, 330600, 2000);  // near Newport
  EXPECT_EQ(e.location_text, "On or near High Street");
  EXPECT_EQ(e.area_code, "W01001440");
  EXPECT_EQ(e.force, "Gwent Police");
  EXPECT_EQ(e.outcome, "Under investigation");
  EXPECT_EQ(e.origin, Origin::kReported);
  EXPECT_FALSE(e.out_of_area);

  // ASB: no Crime ID, derived id.
  EXPECT_EQ(r.events[1].category, Category::kAntiSocialBehaviour);
  EXPECT_EQ(r.events[1].source_id.size(), 64u + 2u);
  EXPECT_EQ(r.events[1].source_id.substr(64), "#1");

  // No coordinates: unlocated but still an event.
  const Event& u = r.events[2];
  EXPECT_EQ(u.quality, LocationQuality::kWithheld);
  EXPECT_FALSE(u.Located());
  EXPECT_TRUE(std::isnan(u.lon) && std::isnan(u.lat) && std::isnan(u.x) && std::isnan(u.y));
  EXPECT_EQ(u.epsg, 0);
  EXPECT_EQ(u.origin, Origin::kPoliceGenerated);  // drugs
}

TEST(PoliceUkReader, TruncatedLastLineInsideQuotes) {
  // A download cut off inside a quoted field: the closing quote never comes.
  const std::string text = std::string(kPoliceHeader) + PoliceRow("good1") + PoliceRow("good2") +
                           "cut1,2024-01,Gwent Police,Gwent Police,-3.0,51.6,\"On or near Hi";
  const ReadResult r = ReadText(text);
  ASSERT_TRUE(r.opened);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_EQ(r.errors[0].field, "");
  EXPECT_EQ(r.errors[0].code, ErrorCode::kMalformedCsv);
  EXPECT_NE(r.errors[0].reason.find("unterminated"), std::string::npos) << r.errors[0].reason;
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[1].source_id, "good2");
}

TEST(PoliceUkReader, TruncatedLastLineMidRow) {
  const std::string text = std::string(kPoliceHeader) + PoliceRow("good1") + PoliceRow("good2") +
                           "cut1,2024-01,Gwent Police,Gwent Po";
  const ReadResult r = ReadText(text);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_EQ(r.errors[0].code, ErrorCode::kMalformedCsv);
  EXPECT_NE(r.errors[0].reason.find("expected 12 fields"), std::string::npos);
  EXPECT_EQ(r.events.size(), 2u);
}

TEST(PoliceUkReader, WrongColumnCount) {
  const ReadResult r =
      ReadText(std::string(kPoliceHeader) + PoliceRow("good1") +
               "bad,2024-01,Gwent Police,-3.0,51.6,x,W01,N,Burglary,,\n" + PoliceRow("good2"));
  ExpectOneBadRowBetweenGoodOnes(r, "", ErrorCode::kMalformedCsv);
  EXPECT_NE(r.errors[0].reason.find("found 11"), std::string::npos) << r.errors[0].reason;
}

TEST(PoliceUkReader, BadMonth) {
  const ReadResult r = ReadText(std::string(kPoliceHeader) + PoliceRow("good1") +
                                PoliceRow("bad", "2024-13") + PoliceRow("good2"));
  ExpectOneBadRowBetweenGoodOnes(r, "Month", ErrorCode::kBadTime);
  EXPECT_NE(r.errors[0].reason.find("2024-13"), std::string::npos);
}

TEST(PoliceUkReader, Latitude95) {
  const ReadResult r = ReadText(std::string(kPoliceHeader) + PoliceRow("good1") +
                                PoliceRow("bad", "2024-01", "-3.0", "95") + PoliceRow("good2"));
  ExpectOneBadRowBetweenGoodOnes(r, "Latitude", ErrorCode::kBadCoordinate);
  EXPECT_EQ(r.errors[0].ToString().substr(r.errors[0].ToString().find("fixture.csv")),
            "fixture.csv:3: field 'Latitude': latitude 95 is outside -90..90");
}

TEST(PoliceUkReader, Longitude200) {
  const ReadResult r = ReadText(std::string(kPoliceHeader) + PoliceRow("good1") +
                                PoliceRow("bad", "2024-01", "200", "51.6") + PoliceRow("good2"));
  ExpectOneBadRowBetweenGoodOnes(r, "Longitude", ErrorCode::kBadCoordinate);
}

TEST(PoliceUkReader, NonNumericAndHalfMissingCoordinates) {
  ReadResult r = ReadText(std::string(kPoliceHeader) + PoliceRow("good1") +
                          PoliceRow("bad", "2024-01", "-3.0", "north") + PoliceRow("good2"));
  ExpectOneBadRowBetweenGoodOnes(r, "Latitude", ErrorCode::kBadCoordinate);
  r = ReadText(std::string(kPoliceHeader) + PoliceRow("good1") +
               PoliceRow("bad", "2024-01", "", "51.6") + PoliceRow("good2"));
  ExpectOneBadRowBetweenGoodOnes(r, "Longitude", ErrorCode::kBadCoordinate);
  r = ReadText(std::string(kPoliceHeader) + PoliceRow("good1") +
               PoliceRow("bad", "2024-01", "nan", "51.6") + PoliceRow("good2"));
  ExpectOneBadRowBetweenGoodOnes(r, "Longitude", ErrorCode::kBadCoordinate);
}

TEST(PoliceUkReader, InvalidUtf8) {
  const ReadResult r =
      ReadText(std::string(kPoliceHeader) + PoliceRow("good1") +
               PoliceRow("bad", "2024-01", "-3.0", "51.6", "Burglary", "On or near Caf\xE9 Row") +
               PoliceRow("good2"));
  ExpectOneBadRowBetweenGoodOnes(r, "Location", ErrorCode::kBadEncoding);
  EXPECT_NE(r.errors[0].reason.find("0xE9"), std::string::npos) << r.errors[0].reason;
}

TEST(PoliceUkReader, ValidUtf8IsKept) {
  const ReadResult r =
      ReadText(std::string(kPoliceHeader) + PoliceRow("ok", "2024-01", "-3.0", "51.6", "Burglary",
                                                      "On or near Heol y Caf\xC3\xA9"));
  ASSERT_TRUE(r.errors.empty());
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].location_text, "On or near Heol y Caf\xC3\xA9");
}

TEST(PoliceUkReader, EmbeddedNulByte) {
  std::string bad = PoliceRow("bad", "2024-01", "-3.0", "51.6", "Burglary", "On or near X");
  bad.insert(bad.find("X"), 1, '\0');
  const ReadResult r =
      ReadText(std::string(kPoliceHeader) + PoliceRow("good1") + bad + PoliceRow("good2"));
  ExpectOneBadRowBetweenGoodOnes(r, "Location", ErrorCode::kBadEncoding);
  EXPECT_NE(r.errors[0].reason.find("NUL"), std::string::npos);
}

TEST(PoliceUkReader, TenMegabyteLineIsRejectedNotBuffered) {
  const std::string huge = "huge,2024-01,Gwent Police,Gwent Police,-3.0,51.6," +
                           std::string(10 << 20, 'x') + ",W01,N,Burglary,,\n";
  ReaderOptions options;
  options.chunk_bytes = 64 << 10;
  const ReadResult r = ReadText(
      std::string(kPoliceHeader) + PoliceRow("good1") + huge + PoliceRow("good2"), options);
  ExpectOneBadRowBetweenGoodOnes(r, "", ErrorCode::kLineTooLong);
}

TEST(PoliceUkReader, LongQuotedMultiLineRecordResyncsAtItsSecondLine) {
  // A stray opening quote swallows the following lines until the size limit; the reader
  // reports the row and resumes at the next physical line, so the rows after it survive.
  ReaderOptions options;
  options.max_line_bytes = 400;
  std::string text = std::string(kPoliceHeader) + PoliceRow("good1") +
                     "bad,2024-01,Gwent Police,Gwent Police,-3.0,51.6,\"On or near X,W01,N,"
                     "Burglary,,\n";
  for (int i = 0; i < 10; ++i) text += PoliceRow("after" + std::to_string(i));
  const ReadResult r = ReadText(text, options);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[0].code, ErrorCode::kLineTooLong);
  ASSERT_EQ(r.events.size(), 11u);
  EXPECT_EQ(r.events[1].source_id, "after0");
  EXPECT_EQ(r.events[10].source_id, "after9");
}

TEST(PoliceUkReader, StrayQuoteClosedLaterResyncs) {
  // The stray quote pairs with a quote three lines later: the joined record has the wrong
  // number of fields, and reading resumes at line 4.
  const std::string text = std::string(kPoliceHeader) + PoliceRow("good1") +
                           "bad,2024-01,Gwent Police,Gwent Police,-3.0,51.6,\"On or near X,W01,N,"
                           "Burglary,,\n" +
                           PoliceRow("good2") + PoliceRow("good3") +
                           PoliceRow("q", "2024-01", "-3.0", "51.6", "Burglary", "\"Quoted\"") +
                           PoliceRow("good4");
  const ReadResult r = ReadText(text);
  ASSERT_GE(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  std::set<std::string> ids;
  for (const Event& e : r.events) ids.insert(e.source_id);
  EXPECT_TRUE(ids.count("good1") && ids.count("good2") && ids.count("good3") && ids.count("q") &&
              ids.count("good4"))
      << r.errors.size() << " errors, " << r.events.size() << " events";
}

TEST(PoliceUkReader, UnknownCrimeType) {
  const ReadResult r =
      ReadText(std::string(kPoliceHeader) + PoliceRow("good1") +
               PoliceRow("bad", "2024-01", "-3.0", "51.6", "Jaywalking") + PoliceRow("good2"));
  ExpectOneBadRowBetweenGoodOnes(r, "Crime type", ErrorCode::kUnknownCategory);
}

TEST(PoliceUkReader, EmptyFile) {
  const ReadResult r = ReadText("");
  ASSERT_FALSE(r.opened);
  EXPECT_EQ(r.open_error.code, ErrorCode::kEmptyInput);
  EXPECT_NE(r.open_error.message.find("empty"), std::string::npos);
  const ReadResult bom = ReadText("\xEF\xBB\xBF");
  ASSERT_FALSE(bom.opened);
  EXPECT_EQ(bom.open_error.code, ErrorCode::kEmptyInput);
  const ReadResult blank = ReadText("\n\r\n\n");
  ASSERT_FALSE(blank.opened);
  EXPECT_EQ(blank.open_error.code, ErrorCode::kEmptyInput);
}

TEST(PoliceUkReader, HeaderOnlyFileHasNoRows) {
  const ReadResult r = ReadText(kPoliceHeader);
  ASSERT_TRUE(r.opened);
  EXPECT_TRUE(r.events.empty());
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.rows, 0);
}

TEST(PoliceUkReader, PngIsNotCsv) {
  static constexpr char kPng[] = "\x89PNG\r\n\x1A\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0";
  const std::string png(kPng, sizeof kPng - 1);
  const ReadResult r = ReadText(png, {}, "image.csv");
  ASSERT_FALSE(r.opened);
  EXPECT_EQ(r.open_error.code, ErrorCode::kMalformedCsv);
  EXPECT_NE(r.open_error.message.find("PNG"), std::string::npos) << r.open_error.message;
}

TEST(PoliceUkReader, JsonIsNotCsv) {
  const ReadResult r =
      ReadText("{\"type\": \"FeatureCollection\", \"features\": []}\n", {}, "data.csv");
  ASSERT_FALSE(r.opened);
  EXPECT_EQ(r.open_error.code, ErrorCode::kMalformedCsv);
  EXPECT_NE(r.open_error.message.find("JSON"), std::string::npos);
}

TEST(PoliceUkReader, BinaryIsNotCsv) {
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) % 256);
  const ReadResult r = ReadText(junk, {}, "junk.csv");
  ASSERT_FALSE(r.opened);
  EXPECT_EQ(r.open_error.code, ErrorCode::kMalformedCsv);
  EXPECT_NE(r.open_error.message.find("binary"), std::string::npos) << r.open_error.message;
}

TEST(PoliceUkReader, OtherCsvLacksColumns) {
  const ReadResult r = ReadText("TYPE,YEAR,MONTH,X,Y\nTheft,2020,1,0,0\n");
  ASSERT_FALSE(r.opened);
  EXPECT_EQ(r.open_error.code, ErrorCode::kMissingColumn);
  EXPECT_NE(r.open_error.message.find("'Crime ID'"), std::string::npos) << r.open_error.message;
  EXPECT_NE(r.open_error.message.find("'TYPE'"), std::string::npos);
}

TEST(PoliceUkReader, MissingFileAndDirectory) {
  auto missing = OpenEventReader("/nonexistent/file.csv", {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kFileNotFound);
  auto dir = OpenEventReader(testing::TestDir().string(), {});
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, ErrorCode::kFileUnreadable);
}

TEST(PoliceUkReader, BomCrlfQuotesAndEmbeddedNewlines) {
  std::string header(kPoliceHeader);
  header.insert(header.size() - 1, "\r");
  const std::string text =
      "\xEF\xBB\xBF" + header +
      "q1,2024-03,Gwent Police,Gwent Police,-3.0,51.6,\"On or near \"\"The Bridge\"\", Usk\","
      "W01,N,Burglary,\"Under investigation\",\r\n"
      "q2,2024-03,Gwent Police,Gwent Police,-3.0,51.6,\"On or near\nTwo Lines\",W01,N,"
      "Robbery,,\r\n"
      "\r\n"
      "q3,2024-03,Gwent Police,Gwent Police,-3.0,951.6,x,W01,N,Robbery,,\r\n";
  const ReadResult r = ReadText(text);
  ASSERT_TRUE(r.opened) << r.open_error.ToString();
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].location_text, "On or near \"The Bridge\", Usk");
  EXPECT_EQ(r.events[0].outcome, "Under investigation");
  EXPECT_EQ(r.events[1].location_text, "On or near\nTwo Lines");
  // Line numbers are physical lines: q2 spans lines 3-4, line 5 is blank, q3 is line 6.
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 6);
  EXPECT_EQ(r.errors[0].field, "Latitude");
  EXPECT_EQ(r.rows, 3);
}

TEST(PoliceUkReader, AnyChunkSizeGivesTheSameResult) {
  std::string text = std::string("\xEF\xBB\xBF") + kPoliceHeader;
  for (int i = 0; i < 20; ++i) {
    text += PoliceRow(i % 3 == 0 ? "" : "id" + std::to_string(i),
                      "2024-0" + std::to_string(i % 9 + 1), "-3.0" + std::to_string(i), "51.6",
                      i % 3 == 0 ? "Anti-social behaviour" : "Robbery",
                      i % 4 == 0 ? "\"On or near \"\"A\"\",\r\nB\"" : "On or near C");
  }
  text += PoliceRow("bad", "2024-13");
  text += "trunc,2024-01,\"x";
  const ReadResult ref = ReadText(text);
  ASSERT_EQ(ref.events.size(), 20u);
  ASSERT_EQ(ref.errors.size(), 2u);
  for (std::size_t chunk : {1u, 2u, 3u, 5u, 7u, 13u, 64u, 100u}) {
    ReaderOptions options;
    options.chunk_bytes = chunk;
    const ReadResult r = ReadText(text, options);
    ASSERT_EQ(r.events.size(), ref.events.size()) << chunk;
    ASSERT_EQ(r.errors.size(), ref.errors.size()) << chunk;
    for (std::size_t i = 0; i < r.events.size(); ++i) {
      EXPECT_EQ(r.events[i].source_id, ref.events[i].source_id) << chunk;
      EXPECT_EQ(r.events[i].location_text, ref.events[i].location_text) << chunk;
      EXPECT_EQ(r.events[i].when, ref.events[i].when) << chunk;
    }
    for (std::size_t i = 0; i < r.errors.size(); ++i) {
      EXPECT_EQ(r.errors[i].line, ref.errors[i].line) << chunk;
      EXPECT_EQ(r.errors[i].code, ref.errors[i].code) << chunk;
    }
  }
}

TEST(PoliceUkReader, AsbIdsAreStableAndIdenticalRowsStayDistinct) {
  const std::string asb = PoliceRow("", "2024-01", "-3.0", "51.6", "Anti-social behaviour");
  const std::string text = std::string(kPoliceHeader) + asb + asb +
                           PoliceRow("", "2024-01", "-3.0", "51.61", "Anti-social behaviour") + asb;
  const ReadResult a = ReadText(text);
  ASSERT_EQ(a.events.size(), 4u);
  // Identical rows: same content hash, ordinals 1, 2, 3.
  const std::string hash = a.events[0].source_id.substr(0, 64);
  EXPECT_EQ(a.events[0].source_id, hash + "#1");
  EXPECT_EQ(a.events[1].source_id, hash + "#2");
  EXPECT_EQ(a.events[3].source_id, hash + "#3");
  // Different content: a different hash, its own ordinal.
  EXPECT_NE(a.events[2].source_id.substr(0, 64), hash);
  EXPECT_EQ(a.events[2].source_id.substr(64), "#1");
  // Re-reading (with another chunking) gives the same ids.
  ReaderOptions options;
  options.chunk_bytes = 17;
  const ReadResult b = ReadText(text, options);
  ASSERT_EQ(b.events.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(a.events[i].source_id, b.events[i].source_id);
  // The id is a pure function of the row's content, so a file with the rows in another order
  // gives each content the same hash (ordinals count within the file).
  const ReadResult c =
      ReadText(std::string(kPoliceHeader) +
               PoliceRow("", "2024-01", "-3.0", "51.61", "Anti-social behaviour") + asb);
  EXPECT_EQ(c.events[0].source_id, a.events[2].source_id);
  EXPECT_EQ(c.events[1].source_id, a.events[0].source_id);
}

TEST(PoliceUkReader, HeaderFoundByNameInAnyOrder) {
  const std::string text =
      "Crime type,Latitude,Longitude,Month,Crime ID,Falls within\n"
      "Robbery,51.6,-3.0,2024-05,r1,Gwent Police\n";
  const ReadResult r = ReadText(text);
  ASSERT_TRUE(r.opened) << r.open_error.ToString();
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].category, Category::kRobbery);
  EXPECT_EQ(r.events[0].lat, 51.6);
  EXPECT_EQ(r.events[0].force, "Gwent Police");
}

TEST(PoliceUkReader, StoreEpsgAndSourceOptions) {
  ReaderOptions options;
  options.store_epsg = 32630;  // UTM 30N
  options.source = "gwent-2024";
  const ReadResult r = ReadText(std::string(kPoliceHeader) + PoliceRow("a"), options);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].epsg, 32630);
  EXPECT_EQ(r.events[0].source, "gwent-2024");
  EXPECT_NEAR(r.events[0].x, 500000 + -(3.001 - 3.0) * 70000, 2000);  // just east of -3 deg
}

TEST(PoliceUkReader, ParseInputFormatNames) {
  EXPECT_EQ(*ParseInputFormat("police-uk"), InputFormat::kPoliceUk);
  EXPECT_EQ(*ParseInputFormat("csv"), InputFormat::kCanonicalCsv);
  EXPECT_EQ(*ParseInputFormat("mapped"), InputFormat::kMapped);
  auto bad = ParseInputFormat("xlsx");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST(PoliceUkReader, RowErrorToString) {
  RowError e{"a.csv", 7, "Month", ErrorCode::kBadTime, "'2024-13' is not a valid month"};
  EXPECT_EQ(e.ToString(), "a.csv:7: field 'Month': '2024-13' is not a valid month");
  e.field.clear();
  EXPECT_EQ(e.ToString(), "a.csv:7: '2024-13' is not a valid month");
  e.line = 0;
  EXPECT_EQ(e.ToString(), "a.csv: '2024-13' is not a valid month");
}

TEST(PoliceUkReader, MemoryReaderMatchesFileReader) {
  const std::string text = std::string(kPoliceHeader) + PoliceRow("m1") + PoliceRow("m2");
  auto reader = OpenEventReaderFromMemory(text, "memory.csv", {});
  ASSERT_TRUE(reader);
  std::vector<Event> events;
  std::vector<RowError> errors;
  auto more = (*reader)->Next(events, errors, 100);
  ASSERT_TRUE(more);
  EXPECT_FALSE(*more);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].source_id, "m2");
  EXPECT_EQ((*reader)->store_epsg(), 27700);
}

}  // namespace
}  // namespace crimecast::ingest
