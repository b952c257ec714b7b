// SPDX-License-Identifier: MIT
// JUnit XML reports (the testsuites/testsuite/testcase dialect that Jenkins, GitLab and GitHub
// test reporters read; tests/test_command/junit.xsd describes it).
#pragma once

#include <string>
#include <vector>

namespace pulse::golden {

struct JUnitCase {
  enum class Outcome : uint8_t { kPassed, kFailed, kError };
  std::string name;
  std::string classname;
  double seconds = 0;
  Outcome outcome = Outcome::kPassed;
  std::string message;  // kFailed, kError: one line
  std::string details;  // kFailed, kError: the full report (element text)
};

struct JUnitSuite {
  std::string name;  // the test file
  double seconds = 0;
  std::vector<JUnitCase> cases;
};

/// The JUnit XML document for `suites`: <testsuites> with totals, a <testsuite> per suite with
/// its counts (tests, failures, errors, skipped) and time, a <testcase> per case with a
/// <failure> or <error> child when it did not pass. Text is escaped, invalid UTF-8 repaired and
/// control characters that XML 1.0 forbids written as "\uXXXX". Times in seconds ("0.004").
std::string FormatJUnit(const std::vector<JUnitSuite>& suites);

/// The JUnit classname of a test file: its path without ".toml" (and ".test"), '/' → '.'.
std::string JUnitClassName(const std::string& test_file_path);

}  // namespace pulse::golden
