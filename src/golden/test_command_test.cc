// SPDX-License-Identifier: MIT
// Tests for the `pulse test` command: the whole report, outcomes for exit codes, broken files,
// the JUnit file and the --update round trip. Test files are read as `pulse test` reads them,
// with the CLI's TOML reader.
#include "golden/test_command.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli/test_file.h"
#include "testing/test_util.h"

namespace pulse::golden {
namespace {

using ::pulse::testing::ReadFile;
using ::pulse::testing::TempDir;
using ::pulse::testing::WriteFile;

constexpr std::string_view kPipeline = R"([source]
kind = "file"
path = "in.jsonl"

[window]
type = "tumbling"
size = "1m"

[ops]
count_by = "k"

[sink]
kind = "file"
path = "out.jsonl"
)";

constexpr std::string_view kA0 =
    R"({"window_start_ms":1704067200000,"window_end_ms":1704067260000,"key":"a","count":1})";
constexpr std::string_view kA1 =
    R"({"window_start_ms":1704067260000,"window_end_ms":1704067320000,"key":"a","count":1})";

class CommandTest : public ::testing::Test {
 protected:
  CommandTest() { WriteFile(dir_.file("pipeline.toml"), std::string(kPipeline)); }

  TestCommandOutcome Run(std::vector<std::string> files, bool update = false,
                         std::string junit = "") {
    out_.clear();
    err_.clear();
    TestCommandOptions options;
    for (std::string& f : files) options.files.push_back(dir_.file(f));
    options.update = update;
    options.junit_path = junit.empty() ? "" : dir_.file(junit);
    options.show_times = false;
    return RunTestCommand(
        options, cli::LoadTestFile, [this](std::string_view s) { out_ += s; },
        [this](std::string_view s) {
          err_ += s;
          err_ += '\n';
        });
  }

  // `text` with the temporary directory left out of paths.
  std::string Relative(std::string text) const {
    const std::string prefix = dir_.path().string() + "/";
    for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix)) {
      text.erase(at, prefix.size());
    }
    return text;
  }

  TempDir dir_;
  std::string out_;
  std::string err_;
};

constexpr std::string_view kTwoRecords = R"(input = [
  '{"event_time":"2024-01-01T00:00:05Z","k":"a"}',
  '{"event_time":"2024-01-01T00:01:05Z","k":"a"}',
]
)";

TEST_F(CommandTest, AllPass) {
  WriteFile(dir_.file("ok.test.toml"),
            fmt::format("pipeline = \"pipeline.toml\"\n[[case]]\nname = \"two windows\"\n{}"
                        "expected = ['{}', '{}']\n",
                        kTwoRecords, kA0, kA1));
  TestCommandOutcome outcome = Run({"ok.test.toml"});
  EXPECT_EQ(outcome.passed, 1u);
  EXPECT_EQ(outcome.failed, 0u);
  EXPECT_EQ(outcome.broken_files, 0u);
  EXPECT_EQ(Relative(out_),
            "ok.test.toml: pipeline pipeline.toml\n"
            "  PASS  two windows\n"
            "pulse test: 1 case: 1 passed, 0 failed\n");
  EXPECT_EQ(err_, "");
  // The pipeline's own input and output are never touched.
  EXPECT_FALSE(std::filesystem::exists(dir_.file("out.jsonl")));
}

TEST_F(CommandTest, BrokenFilesAreReportedAndTheOthersStillRun) {
  WriteFile(dir_.file("ok.test.toml"),
            fmt::format("pipeline = \"pipeline.toml\"\n[[case]]\nname = \"c\"\n{}"
                        "expected = ['{}', '{}']\n",
                        kTwoRecords, kA0, kA1));
  WriteFile(dir_.file("broken.test.toml"),
            "pipeline = \"pipeline.toml\"\n[[case]]\nname = \"c\"\ninput = []\nexpect = []\n");
  TestCommandOutcome outcome =
      Run({"broken.test.toml", "ok.test.toml", "none.test.toml"}, false, "report.xml");
  EXPECT_EQ(outcome.passed, 1u);
  EXPECT_EQ(outcome.broken_files, 2u);
  EXPECT_EQ(Relative(err_),
            "broken.test.toml:5: unknown key 'expect' in [[case]] (did you mean 'expected'?); "
            "allowed: name, input, input_file, expected, expected_file, expected_late, "
            "expected_bad, expected_error, order, ignore_fields, tolerance\n"
            "cannot read test file 'none.test.toml': No such file or directory\n");
  EXPECT_EQ(Relative(out_),
            "ok.test.toml: pipeline pipeline.toml\n"
            "  PASS  c\n"
            "pulse test: 1 case: 1 passed, 0 failed; 2 test files could not be run\n");
  const std::string xml = Relative(ReadFile(dir_.file("report.xml")));
  EXPECT_NE(xml.find("<testsuites name=\"pulse test\" tests=\"3\" failures=\"0\" errors=\"2\""),
            std::string::npos)
      << xml;
  // The classname is the path as given (here absolute), without ".test.toml", '/' → '.'.
  EXPECT_NE(xml.find(".broken\" time=\"0.000\">\n"
                     "      <error message=\"broken.test.toml:5: unknown key 'expect' in"),
            std::string::npos)
      << xml;
}

TEST_F(CommandTest, UpdateRewritesExpectedFiles) {
  std::filesystem::create_directories(dir_.path() / "expected");
  WriteFile(dir_.file("expected/stale.jsonl"), std::string(kA0) + "\n");
  WriteFile(dir_.file("u.test.toml"), fmt::format(R"(pipeline = "pipeline.toml"
[[case]]
name = "stale"
{}expected_file = "expected/stale.jsonl"

[[case]]
name = "new"
{}expected_file = "expected/new.jsonl"

[[case]]
name = "inline"
{}expected = ['{}']
)",
                                                  kTwoRecords, kTwoRecords, kTwoRecords, kA0));

  // Without --update: three failures and how to fix them.
  TestCommandOutcome before = Run({"u.test.toml"});
  EXPECT_EQ(before.failed, 3u);
  EXPECT_EQ(before.updated, 0u);
  EXPECT_NE(out_.find("  FAIL  stale\n"
                      "    results: 1 expected, 2 actual (1 unexpected)\n"
                      "      + unexpected  actual #2: " +
                      std::string(kA1) + "\n"),
            std::string::npos)
      << out_;
  EXPECT_NE(out_.find("    (pulse test --update rewrites expected/stale.jsonl from the actual "
                      "results)\n  FAIL  new\n"),
            std::string::npos)
      << out_;
  EXPECT_NE(out_.find("    (pulse test --update prints the actual results as an expected array "
                      "to paste)\npulse test: 3 cases: 0 passed, 3 failed\n"),
            std::string::npos)
      << out_;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("expected/new.jsonl")));

  // --update: files rewritten (one created), the inline array printed to paste.
  TestCommandOutcome update = Run({"u.test.toml"}, /*update=*/true);
  EXPECT_EQ(update.updated, 2u);
  EXPECT_EQ(update.failed, 1u);
  EXPECT_NE(out_.find("    updated expected/stale.jsonl (2 results)\n"), std::string::npos);
  EXPECT_NE(out_.find("    updated expected/new.jsonl (2 results)\n"), std::string::npos);
  EXPECT_NE(out_.find("    expected is inline: replace it in the case at line 18 with\n"
                      "      expected = [\n"
                      "        '" +
                      std::string(kA0) +
                      "',\n"
                      "        '" +
                      std::string(kA1) +
                      "',\n"
                      "      ]\n"
                      "pulse test: 3 cases: 0 passed, 1 failed, 2 updated\n"),
            std::string::npos)
      << out_;
  const std::string both = std::string(kA0) + "\n" + std::string(kA1) + "\n";
  EXPECT_EQ(ReadFile(dir_.file("expected/stale.jsonl")), both);
  EXPECT_EQ(ReadFile(dir_.file("expected/new.jsonl")), both);

  // Round trip: the updated files pass.
  TestCommandOutcome after = Run({"u.test.toml"});
  EXPECT_EQ(after.passed, 2u);
  EXPECT_EQ(after.failed, 1u);
  EXPECT_NE(out_.find("  PASS  stale\n  PASS  new\n  FAIL  inline\n"), std::string::npos) << out_;
}

TEST_F(CommandTest, UpdateLeavesCasesThatFailForOtherReasonsFailed) {
  WriteFile(dir_.file("late.test.toml"), fmt::format(R"(pipeline = "pipeline.toml"
[[case]]
name = "late differs"
{}expected_file = "e.jsonl"
expected_late = ['{{"k":"x"}}']
)",
                                                     kTwoRecords));
  TestCommandOutcome outcome = Run({"late.test.toml"}, true);
  EXPECT_EQ(outcome.updated, 0u);
  EXPECT_EQ(outcome.failed, 1u);
  EXPECT_EQ(ReadFile(dir_.file("e.jsonl")), std::string(kA0) + "\n" + std::string(kA1) + "\n");
}

TEST_F(CommandTest, JUnitReportOfFailures) {
  WriteFile(dir_.file("f.test.toml"),
            fmt::format("pipeline = \"pipeline.toml\"\n[[case]]\nname = \"fails\"\n{}"
                        "expected = ['{}']\n",
                        kTwoRecords, kA0));
  Run({"f.test.toml"}, false, "out/junit.xml");
  const std::string xml = Relative(ReadFile(dir_.file("out/junit.xml")));
  EXPECT_NE(xml.find("<testsuite name=\"f.test.toml\" tests=\"1\" failures=\"1\" errors=\"0\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<failure message=\"results: 1 unexpected\" type=\"mismatch\">  FAIL  fails\n"
                     "    results: 1 expected, 2 actual (1 unexpected)\n"),
            std::string::npos)
      << xml;
}

TEST_F(CommandTest, AnUnwritableJUnitFileIsAnError) {
  WriteFile(dir_.file("ok.test.toml"),
            fmt::format("pipeline = \"pipeline.toml\"\n[[case]]\nname = \"c\"\n{}"
                        "expected = ['{}', '{}']\n",
                        kTwoRecords, kA0, kA1));
  WriteFile(dir_.file("file"), "");
  TestCommandOutcome outcome = Run({"ok.test.toml"}, false, "file/junit.xml");
  EXPECT_TRUE(outcome.output_failed);
  EXPECT_NE(err_.find("cannot write the JUnit report: "), std::string::npos) << err_;
}

}  // namespace
}  // namespace pulse::golden
