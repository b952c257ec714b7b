// SPDX-License-Identifier: MIT
// `pulse test FILE...`: load test files, run their cases, report, write JUnit, update expected
// files. Prints nothing itself: text goes to the caller's callbacks.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "golden/test_file.h"

namespace pulse::golden {

struct TestCommandOptions {
  std::vector<std::string> files;  // test files, run in the given order
  std::string junit_path;          // write a JUnit XML report here (empty: none)
  /// Rewrite the expected_file of each case whose results differ (creating missing ones); for
  /// inline `expected` arrays, print the array to paste instead.
  bool update = false;
  bool verbose = false;    // details for passing cases too
  bool show_times = true;  // durations in the report (tests turn them off)
};

struct TestCommandOutcome {
  size_t passed = 0;
  size_t failed = 0;
  size_t updated = 0;          // failed only in results, and their expected_file was rewritten
  size_t broken_files = 0;     // test files (or their pipelines) that could not be loaded or built
  bool output_failed = false;  // the JUnit report or an expected file could not be written
};

/// Called with report text (several lines, each ending in '\n') and with one-line error messages.
using TextCallback = std::function<void(std::string_view)>;

/// Run every case of every file in `options.files`, each read by `load` (the CLI's reads TOML
/// test files). The report goes to `out`: per file a header, per case its report
/// (test_runner.h), then a summary line. Errors for broken files and failed writes go to
/// `error`, one line each; other files still run. Called on one thread; runs cases one at a time.
TestCommandOutcome RunTestCommand(const TestCommandOptions& options, const TestFileLoader& load,
                                  const TextCallback& out, const TextCallback& error);

}  // namespace pulse::golden
