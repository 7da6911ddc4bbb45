// libFuzzer target: the mapped CSV reader with the shipped Vancouver mapping.
#include "fuzz_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  crimecast::ingest::ReaderOptions options;
  options.format = crimecast::ingest::InputFormat::kMapped;
  options.mapping_path = CRIMECAST_SOURCE_DIR "/mappings/vancouver-vpd.toml";
  return crimecast::fuzz::FuzzReader(data, size, options);
}
