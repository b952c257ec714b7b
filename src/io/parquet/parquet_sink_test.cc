// SPDX-License-Identifier: MIT
// Tests for the Parquet sink: every file is read back with the Arrow/Parquet C++ reader.
#include <arrow/api.h>
#include <arrow/io/file.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "io/parquet/parquet_test_util.h"
#include "testing/manual_clock.h"
#include "testing/test_util.h"

#include "pulse/core/json.h"
#include "pulse/io/parquet.h"

namespace pulse::io {
namespace {

namespace fs = std::filesystem;
using ::pulse::testing::TempDir;
using ::pulse::testing::WriteFile;
using namespace std::chrono_literals;

using namespace ::pulse::io::parquet_testing;  // NOLINT(google-build-using-namespace): test helpers

class ParquetSinkTest : public ::testing::Test {
 protected:
  ParquetSinkOptions Options() {
    ParquetSinkOptions o;
    o.out_dir = (dir_.path() / "out").string();
    return o;
  }

  // Opened with the test's clock (max_age, run names).
  std::unique_ptr<Sink> Open(ParquetSinkOptions options) {
    EXPECT_OK(options.Validate());
    std::unique_ptr<Sink> sink = ParquetSink(std::move(options));
    SinkContext ctx;
    ctx.counters = &counters_;
    ctx.env = &env_;
    EXPECT_OK(sink->Open(ctx));
    return sink;
  }

  fs::path out() const { return dir_.path() / "out"; }

  TempDir dir_;
  pulse::testing::ManualClock clock_;
  EnvWithClock env_{clock_};
  SinkCounters counters_;
};

TEST_F(ParquetSinkTest, PayloadSchemaRoundTrip) {
  std::unique_ptr<Sink> sink = Open(Options());
  std::vector<Record> records = {Window(kDay1, kDay1 + 60000, R"("a")", R"("count":2)"),
                                 Window(kDay1, kDay1 + 60000, R"("b")", R"("count":1)")};
  ASSERT_OK(sink->Write(records));
  ASSERT_OK(sink->Close());

  std::vector<std::string> files = ParquetFiles(out());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(std::regex_match(
      files[0], std::regex(R"(dt=2024-01-01/part-\d{13}-[0-9a-f]{8}-000001\.parquet)")))
      << files[0];
  EXPECT_EQ(Rows(out() / files[0]),
            (std::vector<std::string>{
                "1704067259999|{\"window_start_ms\":1704067200000,\"window_end_ms\":"
                "1704067260000,\"key\":\"a\",\"count\":2}",
                "1704067259999|{\"window_start_ms\":1704067200000,\"window_end_ms\":"
                "1704067260000,\"key\":\"b\",\"count\":1}"}));
  std::shared_ptr<arrow::Table> table = ReadTable(out() / files[0]);
  EXPECT_EQ(table->schema()->ToString(),
            "event_time: timestamp[ms, tz=UTC] not null\npayload: string not null");
  EXPECT_EQ(counters_.records.load(), 2u);
  EXPECT_EQ(counters_.bytes.load(), fs::file_size(out() / files[0]));
  // No marker: the watermark never passed the day.
  EXPECT_EQ(ListFiles(out()), files);
}

TEST_F(ParquetSinkTest, InProgressFileIsHiddenUntilClose) {
  std::unique_ptr<Sink> sink = Open(Options());
  ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":1})")}));
  std::vector<std::string> files = ListFiles(out());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(std::regex_match(
      files[0],
      std::regex(R"(dt=2024-01-01/\.part-\d{13}-[0-9a-f]{8}-000001\.parquet\.inprogress)")))
      << files[0];
  ASSERT_OK(sink->Close());
  files = ListFiles(out());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].find(".inprogress"), std::string::npos);
}

TEST_F(ParquetSinkTest, RollsByRows) {
  ParquetSinkOptions o = Options();
  o.max_rows = 2;
  std::unique_ptr<Sink> sink = Open(o);
  std::vector<Record> records;
  for (int i = 0; i < 5; ++i)
    records.push_back(MakeRecord(kDay1 + i, fmt::format(R"({{"i":{}}})", i)));
  ASSERT_OK(sink->Write(records));
  // Full files are closed at once: two are visible before Close.
  EXPECT_EQ(ParquetFiles(out()).size(), 2u);
  ASSERT_OK(sink->Close());
  std::vector<std::string> files = ParquetFiles(out());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(Rows(out() / files[0]),
            (std::vector<std::string>{"1704067200000|{\"i\":0}", "1704067200001|{\"i\":1}"}));
  EXPECT_EQ(Rows(out() / files[1]),
            (std::vector<std::string>{"1704067200002|{\"i\":2}", "1704067200003|{\"i\":3}"}));
  EXPECT_EQ(Rows(out() / files[2]), (std::vector<std::string>{"1704067200004|{\"i\":4}"}));
}

TEST_F(ParquetSinkTest, RollsByBytes) {
  // Each row counts 8 (event_time) + 7 (`{"x":1}`) = 15 bytes; a file closes at >= 40 bytes,
  // that is after 3 rows.
  ParquetSinkOptions o = Options();
  o.max_bytes = 40;
  std::unique_ptr<Sink> sink = Open(o);
  std::vector<Record> records(7, MakeRecord(kDay1, R"({"x":1})"));
  ASSERT_OK(sink->Write(records));
  ASSERT_OK(sink->Close());
  std::vector<std::string> files = ParquetFiles(out());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(Rows(out() / files[0]).size(), 3u);
  EXPECT_EQ(Rows(out() / files[1]).size(), 3u);
  EXPECT_EQ(Rows(out() / files[2]).size(), 1u);
}

TEST_F(ParquetSinkTest, RollsByAgeOnTickAndOnWrite) {
  ParquetSinkOptions o = Options();
  o.max_age_ms = 1000;
  std::unique_ptr<Sink> sink = Open(o);
  ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":1})")}));
  clock_.Advance(999ms);
  ASSERT_OK(sink->Tick());
  EXPECT_EQ(ParquetFiles(out()).size(), 0u);
  clock_.Advance(1ms);
  ASSERT_OK(sink->Tick());  // idle, but old enough: closed by the timer
  EXPECT_EQ(ParquetFiles(out()).size(), 1u);
  ASSERT_OK(sink->Tick());  // nothing open: nothing happens
  ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":2})")}));
  clock_.Advance(1500ms);
  // An old file is also closed when the next row arrives, before the timer.
  ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":3})")}));
  EXPECT_EQ(ParquetFiles(out()).size(), 2u);
  ASSERT_OK(sink->Close());
  std::vector<std::string> files = ParquetFiles(out());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(Rows(out() / files[2]), (std::vector<std::string>{"1704067200000|{\"x\":3}"}));
}

// File names carry the run's start on the Env's wall clock and a tag from Env::UniqueId().
TEST_F(ParquetSinkTest, FileNamesTakeTheRunStartFromTheEnvClock) {
  clock_.Advance(5s);  // the manual wall clock starts at 1700000000000 ms
  std::unique_ptr<Sink> sink = Open(Options());
  ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":1})")}));
  ASSERT_OK(sink->Close());
  std::vector<std::string> files = ParquetFiles(out());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(std::regex_match(
      files[0], std::regex(R"(dt=2024-01-01/part-1700000005000-[0-9a-f]{8}-000001\.parquet)")))
      << files[0];
}

TEST_F(ParquetSinkTest, WritesRowGroupsOfTheConfiguredSize) {
  ParquetSinkOptions o = Options();
  o.row_group_rows = 2;
  std::unique_ptr<Sink> sink = Open(o);
  // One row per Write call: row groups still hold row_group_rows rows.
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":1})")}));
  }
  ASSERT_OK(sink->Close());
  std::vector<std::string> files = ParquetFiles(out());
  ASSERT_EQ(files.size(), 1u);
  auto reader = OpenReader(out() / files[0]);
  std::shared_ptr<parquet::FileMetaData> md = reader->metadata();
  ASSERT_EQ(md->num_row_groups(), 3);
  EXPECT_EQ(md->RowGroup(0)->num_rows(), 2);
  EXPECT_EQ(md->RowGroup(1)->num_rows(), 2);
  EXPECT_EQ(md->RowGroup(2)->num_rows(), 1);
}

TEST_F(ParquetSinkTest, DefaultRowGroupHoldsManyBatches) {
  std::unique_ptr<Sink> sink = Open(Options());
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":1})")}));
  }
  ASSERT_OK(sink->Close());
  auto reader = OpenReader(out() / ParquetFiles(out())[0]);
  EXPECT_EQ(reader->metadata()->num_row_groups(), 1);
  EXPECT_EQ(reader->metadata()->num_rows(), 100);
}

TEST_F(ParquetSinkTest, CompressionIsInTheFileMetadata) {
  const std::pair<ParquetCompression, parquet::Compression::type> cases[] = {
      {ParquetCompression::kSnappy, parquet::Compression::SNAPPY},
      {ParquetCompression::kZstd, parquet::Compression::ZSTD},
      {ParquetCompression::kNone, parquet::Compression::UNCOMPRESSED}};
  for (const auto& [codec, expected] : cases) {
    ParquetSinkOptions o = Options();
    o.compression = codec;
    o.out_dir = (dir_.path() / std::to_string(static_cast<int>(codec))).string();
    std::unique_ptr<Sink> sink = Open(o);
    ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":"aaaaaaaaaaaaaaaa"})")}));
    ASSERT_OK(sink->Close());
    std::vector<std::string> files = ParquetFiles(o.out_dir);
    ASSERT_EQ(files.size(), 1u);
    auto reader = OpenReader(fs::path(o.out_dir) / files[0]);
    auto row_group = reader->metadata()->RowGroup(0);
    for (int c = 0; c < row_group->num_columns(); ++c) {
      EXPECT_EQ(row_group->ColumnChunk(c)->compression(), expected);
    }
  }
}

TEST_F(ParquetSinkTest, ColumnsSchemaForWindowResults) {
  ParquetSinkOptions o = Options();
  o.schema = ParquetSchema::kColumns;
  std::unique_ptr<Sink> sink = Open(o);
  std::vector<Record> records = {Window(kDay1, kDay1 + 60000, R"("a")", R"("sum":null)"),
                                 Window(kDay1, kDay1 + 60000, "5", R"("sum":3)"),
                                 Window(kDay1, kDay1 + 60000, "null", R"("sum":1.5)"),
                                 Window(kDay1, kDay1 + 60000, R"({"k":[1]})", R"("sum":-2.25)")};
  ASSERT_OK(sink->Write(records));
  ASSERT_OK(sink->Close());
  std::vector<std::string> files = ParquetFiles(out());
  ASSERT_EQ(files.size(), 1u);
  std::shared_ptr<arrow::Table> table = ReadTable(out() / files[0]);
  EXPECT_EQ(table->schema()->ToString(),
            "window_start_ms: timestamp[ms, tz=UTC]\nwindow_end_ms: timestamp[ms, tz=UTC]\n"
            "key: string\nsum: double");
  EXPECT_EQ(Rows(out() / files[0]),
            (std::vector<std::string>{"1704067200000|1704067260000|a|null",
                                      "1704067200000|1704067260000|5|3.0",
                                      "1704067200000|1704067260000|null|1.5",
                                      "1704067200000|1704067260000|{\"k\":[1]}|-2.25"}));
}

TEST_F(ParquetSinkTest, ColumnsSchemaCountIsInt64) {
  ParquetSinkOptions o = Options();
  o.schema = ParquetSchema::kColumns;
  std::unique_ptr<Sink> sink = Open(o);
  ASSERT_OK(sink->Write(std::vector<Record>{Window(0, 10, R"("a")", R"("count":3)"),
                                            Window(0, 10, R"("b")", R"("count":1)")}));
  ASSERT_OK(sink->Close());
  std::vector<std::string> files = ParquetFiles(out());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].substr(0, 14), "dt=1970-01-01/");
  EXPECT_EQ(ReadTable(out() / files[0])->schema()->field(3)->ToString(), "count: int64");
  EXPECT_EQ(Rows(out() / files[0]), (std::vector<std::string>{"0|10|a|3", "0|10|b|1"}));
}

TEST_F(ParquetSinkTest, ColumnsSchemaRejectsOtherShapes) {
  ParquetSinkOptions o = Options();
  o.schema = ParquetSchema::kColumns;
  {
    std::unique_ptr<Sink> sink = Open(o);
    Status st = sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"a":1,"b":"x"})"),
                                                MakeRecord(kDay1, R"({"a":2,"c":true})")});
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(st.message(),
              "schema = \"columns\": a record has the field \"c\", which the first record did not "
              "have (the columns are fixed by the first record; use schema = \"payload\" for "
              "records of varying shape)");
    sink->Abort();
  }
  {
    std::unique_ptr<Sink> sink = Open(o);
    Status st = sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"a":1,"b":"x"})"),
                                                MakeRecord(kDay1, R"({"a":1.5})")});
    EXPECT_EQ(st.message(),
              "schema = \"columns\": field \"a\" is a fractional number in a record, but its "
              "column is int64 (set by the first record)");
    sink->Abort();
  }
  {
    std::unique_ptr<Sink> sink = Open(o);
    Status st = sink->Write(std::vector<Record>{MakeRecord(kDay1, "[1,2]")});
    EXPECT_EQ(st.message(),
              "schema = \"columns\" needs records that are JSON objects with fields; the first "
              "record is an array (use schema = \"payload\")");
    sink->Abort();
  }
  // Aborted runs leave no files behind.
  EXPECT_EQ(ListFiles(out()), std::vector<std::string>{});
}

TEST_F(ParquetSinkTest, ColumnsSchemaForOtherRecords) {
  ParquetSinkOptions o = Options();
  o.schema = ParquetSchema::kColumns;
  std::unique_ptr<Sink> sink = Open(o);
  ASSERT_OK(sink->Write(std::vector<Record>{
      MakeRecord(kDay1, R"({"n":1,"d":0.5,"b":true,"s":"x","o":{"y":[1]},"z":null})"),
      MakeRecord(kDay1, R"({"n":null,"d":2,"s":7,"z":"t"})")}));
  ASSERT_OK(sink->Close());
  std::vector<std::string> files = ParquetFiles(out());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(ReadTable(out() / files[0])->schema()->ToString(),
            "n: int64\nd: double\nb: bool\ns: string\no: string\nz: string");
  EXPECT_EQ(Rows(out() / files[0]),
            (std::vector<std::string>{"1|0.5|true|x|{\"y\":[1]}|null", "null|2.0|null|7|null|t"}));
}

TEST_F(ParquetSinkTest, PartitionsByFieldStayInsideOutDir) {
  ParquetSinkOptions o = Options();
  o.partition_field = "user";
  std::unique_ptr<Sink> sink = Open(o);
  ASSERT_OK(sink->Write(std::vector<Record>{
      MakeRecord(kDay1, R"({"user":"../../x"})"), MakeRecord(kDay1, R"({"user":"a/b"})"),
      MakeRecord(kDay1, R"({"user":".."})"), MakeRecord(kDay1, R"({"user":"."})"),
      MakeRecord(kDay1, R"({"user":null})"), MakeRecord(kDay1, R"({"other":1})"),
      MakeRecord(kDay1, R"({"user":7})"), MakeRecord(kDay1, R"({"user":"a/b"})")}));
  ASSERT_OK(sink->Close());
  std::vector<std::string> dirs;
  for (const std::string& f : ParquetFiles(out())) dirs.push_back(fs::path(f).parent_path());
  // (Sorted by path: "user=%2E%2E/..." comes before "user=%2E/...".)
  EXPECT_EQ(dirs, (std::vector<std::string>{"user=%2E%2E", "user=%2E", "user=..%2F..%2Fx", "user=7",
                                            "user=__HIVE_DEFAULT_PARTITION__", "user=a%2Fb"}));
  // Nothing was written anywhere but below out_dir.
  EXPECT_EQ(ListFiles(dir_.path()).size(), 6u);
  EXPECT_EQ(Rows(out() / ParquetFiles(out())[5]).size(), 2u);
  // No markers for field partitions.
  EXPECT_EQ(ListFiles(out()).size(), 6u);
}

TEST_F(ParquetSinkTest, DatePartitionsGetSuccessMarkersWhenComplete) {
  ParquetSinkOptions o = Options();
  o.lateness_ms = 10'000;
  std::unique_ptr<Sink> sink = Open(o);
  ASSERT_OK(sink->Write(
      std::vector<Record>{MakeRecord(kDay2 - 1, R"({"x":1})"), MakeRecord(kDay2, R"({"x":2})")}));
  // Results of day 1 may still come until the watermark is 10 s into day 2.
  ASSERT_OK(sink->OnWatermark(kDay2 + 9'999));
  EXPECT_EQ(ParquetFiles(out()).size(), 0u);
  ASSERT_OK(sink->OnWatermark(kDay2 + 10'000));
  std::vector<std::string> files = ListFiles(out());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0], "dt=2024-01-01/_SUCCESS");
  EXPECT_EQ(files[1].substr(0, 19), "dt=2024-01-01/part-");
  EXPECT_EQ(files[2].substr(0, 20), "dt=2024-01-02/.part-");
  EXPECT_EQ(fs::file_size(out() / files[0]), 0u);
  // The end of input completes every partition.
  ASSERT_OK(sink->OnWatermark(kMaxWatermark));
  ASSERT_OK(sink->Close());
  files = ListFiles(out());
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[2], "dt=2024-01-02/_SUCCESS");
  EXPECT_EQ(files[3].substr(0, 19), "dt=2024-01-02/part-");
}

TEST_F(ParquetSinkTest, NoMarkerWithoutTheWatermarkOrWhenDisabled) {
  {
    std::unique_ptr<Sink> sink = Open(Options());
    ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":1})")}));
    ASSERT_OK(sink->Close());  // e.g. Ctrl-C: files are closed, the day is not complete
    EXPECT_EQ(ListFiles(out()).size(), 1u);
  }
  ParquetSinkOptions o = Options();
  o.success_marker = false;
  o.out_dir = (dir_.path() / "nomarker").string();
  std::unique_ptr<Sink> sink = Open(o);
  ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":1})")}));
  ASSERT_OK(sink->OnWatermark(kMaxWatermark));
  ASSERT_OK(sink->Close());
  EXPECT_EQ(ListFiles(o.out_dir).size(), 1u);
}

TEST_F(ParquetSinkTest, HourlyPartitionFormat) {
  ParquetSinkOptions o = Options();
  o.partition_format = "%Y-%m-%d/%H";
  std::unique_ptr<Sink> sink = Open(o);
  ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1 + 3'600'000, R"({"x":1})")}));
  ASSERT_OK(sink->OnWatermark(kDay1 + 7'200'000));
  std::vector<std::string> files = ListFiles(out());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], "dt=2024-01-01%2F01/_SUCCESS");
}

TEST_F(ParquetSinkTest, AbortRemovesOpenFilesAndKeepsClosedOnes) {
  ParquetSinkOptions o = Options();
  o.max_rows = 1;
  std::unique_ptr<Sink> sink = Open(o);
  ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":1})")}));
  o.max_rows = 100;
  std::unique_ptr<Sink> other = Open(o);
  ASSERT_OK(other->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":2})")}));
  EXPECT_EQ(ListFiles(out()).size(), 2u);
  other->Abort();
  sink->Abort();
  std::vector<std::string> files = ListFiles(out());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(Rows(out() / files[0]), (std::vector<std::string>{"1704067200000|{\"x\":1}"}));
}

TEST_F(ParquetSinkTest, FileNamesNeverRepeatAcrossRuns) {
  for (int run = 0; run < 3; ++run) {
    std::unique_ptr<Sink> sink = Open(Options());
    ASSERT_OK(sink->Write(std::vector<Record>{MakeRecord(kDay1, R"({"x":1})")}));
    ASSERT_OK(sink->Close());
  }
  EXPECT_EQ(ParquetFiles(out()).size(), 3u);
}

TEST_F(ParquetSinkTest, BoundsOpenFiles) {
  ParquetSinkOptions o = Options();
  o.partition_field = "k";
  std::unique_ptr<Sink> sink = Open(o);
  std::vector<Record> records;
  for (int i = 0; i < 70; ++i)
    records.push_back(MakeRecord(kDay1, fmt::format(R"({{"k":{}}})", i)));
  ASSERT_OK(sink->Write(records));
  // 64 files are open at most: the 6 least recently written were closed.
  EXPECT_EQ(ParquetFiles(out()).size(), 6u);
  EXPECT_EQ(ListFiles(out()).size(), 70u);
  ASSERT_OK(sink->Close());
  EXPECT_EQ(ParquetFiles(out()).size(), 70u);
}

TEST_F(ParquetSinkTest, ValidatesOptions) {
  ParquetSinkOptions o;
  EXPECT_OK(o.Validate());
  o.out_dir = "";
  EXPECT_EQ(o.Validate().message(), "parquet sink: out_dir must not be empty");
  o = ParquetSinkOptions();
  o.max_rows = 0;
  EXPECT_EQ(o.Validate().message(), "parquet sink: max_rows must be at least 1");
  o = ParquetSinkOptions();
  o.row_group_rows = 0;
  EXPECT_EQ(o.Validate().message(), "parquet sink: row_group_rows must be at least 1");
  o = ParquetSinkOptions();
  o.max_age_ms = 0;
  EXPECT_EQ(o.Validate().message(), "parquet sink: max_age must be positive");
  o = ParquetSinkOptions();
  o.lateness_ms = -1;
  EXPECT_EQ(o.Validate().message(), "parquet sink: lateness must be between 0 and 100 years");
  o = ParquetSinkOptions();
  o.partition_format = "%Q";
  EXPECT_EQ(o.Validate().code(), StatusCode::kInvalidArgument);
  o.partition_field = "user";  // the format is not used
  EXPECT_OK(o.Validate());
}

TEST_F(ParquetSinkTest, OutDirThatIsAFileFailsOpen) {
  WriteFile(dir_.file("file"), "x");
  ParquetSinkOptions o = Options();
  o.out_dir = dir_.file("file");
  std::unique_ptr<Sink> sink = ParquetSink(o);
  Status st = sink->Open({&counters_});
  EXPECT_EQ(st.code(), StatusCode::kIOError);
}

}  // namespace
}  // namespace pulse::io
