// SPDX-License-Identifier: MIT
// The `pulse test` command: files → cases → reports, JUnit, --update.
#include "golden/test_command.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <utility>

#include "golden/junit.h"
#include "golden/test_file.h"
#include "golden/test_runner.h"
#include "pulse/core/output_file.h"

namespace pulse::golden {
namespace {

// Write `contents` to `path` atomically (temporary file, then rename).
Status WriteWhole(const std::string& path, std::string_view contents) {
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<pulse::OutputFile> file,
                         pulse::OutputFile::Create(path));
  PULSE_RETURN_IF_ERROR(file->Append(contents));
  return file->Commit();
}

std::string Indent(const std::string& text, std::string_view prefix) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += prefix;
    out.append(text, start, end - start);
    out += '\n';
    start = end + 1;
  }
  return out;
}

// Whether everything but the results matched, so that rewriting expected_file makes it pass.
bool OnlyResultsDiffer(const CaseResult& r) {
  return r.error_ok && (!r.late_check.has_value() || r.late_check->ok()) &&
         (!r.bad_check.has_value() || r.bad_check->ok());
}

class Command {
 public:
  Command(const TestCommandOptions& options, const TestFileLoader& load, const TextCallback& out,
          const TextCallback& error)
      : options_(options), load_(load), out_(out), error_(error) {}

  TestCommandOutcome Run() {
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& path : options_.files) RunFile(path);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out_(Summary(seconds));
    if (!options_.junit_path.empty()) {
      Status st = WriteWhole(options_.junit_path, FormatJUnit(suites_));
      if (!st.ok()) {
        error_(fmt::format("cannot write the JUnit report: {}", st.message()));
        outcome_.output_failed = true;
      }
    }
    return outcome_;
  }

 private:
  void RunFile(const std::string& path) {
    JUnitSuite suite;
    suite.name = path;
    const std::string classname = JUnitClassName(path);
    Result<TestFile> file = load_(path);
    if (!file.ok()) {
      Broken(&suite, classname, file.status().message());
      return;
    }
    out_(fmt::format("{}: pipeline {}\n", path, file->pipeline_path));
    for (const TestCase& test_case : file->cases) {
      Result<CaseResult> result = RunCase(*file, test_case);
      if (!result.ok()) {
        Broken(&suite, classname, result.status().message());
        return;
      }
      suite.seconds += result->seconds;
      std::string report = FormatCaseReport(test_case, *result,
                                            ReportOptions{options_.verbose, options_.show_times});
      JUnitCase junit{
          test_case.name, classname, result->seconds, JUnitCase::Outcome::kPassed, "", ""};
      if (result->passed) {
        ++outcome_.passed;
      } else {
        junit.outcome = JUnitCase::Outcome::kFailed;
        junit.message = FailureSummary(test_case, *result);
        junit.details = report;
        report += UpdateOrHint(test_case, *result);
      }
      out_(report);
      suite.cases.push_back(std::move(junit));
    }
    suites_.push_back(std::move(suite));
  }

  // For a failed case: rewrite its expected_file (--update) or say how; counts the case.
  std::string UpdateOrHint(const TestCase& test_case, const CaseResult& r) {
    const bool results_differ = test_case.expected_file_missing || !r.results.ok();
    if (!results_differ || !r.run_error.ok()) {
      ++outcome_.failed;
      return "";
    }
    if (!test_case.expected_file.empty()) {
      if (!options_.update) {
        ++outcome_.failed;
        return fmt::format("    (pulse test --update rewrites {} from the actual results)\n",
                           test_case.expected_file_as_written);
      }
      Status st = WriteWhole(test_case.expected_file, ActualLines(r));
      if (!st.ok()) {
        error_(fmt::format("cannot update {}: {}", test_case.expected_file, st.message()));
        outcome_.output_failed = true;
        ++outcome_.failed;
        return "";
      }
      if (OnlyResultsDiffer(r)) {
        ++outcome_.updated;
      } else {
        ++outcome_.failed;
      }
      return fmt::format("    updated {} ({})\n", test_case.expected_file_as_written,
                         r.actual.size() == 1 ? std::string("1 result")
                                              : fmt::format("{} results", r.actual.size()));
    }
    ++outcome_.failed;
    if (!options_.update) {
      return "    (pulse test --update prints the actual results as an expected array to paste)\n";
    }
    std::vector<std::string> lines;
    for (const Value& v : r.actual) lines.push_back(v.ToJson());
    return fmt::format("    expected is inline: replace it in the case at line {} with\n{}",
                       test_case.line, Indent(TomlStringArray("expected", lines), "      "));
  }

  void Broken(JUnitSuite* suite, const std::string& classname, const std::string& message) {
    error_(message);
    ++outcome_.broken_files;
    suite->cases.push_back(
        JUnitCase{"(test file)", classname, 0, JUnitCase::Outcome::kError, message, message});
    suites_.push_back(std::move(*suite));
  }

  std::string Summary(double seconds) const {
    const size_t cases = outcome_.passed + outcome_.failed + outcome_.updated;
    std::string out = fmt::format("pulse test: {} {}: {} passed, {} failed", cases,
                                  cases == 1 ? "case" : "cases", outcome_.passed, outcome_.failed);
    if (outcome_.updated > 0) out += fmt::format(", {} updated", outcome_.updated);
    if (outcome_.broken_files > 0) {
      out += fmt::format("; {} test {} could not be run", outcome_.broken_files,
                         outcome_.broken_files == 1 ? "file" : "files");
    }
    if (options_.show_times) out += fmt::format(" ({:.2f} s)", seconds);
    return out + "\n";
  }

  const TestCommandOptions& options_;
  const TestFileLoader& load_;
  const TextCallback& out_;
  const TextCallback& error_;
  TestCommandOutcome outcome_;
  std::vector<JUnitSuite> suites_;
};

}  // namespace

TestCommandOutcome RunTestCommand(const TestCommandOptions& options, const TestFileLoader& load,
                                  const TextCallback& out, const TextCallback& error) {
  return Command(options, load, out, error).Run();
}

}  // namespace pulse::golden
