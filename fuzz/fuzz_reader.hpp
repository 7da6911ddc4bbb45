// fuzz/fuzz_reader.hpp: the body shared by the reader fuzzers.
//
// Each input is read twice, with 7-byte and 64 KiB read chunks, and the results must be
// identical (the tokenizer's output may not depend on where chunks end). Every event must
// satisfy the Event invariants (core/ingest/event.hpp) and every row error must carry a line.
// Any violation aborts, which libFuzzer reports as a crash with the input saved.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/ingest/reader.hpp"

namespace crimecast::fuzz {

struct Outcome {
  bool opened = false;
  ErrorCode open_code = ErrorCode::kOk;
  std::vector<Event> events;
  std::vector<ingest::RowError> errors;
  std::int64_t rows = 0;
};

inline void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

inline Outcome ReadAll(std::string_view data, ingest::ReaderOptions options,
                       std::size_t chunk_bytes) {
  options.chunk_bytes = chunk_bytes;
  options.max_line_bytes = 1024;  // small, so over-long records are reachable
  Outcome out;
  auto reader = ingest::OpenEventReaderFromMemory(data, "fuzz.csv", options);
  if (!reader) {
    out.open_code = reader.error().code;
    return out;
  }
  out.opened = true;
  while (true) {
    auto more = (*reader)->Next(out.events, out.errors, 5);
    Check(more.has_value(), "Next() failed on in-memory input");
    if (!*more) break;
  }
  out.rows = (*reader)->rows_read();
  Check((*reader)->fraction_done() == 1.0, "fraction_done() is 1 at the end");
  return out;
}

inline void CheckEvents(const Outcome& o) {
  Check(static_cast<std::int64_t>(o.events.size() + o.errors.size()) == o.rows,
        "every row is an event or an error");
  for (const Event& e : o.events) {
    Check(e.when.end > e.when.start, "interval is non-empty");
    Check(!e.source_id.empty(), "source_id is set");
    Check(static_cast<int>(e.category) < kCategoryCount, "category in range");
    if (e.Located()) {
      Check(std::isfinite(e.lon) && std::isfinite(e.lat) && e.lon >= -180 && e.lon <= 180 &&
                e.lat >= -90 && e.lat <= 90,
            "located events have valid lon/lat");
      Check(std::isfinite(e.x) && std::isfinite(e.y) && e.epsg != 0,
            "located events have projected x/y");
    } else {
      Check(std::isnan(e.lon) && std::isnan(e.x) && e.epsg == 0, "unlocated events have NaN");
    }
  }
  for (const auto& err : o.errors) {
    Check(err.line >= 2, "row errors point at a data line");
    Check(!err.reason.empty(), "row errors have a reason");
  }
}

inline int FuzzReader(const std::uint8_t* data, std::size_t size,
                      const ingest::ReaderOptions& options) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Outcome a = ReadAll(text, options, 7);
  const Outcome b = ReadAll(text, options, 1 << 16);
  Check(a.opened == b.opened && a.open_code == b.open_code, "open result independent of chunks");
  Check(a.events.size() == b.events.size(), "event count independent of chunks");
  Check(a.errors.size() == b.errors.size(), "error count independent of chunks");
  Check(a.rows == b.rows, "row count independent of chunks");
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    Check(a.events[i].source_id == b.events[i].source_id, "ids independent of chunks");
    Check(a.events[i].location_text == b.events[i].location_text, "text independent of chunks");
  }
  for (std::size_t i = 0; i < a.errors.size(); ++i) {
    Check(a.errors[i].line == b.errors[i].line && a.errors[i].code == b.errors[i].code,
          "errors independent of chunks");
  }
  CheckEvents(a);
  return 0;
}

}  // namespace crimecast::fuzz
