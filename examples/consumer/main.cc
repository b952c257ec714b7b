// SPDX-License-Identifier: MIT
// A program built against an installed Pulse: count records per key in 1-minute windows.
// Usage: pulse_consumer INPUT.jsonl [KEY_FIELD]  (KEY_FIELD defaults to "device"; results on stdout)

#include <pulse/pulse.h>

#include <cstdio>
#include <string>
#include <utility>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s INPUT.jsonl [KEY_FIELD]\n", argv[0]);
    return 2;
  }
  pulse::io::FileSourceOptions source;
  source.path = argv[1];
  source.time_field = "event_time";

  pulse::ops::WindowOptions window;
  window.window = pulse::ops::WindowSpec::Tumbling(60'000);
  window.agg = pulse::ops::AggSpec::Count();

  pulse::Pipeline pipeline;
  pipeline.From(pulse::io::FileSource(std::move(source)))
      .KeyBy(argc > 2 ? argv[2] : "device")
      .Apply(pulse::ops::WindowedAggregate(std::move(window)))
      .To(pulse::io::FileSink({}));  // empty path: standard output

  pulse::Result<pulse::RunProgress> run = pulse::Run(std::move(pipeline));
  if (!run.ok()) {
    std::fprintf(stderr, "pulse_consumer: %s\n", run.status().ToString().c_str());
    return 1;
  }
  return 0;
}
