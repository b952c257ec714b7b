// SPDX-License-Identifier: MIT
// Sliding average: the mean of "value" per "device" over 5 minutes, every minute.
// Usage: pulse_sliding_avg [INPUT.jsonl [OUTPUT.jsonl]]  (default: the bundled sample, to stdout)

#include <cstdio>
#include <utility>

#include "pulse/pulse.h"

namespace {

constexpr pulse::DurationMs kWindowMs = 5 * 60'000;
constexpr pulse::DurationMs kSlideMs = 60'000;

}  // namespace

int main(int argc, char** argv) {
  pulse::io::FileSourceOptions source;
  source.path = argc > 1 ? argv[1] : "examples/data/sliding_avg.jsonl";
  source.time_field = "event_time";
  pulse::io::FileSinkOptions sink;
  if (argc > 2) sink.path = argv[2];

  pulse::ops::WindowOptions window;
  window.window = pulse::ops::WindowSpec::Sliding(kWindowMs, kSlideMs);
  window.agg = pulse::ops::AggSpec::Avg("value");

  pulse::Pipeline pipeline;
  pipeline.From(pulse::io::FileSource(std::move(source)))
      .KeyBy("device")
      .Apply(pulse::ops::WindowedAggregate(std::move(window)))
      .To(pulse::io::FileSink(std::move(sink)));

  pulse::Result<pulse::RunProgress> run = pulse::Run(std::move(pipeline));
  if (!run.ok()) {
    std::fprintf(stderr, "pulse_sliding_avg: %s\n", run.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "pulse_sliding_avg: %llu records read, %llu results written\n",
               static_cast<unsigned long long>(run->records_read),
               static_cast<unsigned long long>(run->results_written));
  return 0;
}
