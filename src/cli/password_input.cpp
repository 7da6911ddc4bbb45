#include "cli/password_input.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace crimecast::cli {
namespace {

void StripEol(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
}

std::string PromptNoEcho(const std::string& prompt) {
  std::fprintf(stderr, "%s", prompt.c_str());
  std::fflush(stderr);
  termios old{};
  const bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::fprintf(stderr, "\n");
  StripEol(line);
  return line;
}

}  // namespace

Result<std::string> ReadPassword(const std::string& password_file, const std::string& prompt,
                                 bool confirm) {
  if (!password_file.empty()) {
    std::ifstream in(password_file);
    if (!in) {
      return Fail(ErrorCode::kFileUnreadable,
                  fmt::format("cannot read password file '{}'", password_file));
    }
    std::string line;
    std::getline(in, line);
    StripEol(line);
    return line;
  }
  if (const char* env = std::getenv("CRIMECAST_PASSWORD"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  if (isatty(STDIN_FILENO)) {
    std::string first = PromptNoEcho(prompt);
    if (confirm && PromptNoEcho("again: ") != first) {
      return Fail(ErrorCode::kInvalidArgument, "the two passwords differ");
    }
    return first;
  }
  std::string line;
  if (!std::getline(std::cin, line)) {
    return Fail(ErrorCode::kInvalidArgument,
                "no password given (use --password-file, CRIMECAST_PASSWORD or standard input)");
  }
  StripEol(line);
  return line;
}

std::string CliActor() {
  std::string name;
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    name = pw->pw_name;
  } else {
    name = std::to_string(geteuid());
  }
  return "cli:" + name;
}

std::string CliClient() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "cli";
  return std::string("cli@") + host;
}

}  // namespace crimecast::cli
