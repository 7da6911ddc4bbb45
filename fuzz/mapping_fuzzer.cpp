// libFuzzer target: mapping files (TOML structure, categories, time formats, withheld_when).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/ingest/mapping.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto mapping = crimecast::ingest::ParseMapping(text, "fuzz.toml");
  if (mapping) {
    // A mapping that loads is complete: a category column and a way to read time and place.
    if (mapping->category_column.empty() || mapping->source.empty()) std::abort();
    if (mapping->time_column.empty() == mapping->year_column.empty()) std::abort();
    if (mapping->uses_xy() == !mapping->lon_column.empty()) std::abort();
  } else if (mapping.error().code != crimecast::ErrorCode::kBadMapping) {
    std::abort();
  }
  // The withheld_when grammar on its own.
  auto rule = crimecast::ingest::WithheldRule::Parse(text);
  (void)rule;
  return 0;
}
