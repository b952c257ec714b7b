// SPDX-License-Identifier: MIT
// Tests of a run's history: RunHistory's tiers (exact merging, bounded size, reading only what
// is new), BadRecordHandler's ring of recent records, and the executor filling a history on a
// ManualClock (a sample at the start, per second and at the end; the checkpoints of the run,
// a failed one included).
#include "pulse/core/run_history.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/core/executor.h"
#include "pulse/metrics/registry.h"
#include "testing/count_windows.h"
#include "testing/manual_clock.h"
#include "testing/scripted_connectors.h"
#include "testing/test_util.h"

namespace pulse {
namespace {

using namespace std::chrono_literals;
using testing::CountWindowsFactory;
using testing::Input;
using testing::ManualClock;
using testing::ScriptedSource;
using testing::SinkScript;
using testing::SinkTrace;
using testing::SourceScript;
using testing::TempDir;
using testing::TracingSink;
using testing::WaitUntil;

// Sample i: at i seconds, i·10 records in, i records out, open windows i mod 4.
RunSample At(int i) {
  RunSample s;
  s.unix_ms = i * 1000;
  s.records_in = static_cast<uint64_t>(i) * 10;
  s.records_out = static_cast<uint64_t>(i);
  s.watermark = i * 1000 - 500;
  s.newest_event = i * 1000;
  s.open_windows = static_cast<uint64_t>(i % 4);
  s.state_entries = static_cast<uint64_t>(i % 4);
  return s;
}

std::vector<int64_t> Times(const std::vector<RunSample>& samples) {
  std::vector<int64_t> t;
  for (const RunSample& s : samples) t.push_back(s.unix_ms / 1000);
  return t;
}

TEST(RunHistory, OptionsAreValidated) {
  auto code = [](std::vector<RunHistory::Tier> tiers) {
    return RunHistory::Options{std::move(tiers)}.Validate().code();
  };
  EXPECT_OK(RunHistory::Options{}.Validate());
  EXPECT_EQ(code({}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{1, 0}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{4, 1}, {4, 0}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{4, 5}, {4, 0}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{4, 4}, {2, 0}}), StatusCode::kOk);
}

// Tiers of 4 points (merged 2 at a time), 3 points (merged 3 at a time) and 4 points (halved
// when full): which samples survive, exactly.
TEST(RunHistory, OlderSamplesAreMergedTierByTier) {
  RunHistory history(RunHistory::Options{{{4, 2}, {3, 3}, {4, 0}}});
  for (int i = 1; i <= 4; ++i) history.Add(At(i));
  EXPECT_EQ(Times(history.Read().samples), (std::vector<int64_t>{1, 2, 3, 4}));
  history.Add(At(5));  // 1 and 2 merge into tier 1 as 2
  EXPECT_EQ(Times(history.Read().samples), (std::vector<int64_t>{2, 3, 4, 5}));
  for (int i = 6; i <= 9; ++i) history.Add(At(i));
  EXPECT_EQ(Times(history.Read().samples), (std::vector<int64_t>{2, 4, 6, 7, 8, 9}));
  history.Add(At(10));
  history.Add(At(11));  // 7 and 8 merge as 8; tier 1 is over 3: 2, 4, 6 merge into tier 2 as 6
  EXPECT_EQ(Times(history.Read().samples), (std::vector<int64_t>{6, 8, 9, 10, 11}));
  for (int i = 12; i <= 40; ++i) history.Add(At(i));
  const RunHistory::View view = history.Read();
  EXPECT_EQ(view.sequence, 40u);
  EXPECT_TRUE(view.full);
  // Every pair added to tier 1 at 2k, every third of those to tier 2 at 6k; tier 2 holds
  // 6, 12, 18, 24, 30 until the fifth point halves it to 12, 24, 30.
  EXPECT_EQ(Times(view.samples), (std::vector<int64_t>{12, 24, 30, 32, 34, 36, 37, 38, 39, 40}));
  EXPECT_EQ(history.size(), 10u);
  // A merged point has the newest sample's totals and watermarks, the largest gauges.
  const RunSample& merged = view.samples[0];
  EXPECT_EQ(merged.records_in, 120u);
  EXPECT_EQ(merged.records_out, 12u);
  EXPECT_EQ(merged.watermark, 11'500);
  EXPECT_EQ(merged.newest_event, 12'000);
  EXPECT_EQ(merged.open_windows, 3u);  // 12 mod 4 is 0, but 7 .. 11 had 3
  EXPECT_EQ(view.samples.back().open_windows, 0u);
}

TEST(RunHistory, MemoryStaysBoundedOverAWeek) {
  RunHistory history;
  constexpr int kWeek = 7 * 24 * 3600;
  for (int i = 1; i <= kWeek; ++i) history.Add(At(i));
  EXPECT_LE(history.size(), 3600u + 360 + 1380 + 1000);
  const RunHistory::View view = history.Read();
  // The last hour at full resolution, and the whole run covered.
  ASSERT_GE(view.samples.size(), 3600u);
  for (size_t i = view.samples.size() - 3600; i < view.samples.size(); ++i) {
    EXPECT_EQ(view.samples[i].unix_ms, (kWeek - 3600 + 1 + static_cast<int64_t>(
                                            i - (view.samples.size() - 3600))) * 1000);
  }
  EXPECT_LE(view.samples.front().unix_ms, 24 * 3600 * 1000);
  for (size_t i = 1; i < view.samples.size(); ++i) {
    ASSERT_LT(view.samples[i - 1].unix_ms, view.samples[i].unix_ms) << i;
  }
}

TEST(RunHistory, ReadAfterASequenceReturnsOnlyNewSamples) {
  RunHistory history(RunHistory::Options{{{4, 2}, {4, 0}}});
  history.Add(At(1));
  history.Add(At(2));
  RunHistory::View view = history.Read();
  EXPECT_EQ(view.sequence, 2u);
  history.Add(At(3));
  view = history.Read(view.sequence);
  EXPECT_FALSE(view.full);
  EXPECT_EQ(Times(view.samples), (std::vector<int64_t>{3}));
  view = history.Read(view.sequence);
  EXPECT_FALSE(view.full);
  EXPECT_TRUE(view.samples.empty());
  for (int i = 4; i <= 9; ++i) history.Add(At(i));
  // Six new samples, but only four are still at full resolution: everything.
  view = history.Read(3);
  EXPECT_TRUE(view.full);
  EXPECT_EQ(Times(view.samples), (std::vector<int64_t>{2, 4, 6, 7, 8, 9}));
  EXPECT_TRUE(history.Read(5).full);
  EXPECT_EQ(Times(history.Read(6).samples), (std::vector<int64_t>{7, 8, 9}));
  EXPECT_TRUE(history.Read(10).full);  // a sequence from elsewhere
}

TEST(BadRecordHandlerRecent, KeepsTheLastTwentyWithTruncatedRawText) {
  ManualClock clock(1'704'067'200'000);
  EnvWithClock env(clock);
  BadRecordHandler::Options options;
  options.env = &env;
  ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open(options));
  EXPECT_TRUE(handler->Recent().empty());
  for (int i = 1; i <= 25; ++i) {
    clock.Advance(1s);
    const std::string raw = "line " + std::to_string(i);
    ASSERT_OK(handler->Report({BadReason::kInvalidJson, "in.jsonl", static_cast<uint64_t>(i),
                               raw, "not JSON"}));
  }
  handler->Count(BadReason::kLate, 3);  // no text: not kept
  std::vector<RecentBadRecord> recent = handler->Recent();
  ASSERT_EQ(recent.size(), BadRecordHandler::kRecentRecords);
  EXPECT_EQ(recent.front().number, 6u);
  EXPECT_EQ(recent.front().position, 6u);
  EXPECT_EQ(recent.front().raw, "line 6");
  EXPECT_EQ(recent.front().unix_ms, 1'704'067'206'000);
  EXPECT_EQ(recent.back().number, 25u);
  EXPECT_EQ(recent.back().origin, "in.jsonl");
  EXPECT_EQ(recent.back().error, "not JSON");
  EXPECT_EQ(recent.back().reason, BadReason::kInvalidJson);
  EXPECT_FALSE(recent.back().raw_truncated);

  // 199 ASCII bytes, then "é" (2 bytes) across the 200-byte cut: cut before it. Invalid UTF-8
  // becomes U+FFFD.
  const std::string long_raw = std::string(199, 'x') + "\xC3\xA9" + std::string(50, 'y');
  ASSERT_OK(handler->Report({BadReason::kLineTooLong, "-", 26, long_raw, "too long"}));
  ASSERT_OK(handler->Report({BadReason::kInvalidUtf8, "t/0", 27, "a\xFF" "b", "bad bytes"}));
  recent = handler->Recent();
  EXPECT_EQ(recent[18].raw, std::string(199, 'x'));
  EXPECT_TRUE(recent[18].raw_truncated);
  EXPECT_EQ(recent[19].raw, "a\xEF\xBF\xBD" "b");
  EXPECT_FALSE(recent[19].raw_truncated);
  EXPECT_EQ(recent[19].origin, "t/0");
  EXPECT_EQ(recent[19].number, 27u);
}

// A whole run on a ManualClock (40 records, read 10 at a time: the fourth read ends the input):
// the source waits in its reads 2..4 until the previous checkpoint counted as committed (or
// failed), moves the clock a second and waits for the monitor's sample, so every
// sample and checkpoint is at a known time.
struct HistoryRun {
  static constexpr int64_t kStartMs = 1'704'067'200'000;
  ManualClock clock{kStartMs};
  EnvWithClock env{clock};
  std::atomic<uint64_t> reads{0};
  SinkTrace trace;
  RunHistory history;
  metrics::Registry registry;
  TempDir dir;

  double Metric(std::string_view name) const {
    for (const metrics::FamilySnapshot& f : registry.Collect()) {
      if (f.name == name && !f.samples.empty()) return f.samples[0].value;
    }
    return 0;
  }

  Result<RunProgress> Run(SinkScript sink = {}) {
    SourceScript script;
    script.before_read = [this](uint64_t read) {
      if (read < 2 || read > 4) return;
      WaitUntil(
          [&] {
            return Metric("pulse_checkpoints_total") + 2 >= static_cast<double>(read) ||
                   Metric("pulse_checkpoint_failures_total") > 0;
          },
          10s);
      clock.Advance(1s);
      WaitUntil([&] { return history.Read().sequence >= read; }, 10s);
    };
    Pipeline p;
    p.From(std::make_unique<ScriptedSource>(Input(40, 4), 10, &reads, std::move(script)))
        .Watermarks({DurationMs{0}})
        .KeyBy("k")
        .Apply(std::make_unique<CountWindowsFactory>(testing::CountWindowsOptions{}))
        .To(std::make_unique<TracingSink>(&trace, std::move(sink)));
    RunOptions options;
    options.env = &env;
    options.workers = 2;
    options.batch_size = 10;
    options.history = &history;
    options.metrics = &registry;
    options.checkpoint.dir = dir.file("chk");
    options.checkpoint.interval_ms = 1000;
    return pulse::Run(std::move(p), options);
  }
};

TEST(RunHistoryOfARun, SamplesAtStartEverySecondAndAtTheEndWithTheCheckpoints) {
  HistoryRun run;
  ASSERT_OK_AND_ASSIGN(RunProgress progress, run.Run());
  const RunHistory::View view = run.history.Read();
  ASSERT_EQ(view.samples.size(), 5u);
  const int64_t t0 = HistoryRun::kStartMs;
  std::vector<int64_t> times;
  std::vector<uint64_t> in;
  for (const RunSample& s : view.samples) {
    times.push_back(s.unix_ms - t0);
    in.push_back(s.records_in);
  }
  EXPECT_EQ(times, (std::vector<int64_t>{0, 1000, 2000, 3000, 3000}));
  EXPECT_EQ(in, (std::vector<uint64_t>{0, 10, 20, 30, 40}));
  const RunSample& first = view.samples.front();
  EXPECT_EQ(first.records_out, 0u);
  EXPECT_EQ(first.watermark, kMinWatermark);
  EXPECT_EQ(first.newest_event, kMinWatermark);
  const RunSample& last = view.samples.back();
  EXPECT_EQ(last.records_out, progress.results_written);
  EXPECT_EQ(last.records_out, 16u);  // 4 windows of 100 ms × 4 keys
  EXPECT_EQ(last.watermark, kMaxWatermark);
  EXPECT_EQ(last.newest_event, 390);
  EXPECT_EQ(last.open_windows, 0u);
  EXPECT_EQ(last.late, 0u);
  EXPECT_EQ(last.bad, 0u);

  // A checkpoint after each batch that followed a second; the last one (the fourth read
  // ends the input) is the final checkpoint.
  ASSERT_EQ(view.checkpoints.size(), 3u);
  EXPECT_EQ(view.checkpoints_committed, 3u);
  EXPECT_EQ(view.checkpoints_failed, 0u);
  const std::vector<int64_t> started = {1000, 2000, 3000};
  for (size_t i = 0; i < 3; ++i) {
    const CheckpointRecord& c = view.checkpoints[i];
    EXPECT_EQ(c.id, i + 1);
    EXPECT_EQ(c.started_unix_ms - t0, started[i]) << i;
    EXPECT_EQ(c.duration_ms, 0) << i;  // the clock stands still while it is taken
    EXPECT_GT(c.bytes, 0u) << i;
    EXPECT_FALSE(c.failed);
    EXPECT_EQ(c.error, "");
  }
}

TEST(RunHistoryOfARun, AFailedCheckpointIsInTheFinalSample) {
  HistoryRun run;
  SinkScript sink;
  sink.fail_on_commit = 2;
  Result<RunProgress> progress = run.Run(std::move(sink));
  ASSERT_FALSE(progress.ok());
  const RunHistory::View view = run.history.Read();
  ASSERT_EQ(view.checkpoints.size(), 2u);
  EXPECT_EQ(view.checkpoints_committed, 1u);
  EXPECT_EQ(view.checkpoints_failed, 1u);
  EXPECT_FALSE(view.checkpoints[0].failed);
  const CheckpointRecord& failed = view.checkpoints[1];
  EXPECT_EQ(failed.id, 2u);
  EXPECT_TRUE(failed.failed);
  EXPECT_EQ(failed.bytes, 0u);
  EXPECT_EQ(failed.error, progress.status().message());
  EXPECT_EQ(failed.started_unix_ms - HistoryRun::kStartMs, 2000);
  // The source had moved on to the next second; the sample after the run is the last one.
  ASSERT_EQ(view.samples.size(), 5u);
  EXPECT_EQ(view.samples.back().unix_ms - HistoryRun::kStartMs, 3000);
}

}  // namespace
}  // namespace pulse
