// cli/password_input.hpp: reading passwords for `user` and `audit` commands without putting
// them on the command line (where `ps` and shell history would show them).
#pragma once

#include <string>

#include "core/common/error.hpp"

namespace crimecast::cli {

// In order of preference: the first line of `password_file` when given; the environment
// variable CRIMECAST_PASSWORD; a prompt on the terminal with echo off (asked twice when
// `confirm`); otherwise the first line of standard input.
Result<std::string> ReadPassword(const std::string& password_file, const std::string& prompt,
                                 bool confirm);

// "cli:<login name>" for audit records of command-line actions.
std::string CliActor();
// "cli@<host name>".
std::string CliClient();

}  // namespace crimecast::cli
