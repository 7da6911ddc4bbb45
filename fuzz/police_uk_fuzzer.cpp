// libFuzzer target: the data.police.uk street CSV reader.
#include "fuzz_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  crimecast::ingest::ReaderOptions options;
  options.format = crimecast::ingest::InputFormat::kPoliceUk;
  return crimecast::fuzz::FuzzReader(data, size, options);
}
