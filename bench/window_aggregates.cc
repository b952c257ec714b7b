// SPDX-License-Identifier: MIT
// pulse_bench_aggregates: one file pipeline (source → key → tumbling window → file sink) with a
// chosen aggregation, built through the public C++ API exactly as `pulse run` builds it, to time
// several named aggregates against the single count on the benchmark data (pulse_bench_gen:
// "event_time", "key", an integer "value").
//
//   pulse_bench_aggregates --input FILE --out FILE [--aggs count|named-count|four|eight]
//                          [--window-ms N] [--workers N]
//
// count: the original single count (`agg = "count"`); named-count: count(*) as a named
// aggregate; four: count(*), sum(value), quantile(value, 0.99), approx_distinct(value);
// eight: those and avg, max, stddev and top_k(value, 3). The watermark trails the largest
// event time by 1 s, as in bench/run.py's pipelines.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "pulse/pulse.h"

namespace {

using pulse::ops::Aggregate;

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: pulse_bench_aggregates --input FILE --out FILE "
               "[--aggs count|named-count|four|eight] [--window-ms N] [--workers N]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string input, out, aggs = "count";
  pulse::DurationMs window_ms = 60000;
  int workers = 1;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--input")) input = next();
    else if (!std::strcmp(argv[i], "--out")) out = next();
    else if (!std::strcmp(argv[i], "--aggs")) aggs = next();
    else if (!std::strcmp(argv[i], "--window-ms")) window_ms = std::atoll(next());
    else if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(next());
    else Usage();
  }
  if (input.empty() || out.empty()) Usage();

  pulse::ops::WindowOptions window;
  window.window = pulse::ops::WindowSpec::Tumbling(window_ms);
  if (aggs == "count") {
    window.agg = pulse::ops::AggSpec::Count();
  } else if (aggs == "named-count") {
    window.aggregates = {Aggregate::Count("count")};
  } else if (aggs == "four" || aggs == "eight") {
    window.aggregates = {Aggregate::Count("count"),
                         Aggregate::Of("sum", Aggregate::Kind::kSum, "value"),
                         Aggregate::Quantile("p99", "value", 0.99),
                         Aggregate::Of("values", Aggregate::Kind::kApproxDistinct, "value")};
    if (aggs == "eight") {
      window.aggregates.push_back(Aggregate::Of("avg", Aggregate::Kind::kAvg, "value"));
      window.aggregates.push_back(Aggregate::Of("max", Aggregate::Kind::kMax, "value"));
      window.aggregates.push_back(Aggregate::Of("sd", Aggregate::Kind::kStddev, "value"));
      window.aggregates.push_back(Aggregate::TopK("top", "value", 3));
    }
  } else {
    Usage();
  }

  pulse::io::FileSourceOptions source;
  source.path = input;
  pulse::io::FileSinkOptions sink;
  sink.path = out;
  pulse::Pipeline pipeline;
  pipeline.From(pulse::io::FileSource(std::move(source)))
      .Watermarks({pulse::DurationMs{1000}})
      .KeyBy("key")
      .Apply(pulse::ops::WindowedAggregate(std::move(window)))
      .To(pulse::io::FileSink(std::move(sink)));
  pulse::RunOptions options;
  options.workers = workers;
  pulse::Result<pulse::RunProgress> run = pulse::Run(std::move(pipeline), options);
  if (!run.ok()) {
    std::fprintf(stderr, "pulse_bench_aggregates: %s\n", run.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "%llu records, %llu results\n",
               static_cast<unsigned long long>(run->records_read),
               static_cast<unsigned long long>(run->results_written));
  return 0;
}
