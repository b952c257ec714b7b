// SPDX-License-Identifier: MIT
// Tests for EventTimeOf: exact results and messages, and the same verdict as the file source
// for every line of a JSONL and a CSV input.
#include "pulse/io/event_time.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io/file_source_test_util.h"
#include "testing/test_util.h"

#include "pulse/core/json.h"

namespace pulse::io {
namespace {

using ::pulse::testing::TempDir;
using ::pulse::testing::WriteFile;

// "<ms>" for a good time, or the error message.
std::string Verdict(const Value& record, std::string_view field, FileFormat format) {
  Result<EventTime> t = EventTimeOf(record, field, format);
  return t.ok() ? std::to_string(*t) : t.status().message();
}

std::string JsonVerdict(std::string_view json, std::string_view field = "event_time") {
  Result<Value> v = ParseJson(json);
  EXPECT_TRUE(v.ok()) << json;
  return v.ok() ? Verdict(*v, field, FileFormat::kJsonl) : "unparsable";
}

std::string CsvVerdict(std::string_view cell) {
  Value record(Object{{"ts", Value(cell)}});
  return Verdict(record, "ts", FileFormat::kCsv);
}

TEST(EventTimeOf, JsonTimes) {
  EXPECT_EQ(JsonVerdict(R"({"event_time":"2024-01-01T00:00:01.5Z"})"), "1704067201500");
  EXPECT_EQ(JsonVerdict(R"({"event_time":1704067201500})"), "1704067201500");
  EXPECT_EQ(JsonVerdict(R"({"event_time":-1})"), "-1");
  EXPECT_EQ(JsonVerdict(R"({"t":"1970-01-01T00:00:00+01:00"})", "t"), "-3600000");
}

TEST(EventTimeOf, JsonErrors) {
  EXPECT_EQ(JsonVerdict(R"({"x":1})"), "missing time field 'event_time'");
  EXPECT_EQ(JsonVerdict(R"({"event_time":"1704067201500"})"),
            "time field 'event_time' is not an RFC 3339 time");
  EXPECT_EQ(JsonVerdict(R"({"event_time":1.5})"),
            "time field 'event_time' is a float, not an RFC 3339 string or integer epoch ms");
  EXPECT_EQ(JsonVerdict(R"({"event_time":null})"),
            "time field 'event_time' is null, not an RFC 3339 string or integer epoch ms");
  EXPECT_EQ(JsonVerdict(R"({"event_time":[1]})"),
            "time field 'event_time' is an array, not an RFC 3339 string or integer epoch ms");
  EXPECT_EQ(JsonVerdict(R"({"event_time":true})"),
            "time field 'event_time' is a boolean, not an RFC 3339 string or integer epoch ms");
  EXPECT_EQ(JsonVerdict(R"({"event_time":{}})"),
            "time field 'event_time' is an object, not an RFC 3339 string or integer epoch ms");
  EXPECT_EQ(JsonVerdict(R"({"event_time":253402300800000})"),
            "time field 'event_time' is out of range");
}

TEST(EventTimeOf, CsvCells) {
  EXPECT_EQ(CsvVerdict("1704067201500"), "1704067201500");
  EXPECT_EQ(CsvVerdict("-5"), "-5");
  EXPECT_EQ(CsvVerdict("2024-01-01 00:00:01Z"), "1704067201000");
  EXPECT_EQ(CsvVerdict(""), "time cell 'ts' is empty");
  EXPECT_EQ(CsvVerdict("1.5"), "time cell 'ts' is not epoch ms or an RFC 3339 time");
  EXPECT_EQ(CsvVerdict(" 12"), "time cell 'ts' is not epoch ms or an RFC 3339 time");
  EXPECT_EQ(Verdict(Value(Object{{"other", Value("1")}}), "ts", FileFormat::kCsv),
            "no column 'ts' in the header");
}

// The error texts of the dead-letter file, one per bad line.
std::vector<std::string> DeadLetterErrors(const std::string& dead_letter) {
  std::vector<std::string> errors;
  size_t start = 0;
  while (start < dead_letter.size()) {
    size_t end = dead_letter.find('\n', start);
    Result<Value> line = ParseJson(dead_letter.substr(start, end - start));
    EXPECT_TRUE(line.ok());
    if (line.ok()) errors.push_back(line->Find("error")->as_string());
    start = end + 1;
  }
  return errors;
}

// Every verdict of EventTimeOf equals what the file source does with the same line.
TEST(EventTimeOf, AgreesWithTheFileSourceOnJsonLines) {
  const std::vector<std::string> lines = {
      R"({"event_time":"2024-01-01T00:00:00Z","k":1})",
      R"({"event_time":"2024-01-01 00:00:00.123456+02:00"})",
      R"({"event_time":1704067200000})",
      R"({"event_time":-62167219200000})",
      R"({"event_time":-62167219200001})",
      R"({"event_time":"yesterday"})",
      R"({"event_time":"1704067200000"})",
      R"({"event_time":1e3})",
      R"({"event_time":null})",
      R"({"event_time":false})",
      R"({"event_time":["2024-01-01T00:00:00Z"]})",
      R"({"k":1})",
      R"({"event_time":1,"event_time":"2024-01-01T00:00:00Z"})",
  };
  TempDir dir;
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  WriteFile(dir.file("in.jsonl"), text);
  testing::SourceRun run = testing::RunFileSource(dir, testing::JsonlOptions(dir.file("in.jsonl")));
  ASSERT_OK(run.status);

  std::vector<std::string> good;
  std::vector<std::string> bad;
  for (const std::string& l : lines) {
    ASSERT_OK_AND_ASSIGN(Value v, ParseJson(l));
    Result<EventTime> t = EventTimeOf(v, "event_time");
    if (t.ok()) {
      good.push_back(std::to_string(*t) + " " + v.ToJson());
    } else {
      bad.push_back(t.status().message());
    }
  }
  EXPECT_EQ(run.records, good);
  EXPECT_EQ(DeadLetterErrors(run.dead_letter), bad);
  EXPECT_EQ(good.size(), 5u);
}

TEST(EventTimeOf, AgreesWithTheFileSourceOnCsvCells) {
  const std::vector<std::string> cells = {
      "1704067200000", "-1", "2024-01-01T00:00:00Z", "2024-01-01", "",
      "12ms",          "+5", "99999999999999999999"};
  TempDir dir;
  std::string text = "ts,k\n";
  for (size_t i = 0; i < cells.size(); ++i) text += cells[i] + "," + std::to_string(i) + "\n";
  WriteFile(dir.file("in.csv"), text);
  FileSourceOptions options = testing::JsonlOptions(dir.file("in.csv"), "ts");
  options.format = FileFormat::kCsv;
  testing::SourceRun run = testing::RunFileSource(dir, options);
  ASSERT_OK(run.status);

  std::vector<std::string> good;
  std::vector<std::string> bad;
  for (size_t i = 0; i < cells.size(); ++i) {
    Value v(Object{{"ts", Value(cells[i])}, {"k", Value(std::to_string(i))}});
    Result<EventTime> t = EventTimeOf(v, "ts", FileFormat::kCsv);
    if (t.ok()) {
      good.push_back(std::to_string(*t) + " " + v.ToJson());
    } else {
      bad.push_back(t.status().message());
    }
  }
  EXPECT_EQ(run.records, good);
  EXPECT_EQ(DeadLetterErrors(run.dead_letter), bad);
  EXPECT_EQ(good.size(), 3u);
}

}  // namespace
}  // namespace pulse::io
