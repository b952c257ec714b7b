// SPDX-License-Identifier: MIT
// A `pulse test` file as plain data: the pipeline it tests and its cases, with every input and
// expected line read and parsed. Reading the file (TOML) is the caller's part (`pulse test`
// reads it in src/cli/test_file.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pulse/core/connector.h"
#include "pulse/core/pipeline.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/core/value.h"
#include "pulse/io/file.h"

namespace pulse::golden {

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

/// The pipeline under test, as a case runs it.
struct TestedPipeline {
  /// How the case input is framed and decoded: as the pipeline's source would read a file
  /// (io/input_lines.h).
  io::FileFormat format = io::FileFormat::kJsonl;
  std::string time_field = "event_time";
  size_t max_line_bytes = 16u << 20;
  /// Build the pipeline with `source` and `sink` in place of its configured ones (and without
  /// its dead-letter and late output files). Errors: InvalidArgument when it cannot be built.
  std::function<Result<Pipeline>(std::unique_ptr<Source> source, std::unique_ptr<Sink> sink)>
      build;
};

/// A loaded test file. Plain data.
struct TestFile {
  std::string path;           // as given on the command line
  std::string pipeline_path;  // the pipeline config, resolved against the test file's directory
  TestedPipeline pipeline;
  std::vector<TestCase> cases;
};

/// Loads the test file at `path` (for RunTestCommand). Errors: InvalidArgument, one line.
using TestFileLoader = std::function<Result<TestFile>(const std::string& path)>;

}  // namespace pulse::golden
