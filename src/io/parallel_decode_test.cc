// SPDX-License-Identifier: MIT
// Parallel decoding (decode_threads > 0) gives exactly what decoding on the reading thread
// gives: the same records in the same order, the same dead letters, counts and failures.
#include <gtest/gtest.h>

#include <string>

#include "io/file_source_test_util.h"

namespace pulse::io {
namespace {

using ::pulse::io::testing::JsonlOptions;
using ::pulse::io::testing::RunConfig;
using ::pulse::io::testing::RunFileSource;
using ::pulse::io::testing::SourceRun;
using ::pulse::testing::TempDir;
using ::pulse::testing::WriteFile;

// Many chunks' worth of lines (a chunk holds at most 8192 lines) with bad lines, blank lines
// and an over-long line spread through them.
std::string MixedJsonl(int lines, int salt) {
  std::string text;
  for (int i = 0; i < lines; ++i) {
    const int kind = (i * 7 + salt) % 101;
    if (kind == 0) {
      text += "{broken\n";
    } else if (kind == 1) {
      text += "[1,2]\n";
    } else if (kind == 2) {
      text += "{\"event_time\":1.5}\n";
    } else if (kind == 3) {
      text += "   \n";
    } else if (kind == 4) {
      text += "{\"event_time\":1,\"pad\":\"" + std::string(300, 'x') + "\"}\n";
    } else {
      text += "{\"event_time\":" + std::to_string(1000 + i) + ",\"k\":\"" +
              std::to_string(i % 13) + "\",\"i\":" + std::to_string(i) + "}\n";
    }
  }
  return text;
}

void ExpectSame(const SourceRun& a, const SourceRun& b) {
  EXPECT_EQ(a.status.ToString(), b.status.ToString());
  EXPECT_EQ(a.records, b.records);
  EXPECT_EQ(a.dead_letter, b.dead_letter);
  EXPECT_EQ(a.records_counted, b.records_counted);
  EXPECT_EQ(a.bytes_counted, b.bytes_counted);
  EXPECT_EQ(a.bad_by_reason, b.bad_by_reason);
}

TEST(ParallelDecode, JsonlGlobMatchesInline) {
  TempDir dir;
  WriteFile(dir.file("a.jsonl"), MixedJsonl(20000, 1));
  WriteFile(dir.file("b.jsonl"), "");
  WriteFile(dir.file("c.jsonl"), MixedJsonl(9000, 5));
  // "?" keeps the dead-letter file that RunFileSource writes beside them out of the glob.
  FileSourceOptions options = JsonlOptions(dir.file("?.jsonl"));
  options.max_line_bytes = 200;
  const SourceRun inline_run = RunFileSource(dir, options, RunConfig::Batch(1000));
  size_t blank = 0;  // blank lines give neither a record nor a bad record
  for (int i = 0; i < 20000; ++i) blank += (i * 7 + 1) % 101 == 3;
  for (int i = 0; i < 9000; ++i) blank += (i * 7 + 5) % 101 == 3;
  ASSERT_EQ(inline_run.records.size() + inline_run.bad_total, 29000u - blank);
  ASSERT_GT(inline_run.bad(BadReason::kLineTooLong), 100u);
  for (int threads : {1, 2, 3}) {
    for (size_t batch : {size_t{1}, size_t{777}, size_t{100000}}) {
      options.decode_threads = threads;
      ExpectSame(RunFileSource(dir, options, RunConfig::Batch(batch)), inline_run);
    }
  }
}

TEST(ParallelDecode, FailStopsAtTheSameRecord) {
  TempDir dir;
  WriteFile(dir.file("a.jsonl"), MixedJsonl(20000, 40));
  FileSourceOptions options = JsonlOptions(dir.file("a.jsonl"));
  RunConfig fail = RunConfig::Fail();
  fail.batch = 500;
  const SourceRun inline_run = RunFileSource(dir, options, fail);
  ASSERT_FALSE(inline_run.status.ok());
  options.decode_threads = 2;
  ExpectSame(RunFileSource(dir, options, fail), inline_run);
}

TEST(ParallelDecode, CsvWithHeadersPerFileMatchesInline) {
  TempDir dir;
  for (const char* name : {"a.csv", "b.csv"}) {
    std::string text = "\n\nevent_time,k,note\n";
    for (int i = 0; i < 12000; ++i) {
      if (i % 997 == 0) {
        text += "1,2\n";  // ragged
      } else if (i % 1009 == 0) {
        text += "\"a\nb\",x,\"quoted\nnewline\"\n";  // bad time, spans lines
      } else {
        text += std::to_string(5000 + i) + ",k" + std::to_string(i % 7) + ",\"n, " +
                std::to_string(i) + "\"\n";
      }
    }
    WriteFile(dir.file(name), text);
  }
  FileSourceOptions options = JsonlOptions(dir.file("*.csv"));
  options.format = FileFormat::kCsv;
  const SourceRun inline_run = RunFileSource(dir, options, RunConfig::Batch(1000));
  ASSERT_GT(inline_run.bad_total, 20u);
  options.decode_threads = 2;
  ExpectSame(RunFileSource(dir, options, RunConfig::Batch(999)), inline_run);
  RunConfig projected = RunConfig::Projection({"k"});
  options.decode_threads = 0;
  const SourceRun inline_projected = RunFileSource(dir, options, projected);
  options.decode_threads = 3;
  ExpectSame(RunFileSource(dir, options, projected), inline_projected);
}

}  // namespace
}  // namespace pulse::io
