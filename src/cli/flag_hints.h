// SPDX-License-Identifier: MIT
// One-line messages for command-line mistakes that CLI11 reports too tersely: an unknown flag
// (with a "did you mean"), an unknown command, and `pulse validate` without a file. Built into
// the `pulse` program only (it needs CLI11).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace pulse::cli {

/// The message for `error`, thrown while `app` parsed `args` (argv without the program name):
/// a clearer one for the cases above, CLI11's own text otherwise. Never spans lines.
std::string DescribeParseError(CLI::App& app, const std::vector<std::string>& args,
                               const CLI::ParseError& error);

}  // namespace pulse::cli
