// tests/support/paths.hpp: where tests find the shared data, the source tree and the CLI.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace crimecast::testing {

// ../shared/data beside the checkout, or $CRIMECAST_SHARED_DATA. Empty when absent.
std::filesystem::path SharedDataDir();

// A fresh, empty temporary directory removed at process exit.
std::filesystem::path TempDir(const std::string& name);

inline std::filesystem::path SourceDir() { return CRIMECAST_SOURCE_DIR; }
inline std::filesystem::path CliPath() { return CRIMECAST_CLI_PATH; }

// Runs a shell command, returns exit status; stdout+stderr go to *output when given.
int RunCommand(const std::string& command, std::string* output = nullptr);

}  // namespace crimecast::testing

// Skips the current test with a clear message when ../shared/data (or one folder of it) is absent.
#define CRIMECAST_REQUIRE_SHARED_DATA(subdir)                                             \
  do {                                                                                    \
    if (::crimecast::testing::SharedDataDir().empty() ||                                  \
        !std::filesystem::exists(::crimecast::testing::SharedDataDir() / (subdir))) {     \
      GTEST_SKIP() << "shared data folder '" << (subdir)                                  \
                   << "' not found (expected ../shared/data beside the checkout, or set " \
                      "CRIMECAST_SHARED_DATA); skipping real-data test";                  \
    }                                                                                     \
  } while (0)
