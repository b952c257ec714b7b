// SPDX-License-Identifier: MIT
// Running one `pulse test` case against the real engine (in-memory source and sink, explicit
// watermark steps), checking it, and describing the outcome.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "golden/test_compare.h"
#include "golden/test_file.h"

#include "pulse/core/bad_record.h"
#include "pulse/core/status.h"
#include "pulse/core/value.h"

namespace pulse::golden {

/// What the engine did at one input step, or at the end of input.
struct StepOutcome {
  enum class Kind : uint8_t { kRecord, kHeader, kBad, kWatermark, kEnd };
  Kind kind = Kind::kEnd;
  const InputStep* step = nullptr;      // null for kEnd; points into the TestCase
  EventTime time = 0;                   // kRecord: its event time; kWatermark: the step's value
  Value value;                          // kRecord: the decoded record
  bool reached = false;                 // the engine finished the step (false after a failure)
  EventTime watermark = kMinWatermark;  // W after the step
  size_t results = 0;                   // results emitted at this step
  bool late = false;                    // kRecord: dropped as late for all of its windows
  BadReason bad_reason = BadReason::kBadEventTime;  // kBad
  std::string bad_error;                            // kBad
};

/// The outcome of one case. Refers into the TestCase it was run from.
struct CaseResult {
  std::string name;
  double seconds = 0;                    // wall time of the run
  Status run_error;                      // the error that ended the run, if any
  std::vector<Value> actual;             // results, in output order (empty when the run failed)
  std::vector<const StepOutcome*> late;  // records dropped as late, in input order
  std::vector<const StepOutcome*> bad;   // bad records, in input order
  std::vector<StepOutcome> steps;        // one per input step, then the end of input

  Comparison results;                    // actual vs expected results
  std::optional<Comparison> late_check;  // when the case has expected_late
  std::optional<Comparison> bad_check;   // when the case has expected_bad
  bool error_ok = true;                  // run_error agrees with expected_error
  bool passed = false;

  CaseResult() = default;
  CaseResult(CaseResult&&) = default;
  CaseResult& operator=(CaseResult&&) = default;
  CaseResult(const CaseResult&) = delete;  // late and bad point into steps
  CaseResult& operator=(const CaseResult&) = delete;
};

/// Run `test_case` of `file`: the pipeline file.pipeline.build makes with an in-memory source
/// that yields the case's input one step per batch (records decoded and timed as the file source
/// does them, io/input_lines.h; malformed ones reported as bad records under the pipeline's
/// on_error) and a collecting sink; one worker; no file is read or written. Then compare with
/// the expectations. Errors: InvalidArgument when the pipeline cannot be built; Internal when
/// the engine's batches cannot be matched to the input steps. A failing run is not an error: it
/// is CaseResult::run_error.
Result<CaseResult> RunCase(const TestFile& file, const TestCase& test_case);

struct ReportOptions {
  bool verbose = false;    // details for passing cases too
  bool show_times = true;  // "(3 ms)" after the case name
};

/// The report of one case: "  PASS  <name>  (<ms> ms)" or "  FAIL ...", and for failures (or
/// when verbose) the result diff, late and bad records, the run error and the step trace with
/// the watermark after each step. Every line ends with '\n'.
std::string FormatCaseReport(const TestCase& test_case, const CaseResult& result,
                             const ReportOptions& options);

/// One line on why a case failed ("results: 1 missing, 2 unexpected; late records differ"),
/// e.g. for JUnit's failure message. Empty when it passed.
std::string FailureSummary(const TestCase& test_case, const CaseResult& result);

/// The actual results as expected lines: compact JSON, one per line, each ending with '\n'.
std::string ActualLines(const CaseResult& result);

/// `lines` as a TOML array of strings for a test file, e.g. "expected = [\n  '{...}',\n]\n".
std::string TomlStringArray(std::string_view key, const std::vector<std::string>& lines);

}  // namespace pulse::golden
