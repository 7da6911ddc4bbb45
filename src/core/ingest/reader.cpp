#include "core/ingest/reader.hpp"

#include <fmt/format.h>

#include "core/ingest/csv_event_reader.hpp"
#include "core/ingest/mapping.hpp"

namespace crimecast::ingest {
namespace {

Result<std::unique_ptr<EventReader>> OpenFromSource(std::unique_ptr<ByteSource> source,
                                                    const std::string& name,
                                                    const ReaderOptions& options) {
  if (options.max_line_bytes < 64) {
    return Fail(ErrorCode::kInvalidArgument, "max_line_bytes must be at least 64");
  }
  if (options.chunk_bytes == 0) {
    return Fail(ErrorCode::kInvalidArgument, "chunk_bytes must be positive");
  }
  switch (options.format) {
    case InputFormat::kPoliceUk: {
      auto opened = internal::OpenCsv(std::move(source), name, options);
      if (!opened) return Unexpected(opened.error());
      return internal::CreatePoliceUkReader(name, options, std::move(*opened));
    }
    case InputFormat::kCanonicalCsv: {
      auto opened = internal::OpenCsv(std::move(source), name, options);
      if (!opened) return Unexpected(opened.error());
      return internal::CreateCanonicalReader(name, options, std::move(*opened));
    }
    case InputFormat::kMapped: {
      if (options.mapping_path.empty()) {
        return Fail(ErrorCode::kBadMapping, "--format mapped needs a mapping file (--mapping)");
      }
      auto mapping = LoadMapping(options.mapping_path);
      if (!mapping) return Unexpected(mapping.error());
      auto opened = internal::OpenCsv(std::move(source), name, options, mapping->delimiter);
      if (!opened) return Unexpected(opened.error());
      return internal::CreateMappedReader(name, options, std::move(*mapping), std::move(*opened));
    }
  }
  return Fail(ErrorCode::kInvalidArgument, "unknown input format");
}

}  // namespace

Result<InputFormat> ParseInputFormat(std::string_view text) {
  if (text == "police-uk" || text == "policeuk" || text == "police_uk") {
    return InputFormat::kPoliceUk;
  }
  if (text == "csv" || text == "canonical") return InputFormat::kCanonicalCsv;
  if (text == "mapped") return InputFormat::kMapped;
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("unknown input format '{}' (expected police-uk, csv or mapped)", text));
}

std::string RowError::ToString() const {
  std::string out = file;
  if (line > 0) out += fmt::format(":{}", line);
  out += ": ";
  if (!field.empty()) out += fmt::format("field '{}': ", field);
  out += reason;
  return out;
}

Result<std::unique_ptr<EventReader>> OpenEventReader(const std::string& path,
                                                     const ReaderOptions& options) {
  auto source = OpenFileSource(path);
  if (!source) return Unexpected(source.error());
  return OpenFromSource(std::move(*source), path, options);
}

Result<std::unique_ptr<EventReader>> OpenEventReaderFromMemory(std::string_view data,
                                                               const std::string& name,
                                                               const ReaderOptions& options) {
  return OpenFromSource(MakeMemorySource(data), name, options);
}

}  // namespace crimecast::ingest
