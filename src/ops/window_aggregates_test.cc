// SPDX-License-Identifier: MIT
// Named aggregates (WindowOptions::aggregates) through the real executor, against every store of
// open windows (the heap; a state backend in memory or in RocksDB): exact results of every
// aggregate for mixed, missing, null and single values, typed numbers, first/last ties, session
// merges, and the same bytes for any worker count and batch size.
#include <gtest/gtest.h>

#include <random>

#include "ops/window_test_util.h"
#include "pulse/core/executor.h"
#include "pulse/core/json.h"
#include "pulse/ops/window.h"
#include "testing/test_util.h"
#include "testing/vector_source.h"

namespace pulse::ops {
namespace {

using ::pulse::ops::testing::AllWindowStores;
using ::pulse::ops::testing::InStore;
using ::pulse::ops::testing::StoreName;
using ::pulse::ops::testing::WindowStoreKind;
using ::pulse::testing::CollectingSink;
using ::pulse::testing::TempDir;
using ::pulse::testing::VectorSource;
using Kind = Aggregate::Kind;

// A record at `t` from its JSON text.
Record R(EventTime t, std::string_view json) {
  Result<Value> v = ParseJson(json);
  EXPECT_TRUE(v.ok()) << json;
  return Record{t, v.ok() ? *v : Value()};
}

std::string Row(int64_t s, int64_t e, const std::string& key, const std::string& body) {
  return "{\"window_start_ms\":" + std::to_string(s) + ",\"window_end_ms\":" +
         std::to_string(e) + ",\"key\":\"" + key + "\"," + body + "}";
}

// Every aggregate over x (and a few over y), in this order.
std::vector<Aggregate> Everything() {
  return {
      Aggregate::Count("n"),
      Aggregate::Of("nx", Kind::kCount, "x"),
      Aggregate::Of("sum", Kind::kSum, "x"),
      Aggregate::Of("avg", Kind::kAvg, "x"),
      Aggregate::Of("min", Kind::kMin, "x"),
      Aggregate::Of("max", Kind::kMax, "x"),
      Aggregate::Of("d", Kind::kDistinct, "x"),
      Aggregate::Of("ad", Kind::kApproxDistinct, "x"),
      Aggregate::Quantile("med", "x", 0.5),
      Aggregate::Quantiles("qs", "x", {0, 0.25, 1}),
      Aggregate::Of("first", Kind::kFirst, "x"),
      Aggregate::Of("last", Kind::kLast, "x"),
      Aggregate::TopK("top", "x", 2),
      Aggregate::Of("sd", Kind::kStddev, "x"),
      Aggregate::Of("sdp", Kind::kStddevPop, "x"),
      Aggregate::Of("var", Kind::kVariance, "x"),
      Aggregate::Of("varp", Kind::kVariancePop, "x"),
      Aggregate::Of("ysum", Kind::kSum, "y"),
      Aggregate::Of("ymin", Kind::kMin, "y"),
      Aggregate::Quantile("yq", "y", 0.5),
  };
}

WindowOptions Named(WindowSpec window, std::vector<Aggregate> aggregates,
                    DurationMs lateness = 0) {
  WindowOptions options;
  options.window = window;
  options.aggregates = std::move(aggregates);
  options.allowed_lateness_ms = lateness;
  return options;
}

class WindowAggregatesTest : public ::testing::TestWithParam<WindowStoreKind> {
 protected:
  std::vector<std::string> Run(std::vector<Record> input, const WindowOptions& options,
                               int workers = 1) {
    std::vector<std::string> lines;
    Pipeline p;
    p.From(std::make_unique<VectorSource>(std::move(input)))
        .KeyBy("k")
        .Apply(WindowedAggregate(
            InStore(options, GetParam(), dir_.file("db-" + std::to_string(runs_++)))))
        .To(std::make_unique<CollectingSink>(&lines));
    RunOptions ro;
    ro.workers = workers;
    Result<RunProgress> r = pulse::Run(std::move(p), ro);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return lines;
  }

 private:
  TempDir dir_;
  int runs_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Stores, WindowAggregatesTest, ::testing::ValuesIn(AllWindowStores()),
                         [](const ::testing::TestParamInfo<WindowStoreKind>& info) {
                           return StoreName(info.param);
                         });

// Key a: integers, a numeric string, a bool, missing, null and a plain string. Key b: no x at
// all. Key c: a single value.
std::vector<Record> MixedInput() {
  return {
      R(1, R"({"k":"a","x":1,"y":5})"),   R(2, R"({"k":"a","x":4,"y":-2})"),
      R(3, R"({"k":"a","x":4})"),         R(4, R"({"k":"a","x":"2.5"})"),
      R(5, R"({"k":"a","x":true})"),      R(6, R"({"k":"a"})"),
      R(7, R"({"k":"a","x":null})"),      R(8, R"({"k":"a","x":"abc"})"),
      R(1, R"({"k":"b","z":1})"),         R(2, R"({"k":"c","x":7})"),
  };
}

const std::string kMixedA =
    R"("n":8,"nx":6,"sum":11.5,"avg":2.875,"min":1,"max":4,"d":5,"ad":5,"med":2.5,)"
    R"("qs":[1.0,1.0,4.0],"first":1,"last":"abc",)"
    R"("top":[{"value":4,"count":2},{"value":true,"count":1}],)"
    R"("sd":1.4361406616345072,"sdp":1.243734296383275,"var":2.0625,"varp":1.546875,)"
    R"("ysum":3,"ymin":-2,"yq":-2)";
const std::string kNothingB =
    R"("n":1,"nx":0,"sum":null,"avg":null,"min":null,"max":null,"d":0,"ad":0,"med":null,)"
    R"("qs":[null,null,null],"first":null,"last":null,"top":[],"sd":null,"sdp":null,)"
    R"("var":null,"varp":null,"ysum":null,"ymin":null,"yq":null)";
const std::string kSingleC =
    R"("n":1,"nx":1,"sum":7,"avg":7.0,"min":7,"max":7,"d":1,"ad":1,"med":7,"qs":[7,7,7],)"
    R"("first":7,"last":7,"top":[{"value":7,"count":1}],"sd":null,"sdp":0.0,"var":null,)"
    R"("varp":0.0,"ysum":null,"ymin":null,"yq":null)";

TEST_P(WindowAggregatesTest, EveryAggregateTumbling) {
  EXPECT_EQ(Run(MixedInput(), Named(WindowSpec::Tumbling(10), Everything())),
            (std::vector<std::string>{Row(0, 10, "a", kMixedA), Row(0, 10, "b", kNothingB),
                                      Row(0, 10, "c", kSingleC)}));
}

// The same values in sliding windows (each record in two windows) and in sessions (gap 10:
// key a's records are one session [1, 18), b's [1, 11), c's [2, 12)).
TEST_P(WindowAggregatesTest, EveryAggregateSlidingAndSession) {
  const std::vector<std::string> sliding =
      Run(MixedInput(), Named(WindowSpec::Sliding(20, 10), Everything()));
  EXPECT_EQ(sliding, (std::vector<std::string>{
                         Row(-10, 10, "a", kMixedA), Row(-10, 10, "b", kNothingB),
                         Row(-10, 10, "c", kSingleC), Row(0, 20, "a", kMixedA),
                         Row(0, 20, "b", kNothingB), Row(0, 20, "c", kSingleC)}));
  EXPECT_EQ(Run(MixedInput(), Named(WindowSpec::Session(10), Everything())),
            (std::vector<std::string>{Row(1, 11, "b", kNothingB), Row(2, 12, "c", kSingleC),
                                      Row(1, 18, "a", kMixedA)}));
}

// Sums of integers stay integers, exactly, while they fit int64 (also when a partial sum does
// not); beyond, a double. min/max/first/last give numbers as they came.
TEST_P(WindowAggregatesTest, TypedNumbers) {
  const std::vector<Aggregate> aggregates = {
      Aggregate::Of("sum", Kind::kSum, "x"), Aggregate::Of("min", Kind::kMin, "x"),
      Aggregate::Of("max", Kind::kMax, "x"), Aggregate::Of("first", Kind::kFirst, "x"),
      Aggregate::Of("last", Kind::kLast, "x")};
  const std::vector<Record> in = {
      R(1, R"({"k":"over","x":9223372036854775807})"), R(2, R"({"k":"over","x":1})"),
      R(1, R"({"k":"back","x":9223372036854775807})"), R(2, R"({"k":"back","x":1})"),
      R(3, R"({"k":"back","x":-2})"),
      R(1, R"({"k":"under","x":-9223372036854775808})"), R(2, R"({"k":"under","x":-1})"),
      R(1, R"({"k":"text","x":0.1})"), R(2, R"({"k":"text","x":1e300})"),
      R(3, R"({"k":"text","x":"12"})"), R(4, R"({"k":"text","x":2.50})"),
      R(1, R"({"k":"zero","x":0.0})"), R(2, R"({"k":"zero","x":-0.0})"),
      R(3, R"({"k":"zero","x":0})"),
      R(1, R"({"k":"any","x":{"a":[1,"é"]}})"), R(2, R"({"k":"any","x":"12"})"),
  };
  EXPECT_EQ(
      Run(in, Named(WindowSpec::Tumbling(10), aggregates)),
      (std::vector<std::string>{
          Row(0, 10, "any",
              R"("sum":12,"min":12,"max":12,"first":{"a":[1,"é"]},"last":"12")"),
          Row(0, 10, "back",
              R"("sum":9223372036854775806,"min":-2,"max":9223372036854775807,)"
              R"("first":9223372036854775807,"last":-2)"),
          Row(0, 10, "over",
              R"("sum":9.223372036854776e18,"min":1,"max":9223372036854775807,)"
              R"("first":9223372036854775807,"last":1)"),
          Row(0, 10, "text", R"("sum":1e300,"min":0.1,"max":1e300,"first":0.1,"last":2.5)"),
          Row(0, 10, "under",
              R"("sum":-9.223372036854776e18,"min":-9223372036854775808,"max":-1,)"
              R"("first":-9223372036854775808,"last":-1)"),
          // Equal numbers: an integer over a double, -0.0 below 0.0.
          Row(0, 10, "zero", R"("sum":0.0,"min":0,"max":0,"first":0.0,"last":0)"),
      }));
}

// first/last by event time, ties in input order; out of order input.
TEST_P(WindowAggregatesTest, FirstAndLastTies) {
  const std::vector<Aggregate> aggregates = {Aggregate::Of("first", Kind::kFirst, "x"),
                                             Aggregate::Of("last", Kind::kLast, "x")};
  const std::vector<Record> in = {
      R(5, R"({"k":"a","x":"p"})"), R(3, R"({"k":"a","x":"q"})"), R(5, R"({"k":"a","x":"r"})"),
      R(3, R"({"k":"a","x":"s"})"), R(4, R"({"k":"a","x":null})"), R(2, R"({"k":"a"})"),
      R(6, R"({"k":"b","x":1})"),   R(6, R"({"k":"b","x":2})"),    R(6, R"({"k":"b","x":3})"),
  };
  EXPECT_EQ(Run(in, Named(WindowSpec::Tumbling(10), aggregates)),
            (std::vector<std::string>{Row(0, 10, "a", R"("first":"q","last":"r")"),
                                      Row(0, 10, "b", R"("first":1,"last":3)")}));
  // In sessions (gap 10) the same records form one session per key, through merges when a
  // record bridges two sessions: key m's 0 and 20 are apart until 10 joins them; at equal times
  // the earlier record stays first and the later one becomes last.
  const std::vector<Record> sessions = {
      R(0, R"({"k":"m","x":"a"})"),  R(20, R"({"k":"m","x":"b"})"), R(10, R"({"k":"m","x":"c"})"),
      R(20, R"({"k":"m","x":"d"})"), R(0, R"({"k":"m","x":"e"})"),
      R(50, R"({"k":"t","x":"old"})"), R(50, R"({"k":"t","x":"new"})"),
  };
  EXPECT_EQ(Run(sessions, Named(WindowSpec::Session(10), aggregates)),
            (std::vector<std::string>{Row(0, 30, "m", R"("first":"a","last":"d")"),
                                      Row(50, 60, "t", R"("first":"old","last":"new")")}));
}

// Sessions merge every state: 0 and 20 are separate until 10 bridges them.
TEST_P(WindowAggregatesTest, SessionMergesEveryState) {
  const std::vector<Record> in = {
      R(0, R"({"k":"a","x":5})"),
      R(20, R"({"k":"a","x":7})"),
      R(10, R"({"k":"a","x":5.0})"),
  };
  EXPECT_EQ(Run(in, Named(WindowSpec::Session(10), Everything())),
            (std::vector<std::string>{Row(
                0, 30, "a",
                R"("n":3,"nx":3,"sum":17.0,"avg":5.666666666666667,"min":5,"max":7,"d":3,)"
                R"("ad":3,"med":5.0,"qs":[5.0,5.0,7.0],"first":5,"last":7,)"
                R"("top":[{"value":5,"count":1},{"value":5.0,"count":1}],)"
                R"("sd":1.1547005383792515,"sdp":0.9428090415820634,)"
                R"("var":1.3333333333333333,"varp":0.8888888888888888,)"
                R"("ysum":null,"ymin":null,"yq":null)")}));
}

// Results come in the aggregates' order, not by name, also when several aggregates share a
// state (sum and avg of x, its quantiles, its stddev and variance) and when a field repeats.
TEST_P(WindowAggregatesTest, ResultsInTheAggregatesOrder) {
  const std::vector<Aggregate> aggregates = {
      Aggregate::Of("z_avg", Kind::kAvg, "x"),     Aggregate::Quantile("y_p50", "x", 0.5),
      Aggregate::Count("x_n"),                     Aggregate::Of("w_sum", Kind::kSum, "x"),
      Aggregate::Of("v_var", Kind::kVariance, "x"), Aggregate::Quantile("u_max", "x", 1),
      Aggregate::Of("t_sd", Kind::kStddev, "x"),
  };
  const std::vector<Record> in = {R(1, R"({"k":"a","x":2})"), R(2, R"({"k":"a","x":4})"),
                                  R(3, R"({"k":"a","x":9})"), R(14, R"({"k":"a","x":1})")};
  EXPECT_EQ(Run(in, Named(WindowSpec::Tumbling(10), aggregates), 2),
            (std::vector<std::string>{
                Row(0, 10, "a",
                    R"("z_avg":5.0,"y_p50":4,"x_n":3,"w_sum":15,"v_var":13.0,"u_max":9,)"
                    R"("t_sd":3.605551275463989)"),
                Row(10, 20, "a",
                    R"("z_avg":1.0,"y_p50":1,"x_n":1,"w_sum":1,"v_var":null,"u_max":1,)"
                    R"("t_sd":null)")}));
}

// The same bytes for any worker count and batch size, and in every store, on out-of-order data
// with late records and sessions that merge; the heap with one worker is the reference.
class NamedDeterminism
    : public ::testing::TestWithParam<std::tuple<WindowSpec, WindowStoreKind>> {};

TEST_P(NamedDeterminism, SameOutputForAnyWorkersAndBatchSize) {
  const auto [window, store] = GetParam();
  std::mt19937_64 rng(42);
  std::vector<Record> in;
  for (int i = 0; i < 20000; ++i) {
    Object o;
    o.emplace_back("k", Value(std::string("k").append(std::to_string(rng() % 37))));
    if (rng() % 10 != 0) o.emplace_back("x", Value(static_cast<int64_t>(rng() % 1000)));
    o.emplace_back("u", Value(std::string("u").append(std::to_string(rng() % 3000))));
    o.emplace_back("d", Value(static_cast<double>(rng() % 10000) / 8));
    in.push_back(Record{i * 10 - static_cast<EventTime>(rng() % 3000), Value(std::move(o))});
  }
  const std::vector<Aggregate> aggregates = {
      Aggregate::Count("n"),
      Aggregate::Of("s", Kind::kSum, "x"),
      Aggregate::Of("sd", Kind::kSum, "d"),
      Aggregate::Quantiles("q", "d", {0.5, 0.99}),
      Aggregate::Of("ad", Kind::kApproxDistinct, "u"),
      Aggregate::Of("dist", Kind::kDistinct, "x"),
      Aggregate::Of("f", Kind::kFirst, "u"),
      Aggregate::Of("l", Kind::kLast, "u"),
      Aggregate::TopK("t", "x", 3),
      Aggregate::Of("v", Kind::kVariance, "d"),
      Aggregate::Of("mx", Kind::kMax, "d"),
  };
  TempDir dir;
  int runs = 0;
  auto run = [&](WindowStoreKind kind, int workers, size_t batch) {
    std::vector<std::string> lines;
    Pipeline p;
    p.From(std::make_unique<VectorSource>(in))
        .Watermarks({1000})
        .KeyBy("k")
        .Apply(WindowedAggregate(InStore(Named(window, aggregates, 500), kind,
                                         dir.file("db-" + std::to_string(runs++)))))
        .To(std::make_unique<CollectingSink>(&lines));
    RunOptions ro;
    ro.workers = workers;
    ro.batch_size = batch;
    Result<RunProgress> r = pulse::Run(std::move(p), ro);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return lines;
  };
  const std::vector<std::string> base = run(WindowStoreKind::kHeap, 1, 4096);
  ASSERT_GT(base.size(), 100u);
  for (int workers : {1, 2, 4}) {
    for (size_t batch : {7, 1000}) {
      EXPECT_EQ(run(store, workers, batch), base) << "workers " << workers << " batch " << batch;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllWindows, NamedDeterminism,
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

// The operator reads only the aggregates' fields, each once; Describe lists them as written.
TEST(NamedAggregates, InputFieldsAndDescription) {
  std::unique_ptr<KeyedOperatorFactory> f = WindowedAggregate(Named(
      WindowSpec::Tumbling(60000),
      {Aggregate::Count("requests"), Aggregate::Quantile("p99", "latency_s", 0.99),
       Aggregate::Of("users", Kind::kApproxDistinct, "user"),
       Aggregate::Of("bytes", Kind::kSum, "bytes"),
       Aggregate::Of("avg_latency", Kind::kAvg, "latency_s"),
       Aggregate::TopK("paths", "path", 5)}));
  EXPECT_EQ(f->InputFields(), (std::vector<std::string>{"latency_s", "user", "bytes", "path"}));
  EXPECT_EQ(f->Describe(),
            "tumbling 1m, requests = count(*), p99 = quantile(latency_s, 0.99), users = "
            "approx_distinct(user), bytes = sum(bytes), avg_latency = avg(latency_s), paths = "
            "top_k(path, 5), allowed lateness 0s");
}

}  // namespace
}  // namespace pulse::ops
