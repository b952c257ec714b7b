// SPDX-License-Identifier: MIT
// Tests for the JSONL file source: times, projection, every bad-input case, globs, stdin,
// follow mode, options.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "io/file_source_test_util.h"
#include "pulse/io/file.h"
#include "testing/manual_clock.h"
#include "testing/test_util.h"

namespace pulse::io {
namespace {

using pulse::testing::TempDir;
using pulse::testing::WriteFile;
using testing::JsonlOptions;
using testing::RunConfig;
using testing::RunFileSource;
using testing::SourceRun;

using Lines = std::vector<std::string>;
using namespace std::chrono_literals;
using pulse::testing::ManualClock;

// A follow run's context: `env`'s clock paces the polling.
SourceContext FollowContext(BadRecordHandler* bad, SourceCounters* counters,
                            std::atomic<bool>* stop, Env* env) {
  SourceContext ctx;
  ctx.bad_records = bad;
  ctx.counters = counters;
  ctx.stop = stop;
  ctx.env = env;
  return ctx;
}

TEST(FileSourceJsonlTest, IntegerAndRfc3339Times) {
  TempDir dir;
  const std::string input =
      "{\"event_time\":1704067200000,\"word\":\"hello\"}\n"
      "{\"event_time\":\"2024-01-01T00:00:20Z\",\"word\":\"world\",\"n\":1.5}\n"
      "{\"word\":\"x\",\"event_time\":\"2024-01-01 00:00:40.123456+01:00\","
      "\"a\":[1,{\"b\":null}]}\n"
      "{\"event_time\":-1000,\"w\":true}\n";
  WriteFile(dir.file("in.jsonl"), input);
  SourceRun run = RunFileSource(dir, JsonlOptions(dir.file("in.jsonl")));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records,
            (Lines{"1704067200000 {\"event_time\":1704067200000,\"word\":\"hello\"}",
                   "1704067220000 {\"event_time\":\"2024-01-01T00:00:20Z\",\"word\":\"world\","
                   "\"n\":1.5}",
                   "1704063640123 {\"word\":\"x\",\"event_time\":\"2024-01-01 "
                   "00:00:40.123456+01:00\",\"a\":[1,{\"b\":null}]}",
                   "-1000 {\"event_time\":-1000,\"w\":true}"}));
  EXPECT_EQ(run.records_counted, 4u);
  EXPECT_EQ(run.bytes_counted, input.size());
  EXPECT_EQ(run.bad_total, 0u);
  EXPECT_EQ(run.dead_letter, "");
}

TEST(FileSourceJsonlTest, SameRecordsForAnyBatchSize) {
  TempDir dir;
  std::string input;
  for (int i = 0; i < 50; ++i) {
    input += "{\"event_time\":" + std::to_string(i) + "}\n";
    if (i % 7 == 0) input += "not json\n";
  }
  WriteFile(dir.file("in.jsonl"), input);
  SourceRun one = RunFileSource(dir, JsonlOptions(dir.file("in.jsonl")), RunConfig::Batch(1));
  SourceRun big = RunFileSource(dir, JsonlOptions(dir.file("in.jsonl")), RunConfig::Batch(1000));
  ASSERT_OK(one.status);
  ASSERT_OK(big.status);
  EXPECT_EQ(one.records.size(), 50u);
  EXPECT_EQ(one.records, big.records);
  EXPECT_EQ(one.dead_letter, big.dead_letter);
  EXPECT_EQ(one.bad(BadReason::kInvalidJson), 8u);
}

TEST(FileSourceJsonlTest, ProjectionKeepsOnlyRequestedFields) {
  TempDir dir;
  WriteFile(dir.file("in.jsonl"),
            "{\"event_time\":1,\"word\":\"a\",\"user\":\"u1\",\"x\":{\"deep\":1}}\n"
            "{\"user\":\"u2\",\"event_time\":2}\n"
            "{\"event_time\":3,\"other\":0}\n");
  SourceRun run =
      RunFileSource(dir, JsonlOptions(dir.file("in.jsonl")),
                    RunConfig::Projection({"word", "user"}));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records,
            (Lines{"1 {\"word\":\"a\",\"user\":\"u1\"}", "2 {\"user\":\"u2\"}", "3 {}"}));
}

TEST(FileSourceJsonlTest, DuplicateTimeFieldLaterWins) {
  TempDir dir;
  WriteFile(dir.file("in.jsonl"), "{\"event_time\":1,\"event_time\":5}\n");
  SourceRun run = RunFileSource(dir, JsonlOptions(dir.file("in.jsonl")));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"5 {\"event_time\":5}"}));
}

TEST(FileSourceJsonlTest, EveryBadInputCase) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path,
            "{\"event_time\":1,\"a\":1}\n"                      // 1 good
            "{\"event_time\":1,\"a\":\n"                        // 2 invalid json
            "[1,2]\n"                                           // 3 not an object
            "{\"a\":1}\n"                                       // 4 missing time
            "{\"event_time\":null}\n"                           // 5 null
            "{\"event_time\":1.0}\n"                            // 6 float
            "{\"event_time\":\"1704067200000\"}\n"              // 7 digit string
            "{\"event_time\":\"yesterday\"}\n"                  // 8 other string
            "{\"event_time\":9223372036854775808}\n"            // 9 above int64
            "{\"event_time\":253402300800000}\n"                // 10 after year 9999
            "{\"event_time\":true}\n"                           // 11 bool
            "{\"event_time\":{\"ms\":1}}\n"                     // 12 object
            "\"just a string\"\n"                               // 13 not an object
            "{\"event_time\":2,\"s\":\"\xff\"}\n"               // 14 invalid utf-8
            "{\"event_time\":[1]}\n"                            // 15 array
            "{\"event_time\":\"10000-01-01T00:00:00Z\"}\n"      // 16 out of range string
            "{\"event_time\":3}\n");                            // 17 good
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1,\"a\":1}", "3 {\"event_time\":3}"}));
  EXPECT_EQ(run.records_counted, 2u);
  const std::string o = "\"origin\":\"" + path + "\"";
  const std::string expected =
      R"({"reason":"invalid_json",)" + o +
      R"(,"position":2,"error":"The JSON document has an improper structure: missing or superfluous commas, braces, missing keys, etc.","raw":"{\"event_time\":1,\"a\":"})"
      "\n" R"({"reason":"not_an_object",)" + o +
      R"(,"position":3,"error":"expected a JSON object, got an array","raw":"[1,2]"})"
      "\n" R"({"reason":"bad_event_time",)" + o +
      R"(,"position":4,"error":"missing time field 'event_time'","raw":"{\"a\":1}"})"
      "\n" R"({"reason":"bad_event_time",)" + o +
      R"(,"position":5,"error":"time field 'event_time' is null, not an RFC 3339 string or integer epoch ms","raw":"{\"event_time\":null}"})"
      "\n" R"({"reason":"bad_event_time",)" + o +
      R"(,"position":6,"error":"time field 'event_time' is a float, not an RFC 3339 string or integer epoch ms","raw":"{\"event_time\":1.0}"})"
      "\n" R"({"reason":"bad_event_time",)" + o +
      R"(,"position":7,"error":"time field 'event_time' is not an RFC 3339 time","raw":"{\"event_time\":\"1704067200000\"}"})"
      "\n" R"({"reason":"bad_event_time",)" + o +
      R"(,"position":8,"error":"time field 'event_time' is not an RFC 3339 time","raw":"{\"event_time\":\"yesterday\"}"})"
      "\n" R"({"reason":"bad_event_time",)" + o +
      R"(,"position":9,"error":"time field 'event_time' is out of range","raw":"{\"event_time\":9223372036854775808}"})"
      "\n" R"({"reason":"bad_event_time",)" + o +
      R"(,"position":10,"error":"time field 'event_time' is out of range","raw":"{\"event_time\":253402300800000}"})"
      "\n" R"({"reason":"bad_event_time",)" + o +
      R"(,"position":11,"error":"time field 'event_time' is a boolean, not an RFC 3339 string or integer epoch ms","raw":"{\"event_time\":true}"})"
      "\n" R"({"reason":"bad_event_time",)" + o +
      R"(,"position":12,"error":"time field 'event_time' is an object, not an RFC 3339 string or integer epoch ms","raw":"{\"event_time\":{\"ms\":1}}"})"
      "\n" R"({"reason":"not_an_object",)" + o +
      R"(,"position":13,"error":"expected a JSON object, got a string","raw":"\"just a string\""})"
      "\n" R"({"reason":"invalid_utf8",)" + o +
      R"(,"position":14,"error":"The input is not valid UTF-8","raw":"{\"event_time\":2,\"s\":\")"
      "\xef\xbf\xbd" R"(\"}"})"
      "\n" R"({"reason":"bad_event_time",)" + o +
      R"(,"position":15,"error":"time field 'event_time' is an array, not an RFC 3339 string or integer epoch ms","raw":"{\"event_time\":[1]}"})"
      "\n" R"({"reason":"bad_event_time",)" + o +
      R"(,"position":16,"error":"time field 'event_time' is not an RFC 3339 time","raw":"{\"event_time\":\"10000-01-01T00:00:00Z\"}"})"
      "\n";
  EXPECT_EQ(run.dead_letter, expected);
  EXPECT_EQ(run.bad(BadReason::kInvalidJson), 1u);
  EXPECT_EQ(run.bad(BadReason::kNotAnObject), 2u);
  EXPECT_EQ(run.bad(BadReason::kBadEventTime), 11u);
  EXPECT_EQ(run.bad(BadReason::kInvalidUtf8), 1u);
  EXPECT_EQ(run.bad_total, 15u);
}

TEST(FileSourceJsonlTest, CrLfBomBlankLinesAndNoTrailingNewline) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path,
            "\xEF\xBB\xBF{\"event_time\":1}\r\n"  // 1
            "\r\n"                                // 2 blank
            "   \t \n"                            // 3 whitespace only
            "\n"                                  // 4 empty
            "{\"event_time\":2,\"s\":\"a\\r\"}\r\n"  // 5
            "{bad}\r\n"                           // 6
            "{\"event_time\":3}");                // 7, no newline
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1}", "2 {\"event_time\":2,\"s\":\"a\\r\"}",
                                "3 {\"event_time\":3}"}));
  EXPECT_EQ(run.dead_letter, R"({"reason":"invalid_json","origin":")" + path +
                                 R"(","position":6,"error":"The JSON document has an improper structure: missing or superfluous commas, braces, missing keys, etc.","raw":"{bad}"})"
                                 "\n");
  EXPECT_EQ(run.bad_total, 1u);
}

TEST(FileSourceJsonlTest, BomOnlyOnFirstLine) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path, "{\"event_time\":1}\n\xEF\xBB\xBF{\"event_time\":2}\n");
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1}"}));
  EXPECT_EQ(run.bad(BadReason::kInvalidJson), 1u);
}

TEST(FileSourceJsonlTest, EmptyFileGivesNoRecords) {
  TempDir dir;
  WriteFile(dir.file("empty.jsonl"), "");
  SourceRun run = RunFileSource(dir, JsonlOptions(dir.file("empty.jsonl")));
  ASSERT_OK(run.status);
  EXPECT_TRUE(run.records.empty());
  EXPECT_EQ(run.records_counted, 0u);
  EXPECT_EQ(run.bytes_counted, 0u);
  EXPECT_EQ(run.bad_total, 0u);
  EXPECT_EQ(run.dead_letter, "");
}

TEST(FileSourceJsonlTest, OverLongLinesWithSmallLimit) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  const std::string long_line = "{\"event_time\":1,\"pad\":\"" + std::string(40, 'x') + "\"}";
  const std::string huge_line = "{\"event_time\":1,\"pad\":\"" + std::string(3000, 'y') + "\"}";
  WriteFile(path, "{\"event_time\":1}\n" + long_line + "\n{\"event_time\":2}\r\n" + huge_line +
                      "\n{\"event_time\":3}\n" + long_line);
  FileSourceOptions options = JsonlOptions(path);
  options.max_line_bytes = 20;  // "{\"event_time\":1}" is 16 bytes
  SourceRun run = RunFileSource(dir, options);
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records,
            (Lines{"1 {\"event_time\":1}", "2 {\"event_time\":2}", "3 {\"event_time\":3}"}));
  const std::string prefix = R"({"reason":"line_too_long","origin":")" + path + R"(","position":)";
  const std::string error = R"j(,"error":"line is longer than max_line_bytes (20)","raw":")j";
  const std::string long_raw = R"({\"event_time\":1,\"pad\":\")" + std::string(40, 'x') + R"(\"})";
  // The raw text of a huge line is its first 1024 bytes.
  const std::string huge_raw =
      R"({\"event_time\":1,\"pad\":\")" + std::string(1024 - 23, 'y');
  EXPECT_EQ(run.dead_letter, prefix + "2" + error + long_raw + "\"}\n" +  //
                                 prefix + "4" + error + huge_raw + "\"}\n" +  //
                                 prefix + "6" + error + long_raw + "\"}\n");
  EXPECT_EQ(run.bad(BadReason::kLineTooLong), 3u);
}

TEST(FileSourceJsonlTest, LineOfExactlyMaxBytesIsAccepted) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path, "{\"event_time\":1}\r\n{\"event_time\":2}\n{\"event_time\":3} \n");
  FileSourceOptions options = JsonlOptions(path);
  options.max_line_bytes = 16;
  SourceRun run = RunFileSource(dir, options);
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1}", "2 {\"event_time\":2}"}));
  EXPECT_EQ(run.bad(BadReason::kLineTooLong), 1u);
}

TEST(FileSourceJsonlTest, TwentyMegabyteLineIsTooLongByDefault) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  {
    std::ofstream f(path, std::ios::binary);
    f << "{\"event_time\":1}\n{\"event_time\":2,\"pad\":\"";
    const std::string chunk(1 << 20, 'z');
    for (int i = 0; i < 20; ++i) f << chunk;
    f << "\"}\n{\"event_time\":3}\n";
  }
  SourceRun run = RunFileSource(dir, JsonlOptions(path), RunConfig::Batch(100));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1}", "3 {\"event_time\":3}"}));
  EXPECT_EQ(run.dead_letter,
            R"({"reason":"line_too_long","origin":")" + path +
                R"j(","position":2,"error":"line is longer than max_line_bytes (16777216)","raw":"{\"event_time\":2,\"pad\":\")j" +
                std::string(1024 - 23, 'z') + "\"}\n");
  EXPECT_EQ(run.bytes_counted, std::filesystem::file_size(path));
}

TEST(FileSourceJsonlTest, FailStopsAtFirstBadRecord) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path, "{\"event_time\":1}\n{\"event_time\":2}\n{\"event_time\":1.5}\n[]\n");
  SourceRun run = RunFileSource(dir, JsonlOptions(path), RunConfig::Fail());
  EXPECT_EQ(run.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(run.status.message(),
            path + ":3: bad_event_time: time field 'event_time' is a float, not an RFC 3339 "
                   "string or integer epoch ms");
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1}", "2 {\"event_time\":2}"}));
  EXPECT_EQ(run.bad_total, 1u);
}

TEST(FileSourceJsonlTest, CustomTimeField) {
  TempDir dir;
  WriteFile(dir.file("in.jsonl"), "{\"ts\":\"1970-01-01T00:00:01Z\",\"event_time\":5}\n");
  SourceRun run = RunFileSource(dir, JsonlOptions(dir.file("in.jsonl"), "ts"));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1000 {\"ts\":\"1970-01-01T00:00:01Z\",\"event_time\":5}"}));
}

TEST(FileSourceJsonlTest, GlobReadsMatchingFilesInSortedOrder) {
  TempDir dir;
  WriteFile(dir.file("b.jsonl"), "{\"event_time\":2}\n{\"event_time\":22}\n");
  WriteFile(dir.file("a.jsonl"), "{\"event_time\":1}\nbad\n");
  WriteFile(dir.file("c.jsonl"), "{\"event_time\":3}");
  WriteFile(dir.file("other.txt"), "{\"event_time\":99}\n");
  std::filesystem::create_directory(dir.file("d.jsonl"));  // a directory is not an input
  SourceRun run = RunFileSource(dir, JsonlOptions(dir.file("*.jsonl")), RunConfig::Batch(2));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1}", "2 {\"event_time\":2}",
                                "22 {\"event_time\":22}", "3 {\"event_time\":3}"}));
  EXPECT_EQ(run.dead_letter,
            R"({"reason":"invalid_json","origin":")" + dir.file("a.jsonl") +
                R"(","position":2,"error":"The JSON document has an improper structure: missing or superfluous commas, braces, missing keys, etc.","raw":"bad"})"
                "\n");
}

TEST(FileSourceJsonlTest, GlobWithoutMatchIsNotFound) {
  TempDir dir;
  SourceRun run = RunFileSource(dir, JsonlOptions(dir.file("*.jsonl")));
  EXPECT_EQ(run.status.code(), StatusCode::kNotFound);
  EXPECT_EQ(run.status.message(), "no input file matches '" + dir.file("*.jsonl") + "'");
}

TEST(FileSourceJsonlTest, MissingFileIsNotFound) {
  TempDir dir;
  SourceRun run = RunFileSource(dir, JsonlOptions(dir.file("nope.jsonl")));
  EXPECT_EQ(run.status.code(), StatusCode::kNotFound);
  EXPECT_EQ(run.status.message(),
            "cannot open '" + dir.file("nope.jsonl") + "': No such file or directory");
}

TEST(FileSourceJsonlTest, DirectoryIsIOError) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("d"));
  SourceRun run = RunFileSource(dir, JsonlOptions(dir.file("d")));
  EXPECT_EQ(run.status.code(), StatusCode::kIOError);
  EXPECT_EQ(run.status.message(), "cannot read '" + dir.file("d") + "': it is a directory");
}

TEST(FileSourceJsonlTest, StdinThroughAPipe) {
  TempDir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string input = "{\"event_time\":1}\nnope\n{\"event_time\":2}";
  ASSERT_EQ(::write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
  ::close(fds[1]);
  const int saved_stdin = ::dup(STDIN_FILENO);
  ASSERT_GE(saved_stdin, 0);
  ASSERT_EQ(::dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
  ::close(fds[0]);
  SourceRun run = RunFileSource(dir, JsonlOptions("-"));
  ::dup2(saved_stdin, STDIN_FILENO);
  ::close(saved_stdin);
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1}", "2 {\"event_time\":2}"}));
  EXPECT_EQ(run.dead_letter,
            R"({"reason":"invalid_json","origin":"-","position":2,"error":"Problem while parsing an atom starting with the letter 'n'","raw":"nope"})"
            "\n");
  EXPECT_EQ(run.bytes_counted, input.size());
}

// Standard input replaced by the read end of a pipe while it lives; the test writes the rest.
class StdinPipe {
 public:
  StdinPipe() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    saved_ = ::dup(STDIN_FILENO);
    EXPECT_EQ(::dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    ::close(fds[0]);
    writer_ = fds[1];
  }
  ~StdinPipe() {
    CloseWriter();
    ::dup2(saved_, STDIN_FILENO);
    ::close(saved_);
  }
  void Write(std::string_view s) {
    EXPECT_EQ(::write(writer_, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  void CloseWriter() {
    if (writer_ >= 0) ::close(writer_);
    writer_ = -1;
  }

 private:
  int saved_ = -1;
  int writer_ = -1;
};

// Issue 22: records from a pipe on stdin move as they arrive, one at a time if they come one
// at a time, whatever the batch size, with or without decode threads; counters move with them.
// Each Read below returns the line just written while the pipe is still open.
TEST(FileSourceStdinTest, RecordsMoveAsTheyArrive) {
  for (const int decode_threads : {0, 2}) {
    SCOPED_TRACE(decode_threads);
    StdinPipe pipe;
    ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open({}));
    SourceCounters counters;
    std::atomic<bool> stop{false};
    FileSourceOptions options = JsonlOptions("-");
    options.decode_threads = decode_threads;
    std::unique_ptr<Source> source = FileSource(options);
    EXPECT_TRUE(source->Unbounded());
    EXPECT_EQ(source->AsCheckpointed(), nullptr);
    ASSERT_OK(source->Open(FollowContext(handler.get(), &counters, &stop, nullptr)));
    for (int i = 1; i <= 5; ++i) {
      // The second half of each line comes a moment after the first.
      pipe.Write("{\"event_time\":" + std::to_string(i));
      std::vector<Record> batch;
      std::thread later([&] {
        std::this_thread::sleep_for(5ms);
        pipe.Write(",\"i\":" + std::to_string(i) + "}\n");
      });
      ASSERT_OK_AND_ASSIGN(bool more, source->Read(4096, &batch));
      later.join();
      ASSERT_TRUE(more);
      ASSERT_EQ(batch.size(), 1u);
      EXPECT_EQ(batch[0].time, i);
      EXPECT_EQ(counters.records.load(), static_cast<uint64_t>(i));
    }
    pipe.Write("{\"event_time\":6}");  // a last line without newline, then the end
    pipe.CloseWriter();
    std::vector<Record> batch;
    bool more = true;
    for (int i = 0; i < 100 && more; ++i) {
      ASSERT_OK_AND_ASSIGN(more, source->Read(4096, &batch));
    }
    EXPECT_FALSE(more);
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_EQ(batch[0].time, 6);
    EXPECT_EQ(counters.records.load(), 6u);
    ASSERT_OK(source->Close());
  }
}

// While a pipe on stdin is idle, Read returns with nothing after one poll interval of the
// run's clock, so that the run sees time pass (checkpoints, idle timeouts, metrics).
TEST(FileSourceStdinTest, IdleStdinReturnsAfterAPollInterval) {
  StdinPipe pipe;
  ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open({}));
  SourceCounters counters;
  std::atomic<bool> stop{false};
  ManualClock clock;
  EnvWithClock env(clock);
  FileSourceOptions options = JsonlOptions("-");
  options.poll_interval_ms = 3'600'000;  // an hour of the manual clock
  std::unique_ptr<Source> source = FileSource(options);
  ASSERT_OK(source->Open(FollowContext(handler.get(), &counters, &stop, &env)));
  std::atomic<bool> returned{false};
  std::vector<Record> batch;
  Result<bool> result = Status::Internal("not returned");
  std::thread reader([&] {
    result = source->Read(10, &batch);
    returned = true;
  });
  std::this_thread::sleep_for(50ms);  // real time passes; the run's clock does not
  EXPECT_FALSE(returned.load());
  clock.Advance(std::chrono::hours(1));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!returned && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  stop = true;  // lets the reader out if it is still waiting (the test failed)
  reader.join();
  ASSERT_OK(result.status());
  EXPECT_TRUE(*result);
  EXPECT_TRUE(batch.empty());
  ASSERT_OK(source->Close());
}

TEST(FileSourceJsonlTest, StopEndsReading) {
  TempDir dir;
  WriteFile(dir.file("in.jsonl"), "{\"event_time\":1}\n{\"event_time\":2}\n");
  ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open({}));
  SourceCounters counters;
  std::atomic<bool> stop{true};
  std::unique_ptr<Source> source = FileSource(JsonlOptions(dir.file("in.jsonl")));
  ASSERT_OK(source->Open({handler.get(), &counters, &stop}));
  std::vector<Record> out;
  ASSERT_OK_AND_ASSIGN(bool more, source->Read(10, &out));
  EXPECT_FALSE(more);
  EXPECT_TRUE(out.empty());
  ASSERT_OK(source->Close());
}

// Reads `source` until `want` records arrived or the deadline passed.
void ReadUntil(Source* source, size_t want, std::vector<std::string>* got) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::vector<Record> batch;
  while (got->size() < want && std::chrono::steady_clock::now() < deadline) {
    batch.clear();
    Result<bool> more = source->Read(4, &batch);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    ASSERT_TRUE(*more);
    for (const Record& r : batch) got->push_back(r.value.ToJson());
  }
}

// The waits while following take processing time of the run's clock (simulated here, so the
// test does not wait for them): whole growth checks of 10 ms, and at least one.
TEST(FileSourceFollowTest, ReadsAppendedLinesUntilStopped) {
  TempDir dir;
  const std::string path = dir.file("grow.jsonl");
  WriteFile(path, "{\"event_time\":0}\n");
  ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open({}));
  SourceCounters counters;
  std::atomic<bool> stop{false};
  ManualClock clock;
  clock.SetSleep(ManualClock::Sleep::kAdvance);
  EnvWithClock env(clock);
  FileSourceOptions options = JsonlOptions(path);
  options.follow = true;
  options.poll_interval_ms = 100;
  ASSERT_OK(options.Validate());
  std::unique_ptr<Source> source = FileSource(options);
  ASSERT_OK(source->Open(FollowContext(handler.get(), &counters, &stop, &env)));

  std::thread writer([&] {
    std::ofstream f(path, std::ios::binary | std::ios::app);
    for (int i = 1; i <= 20; ++i) {
      // Write each line in two pieces so that the source sees partial lines.
      f << "{\"event_time\":" << i << ",";
      f.flush();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      f << "\"i\":" << i << "}\n";
      f.flush();
    }
    f << "{\"event_time\":21}";  // a last line without newline
    f.flush();
  });
  std::vector<std::string> got;
  ReadUntil(source.get(), 21, &got);
  writer.join();
  ASSERT_EQ(got.size(), 21u);
  EXPECT_EQ(got[0], "{\"event_time\":0}");
  EXPECT_EQ(got[20], "{\"event_time\":20,\"i\":20}");
  EXPECT_GT(clock.elapsed(), 0ms);
  EXPECT_EQ(clock.elapsed() % 10ms, 0ms);

  // The partial last line is held until stop, then becomes the final record.
  std::vector<Record> batch;
  ASSERT_OK_AND_ASSIGN(bool more, source->Read(4, &batch));
  EXPECT_TRUE(more);
  EXPECT_TRUE(batch.empty());
  stop = true;
  bool done = false;
  for (int i = 0; i < 10 && !done; ++i) {
    ASSERT_OK_AND_ASSIGN(more, source->Read(4, &batch));
    done = !more;
  }
  EXPECT_TRUE(done);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].time, 21);
  EXPECT_EQ(counters.records.load(), 22u);
  EXPECT_EQ(handler->total(), 0u);
  ASSERT_OK(source->Close());
}

// At the end of a followed file, Read waits one poll interval of the run's clock, however long
// that takes in real time, and returns (with nothing) right after it.
TEST(FileSourceFollowTest, WaitsOnePollIntervalOfTheRunsClock) {
  TempDir dir;
  const std::string path = dir.file("grow.jsonl");
  WriteFile(path, "{\"event_time\":1}\n");
  ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open({}));
  SourceCounters counters;
  std::atomic<bool> stop{false};
  ManualClock clock;
  EnvWithClock env(clock);
  FileSourceOptions options = JsonlOptions(path);
  options.follow = true;
  options.poll_interval_ms = 3'600'000;  // an hour: a real-time wait would never end here
  std::unique_ptr<Source> source = FileSource(options);
  ASSERT_OK(source->Open(FollowContext(handler.get(), &counters, &stop, &env)));
  std::vector<Record> first;
  ASSERT_OK_AND_ASSIGN(bool more, source->Read(4, &first));  // data: no wait
  ASSERT_TRUE(more);
  ASSERT_EQ(first.size(), 1u);

  std::atomic<bool> returned{false};
  std::vector<Record> batch;
  Result<bool> result = Status::Internal("not returned");
  std::thread reader([&] {
    result = source->Read(4, &batch);
    returned = true;
  });
  // Until `done`, for at most 10 s of real time; false if that passed.
  auto wait_until = [](const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  };
  // The reader waits on the run's clock: it looks at it again and again.
  const uint64_t sleeps = clock.sleeps();
  EXPECT_TRUE(wait_until([&] { return clock.sleeps() >= sleeps + 20 || returned; }));
  EXPECT_FALSE(returned.load());
  clock.Advance(std::chrono::hours(1) - 1ms);
  const uint64_t later = clock.sleeps();
  EXPECT_TRUE(wait_until([&] { return clock.sleeps() >= later + 20 || returned; }));
  EXPECT_FALSE(returned.load());
  clock.Advance(1ms);
  EXPECT_TRUE(wait_until([&] { return returned.load(); }));
  stop = true;  // lets the reader out if it is still waiting (the test failed)
  reader.join();
  ASSERT_OK(result.status());
  EXPECT_TRUE(*result);
  EXPECT_TRUE(batch.empty());
  ASSERT_OK(source->Close());
}

TEST(FileSourceFollowTest, TruncatedFileIsReadAgainFromTheStart) {
  TempDir dir;
  const std::string path = dir.file("grow.jsonl");
  WriteFile(path, "{\"event_time\":1}\n{\"event_time\":2}\n");
  ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open({}));
  SourceCounters counters;
  std::atomic<bool> stop{false};
  ManualClock clock;
  clock.SetSleep(ManualClock::Sleep::kAdvance);
  EnvWithClock env(clock);
  FileSourceOptions options = JsonlOptions(path);
  options.follow = true;
  std::unique_ptr<Source> source = FileSource(options);
  ASSERT_OK(source->Open(FollowContext(handler.get(), &counters, &stop, &env)));
  std::vector<std::string> got;
  ReadUntil(source.get(), 2, &got);
  ASSERT_EQ(got.size(), 2u);
  WriteFile(path, "{\"event_time\":7}\n");  // truncates, then writes a shorter file
  ReadUntil(source.get(), 3, &got);
  EXPECT_EQ(got, (Lines{"{\"event_time\":1}", "{\"event_time\":2}", "{\"event_time\":7}"}));
  EXPECT_EQ(clock.elapsed() % 10ms, 0ms);
  stop = true;
  std::vector<Record> batch;
  ASSERT_OK_AND_ASSIGN(bool more, source->Read(4, &batch));
  EXPECT_FALSE(more);
  ASSERT_OK(source->Close());
}

TEST(FileSourceOptionsTest, Validate) {
  FileSourceOptions o = JsonlOptions("in.jsonl");
  EXPECT_OK(o.Validate());
  o.path = "";
  EXPECT_EQ(o.Validate().message(), "file source: path is empty");
  o = JsonlOptions("in.jsonl", "");
  EXPECT_EQ(o.Validate().message(), "file source: time_field is empty");
  o = JsonlOptions("in.jsonl");
  o.max_line_bytes = 0;
  EXPECT_EQ(o.Validate().message(),
            "file source: max_line_bytes must be between 1 and 1073741824, got 0");
  o.max_line_bytes = (1u << 30) + 1;
  EXPECT_EQ(o.Validate().code(), StatusCode::kInvalidArgument);
  o.max_line_bytes = 1;
  EXPECT_OK(o.Validate());
  o = JsonlOptions("in.jsonl");
  o.poll_interval_ms = 0;
  EXPECT_EQ(o.Validate().message(), "file source: poll_interval_ms must be positive, got 0");
  o = JsonlOptions("data/*.jsonl");
  EXPECT_OK(o.Validate());
  o.follow = true;  // a glob is followed too (issue 22)
  EXPECT_OK(o.Validate());
  o.path = "-";
  EXPECT_EQ(o.Validate().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(o.Validate().message(),
            "file source: follow needs files, not stdin ('-'); standard input is read as it "
            "arrives without it");
  o.path = "in.jsonl";
  EXPECT_OK(o.Validate());
  o.rotate_wait_ms = -1;
  EXPECT_EQ(o.Validate().message(), "file source: rotate_wait_ms must not be negative, got -1");
}

TEST(FileSourceOptionsTest, Describe) {
  FileSourceOptions o = JsonlOptions("data/*.jsonl");
  EXPECT_EQ(FileSource(o)->Describe(),
            "file source jsonl 'data/*.jsonl' (time field 'event_time')");
  o.format = FileFormat::kCsv;
  o.path = "x.csv";
  o.time_field = "ts";
  o.follow = true;
  EXPECT_EQ(FileSource(o)->Describe(), "file source csv 'x.csv' (time field 'ts', follow)");
}

}  // namespace
}  // namespace pulse::io
