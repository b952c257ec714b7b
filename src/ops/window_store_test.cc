// SPDX-License-Identifier: MIT
// The window operator over each store, driven directly (no executor, no threads): snapshots
// taken by one worker count restore into any other with the output of an uninterrupted run
// (the original single aggregation and every named aggregate);
// and WindowedAggregate reports bad options as InvalidArgument instead of failing later.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ops/window_test_util.h"
#include "pulse/core/executor.h"
#include "pulse/ops/window.h"
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

constexpr DurationMs kBound = 700;  // the watermark trails the largest time by this
constexpr size_t kBatch = 97;       // records between watermark steps

// Keyed records, up to 2 s out of order (some late), times from negative to positive.
std::vector<KeyedRecord> Input() {
  std::mt19937_64 rng(11);
  std::vector<KeyedRecord> in;
  EventTime max_time = kMinWatermark;
  for (int i = 0; i < 5000; ++i) {
    KeyedRecord r;
    r.record.time = -20000 + i * 10 - static_cast<EventTime>(rng() % 2000);
    const std::string key = std::string("u").append(std::to_string(rng() % 53));
    r.key = "\"" + key + "\"";
    r.key_value = Value(key);
    Object o;
    o.emplace_back("x", Value(static_cast<double>(rng() % 1000) / 8));
    // For the named aggregates: an integer now and then null, a string of a few values.
    if (rng() % 7 != 0) {
      o.emplace_back("n", Value(static_cast<int64_t>(rng() % 100) - 50));
    } else {
      o.emplace_back("n", Value());
    }
    o.emplace_back("s", Value(std::string("s").append(std::to_string(rng() % 40))));
    r.record.value = Value(std::move(o));
    r.watermark = max_time == kMinWatermark ? kMinWatermark : max_time - kBound;
    max_time = std::max(max_time, r.record.time);
    r.sequence = static_cast<uint64_t>(i);
    in.push_back(std::move(r));
  }
  return in;
}

// Results as text, sorted (each release is ordered; the executor merges them across workers),
// and the late records' sequence numbers.
struct Output {
  std::vector<std::string> results;
  std::vector<uint64_t> late;
};

void Collect(KeyedOutput* out, Output* into) {
  for (KeyedResult& r : out->results) into->results.push_back(r.record.value.ToJson());
  for (KeyedRecord& r : out->late) into->late.push_back(r.sequence);
  out->results.clear();
  out->late.clear();
}

// The operators of one worker count, each owning its key groups.
class Workers {
 public:
  Workers(const WindowOptions& options, uint32_t workers) {
    std::unique_ptr<KeyedOperatorFactory> factory = WindowedAggregate(options);
    for (uint32_t w = 0; w < workers; ++w) {
      const KeyGroupRange range = KeyGroupRange::ForWorker(w, workers);
      ranges_.push_back(range);
      Result<std::unique_ptr<KeyedOperator>> op = factory->Make({w, workers, range});
      EXPECT_TRUE(op.ok()) << op.status().ToString();
      if (op.ok()) ops_.push_back(std::move(op).value());
    }
  }

  // Process records [from, to) of `in` in batches, each followed by its watermark step.
  void Run(const std::vector<KeyedRecord>& in, size_t from, size_t to, Output* out) {
    KeyedOutput step;
    for (size_t i = from; i < to; ++i) {
      KeyedRecord r = in[i];
      const uint32_t group = state::KeyGroupForKey(r.key);
      for (size_t w = 0; w < ops_.size(); ++w) {
        if (ranges_[w].Contains(group)) ASSERT_OK(ops_[w]->Process(std::move(r), &step));
      }
      if ((i + 1) % kBatch == 0 || i + 1 == to) {
        const EventTime watermark = i + 1 < in.size() ? in[i + 1].watermark : kMaxWatermark;
        for (auto& op : ops_) ASSERT_OK(op->AdvanceWatermark(watermark, &step));
      }
      Collect(&step, out);
    }
  }

  // Snapshot each worker into `dir`/w<n>; return the directories.
  std::vector<std::string> Snapshot(const std::string& dir) {
    std::vector<std::string> dirs;
    for (size_t w = 0; w < ops_.size(); ++w) {
      dirs.push_back(dir + "/w" + std::to_string(w));
      EXPECT_OK(ops_[w]->SnapshotState(dirs.back()));
    }
    return dirs;
  }

  void Restore(const std::vector<std::string>& dirs) {
    for (auto& op : ops_) ASSERT_OK(op->RestoreState(dirs));
  }

  uint64_t open_windows() const {
    uint64_t open = 0;
    for (const auto& op : ops_) open += op->stats().open_windows;
    return open;
  }

 private:
  std::vector<KeyGroupRange> ranges_;
  std::vector<std::unique_ptr<KeyedOperator>> ops_;
};

// Every named aggregate, over every kind of field.
std::vector<Aggregate> EveryAggregate() {
  using Kind = Aggregate::Kind;
  return {Aggregate::Count("count"),
          Aggregate::Of("count_n", Kind::kCount, "n"),
          Aggregate::Of("sum_n", Kind::kSum, "n"),
          Aggregate::Of("avg_x", Kind::kAvg, "x"),
          Aggregate::Of("min_x", Kind::kMin, "x"),
          Aggregate::Of("max_n", Kind::kMax, "n"),
          Aggregate::Of("distinct_s", Kind::kDistinct, "s"),
          Aggregate::Of("approx_s", Kind::kApproxDistinct, "s"),
          Aggregate::Quantiles("q_x", "x", {0.5, 0.9}),
          Aggregate::Of("first_s", Kind::kFirst, "s"),
          Aggregate::Of("last_n", Kind::kLast, "n"),
          Aggregate::TopK("top_s", "s", 3),
          Aggregate::Of("sd_x", Kind::kStddev, "x"),
          Aggregate::Of("varp_n", Kind::kVariancePop, "n")};
}

// The options of the test's window, with the original single aggregation (avg of x) or every
// named aggregate.
WindowOptions WithAggregation(WindowSpec window, bool named) {
  WindowOptions options = Options(window, AggSpec::Avg("x"), 250);
  if (named) options.aggregates = EveryAggregate();
  return options;
}

class WindowStoreTest
    : public ::testing::TestWithParam<std::tuple<WindowSpec, WindowStoreKind, bool>> {
 protected:
  WindowOptions Stored() {
    const auto [window, store, named] = GetParam();
    return InStore(WithAggregation(window, named), store,
                   dir_.file("db-" + std::to_string(runs_++)));
  }

  TempDir dir_;
  int runs_ = 0;
};

// Three phases with different worker counts; each phase but the last snapshots twice (the
// second snapshot of an instance writes only what changed) and the next restores the second.
TEST_P(WindowStoreTest, SnapshotsRestoreAtAnyWorkerCount) {
  const std::vector<KeyedRecord> in = Input();
  // The reference: one worker, windows on the heap, no snapshot.
  Output expected;
  Workers(WithAggregation(std::get<0>(GetParam()), std::get<2>(GetParam())), 1)
      .Run(in, 0, in.size(), &expected);
  ASSERT_GT(expected.results.size(), 500u);
  ASSERT_GT(expected.late.size(), 0u);
  std::sort(expected.results.begin(), expected.results.end());

  const size_t n = in.size();
  const std::vector<size_t> cuts = {0, n / 5, n / 3, n / 2, 2 * n / 3, n};
  for (const std::vector<uint32_t>& counts :
       {std::vector<uint32_t>{1, 3, 2}, {2, 1, 3}, {3, 2, 1}, {4, 4, 4}}) {
    Output got;
    std::vector<std::string> restore_from;
    for (size_t phase = 0; phase < 3; ++phase) {
      Workers workers(Stored(), counts[phase]);
      if (!restore_from.empty()) workers.Restore(restore_from);
      const std::string dir = dir_.file("snap-" + std::to_string(runs_++));
      if (phase < 2) {
        workers.Run(in, cuts[2 * phase], cuts[2 * phase + 1], &got);
        workers.Snapshot(dir + "-a");
        workers.Run(in, cuts[2 * phase + 1], cuts[2 * phase + 2], &got);
        restore_from = workers.Snapshot(dir + "-b");
        EXPECT_GT(workers.open_windows(), 0u);
      } else {
        workers.Run(in, cuts[4], n, &got);
        EXPECT_EQ(workers.open_windows(), 0u);
      }
    }
    std::sort(got.results.begin(), got.results.end());
    EXPECT_EQ(got.results, expected.results) << counts[0] << counts[1] << counts[2];
    EXPECT_EQ(got.late, expected.late);
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllWindows, WindowStoreTest,
    ::testing::Combine(::testing::Values(WindowSpec::Tumbling(1000),
                                         WindowSpec::Sliding(1000, 300),
                                         WindowSpec::Session(60)),
                       ::testing::ValuesIn(AllWindowStores()), ::testing::Bool()),
    [](const ::testing::TestParamInfo<std::tuple<WindowSpec, WindowStoreKind, bool>>& info) {
      const WindowSpec::Kind kind = std::get<0>(info.param).kind;
      const std::string name = kind == WindowSpec::Kind::kTumbling  ? "Tumbling"
                               : kind == WindowSpec::Kind::kSliding ? "Sliding"
                                                                    : "Session";
      return name + StoreName(std::get<1>(info.param)) +
             (std::get<2>(info.param) ? "Named" : "");
    });

// A bad option through the C++ API: the factory describes itself, and making the operator (as
// a run does for each worker) fails with InvalidArgument naming the option; so does the run.
struct BadOptions {
  std::string name;
  WindowOptions options;
  std::string message;
};

std::vector<BadOptions> BadOptionCases() {
  auto with = [](WindowSpec window, AggSpec agg = AggSpec::Count(), DurationMs lateness = 0) {
    return Options(window, std::move(agg), lateness);
  };
  WindowOptions no_backend = with(WindowSpec::Tumbling(10));
  no_backend.state_in_backend = true;
  WindowSpec unknown_window = WindowSpec::Tumbling(10);
  unknown_window.kind = static_cast<WindowSpec::Kind>(7);
  AggSpec unknown_agg = AggSpec::Count();
  unknown_agg.kind = static_cast<AggSpec::Kind>(9);
  return {
      {"TumblingSizeZero", with(WindowSpec::Tumbling(0)), "window.size must be greater than 0"},
      {"TumblingSizeNegative", with(WindowSpec::Tumbling(-5)),
       "window.size must be greater than 0"},
      {"TumblingSizeOverLimit", with(WindowSpec::Tumbling(kMaxDurationMs + 1)),
       "window.size must be at most 100 years"},
      {"SlidingSizeZero", with(WindowSpec::Sliding(0, 5)), "window.size must be greater than 0"},
      {"SlidingSlideZero", with(WindowSpec::Sliding(10, 0)),
       "window.slide must be greater than 0"},
      {"SlidingSlideOverSize", with(WindowSpec::Sliding(10, 20)),
       "window.slide (20ms) must not be greater than window.size (10ms)"},
      {"SessionGapZero", with(WindowSpec::Session(0)), "window.gap must be greater than 0"},
      {"SumWithoutField", with(WindowSpec::Tumbling(10), AggSpec::Sum("")),
       "aggregation sum needs a field"},
      {"DistinctWithoutField", with(WindowSpec::Session(10), AggSpec::Distinct("")),
       "aggregation distinct_count needs a field"},
      {"NegativeLateness", with(WindowSpec::Tumbling(10), AggSpec::Count(), -1),
       "allowed_lateness must not be negative"},
      {"InBackendWithoutBackend", no_backend, "state_in_backend needs a state_backend"},
      {"UnknownWindowKind", with(unknown_window), "unknown window kind"},
      {"UnknownAggregation", with(WindowSpec::Tumbling(10), unknown_agg),
       "unknown aggregation kind"},
  };
}

class WindowOptionsTest : public ::testing::TestWithParam<BadOptions> {};

TEST_P(WindowOptionsTest, MakeReportsTheBadOption) {
  const BadOptions& c = GetParam();
  EXPECT_EQ(c.options.Validate().message(), c.message);
  std::unique_ptr<KeyedOperatorFactory> factory = WindowedAggregate(c.options);
  EXPECT_EQ(factory->name(), "window");
  EXPECT_FALSE(factory->Describe().empty());
  (void)factory->InputFields();
  EXPECT_EQ(factory->Validate().message(), c.message);
  for (uint32_t workers : {1u, 2u}) {
    Result<std::unique_ptr<KeyedOperator>> op =
        factory->Make({0, workers, KeyGroupRange::ForWorker(0, workers)});
    ASSERT_FALSE(op.ok());
    EXPECT_EQ(op.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(op.status().message(), c.message);
  }
}

TEST_P(WindowOptionsTest, RunReportsTheBadOption) {
  std::vector<Record> input;
  for (int i = 0; i < 100; ++i) {
    Object o;
    o.emplace_back("k", Value(std::string("k").append(std::to_string(i % 7))));
    input.push_back(Record{i * 10, Value(std::move(o))});
  }
  std::vector<std::string> lines;
  Pipeline p;
  p.From(std::make_unique<VectorSource>(std::move(input)))
      .KeyBy("k")
      .Apply(WindowedAggregate(GetParam().options))
      .To(std::make_unique<CollectingSink>(&lines));
  // Pipeline::Validate (what `pulse validate` and Run call first) already names the option.
  EXPECT_EQ(p.Validate().message(), GetParam().message);
  RunOptions ro;
  ro.workers = 2;
  Result<RunProgress> r = pulse::Run(std::move(p), ro);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find(GetParam().message), std::string::npos)
      << r.status().ToString();
  EXPECT_TRUE(lines.empty());
}

INSTANTIATE_TEST_SUITE_P(Bad, WindowOptionsTest, ::testing::ValuesIn(BadOptionCases()),
                         [](const ::testing::TestParamInfo<BadOptions>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace pulse::ops
