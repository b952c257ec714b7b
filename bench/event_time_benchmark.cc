// SPDX-License-Identifier: MIT
// Micro-benchmarks of event-time parsing: RFC 3339 text, epoch-millisecond text and numbers,
// and the file source's rules on a decoded record (io::EventTimeOf).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "pulse/core/time.h"
#include "pulse/core/value.h"
#include "pulse/io/event_time.h"

namespace pulse {
namespace {

// Distinct inputs, so that the branch predictor does not learn one string.
std::vector<std::string> Rfc3339Inputs() {
  std::vector<std::string> out;
  for (int i = 0; i < 1024; ++i) {
    const EventTime t = 1'700'000'000'000 + int64_t{i} * 7'919'113;
    std::string text = FormatEventTime(t);  // 2023-11-14T22:13:20.000Z
    if (i % 4 == 1) text.replace(text.size() - 1, 1, "+02:00");
    if (i % 4 == 2) text.replace(text.size() - 5, 5, "Z");   // no fraction
    if (i % 4 == 3) text.insert(text.size() - 1, "123456");  // microseconds and more
    out.push_back(std::move(text));
  }
  return out;
}

std::vector<std::string> EpochInputs() {
  std::vector<std::string> out;
  for (int i = 0; i < 1024; ++i) {
    out.push_back(std::to_string(1'700'000'000'000 + int64_t{i} * 7'919'113));
  }
  return out;
}

void BM_ParseRfc3339(benchmark::State& state) {
  const std::vector<std::string> inputs = Rfc3339Inputs();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseRfc3339(inputs[i++ % inputs.size()]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseRfc3339);

void BM_ParseEpochMillisText(benchmark::State& state) {
  const std::vector<std::string> inputs = EpochInputs();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseEpochMillisText(inputs[i++ % inputs.size()]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseEpochMillisText);

// The CSV rule: a cell that is either epoch-ms digits or RFC 3339 (half of each here).
void BM_ParseEventTimeTextMixed(benchmark::State& state) {
  std::vector<std::string> inputs = Rfc3339Inputs();
  const std::vector<std::string> epochs = EpochInputs();
  for (size_t i = 0; i < inputs.size(); i += 2) inputs[i] = epochs[i];
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseEventTimeText(inputs[i++ % inputs.size()]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseEventTimeTextMixed);

// A decoded JSONL record {"event_time": ..., "key": ..., "value": ...} with the time as an
// RFC 3339 string (arg 0) or an integer of epoch ms (arg 1).
void BM_EventTimeOfRecord(benchmark::State& state) {
  const bool epoch = state.range(0) == 1;
  std::vector<Value> records;
  const std::vector<std::string> texts = Rfc3339Inputs();
  for (size_t i = 0; i < 256; ++i) {
    Value time = epoch ? Value(int64_t{1'700'000'000'000} + static_cast<int64_t>(i) * 1000)
                       : Value(texts[i]);
    records.push_back(Value(Object{{"key", Value("user-" + std::to_string(i % 17))},
                                   {"value", Value(static_cast<double>(i) * 0.5)},
                                   {"event_time", std::move(time)}}));
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(io::EventTimeOf(records[i++ % records.size()], "event_time"));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(epoch ? "epoch ms integer" : "RFC 3339 string");
}
BENCHMARK(BM_EventTimeOfRecord)->Arg(0)->Arg(1);

void BM_FormatEventTime(benchmark::State& state) {
  EventTime t = 1'700'000'000'123;
  for (auto _ : state) {
    benchmark::DoNotOptimize(FormatEventTime(t));
    t += 7'919;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FormatEventTime);

}  // namespace
}  // namespace pulse
