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
#include <string>
#include <thread>
#include <vector>

#include "core/channels.h"
#include "core/checkpoint_store.h"
#include "core/keyed_worker.h"
#include "core/operator_chain.h"
#include "core/output_file.h"
#include "core/run_probe.h"
#include "core/run_state.h"
#include "core/sink_stage.h"
#include "core/source_stage.h"
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
using internal::Channels;
using testing::CountWindowsFactory;
using testing::CountWindowsOptions;
using testing::KeyedJournal;
using testing::ManualClock;
using testing::ScriptedSource;
using testing::SinkScript;
using testing::SinkTrace;
using testing::SourceScript;
using testing::TempDir;
using testing::TracingSink;
using testing::WaitUntil;

// Record i: event time i·10 ms, key "k<i mod keys>".
std::vector<Record> Input(int n, int keys) {
  std::vector<Record> in;
  for (int i = 0; i < n; ++i) {
    Object o;
    o.emplace_back("k", Value("k" + std::to_string(i % keys)));
    o.emplace_back("i", Value(i));
    in.push_back(Record{i * 10, Value(std::move(o))});
  }
  return in;
}

// The key text (compact JSON) of record i's key.
std::string KeyText(uint64_t i, int keys) { return "\"k" + std::to_string(i % keys) + "\""; }

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

internal::LoadedCheckpoint LoadCheckpoint(const std::string& dir, uint64_t id) {
  Result<std::unique_ptr<internal::CheckpointStore>> store =
      internal::CheckpointStore::Open({dir, 3});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return {};
  Result<internal::LoadedCheckpoint> loaded = (*store)->Load(id);
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  return loaded.ok() ? std::move(loaded).value() : internal::LoadedCheckpoint{};
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

  const internal::LoadedCheckpoint first = LoadCheckpoint(dir.file("chk"), 1);
  EXPECT_EQ(first.manifest.watermark, 990);
  EXPECT_EQ(MemberInt(first.manifest.sources, "source", "next"), 100);
  // Windows ending at 100..900 (10 keys each) are complete at watermark 990.
  EXPECT_EQ(MemberInt(first.manifest.sinks, "sink", "lines"), 90);
  ASSERT_EQ(first.manifest.state.size(), static_cast<size_t>(workers));
  std::vector<uint64_t> covered;
  for (size_t w = 0; w < first.manifest.state.size(); ++w) {
    const internal::CheckpointState& state = first.manifest.state[w];
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

// A stop ends the input without raising the watermark: open windows stay open.
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
  for (int w = 0; w < workers; ++w) EXPECT_EQ(h.journal.watermarks(w).back(), 290) << w;
  EXPECT_EQ(h.trace.watermarks().back(), 290);
  EXPECT_EQ(h.trace.lines().size(), 10u);  // windows ending at 100 and 200
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

// What a stage test borrows: the context of a run without a pipeline around it.
struct StageHarness {
  explicit StageHarness(uint32_t workers, size_t capacity)
      : state(workers), channels(workers, capacity), errors(channels) {}
  ManualClock clock;
  internal::RunState state;
  internal::Channels channels;
  internal::FirstError errors;
  metrics::Registry registry;
  internal::RunProbe probe{registry, {}, clock};
  std::function<void(const StageSpan&)> no_spans;
  internal::StageContext ctx{clock, state, channels, errors, probe, no_spans};
  std::vector<std::unique_ptr<Operator>> no_ops;
  internal::OperatorChain chain{no_ops};
  std::unique_ptr<BadRecordHandler> bad = BadRecordHandler::Open({}).value();
  const std::atomic<bool> stop{false};

  SourceContext SourceCtx() {
    SourceContext c;
    c.bad_records = bad.get();
    c.counters = &state.source_counters;
    c.stop = &stop;
    return c;
  }
  SinkContext SinkCtx() {
    SinkContext c;
    c.counters = &state.sink_counters;
    return c;
  }
};

// The source stage alone, with nobody taking its batches: it blocks on a full queue after
// filling it, having read one batch more than the queue holds.
TEST(SourceStage, BlocksOnAFullQueue) {
  for (const uint32_t workers : {0u, 2u}) {
    StageHarness s(workers, 3);
    std::atomic<uint64_t> reads{0};
    ScriptedSource source(Input(100, 5), 1, &reads, {});
    ASSERT_OK(source.Open(s.SourceCtx()));
    const internal::KeyExtractor key{std::string("k"), {}};
    internal::SourceStageOptions options;
    options.batch_size = 1;
    internal::SourceStage stage(source, s.chain, workers > 0 ? &key : nullptr, *s.bad, nullptr,
                                s.ctx, options);
    Status status;
    std::thread thread([&] { status = stage.Run(s.stop); });
    if (workers == 0) {
      EXPECT_TRUE(WaitUntil([&] { return s.channels.plain().waiting_producers() == 1; }));
      EXPECT_EQ(s.channels.plain().size(), 3u);
    } else {
      EXPECT_TRUE(WaitUntil([&] { return s.channels.to_worker(0).waiting_producers() == 1; }));
      EXPECT_EQ(s.channels.to_worker(0).size(), 3u);
      EXPECT_EQ(s.channels.to_worker(1).size(), 3u);
    }
    EXPECT_EQ(reads.load(), 4u) << workers;
    s.channels.CloseAll();  // as after a failure elsewhere: the stage ends
    thread.join();
    EXPECT_OK(status);
    EXPECT_EQ(reads.load(), 4u);
  }
}

// --- The stages alone --------------------------------------------------------------------------

// Every batch goes to every worker, each record to the worker of its key group with the
// watermark in effect before it (the source's declared marks and the bound), in input order.
TEST(SourceStage, StampsWatermarksAndRoutesEveryBatchToEveryWorker) {
  constexpr uint32_t kWorkers = 3;
  StageHarness s(kWorkers, 100);
  std::atomic<uint64_t> reads{0};
  // A declared watermark of 500 before record 20.
  ScriptedSource source(Input(60, 11), 7, &reads, {}, {{20, 500}});
  ASSERT_OK(source.Open(s.SourceCtx()));
  const internal::KeyExtractor key{std::string("k"), {}};
  internal::SourceStageOptions options;
  options.batch_size = 7;
  options.max_out_of_orderness = 100;
  options.end_of_input_steps = 0;
  internal::SourceStage stage(source, s.chain, &key, *s.bad, nullptr, s.ctx, options);
  ASSERT_OK(stage.Run(s.stop));  // the queues hold everything
  std::vector<bool> seen(60, false);
  for (uint32_t w = 0; w < kWorkers; ++w) {
    std::vector<internal::WorkerTask> tasks;
    while (s.channels.to_worker(w).size() > 0) tasks.push_back(*s.channels.to_worker(w).Pop());
    ASSERT_EQ(tasks.size(), 9u) << w;  // ⌈60 / 7⌉ batches
    EXPECT_TRUE(tasks.back().last);
    EXPECT_EQ(tasks.back().watermark, kMaxWatermark);
    EXPECT_EQ(tasks[0].watermark, -40);  // after record 6: 6·10 − 100
    uint64_t previous = 0;
    for (const internal::WorkerTask& task : tasks) {
      for (const KeyedRecord& r : task.records) {
        const uint64_t i = r.sequence;
        EXPECT_EQ(WorkerOfKeyGroup(KeyGroupOf(KeyHash(r.key)), kWorkers), w);
        EXPECT_EQ(r.key, KeyText(i, 11));
        EXPECT_GE(i, previous);
        previous = i;
        // W before record i: the bound over records 0..i-1, and 500 from record 20 on.
        EventTime expected = i == 0 ? kMinWatermark : static_cast<EventTime>(i - 1) * 10 - 100;
        if (i >= 20) expected = std::max<EventTime>(expected, 500);
        EXPECT_EQ(r.watermark, expected) << i;
        seen[i] = true;
      }
    }
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 60);
}

KeyedResult Released(EventTime end, const std::string& key) {
  Object o;
  o.emplace_back("end", Value(end));
  o.emplace_back("key", Value(key));
  return KeyedResult{end, end - 100, key, Record{end - 1, Value(std::move(o))}};
}

KeyedRecord Late(uint64_t sequence) {
  KeyedRecord r;
  r.sequence = sequence;
  Object o;
  o.emplace_back("seq", Value(static_cast<int64_t>(sequence)));
  r.record.value = Value(std::move(o));
  return r;
}

// Batch k of every worker is merged into one order (end, start, key) however each worker's
// results came, and late records are written in input order.
TEST(SinkStage, MergesTheWorkersResultsAndWritesLateRecordsInInputOrder) {
  StageHarness s(2, 10);
  TempDir dir;
  SinkTrace trace;
  TracingSink sink(&trace);
  ASSERT_OK(sink.Open(s.SinkCtx()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<internal::OutputFile> late,
                       internal::OutputFile::Create(dir.file("late.jsonl")));
  for (const EventTime watermark : {300, 500}) {
    internal::WorkerOutput w0;
    w0.output.results.push_back(Released(watermark - 100, "b"));
    w0.output.results.push_back(Released(watermark - 200, "a"));
    w0.output.late.push_back(Late(watermark + 5));
    w0.output.late.push_back(Late(watermark + 1));
    w0.watermark = watermark;
    w0.last = watermark == 500;
    internal::WorkerOutput w1;
    w1.output.results.push_back(Released(watermark - 200, "c"));
    w1.output.results.push_back(Released(watermark - 100, "a"));
    w1.output.late.push_back(Late(watermark + 3));
    w1.watermark = watermark;
    w1.last = w0.last;
    ASSERT_TRUE(s.channels.from_worker(0).Push(std::move(w0)));
    ASSERT_TRUE(s.channels.from_worker(1).Push(std::move(w1)));
  }
  internal::SinkStage stage(sink, s.chain, *s.bad, late.get(), nullptr, s.ctx);
  ASSERT_OK(stage.Run());
  ASSERT_OK(late->Commit());
  const std::vector<std::string> expected = {
      R"({"end":100,"key":"a"})", R"({"end":100,"key":"c"})", R"({"end":200,"key":"a"})",
      R"({"end":200,"key":"b"})", R"({"end":300,"key":"a"})", R"({"end":300,"key":"c"})",
      R"({"end":400,"key":"a"})", R"({"end":400,"key":"b"})"};
  EXPECT_EQ(trace.lines(), expected);
  EXPECT_EQ(trace.watermarks(), (std::vector<EventTime>{300, 500}));
  EXPECT_EQ(s.state.sink_watermark.load(), 500);
  EXPECT_EQ(s.bad->count(BadReason::kLate), 6u);
  EXPECT_EQ(testing::ReadFile(dir.file("late.jsonl")),
            "{\"seq\":301}\n{\"seq\":303}\n{\"seq\":305}\n"
            "{\"seq\":501}\n{\"seq\":503}\n{\"seq\":505}\n");
}

KeyedRecord At(EventTime time, EventTime watermark, uint64_t sequence) {
  KeyedRecord r;
  r.record.time = time;
  r.watermark = watermark;
  r.sequence = sequence;
  r.key = "\"a\"";
  r.key_value = Value("a");
  return r;
}

// A worker feeds each task's records to its operator, then the task's watermark, and forwards
// the results with that watermark.
TEST(KeyedWorker, ProcessesEachTaskThenAdvancesItsWatermark) {
  StageHarness s(1, 10);
  KeyedJournal journal;
  CountWindowsOptions windows;
  windows.journal = &journal;
  CountWindowsFactory factory(windows);
  internal::WorkerTask first;
  first.records.push_back(At(10, kMinWatermark, 0));
  first.records.push_back(At(20, 10, 1));
  first.records.push_back(At(150, 20, 2));
  first.watermark = 120;
  internal::WorkerTask second;
  second.watermark = kMaxWatermark;
  second.last = true;
  s.state.in_flight = 3;
  ASSERT_TRUE(s.channels.to_worker(0).Push(std::move(first)));
  ASSERT_TRUE(s.channels.to_worker(0).Push(std::move(second)));
  internal::KeyedWorker worker(0, 1, factory, nullptr, s.ctx);
  ASSERT_OK(worker.Run());
  std::optional<internal::WorkerOutput> out = s.channels.from_worker(0).Pop();
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->output.results.size(), 1u);  // [0, 100) is complete at 120
  EXPECT_EQ(out->output.results[0].record.value.ToJson(),
            R"({"key":"\"a\"","start":0,"end":100,"count":2})");
  EXPECT_EQ(out->watermark, 120);
  EXPECT_FALSE(out->last);
  out = s.channels.from_worker(0).Pop();
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->output.results.size(), 1u);
  EXPECT_EQ(out->output.results[0].order_a, 200);
  EXPECT_TRUE(out->last);
  EXPECT_EQ(journal.watermarks(0), (std::vector<EventTime>{120, kMaxWatermark}));
  EXPECT_EQ(journal.sequences(0), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(s.state.in_flight.load(), 0u);
  EXPECT_EQ(s.state.workers[0].watermark.load(), kMaxWatermark);
}

TEST(KeyedWorker, AnOperatorErrorEndsTheWorker) {
  StageHarness s(1, 10);
  CountWindowsOptions windows;
  windows.fail_on_key = "\"a\"";
  CountWindowsFactory factory(windows);
  internal::WorkerTask task;
  task.records.push_back(At(10, kMinWatermark, 0));
  ASSERT_TRUE(s.channels.to_worker(0).Push(std::move(task)));
  internal::KeyedWorker worker(0, 1, factory, nullptr, s.ctx);
  const Status status = worker.Run();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "injected keyed failure");
  EXPECT_EQ(s.channels.from_worker(0).size(), 0u);
}

}  // namespace
}  // namespace pulse
