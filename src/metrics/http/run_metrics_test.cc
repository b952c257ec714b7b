// SPDX-License-Identifier: MIT
// The metrics of real runs (file source → key by → window → file sink), read from the registry
// after the run and scraped over HTTP while it runs, checked exactly against the fixture.
#include "pulse/core/run_metrics.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "metrics/http/metrics_test_util.h"
#include "pulse/core/executor.h"
#include "pulse/core/json.h"
#include "pulse/io/file.h"
#include "pulse/metrics/http/http_endpoint.h"
#include "pulse/metrics/registry.h"
#include "pulse/ops/map.h"
#include "pulse/ops/window.h"
#include "testing/test_util.h"

namespace pulse {
namespace {

using metrics::testing::ParseSamples;
using metrics::testing::WaitFor;

constexpr int64_t kBase = 1704067200000;  // 2024-01-01T00:00:00Z

std::string Line(int64_t seconds, const std::string& user) {
  return "{\"ts\":" + std::to_string(kBase + seconds * 1000) + ",\"user\":\"" + user + "\"}\n";
}

// Watermark = max event time (out-of-orderness 0), 10 s tumbling windows, no lateness:
// the record at 5 s arrives after 12 s has closed [0, 10) and is late. Three bad lines.
// Results: [0,10) a=2 b=1, [10,20) a=1 b=1; [20,30) stays open until the input ends.
std::string Fixture() {
  return Line(1, "a") + Line(2, "b") + "not json\n" + Line(3, "a") + Line(12, "a") +
         "{\"user\":\"no time\"}\n" + Line(5, "b") + "[1,2]\n" + Line(15, "b") + Line(25, "a");
}
constexpr int kGoodLines = 7;
constexpr int64_t kMaxSeconds = 25;

Pipeline MakePipeline(const std::string& input, const std::string& output, bool follow,
                      bool extra_operators = false) {
  io::FileSourceOptions source;
  source.path = input;
  source.time_field = "ts";
  source.follow = follow;
  source.poll_interval_ms = 10;
  ops::WindowOptions window;
  window.window = ops::WindowSpec::Tumbling(10'000);
  window.agg = ops::AggSpec::Count();
  Pipeline p;
  p.From(io::FileSource(source));
  if (extra_operators) {
    p.Apply(ops::Filter([](const Record& r) { return r.time != kBase + 3000; }));  // drops 1
    p.Apply(ops::Map([](const Value& v) { return v; }));
  }
  p.KeyBy("user").Apply(ops::WindowedAggregate(window));
  if (extra_operators) {
    p.Apply(ops::Map([](const Value& v) { return v; }));
    p.Apply(ops::FlatMap([](const Value& v) { return std::vector<Value>{v, v}; }));
  }
  p.To(io::FileSink({output}));
  p.Watermarks(WatermarkOptions{DurationMs{0}});
  return p;
}

std::string Sample(const std::map<std::string, std::string>& samples, const std::string& key) {
  auto it = samples.find(key);
  return it == samples.end() ? "<missing " + key + ">" : it->second;
}

TEST(RunMetrics, StageNamesFollowThePipeline) {
  testing::TempDir dir;
  Pipeline p = MakePipeline(dir.file("in"), dir.file("out"), false, /*extra_operators=*/true);
  std::vector<StageInfo> stages = PipelineStages(p);
  std::vector<std::string> names;
  std::vector<StageKind> kinds;
  for (const StageInfo& s : stages) {
    names.push_back(s.name);
    kinds.push_back(s.kind);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"source", "filter", "map", "key_by", "window",
                                             "map_2", "flat_map", "sink"}));
  EXPECT_EQ(kinds, (std::vector<StageKind>{StageKind::kSource, StageKind::kOperator,
                                           StageKind::kOperator, StageKind::kKeyBy,
                                           StageKind::kKeyed, StageKind::kOperator,
                                           StageKind::kOperator, StageKind::kSink}));
  EXPECT_EQ(stages[3].description, "field 'user'");
  EXPECT_EQ(stages[4].description, "tumbling 10s, count, allowed lateness 0s");
}

TEST(RunMetrics, IdleRegistryHasEveryFamilyAtZero) {
  metrics::Registry registry;
  RegisterRunMetrics(registry);
  const std::string text = registry.RenderText();
  for (std::string_view name :
       {kOperatorRecordsMetric, kOperatorLatencyMetric, kOperatorLateMetric,
        kOperatorWatermarkMetric, kOperatorOpenWindowsMetric, kStateSizeMetric,
        kSourceRecordsMetric, kSourceBytesMetric, kSourceWatermarkMetric, kSinkResultsMetric,
        kSinkBytesMetric, kSinkLatencyMetric, kDroppedMetric, kQueueDepthMetric,
        kWatermarkLagMetric}) {
    EXPECT_NE(text.find("# TYPE " + std::string(name) + " "), std::string::npos) << name;
  }
  auto samples = ParseSamples(text);
  EXPECT_EQ(Sample(samples, "pulse_queue_depth"), "0");
  EXPECT_EQ(Sample(samples, "pulse_watermark_lag_ms"), "0");
  EXPECT_EQ(Sample(samples, "pulse_operator_process_latency_ms_count"), "0");
  EXPECT_EQ(Sample(samples, "pulse_sink_process_latency_ms_bucket{le=\"+Inf\"}"), "0");
  for (int i = 0; i < kNumBadReasons; ++i) {
    const std::string reason(BadReasonName(static_cast<BadReason>(i)));
    EXPECT_EQ(Sample(samples, "pulse_dropped_records_total{reason=\"" + reason + "\"}"), "0");
  }
  // The original eight keep their types.
  EXPECT_NE(text.find("# TYPE pulse_operator_records_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE pulse_watermark_lag_ms gauge\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE pulse_bytes_written_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE pulse_state_size gauge\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE pulse_operator_process_latency_ms histogram\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE pulse_sink_process_latency_ms histogram\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE pulse_queue_depth gauge\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE pulse_dropped_records_total counter\n"), std::string::npos);
}

TEST(RunMetrics, PipelineCellsArePresentBeforeTheRunStarts) {
  testing::TempDir dir;
  Pipeline p = MakePipeline(dir.file("in"), dir.file("out"), false);
  metrics::Registry registry;
  RegisterRunMetrics(registry, PipelineStages(p));
  auto samples = ParseSamples(registry.RenderText());
  EXPECT_EQ(Sample(samples, "pulse_operator_records_total{operator=\"source\",stage=\"emit\"}"),
            "0");
  EXPECT_EQ(Sample(samples, "pulse_operator_records_total{operator=\"window\",stage=\"receive\"}"),
            "0");
  EXPECT_EQ(Sample(samples, "pulse_operator_records_total{operator=\"sink\",stage=\"receive\"}"),
            "0");
  EXPECT_EQ(Sample(samples, "pulse_operator_watermark_seconds{operator=\"window\"}"), "-Inf");
  EXPECT_EQ(Sample(samples, "pulse_source_watermark_seconds{source=\"source\"}"), "-Inf");
  EXPECT_EQ(Sample(samples, "pulse_bytes_written_total{sink=\"sink\"}"), "0");
  EXPECT_EQ(Sample(samples, "pulse_state_size{operator=\"window\"}"), "0");
  EXPECT_EQ(Sample(samples, "pulse_operator_open_windows{operator=\"window\"}"), "0");
  EXPECT_EQ(Sample(samples, "pulse_operator_late_records_total{operator=\"window\"}"), "0");
  // A source has no "receive", a sink no "emit".
  EXPECT_EQ(samples.count("pulse_operator_records_total{operator=\"source\",stage=\"receive\"}"),
            0u);
  EXPECT_EQ(samples.count("pulse_operator_records_total{operator=\"sink\",stage=\"emit\"}"), 0u);
}

// A finite run: the final values are in the registry when Run() returns.
TEST(RunMetrics, FinalValuesOfAFiniteRunAreExact) {
  testing::TempDir dir;
  const std::string input = Fixture();
  testing::WriteFile(dir.file("in.jsonl"), input);
  metrics::Registry registry;
  RunOptions options;
  options.metrics = &registry;
  options.workers = 2;
  ASSERT_OK_AND_ASSIGN(RunProgress progress,
                       pulse::Run(MakePipeline(dir.file("in.jsonl"), dir.file("out.jsonl"), false),
                           options));
  const std::string output = testing::ReadFile(dir.file("out.jsonl"));
  auto samples = ParseSamples(registry.RenderText());
  EXPECT_EQ(Sample(samples, "pulse_source_records_read_total{source=\"source\"}"),
            std::to_string(kGoodLines));
  EXPECT_EQ(Sample(samples, "pulse_source_bytes_read_total{source=\"source\"}"),
            std::to_string(input.size()));
  EXPECT_EQ(Sample(samples, "pulse_dropped_records_total{reason=\"invalid_json\"}"), "1");
  EXPECT_EQ(Sample(samples, "pulse_dropped_records_total{reason=\"bad_event_time\"}"), "1");
  EXPECT_EQ(Sample(samples, "pulse_dropped_records_total{reason=\"not_an_object\"}"), "1");
  EXPECT_EQ(Sample(samples, "pulse_dropped_records_total{reason=\"late\"}"), "1");
  EXPECT_EQ(Sample(samples, "pulse_dropped_records_total{reason=\"channel_full\"}"), "0");
  EXPECT_EQ(Sample(samples, "pulse_operator_late_records_total{operator=\"window\"}"), "1");
  EXPECT_EQ(Sample(samples, "pulse_operator_records_total{operator=\"source\",stage=\"emit\"}"),
            "7");
  EXPECT_EQ(Sample(samples, "pulse_operator_records_total{operator=\"key_by\",stage=\"receive\"}"),
            "7");
  EXPECT_EQ(Sample(samples, "pulse_operator_records_total{operator=\"key_by\",stage=\"emit\"}"),
            "7");
  EXPECT_EQ(Sample(samples, "pulse_operator_records_total{operator=\"window\",stage=\"receive\"}"),
            "7");
  // [0,10) a b, [10,20) a b, [20,30) a (released by the end of the input).
  EXPECT_EQ(Sample(samples, "pulse_operator_records_total{operator=\"window\",stage=\"emit\"}"),
            "5");
  EXPECT_EQ(Sample(samples, "pulse_operator_records_total{operator=\"sink\",stage=\"receive\"}"),
            "5");
  EXPECT_EQ(Sample(samples, "pulse_sink_results_written_total{sink=\"sink\"}"), "5");
  EXPECT_EQ(Sample(samples, "pulse_bytes_written_total{sink=\"sink\"}"),
            std::to_string(output.size()));
  EXPECT_EQ(Sample(samples, "pulse_sink_process_latency_ms_count"), "5");
  // The source thread's chain (key by) and the window each saw the 7 records.
  EXPECT_EQ(Sample(samples, "pulse_operator_process_latency_ms_count"), "14");
  // The end of the input raises every watermark past all windows.
  EXPECT_EQ(Sample(samples, "pulse_source_watermark_seconds{source=\"source\"}"), "+Inf");
  EXPECT_EQ(Sample(samples, "pulse_operator_watermark_seconds{operator=\"window\"}"), "+Inf");
  EXPECT_EQ(Sample(samples, "pulse_operator_watermark_seconds{operator=\"sink\"}"), "+Inf");
  EXPECT_EQ(Sample(samples, "pulse_watermark_lag_ms"), "0");
  EXPECT_EQ(Sample(samples, "pulse_queue_depth"), "0");
  EXPECT_EQ(Sample(samples, "pulse_operator_open_windows{operator=\"window\"}"), "0");
  EXPECT_EQ(Sample(samples, "pulse_state_size{operator=\"window\"}"), "0");
  EXPECT_EQ(progress.records_read, 7u);
  EXPECT_EQ(progress.results_written, 5u);
}

TEST(RunMetrics, StatelessOperatorsBeforeAndAfterTheKeyAreCounted) {
  testing::TempDir dir;
  testing::WriteFile(dir.file("in.jsonl"), Fixture());
  metrics::Registry registry;
  RunOptions options;
  options.metrics = &registry;
  std::mutex mu;
  std::map<std::string, std::pair<uint64_t, uint64_t>> spans;  // stage → (received, emitted)
  options.on_span = [&](const StageSpan& span) {
    std::lock_guard<std::mutex> lock(mu);
    spans[std::string(span.stage)].first += span.received;
    spans[std::string(span.stage)].second += span.emitted;
  };
  ASSERT_OK(pulse::Run(MakePipeline(dir.file("in.jsonl"), dir.file("out.jsonl"), false,
                             /*extra_operators=*/true),
                options)
                .status());
  auto samples = ParseSamples(registry.RenderText());
  auto records = [&](const std::string& op, const std::string& stage) {
    return Sample(samples, "pulse_operator_records_total{operator=\"" + op + "\",stage=\"" +
                               stage + "\"}");
  };
  EXPECT_EQ(records("source", "emit"), "7");
  EXPECT_EQ(records("filter", "receive"), "7");
  EXPECT_EQ(records("filter", "emit"), "6");  // the record at 3 s is filtered out
  EXPECT_EQ(records("map", "receive"), "6");
  EXPECT_EQ(records("map", "emit"), "6");
  EXPECT_EQ(records("key_by", "receive"), "6");
  EXPECT_EQ(records("window", "receive"), "6");
  EXPECT_EQ(records("window", "emit"), "5");
  EXPECT_EQ(records("map_2", "receive"), "5");
  EXPECT_EQ(records("flat_map", "receive"), "5");
  EXPECT_EQ(records("flat_map", "emit"), "10");
  EXPECT_EQ(records("sink", "receive"), "10");
  // Spans add up to the same counts.
  EXPECT_EQ(spans["source"], std::make_pair(uint64_t{0}, uint64_t{7}));
  EXPECT_EQ(spans["filter"], std::make_pair(uint64_t{7}, uint64_t{6}));
  EXPECT_EQ(spans["key_by"], std::make_pair(uint64_t{6}, uint64_t{6}));
  EXPECT_EQ(spans["window"], std::make_pair(uint64_t{6}, uint64_t{5}));
  EXPECT_EQ(spans["flat_map"], std::make_pair(uint64_t{5}, uint64_t{10}));
  EXPECT_EQ(spans["sink"], std::make_pair(uint64_t{10}, uint64_t{0}));
}

TEST(RunMetrics, ChannelFullDropsAreTheKeyByDifference) {
  testing::TempDir dir;
  std::string input;
  for (int i = 0; i < 5000; ++i) input += Line(i, "k" + std::to_string(i % 50));
  testing::WriteFile(dir.file("in.jsonl"), input);
  metrics::Registry registry;
  RunOptions options;
  options.metrics = &registry;
  options.channel_bound = 10;
  options.batch_size = 100;
  ASSERT_OK(pulse::Run(MakePipeline(dir.file("in.jsonl"), dir.file("out.jsonl"), false), options)
                .status());
  auto samples = ParseSamples(registry.RenderText());
  const double in = std::stod(
      Sample(samples, "pulse_operator_records_total{operator=\"key_by\",stage=\"receive\"}"));
  const double out = std::stod(
      Sample(samples, "pulse_operator_records_total{operator=\"key_by\",stage=\"emit\"}"));
  const double full =
      std::stod(Sample(samples, "pulse_dropped_records_total{reason=\"channel_full\"}"));
  EXPECT_EQ(in, 5000);
  EXPECT_GT(full, 0);
  EXPECT_EQ(in - out, full);
  EXPECT_EQ(Sample(samples, "pulse_operator_records_total{operator=\"window\",stage=\"receive\"}"),
            Sample(samples, "pulse_operator_records_total{operator=\"key_by\",stage=\"emit\"}"));
}

// A following run stays alive while it is scraped over HTTP: the values after the fixture is
// read are exact, and the watermark is the largest event time.
TEST(RunMetrics, ScrapedDuringAFollowingRun) {
  testing::TempDir dir;
  const std::string input = Fixture();
  testing::WriteFile(dir.file("in.jsonl"), input);
  Pipeline pipeline = MakePipeline(dir.file("in.jsonl"), dir.file("out.jsonl"), true);
  metrics::Registry registry;
  metrics::HttpEndpointOptions http;
  http.port = 0;
  http.stages = PipelineStages(pipeline);
  RegisterRunMetrics(registry, http.stages);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<metrics::HttpEndpoint> endpoint,
                       metrics::HttpEndpoint::Start(registry, http));
  std::atomic<bool> stop{false};
  RunOptions options;
  options.metrics = &registry;
  options.stop = &stop;
  options.workers = 2;
  Result<RunProgress> result = Status::Internal("not run");
  std::thread runner([&] { result = pulse::Run(std::move(pipeline), options); });

  httplib::Client client("127.0.0.1", endpoint->port());
  std::map<std::string, std::string> samples;
  auto scrape = [&] {
    httplib::Result res = client.Get("/metrics");
    if (!res || res->status != 200) return false;
    samples = ParseSamples(res->body);
    return true;
  };
  // Everything is read and the two closed windows of each key are written.
  const bool settled = WaitFor([&] {
    return scrape() &&
           samples["pulse_source_records_read_total{source=\"source\"}"] == "7" &&
           samples["pulse_sink_results_written_total{sink=\"sink\"}"] == "4" &&
           samples["pulse_operator_watermark_seconds{operator=\"sink\"}"] ==
               std::to_string((kBase / 1000) + kMaxSeconds);
  });
  EXPECT_TRUE(settled);
  const std::string watermark = std::to_string(kBase / 1000 + kMaxSeconds);  // 1704067225
  EXPECT_EQ(Sample(samples, "pulse_source_records_read_total{source=\"source\"}"),
            std::to_string(kGoodLines));
  EXPECT_EQ(Sample(samples, "pulse_source_bytes_read_total{source=\"source\"}"),
            std::to_string(input.size()));
  EXPECT_EQ(Sample(samples, "pulse_dropped_records_total{reason=\"invalid_json\"}"), "1");
  EXPECT_EQ(Sample(samples, "pulse_dropped_records_total{reason=\"bad_event_time\"}"), "1");
  EXPECT_EQ(Sample(samples, "pulse_dropped_records_total{reason=\"not_an_object\"}"), "1");
  EXPECT_EQ(Sample(samples, "pulse_dropped_records_total{reason=\"late\"}"), "1");
  EXPECT_EQ(Sample(samples, "pulse_source_watermark_seconds{source=\"source\"}"), watermark);
  EXPECT_EQ(Sample(samples, "pulse_operator_watermark_seconds{operator=\"key_by\"}"), watermark);
  EXPECT_EQ(Sample(samples, "pulse_operator_watermark_seconds{operator=\"window\"}"), watermark);
  EXPECT_EQ(Sample(samples, "pulse_operator_watermark_seconds{operator=\"sink\"}"), watermark);
  EXPECT_EQ(Sample(samples, "pulse_operator_records_total{operator=\"window\",stage=\"emit\"}"),
            "4");
  EXPECT_EQ(Sample(samples, "pulse_operator_open_windows{operator=\"window\"}"), "1");  // [20,30)
  EXPECT_EQ(Sample(samples, "pulse_state_size{operator=\"window\"}"), "1");
  EXPECT_EQ(Sample(samples, "pulse_queue_depth"), "0");
  EXPECT_NE(Sample(samples, "pulse_watermark_lag_ms"), "0");  // now - 2024-01-01T00:00:25Z

  // The status page's JSON says the same per stage.
  httplib::Result status = client.Get("/api/status");
  ASSERT_TRUE(status);
  ASSERT_OK_AND_ASSIGN(Value json, ParseJson(status->body));
  const Array& stages = json.Find("stages")->as_array();
  ASSERT_EQ(stages.size(), 4u);
  EXPECT_EQ(stages[0].Find("name")->as_string(), "source");
  EXPECT_EQ(stages[0].Find("emitted")->as_int(), 7);
  EXPECT_EQ(stages[0].Find("dropped")->as_int(), 3);
  EXPECT_EQ(stages[0].Find("watermark")->as_int(), kBase + kMaxSeconds * 1000);
  EXPECT_EQ(stages[0].Find("received"), nullptr);
  EXPECT_EQ(stages[2].Find("name")->as_string(), "window");
  EXPECT_EQ(stages[2].Find("kind")->as_string(), "keyed");
  EXPECT_EQ(stages[2].Find("late")->as_int(), 1);
  EXPECT_EQ(stages[2].Find("dropped")->as_int(), 1);
  EXPECT_EQ(stages[2].Find("open_windows")->as_int(), 1);
  EXPECT_EQ(stages[3].Find("received")->as_int(), 4);

  stop.store(true);
  runner.join();
  ASSERT_OK(result.status());
  EXPECT_TRUE(result->cancelled);
  // A stopped run keeps its watermark (complete windows only), and the counts stay exact.
  samples = ParseSamples(registry.RenderText());
  EXPECT_EQ(Sample(samples, "pulse_sink_results_written_total{sink=\"sink\"}"), "4");
  EXPECT_EQ(Sample(samples, "pulse_operator_watermark_seconds{operator=\"sink\"}"), watermark);
  EXPECT_EQ(Sample(samples, "pulse_bytes_written_total{sink=\"sink\"}"),
            std::to_string(testing::ReadFile(dir.file("out.jsonl")).size()));
}

// Scrapes from several threads while a pipeline runs: every request is answered and the
// output is the same as without them.
TEST(RunMetrics, ConcurrentScrapesDoNotChangeTheOutput) {
  testing::TempDir dir;
  std::string input;
  for (int i = 0; i < 30000; ++i) {
    input += Line(i / 7, "user" + std::to_string(i % 97));
    if (i % 1000 == 999) input += "garbage\n";
  }
  testing::WriteFile(dir.file("in.jsonl"), input);
  RunOptions plain_options;
  plain_options.batch_size = 256;
  ASSERT_OK(pulse::Run(MakePipeline(dir.file("in.jsonl"), dir.file("expected.jsonl"), false),
                plain_options)
                .status());

  Pipeline pipeline = MakePipeline(dir.file("in.jsonl"), dir.file("out.jsonl"), false);
  metrics::Registry registry;
  metrics::HttpEndpointOptions http;
  http.port = 0;
  http.threads = 2;
  http.stages = PipelineStages(pipeline);
  RegisterRunMetrics(registry, http.stages);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<metrics::HttpEndpoint> endpoint,
                       metrics::HttpEndpoint::Start(registry, http));
  std::atomic<bool> running{true};
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> clients;
  constexpr int kClients = 3;
  constexpr int kMaxRequests = 1000;  // per client: the load is bounded
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", endpoint->port());
      for (int i = 0; i < kMaxRequests && (running.load() || i < 5); ++i) {
        httplib::Result res = client.Get(c % 2 == 0 ? "/metrics" : "/api/status");
        if (res && res->status == 200 && !res->body.empty()) {
          ++answered;
        } else {
          ++failed;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  RunOptions options;
  options.metrics = &registry;
  options.batch_size = 256;
  Result<RunProgress> result = pulse::Run(std::move(pipeline), options);
  running.store(false);
  for (std::thread& t : clients) t.join();
  ASSERT_OK(result.status());
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GE(answered.load(), kClients * 5);
  EXPECT_EQ(testing::ReadFile(dir.file("out.jsonl")),
            testing::ReadFile(dir.file("expected.jsonl")));
  auto samples = ParseSamples(registry.RenderText());
  EXPECT_EQ(Sample(samples, "pulse_source_records_read_total{source=\"source\"}"), "30000");
  EXPECT_EQ(Sample(samples, "pulse_dropped_records_total{reason=\"invalid_json\"}"), "30");
}

}  // namespace
}  // namespace pulse
