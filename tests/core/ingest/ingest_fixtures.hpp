// Helpers for the ingest unit tests: tiny inline fixtures written to a temporary file and read
// back through the public reader API.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/ingest/reader.hpp"
#include "support/paths.hpp"

namespace crimecast::ingest::testing {

inline const char kPoliceHeader[] =
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context\n";

// A well-formed data.police.uk row with the given id, month, lon, lat and crime type.
inline std::string PoliceRow(const std::string& id, const std::string& month = "2024-01",
                             const std::string& lon = "-3.001", const std::string& lat = "51.601",
                             const std::string& type = "Burglary",
                             const std::string& location = "On or near High Street") {
  return id + "," + month + ",Gwent Police,Gwent Police," + lon + "," + lat + "," + location +
         ",W01001440,Newport 001A," + type + ",Under investigation,\n";
}

struct ReadResult {
  bool opened = false;
  Error open_error;
  std::vector<Event> events;
  std::vector<RowError> errors;
  std::int64_t rows = 0;
  std::string format;
};

// A temporary directory for the running test (created empty on the test's first call).
inline std::filesystem::path TestDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = std::string(info->test_suite_name()) + "-" + info->name();
  static std::string last_name;
  static std::filesystem::path last_dir;
  if (name != last_name) {
    last_name = name;
    last_dir = crimecast::testing::TempDir(name);
  }
  return last_dir;
}

inline std::filesystem::path WriteFile(const std::filesystem::path& path,
                                       const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return path;
}

inline ReadResult ReadPath(const std::filesystem::path& path, const ReaderOptions& options,
                           std::size_t batch = 3) {
  ReadResult r;
  auto reader = OpenEventReader(path.string(), options);
  if (!reader) {
    r.open_error = reader.error();
    return r;
  }
  r.opened = true;
  r.format = (*reader)->format_name();
  while (true) {
    auto more = (*reader)->Next(r.events, r.errors, batch);
    EXPECT_TRUE(more) << more.error().ToString();
    if (!more || !*more) break;
  }
  EXPECT_DOUBLE_EQ((*reader)->fraction_done(), 1.0);
  r.rows = (*reader)->rows_read();
  return r;
}

inline ReadResult ReadText(const std::string& content, const ReaderOptions& options = {},
                           const std::string& name = "fixture.csv") {
  return ReadPath(WriteFile(TestDir() / name, content), options);
}

}  // namespace crimecast::ingest::testing
