// SPDX-License-Identifier: MIT
// A `pulse test` file (TOML): the pipeline it tests and its cases, checked strictly and loaded
// into plain data, with every input and expected line read and parsed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/config.h"

#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/core/value.h"

namespace pulse::cli {

/// One step of a case's input, in order.
struct InputStep {
  enum class Kind : uint8_t {
    kRecord,     // one input line: a JSON object, or a CSV row (or header row)
    kWatermark,  // an explicit watermark step: W rises to at least `watermark`
  };
  Kind kind = Kind::kRecord;
  std::string text;         // kRecord: the line as written (without its line end)
  EventTime watermark = 0;  // kWatermark
  /// Where the step was written: the test file, or an input file (as named in the test file);
  /// and the 1-based line there.
  std::string origin;
  uint64_t line = 0;
  /// The first line of an input: of an input file, or of the case's inline strings. For CSV,
  /// it starts a new header (the first line of an input that is not malformed is its header).
  bool starts_input = false;
  bool too_long = false;            // longer than the pipeline's source.max_line_bytes
  bool unterminated_quote = false;  // CSV: the row ends inside a quoted field
};

/// How actual lines are compared with expected ones.
struct CompareOptions {
  enum class Order : uint8_t { kExact, kSet };
  Order order = Order::kExact;
  /// Top-level object members left out of the comparison.
  std::vector<std::string> ignore_fields;
  /// Numbers match when |expected − actual| <= tolerance (integers and floats compare by value).
  double tolerance = 0;
};

/// An expected line: its JSON value and where it was written.
struct ExpectedLine {
  Value value;
  std::string text;
  std::string origin;
  uint64_t line = 0;
};

/// One [[case]].
struct TestCase {
  std::string name;
  int line = 0;  // line of the [[case]] header
  std::vector<InputStep> input;

  /// The expected results: the `expected` array, or the lines of `expected_file`.
  std::vector<ExpectedLine> expected;
  /// expected_file resolved against the test file's directory; empty for inline `expected`.
  std::string expected_file;
  std::string expected_file_as_written;
  /// expected_file does not exist yet (the case fails; `pulse test --update` creates it).
  bool expected_file_missing = false;

  /// Checked only when set: the records dropped as late (JSON, in input order), the raw text of
  /// the bad records (in input order), and a substring of the error that must end the run.
  std::optional<std::vector<ExpectedLine>> expected_late;
  std::optional<std::vector<std::string>> expected_bad;
  std::optional<std::string> expected_error;

  CompareOptions compare;
};

/// A loaded test file. Plain data.
struct TestFile {
  std::string path;           // as given on the command line
  std::string pipeline_path;  // the pipeline config, resolved against the test file's directory
  PipelineConfig pipeline;
  std::vector<TestCase> cases;
};

/// Read and check the test file at `path`, the pipeline config it names (LoadConfig) and every
/// input file and expected_file.
/// Paths in the file are relative to its directory. Errors (all InvalidArgument, one line):
/// "<file>:<line>: <message>" for TOML syntax, unknown keys (with "did you mean"), wrong types
/// and values, missing keys, duplicate case names, unreadable input files and lines of an
/// expected file that are not JSON; the pipeline config's own errors as LoadConfig gives them.
/// A missing expected_file is not an error (see TestCase::expected_file_missing).
Result<TestFile> LoadTestFile(const std::string& path);

/// The conventional test file of a pipeline config: "dir/x.toml" → "dir/x.test.toml".
std::string TestFileFor(const std::string& pipeline_path);

}  // namespace pulse::cli
