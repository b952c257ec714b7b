// SPDX-License-Identifier: MIT
// Micro-benchmarks of the window operator (include/pulse/ops/window.h): window assignment and
// aggregation updates per record, and the results a watermark releases, for tumbling, sliding
// (size/slide = 4) and session windows and each aggregation; and the memory per open
// (window, key).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "pulse/core/operator.h"
#include "pulse/core/value.h"
#include "pulse/ops/window.h"

namespace pulse {
namespace {

constexpr size_t kBatch = 4096;
constexpr DurationMs kOutOfOrderMs = 1000;

// Records 1 ms apart in event time, each {"key": k, "value": x}, of `keys` keys in turn, in
// bursts of `burst` records per key: with 1000 keys and bursts of 1, a 60 s window of a key
// sees 60 records; with bursts of 8, a key is active for 8 ms every 8 s.
class RecordStream {
 public:
  RecordStream(int keys, uint64_t burst) : burst_(burst) {
    for (int k = 0; k < keys; ++k) {
      const std::string name = "user-" + std::to_string(k);
      std::string json = "\"" + name + "\"";
      key_texts_.push_back(json);
      key_values_.push_back(Value(name));
    }
  }

  // The next batch, and the watermark after it.
  std::vector<KeyedRecord> Next(EventTime* watermark) {
    std::vector<KeyedRecord> batch;
    batch.reserve(kBatch);
    for (size_t i = 0; i < kBatch; ++i, ++n_) {
      const size_t k = (n_ / burst_) % key_texts_.size();
      KeyedRecord r;
      r.record.time = kStart + static_cast<EventTime>(n_);
      r.record.value =
          Value(Object{{"key", key_values_[k]}, {"value", Value(static_cast<double>(n_ % 100))}});
      r.watermark = r.record.time - kOutOfOrderMs;
      r.sequence = n_;
      r.key = key_texts_[k];
      r.key_value = key_values_[k];
      batch.push_back(std::move(r));
    }
    *watermark = kStart + static_cast<EventTime>(n_) - kOutOfOrderMs;
    return batch;
  }

 private:
  static constexpr EventTime kStart = 1'700'000'000'000;
  std::vector<std::string> key_texts_;
  std::vector<Value> key_values_;
  uint64_t burst_;
  uint64_t n_ = 0;
};

void RunWindow(benchmark::State& state, ops::WindowSpec window, ops::AggSpec agg,
               uint64_t burst = 1) {
  ops::WindowOptions options;
  options.window = window;
  options.agg = std::move(agg);
  std::unique_ptr<KeyedOperatorFactory> factory = ops::WindowedAggregate(options);
  Result<std::unique_ptr<KeyedOperator>> made = factory->Make(KeyedOperatorContext{});
  if (!made.ok()) {
    state.SkipWithError(made.status().ToString().c_str());
    return;
  }
  std::unique_ptr<KeyedOperator> op = std::move(made).value();
  RecordStream stream(static_cast<int>(state.range(0)), burst);
  uint64_t records = 0;
  uint64_t results = 0;
  for (auto _ : state) {
    state.PauseTiming();
    EventTime watermark = 0;
    std::vector<KeyedRecord> batch = stream.Next(&watermark);
    KeyedOutput out;
    state.ResumeTiming();
    for (KeyedRecord& r : batch) {
      if (!op->Process(std::move(r), &out).ok()) state.SkipWithError("Process failed");
    }
    if (!op->AdvanceWatermark(watermark, &out).ok()) state.SkipWithError("watermark failed");
    records += batch.size();
    results += out.results.size();
    state.PauseTiming();
    out = KeyedOutput();  // freeing the results is not the operator's cost
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["results_per_record"] =
      records == 0 ? 0.0 : static_cast<double>(results) / static_cast<double>(records);
  state.counters["open_windows"] = static_cast<double>(op->stats().open_windows);
}

void BM_WindowTumbling60sCount(benchmark::State& state) {
  RunWindow(state, ops::WindowSpec::Tumbling(60'000), ops::AggSpec::Count());
}
BENCHMARK(BM_WindowTumbling60sCount)->Arg(1000)->Arg(100000);

void BM_WindowSliding60s15sAvg(benchmark::State& state) {
  RunWindow(state, ops::WindowSpec::Sliding(60'000, 15'000), ops::AggSpec::Avg("value"));
}
BENCHMARK(BM_WindowSliding60s15sAvg)->Arg(1000);

// Sessions of 8 records: each key is active for 8 ms every 8 s, so each session closes.
void BM_WindowSession5sCount(benchmark::State& state) {
  RunWindow(state, ops::WindowSpec::Session(5'000), ops::AggSpec::Count(), /*burst=*/8);
}
BENCHMARK(BM_WindowSession5sCount)->Arg(1000);

// Aggregation updates: each kind on tumbling windows of 1000 keys.
void BM_WindowTumblingAgg(benchmark::State& state) {
  static const ops::AggSpec kAggs[] = {ops::AggSpec::Count(),      ops::AggSpec::Sum("value"),
                                       ops::AggSpec::Avg("value"), ops::AggSpec::Min("value"),
                                       ops::AggSpec::Max("value"), ops::AggSpec::Distinct("value")};
  const ops::AggSpec& agg = kAggs[state.range(1)];
  state.SetLabel(std::string(agg.OutputName()));
  RunWindow(state, ops::WindowSpec::Tumbling(60'000), agg);
}
BENCHMARK(BM_WindowTumblingAgg)->ArgsProduct({{1000}, {0, 1, 2, 3, 4, 5}});

// The resident set size of this process, in bytes (Linux).
int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

// Memory per open (window, key) count: state.range(0) keys, each counted in state.range(1)
// tumbling 1 s windows that stay open (the watermark does not move); reports the growth of the
// RSS divided by the open windows (the target: at most 64 bytes at 10M open windows).
void BM_WindowOpenWindowMemory(benchmark::State& state) {
  const int64_t keys = state.range(0);
  const int64_t windows = state.range(1);
  std::vector<std::string> key_texts;
  key_texts.reserve(static_cast<size_t>(keys));
  for (int64_t k = 0; k < keys; ++k) key_texts.push_back("\"k" + std::to_string(k) + "\"");
  for (auto _ : state) {
    ops::WindowOptions options;
    options.window = ops::WindowSpec::Tumbling(1000);
    options.agg = ops::AggSpec::Count();
    Result<std::unique_ptr<KeyedOperator>> made =
        ops::WindowedAggregate(options)->Make(KeyedOperatorContext{});
    if (!made.ok()) {
      state.SkipWithError(made.status().ToString().c_str());
      return;
    }
    std::unique_ptr<KeyedOperator> op = std::move(made).value();
    malloc_trim(0);  // hand back what earlier benchmarks freed, so that it is not reused here
    const int64_t before = ResidentBytes();
    KeyedOutput out;
    for (int64_t w = 0; w < windows; ++w) {
      for (int64_t k = 0; k < keys; ++k) {
        KeyedRecord r;
        r.record.time = 1'700'000'000'000 + w * 1000 + (k * 1000) / keys;
        r.watermark = 0;
        r.key = key_texts[static_cast<size_t>(k)];
        r.key_value = Value(std::string_view(r.key).substr(1, r.key.size() - 2));
        if (!op->Process(std::move(r), &out).ok()) state.SkipWithError("Process failed");
      }
    }
    const int64_t after = ResidentBytes();
    const double open = static_cast<double>(op->stats().open_windows);
    state.counters["open_windows"] = open;
    state.counters["rss_bytes_per_open_window"] = static_cast<double>(after - before) / open;
    state.SetItemsProcessed(keys * windows);
  }
}
BENCHMARK(BM_WindowOpenWindowMemory)
    ->Args({1'000'000, 10})
    ->Args({100'000, 100})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pulse
