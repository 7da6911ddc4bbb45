// crimecast: the command-line client. Thin: parses arguments, calls the core library, prints.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"crimecast: where crime is concentrating and where it is likely next"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "crimecast 0.1.0");
  crimecast::cli::RegisterAll(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return crimecast::cli::RunSelected(app);
  } catch (const std::exception& e) {
    // Exceptions are only for faults (allocation, filesystem); report them plainly.
    std::fprintf(stderr, "crimecast: internal error: %s\n", e.what());
    return 90;
  }
}
