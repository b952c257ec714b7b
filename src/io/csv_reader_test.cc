// SPDX-License-Identifier: MIT
// Tests for CSV splitting, the header schema, and the CSV file source end to end.
#include "io/csv_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io/file_source_test_util.h"
#include "pulse/io/file.h"
#include "testing/test_util.h"

namespace pulse::io {
namespace {

using pulse::testing::TempDir;
using pulse::testing::WriteFile;
using testing::RunConfig;
using testing::RunFileSource;
using testing::SourceRun;

using Lines = std::vector<std::string>;

Lines Split(std::string_view record) {
  std::vector<std::string> cells(1, "stale");
  size_t n = internal::SplitCsvRecord(record, &cells);
  cells.resize(n);
  return cells;
}

TEST(SplitCsvRecordTest, Cells) {
  EXPECT_EQ(Split("a,b,c"), (Lines{"a", "b", "c"}));
  EXPECT_EQ(Split(""), (Lines{""}));
  EXPECT_EQ(Split(",,"), (Lines{"", "", ""}));
  EXPECT_EQ(Split(" a , b "), (Lines{" a ", " b "}));
  EXPECT_EQ(Split("\"a,b\",c"), (Lines{"a,b", "c"}));
  EXPECT_EQ(Split("\"say \"\"hi\"\"\",x"), (Lines{"say \"hi\"", "x"}));
  EXPECT_EQ(Split("\"\""), (Lines{""}));
  EXPECT_EQ(Split("\"line1\nline2\",\"cr\r\nlf\""), (Lines{"line1\nline2", "cr\r\nlf"}));
  EXPECT_EQ(Split("ab\"c,d"), (Lines{"ab\"c", "d"}));    // a quote inside an unquoted cell
  EXPECT_EQ(Split("\"ab\"cd,e"), (Lines{"abcd", "e"}));  // text after the closing quote
  EXPECT_EQ(Split("x,\"open"), (Lines{"x", "open"}));    // unterminated: the rest
}

TEST(CsvSchemaTest, DuplicateNamesLaterColumnWinsAtFirstPosition) {
  std::vector<std::string> header = {"a", "t", "b", "a"};
  internal::CsvSchema schema(header, 4, "t", {});
  EXPECT_EQ(schema.num_columns(), 4u);
  EXPECT_EQ(schema.time_column(), 1);
  std::vector<std::string> row = {"1", "2", "3", "4"};
  EXPECT_EQ(schema.MakeObject(&row).ToJson(), "{\"a\":\"4\",\"t\":\"2\",\"b\":\"3\"}");
}

TEST(CsvSchemaTest, ProjectionAndMissingTimeColumn) {
  std::vector<std::string> header = {"a", "b", "c"};
  internal::CsvSchema schema(header, 3, "t", {"c", "a"});
  EXPECT_EQ(schema.time_column(), -1);
  std::vector<std::string> row = {"1", "2", "3"};
  EXPECT_EQ(schema.MakeObject(&row).ToJson(), "{\"a\":\"1\",\"c\":\"3\"}");
}

FileSourceOptions CsvOptions(std::string path, std::string time_field = "event_time") {
  FileSourceOptions o;
  o.path = std::move(path);
  o.format = FileFormat::kCsv;
  o.time_field = std::move(time_field);
  return o;
}

TEST(FileSourceCsvTest, OriginalFixture) {
  TempDir dir;
  WriteFile(dir.file("in.csv"),
            "event_time,word\n1704067200000,a\n1704067220000,a\n1704067240000,b\n");
  SourceRun run = RunFileSource(dir, CsvOptions(dir.file("in.csv")));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1704067200000 {\"event_time\":\"1704067200000\",\"word\":\"a\"}",
                                "1704067220000 {\"event_time\":\"1704067220000\",\"word\":\"a\"}",
                                "1704067240000 {\"event_time\":\"1704067240000\","
                                "\"word\":\"b\"}"}));
  EXPECT_EQ(run.records_counted, 3u);
  EXPECT_EQ(run.bad_total, 0u);
}

TEST(FileSourceCsvTest, QuotingRfc3339AndNegativeTimes) {
  TempDir dir;
  const std::string path = dir.file("in.csv");
  WriteFile(path,
            "event_time,text,n\r\n"                                   // 1
            "2024-01-01T00:00:01.5Z,\"a, b\",1\r\n"                   // 2
            "-1500,\"say \"\"hi\"\"\",2\r\n"                          // 3
            "\r\n"                                                    // 4 blank
            "\"5\",\"multi\nline\r\ncell\",3\r\n"                     // 5-7
            "7,x,4\n"                                                 // 8
            "8,,\n"                                                   // 9
            "1970-01-01 00:00:00+00:00,\"\",\"\"\n"                   // 10
            "bad,y,5\n"                                               // 11
            ",z,6\n"                                                  // 12
            "9,short\n"                                               // 13
            "\n"                                                      // 14
            "10,last,7");                                             // 15, no newline
  SourceRun run = RunFileSource(dir, CsvOptions(path));
  ASSERT_OK(run.status);
  EXPECT_EQ(
      run.records,
      (Lines{"1704067201500 {\"event_time\":\"2024-01-01T00:00:01.5Z\",\"text\":\"a, b\","
             "\"n\":\"1\"}",
             "-1500 {\"event_time\":\"-1500\",\"text\":\"say \\\"hi\\\"\",\"n\":\"2\"}",
             "5 {\"event_time\":\"5\",\"text\":\"multi\\nline\\r\\ncell\",\"n\":\"3\"}",
             "7 {\"event_time\":\"7\",\"text\":\"x\",\"n\":\"4\"}",
             "8 {\"event_time\":\"8\",\"text\":\"\",\"n\":\"\"}",
             "0 {\"event_time\":\"1970-01-01 00:00:00+00:00\",\"text\":\"\",\"n\":\"\"}",
             "10 {\"event_time\":\"10\",\"text\":\"last\",\"n\":\"7\"}"}));
  const std::string o = R"({"reason":")";
  const std::string origin = R"(","origin":")" + path + R"(","position":)";
  EXPECT_EQ(run.dead_letter,
            o + "bad_event_time" + origin +
                R"(11,"error":"time cell 'event_time' is not epoch ms or an RFC 3339 time","raw":"bad,y,5"})"
                "\n" +
                o + "bad_event_time" + origin +
                R"(12,"error":"time cell 'event_time' is empty","raw":",z,6"})"
                "\n" +
                o + "ragged_row" + origin +
                R"(13,"error":"expected 3 cells, got 2","raw":"9,short"})"
                "\n");
  EXPECT_EQ(run.bad(BadReason::kBadEventTime), 2u);
  EXPECT_EQ(run.bad(BadReason::kRaggedRow), 1u);
}

TEST(FileSourceCsvTest, RaggedRowsAndUnterminatedQuote) {
  TempDir dir;
  const std::string path = dir.file("in.csv");
  WriteFile(path,
            "event_time,a\n"
            "1,x,extra\n"      // 2 too many
            "2\n"              // 3 too few
            "3,ok\n"           // 4
            "4,\"open\nnever closed\n");  // 5-6 unterminated
  SourceRun run = RunFileSource(dir, CsvOptions(path));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"3 {\"event_time\":\"3\",\"a\":\"ok\"}"}));
  const std::string origin = R"(","origin":")" + path + R"(","position":)";
  EXPECT_EQ(run.dead_letter,
            R"({"reason":"ragged_row)" + origin +
                R"(2,"error":"expected 2 cells, got 3","raw":"1,x,extra"})"
                "\n"
                R"({"reason":"ragged_row)" +
                origin + R"(3,"error":"expected 2 cells, got 1","raw":"2"})"
                "\n"
                R"({"reason":"ragged_row)" +
                origin +
                R"(5,"error":"unterminated quoted field","raw":"4,\"open\nnever closed\n"})"
                "\n");
}

TEST(FileSourceCsvTest, HeaderOnlyAndEmptyFiles) {
  TempDir dir;
  WriteFile(dir.file("header.csv"), "event_time,a\r\n");
  WriteFile(dir.file("empty.csv"), "");
  SourceRun header = RunFileSource(dir, CsvOptions(dir.file("header.csv")));
  ASSERT_OK(header.status);
  EXPECT_TRUE(header.records.empty());
  EXPECT_EQ(header.bad_total, 0u);
  SourceRun empty = RunFileSource(dir, CsvOptions(dir.file("empty.csv")));
  ASSERT_OK(empty.status);
  EXPECT_TRUE(empty.records.empty());
  EXPECT_EQ(empty.bad_total, 0u);
}

TEST(FileSourceCsvTest, MissingTimeColumnMakesEveryRowBad) {
  TempDir dir;
  const std::string path = dir.file("in.csv");
  WriteFile(path, "ts,a\n1,x\n2,y\n");
  SourceRun run = RunFileSource(dir, CsvOptions(path));
  ASSERT_OK(run.status);
  EXPECT_TRUE(run.records.empty());
  const std::string line = R"({"reason":"bad_event_time","origin":")" + path + R"(","position":)";
  EXPECT_EQ(run.dead_letter,
            line + R"(2,"error":"no column 'event_time' in the header","raw":"1,x"})" "\n" +
                line + R"(3,"error":"no column 'event_time' in the header","raw":"2,y"})" "\n");
  EXPECT_EQ(run.bad(BadReason::kBadEventTime), 2u);
}

TEST(FileSourceCsvTest, InvalidUtf8AndTooLongRows) {
  TempDir dir;
  const std::string path = dir.file("in.csv");
  WriteFile(path,
            "\xEF\xBB\xBFt,a\n"
            "1,\xc3\n"                                         // 2 invalid utf-8
            "2,\"" + std::string(30, 'q') + "\n\"\n"            // 3-4 too long
            "3,ok\n");                                         // 5
  FileSourceOptions options = CsvOptions(path, "t");
  options.max_line_bytes = 20;
  SourceRun run = RunFileSource(dir, options, RunConfig::Projection({"a"}));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"3 {\"a\":\"ok\"}"}));
  const std::string origin = R"(","origin":")" + path + R"(","position":)";
  const std::string expected =
      R"({"reason":"invalid_utf8)" + origin +
      R"(2,"error":"invalid UTF-8","raw":"1,)" "\xef\xbf\xbd" R"("})" "\n" +
      R"({"reason":"line_too_long)" + origin +
      R"j(3,"error":"record is longer than max_line_bytes (20)","raw":"2,\")j" +
      std::string(30, 'q') + R"(\n\""})" "\n";
  EXPECT_EQ(run.dead_letter, expected);
}

TEST(FileSourceCsvTest, FailStopsWithMessage) {
  TempDir dir;
  const std::string path = dir.file("in.csv");
  WriteFile(path, "event_time,a\n1,x\n2\n3,z\n");
  SourceRun run = RunFileSource(dir, CsvOptions(path), RunConfig::Fail());
  EXPECT_EQ(run.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(run.status.message(), path + ":3: ragged_row: expected 2 cells, got 1");
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":\"1\",\"a\":\"x\"}"}));
}

TEST(FileSourceCsvTest, EachGlobbedFileHasItsOwnHeader) {
  TempDir dir;
  WriteFile(dir.file("1.csv"), "event_time,a\n1,x\n");
  WriteFile(dir.file("2.csv"), "a,event_time\ny,2\n");
  SourceRun run = RunFileSource(dir, CsvOptions(dir.file("?.csv")));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":\"1\",\"a\":\"x\"}",
                                "2 {\"a\":\"y\",\"event_time\":\"2\"}"}));
}

}  // namespace
}  // namespace pulse::io
