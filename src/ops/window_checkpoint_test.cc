// SPDX-License-Identifier: MIT
// Window state through checkpoints, run through the real executor: a run that crashes (an
// injected sink failure) at several points and restarts, with a different worker count each
// time, ends with exactly the output of an uninterrupted run, for every window kind and every
// store of open windows (the heap with a memory or RocksDB mirror; windows living in a memory or
// RocksDB backend).
#include <gtest/gtest.h>

#include <random>

#include "ops/window_test_util.h"
#include "pulse/config.h"
#include "pulse/core/executor.h"
#include "pulse/metrics/registry.h"
#include "pulse/ops/window.h"
#include "testing/advancing_source.h"
#include "testing/manual_clock.h"
#include "testing/test_util.h"
#include "testing/vector_source.h"

namespace pulse::ops {
namespace {

using ::pulse::testing::AdvancingSource;
using ::pulse::ops::testing::InStore;
using ::pulse::ops::testing::Options;
using ::pulse::ops::testing::RocksDbIn;
using ::pulse::ops::testing::WindowStoreKind;
using ::pulse::testing::CollectingSink;
using ::pulse::testing::TempDir;
using ::pulse::testing::VectorSource;

// The checkpoint interval (1 ms) passes on the run's clock at every read: a checkpoint follows
// every batch when none is in flight, however fast the machine.
std::unique_ptr<Source> Clocked(std::unique_ptr<Source> source, ::pulse::testing::ManualClock& clock) {
  return std::make_unique<AdvancingSource>(std::move(source), &clock, std::chrono::milliseconds(1));
}

std::vector<Record> Input() {
  std::mt19937_64 rng(7);
  std::vector<Record> in;
  for (int i = 0; i < 6000; ++i) {
    Object o;
    o.emplace_back("k", Value(std::string("k").append(std::to_string(rng() % 61))));
    o.emplace_back("x", Value(static_cast<double>(rng() % 1000) / 7));
    o.emplace_back("n", Value(static_cast<int64_t>(rng() % 5000)));  // for named aggregates
    in.push_back(Record{i * 10 - static_cast<EventTime>(rng() % 2000), Value(std::move(o))});
  }
  return in;
}

struct Outcome {
  std::vector<std::string> lines;
  int runs = 0;
  uint64_t resumed = 0;  // runs that continued from a checkpoint
};

// Run to the end, crashing when the output would pass each of `crash_at` lines.
Outcome RunWithCrashes(const WindowOptions& options, const std::string& dir,
                       std::vector<size_t> crash_at) {
  Outcome outcome;
  for (size_t attempt = 0; attempt <= crash_at.size(); ++attempt) {
    const size_t fail_after = attempt < crash_at.size() ? crash_at[attempt] : SIZE_MAX;
    ::pulse::testing::ManualClock clock;
    EnvWithClock env(clock);
    Pipeline p;
    p.From(Clocked(std::make_unique<VectorSource>(Input(), 64), clock))
        .Watermarks({1000})
        .KeyBy("k")
        .Apply(WindowedAggregate(options))
        .To(std::make_unique<CollectingSink>(&outcome.lines, fail_after));
    RunOptions ro;
    ro.env = &env;
    ro.workers = static_cast<int>(1 + attempt % 3);
    ro.batch_size = 50;
    ro.checkpoint.dir = dir;
    ro.checkpoint.interval_ms = 1;
    ro.checkpoint.fingerprint = {{"window", options.window.Describe()}};
    Result<RunProgress> r = pulse::Run(std::move(p), ro);
    ++outcome.runs;
    if (r.ok()) {
      if (r->resumed_from) ++outcome.resumed;
      return outcome;
    }
    EXPECT_NE(r.status().message().find("injected crash"), std::string::npos)
        << r.status().ToString();
    ++outcome.resumed;
  }
  return outcome;
}

std::vector<std::string> Uninterrupted(const WindowOptions& options) {
  std::vector<std::string> lines;
  Pipeline p;
  p.From(std::make_unique<VectorSource>(Input(), 64))
      .Watermarks({1000})
      .KeyBy("k")
      .Apply(WindowedAggregate(options))
      .To(std::make_unique<CollectingSink>(&lines));
  RunOptions ro;
  ro.workers = 2;
  EXPECT_TRUE(pulse::Run(std::move(p), ro).ok());
  return lines;
}

struct Param {
  WindowSpec window;
  bool rocksdb;
  bool live = false;  // the windows live in the backend (state_in_backend): RocksDB or memory
  size_t cache_bytes = WindowOptions().state_cache_bytes;  // live tumbling/sliding windows
  bool named = false;  // named aggregates (with sketches) instead of avg
};

// Named aggregates whose state grows (sketches, sets) beside plain ones.
std::vector<Aggregate> NamedAggregates() {
  using Kind = Aggregate::Kind;
  return {Aggregate::Count("count"),
          Aggregate::Of("sum", Kind::kSum, "n"),
          Aggregate::Quantiles("q", "x", {0.5, 0.99}),
          Aggregate::Of("users", Kind::kApproxDistinct, "n"),
          Aggregate::Of("distinct", Kind::kDistinct, "n"),
          Aggregate::Of("first", Kind::kFirst, "x"),
          Aggregate::Of("last", Kind::kLast, "n"),
          Aggregate::TopK("top", "n", 2),
          Aggregate::Of("sd", Kind::kStddev, "x")};
}

const size_t kCache = WindowOptions().state_cache_bytes;  // the default

class WindowCheckpoint : public ::testing::TestWithParam<Param> {};

TEST_P(WindowCheckpoint, CrashesAndRestartsGiveTheUninterruptedOutput) {
  TempDir dir;
  WindowOptions options = Options(GetParam().window, AggSpec::Avg("x"), 300);
  if (GetParam().named) options.aggregates = NamedAggregates();
  if (!GetParam().rocksdb && GetParam().live) {
    options = InStore(options, WindowStoreKind::kMemoryBackend, "");
  }
  if (GetParam().rocksdb) {
#if PULSE_HAVE_ROCKSDB
    options.state_backend = RocksDbIn(dir.file("rocksdb"));
    options.state_in_backend = GetParam().live;
    options.state_cache_bytes = GetParam().cache_bytes;
#else
    GTEST_SKIP() << "built without RocksDB";
#endif
  }
  // The reference keeps its windows on the heap.
  WindowOptions heap = options;
  heap.state_backend = nullptr;
  heap.state_in_backend = false;
  const std::vector<std::string> expected = Uninterrupted(heap);
  if (GetParam().live) {
    EXPECT_EQ(Uninterrupted(options), expected);
  }
  ASSERT_GT(expected.size(), 1000u);
  const size_t n = expected.size();
  Outcome got = RunWithCrashes(options, dir.file("chk"), {n / 7, n / 3, n / 3 + 5, n / 2, n - 3});
  EXPECT_EQ(got.runs, 6);
  EXPECT_EQ(got.lines, expected);
}

INSTANTIATE_TEST_SUITE_P(
    AllWindows, WindowCheckpoint,
    ::testing::Values(Param{WindowSpec::Tumbling(1000), false},
                      Param{WindowSpec::Sliding(1000, 250), false},
                      Param{WindowSpec::Session(30), false},
                      Param{WindowSpec::Tumbling(1000), true},
                      Param{WindowSpec::Sliding(1000, 250), true},
                      Param{WindowSpec::Session(30), true},
                      Param{WindowSpec::Tumbling(1000), true, true},
                      Param{WindowSpec::Sliding(1000, 250), true, true},
                      Param{WindowSpec::Session(30), true, true},
                      Param{WindowSpec::Tumbling(1000), false, true},
                      Param{WindowSpec::Sliding(1000, 250), false, true},
                      Param{WindowSpec::Session(30), false, true},
                      // A write-back cache of a few entries, written back every few records.
                      Param{WindowSpec::Sliding(1000, 250), true, true, 1000},
                      // Named aggregates in each store.
                      Param{WindowSpec::Tumbling(1000), false, false, kCache, true},
                      Param{WindowSpec::Session(30), false, false, kCache, true},
                      Param{WindowSpec::Sliding(1000, 250), false, true, kCache, true},
                      Param{WindowSpec::Session(30), false, true, kCache, true},
                      Param{WindowSpec::Tumbling(1000), true, false, kCache, true},
                      Param{WindowSpec::Sliding(1000, 250), true, true, 1000, true},
                      Param{WindowSpec::Session(30), true, true, kCache, true}),
    [](const ::testing::TestParamInfo<Param>& info) {
      std::string kind = info.param.window.kind == WindowSpec::Kind::kTumbling  ? "Tumbling"
                         : info.param.window.kind == WindowSpec::Kind::kSliding ? "Sliding"
                                                                                : "Session";
      std::string cache = info.param.cache_bytes < WindowOptions().state_cache_bytes
                              ? "SmallCache"
                              : "";
      const std::string store = info.param.rocksdb ? (info.param.live ? "RocksDbLive" : "RocksDb")
                                                   : (info.param.live ? "MemoryLive" : "Memory");
      return kind + store + cache + (info.param.named ? "Named" : "");
    });

#if PULSE_HAVE_ROCKSDB
// Sessions kept in RocksDB close, merge (a late record bridging two or more sessions), drop
// late records and order their results exactly as the heap operator does, for gaps from much
// shorter to much longer than the disorder and with and without allowed lateness.
TEST(WindowCheckpoint, SessionsInRocksDbMatchTheHeap) {
  for (DurationMs gap : {1, 30, 700, 5000}) {
    for (DurationMs lateness : {0, 300}) {
      TempDir dir;
      WindowOptions live = Options(WindowSpec::Session(gap), AggSpec::Sum("x"), lateness);
      live.state_backend = RocksDbIn(dir.file("rocksdb"));
      live.state_in_backend = true;
      const WindowOptions heap = Options(WindowSpec::Session(gap), AggSpec::Sum("x"), lateness);
      const std::vector<std::string> expected = Uninterrupted(heap);
      ASSERT_FALSE(expected.empty());
      EXPECT_EQ(Uninterrupted(live), expected) << "gap " << gap << ", lateness " << lateness;
    }
  }
}

// Tumbling and sliding windows kept in RocksDB give the heap's output whatever the size of their
// write-back cache: none (every record written through), a few entries, or all of them; also
// for distinct counts, whose images grow with each new value.
TEST(WindowCheckpoint, FixedWindowsInRocksDbMatchTheHeapWhateverTheCache) {
  for (const WindowSpec& window : {WindowSpec::Tumbling(1000), WindowSpec::Sliding(1000, 250)}) {
    for (const AggSpec& agg : {AggSpec::Avg("x"), AggSpec::Distinct("x")}) {
      const WindowOptions heap = Options(window, agg, 300);
      const std::vector<std::string> expected = Uninterrupted(heap);
      ASSERT_GT(expected.size(), 1000u);
      std::vector<size_t> caches = {700};
      if (agg.kind == AggSpec::Kind::kAvg) caches = {0, 700, size_t{64} << 20};
      for (size_t cache_bytes : caches) {
        TempDir dir;
        WindowOptions live = heap;
        live.state_backend = RocksDbIn(dir.file("rocksdb"));
        live.state_in_backend = true;
        live.state_cache_bytes = cache_bytes;
        EXPECT_EQ(Uninterrupted(live), expected)
            << window.Describe() << ", " << agg.OutputName() << ", cache " << cache_bytes;
      }
    }
  }
}

// A checkpoint of sessions kept on the heap (RocksDB as their mirror) cannot be read as sessions
// kept in RocksDB: resuming says so instead of starting from empty state.
TEST(WindowCheckpoint, SessionsOfTheHeapLayoutAreNotReadAsStoredSessions) {
  TempDir dir;
  WindowOptions options = Options(WindowSpec::Session(30), AggSpec::Sum("x"), 0);
  options.state_backend = RocksDbIn(dir.file("rocksdb"));
  auto run = [&](size_t fail_after) {
    std::vector<std::string> lines;
    ::pulse::testing::ManualClock clock;
    EnvWithClock env(clock);
    Pipeline p;
    p.From(Clocked(std::make_unique<VectorSource>(Input(), 64), clock))
        .Watermarks({1000})
        .KeyBy("k")
        .Apply(WindowedAggregate(options))
        .To(std::make_unique<CollectingSink>(&lines, fail_after));
    RunOptions ro;
    ro.env = &env;
    ro.batch_size = 50;
    ro.checkpoint.dir = dir.file("chk");
    ro.checkpoint.interval_ms = 1;
    ro.checkpoint.fingerprint = {{"window", options.window.Describe()}};
    return pulse::Run(std::move(p), ro).status();
  };
  // Sessions on the heap: crashes after several checkpoints.
  const Status crashed = run(2000);
  ASSERT_NE(crashed.message().find("injected crash"), std::string::npos) << crashed.ToString();
  options.state_in_backend = true;
  const Status resumed = run(SIZE_MAX);
  EXPECT_EQ(resumed.code(), StatusCode::kCorruption) << resumed.ToString();
  EXPECT_NE(resumed.message().find("an entry of another layout"), std::string::npos)
      << resumed.ToString();
}
#endif

TEST(WindowCheckpoint, AChangedPipelineIsRefusedWithWhatChanged) {
  TempDir dir;
  WindowOptions tumbling = Options(WindowSpec::Tumbling(1000), AggSpec::Count(), 0);
  std::vector<std::string> lines;
  ASSERT_EQ(RunWithCrashes(tumbling, dir.file("chk"), {100}).lines.size(),
            Uninterrupted(tumbling).size());
  WindowOptions longer = Options(WindowSpec::Tumbling(2000), AggSpec::Count(), 0);
  Pipeline p;
  p.From(std::make_unique<VectorSource>(Input())).KeyBy("k").Apply(WindowedAggregate(longer))
      .To(std::make_unique<CollectingSink>(&lines));
  RunOptions ro;
  ro.checkpoint.dir = dir.file("chk");
  ro.checkpoint.fingerprint = {{"window", longer.window.Describe()}};
  Result<RunProgress> r = pulse::Run(std::move(p), ro);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("window changed from \"tumbling 1s\" to \"tumbling 2s\""),
            std::string::npos)
      << r.status().message();
}

double MetricValue(const metrics::Registry& registry, const std::string& name) {
  for (const metrics::FamilySnapshot& family : registry.Collect()) {
    if (family.name != name) continue;
    if (const metrics::SampleSnapshot* s = family.Find({})) {
      return family.type == metrics::MetricType::kHistogram
                 ? static_cast<double>(s->histogram.count)
                 : s->value;
    }
  }
  return -1;
}

TEST(WindowCheckpoint, Metrics) {
  TempDir dir;
  metrics::Registry registry;
  std::vector<std::string> lines;
  ::pulse::testing::ManualClock clock;
  EnvWithClock env(clock);
  Pipeline p;
  p.From(Clocked(std::make_unique<VectorSource>(Input(), 64), clock))
      .Watermarks({1000})
      .KeyBy("k")
      .Apply(WindowedAggregate(Options(WindowSpec::Tumbling(1000), AggSpec::Count(), 0)))
      .To(std::make_unique<CollectingSink>(&lines));
  RunOptions ro;
  ro.env = &env;
  ro.metrics = &registry;
  ro.batch_size = 100;
  ro.checkpoint.dir = dir.file("chk");
  ro.checkpoint.interval_ms = 1;
  ASSERT_OK_AND_ASSIGN(RunProgress progress, pulse::Run(std::move(p), ro));
  ASSERT_GE(progress.checkpoints, 2u);  // at least one on the way and the final one
  EXPECT_EQ(MetricValue(registry, "pulse_checkpoints_total"),
            static_cast<double>(progress.checkpoints));
  EXPECT_EQ(MetricValue(registry, "pulse_checkpoint_duration_ms"),
            static_cast<double>(progress.checkpoints));
  EXPECT_EQ(MetricValue(registry, "pulse_checkpoint_failures_total"), 0);
  EXPECT_GT(MetricValue(registry, "pulse_checkpoint_size_bytes"), 0);
  const double age = MetricValue(registry, "pulse_checkpoint_age_seconds");
  EXPECT_GE(age, 0);
  EXPECT_LT(age, 60);
}

}  // namespace
}  // namespace pulse::ops
