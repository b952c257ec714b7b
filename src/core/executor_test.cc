// SPDX-License-Identifier: MIT
// Tests of the executor's stages, alone and wired by Run(), with a ManualClock and in-memory
// connectors: barrier alignment, the end of the input, failure in each stage, backpressure,
// and the intervals that follow the run's clock (checkpoints, Sink::Tick, progress).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pulse/core/checkpoint_store.h"
#include "pulse/core/executor.h"
#include "pulse/core/json.h"
#include "pulse/core/key_group.h"
#include "pulse/metrics/registry.h"
#include "testing/count_windows.h"
#include "testing/manual_clock.h"
#include "testing/scripted_connectors.h"
#include "testing/test_util.h"

namespace pulse {
namespace {

using namespace std::chrono_literals;
using testing::CountWindowsFactory;
using testing::CountWindowsOptions;
using testing::Input;
using testing::KeyedJournal;
using testing::KeyText;
using testing::ManualClock;
using testing::ScriptedSource;
using testing::SinkScript;
using testing::SinkTrace;
using testing::SourceScript;
using testing::TempDir;
using testing::TracingSink;
using testing::WaitUntil;

int64_t Field(const std::string& line, const char* name) {
  Result<Value> v = ParseJson(line);
  EXPECT_TRUE(v.ok()) << line;
  const Value* f = v.ok() ? v->Find(name) : nullptr;
  return f != nullptr && f->is_int() ? f->as_int() : -1;
}

// What one whole run uses: a ManualClock as the run's clock, and what the connectors record.
struct Harness {
  ManualClock clock;
  EnvWithClock env{clock};
  std::atomic<uint64_t> reads{0};
  SinkTrace trace;
  KeyedJournal journal;

  RunOptions Options(int workers, size_t batch_size) {
    RunOptions o;
    o.env = &env;
    o.workers = workers;
    o.batch_size = batch_size;
    return o;
  }

  // Input → key "k" → CountWindows (100 ms) → TracingSink, reading `per_read` records a time.
  Pipeline Keyed(std::vector<Record> in, size_t per_read, SourceScript source = {},
                 CountWindowsOptions windows = {}, SinkScript sink = {},
                 std::optional<DurationMs> bound = 0) {
    windows.journal = &journal;
    Pipeline p;
    p.From(std::make_unique<ScriptedSource>(std::move(in), per_read, &reads, std::move(source)))
        .Watermarks({bound})
        .KeyBy("k")
        .Apply(std::make_unique<CountWindowsFactory>(std::move(windows)))
        .To(std::make_unique<TracingSink>(&trace, std::move(sink)));
    return p;
  }

  // Input → TracingSink, no key.
  Pipeline Plain(std::vector<Record> in, size_t per_read, SourceScript source = {},
                 SinkScript sink = {}) {
    Pipeline p;
    p.From(std::make_unique<ScriptedSource>(std::move(in), per_read, &reads, std::move(source)))
        .To(std::make_unique<TracingSink>(&trace, std::move(sink)));
    return p;
  }
};

LoadedCheckpoint LoadCheckpoint(const std::string& dir, uint64_t id) {
  Result<std::unique_ptr<CheckpointStore>> store =
      CheckpointStore::Open({dir, 3});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return {};
  Result<LoadedCheckpoint> loaded = (*store)->Load(id);
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  return loaded.ok() ? std::move(loaded).value() : LoadedCheckpoint{};
}

int64_t MemberInt(const Object& object, const char* name, const char* field) {
  for (const auto& [key, value] : object) {
    if (key != name) continue;
    const Value* f = value.Find(field);
    return f != nullptr && f->is_int() ? f->as_int() : -1;
  }
  return -1;
}

// --- Barrier alignment -----------------------------------------------------------------------

class BarrierAlignment : public ::testing::TestWithParam<int> {};

// The clock passes the interval during the 5th read, so the checkpoint rides on batch 5 (records
// 0..99): every worker's snapshot holds exactly its records among those, the source position is
// after record 99, and the sink's committed part is what watermark 990 released.
TEST_P(BarrierAlignment, ACheckpointAfterOneBatchCoversThatBatchInEveryWorker) {
  const int workers = GetParam();
  constexpr int kKeys = 37;
  TempDir dir;
  Harness h;
  SourceScript script;
  script.before_read = [&h](uint64_t read) {
    if (read == 5) h.clock.Advance(10s);
  };
  RunOptions options = h.Options(workers, 20);
  options.checkpoint.dir = dir.file("chk");
  options.checkpoint.interval_ms = 10'000;
  ASSERT_OK_AND_ASSIGN(RunProgress progress,
                       pulse::Run(h.Keyed(Input(400, kKeys), 20, std::move(script)), options));
  EXPECT_EQ(progress.checkpoints, 2u);  // after batch 5, and the final one

  const LoadedCheckpoint first = LoadCheckpoint(dir.file("chk"), 1);
  EXPECT_EQ(first.manifest.watermark, 990);
  EXPECT_EQ(MemberInt(first.manifest.sources, "source", "next"), 100);
  // Windows ending at 100..900 (10 keys each) are complete at watermark 990.
  EXPECT_EQ(MemberInt(first.manifest.sinks, "sink", "lines"), 90);
  ASSERT_EQ(first.manifest.state.size(), static_cast<size_t>(workers));
  std::vector<uint64_t> covered;
  for (size_t w = 0; w < first.manifest.state.size(); ++w) {
    const CheckpointState& state = first.manifest.state[w];
    EXPECT_EQ(state.key_groups, KeyGroupRange::ForWorker(static_cast<uint32_t>(w), workers));
    std::istringstream snapshot(testing::ReadFile(first.dir + "/" + state.dir + "/windows.txt"));
    std::string kind;
    std::string rest;
    while (snapshot >> kind) {
      if (kind != "s") {
        std::getline(snapshot, rest);
        continue;
      }
      uint64_t s = 0;
      snapshot >> s;
      EXPECT_EQ(WorkerOfKeyGroup(KeyGroupOf(KeyHash(KeyText(s, kKeys))), workers), w) << s;
      covered.push_back(s);
    }
  }
  std::sort(covered.begin(), covered.end());
  std::vector<uint64_t> expected(100);
  for (uint64_t i = 0; i < expected.size(); ++i) expected[i] = i;
  EXPECT_EQ(covered, expected);
  EXPECT_EQ(h.trace.lines().size(), 400u);  // 40 windows of 10 keys
}

INSTANTIATE_TEST_SUITE_P(Workers, BarrierAlignment, ::testing::Values(1, 2, 3, 4));

// --- The clock: checkpoint interval, checkpoint metrics, Sink::Tick, progress ---------------

TEST(ExecutorClock, NoCheckpointBeforeTheIntervalPassesOneAfter) {
  TempDir dir;
  Harness h;
  SourceScript script;
  script.before_read = [&h](uint64_t read) {
    if (read == 3) h.clock.Advance(999ms);  // not yet
    if (read == 6) h.clock.Advance(1ms);    // the interval has passed: after batch 6
  };
  RunOptions options = h.Options(2, 10);
  options.checkpoint.dir = dir.file("chk");
  options.checkpoint.interval_ms = 1000;
  ASSERT_OK_AND_ASSIGN(RunProgress progress,
                       pulse::Run(h.Keyed(Input(200, 7), 10, std::move(script)), options));
  EXPECT_EQ(progress.checkpoints, 2u);
  EXPECT_EQ(MemberInt(LoadCheckpoint(dir.file("chk"), 1).manifest.sources, "source", "next"), 60);
  EXPECT_EQ(MemberInt(LoadCheckpoint(dir.file("chk"), 2).manifest.sources, "source", "next"), 200);
}

TEST(ExecutorClock, WithoutTimePassingOnlyTheFinalCheckpointIsTaken) {
  TempDir dir;
  Harness h;
  RunOptions options = h.Options(2, 10);
  options.checkpoint.dir = dir.file("chk");
  options.checkpoint.interval_ms = 1;
  ASSERT_OK_AND_ASSIGN(RunProgress progress, pulse::Run(h.Keyed(Input(200, 7), 10), options));
  EXPECT_EQ(progress.checkpoints, 1u);
  EXPECT_EQ(MemberInt(LoadCheckpoint(dir.file("chk"), 1).manifest.sources, "source", "next"), 200);
}

double Metric(const metrics::Registry& registry, const std::string& name, bool sum = false) {
  for (const metrics::FamilySnapshot& family : registry.Collect()) {
    if (family.name != name) continue;
    const metrics::SampleSnapshot* s = family.Find({});
    if (s == nullptr) return -1;
    if (family.type != metrics::MetricType::kHistogram) return s->value;
    return sum ? s->histogram.sum : static_cast<double>(s->histogram.count);
  }
  return -1;
}

// A commit that takes 1.5 s and a close that takes 2 s of the run's clock: the checkpoint's
// duration, its age when the run ends, and the run's seconds say exactly that.
TEST(ExecutorClock, CheckpointDurationAndAgeReadTheRunsClock) {
  TempDir dir;
  Harness h;
  metrics::Registry registry;
  SinkScript sink;
  sink.on_prepare_commit = [&h](uint64_t) { h.clock.Advance(1500ms); };
  sink.on_close = [&h] { h.clock.Advance(2s); };
  RunOptions options = h.Options(2, 10);
  options.metrics = &registry;
  options.checkpoint.dir = dir.file("chk");
  ASSERT_OK_AND_ASSIGN(RunProgress progress,
                       pulse::Run(h.Keyed(Input(100, 7), 10, {}, {}, std::move(sink)), options));
  EXPECT_EQ(progress.checkpoints, 1u);
  EXPECT_EQ(Metric(registry, "pulse_checkpoint_duration_ms"), 1);
  EXPECT_EQ(Metric(registry, "pulse_checkpoint_duration_ms", true), 1500);
  EXPECT_EQ(Metric(registry, "pulse_checkpoint_age_seconds"), 2);
  EXPECT_EQ(progress.seconds, 3.5);
}

// Tick runs when a second of the run's clock has passed since the last one, also while the sink
// waits for data: here the source holds batch 5 back until the tick has happened.
TEST(ExecutorClock, SinkTickFollowsTheClock) {
  Harness h;
  SourceScript script;
  script.before_read = [&h](uint64_t read) {
    if (read == 5 || read == 15) {
      // Once batch read−1 is written, so that the tick falls between two known writes.
      EXPECT_TRUE(WaitUntil([&] { return h.trace.count("watermark") == read - 1; }));
      h.clock.Advance(read == 5 ? 1000ms : 1ms);
      const size_t ticks = read == 5 ? 1 : 2;
      EXPECT_TRUE(WaitUntil([&] { return h.trace.count("tick") == ticks; }));
    }
    if (read == 10) h.clock.Advance(999ms);  // 1.999 s: not a second since the tick
  };
  ASSERT_OK(pulse::Run(h.Plain(Input(20, 3), 1, std::move(script)), h.Options(1, 1)).status());
  EXPECT_EQ(h.trace.count("tick"), 2u);
  const std::vector<std::string> events = h.trace.events();
  std::vector<size_t> writes;
  std::vector<size_t> ticks;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i] == "write") writes.push_back(i);
    if (events[i] == "tick") ticks.push_back(i);
  }
  ASSERT_EQ(writes.size(), 20u);
  ASSERT_EQ(ticks.size(), 2u);
  EXPECT_GT(ticks[0], writes[3]);
  EXPECT_LT(ticks[0], writes[4]);
  EXPECT_GT(ticks[1], writes[13]);
  EXPECT_LT(ticks[1], writes[14]);
}

// A sink that asks for a shorter interval (e.g. a Kafka sink with deliveries in flight) gets it,
// also while it waits for data.
TEST(ExecutorClock, SinkTickFollowsTheSinksInterval) {
  Harness h;
  SourceScript script;
  script.before_read = [&h](uint64_t read) {
    if (read == 5) {
      EXPECT_TRUE(WaitUntil([&] { return h.trace.count("watermark") == 4; }));
      h.clock.Advance(10ms);
      EXPECT_TRUE(WaitUntil([&] { return h.trace.count("tick") == 1; }));
    }
    if (read == 10) h.clock.Advance(9ms);  // 19 ms: not 10 ms since the tick
  };
  SinkScript sink;
  sink.tick_interval = 10ms;
  ASSERT_OK(pulse::Run(h.Plain(Input(20, 3), 1, std::move(script), std::move(sink)),
                       h.Options(1, 1))
                .status());
  EXPECT_EQ(h.trace.count("tick"), 1u);
}

TEST(ExecutorClock, WithoutTimePassingTheSinkNeverTicks) {
  Harness h;
  ASSERT_OK(pulse::Run(h.Plain(Input(50, 3), 1), h.Options(1, 1)).status());
  EXPECT_EQ(h.trace.count("write"), 50u);
  EXPECT_EQ(h.trace.count("tick"), 0u);
}

TEST(ExecutorClock, ProgressIsReportedEverySecondOfTheClockAndAtTheEnd) {
  for (const bool advance : {false, true}) {
    Harness h;
    std::atomic<int> calls{0};
    SourceScript script;
    script.before_read = [&](uint64_t read) {
      if (advance && read == 5) {
        h.clock.Advance(1s);
        EXPECT_TRUE(WaitUntil([&] { return calls.load() == 1; }));
      }
    };
    RunOptions options = h.Options(2, 10);
    options.on_progress = [&calls](const RunProgress&) { ++calls; };
    ASSERT_OK_AND_ASSIGN(RunProgress progress,
                         pulse::Run(h.Keyed(Input(100, 7), 10, std::move(script)), options));
    EXPECT_EQ(calls.load(), advance ? 2 : 1) << advance;
    EXPECT_EQ(progress.seconds, advance ? 1.0 : 0.0);
  }
}

// --- The end of the input --------------------------------------------------------------------

class EndOfInput : public ::testing::TestWithParam<int> {};

// No watermark until the end: every window is open when the input ends; the watermark then
// rises in end_of_input_steps steps from the smallest to the largest event time (0 and 990:
// steps of 247), then to +∞, and each step releases its windows.
TEST_P(EndOfInput, EveryWindowClosesInWatermarkSteps) {
  const int workers = GetParam();
  Harness h;
  RunOptions options = h.Options(workers, 25);
  options.end_of_input_steps = 4;
  ASSERT_OK(pulse::Run(h.Keyed(Input(100, 5), 25, {}, {}, {}, std::nullopt), options).status());
  const std::vector<EventTime> steps = {kMinWatermark, kMinWatermark, kMinWatermark,
                                        kMinWatermark, 247, 494, 741, 988, kMaxWatermark};
  for (int w = 0; w < workers; ++w) EXPECT_EQ(h.journal.watermarks(w), steps) << w;
  EXPECT_EQ(h.trace.watermarks(), steps);
  const std::vector<std::string> lines = h.trace.lines();
  ASSERT_EQ(lines.size(), 50u);  // 10 windows × 5 keys
  int64_t total = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    total += Field(lines[i], "count");
    if (i > 0) {
      EXPECT_LE(Field(lines[i - 1], "end"), Field(lines[i], "end"));
    }
  }
  EXPECT_EQ(total, 100);
  EXPECT_EQ(h.trace.count("write"), 5u);  // one per step that closes windows
}

TEST_P(EndOfInput, WithoutStepsTheLastBatchJumpsToTheEnd) {
  const int workers = GetParam();
  Harness h;
  RunOptions options = h.Options(workers, 25);
  options.end_of_input_steps = 0;
  ASSERT_OK(pulse::Run(h.Keyed(Input(100, 5), 25, {}, {}, {}, std::nullopt), options).status());
  const std::vector<EventTime> steps = {kMinWatermark, kMinWatermark, kMinWatermark,
                                        kMaxWatermark};
  for (int w = 0; w < workers; ++w) EXPECT_EQ(h.journal.watermarks(w), steps) << w;
  EXPECT_EQ(h.trace.lines().size(), 50u);
  EXPECT_EQ(h.trace.count("write"), 1u);
}

// A stop ends the input without raising the watermark: open windows stay open (and, without
// checkpoints, are discarded with the unpublished outputs).
TEST_P(EndOfInput, AStopClosesNoOpenWindow) {
  const int workers = GetParam();
  Harness h;
  std::atomic<bool> stop{false};
  SourceScript script;
  script.before_read = [&stop](uint64_t read) {
    if (read == 4) stop = true;
  };
  RunOptions options = h.Options(workers, 10);
  options.stop = &stop;
  ASSERT_OK_AND_ASSIGN(RunProgress progress,
                       pulse::Run(h.Keyed(Input(100, 5), 10, std::move(script)), options));
  EXPECT_TRUE(progress.cancelled);
  EXPECT_EQ(progress.end, RunEnd::kDiscarded);
  for (int w = 0; w < workers; ++w) EXPECT_EQ(h.journal.watermarks(w).back(), 290) << w;
  EXPECT_EQ(h.trace.watermarks().back(), 290);
  EXPECT_EQ(h.trace.lines().size(), 10u);  // windows ending at 100 and 200
  EXPECT_EQ(h.trace.count("abort"), 1u);
  EXPECT_EQ(h.trace.count("close"), 0u);
}

INSTANTIATE_TEST_SUITE_P(Workers, EndOfInput, ::testing::Values(1, 3));

// --- Failure in each stage -------------------------------------------------------------------

struct FailureCase {
  const char* name;
  const char* message;  // in the run's error
  bool checkpoints;
};

class StageFailure : public ::testing::TestWithParam<FailureCase> {};

// Each stage fails in turn; the run returns that error and the sink is aborted (with
// checkpoints: suspended, so that the next run continues from the last checkpoint).
TEST_P(StageFailure, TheRunReturnsTheErrorAndEndsTheSink) {
  const FailureCase c = GetParam();
  const std::string stage = c.name;
  TempDir dir;
  Harness h;
  SourceScript source;
  CountWindowsOptions windows;
  SinkScript sink;
  if (stage == "source") source.fail_on_read = 3;
  if (stage == "keyed") windows.fail_on_key = KeyText(3, 7);
  if (stage == "sink_write") sink.fail_on_write = 2;
  if (stage == "sink_close") sink.fail_on_close = true;
  if (stage == "sink_commit") sink.fail_on_commit = 1;
  windows.journal = &h.journal;
  Pipeline p;
  p.From(std::make_unique<ScriptedSource>(Input(300, 7), 10, &h.reads, std::move(source)))
      .Watermarks({0});
  if (stage == "before_key") p.Apply(std::make_unique<testing::FailingOperator>(50));
  p.KeyBy("k").Apply(std::make_unique<CountWindowsFactory>(windows));
  if (stage == "after_key") p.Apply(std::make_unique<testing::FailingOperator>(5));
  p.To(std::make_unique<TracingSink>(&h.trace, std::move(sink)));
  RunOptions options = h.Options(2, 10);
  if (c.checkpoints) options.checkpoint.dir = dir.file("chk");
  Result<RunProgress> r = pulse::Run(std::move(p), options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().ToString();
  if (c.checkpoints) {
    EXPECT_EQ(h.trace.count("suspend"), 1u);
    EXPECT_EQ(h.trace.count("abort"), 0u);
    EXPECT_EQ(h.trace.count("close"), 0u);
  } else {
    EXPECT_EQ(h.trace.count("abort"), 1u);
    EXPECT_EQ(h.trace.count("suspend"), 0u);
    EXPECT_EQ(h.trace.count("close"), stage == "sink_close" ? 1u : 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Stages, StageFailure,
    ::testing::Values(FailureCase{"source", "source: injected read failure", false},
                      FailureCase{"before_key", "injected operator failure", false},
                      FailureCase{"keyed", "injected keyed failure", false},
                      FailureCase{"after_key", "injected operator failure", false},
                      FailureCase{"sink_write", "sink: injected write failure", false},
                      FailureCase{"sink_close", "sink: injected close failure", false},
                      FailureCase{"source", "source: injected read failure", true},
                      FailureCase{"keyed", "injected keyed failure", true},
                      FailureCase{"sink_write", "sink: injected write failure", true},
                      FailureCase{"sink_commit",
                                  "checkpoint 1: sink commit: injected commit failure", true}),
    [](const ::testing::TestParamInfo<FailureCase>& info) {
      return std::string(info.param.name) + (info.param.checkpoints ? "_checkpoints" : "");
    });

// --- Backpressure ----------------------------------------------------------------------------

// A plain pipeline, one record per batch, queues of 2, a sink blocked in its first write: the
// source reads batch 1 (in the sink), batches 2 and 3 (queued) and batch 4 (waiting to be
// queued), and not one more until the sink is released.
TEST(ExecutorBackpressure, ABlockedSinkStopsTheSourceAfterQueueCapacityBatches) {
  Harness h;
  std::atomic<int> read_while_blocked{0};
  SourceScript script;
  script.before_read = [&](uint64_t read) {
    if (read > 4 && !h.trace.released()) ++read_while_blocked;
  };
  SinkScript sink;
  sink.block_on_write = 1;
  RunOptions options = h.Options(1, 1);
  options.queue_capacity = 2;
  Status status;
  std::thread run([&] {
    status = pulse::Run(h.Plain(Input(50, 3), 1, std::move(script), sink), options).status();
  });
  EXPECT_TRUE(WaitUntil([&] { return h.reads.load() >= 4 && h.trace.blocked(); }));
  EXPECT_EQ(h.reads.load(), 4u);
  h.trace.Release();
  run.join();
  ASSERT_OK(status);
  EXPECT_EQ(read_while_blocked.load(), 0);
  EXPECT_EQ(h.trace.lines().size(), 50u);
}

}  // namespace
}  // namespace pulse
