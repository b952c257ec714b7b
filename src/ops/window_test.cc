// SPDX-License-Identifier: MIT
// Window semantics, one test per rule of the core engine issue, run through the real executor.
#include "pulse/ops/window.h"

#include <gtest/gtest.h>

#include <random>

#include "pulse/core/executor.h"
#include "pulse/core/json.h"
#include "pulse/ops/map.h"
#include "testing/test_util.h"
#include "testing/vector_source.h"

namespace pulse::ops {
namespace {

using ::pulse::testing::CollectingSink;
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

RunResult RunWindow(std::vector<Record> input, WindowOptions options,
                    std::optional<DurationMs> bound = std::nullopt, int workers = 1,
                    size_t batch = 4096) {
  RunResult rr;
  Pipeline p;
  p.From(std::make_unique<VectorSource>(std::move(input)))
      .Watermarks({bound})
      .KeyBy("k")
      .Apply(WindowedAggregate(options))
      .To(std::make_unique<CollectingSink>(&rr.lines));
  RunOptions ro;
  ro.workers = workers;
  ro.batch_size = batch;
  Result<RunProgress> r = pulse::Run(std::move(p), ro);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (r.ok()) rr.progress = *r;
  return rr;
}

uint64_t Late(const RunResult& r) { return r.progress.bad[static_cast<int>(BadReason::kLate)]; }

std::string Row(int64_t s, int64_t e, const std::string& key, const std::string& agg) {
  return "{\"window_start_ms\":" + std::to_string(s) + ",\"window_end_ms\":" +
         std::to_string(e) + ",\"key\":\"" + key + "\"," + agg + "}";
}

TEST(Window, TumblingFloorsNegativeTimes) {
  auto r = RunWindow({Rec(-1, "a"), Rec(-60000, "a"), Rec(-60001, "a"), Rec(0, "a")},
                     {WindowSpec::Tumbling(60000), AggSpec::Count(), 0});
  EXPECT_EQ(r.lines, (std::vector<std::string>{
                         Row(-120000, -60000, "a", "\"count\":1"),
                         Row(-60000, 0, "a", "\"count\":2"),
                         Row(0, 60000, "a", "\"count\":1"),
                     }));
}

TEST(Window, SlidingWhenSizeIsNotAMultipleOfSlide) {
  // size 50, slide 20: windows [k·20, k·20+50) containing 45 are k = 0, 1, 2.
  auto r = RunWindow({Rec(45, "a")}, {WindowSpec::Sliding(50, 20), AggSpec::Count(), 0});
  EXPECT_EQ(r.lines, (std::vector<std::string>{
                         Row(0, 50, "a", "\"count\":1"),
                         Row(20, 70, "a", "\"count\":1"),
                         Row(40, 90, "a", "\"count\":1"),
                     }));
}

TEST(Window, OriginalSlidingFixtureGivesNineRows) {
  const int64_t t0 = 1704067200000;
  auto r = RunWindow({Rec(t0, "a"), Rec(t0 + 20000, "a"), Rec(t0 + 40000, "b")},
                     {WindowSpec::Sliding(60000, 15000), AggSpec::Count(), 0});
  ASSERT_EQ(r.lines.size(), 9u);
  EXPECT_EQ(r.lines[0], Row(t0 - 45000, t0 + 15000, "a", "\"count\":1"));
  EXPECT_EQ(r.lines[8], Row(t0 + 30000, t0 + 90000, "b", "\"count\":1"));
}

TEST(Window, SessionsBridgeOutOfOrder) {
  // gap 15: sessions [0,15) and [25,40) are bridged by a later record at 12 ([12,27)).
  auto r = RunWindow({Rec(0, "a"), Rec(25, "a"), Rec(12, "a")},
                     {WindowSpec::Session(15), AggSpec::Count(), 0});
  EXPECT_EQ(r.lines, (std::vector<std::string>{Row(0, 40, "a", "\"count\":3")}));
}

TEST(Window, SessionsTouchingMerge) {
  auto r = RunWindow({Rec(0, "a"), Rec(10, "a"), Rec(21, "a")},
                     {WindowSpec::Session(10), AggSpec::Count(), 0});
  EXPECT_EQ(r.lines, (std::vector<std::string>{Row(0, 20, "a", "\"count\":2"),
                                               Row(21, 31, "a", "\"count\":1")}));
}

TEST(Window, RecordExactlyOnEndPlusLatenessIsLate) {
  // bound 0: after the record at 70, W = 70. Window [0,60) with L = 10 is late at W ≥ 70.
  auto late = RunWindow({Rec(0, "a"), Rec(70, "a"), Rec(5, "a")},
                        {WindowSpec::Tumbling(60), AggSpec::Count(), 10}, 0);
  EXPECT_EQ(late.lines, (std::vector<std::string>{Row(0, 60, "a", "\"count\":1"),
                                                  Row(60, 120, "a", "\"count\":1")}));
  EXPECT_EQ(Late(late), 1u);
  // One ms earlier (W = 69) the window is still open.
  auto ok = RunWindow({Rec(0, "a"), Rec(69, "a"), Rec(5, "a")},
                      {WindowSpec::Tumbling(60), AggSpec::Count(), 10}, 0);
  EXPECT_EQ(ok.lines, (std::vector<std::string>{Row(0, 60, "a", "\"count\":2"),
                                                Row(60, 120, "a", "\"count\":1")}));
  EXPECT_EQ(Late(ok), 0u);
}

TEST(Window, LateForSomeSlidingWindowsStillCountsInOthers) {
  // size 60, slide 30, bound 0. After the record at 90, W = 90. The record at 65 belongs to
  // [30,90) (late: 90 ≤ 90) and [60,120) (open), so it counts only in the second.
  auto r = RunWindow({Rec(90, "a"), Rec(65, "a")},
                     {WindowSpec::Sliding(60, 30), AggSpec::Count(), 0}, 0);
  EXPECT_EQ(r.lines, (std::vector<std::string>{Row(60, 120, "a", "\"count\":2"),
                                               Row(90, 150, "a", "\"count\":1")}));
  EXPECT_EQ(Late(r), 0u);
}

TEST(Window, ExplicitSourceWatermarksReleaseAndMakeLate) {
  // No strategy: only the source's own watermarks. W rises to 10 before record 2 (so [0,10) is
  // released and the record at 5 is late), then to 100 after the last record.
  for (size_t per_read : {size_t{1}, size_t{2}, SIZE_MAX}) {
    std::vector<std::string> lines;
    Pipeline p;
    p.From(std::make_unique<VectorSource>(
               std::vector<Record>{Rec(1, "a"), Rec(2, "a"), Rec(5, "a"), Rec(12, "a")},
               per_read, std::vector<SourceWatermark>{{2, 10}, {4, 100}}))
        .KeyBy("k")
        .Apply(WindowedAggregate({WindowSpec::Tumbling(10), AggSpec::Count(), 0}))
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
TEST(Window, EndOfInputClosesWindowsInStepsWithTheSameOutput) {
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
        .Apply(WindowedAggregate({spec, AggSpec::Count(), 0}))
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

TEST(Window, EqualTimestampsAndKeyOrder) {
  auto r = RunWindow({Rec(5, "b"), Rec(5, "a"), Rec(5, "b")},
                     {WindowSpec::Tumbling(10), AggSpec::Count(), 0});
  EXPECT_EQ(r.lines, (std::vector<std::string>{Row(0, 10, "a", "\"count\":1"),
                                               Row(0, 10, "b", "\"count\":2")}));
}

TEST(Window, EmptyInputAndOneRecord) {
  EXPECT_TRUE(RunWindow({}, {WindowSpec::Tumbling(10), AggSpec::Count(), 0}).lines.empty());
  EXPECT_EQ(RunWindow({Rec(3, "a")}, {WindowSpec::Tumbling(10), AggSpec::Count(), 0}).lines,
            (std::vector<std::string>{Row(0, 10, "a", "\"count\":1")}));
}

TEST(Window, Aggregations) {
  std::vector<Record> in = {Rec(1, "a", 1), Rec(2, "a", 4), Rec(3, "a", 4)};
  Object s;
  s.emplace_back("k", Value("a"));
  s.emplace_back("x", Value("2.5"));  // numeric string counts
  in.push_back(Record{4, Value(std::move(s))});
  Object bad;
  bad.emplace_back("k", Value("a"));
  bad.emplace_back("x", Value(true));  // ignored
  in.push_back(Record{5, Value(std::move(bad))});
  auto run = [&](AggSpec agg) {
    return RunWindow(in, {WindowSpec::Tumbling(10), agg, 0}).lines.at(0);
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

TEST(Window, KeysKeepTheirJsonType) {
  std::vector<Record> in;
  for (Value k : {Value(int64_t{1}), Value("1"), Value()}) {
    Object o;
    if (!k.is_null()) o.emplace_back("k", k);
    in.push_back(Record{1, Value(std::move(o))});
  }
  auto r = RunWindow(in, {WindowSpec::Tumbling(10), AggSpec::Count(), 0});
  EXPECT_EQ(r.lines, (std::vector<std::string>{
                         "{\"window_start_ms\":0,\"window_end_ms\":10,\"key\":\"1\",\"count\":1}",
                         "{\"window_start_ms\":0,\"window_end_ms\":10,\"key\":1,\"count\":1}",
                         "{\"window_start_ms\":0,\"window_end_ms\":10,\"key\":null,\"count\":1}",
                     }));
}

// Same bytes for any worker count and batch size, on out-of-order data with late records.
class Determinism : public ::testing::TestWithParam<WindowSpec> {};

TEST_P(Determinism, SameOutputForAnyWorkersAndBatchSize) {
  std::mt19937_64 rng(42);
  std::vector<Record> in;
  for (int i = 0; i < 20000; ++i) {
    EventTime t = i * 10 - static_cast<EventTime>(rng() % 3000);  // up to 3 s out of order
    in.push_back(Rec(t, "k" + std::to_string(rng() % 97), static_cast<double>(rng() % 100)));
  }
  WindowOptions options{GetParam(), AggSpec::Avg("x"), 500};
  RunResult base = RunWindow(in, options, 1000, 1, 4096);
  ASSERT_GT(base.lines.size(), 100u);
  ASSERT_GT(Late(base), 0u);
  for (int workers : {1, 2, 4}) {
    for (size_t batch : {5, 64, 1000}) {
      RunResult r = RunWindow(in, options, 1000, workers, batch);
      EXPECT_EQ(r.lines, base.lines) << "workers " << workers << " batch " << batch;
      EXPECT_EQ(Late(r), Late(base));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllWindows, Determinism,
                         ::testing::Values(WindowSpec::Tumbling(1000),
                                           WindowSpec::Sliding(1000, 300),
                                           WindowSpec::Session(40)));

TEST(WindowOptions, RejectsBadDurations) {
  EXPECT_FALSE(WindowSpec::Tumbling(0).Validate().ok());
  EXPECT_FALSE(WindowSpec::Sliding(10, 20).Validate().ok());
  EXPECT_FALSE(WindowSpec::Session(-1).Validate().ok());
  EXPECT_EQ(WindowSpec::Sliding(10, 20).Validate().message(),
            "window.slide (20ms) must not be greater than window.size (10ms)");
  WindowOptions o{WindowSpec::Tumbling(10), AggSpec::Count(), -1};
  EXPECT_EQ(o.Validate().message(), "allowed_lateness must not be negative");
  EXPECT_FALSE(AggSpec::Sum("").Validate().ok());
}

}  // namespace
}  // namespace pulse::ops
