// SPDX-License-Identifier: MIT
// RunCase: the in-memory source and sink of `pulse test`, the run, the checks; and the report.
//
// The source yields exactly one input step per Read call (a record, or nothing but a watermark
// mark: the step's watermark, or a no-op mark for headers and bad records), so that with
// batch_size 1 each step is one engine batch, and the sink's OnWatermark calls tell, step by step,
// the watermark after it, the results it released and (from the late counter, which the
// executor advances before it hands the batch to the sink) whether its record was late.
#include "golden/test_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "pulse/core/executor.h"
#include "pulse/core/json.h"
#include "pulse/io/input_lines.h"

namespace pulse::golden {
namespace {

// Inputs of up to this many steps are traced step by step; longer ones only where something
// happens, and at most kMaxTraceSteps lines.
constexpr size_t kMaxQuietTraceSteps = 40;
constexpr size_t kMaxTraceSteps = 100;

// Shared by the source (source thread), the sink (sink thread) and RunCase. The steps vector is
// sized before the run; the source and the sink write different members of its elements, and the
// executor's queues order the source's writes for a step before the sink's.
struct Trace {
  std::vector<StepOutcome> steps;
  std::vector<Value> results;
  BadRecordHandler* bad_records = nullptr;  // set by the source's Open, before the run starts
  size_t batches = 0;                       // OnWatermark calls
};

// Yields a case's input steps; see the file comment. Not thread-safe.
class CaseSource final : public Source {
 public:
  CaseSource(const TestCase& test_case, const TestedPipeline& pipeline, Trace* trace)
      : test_case_(test_case),
        decoder_(pipeline.format, pipeline.time_field, pipeline.max_line_bytes),
        trace_(trace) {}

  Status Open(const SourceContext& ctx) override {
    ctx_ = ctx;
    trace_->bad_records = ctx.bad_records;
    return Status::OK();
  }

  Result<bool> Read(size_t max_records, std::vector<Record>* out) override {
    (void)max_records;  // at most one record per call, and the executor asks for at least one
    pending_.clear();
    if (next_ == test_case_.input.size()) return false;
    const size_t index = next_++;
    const InputStep& step = test_case_.input[index];
    StepOutcome& outcome = trace_->steps[index];
    outcome.step = &step;
    if (step.kind == InputStep::Kind::kWatermark) {
      outcome.kind = StepOutcome::Kind::kWatermark;
      outcome.time = step.watermark;
      pending_.push_back(SourceWatermark{0, step.watermark});
      return true;
    }
    PULSE_ASSIGN_OR_RETURN(std::optional<Record> record, Decode(step, &outcome));
    if (record.has_value()) {
      outcome.kind = StepOutcome::Kind::kRecord;
      outcome.time = record->time;
      outcome.value = record->value;
      out->push_back(std::move(*record));
      ctx_.counters->records.fetch_add(1, std::memory_order_relaxed);
    } else {
      // A header or a bad record: a mark that changes nothing still makes the step a batch.
      pending_.push_back(SourceWatermark{0, kMinWatermark});
    }
    return true;  // the end of input is a step (a batch) of its own
  }

  void TakeWatermarks(std::vector<SourceWatermark>* out) override {
    out->insert(out->end(), pending_.begin(), pending_.end());
    pending_.clear();
  }

  Status Close() override { return Status::OK(); }

  std::string Describe() const override {
    return fmt::format("test case \"{}\" ({} steps)", test_case_.name, test_case_.input.size());
  }

 private:
  // The record of a step, or nullopt for a header or a bad record (reported here).
  Result<std::optional<Record>> Decode(const InputStep& step, StepOutcome* outcome) {
    if (step.starts_input) decoder_.StartInput();
    io::DecodedLine decoded = decoder_.Decode(
        io::InputLine{step.text, step.line, step.too_long, step.unterminated_quote});
    switch (decoded.kind) {
      case io::DecodedLine::Kind::kRecord:
        return std::optional<Record>(std::move(decoded.record));
      case io::DecodedLine::Kind::kHeader:
        outcome->kind = StepOutcome::Kind::kHeader;
        return std::optional<Record>();
      case io::DecodedLine::Kind::kBad:
        break;
    }
    outcome->kind = StepOutcome::Kind::kBad;
    outcome->bad_reason = decoded.bad_reason;
    outcome->bad_error = std::move(decoded.bad_error);
    PULSE_RETURN_IF_ERROR(ctx_.bad_records->Report(
        BadRecord{decoded.bad_reason, step.origin, step.line, step.text, outcome->bad_error}));
    return std::optional<Record>();
  }

  const TestCase& test_case_;
  io::InputLineDecoder decoder_;
  Trace* trace_;
  SourceContext ctx_;
  size_t next_ = 0;
  std::vector<SourceWatermark> pending_;
};

// Keeps the results and fills in, per batch (= step), the watermark, results and lateness.
// Not thread-safe.
class CaseSink final : public Sink {
 public:
  explicit CaseSink(Trace* trace) : trace_(trace) {}

  Status Open(const SinkContext& ctx) override {
    counters_ = ctx.counters;
    return Status::OK();
  }

  Status Write(std::span<const Record> records) override {
    for (const Record& r : records) trace_->results.push_back(r.value);
    batch_results_ += records.size();
    counters_->records.fetch_add(records.size(), std::memory_order_relaxed);
    return Status::OK();
  }

  Status OnWatermark(EventTime watermark) override {
    const size_t index = trace_->batches++;
    const uint64_t late = trace_->bad_records->count(BadReason::kLate);
    if (index < trace_->steps.size()) {
      StepOutcome& step = trace_->steps[index];
      step.reached = true;
      step.watermark = watermark;
      step.results = batch_results_;
      step.late = late > late_seen_;
    }
    late_seen_ = late;
    batch_results_ = 0;
    return Status::OK();
  }

  Status Close() override { return Status::OK(); }
  std::string Describe() const override { return "test results"; }

 private:
  Trace* trace_;
  SinkCounters* counters_ = nullptr;
  size_t batch_results_ = 0;
  uint64_t late_seen_ = 0;
};

std::string_view StepKindName(StepOutcome::Kind kind) {
  switch (kind) {
    case StepOutcome::Kind::kRecord:
      return "record";
    case StepOutcome::Kind::kHeader:
      return "header";
    case StepOutcome::Kind::kBad:
      return "bad";
    case StepOutcome::Kind::kWatermark:
      return "watermark";
    case StepOutcome::Kind::kEnd:
      return "end";
  }
  return "step";
}

std::string Location(const InputStep& step) { return fmt::format("{}:{}", step.origin, step.line); }

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// "1 missing, 2 unexpected" for a comparison.
std::string CountDifferences(const Comparison& c) {
  size_t counts[4] = {0, 0, 0, 0};
  for (const Difference& d : c.differences) ++counts[static_cast<size_t>(d.kind)];
  constexpr std::string_view kNames[4] = {"missing", "unexpected", "changed", "moved"};
  std::string out;
  for (size_t i = 0; i < 4; ++i) {
    if (counts[i] == 0) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", counts[i], kNames[i]);
  }
  return out;
}

std::vector<Value> ExpectedValues(const std::vector<ExpectedLine>& lines) {
  std::vector<Value> out;
  out.reserve(lines.size());
  for (const ExpectedLine& l : lines) out.push_back(l.value);
  return out;
}

std::vector<Value> LateValues(const CaseResult& r) {
  std::vector<Value> out;
  for (const StepOutcome* s : r.late) out.push_back(s->value);
  return out;
}

std::vector<Value> BadValues(const CaseResult& r) {
  std::vector<Value> out;
  for (const StepOutcome* s : r.bad) out.push_back(Value(s->step->text));
  return out;
}

std::vector<Value> StringValues(const std::vector<std::string>& lines) {
  return std::vector<Value>(lines.begin(), lines.end());
}

std::string FormatStep(const StepOutcome& s, size_t number, size_t location_width) {
  std::string detail;
  switch (s.kind) {
    case StepOutcome::Kind::kRecord:
    case StepOutcome::Kind::kWatermark:
      detail = FormatEventTime(s.time);
      break;
    case StepOutcome::Kind::kBad:
      detail = std::string(BadReasonName(s.bad_reason));
      break;
    case StepOutcome::Kind::kHeader:
    case StepOutcome::Kind::kEnd:
      break;
  }
  std::string events;
  if (s.late) events += "  late";
  if (s.results > 0) events += "  -> " + Plural(s.results, "result", "results");
  if (s.kind == StepOutcome::Kind::kEnd) {
    // "end of input" spans the kind and location columns.
    return fmt::format("      {:>4}  {:<{}}  {:<24}  W={}{}\n", "", "end of input",
                       location_width + 11, "", FormatEventTime(s.watermark), events);
  }
  return fmt::format("      {:>4}  {:<9}  {:<{}}  {:<24}  W={}{}\n", number, StepKindName(s.kind),
                     Location(*s.step), location_width, detail, FormatEventTime(s.watermark),
                     events);
}

// Every step of a short input; of a long one, those where something happens (a watermark step,
// a header or bad record, a late record, results, a new W), at most kMaxTraceSteps of them.
std::string FormatTrace(const CaseResult& r) {
  std::string out = "    steps (W = the watermark after the step):\n";
  size_t location_width = 0;
  for (const StepOutcome& s : r.steps) {
    if (s.step != nullptr) location_width = std::max(location_width, Location(*s.step).size());
  }
  const bool all = r.steps.size() <= kMaxQuietTraceSteps;
  size_t shown = 0;
  size_t quiet = 0;     // records that changed nothing, left out of a long trace
  size_t over_cap = 0;  // steps beyond kMaxTraceSteps
  EventTime previous = kMinWatermark;
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const StepOutcome& s = r.steps[i];
    const bool eventful =
        s.kind != StepOutcome::Kind::kRecord || s.late || s.results > 0 || s.watermark != previous;
    previous = s.watermark;
    const bool last = s.kind == StepOutcome::Kind::kEnd;
    if (!last && !all && !eventful) {
      ++quiet;
      continue;
    }
    if (!last && shown == kMaxTraceSteps) {
      ++over_cap;
      continue;
    }
    ++shown;
    out += FormatStep(s, i + 1, location_width);
  }
  if (quiet > 0) out += fmt::format("      (not shown: {} records that changed nothing)\n", quiet);
  if (over_cap > 0) out += fmt::format("      (not shown: {} more steps)\n", over_cap);
  return out;
}

}  // namespace

Result<CaseResult> RunCase(const TestFile& file, const TestCase& test_case) {
  if (!file.pipeline.build) {
    return Status::InvalidArgument(
        fmt::format("{}: the pipeline {} cannot be built (no builder)", file.path,
                    file.pipeline_path));
  }
  auto trace = std::make_unique<Trace>();
  trace->steps.resize(test_case.input.size() + 1);
  trace->steps.back().kind = StepOutcome::Kind::kEnd;
  PULSE_ASSIGN_OR_RETURN(
      Pipeline pipeline,
      file.pipeline.build(std::make_unique<CaseSource>(test_case, file.pipeline, trace.get()),
                          std::make_unique<CaseSink>(trace.get())));

  RunOptions options;
  options.workers = 1;
  options.batch_size = 1;
  options.end_of_input_steps = 0;  // one sink batch per input step, the end included
  const auto start = std::chrono::steady_clock::now();
  Result<RunProgress> run = Run(std::move(pipeline), options);
  CaseResult r;
  r.name = test_case.name;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.steps = std::move(trace->steps);
  if (run.ok()) {
    if (trace->batches != r.steps.size() ||
        run->bad[static_cast<size_t>(BadReason::kLate)] !=
            static_cast<uint64_t>(std::count_if(r.steps.begin(), r.steps.end(),
                                                [](const StepOutcome& s) { return s.late; }))) {
      return Status::Internal(fmt::format(
          "pulse test: the engine ran {} batches for {} steps of case \"{}\"; cannot match "
          "its output to the input steps",
          trace->batches, r.steps.size(), test_case.name));
    }
    r.actual = std::move(trace->results);
  } else {
    r.run_error = run.status();
  }
  for (const StepOutcome& s : r.steps) {
    if (s.late) r.late.push_back(&s);
    if (s.kind == StepOutcome::Kind::kBad) r.bad.push_back(&s);
  }

  // Checks.
  const std::vector<Value> expected = ExpectedValues(test_case.expected);
  r.results = Compare(expected, r.actual, test_case.compare);
  if (test_case.expected_late.has_value()) {
    CompareOptions exact;
    r.late_check = Compare(ExpectedValues(*test_case.expected_late), LateValues(r), exact);
  }
  if (test_case.expected_bad.has_value()) {
    CompareOptions exact;
    r.bad_check = Compare(StringValues(*test_case.expected_bad), BadValues(r), exact);
  }
  if (test_case.expected_error.has_value()) {
    r.error_ok = !r.run_error.ok() &&
                 r.run_error.message().find(*test_case.expected_error) != std::string::npos;
  } else {
    r.error_ok = r.run_error.ok();
  }
  r.passed = r.error_ok && r.results.ok() && !test_case.expected_file_missing &&
             (!r.late_check.has_value() || r.late_check->ok()) &&
             (!r.bad_check.has_value() || r.bad_check->ok());
  return r;
}

std::string FormatCaseReport(const TestCase& test_case, const CaseResult& r,
                             const ReportOptions& options) {
  std::string out = fmt::format("  {}  {}", r.passed ? "PASS" : "FAIL", test_case.name);
  if (options.show_times) {
    out += fmt::format("  ({} ms)", static_cast<int64_t>(r.seconds * 1000 + 0.5));
  }
  out += '\n';
  if (r.passed && !options.verbose) return out;

  // The run's error.
  if (test_case.expected_error.has_value()) {
    if (r.run_error.ok()) {
      out += fmt::format("    run: expected an error containing \"{}\"; the run succeeded\n",
                         *test_case.expected_error);
    } else if (!r.error_ok) {
      out += fmt::format("    run: expected an error containing \"{}\"; got: {}\n",
                         *test_case.expected_error, r.run_error.message());
    } else {
      out += fmt::format("    run: failed as expected: {}\n", r.run_error.message());
    }
  } else if (!r.run_error.ok()) {
    out += fmt::format("    run failed: {}\n", r.run_error.message());
  }

  // Results.
  const std::vector<Value> expected = ExpectedValues(test_case.expected);
  if (test_case.expected_file_missing) {
    out += fmt::format("    results: expected_file {} does not exist; {}\n",
                       test_case.expected_file_as_written,
                       Plural(r.actual.size(), "actual result", "actual results"));
  } else {
    out += fmt::format("    results: {} expected, {} actual", expected.size(), r.actual.size());
    out += r.results.ok() ? std::string(", all equal\n")
                          : fmt::format(" ({})\n", CountDifferences(r.results));
  }
  out += FormatDifferences(r.results, expected, r.actual, "      ");

  // Late records.
  if (r.late_check.has_value()) {
    const std::vector<Value> late_expected = ExpectedValues(*test_case.expected_late);
    const std::vector<Value> late_actual = LateValues(r);
    out += fmt::format("    late records: {} expected, {} actual", late_expected.size(),
                       late_actual.size());
    out += r.late_check->ok() ? std::string(", all equal\n")
                              : fmt::format(" ({})\n", CountDifferences(*r.late_check));
    out += FormatDifferences(*r.late_check, late_expected, late_actual, "      ");
  } else {
    out += fmt::format("    late records: {} (not checked: the case has no expected_late)\n",
                       r.late.size());
    for (const StepOutcome* s : r.late) {
      out += fmt::format("      {}  {}\n", Location(*s->step), s->value.ToJson());
    }
  }

  // Bad records.
  if (r.bad_check.has_value()) {
    const std::vector<Value> bad_expected = StringValues(*test_case.expected_bad);
    const std::vector<Value> bad_actual = BadValues(r);
    out += fmt::format("    bad records: {} expected, {} actual", bad_expected.size(),
                       bad_actual.size());
    out += r.bad_check->ok() ? std::string(", all equal\n")
                             : fmt::format(" ({})\n", CountDifferences(*r.bad_check));
    out += FormatDifferences(*r.bad_check, bad_expected, bad_actual, "      ");
  } else {
    out += fmt::format("    bad records: {} (not checked: the case has no expected_bad)\n",
                       r.bad.size());
  }
  for (const StepOutcome* s : r.bad) {
    out += fmt::format("      {}  {}: {}: {}\n", Location(*s->step), BadReasonName(s->bad_reason),
                       s->bad_error, s->step->text);
  }

  // After a failed run, how far the sink got is a race with the source: no trace then.
  if (r.run_error.ok()) out += FormatTrace(r);
  return out;
}

std::string FailureSummary(const TestCase& test_case, const CaseResult& r) {
  if (r.passed) return "";
  std::vector<std::string> parts;
  if (!r.error_ok) {
    parts.push_back(r.run_error.ok() ? std::string("the run succeeded; an error was expected")
                                     : "run failed: " + r.run_error.message());
  }
  if (test_case.expected_file_missing) {
    parts.push_back(
        fmt::format("expected_file {} does not exist", test_case.expected_file_as_written));
  } else if (!r.results.ok()) {
    parts.push_back("results: " + CountDifferences(r.results));
  }
  if (r.late_check.has_value() && !r.late_check->ok()) {
    parts.push_back("late records: " + CountDifferences(*r.late_check));
  }
  if (r.bad_check.has_value() && !r.bad_check->ok()) {
    parts.push_back("bad records: " + CountDifferences(*r.bad_check));
  }
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

std::string ActualLines(const CaseResult& result) {
  std::string out;
  for (const Value& v : result.actual) {
    AppendJson(v, &out);
    out += '\n';
  }
  return out;
}

std::string TomlStringArray(std::string_view key, const std::vector<std::string>& lines) {
  std::string out = fmt::format("{} = [\n", key);
  for (const std::string& line : lines) {
    // A literal string keeps JSON readable; one with a quote or a control character is written
    // as a basic string instead.
    const bool literal = std::none_of(line.begin(), line.end(), [](char c) {
      return c == '\'' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (literal) {
      out += fmt::format("  '{}',\n", line);
      continue;
    }
    std::string basic;
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        basic += '\\';
        basic += c;
      } else if (u < 0x20 || u == 0x7f) {
        basic += fmt::format("\\u{:04X}", u);
      } else {
        basic += c;
      }
    }
    out += fmt::format("  \"{}\",\n", basic);
  }
  out += "]\n";
  return out;
}

}  // namespace pulse::golden
