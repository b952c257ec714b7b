// SPDX-License-Identifier: MIT
// Tests for loading `pulse test` files: the steps and expectations they give, and the exact
// text of every error (key, line, "did you mean").
#include "cli/test_file.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "testing/test_util.h"
#include "testing/vector_source.h"

namespace pulse::cli {
namespace {

using ::pulse::testing::TempDir;
using ::pulse::testing::WriteFile;
using golden::CompareOptions;
using golden::InputStep;
using golden::TestCase;
using golden::TestFile;

constexpr std::string_view kPipeline = R"([source]
kind = "file"
path = "never-read.jsonl"

[window]
type = "tumbling"
size = "1m"

[ops]
count_by = "k"

[sink]
kind = "file"
path = "never-written.jsonl"
)";

constexpr std::string_view kCsvPipeline = R"([source]
kind = "file"
format = "csv"
path = "never-read.csv"
time_field = "ts"
max_line_bytes = 20

[window]
type = "tumbling"
size = "1m"

[ops]
count_by = "k"

[sink]
kind = "file"
)";

class TestFileTest : public ::testing::Test {
 protected:
  TestFileTest() {
    WriteFile(dir_.file("pipeline.toml"), std::string(kPipeline));
    WriteFile(dir_.file("csv.toml"), std::string(kCsvPipeline));
  }

  Result<TestFile> Load(std::string_view text) {
    WriteFile(dir_.file("p.test.toml"), std::string(text));
    return LoadTestFile(dir_.file("p.test.toml"));
  }

  // The error for `text`, with the temporary directory left out of paths, or "OK".
  std::string LoadError(std::string_view text) {
    Result<TestFile> file = Load(text);
    if (file.ok()) return "OK";
    std::string message = file.status().message();
    const std::string prefix = dir_.path().string() + "/";
    for (size_t at = message.find(prefix); at != std::string::npos; at = message.find(prefix)) {
      message.erase(at, prefix.size());
    }
    return message;
  }

  TempDir dir_;
};

TEST_F(TestFileTest, LoadsInlineCases) {
  ASSERT_OK_AND_ASSIGN(TestFile file, Load(R"(pipeline = "pipeline.toml"

[[case]]
name = "one"
input = [
  '{"event_time":"2024-01-01T00:00:05Z","k":"a"}',
  { watermark = "2024-01-01T00:01:00Z" },
  { watermark = 1704067260001 },
  { watermark = 2024-01-01T01:02:00.5+01:00 },
  '',
  '{"event_time":"2024-01-01T00:00:06Z","k":"b"}',
]
expected = ['{"k":"a","count":1}']
expected_late = ['{"event_time":"2024-01-01T00:00:06Z","k":"b"}']
expected_bad = []
expected_error = "boom"
order = "set"
ignore_fields = ["window_start_ms", "window_end_ms"]
tolerance = 1e-9

[[case]]
name = "two"
input = []
expected = []
tolerance = 2
)"));
  EXPECT_EQ(file.pipeline_path, dir_.file("pipeline.toml"));
  // The pipeline config was loaded: its key (ops.count_by) is in the pipeline it builds.
  std::vector<std::string> results;
  ASSERT_OK_AND_ASSIGN(Pipeline pipeline,
                       file.pipeline.build(std::make_unique<testing::VectorSource>(
                                               std::vector<Record>()),
                                           std::make_unique<testing::CollectingSink>(&results)));
  EXPECT_EQ(pipeline.parts().key_selector_fields, (std::vector<std::string>{"k"}));
  ASSERT_EQ(file.cases.size(), 2u);
  const TestCase& c = file.cases[0];
  EXPECT_EQ(c.name, "one");
  EXPECT_EQ(c.line, 3);
  ASSERT_EQ(c.input.size(), 5u);  // the blank line is skipped, as the file source does
  EXPECT_EQ(c.input[0].kind, InputStep::Kind::kRecord);
  EXPECT_EQ(c.input[0].text, R"({"event_time":"2024-01-01T00:00:05Z","k":"a"})");
  EXPECT_EQ(c.input[0].origin, "p.test.toml");
  EXPECT_EQ(c.input[0].line, 6u);
  EXPECT_TRUE(c.input[0].starts_input);
  EXPECT_EQ(c.input[1].kind, InputStep::Kind::kWatermark);
  EXPECT_EQ(c.input[1].watermark, 1704067260000);
  EXPECT_EQ(c.input[1].line, 7u);
  EXPECT_EQ(c.input[2].watermark, 1704067260001);
  EXPECT_EQ(c.input[3].watermark, 1704067320500);
  EXPECT_EQ(c.input[4].line, 11u);
  EXPECT_FALSE(c.input[4].starts_input);
  ASSERT_EQ(c.expected.size(), 1u);
  EXPECT_EQ(c.expected[0].value.ToJson(), R"({"k":"a","count":1})");
  EXPECT_EQ(c.expected[0].line, 13u);
  EXPECT_TRUE(c.expected_file.empty());
  ASSERT_TRUE(c.expected_late.has_value());
  EXPECT_EQ(c.expected_late->size(), 1u);
  ASSERT_TRUE(c.expected_bad.has_value());
  EXPECT_TRUE(c.expected_bad->empty());
  EXPECT_EQ(c.expected_error, "boom");
  EXPECT_EQ(c.compare.order, CompareOptions::Order::kSet);
  EXPECT_EQ(c.compare.ignore_fields,
            (std::vector<std::string>{"window_start_ms", "window_end_ms"}));
  EXPECT_EQ(c.compare.tolerance, 1e-9);

  const TestCase& d = file.cases[1];
  EXPECT_TRUE(d.input.empty());
  EXPECT_FALSE(d.expected_late.has_value());
  EXPECT_FALSE(d.expected_bad.has_value());
  EXPECT_FALSE(d.expected_error.has_value());
  EXPECT_EQ(d.compare.order, CompareOptions::Order::kExact);
  EXPECT_EQ(d.compare.tolerance, 2.0);
}

TEST_F(TestFileTest, LoadsFilesRelativeToTheTestFile) {
  std::filesystem::create_directories(dir_.path() / "cases");
  WriteFile(dir_.file("cases/in.jsonl"),
            "\xEF\xBB\xBF{\"event_time\":1,\"k\":\"a\"}\r\n\n  \n{\"event_time\":2}\n{\"x\":3}");
  WriteFile(dir_.file("cases/out.jsonl"), "{\"k\":\"a\",\"count\":1}\r\n\n{\"k\":\"b\"}\n");
  ASSERT_OK_AND_ASSIGN(TestFile file, Load(R"(pipeline = "pipeline.toml"
[[case]]
name = "from files"
input_file = "cases/in.jsonl"
expected_file = "cases/out.jsonl"

[[case]]
name = "mixed"
input = ['{"event_time":0}', { file = "cases/in.jsonl" }, '{"event_time":9}']
expected_file = "cases/not-yet.jsonl"
)"));
  const TestCase& c = file.cases[0];
  ASSERT_EQ(c.input.size(), 3u);
  EXPECT_EQ(c.input[0].text, R"({"event_time":1,"k":"a"})");  // BOM and \r dropped
  EXPECT_EQ(c.input[0].origin, "cases/in.jsonl");
  EXPECT_EQ(c.input[0].line, 1u);
  EXPECT_TRUE(c.input[0].starts_input);
  EXPECT_EQ(c.input[1].line, 4u);
  EXPECT_EQ(c.input[2].text, R"({"x":3})");
  EXPECT_EQ(c.input[2].line, 5u);
  EXPECT_EQ(c.expected_file, dir_.file("cases/out.jsonl"));
  EXPECT_EQ(c.expected_file_as_written, "cases/out.jsonl");
  EXPECT_FALSE(c.expected_file_missing);
  ASSERT_EQ(c.expected.size(), 2u);
  EXPECT_EQ(c.expected[1].value.ToJson(), R"({"k":"b"})");
  EXPECT_EQ(c.expected[1].origin, "cases/out.jsonl");
  EXPECT_EQ(c.expected[1].line, 3u);

  const TestCase& d = file.cases[1];
  ASSERT_EQ(d.input.size(), 5u);
  EXPECT_TRUE(d.input[0].starts_input);
  EXPECT_TRUE(d.input[1].starts_input);
  EXPECT_EQ(d.input[1].origin, "cases/in.jsonl");
  EXPECT_FALSE(d.input[4].starts_input);  // inline strings continue the first inline input
  EXPECT_EQ(d.input[4].origin, "p.test.toml");
  EXPECT_TRUE(d.expected_file_missing);
  EXPECT_TRUE(d.expected.empty());
}

TEST_F(TestFileTest, CsvInputKeepsRowsWhole) {
  std::filesystem::create_directories(dir_.path() / "cases");
  WriteFile(dir_.file("cases/in.csv"), "ts,k\n1,\"two\nlines\"\n2,a-very-long-cell-indeed\n");
  ASSERT_OK_AND_ASSIGN(TestFile file, Load(R"(pipeline = "csv.toml"
[[case]]
name = "csv"
input = ['ts,k', '', '1,"open', { file = "cases/in.csv" }, '3,the-longest-row-of-all']
expected = []
)"));
  const std::vector<InputStep>& in = file.cases[0].input;
  ASSERT_EQ(in.size(), 6u);
  EXPECT_TRUE(in[0].starts_input);
  EXPECT_TRUE(in[1].unterminated_quote);
  EXPECT_EQ(in[3].text, "1,\"two\nlines\"");
  EXPECT_EQ(in[3].line, 2u);
  EXPECT_FALSE(in[3].too_long);
  EXPECT_TRUE(in[4].too_long);
  EXPECT_EQ(in[4].line, 4u);
  EXPECT_TRUE(in[5].too_long);
  EXPECT_FALSE(in[5].starts_input);
}

TEST_F(TestFileTest, TestFileFor) {
  EXPECT_EQ(TestFileFor("examples/pipelines/sessions.toml"),
            "examples/pipelines/sessions.test.toml");
  EXPECT_EQ(TestFileFor("pipeline"), "pipeline.test.toml");
}

constexpr std::string_view kHead = "pipeline = \"pipeline.toml\"\n[[case]]\nname = \"c\"\n";

std::string Case(std::string_view body) { return std::string(kHead) + std::string(body); }

TEST_F(TestFileTest, TopLevelErrors) {
  EXPECT_EQ(LoadError("pipeline = \"pipeline.toml\"\ncases = 1\n"),
            "p.test.toml:2: unknown key 'cases' at the top level (did you mean 'case'?); allowed: "
            "pipeline, case");
  EXPECT_EQ(LoadError("[[case]]\nname = \"c\"\n"),
            "p.test.toml:1: missing key 'pipeline' (the pipeline config to test, e.g. pipeline = "
            "\"pipeline.toml\")");
  EXPECT_EQ(LoadError("pipeline = 3\n"),
            "p.test.toml:1: pipeline must be a file name; got integer 3");
  EXPECT_EQ(LoadError("pipeline = \"missing.toml\"\n"),
            "cannot read config 'missing.toml': No such file or directory");
  EXPECT_EQ(LoadError("pipeline = \"pipeline.toml\"\n"),
            "p.test.toml:1: no test cases: add at least one [[case]] table");
  EXPECT_EQ(LoadError("pipeline = \"pipeline.toml\"\ncase = 1\n"),
            "p.test.toml:2: case must be an array of tables ([[case]]); got integer 1");
  EXPECT_EQ(LoadError("pipeline = \"pipeline.toml\"\n[[case]\n"),
            "p.test.toml:2:8: TOML parse error: Error while parsing table header: expected ']', "
            "saw '\\n'");
  EXPECT_EQ(LoadError(Case("input = []\nexpected = []\n[[case]]\nname = \"c\"\ninput = []\n"
                           "expected = []\n")),
            "p.test.toml:6: a second case named \"c\" (the first is at line 2); case names must "
            "be unique");
}

TEST_F(TestFileTest, PipelineErrorsNameThePipelineFile) {
  std::string config(kPipeline);
  config.replace(config.find("path = \"never"), 4, "pth");
  WriteFile(dir_.file("bad.toml"), config);
  EXPECT_EQ(LoadError("pipeline = \"bad.toml\"\n"),
            "bad.toml:3: unknown key 'pth' in [source] (did you mean 'path'?); allowed: kind, "
            "path, time_field, format, follow, poll_interval, rotate_wait, max_line_bytes, "
            "on_error, decode_threads");
}

TEST_F(TestFileTest, CaseKeyErrors) {
  EXPECT_EQ(LoadError(Case("input = []\nexpcted = []\n")),
            "p.test.toml:5: unknown key 'expcted' in [[case]] (did you mean 'expected'?); "
            "allowed: name, input, input_file, expected, expected_file, expected_late, "
            "expected_bad, expected_error, order, ignore_fields, tolerance");
  EXPECT_EQ(LoadError("pipeline = \"pipeline.toml\"\n[[case]]\ninput = []\n"),
            "p.test.toml:2: case.name must be set");
  EXPECT_EQ(LoadError("pipeline = \"pipeline.toml\"\n[[case]]\nname = \"\"\n"),
            "p.test.toml:3: case.name must not be empty");
  EXPECT_EQ(LoadError("pipeline = \"pipeline.toml\"\n[[case]]\nname = 1\n"),
            "p.test.toml:3: case.name must be a string; got integer 1");
  EXPECT_EQ(LoadError(Case("expected = []\n")),
            "p.test.toml:2: case \"c\": set input (records and watermark steps) or input_file");
  EXPECT_EQ(LoadError(Case("input = []\ninput_file = \"x\"\n")),
            "p.test.toml:5: case \"c\": set input or input_file, not both");
  EXPECT_EQ(LoadError(Case("input = []\n")),
            "p.test.toml:2: case \"c\": set expected (JSON lines inline) or expected_file");
  EXPECT_EQ(LoadError(Case("input = []\nexpected = []\nexpected_file = \"e\"\n")),
            "p.test.toml:6: case \"c\": set expected or expected_file, not both");
  EXPECT_EQ(LoadError(Case("input = []\nexpected = []\norder = \"sets\"\n")),
            "p.test.toml:6: case.order must be one of exact, set; got string \"sets\" (did you "
            "mean \"set\"?)");
  EXPECT_EQ(LoadError(Case("input = []\nexpected = []\ntolerance = -1\n")),
            "p.test.toml:6: case.tolerance must be a number >= 0 (e.g. 1e-9); got integer -1");
  EXPECT_EQ(LoadError(Case("input = []\nexpected = []\ntolerance = \"0.1\"\n")),
            "p.test.toml:6: case.tolerance must be a number >= 0 (e.g. 1e-9); got string \"0.1\"");
  EXPECT_EQ(LoadError(Case("input = []\nexpected = []\nignore_fields = \"k\"\n")),
            "p.test.toml:6: case.ignore_fields must be an array of strings (top-level field "
            "names); got string \"k\"");
  EXPECT_EQ(LoadError(Case("input = []\nexpected = []\nexpected_bad = [1]\n")),
            "p.test.toml:6: the 1st entry of case.expected_bad must be a string (the raw input "
            "line); got integer 1");
  EXPECT_EQ(LoadError(Case("input = []\nexpected = []\nexpected_error = \"\"\n")),
            "p.test.toml:6: case.expected_error must not be empty");
}

TEST_F(TestFileTest, InputErrors) {
  EXPECT_EQ(LoadError(Case("input = 'x'\nexpected = []\n")),
            "p.test.toml:4: case.input must be an array of records and steps, each a string (one "
            "record), { watermark = ... } or { file = \"...\" }; got string \"x\"");
  EXPECT_EQ(LoadError(Case("input = ['{}',\n  7]\nexpected = []\n")),
            "p.test.toml:5: the 2nd entry of case.input must be a string (one record), "
            "{ watermark = ... } or { file = \"...\" }; got integer 7");
  EXPECT_EQ(LoadError(Case("input = [{ watermrk = 5 }]\nexpected = []\n")),
            "p.test.toml:4: unknown key 'watermrk' in an entry of case.input (did you mean "
            "'watermark'?); allowed: watermark, file");
  EXPECT_EQ(LoadError(Case("input = [{ watermark = 5, file = \"x\" }]\nexpected = []\n")),
            "p.test.toml:4: the 1st entry of case.input must have exactly one key, watermark or "
            "file");
  EXPECT_EQ(LoadError(Case("input = [{ watermark = \"soon\" }]\nexpected = []\n")),
            "p.test.toml:4: watermark \"soon\" is not an RFC 3339 time (\"2024-01-01T00:01:00Z\"), "
            "integer epoch ms, or a TOML date-time with an offset");
  EXPECT_EQ(LoadError(Case("input = [{ watermark = 2024-01-01T00:00:00 }]\nexpected = []\n")),
            "p.test.toml:4: a watermark date-time needs a Z or an offset (e.g. "
            "2024-01-01T00:01:00Z)");
  EXPECT_EQ(LoadError(Case("input = [{ watermark = 1.5 }]\nexpected = []\n")),
            "p.test.toml:4: watermark must be an RFC 3339 time (\"2024-01-01T00:01:00Z\"), "
            "integer epoch ms, or a TOML date-time with an offset; got float 1.5");
  EXPECT_EQ(LoadError(Case("input = [{ watermark = 253402300800000 }]\nexpected = []\n")),
            "p.test.toml:4: watermark 253402300800000 is out of range (years 0000 to 9999)");
  EXPECT_EQ(LoadError(Case("input = [{ file = \"nope.jsonl\" }]\nexpected = []\n")),
            "p.test.toml:4: cannot read input file 'nope.jsonl': No such file or directory");
  EXPECT_EQ(LoadError(Case("input_file = \"nope.jsonl\"\nexpected = []\n")),
            "p.test.toml:4: cannot read input file 'nope.jsonl': No such file or directory");
  EXPECT_EQ(LoadError(Case("input = [\"\"\"{\n}\"\"\"]\nexpected = []\n")),
            "p.test.toml:4: the 1st entry of case.input spans lines; a JSON lines record must be "
            "one line");
}

TEST_F(TestFileTest, ExpectedErrors) {
  EXPECT_EQ(LoadError(Case("input = []\nexpected = [\n  '{\"a\":1}',\n  '{a:1}',\n]\n")),
            "p.test.toml:7: the 2nd entry of case.expected is not JSON: invalid JSON: "
            "The JSON document has an improper structure: missing or "
            "superfluous commas, braces, missing keys, etc.");
  EXPECT_EQ(LoadError(Case("input = []\nexpected = [{ a = 1 }]\n")),
            "p.test.toml:5: the 1st entry of case.expected must be a string (one JSON value "
            "each); got table");
  WriteFile(dir_.file("bad.jsonl"), "{\"a\":1}\n\n[1,\n");
  EXPECT_EQ(LoadError(Case("input = []\nexpected_file = \"bad.jsonl\"\n")),
            "bad.jsonl:3: invalid JSON: The JSON document has an improper structure: "
            "missing or "
            "superfluous commas, braces, missing keys, etc. (expected_file of the case at p.test.toml:5)");
  EXPECT_EQ(LoadError(Case("input = []\nexpected = []\nexpected_late = ['x']\n")),
            "p.test.toml:6: the 1st entry of case.expected_late is not JSON: invalid JSON: "
            "The JSON document has an improper structure: missing or "
            "superfluous commas, braces, missing keys, etc.");
}

}  // namespace
}  // namespace pulse::cli
