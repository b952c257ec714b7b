// SPDX-License-Identifier: MIT
// Whole runs over an unbounded in-memory source (FeedSource) with a ManualClock: the idle
// watermark (Pipeline::Idleness) and the two ways a stop ends a run (StopMode), with and
// without checkpoints.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "pulse/core/executor.h"
#include "pulse/core/json.h"
#include "pulse/metrics/registry.h"
#include "testing/count_windows.h"
#include "testing/feed_source.h"
#include "testing/manual_clock.h"
#include "testing/scripted_connectors.h"
#include "testing/test_util.h"

namespace pulse {
namespace {

using namespace std::chrono_literals;
using testing::CountWindowsFactory;
using testing::CountWindowsOptions;
using testing::Feed;
using testing::FeedSource;
using testing::KeyedJournal;
using testing::ManualClock;
using testing::SinkTrace;
using testing::TempDir;
using testing::TracingSink;
using testing::WaitUntil;

constexpr DurationMs kBound = 200;
constexpr DurationMs kWindow = 100;  // CountWindows' tumbling size

// Records with these event times, key "k<i mod 3>" for the i-th.
std::vector<Record> At(const std::vector<EventTime>& times, int first_index = 0) {
  std::vector<Record> out;
  for (size_t i = 0; i < times.size(); ++i) {
    std::string key = "k";
    key += std::to_string((first_index + static_cast<int>(i)) % 3);
    Object o;
    o.emplace_back("k", Value(std::move(key)));
    out.push_back(Record{times[i], Value(std::move(o))});
  }
  return out;
}

// Event times 0, 10, ..., 10·(n−1).
std::vector<EventTime> Every10ms(int n, EventTime from = 0) {
  std::vector<EventTime> t;
  for (int i = 0; i < n; ++i) t.push_back(from + 10 * i);
  return t;
}

// The lines CountWindows writes for `records` when every window closes, in output order:
// {"key", "start", "end", "count"} ordered by (end, start, key text).
std::vector<std::string> AllWindows(const std::vector<Record>& records) {
  std::map<std::tuple<EventTime, std::string>, int64_t> counts;
  for (const Record& r : records) {
    const EventTime start = r.time - r.time % kWindow;
    ++counts[{start + kWindow, r.value.Find("k")->as_string()}];
  }
  std::vector<std::string> lines;
  for (const auto& [window, count] : counts) {
    const auto& [end, key] = window;
    Object o;
    o.emplace_back("key", Value("\"" + key + "\""));
    o.emplace_back("start", Value(end - kWindow));
    o.emplace_back("end", Value(end));
    o.emplace_back("count", Value(count));
    lines.push_back(Value(std::move(o)).ToJson());
  }
  return lines;
}

// Those of `lines` whose window ends at or before `watermark`.
std::vector<std::string> EndingBy(const std::vector<std::string>& lines, EventTime watermark) {
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    Result<Value> v = ParseJson(line);
    if (v.ok() && v->Find("end")->as_int() <= watermark) out.push_back(line);
  }
  return out;
}

// One run over a Feed on its own thread, with a ManualClock as the run's clock.
struct FeedRun {
  /// `shared`: the sink's trace (as a file, kept from run to run); null: the run's own.
  explicit FeedRun(SinkTrace* shared = nullptr) : trace(shared != nullptr ? *shared : own_trace) {}

  ManualClock clock;
  EnvWithClock env{clock};
  Feed feed;
  SinkTrace own_trace;
  SinkTrace& trace;
  KeyedJournal journal;
  metrics::Registry registry;
  std::mutex warnings_mu;
  std::vector<std::string> warnings;  // guarded by warnings_mu
  std::atomic<bool> stop{false};
  bool unbounded = true;  // FeedSource's Unbounded(), read by Start
  std::optional<Result<RunProgress>> result;
  std::thread thread;

  // FeedSource → bound kBound [→ idleness] → key "k" → CountWindows → TracingSink.
  void Start(int workers, size_t batch_size, std::optional<DurationMs> idle,
             StopMode on_stop = StopMode::kLeaveOpen, const std::string& checkpoints = "") {
    CountWindowsOptions windows;
    windows.size = kWindow;
    windows.journal = &journal;
    Pipeline p;
    p.From(std::make_unique<FeedSource>(&feed, unbounded)).Watermarks({kBound});
    if (idle) p.Idleness(*idle);
    p.KeyBy("k")
        .Apply(std::make_unique<CountWindowsFactory>(windows))
        .To(std::make_unique<TracingSink>(&trace));
    RunOptions options;
    options.env = &env;
    options.workers = workers;
    options.batch_size = batch_size;
    options.stop = &stop;
    options.on_stop = on_stop;
    options.checkpoint.dir = checkpoints;
    options.metrics = &registry;
    options.checkpoint.on_warning = [this](std::string_view w) {
      std::lock_guard<std::mutex> lock(warnings_mu);
      warnings.emplace_back(w);
    };
    thread = std::thread([this, p = std::move(p), options]() mutable {
      result = pulse::Run(std::move(p), options);
    });
  }

  // Feed `records` and wait until the source stage has processed them (it reads again).
  void Push(std::vector<Record> records) {
    const uint64_t target = feed.delivered() + records.size();
    feed.Push(std::move(records));
    EXPECT_TRUE(WaitUntil([&] { return feed.delivered() == target && feed.empty_reads() >= 1; }));
  }

  // Move the clock and wait until the source stage has looked at it (two more reads).
  void Advance(std::chrono::milliseconds d) {
    clock.Advance(d);
    const uint64_t reads = feed.empty_reads();
    EXPECT_TRUE(WaitUntil([&] { return feed.empty_reads() >= reads + 2; }));
  }

  // Wait until the sink has written `n` lines.
  void WaitForLines(size_t n) {
    EXPECT_TRUE(WaitUntil([&] { return trace.lines().size() >= n; }))
        << trace.lines().size() << " lines, expected " << n;
  }

  // The run's pulse_source_idle gauge (NaN if absent).
  double IdleGauge() {
    for (const metrics::FamilySnapshot& f : registry.Collect()) {
      if (f.name != kSourceIdleMetric) continue;
      if (const metrics::SampleSnapshot* sample = f.Find({"source"})) return sample->value;
    }
    return std::nan("");
  }

  RunProgress Join() {
    thread.join();
    EXPECT_TRUE(result.has_value() && result->ok())
        << (result.has_value() ? result->status().ToString() : "no result");
    return result.has_value() && result->ok() ? **result : RunProgress{};
  }

  ~FeedRun() {
    if (thread.joinable()) {
      feed.End();
      stop = true;
      thread.join();
    }
  }
};

// --- Idleness --------------------------------------------------------------------------------

class IdleWatermark : public ::testing::TestWithParam<std::tuple<int, size_t>> {};

// A burst up to event time 990 (W = 790), then a pause. With an idle timeout of 100 ms the
// watermark stays at 790 for 99 ms, becomes 790 + 100 at 100 ms of silence and then follows
// the clock, so the burst's last windows close one by one while the input is still open; a
// record behind that watermark is late, and W never goes back.
TEST_P(IdleWatermark, TheLastWindowsCloseAfterTheTimeoutAndNotBefore) {
  const auto [workers, batch_size] = GetParam();
  FeedRun run;
  run.Start(workers, batch_size, /*idle=*/100);
  const std::vector<Record> burst = At(Every10ms(100));
  const std::vector<std::string> windows = AllWindows(burst);
  run.Push(burst);
  run.WaitForLines(EndingBy(windows, 790).size());

  run.Advance(99ms);  // 99 ms of silence: nothing moves
  EXPECT_EQ(run.IdleGauge(), 0);
  run.Advance(1ms);  // 100 ms: W = 790 + 100
  EXPECT_EQ(run.IdleGauge(), 1);
  run.WaitForLines(EndingBy(windows, 890).size());
  EXPECT_EQ(run.trace.lines(), EndingBy(windows, 890));
  run.Advance(10ms);  // W = 900
  run.WaitForLines(EndingBy(windows, 900).size());
  run.Advance(100ms);  // W = 1000: every window of the burst has closed
  run.WaitForLines(windows.size());
  EXPECT_EQ(run.trace.lines(), windows);

  // Late for the watermark the pause gave (its window ended at 900 <= 1000).
  run.Push(At({850}, 100));
  EXPECT_EQ(run.IdleGauge(), 0);  // a record arrived
  // A record of a new burst: W = max(1000, 2000 − 200).
  run.Push(At({2000}, 101));
  run.feed.End();
  const RunProgress progress = run.Join();
  EXPECT_EQ(progress.end, RunEnd::kInputEnded);
  EXPECT_EQ(progress.bad[static_cast<int>(BadReason::kLate)], 1u);
  std::vector<std::string> expected = windows;
  for (const std::string& line : AllWindows(At({2000}, 101))) expected.push_back(line);
  EXPECT_EQ(run.trace.lines(), expected);

  for (int w = 0; w < workers; ++w) {
    const std::vector<EventTime> seen = run.journal.watermarks(w);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << "worker " << w;
    // Nothing between the records' watermark and the first idle step: no window closed early.
    EXPECT_EQ(std::count_if(seen.begin(), seen.end(),
                            [](EventTime t) { return t > 790 && t < 890; }),
              0)
        << "worker " << w;
    for (EventTime idle : {890, 900, 1000, 1800}) {
      EXPECT_NE(std::find(seen.begin(), seen.end(), idle), seen.end())
          << "worker " << w << " never saw watermark " << idle;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(WorkersAndBatches, IdleWatermark,
                         ::testing::Combine(::testing::Values(1, 3),
                                            ::testing::Values(size_t{7}, size_t{4096})));

// Without Idleness a pause of an hour closes nothing: W moves only with records.
TEST(IdleWatermarkOff, APauseClosesNothing) {
  FeedRun run;
  run.Start(2, 4096, std::nullopt);
  const std::vector<Record> burst = At(Every10ms(100));
  run.Push(burst);
  const std::vector<std::string> windows = AllWindows(burst);
  run.WaitForLines(EndingBy(windows, 790).size());
  const size_t batches = run.journal.watermarks(0).size();
  run.Advance(3'600'000ms);
  run.Advance(1ms);
  EXPECT_EQ(run.journal.watermarks(0).size(), batches);  // no batch went out
  EXPECT_EQ(run.trace.lines(), EndingBy(windows, 790));
  run.feed.End();
  EXPECT_EQ(run.Join().end, RunEnd::kInputEnded);
  EXPECT_EQ(run.trace.lines(), windows);
}

// The idle clock starts when reading does, and before any record there is nothing to advance
// from: a fresh run that reads nothing keeps W at −∞.
TEST(IdleWatermarkStart, NoRecordNoIdleWatermark) {
  FeedRun run;
  run.Start(1, 4096, /*idle=*/100);
  run.Advance(1000ms);
  run.Advance(1000ms);
  EXPECT_TRUE(run.journal.watermarks(0).empty());
  run.feed.End();
  run.Join();
}

TEST(IdleWatermarkValidate, NeedsABoundAndAPositiveTimeout) {
  std::vector<std::string> lines;
  Pipeline no_bound;
  no_bound.From(std::make_unique<testing::VectorSource>(std::vector<Record>{}))
      .Idleness(100)
      .To(std::make_unique<testing::CollectingSink>(&lines));
  EXPECT_EQ(no_bound.Validate().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_bound.Validate().message().find("needs max_out_of_orderness"), std::string::npos);
  Pipeline zero;
  zero.From(std::make_unique<testing::VectorSource>(std::vector<Record>{}))
      .Watermarks({0})
      .Idleness(0)
      .To(std::make_unique<testing::CollectingSink>(&lines));
  EXPECT_EQ(zero.Validate().code(), StatusCode::kInvalidArgument);
}

// --- Stopping --------------------------------------------------------------------------------

class StopModes : public ::testing::TestWithParam<int> {};

// The records of part one end at 990 (W = 790: windows up to 700 written); part two goes on
// from 1000. A run over both parts that is never stopped gives `Uninterrupted`.
std::vector<Record> PartOne() { return At(Every10ms(100)); }
std::vector<Record> PartTwo() { return At(Every10ms(100, 1000), 100); }

std::vector<std::string> Uninterrupted() {
  std::vector<Record> all = PartOne();
  for (Record& r : PartTwo()) all.push_back(std::move(r));
  return AllWindows(all);
}

// Stop-with-savepoint: the stop takes a final checkpoint that keeps the open windows and
// suspends the sink; the next run continues, and the two together write exactly what an
// uninterrupted run writes.
TEST_P(StopModes, LeaveOpenWithCheckpointsThenResumeEqualsAnUninterruptedRun) {
  const int workers = GetParam();
  TempDir dir;
  SinkTrace trace;  // the output both runs write, as a file keeps it
  {
    FeedRun first(&trace);
    first.Start(workers, 16, std::nullopt, StopMode::kLeaveOpen, dir.file("chk"));
    first.Push(PartOne());
    first.WaitForLines(EndingBy(AllWindows(PartOne()), 790).size());
    first.stop = true;
    const RunProgress p = first.Join();
    EXPECT_EQ(p.end, RunEnd::kSuspended);
    EXPECT_TRUE(p.cancelled);
    EXPECT_EQ(p.open_windows, 9u);  // ends 800, 900, 1000 for three keys
    EXPECT_EQ(first.trace.count("suspend"), 1u);
    EXPECT_EQ(first.trace.count("close"), 0u);
    EXPECT_EQ(first.trace.count("abort"), 0u);
    EXPECT_EQ(first.trace.lines(), EndingBy(AllWindows(PartOne()), 790));
  }
  FeedRun second(&trace);
  second.Start(workers == 1 ? 3 : 1, 16, std::nullopt, StopMode::kLeaveOpen, dir.file("chk"));
  second.feed.Push(PartOne());  // the same input from the start; the checkpoint skips part one
  second.Push(PartTwo());
  second.feed.End();
  const RunProgress p = second.Join();
  EXPECT_EQ(p.end, RunEnd::kInputEnded);
  ASSERT_TRUE(p.resumed_from.has_value());
  EXPECT_EQ(trace.count("recover"), 2u);
  EXPECT_EQ(trace.count("close"), 1u);
  EXPECT_EQ(trace.lines(), Uninterrupted());
}

// Drain: the stop ends the input where it is, every window closes, the output is published:
// exactly a finished run over the records read so far.
TEST_P(StopModes, DrainEqualsARunOverWhatWasReadWithEveryWindowClosed) {
  const int workers = GetParam();
  for (const bool checkpoints : {false, true}) {
    SCOPED_TRACE(checkpoints ? "with checkpoints" : "without checkpoints");
    TempDir dir;
    FeedRun run;
    run.Start(workers, 16, std::nullopt, StopMode::kDrain, checkpoints ? dir.file("chk") : "");
    run.Push(PartOne());
    run.WaitForLines(EndingBy(AllWindows(PartOne()), 790).size());
    run.stop = true;
    const RunProgress p = run.Join();
    EXPECT_EQ(p.end, RunEnd::kDrained);
    EXPECT_TRUE(p.cancelled);
    EXPECT_EQ(p.open_windows, 0u);
    EXPECT_EQ(run.trace.lines(), AllWindows(PartOne()));
    EXPECT_EQ(run.trace.count("close"), 1u);
    EXPECT_EQ(run.trace.count("suspend"), 0u);
    EXPECT_EQ(run.trace.watermarks().back(), kMaxWatermark);
    if (!checkpoints) continue;
    // The final checkpoint is an end-of-input one: a run that resumes from it is warned that
    // whatever it reads is late.
    FeedRun again;
    again.Start(workers, 16, std::nullopt, StopMode::kDrain, dir.file("chk"));
    again.feed.Push(PartOne());  // skipped: the checkpoint is after it
    again.Push(PartTwo());
    again.feed.End();
    const RunProgress late = again.Join();
    EXPECT_EQ(late.bad[static_cast<int>(BadReason::kLate)], PartTwo().size());
    ASSERT_EQ(again.warnings.size(), 1u);
    EXPECT_NE(again.warnings[0].find("any record read now is late; run with --fresh"),
              std::string::npos)
        << again.warnings[0];
  }
}

// Without checkpoints a stop that leaves windows open cannot keep them: they are discarded.
// An input that only a stop ends publishes what its outputs hold (the windows closed before).
TEST_P(StopModes, LeaveOpenWithoutCheckpointsOnAnUnboundedInputPublishesTheClosedWindows) {
  const int workers = GetParam();
  FeedRun run;
  run.Start(workers, 16, std::nullopt, StopMode::kLeaveOpen);
  run.Push(PartOne());
  run.WaitForLines(EndingBy(AllWindows(PartOne()), 790).size());
  run.stop = true;
  const RunProgress p = run.Join();
  EXPECT_EQ(p.end, RunEnd::kStopped);
  EXPECT_EQ(p.open_windows, 9u);
  EXPECT_EQ(run.trace.lines(), EndingBy(AllWindows(PartOne()), 790));
  EXPECT_EQ(run.trace.count("close"), 1u);
  EXPECT_EQ(run.trace.count("abort"), 0u);
}

// An input that would have ended by itself, cut short: the outputs are aborted rather than
// published half done.
TEST_P(StopModes, LeaveOpenWithoutCheckpointsOnABoundedInputDiscardsAndAborts) {
  const int workers = GetParam();
  FeedRun run;
  run.unbounded = false;
  run.Start(workers, 16, std::nullopt, StopMode::kLeaveOpen);
  run.Push(PartOne());
  run.WaitForLines(EndingBy(AllWindows(PartOne()), 790).size());
  run.stop = true;
  const RunProgress p = run.Join();
  EXPECT_EQ(p.end, RunEnd::kDiscarded);
  EXPECT_EQ(p.open_windows, 9u);
  EXPECT_EQ(p.results_written, EndingBy(AllWindows(PartOne()), 790).size());
  EXPECT_EQ(run.trace.count("abort"), 1u);
  EXPECT_EQ(run.trace.count("close"), 0u);
}

INSTANTIATE_TEST_SUITE_P(Workers, StopModes, ::testing::Values(1, 3));

}  // namespace
}  // namespace pulse
