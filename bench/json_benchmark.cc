// SPDX-License-Identifier: MIT
// Micro-benchmarks of JSON output (pulse/core/json.h): window results as the JSONL sink writes
// them, an input-like record, strings with escapes, and doubles.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "pulse/core/json.h"
#include "pulse/core/value.h"

namespace pulse {
namespace {

// {"window_start_ms":s,"window_end_ms":e,"key":k,"<agg>":v}, as the window operator makes it.
std::vector<Value> WindowResults(bool avg) {
  std::vector<Value> out;
  for (int i = 0; i < 256; ++i) {
    const int64_t start = 1'700'000'040'000 + int64_t{i} * 60'000;
    Value agg = avg ? Value(49.5 + i / 7.0) : Value(int64_t{60 + i});
    out.push_back(Value(Object{{"window_start_ms", Value(start)},
                               {"window_end_ms", Value(start + 60'000)},
                               {"key", Value("user-" + std::to_string(i))},
                               {avg ? "avg" : "count", std::move(agg)}}));
  }
  return out;
}

void BM_AppendJsonWindowResult(benchmark::State& state) {
  const bool avg = state.range(0) == 1;
  const std::vector<Value> results = WindowResults(avg);
  std::string out;
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    AppendJson(results[i++ % results.size()], &out);
    out += '\n';
    bytes += static_cast<int64_t>(out.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
  state.SetLabel(avg ? "avg (double)" : "count (integer)");
}
BENCHMARK(BM_AppendJsonWindowResult)->Arg(0)->Arg(1);

// A record of about 100 bytes like the generator's input lines, with a nested object.
void BM_AppendJsonRecord(benchmark::State& state) {
  const Value record(Object{{"event_time", Value("2023-11-14T22:13:20.123Z")},
                            {"key", Value("user-123")},
                            {"value", Value(42.25)},
                            {"tags", Value(Array{Value("a"), Value("b"), Value(true)})},
                            {"meta", Value(Object{{"n", Value(int64_t{7})}, {"x", Value()}})}});
  std::string out;
  int64_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    AppendJson(record, &out);
    bytes += static_cast<int64_t>(out.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_AppendJsonRecord);

// 1 KiB strings: plain ASCII (arg 0) or with quotes, backslashes and control characters (1).
void BM_AppendJsonString(benchmark::State& state) {
  std::string text;
  for (int i = 0; text.size() < 1024; ++i) {
    text += state.range(0) == 1 && i % 8 == 0 ? "\"q\"\\\n\t\x01" : "plain text ";
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendJsonString(text, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetLabel(state.range(0) == 1 ? "with escapes" : "plain");
}
BENCHMARK(BM_AppendJsonString)->Arg(0)->Arg(1);

void BM_AppendJsonDouble(benchmark::State& state) {
  std::vector<double> values;
  for (int i = 0; i < 1024; ++i) values.push_back(i / 7.0 + (i % 3 == 0 ? 1e17 : 0));
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    AppendJsonDouble(values[i++ % values.size()], &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AppendJsonDouble);

}  // namespace
}  // namespace pulse
