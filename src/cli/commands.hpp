// cli/commands.hpp
//
// Each subcommand lives in its own file, cli/<name>.cpp, and registers itself with a static
// CommandRegistrar, so adding a command touches no shared list:
//
//   static CommandRegistrar reg("stats", [](CLI::App& app) -> Action { ... });
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "core/common/error.hpp"

namespace crimecast::cli {

// A subcommand's action, run after parsing when the subcommand was selected; returns exit status.
using Action = std::function<int()>;
// Adds the subcommand to `app` and returns the action to run when it is selected.
using Setup = std::function<Action(CLI::App& app)>;

struct CommandRegistrar {
  CommandRegistrar(std::string name, Setup setup);
};

void RegisterAll(CLI::App& app);
int RunSelected(CLI::App& app);

// Prints "crimecast: <Name>: <message>" to stderr and returns the exit status for it.
int ReportError(const Error& error);

// Exit statuses: 0 ok, 1 usage or input error, 2 partial failure (--strict), 3 storage error,
// 90 internal error.
inline constexpr int kExitInput = 1;
inline constexpr int kExitPartial = 2;
inline constexpr int kExitStorage = 3;

}  // namespace crimecast::cli
