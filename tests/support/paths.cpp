#include "support/paths.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <system_error>

namespace crimecast::testing {

std::filesystem::path SharedDataDir() {
  if (const char* env = std::getenv("CRIMECAST_SHARED_DATA"); env != nullptr && *env != '\0') {
    return std::filesystem::exists(env) ? std::filesystem::path(env) : std::filesystem::path();
  }
  const auto candidate = SourceDir().parent_path() / "shared" / "data";
  return std::filesystem::exists(candidate) ? candidate : std::filesystem::path();
}

std::filesystem::path TempDir(const std::string& name) {
  const char* base = std::getenv("TMPDIR");
  std::filesystem::path dir = std::filesystem::path(base ? base : "/tmp") /
                              ("crimecast-test-" + std::to_string(::getpid()) + "-" + name);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir);
  return dir;
}

int RunCommand(const std::string& command, std::string* output) {
  const std::string full = command + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buf{};
  std::string out;
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  if (output != nullptr) *output = std::move(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace crimecast::testing
