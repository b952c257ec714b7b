// SPDX-License-Identifier: MIT
// Tests of the executor's stages one at a time, each with its queues (Channels) and a
// StageContext around it instead of a run: the source stage's watermarks, routing and
// backpressure, the sink stage's ordered merge, a keyed worker.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/channels.h"
#include "core/keyed_worker.h"
#include "core/operator_chain.h"
#include "pulse/core/output_file.h"
#include "core/run_probe.h"
#include "core/run_state.h"
#include "core/sink_stage.h"
#include "core/source_stage.h"
#include "pulse/core/key_group.h"
#include "pulse/metrics/registry.h"
#include "testing/count_windows.h"
#include "testing/manual_clock.h"
#include "testing/scripted_connectors.h"
#include "testing/test_util.h"

namespace pulse {
namespace {

using testing::CountWindowsFactory;
using testing::CountWindowsOptions;
using testing::Input;
using testing::KeyedJournal;
using testing::KeyText;
using testing::ManualClock;
using testing::ScriptedSource;
using testing::SinkTrace;
using testing::TempDir;
using testing::TracingSink;
using testing::WaitUntil;

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
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputFile> late,
                       OutputFile::Create(dir.file("late.jsonl")));
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
