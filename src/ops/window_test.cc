// SPDX-License-Identifier: MIT
// Window semantics, one test per rule of the core engine issue, run through the real executor
// against every store of open windows (the heap; a state backend in memory or in RocksDB): the
// stores share the rules, so each must give the same bytes.
#include "pulse/ops/window.h"

#include <gtest/gtest.h>

#include <random>

#include "ops/window_test_util.h"
#include "pulse/core/executor.h"
#include "pulse/core/json.h"
#include "pulse/ops/map.h"
#include "testing/test_util.h"
#include "testing/vector_source.h"

namespace pulse::ops {
namespace {

using ::pulse::ops::testing::AllWindowStores;
using ::pulse::ops::testing::InStore;
using ::pulse::ops::testing::Options;
using ::pulse::ops::testing::StoreName;
using ::pulse::ops::testing::WindowStoreKind;
using ::pulse::testing::CollectingSink;
using ::pulse::testing::TempDir;
using ::pulse::testing::VectorSource;

Record Rec(EventTime t, const std::string& key, double x = 0) {
  Object o;
  o.emplace_back("k", Value(key));
  o.emplace_back("x", Value(x));
  return Record{t, Value(std::move(o))};
}

struct RunResult {
  std::vector<std::string> lines;
  RunProgress progress;
};

uint64_t Late(const RunResult& r) { return r.progress.bad[static_cast<int>(BadReason::kLate)]; }

std::string Row(int64_t s, int64_t e, const std::string& key, const std::string& agg) {
  return "{\"window_start_ms\":" + std::to_string(s) + ",\"window_end_ms\":" +
         std::to_string(e) + ",\"key\":\"" + key + "\"," + agg + "}";
}

// Each test runs once per store: the parameter says where the open windows are kept.
class WindowTest : public ::testing::TestWithParam<WindowStoreKind> {
 protected:
  // `options` with its windows in this test's store (a fresh RocksDB directory per call).
  WindowOptions Stored(WindowOptions options) {
    return InStore(std::move(options), GetParam(), dir_.file("db-" + std::to_string(runs_++)));
  }

  // The operator of `options` (in this test's store), applied by the executor.
  std::unique_ptr<KeyedOperatorFactory> Window(WindowOptions options) {
    return WindowedAggregate(Stored(std::move(options)));
  }

  RunResult RunWindow(std::vector<Record> input, WindowOptions options,
                      std::optional<DurationMs> bound = std::nullopt, int workers = 1,
                      size_t batch = 4096) {
    RunResult rr;
    Pipeline p;
    p.From(std::make_unique<VectorSource>(std::move(input)))
        .Watermarks({bound})
        .KeyBy("k")
        .Apply(Window(std::move(options)))
        .To(std::make_unique<CollectingSink>(&rr.lines));
    RunOptions ro;
    ro.workers = workers;
    ro.batch_size = batch;
    Result<RunProgress> r = pulse::Run(std::move(p), ro);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) rr.progress = *r;
    return rr;
  }

 private:
  TempDir dir_;
  int runs_ = 0;
};

std::string StoreParamName(const ::testing::TestParamInfo<WindowStoreKind>& info) {
  return StoreName(info.param);
}

INSTANTIATE_TEST_SUITE_P(Stores, WindowTest, ::testing::ValuesIn(AllWindowStores()),
                         StoreParamName);

TEST_P(WindowTest, TumblingFloorsNegativeTimes) {
  auto r = RunWindow({Rec(-1, "a"), Rec(-60000, "a"), Rec(-60001, "a"), Rec(0, "a")},
                     Options(WindowSpec::Tumbling(60000), AggSpec::Count(), 0));
  EXPECT_EQ(r.lines, (std::vector<std::string>{
                         Row(-120000, -60000, "a", "\"count\":1"),
                         Row(-60000, 0, "a", "\"count\":2"),
                         Row(0, 60000, "a", "\"count\":1"),
                     }));
}

TEST_P(WindowTest, SlidingWhenSizeIsNotAMultipleOfSlide) {
  // size 50, slide 20: windows [k·20, k·20+50) containing 45 are k = 0, 1, 2.
  auto r = RunWindow({Rec(45, "a")}, Options(WindowSpec::Sliding(50, 20), AggSpec::Count(), 0));
  EXPECT_EQ(r.lines, (std::vector<std::string>{
                         Row(0, 50, "a", "\"count\":1"),
                         Row(20, 70, "a", "\"count\":1"),
                         Row(40, 90, "a", "\"count\":1"),
                     }));
}

TEST_P(WindowTest, SlidingFloorsNegativeTimes) {
  // size 30, slide 20: the windows of −15 are [−40, −10) and [−20, 10); of −25, [−40, −10).
  auto r = RunWindow({Rec(-15, "a"), Rec(-25, "a")},
                     Options(WindowSpec::Sliding(30, 20), AggSpec::Count(), 0));
  EXPECT_EQ(r.lines, (std::vector<std::string>{
                         Row(-40, -10, "a", "\"count\":2"),
                         Row(-20, 10, "a", "\"count\":1"),
                     }));
}

TEST_P(WindowTest, OriginalSlidingFixtureGivesNineRows) {
  const int64_t t0 = 1704067200000;
  auto r = RunWindow({Rec(t0, "a"), Rec(t0 + 20000, "a"), Rec(t0 + 40000, "b")},
                     Options(WindowSpec::Sliding(60000, 15000), AggSpec::Count(), 0));
  ASSERT_EQ(r.lines.size(), 9u);
  EXPECT_EQ(r.lines[0], Row(t0 - 45000, t0 + 15000, "a", "\"count\":1"));
  EXPECT_EQ(r.lines[8], Row(t0 + 30000, t0 + 90000, "b", "\"count\":1"));
}

TEST_P(WindowTest, SessionsBridgeOutOfOrder) {
  // gap 15: sessions [0,15) and [25,40) are bridged by a later record at 12 ([12,27)).
  auto r = RunWindow({Rec(0, "a"), Rec(25, "a"), Rec(12, "a")},
                     Options(WindowSpec::Session(15), AggSpec::Count(), 0));
  EXPECT_EQ(r.lines, (std::vector<std::string>{Row(0, 40, "a", "\"count\":3")}));
}

TEST_P(WindowTest, SessionsTouchingMerge) {
  auto r = RunWindow({Rec(0, "a"), Rec(10, "a"), Rec(21, "a")},
                     Options(WindowSpec::Session(10), AggSpec::Count(), 0));
  EXPECT_EQ(r.lines, (std::vector<std::string>{Row(0, 20, "a", "\"count\":2"),
                                               Row(21, 31, "a", "\"count\":1")}));
}

TEST_P(WindowTest, SessionsAtNegativeTimesAndPerKey) {
  // gap 10: a's −30 and −21 merge ([−30, −11)), −5 stays apart; b's −25 is its own session.
  // Results come by end: b's −15 first.
  auto r = RunWindow({Rec(-30, "a"), Rec(-25, "b"), Rec(-21, "a"), Rec(-5, "a")},
                     Options(WindowSpec::Session(10), AggSpec::Count(), 0));
  EXPECT_EQ(r.lines, (std::vector<std::string>{Row(-25, -15, "b", "\"count\":1"),
                                               Row(-30, -11, "a", "\"count\":2"),
                                               Row(-5, 5, "a", "\"count\":1")}));
}

TEST_P(WindowTest, RecordExactlyOnEndPlusLatenessIsLate) {
  // bound 0: after the record at 70, W = 70. Window [0,60) with L = 10 is late at W ≥ 70.
  auto late = RunWindow({Rec(0, "a"), Rec(70, "a"), Rec(5, "a")},
                        Options(WindowSpec::Tumbling(60), AggSpec::Count(), 10), 0);
  EXPECT_EQ(late.lines, (std::vector<std::string>{Row(0, 60, "a", "\"count\":1"),
                                                  Row(60, 120, "a", "\"count\":1")}));
  EXPECT_EQ(Late(late), 1u);
  // One ms earlier (W = 69) the window is still open.
  auto ok = RunWindow({Rec(0, "a"), Rec(69, "a"), Rec(5, "a")},
                      Options(WindowSpec::Tumbling(60), AggSpec::Count(), 10), 0);
  EXPECT_EQ(ok.lines, (std::vector<std::string>{Row(0, 60, "a", "\"count\":2"),
                                                Row(60, 120, "a", "\"count\":1")}));
  EXPECT_EQ(Late(ok), 0u);
}

TEST_P(WindowTest, LateForSomeSlidingWindowsStillCountsInOthers) {
  // size 60, slide 30, bound 0. After the record at 90, W = 90. The record at 65 belongs to
  // [30,90) (late: 90 ≤ 90) and [60,120) (open), so it counts only in the second.
  auto r = RunWindow({Rec(90, "a"), Rec(65, "a")},
                     Options(WindowSpec::Sliding(60, 30), AggSpec::Count(), 0), 0);
  EXPECT_EQ(r.lines, (std::vector<std::string>{Row(60, 120, "a", "\"count\":2"),
                                               Row(90, 150, "a", "\"count\":1")}));
  EXPECT_EQ(Late(r), 0u);
}

TEST_P(WindowTest, LateSessionUnlessItJoinsAnOpenOne) {
  // gap 10, L = 5, bound 0: after 100, W = 100 and [100, 110) is open. The record at 80 touches
  // no open session and its own [80, 90) is closed (90 + 5 ≤ 100): late. The one at 88 touches
  // none either, but [88, 98) is open (98 + 5 > 100): a new session. The one at 92 bridges both.
  auto r = RunWindow({Rec(100, "a"), Rec(80, "a"), Rec(88, "a"), Rec(92, "a")},
                     Options(WindowSpec::Session(10), AggSpec::Count(), 5), 0);
  EXPECT_EQ(r.lines, (std::vector<std::string>{Row(88, 110, "a", "\"count\":3")}));
  EXPECT_EQ(Late(r), 1u);
}

TEST_P(WindowTest, ExplicitSourceWatermarksReleaseAndMakeLate) {
  // No strategy: only the source's own watermarks. W rises to 10 before record 2 (so [0,10) is
  // released and the record at 5 is late), then to 100 after the last record.
  for (size_t per_read : {size_t{1}, size_t{2}, SIZE_MAX}) {
    std::vector<std::string> lines;
    Pipeline p;
    p.From(std::make_unique<VectorSource>(
               std::vector<Record>{Rec(1, "a"), Rec(2, "a"), Rec(5, "a"), Rec(12, "a")},
               per_read, std::vector<SourceWatermark>{{2, 10}, {4, 100}}))
        .KeyBy("k")
        .Apply(Window(Options(WindowSpec::Tumbling(10), AggSpec::Count(), 0)))
        .To(std::make_unique<CollectingSink>(&lines));
    Result<RunProgress> r = pulse::Run(std::move(p));
    ASSERT_OK(r.status());
    EXPECT_EQ(lines, (std::vector<std::string>{Row(0, 10, "a", "\"count\":2"),
                                               Row(10, 20, "a", "\"count\":1")}))
        << per_read;
    EXPECT_EQ(r->bad[static_cast<int>(BadReason::kLate)], 1u);
  }
}

// Counts the sink batches that carry results.
class BatchCountingSink : public CollectingSink {
 public:
  BatchCountingSink(std::vector<std::string>* lines, int* batches)
      : CollectingSink(lines), batches_(batches) {}
  Status Write(std::span<const Record> records) override {
    if (!records.empty()) ++*batches_;
    return CollectingSink::Write(records);
  }

 private:
  int* batches_;
};

// With no watermark every window is open at the end of the input; the end closes them in
// watermark steps (RunOptions::end_of_input_steps) a slice at a time, with exactly the output of
// one jump, for any number of workers. Times run from negative to positive.
TEST_P(WindowTest, EndOfInputClosesWindowsInStepsWithTheSameOutput) {
  std::vector<Record> input;
  std::mt19937 rng(5);
  for (int i = 0; i < 3000; ++i) {
    input.push_back(Rec(-15000 + static_cast<EventTime>(rng() % 30000),
                        std::string(1, static_cast<char>('a' + rng() % 7))));
  }
  auto run = [&](WindowSpec spec, uint32_t steps, int workers, int* batches) {
    std::vector<std::string> lines;
    Pipeline p;
    p.From(std::make_unique<VectorSource>(input))
        .KeyBy("k")
        .Apply(Window(Options(spec, AggSpec::Count(), 0)))
        .To(std::make_unique<BatchCountingSink>(&lines, batches));
    RunOptions ro;
    ro.workers = workers;
    ro.end_of_input_steps = steps;
    Result<RunProgress> r = pulse::Run(std::move(p), ro);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return lines;
  };
  for (WindowSpec spec : {WindowSpec::Tumbling(1000), WindowSpec::Sliding(1000, 250),
                          WindowSpec::Session(40)}) {
    int one_jump_batches = 0;
    const std::vector<std::string> expected = run(spec, 0, 1, &one_jump_batches);
    EXPECT_EQ(one_jump_batches, 1);  // 3000 records are one source batch: all results at once
    ASSERT_FALSE(expected.empty());
    for (int workers : {1, 2, 3}) {
      int batches = 0;
      EXPECT_EQ(run(spec, 256, workers, &batches), expected) << workers << " workers";
      EXPECT_GT(batches, 20) << workers << " workers";
    }
  }
}

TEST_P(WindowTest, EqualTimestampsAndKeyOrder) {
  auto r = RunWindow({Rec(5, "b"), Rec(5, "a"), Rec(5, "b")},
                     Options(WindowSpec::Tumbling(10), AggSpec::Count(), 0));
  EXPECT_EQ(r.lines, (std::vector<std::string>{Row(0, 10, "a", "\"count\":1"),
                                               Row(0, 10, "b", "\"count\":2")}));
}

TEST_P(WindowTest, EmptyInputAndOneRecord) {
  EXPECT_TRUE(
      RunWindow({}, Options(WindowSpec::Tumbling(10), AggSpec::Count(), 0)).lines.empty());
  EXPECT_EQ(RunWindow({Rec(3, "a")}, Options(WindowSpec::Tumbling(10), AggSpec::Count(), 0)).lines,
            (std::vector<std::string>{Row(0, 10, "a", "\"count\":1")}));
}

// Values of every aggregation: numbers and numeric strings count, anything else is ignored.
std::vector<Record> AggregationInput() {
  std::vector<Record> in = {Rec(1, "a", 1), Rec(2, "a", 4), Rec(3, "a", 4)};
  Object s;
  s.emplace_back("k", Value("a"));
  s.emplace_back("x", Value("2.5"));  // numeric string counts
  in.push_back(Record{4, Value(std::move(s))});
  Object bad;
  bad.emplace_back("k", Value("a"));
  bad.emplace_back("x", Value(true));  // ignored
  in.push_back(Record{5, Value(std::move(bad))});
  return in;
}

TEST_P(WindowTest, Aggregations) {
  const std::vector<Record> in = AggregationInput();
  auto run = [&](AggSpec agg) {
    return RunWindow(in, Options(WindowSpec::Tumbling(10), agg, 0)).lines.at(0);
  };
  EXPECT_EQ(run(AggSpec::Count()), Row(0, 10, "a", "\"count\":5"));
  EXPECT_EQ(run(AggSpec::Sum("x")), Row(0, 10, "a", "\"sum\":11.5"));
  EXPECT_EQ(run(AggSpec::Avg("x")), Row(0, 10, "a", "\"avg\":2.875"));
  EXPECT_EQ(run(AggSpec::Min("x")), Row(0, 10, "a", "\"min\":1.0"));
  EXPECT_EQ(run(AggSpec::Max("x")), Row(0, 10, "a", "\"max\":4.0"));
  // 1.0, 4.0 (twice), "2.5", true: four distinct JSON values.
  EXPECT_EQ(run(AggSpec::Distinct("x")), Row(0, 10, "a", "\"distinct_count\":4"));
  EXPECT_EQ(run(AggSpec::Sum("missing")), Row(0, 10, "a", "\"sum\":null"));
}

// The same values in one session [1, 15) (last event 5, gap 10), whose accumulator is the
// general one.
TEST_P(WindowTest, SessionAggregations) {
  const std::vector<Record> in = AggregationInput();
  auto run = [&](AggSpec agg) {
    return RunWindow(in, Options(WindowSpec::Session(10), agg, 0)).lines.at(0);
  };
  EXPECT_EQ(run(AggSpec::Count()), Row(1, 15, "a", "\"count\":5"));
  EXPECT_EQ(run(AggSpec::Sum("x")), Row(1, 15, "a", "\"sum\":11.5"));
  EXPECT_EQ(run(AggSpec::Avg("x")), Row(1, 15, "a", "\"avg\":2.875"));
  EXPECT_EQ(run(AggSpec::Min("x")), Row(1, 15, "a", "\"min\":1.0"));
  EXPECT_EQ(run(AggSpec::Max("x")), Row(1, 15, "a", "\"max\":4.0"));
  EXPECT_EQ(run(AggSpec::Distinct("x")), Row(1, 15, "a", "\"distinct_count\":4"));
  EXPECT_EQ(run(AggSpec::Sum("missing")), Row(1, 15, "a", "\"sum\":null"));
}

TEST_P(WindowTest, KeysKeepTheirJsonType) {
  std::vector<Record> in;
  for (Value k : {Value(int64_t{1}), Value("1"), Value()}) {
    Object o;
    if (!k.is_null()) o.emplace_back("k", k);
    in.push_back(Record{1, Value(std::move(o))});
  }
  auto r = RunWindow(in, Options(WindowSpec::Tumbling(10), AggSpec::Count(), 0));
  EXPECT_EQ(r.lines, (std::vector<std::string>{
                         "{\"window_start_ms\":0,\"window_end_ms\":10,\"key\":\"1\",\"count\":1}",
                         "{\"window_start_ms\":0,\"window_end_ms\":10,\"key\":1,\"count\":1}",
                         "{\"window_start_ms\":0,\"window_end_ms\":10,\"key\":null,\"count\":1}",
                     }));
}

// Same bytes for any worker count and batch size, on out-of-order data with late records; and
// the same bytes in every store (the heap's output is the reference).
class Determinism
    : public ::testing::TestWithParam<std::tuple<WindowSpec, WindowStoreKind>> {};

TEST_P(Determinism, SameOutputForAnyWorkersAndBatchSize) {
  const auto [window, store] = GetParam();
  std::mt19937_64 rng(42);
  std::vector<Record> in;
  for (int i = 0; i < 20000; ++i) {
    EventTime t = i * 10 - static_cast<EventTime>(rng() % 3000);  // up to 3 s out of order
    in.push_back(Rec(t, std::string("k").append(std::to_string(rng() % 97)),
                     static_cast<double>(rng() % 100)));
  }
  TempDir dir;
  int runs = 0;
  auto run = [&](WindowStoreKind kind, int workers, size_t batch) {
    RunResult rr;
    Pipeline p;
    p.From(std::make_unique<VectorSource>(in))
        .Watermarks({1000})
        .KeyBy("k")
        .Apply(WindowedAggregate(InStore(Options(window, AggSpec::Avg("x"), 500), kind,
                                         dir.file("db-" + std::to_string(runs++)))))
        .To(std::make_unique<CollectingSink>(&rr.lines));
    RunOptions ro;
    ro.workers = workers;
    ro.batch_size = batch;
    Result<RunProgress> r = pulse::Run(std::move(p), ro);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) rr.progress = *r;
    return rr;
  };
  RunResult base = run(WindowStoreKind::kHeap, 1, 4096);
  ASSERT_GT(base.lines.size(), 100u);
  ASSERT_GT(Late(base), 0u);
  for (int workers : {1, 2, 4}) {
    for (size_t batch : {5, 64, 1000}) {
      RunResult r = run(store, workers, batch);
      EXPECT_EQ(r.lines, base.lines) << "workers " << workers << " batch " << batch;
      EXPECT_EQ(Late(r), Late(base));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllWindows, Determinism,
    ::testing::Combine(::testing::Values(WindowSpec::Tumbling(1000),
                                         WindowSpec::Sliding(1000, 300),
                                         WindowSpec::Session(40)),
                       ::testing::ValuesIn(AllWindowStores())),
    [](const ::testing::TestParamInfo<std::tuple<WindowSpec, WindowStoreKind>>& info) {
      const WindowSpec::Kind kind = std::get<0>(info.param).kind;
      const std::string name = kind == WindowSpec::Kind::kTumbling  ? "Tumbling"
                               : kind == WindowSpec::Kind::kSliding ? "Sliding"
                                                                    : "Session";
      return name + StoreName(std::get<1>(info.param));
    });

TEST(WindowOptions, RejectsBadDurations) {
  EXPECT_FALSE(WindowSpec::Tumbling(0).Validate().ok());
  EXPECT_FALSE(WindowSpec::Sliding(10, 20).Validate().ok());
  EXPECT_FALSE(WindowSpec::Session(-1).Validate().ok());
  EXPECT_EQ(WindowSpec::Sliding(10, 20).Validate().message(),
            "window.slide (20ms) must not be greater than window.size (10ms)");
  WindowOptions o = Options(WindowSpec::Tumbling(10), AggSpec::Count(), -1);
  EXPECT_EQ(o.Validate().message(), "allowed_lateness must not be negative");
  EXPECT_FALSE(AggSpec::Sum("").Validate().ok());
}

}  // namespace
}  // namespace pulse::ops
