// libFuzzer target: the canonical CSV reader (lon/lat files, and x/y files in EPSG:27700).
#include "fuzz_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  crimecast::ingest::ReaderOptions options;
  options.format = crimecast::ingest::InputFormat::kCanonicalCsv;
  options.timezone = "Europe/London";
  // The CRS only matters for x/y headers; giving it lets both header forms be explored.
  options.input_epsg = 0;
  crimecast::fuzz::FuzzReader(data, size, options);
  options.input_epsg = 27700;
  return crimecast::fuzz::FuzzReader(data, size, options);
}
