// SPDX-License-Identifier: MIT
// Tests for the run summary and progress line texts.
#include "cli/summary.h"

#include <gtest/gtest.h>

#include "pulse/core/bad_record.h"

namespace pulse::cli {
namespace {

void SetBad(RunProgress* p, BadReason reason, uint64_t n) { p->bad[static_cast<int>(reason)] = n; }

TEST(SummaryTest, FormatBytes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(999), "999 B");
  EXPECT_EQ(FormatBytes(1000), "1.0 KB");
  EXPECT_EQ(FormatBytes(62'100), "62.1 KB");
  EXPECT_EQ(FormatBytes(3'400'000), "3.4 MB");
  EXPECT_EQ(FormatBytes(1'250'000'000), "1.2 GB");
  EXPECT_EQ(FormatBytes(7'000'000'000'000), "7.0 TB");
}

TEST(SummaryTest, CleanRun) {
  RunProgress p;
  p.records_read = 3;
  p.bytes_read = 147;
  p.results_written = 2;
  p.seconds = 0.004;
  EXPECT_EQ(FormatSummary(p),
            "pulse: read 3 records (147 B) in 0.00 s; wrote 2 results; bad 0; late 0");
}

TEST(SummaryTest, BadReasonsInReasonOrderOnlyWhenNonZero) {
  RunProgress p;
  p.records_read = 1000;
  p.bytes_read = 62'100;
  p.results_written = 9;
  p.seconds = 0.04;
  SetBad(&p, BadReason::kInvalidJson, 1);
  SetBad(&p, BadReason::kBadEventTime, 1);
  SetBad(&p, BadReason::kLate, 3);
  EXPECT_EQ(FormatSummary(p),
            "pulse: read 1000 records (62.1 KB) in 0.04 s; wrote 9 results; bad 2 "
            "(bad_event_time 1, invalid_json 1); late 3");
}

TEST(SummaryTest, DroppedAndCancelled) {
  RunProgress p;
  p.records_read = 10;
  p.bytes_read = 2000;
  p.results_written = 1;
  p.seconds = 1.5;
  SetBad(&p, BadReason::kLineTooLong, 4);
  SetBad(&p, BadReason::kChannelFull, 5);
  p.cancelled = true;
  EXPECT_EQ(FormatSummary(p),
            "pulse: read 10 records (2.0 KB) in 1.50 s; wrote 1 results; bad 4 "
            "(line_too_long 4); late 0; dropped 5 (channel_full); cancelled");
}

TEST(SummaryTest, Progress) {
  RunProgress p;
  p.records_read = 1'200'000;
  p.bytes_read = 90'600'000;
  p.results_written = 12;
  p.seconds = 2.0;
  p.watermark = 1704067240000;
  EXPECT_EQ(FormatProgress(p),
            "pulse: 1200000 records, 45.3 MB/s, 12 results, watermark 2024-01-01T00:00:40.000Z");
  p.watermark = kMinWatermark;
  p.seconds = 0;
  EXPECT_EQ(FormatProgress(p), "pulse: 1200000 records, 0.0 MB/s, 12 results, watermark -inf");
  p.idle = true;
  EXPECT_EQ(FormatProgress(p),
            "pulse: 1200000 records, 0.0 MB/s, 12 results, watermark -inf (input idle)");
}

// What a stop did, by how the run ended (issue 22).
TEST(SummaryTest, Stop) {
  RunProgress p;
  p.results_written = 21;
  p.open_windows = 9;
  EXPECT_EQ(FormatStop(p, "SIGINT"), "");  // not stopped
  p.cancelled = true;
  p.end = RunEnd::kSuspended;
  EXPECT_EQ(FormatStop(p, "SIGTERM"),
            "pulse: stopped by SIGTERM: the final checkpoint keeps 9 open windows; the output "
            "stays in progress and the next run continues it");
  p.end = RunEnd::kStopped;
  EXPECT_EQ(FormatStop(p, "SIGINT"),
            "pulse: stopped by SIGINT without checkpoints: 9 open windows discarded; the output "
            "holds the 21 results of the windows closed before the stop (--drain closes and "
            "writes the open ones too, checkpoints keep them for the next run)");
  p.end = RunEnd::kDiscarded;
  EXPECT_EQ(FormatStop(p, "SIGINT"),
            "pulse: stopped by SIGINT before the end of the input, without checkpoints: 9 open "
            "windows discarded and the output not published, as it would be partial (a file "
            "sink leaves no file; 21 results were written before the stop); --drain closes "
            "and publishes every window, checkpoints let the next run continue");
  p.open_windows = 1;
  p.results_written = 1;
  EXPECT_NE(FormatStop(p, "SIGINT").find("1 open window discarded"), std::string::npos);
  EXPECT_NE(FormatStop(p, "SIGINT").find("leaves no file; 1 result was written"), std::string::npos);
  p.end = RunEnd::kDrained;
  p.open_windows = 0;
  EXPECT_EQ(FormatStop(p, "SIGINT"),
            "pulse: stopped by SIGINT and drained: every window closed and written; the output "
            "is published");
}

}  // namespace
}  // namespace pulse::cli
