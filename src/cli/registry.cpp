#include <cstdio>
#include <map>
#include <vector>

#include "cli/commands.hpp"

namespace crimecast::cli {
namespace {
struct Entry {
  std::string name;
  Setup setup;
};
// Function-local static: registrars in other translation units may run before this file's
// globals are initialised.
std::vector<Entry>& Entries() {
  static std::vector<Entry> entries;
  return entries;
}
std::map<const CLI::App*, Action>& Actions() {
  static std::map<const CLI::App*, Action> actions;
  return actions;
}
}  // namespace

CommandRegistrar::CommandRegistrar(std::string name, Setup setup) {
  Entries().push_back({std::move(name), std::move(setup)});
}

void RegisterAll(CLI::App& app) {
  auto& entries = Entries();
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  for (auto& e : entries) {
    const std::size_t before = app.get_subcommands({}).size();
    Action action = e.setup(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) Actions()[subs.back()] = std::move(action);
  }
}

int RunSelected(CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands()) {
    auto it = Actions().find(sub);
    if (it != Actions().end()) return it->second();
  }
  std::fputs("crimecast: no command given (try --help)\n", stderr);
  return kExitInput;
}

int ReportError(const Error& error) {
  std::fprintf(stderr, "crimecast: %s\n", error.ToString().c_str());
  switch (error.code) {
    case ErrorCode::kStorage:
    case ErrorCode::kSchemaVersion:
      return kExitStorage;
    case ErrorCode::kInternal:
      return 90;
    default:
      return kExitInput;
  }
}

}  // namespace crimecast::cli
