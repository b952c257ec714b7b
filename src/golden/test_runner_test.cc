// SPDX-License-Identifier: MIT
// Tests for running `pulse test` cases on the real engine: cases that pass, cases that fail with
// their exact report, lateness and session merges driven by explicit watermark steps, bad
// records, run errors, and speed.
#include "golden/test_runner.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "cli/test_file.h"
#include "testing/test_util.h"

namespace pulse::golden {
namespace {

using ::pulse::testing::TempDir;
using ::pulse::testing::WriteFile;

// 2024-01-01T00:00:00Z.
constexpr int64_t kT0 = 1704067200000;

std::string Window(int64_t start_s, int64_t end_s, std::string_view key, std::string_view agg) {
  return fmt::format(R"({{"window_start_ms":{},"window_end_ms":{},"key":"{}",{}}})",
                     kT0 + start_s * 1000, kT0 + end_s * 1000, key, agg);
}

class RunnerTest : public ::testing::Test {
 protected:
  // Write the pipeline (the [window] and [ops] part is `body`) and the test file.
  void Write(std::string_view source_extra, std::string_view body, std::string_view cases) {
    WriteFile(dir_.file("pipeline.toml"),
              fmt::format("[source]\nkind = \"file\"\npath = \"in.jsonl\"\n{}\n{}\n[sink]\n"
                          "kind = \"file\"\npath = \"out.jsonl\"\n",
                          source_extra, body));
    WriteFile(dir_.file("t.test.toml"), "pipeline = \"pipeline.toml\"\n" + std::string(cases));
  }

  // Run every case; return the reports (without times), all concatenated.
  std::string RunAll(bool verbose = false) {
    Result<TestFile> file = cli::LoadTestFile(dir_.file("t.test.toml"));
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    if (!file.ok()) return "";
    std::string out;
    for (const TestCase& c : file->cases) {
      Result<CaseResult> r = RunCase(*file, c);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return "";
      out += FormatCaseReport(c, *r, ReportOptions{verbose, /*show_times=*/false});
      last_passed_ = r->passed;
      last_summary_ = FailureSummary(c, *r);
    }
    // Nothing of the pipeline's own source and sink was touched.
    EXPECT_FALSE(std::filesystem::exists(dir_.file("out.jsonl")));
    return out;
  }

  TempDir dir_;
  bool last_passed_ = false;
  std::string last_summary_;
};

constexpr std::string_view kTumbling =
    "[window]\ntype = \"tumbling\"\nsize = \"1m\"\n[ops]\ncount_by = \"k\"\n";

TEST_F(RunnerTest, PassingCase) {
  Write("", kTumbling,
        fmt::format(R"([[case]]
name = "counts"
input = [
  '{{"event_time":"2024-01-01T00:00:05Z","k":"a"}}',
  '{{"event_time":"2024-01-01T00:01:05Z","k":"a"}}',
  '{{"event_time":"2024-01-01T00:00:06Z","k":"b"}}',
]
expected = ['{}', '{}', '{}']
)",
                    Window(0, 60, "a", R"("count":1)"), Window(0, 60, "b", R"("count":1)"),
                    Window(60, 120, "a", R"("count":1)")));
  EXPECT_EQ(RunAll(), "  PASS  counts\n");
  EXPECT_TRUE(last_passed_);
  EXPECT_EQ(last_summary_, "");
}

TEST_F(RunnerTest, FailingCaseShowsTheDiffLateAndBadRecordsAndTheSteps) {
  Write("", kTumbling,
        fmt::format(R"([[case]]
name = "wrong counts"
input = [
  '{{"event_time":"2024-01-01T00:00:05Z","k":"a"}}',
  {{ watermark = "2024-01-01T00:01:00Z" }},
  '{{"event_time":"2024-01-01T00:00:30Z","k":"a"}}',
  '{{"event_time":"2024-01-01T00:01:05Z","k":"b"}}',
  '{{"k":"a"}}',
  '[1]',
]
expected = ['{}', '{}']
)",
                    Window(0, 60, "a", R"("count":2)"), Window(60, 120, "c", R"("count":1)")));
  EXPECT_EQ(
      RunAll(),
      "  FAIL  wrong counts\n"
      "    results: 2 expected, 2 actual (2 changed)\n"
      "      ~ changed     expected #1, actual #1: " +
          Window(0, 60, "a", R"("count":2)") +
          "\n"
          "                      count: expected 2, actual 1\n"
          "      ~ changed     expected #2, actual #2: " +
          Window(60, 120, "c", R"("count":1)") +
          "\n"
          "                      key: expected \"c\", actual \"b\"\n"
          "    late records: 1 (not checked: the case has no expected_late)\n"
          "      t.test.toml:7  {\"event_time\":\"2024-01-01T00:00:30Z\",\"k\":\"a\"}\n"
          "    bad records: 2 (not checked: the case has no expected_bad)\n"
          "      t.test.toml:9  bad_event_time: missing time field 'event_time': {\"k\":\"a\"}\n"
          "      t.test.toml:10  not_an_object: expected a JSON object, got an array: [1]\n"
          "    steps (W = the watermark after the step):\n"
          "         1  record     t.test.toml:5   2024-01-01T00:00:05.000Z  W=-inf\n"
          "         2  watermark  t.test.toml:6   2024-01-01T00:01:00.000Z  "
          "W=2024-01-01T00:01:00.000Z  -> 1 result\n"
          "         3  record     t.test.toml:7   2024-01-01T00:00:30.000Z  "
          "W=2024-01-01T00:01:00.000Z  late\n"
          "         4  record     t.test.toml:8   2024-01-01T00:01:05.000Z  "
          "W=2024-01-01T00:01:00.000Z\n"
          "         5  bad        t.test.toml:9   bad_event_time            "
          "W=2024-01-01T00:01:00.000Z\n"
          "         6  bad        t.test.toml:10  not_an_object             "
          "W=2024-01-01T00:01:00.000Z\n"
          "            end of input                                         W=+inf  -> 1 result\n");
  EXPECT_FALSE(last_passed_);
  EXPECT_EQ(last_summary_, "results: 2 changed");
}

TEST_F(RunnerTest, ExpectedLateAndBadRecordsAreChecked) {
  Write("", kTumbling,
        fmt::format(R"([[case]]
name = "late and bad"
input = [
  '{{"event_time":"2024-01-01T00:00:05Z","k":"a"}}',
  {{ watermark = "2024-01-01T00:01:00Z" }},
  '{{"event_time":"2024-01-01T00:00:30Z","k":"a"}}',
  'oops',
]
expected = ['{}']
expected_late = ['{{"event_time":"2024-01-01T00:00:31Z","k":"a"}}']
expected_bad = ['oops', '{{}}']
)",
                    Window(0, 60, "a", R"("count":1)")));
  EXPECT_EQ(RunAll(),
            "  FAIL  late and bad\n"
            "    results: 1 expected, 1 actual, all equal\n"
            "    late records: 1 expected, 1 actual (1 changed)\n"
            "      ~ changed     expected #1, actual #1: "
            "{\"event_time\":\"2024-01-01T00:00:31Z\",\"k\":\"a\"}\n"
            "                      event_time: expected \"2024-01-01T00:00:31Z\", actual "
            "\"2024-01-01T00:00:30Z\"\n"
            "    bad records: 2 expected, 1 actual (1 missing)\n"
            "      - missing     expected #2: \"{}\"\n"
            "      t.test.toml:8  invalid_json: The JSON document has an improper "
            "structure: missing or superfluous commas, braces, missing keys, etc.: oops\n"
            "    steps (W = the watermark after the step):\n"
            "         1  record     t.test.toml:5  2024-01-01T00:00:05.000Z  W=-inf\n"
            "         2  watermark  t.test.toml:6  2024-01-01T00:01:00.000Z  "
            "W=2024-01-01T00:01:00.000Z  -> 1 result\n"
            "         3  record     t.test.toml:7  2024-01-01T00:00:30.000Z  "
            "W=2024-01-01T00:01:00.000Z  late\n"
            "         4  bad        t.test.toml:8  invalid_json              "
            "W=2024-01-01T00:01:00.000Z\n"
            "            end of input                                        W=+inf\n");
  EXPECT_EQ(last_summary_, "late records: 1 changed; bad records: 1 missing");
}

// Allowed lateness L = 30 s: [00:00, 00:01) stays open until W reaches 00:01:30.
TEST_F(RunnerTest, AllowedLatenessWithWatermarkSteps) {
  Write("[time]\nallowed_lateness = \"30s\"\n", kTumbling,
        fmt::format(R"([[case]]
name = "lateness"
input = [
  '{{"event_time":"2024-01-01T00:00:10Z","k":"a"}}',
  {{ watermark = "2024-01-01T00:01:20Z" }},
  '{{"event_time":"2024-01-01T00:00:20Z","k":"a"}}',
  {{ watermark = "2024-01-01T00:01:30Z" }},
  '{{"event_time":"2024-01-01T00:00:30Z","k":"a"}}',
  {{ watermark = "2024-01-01T00:01:00Z" }},
]
expected = ['{}']
expected_late = ['{{"event_time":"2024-01-01T00:00:30Z","k":"a"}}']
)",
                    Window(0, 60, "a", R"("count":2)")));
  EXPECT_EQ(RunAll(/*verbose=*/true),
            "  PASS  lateness\n"
            "    results: 1 expected, 1 actual, all equal\n"
            "    late records: 1 expected, 1 actual, all equal\n"
            "    bad records: 0 (not checked: the case has no expected_bad)\n"
            "    steps (W = the watermark after the step):\n"
            "         1  record     t.test.toml:5   2024-01-01T00:00:10.000Z  W=-inf\n"
            "         2  watermark  t.test.toml:6   2024-01-01T00:01:20.000Z  "
            "W=2024-01-01T00:01:20.000Z\n"
            "         3  record     t.test.toml:7   2024-01-01T00:00:20.000Z  "
            "W=2024-01-01T00:01:20.000Z\n"
            "         4  watermark  t.test.toml:8   2024-01-01T00:01:30.000Z  "
            "W=2024-01-01T00:01:30.000Z  -> 1 result\n"
            "         5  record     t.test.toml:9   2024-01-01T00:00:30.000Z  "
            "W=2024-01-01T00:01:30.000Z  late\n"
            "         6  watermark  t.test.toml:10  2024-01-01T00:01:00.000Z  "
            "W=2024-01-01T00:01:30.000Z\n"
            "            end of input                                         W=+inf\n");
}

// Explicit steps and the bounded-out-of-orderness strategy combine: W is the larger of the two.
TEST_F(RunnerTest, WatermarkStepsCombineWithTheConfiguredBound) {
  Write("[time]\nmax_out_of_orderness = \"10s\"\n", kTumbling, R"([[case]]
name = "bound"
input = [
  '{"event_time":"2024-01-01T00:00:30Z","k":"a"}',
  { watermark = "2024-01-01T00:00:05Z" },
  { watermark = "2024-01-01T00:00:50Z" },
  '{"event_time":"2024-01-01T00:01:10Z","k":"a"}',
  '{"event_time":"2024-01-01T00:00:59Z","k":"a"}',
]
expected = []
)");
  const std::string report = RunAll();
  EXPECT_NE(report.find("         1  record     t.test.toml:5  2024-01-01T00:00:30.000Z  "
                        "W=2024-01-01T00:00:20.000Z\n"
                        "         2  watermark  t.test.toml:6  2024-01-01T00:00:05.000Z  "
                        "W=2024-01-01T00:00:20.000Z\n"
                        "         3  watermark  t.test.toml:7  2024-01-01T00:00:50.000Z  "
                        "W=2024-01-01T00:00:50.000Z\n"
                        "         4  record     t.test.toml:8  2024-01-01T00:01:10.000Z  "
                        "W=2024-01-01T00:01:00.000Z  -> 1 result\n"
                        "         5  record     t.test.toml:9  2024-01-01T00:00:59.000Z  "
                        "W=2024-01-01T00:01:00.000Z  late\n"),
            std::string::npos)
      << report;
}

// A watermark step with no records after it (an idle source) still closes windows.
TEST_F(RunnerTest, WatermarkStepOnAnIdleInputReleasesWindows) {
  Write("", kTumbling,
        fmt::format(R"([[case]]
name = "idle"
input = [
  '{{"event_time":"2024-01-01T00:00:10Z","k":"a"}}',
  {{ watermark = 1704067260000 }},
]
expected = ['{}']
)",
                    Window(0, 60, "a", R"("count":1)")));
  const std::string report = RunAll(true);
  EXPECT_NE(report.find("         2  watermark  t.test.toml:6  2024-01-01T00:01:00.000Z  "
                        "W=2024-01-01T00:01:00.000Z  -> 1 result\n"
                        "            end of input                                        W=+inf\n"),
            std::string::npos)
      << report;
}

constexpr std::string_view kSessions =
    "[window]\ntype = \"session\"\ngap = \"5m\"\n[ops]\ncount_by = \"k\"\n";

// Sessions [00:00, 00:05) and [00:08, 00:13) (gap 5 min). A click at 00:04 merges them while
// both are open; once W has passed 00:05 the first is final and the click only extends the
// second; a click at 00:02 after W = 00:09 reaches no open session and is late.
TEST_F(RunnerTest, SessionMergeDependsOnTheWatermark) {
  Write("", kSessions,
        fmt::format(R"([[case]]
name = "merged while open"
input = [
  '{{"event_time":"2024-01-01T00:00:00Z","k":"u"}}',
  '{{"event_time":"2024-01-01T00:08:00Z","k":"u"}}',
  {{ watermark = "2024-01-01T00:04:59Z" }},
  '{{"event_time":"2024-01-01T00:04:00Z","k":"u"}}',
]
expected = ['{}']
expected_late = []

[[case]]
name = "first session final"
input = [
  '{{"event_time":"2024-01-01T00:00:00Z","k":"u"}}',
  '{{"event_time":"2024-01-01T00:08:00Z","k":"u"}}',
  {{ watermark = "2024-01-01T00:05:00Z" }},
  '{{"event_time":"2024-01-01T00:04:00Z","k":"u"}}',
]
expected = ['{}', '{}']
expected_late = []

[[case]]
name = "too late to join"
input = [
  '{{"event_time":"2024-01-01T00:00:00Z","k":"u"}}',
  '{{"event_time":"2024-01-01T00:08:00Z","k":"u"}}',
  {{ watermark = "2024-01-01T00:09:00Z" }},
  '{{"event_time":"2024-01-01T00:02:00Z","k":"u"}}',
]
expected = ['{}', '{}']
expected_late = ['{{"event_time":"2024-01-01T00:02:00Z","k":"u"}}']
)",
                    Window(0, 13 * 60, "u", R"("count":3)"), Window(0, 5 * 60, "u", R"("count":1)"),
                    Window(4 * 60, 13 * 60, "u", R"("count":2)"),
                    Window(0, 5 * 60, "u", R"("count":1)"),
                    Window(8 * 60, 13 * 60, "u", R"("count":1)")));
  EXPECT_EQ(RunAll(),
            "  PASS  merged while open\n"
            "  PASS  first session final\n"
            "  PASS  too late to join\n");
}

TEST_F(RunnerTest, SetOrderToleranceAndIgnoredFields) {
  Write("",
        "[window]\ntype = \"tumbling\"\nsize = \"1m\"\n[ops]\ncount_by = \"k\"\n"
        "agg = \"avg\"\nagg_field = \"v\"\n",
        R"([[case]]
name = "loose"
input = [
  '{"event_time":"2024-01-01T00:00:01Z","k":"a","v":0.1}',
  '{"event_time":"2024-01-01T00:00:02Z","k":"a","v":0.2}',
  '{"event_time":"2024-01-01T00:00:03Z","k":"b","v":1}',
]
expected = ['{"key":"b","avg":1}', '{"key":"a","avg":0.15}']
order = "set"
ignore_fields = ["window_start_ms", "window_end_ms"]
tolerance = 1e-12
)");
  EXPECT_EQ(RunAll(), "  PASS  loose\n");
}

constexpr std::string_view kCsvSource =
    "format = \"csv\"\ntime_field = \"ts\"\nmax_line_bytes = 40\n";

TEST_F(RunnerTest, CsvRowsAndTheirBadRecords) {
  Write(kCsvSource, kTumbling,
        fmt::format(R"([[case]]
name = "csv"
input = [
  'ts,k',
  '1704067201000,a',
  '2024-01-01T00:00:02Z,a',
  ',a',
  'soon,a',
  '1,2,3',
  '1704067203000,"open',
  '1704067204000,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
]
expected = ['{}']
expected_bad = [',a', 'soon,a', '1,2,3', '1704067203000,"open',
                '1704067204000,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']
)",
                    Window(0, 60, "a", R"("count":2)")));
  EXPECT_EQ(
      RunAll(true),
      "  PASS  csv\n"
      "    results: 1 expected, 1 actual, all equal\n"
      "    late records: 0 (not checked: the case has no expected_late)\n"
      "    bad records: 5 expected, 5 actual, all equal\n"
      "      t.test.toml:8  bad_event_time: time cell 'ts' is empty: ,a\n"
      "      t.test.toml:9  bad_event_time: time cell 'ts' is not epoch ms or an RFC 3339 "
      "time: soon,a\n"
      "      t.test.toml:10  ragged_row: expected 2 cells, got 3: 1,2,3\n"
      "      t.test.toml:11  ragged_row: unterminated quoted field: 1704067203000,\"open\n"
      "      t.test.toml:12  line_too_long: record is longer than max_line_bytes (40): "
      "1704067204000,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
      "    steps (W = the watermark after the step):\n"
      "         1  header     t.test.toml:5                             W=-inf\n"
      "         2  record     t.test.toml:6   2024-01-01T00:00:01.000Z  W=-inf\n"
      "         3  record     t.test.toml:7   2024-01-01T00:00:02.000Z  W=-inf\n"
      "         4  bad        t.test.toml:8   bad_event_time            W=-inf\n"
      "         5  bad        t.test.toml:9   bad_event_time            W=-inf\n"
      "         6  bad        t.test.toml:10  ragged_row                W=-inf\n"
      "         7  bad        t.test.toml:11  ragged_row                W=-inf\n"
      "         8  bad        t.test.toml:12  line_too_long             W=-inf\n"
      "            end of input                                         W=+inf  -> 1 result\n");
}

TEST_F(RunnerTest, OnErrorFailEndsTheRun) {
  Write("on_error = \"fail\"\n", kTumbling, R"([[case]]
name = "expected failure"
input = ['{"event_time":"2024-01-01T00:00:01Z","k":"a"}', '{"k":"a"}']
expected = []
expected_error = "missing time field"

[[case]]
name = "unexpected failure"
input = ['{"event_time":"2024-01-01T00:00:01Z","k":"a"}', '{"k":"a"}']
expected = []

[[case]]
name = "no failure"
input = ['{"event_time":"2024-01-01T00:00:01Z","k":"a"}']
expected = []
expected_error = "missing time field"
)");
  EXPECT_EQ(
      RunAll(),
      "  PASS  expected failure\n"
      "  FAIL  unexpected failure\n"
      "    run failed: source: t.test.toml:10: bad_event_time: missing time field "
      "'event_time'\n"
      "    results: 0 expected, 0 actual, all equal\n"
      "    late records: 0 (not checked: the case has no expected_late)\n"
      "    bad records: 1 (not checked: the case has no expected_bad)\n"
      "      t.test.toml:10  bad_event_time: missing time field 'event_time': {\"k\":\"a\"}\n"
      "  FAIL  no failure\n"
      "    run: expected an error containing \"missing time field\"; the run succeeded\n"
      "    results: 0 expected, 1 actual (1 unexpected)\n"
      "      + unexpected  actual #1: " +
          Window(0, 60, "a", R"("count":1)") +
          "\n"
          "    late records: 0 (not checked: the case has no expected_late)\n"
          "    bad records: 0 (not checked: the case has no expected_bad)\n"
          "    steps (W = the watermark after the step):\n"
          "         1  record     t.test.toml:15  2024-01-01T00:00:01.000Z  W=-inf\n"
          "            end of input                                         W=+inf  -> 1 result\n");
  EXPECT_EQ(last_summary_, "the run succeeded; an error was expected; results: 1 unexpected");
}

TEST_F(RunnerTest, LongInputsShowOnlyEventfulSteps) {
  std::string lines;
  for (int i = 0; i < 1000; ++i) {
    lines += fmt::format("{{\"event_time\":{},\"k\":\"a\"}}\n", kT0 + i * 100);
  }
  WriteFile(dir_.file("in.jsonl"), lines);
  Write("", kTumbling, R"([[case]]
name = "long"
input = [{ file = "in.jsonl" }, { watermark = "2024-01-01T00:01:00Z" }, '{"k":"x"}']
expected = []
)");
  const auto start = std::chrono::steady_clock::now();
  const std::string report = RunAll();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // About 20 ms in a debug build; the bound leaves room for a loaded CI machine and still
  // catches any per-step wait (a 1-step batch that waited for a timer would take seconds).
  EXPECT_LT(seconds, 2.0);
  EXPECT_NE(
      report.find("    steps (W = the watermark after the step):\n"
                  "      1001  watermark  t.test.toml:4  2024-01-01T00:01:00.000Z  "
                  "W=2024-01-01T00:01:00.000Z  -> 1 result\n"
                  "      1002  bad        t.test.toml:4  bad_event_time            "
                  "W=2024-01-01T00:01:00.000Z\n"
                  "            end of input                                        W=+inf  -> 1 "
                  "result\n"
                  "      (not shown: 1000 records that changed nothing)\n"),
      std::string::npos)
      << report;
}

TEST_F(RunnerTest, MissingExpectedFileFails) {
  Write("", kTumbling, R"([[case]]
name = "new"
input = ['{"event_time":"2024-01-01T00:00:01Z","k":"a"}']
expected_file = "expected/new.jsonl"
)");
  const std::string report = RunAll();
  EXPECT_EQ(report.substr(0, report.find("    late")),
            "  FAIL  new\n"
            "    results: expected_file expected/new.jsonl does not exist; 1 actual result\n"
            "      + unexpected  actual #1: " +
                Window(0, 60, "a", R"("count":1)") + "\n");
  EXPECT_EQ(last_summary_, "expected_file expected/new.jsonl does not exist");
}

TEST(TomlStringArray, LiteralOrBasicStrings) {
  EXPECT_EQ(TomlStringArray("expected", {R"({"a":"b"})", R"({"a":"it's"})", "{\"a\":\"\t\"}"}),
            "expected = [\n"
            "  '{\"a\":\"b\"}',\n"
            "  \"{\\\"a\\\":\\\"it's\\\"}\",\n"
            "  \"{\\\"a\\\":\\\"\\u0009\\\"}\",\n"
            "]\n");
  EXPECT_EQ(TomlStringArray("expected", {}), "expected = [\n]\n");
}

}  // namespace
}  // namespace pulse::golden
