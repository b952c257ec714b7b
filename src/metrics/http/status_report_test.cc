// SPDX-License-Identifier: MIT
// The status JSON's history, checkpoint panel, bad records and Kafka partition rows (exact
// text), /api/status?after=N over HTTP, and the run report: the page with its data embedded
// safely and a policy that forbids every request.
#include "pulse/metrics/http/status_report.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <string>

#include "metrics/http/status_json.h"
#include "pulse/core/json.h"
#include "pulse/core/run_history.h"
#include "pulse/metrics/http/http_endpoint.h"
#include "pulse/metrics/registry.h"
#include "testing/test_util.h"

namespace pulse::metrics {
namespace {

constexpr int64_t kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

// Three samples a second apart, two checkpoints (the second failed), two bad records, one of
// them with text that must not end a <script> block.
void Fill(RunHistory& history) {
  RunSample s;
  s.unix_ms = kT0;
  history.Add(s);
  s.unix_ms = kT0 + 1000;
  s.records_in = 100;
  s.records_out = 4;
  s.bad = 1;
  s.watermark = kT0 - 2000;
  s.newest_event = kT0;
  s.open_windows = 3;
  s.state_entries = 3;
  history.Add(s);
  s.unix_ms = kT0 + 2000;
  s.records_in = 250;
  s.late = 2;
  s.bad = 2;
  s.watermark = kMaxWatermark;
  s.newest_event = kT0 + 900;
  s.open_windows = 0;
  s.state_entries = 0;
  history.Add(s);
  history.SetCheckpoints({CheckpointRecord{1, kT0 + 500, 12.5, 2048, false, ""},
                          CheckpointRecord{2, kT0 + 1500, 3, 0, true, "checkpoint 2: disk full"}},
                         1, 1);
  RecentBadRecord a;
  a.number = 1;
  a.unix_ms = kT0 + 100;
  a.reason = BadReason::kInvalidJson;
  a.origin = "in.jsonl";
  a.position = 7;
  a.error = "not JSON";
  a.raw = "</script><script>alert(1)</script>";
  RecentBadRecord b;
  b.number = 2;
  b.unix_ms = kT0 + 1100;
  b.reason = BadReason::kBadEventTime;
  b.origin = "orders/3";
  b.position = 42;
  b.error = "missing time field 'ts'";
  b.raw = std::string(200, 'x');
  b.raw_truncated = true;
  history.SetBadRecords({a, b});
}

// The part of `json` from `"key":` to the end of its value (an array or object).
std::string Member(const std::string& json, const std::string& key) {
  const size_t start = json.find("\"" + key + "\":");
  if (start == std::string::npos) return "<no " + key + ">";
  int depth = 0;
  for (size_t i = start + key.size() + 3; i < json.size(); ++i) {
    if (json[i] == '[' || json[i] == '{') ++depth;
    if (json[i] == ']' || json[i] == '}') {
      if (--depth == 0) return json.substr(start, i + 1 - start);
    }
  }
  return json.substr(start);
}

TEST(StatusJson, HistoryCheckpointsAndBadRecordsExactly) {
  Registry registry;
  RunHistory history;
  Fill(history);
  internal::StatusContext context;
  context.history = &history;
  const std::string json = internal::StatusJson(registry.Collect(), context);
  EXPECT_EQ(Member(json, "history"),
            "\"history\":{\"full\":true,\"sequence\":3,"
            "\"t\":[1704067200000,1704067201000,1704067202000],\"in\":[0,100,250],"
            "\"out\":[0,4,4],\"late\":[0,0,2],\"bad\":[0,1,2],"
            "\"watermark\":[\"-Inf\",1704067198000,\"+Inf\"],"
            "\"newest\":[\"-Inf\",1704067200000,1704067200900],\"open_windows\":[0,3,0],"
            "\"state\":[0,3,0]}");
  // Without pulse_checkpoints_total in the registry, the run takes no checkpoints.
  EXPECT_EQ(Member(json, "checkpoints"),
            "\"checkpoints\":{\"enabled\":false,\"committed\":1,\"failed\":1,\"recent\":["
            "{\"id\":1,\"started_ms\":1704067200500,\"duration_ms\":12.5,\"bytes\":2048,"
            "\"failed\":false,\"error\":\"\"},"
            "{\"id\":2,\"started_ms\":1704067201500,\"duration_ms\":3,\"bytes\":0,"
            "\"failed\":true,\"error\":\"checkpoint 2: disk full\"}]}");
  EXPECT_EQ(Member(json, "bad_records"),
            "\"bad_records\":[{\"number\":1,\"time_ms\":1704067200100,\"reason\":\"invalid_json\","
            "\"origin\":\"in.jsonl\",\"position\":7,\"error\":\"not JSON\","
            "\"raw\":\"</script><script>alert(1)</script>\",\"truncated\":false},"
            "{\"number\":2,\"time_ms\":1704067201100,\"reason\":\"bad_event_time\","
            "\"origin\":\"orders/3\",\"position\":42,\"error\":\"missing time field 'ts'\","
            "\"raw\":\"" + std::string(200, 'x') + "\",\"truncated\":true}]");
  EXPECT_EQ(json.find("\"partitions\""), std::string::npos);  // no Kafka source
  ASSERT_TRUE(ParseJson(json).ok()) << json;

  registry.GetCounter("pulse_checkpoints_total", "Checkpoints committed by this run.");
  EXPECT_NE(internal::StatusJson(registry.Collect(), context)
                .find("\"checkpoints\":{\"enabled\":true,"),
            std::string::npos);
  // Without a history (pulse serve), none of the three.
  context.history = nullptr;
  const std::string idle = internal::StatusJson(registry.Collect(), context);
  EXPECT_EQ(idle.find("\"history\""), std::string::npos);
  EXPECT_EQ(idle.find("\"checkpoints\""), std::string::npos);
  EXPECT_EQ(idle.find("\"bad_records\""), std::string::npos);
}

// The Kafka source's gauges (as kafka_source.cc registers them) become one row per partition,
// sorted by topic and partition number.
TEST(StatusJson, OneRowPerKafkaPartition) {
  Registry registry;
  auto add = [&](const std::string& topic, const std::string& partition, double lag,
                 double watermark_s, double idle) {
    const Labels labels = {{"topic", topic}, {"partition", partition}};
    registry.GetGauge("pulse_kafka_partition_lag", "lag", labels).Set(lag);
    registry.GetGauge("pulse_kafka_partition_watermark_seconds", "w", labels).Set(watermark_s);
    registry.GetGauge("pulse_kafka_partition_idle", "idle", labels).Set(idle);
  };
  add("orders", "10", 5, 1704067200.5, 0);
  add("clicks", "0", 0, -INFINITY, 1);
  add("orders", "2", 123456, 1704067199, 0);
  internal::StatusContext context;
  const std::string json = internal::StatusJson(registry.Collect(), context);
  EXPECT_EQ(Member(json, "partitions"),
            "\"partitions\":["
            "{\"topic\":\"clicks\",\"partition\":0,\"lag\":0,\"watermark\":\"-Inf\",\"idle\":true},"
            "{\"topic\":\"orders\",\"partition\":2,\"lag\":123456,\"watermark\":1704067199000,"
            "\"idle\":false},"
            "{\"topic\":\"orders\",\"partition\":10,\"lag\":5,\"watermark\":1704067200500,"
            "\"idle\":false}]");
}

// The data block of a report: what is between the page's <script id="pulse-data" ...> and
// the next </script>.
std::string DataBlock(const std::string& page) {
  const std::string open = "<script id=\"pulse-data\" type=\"application/json\">";
  const size_t start = page.find(open);
  if (start == std::string::npos) return "";
  const size_t end = page.find("</script>", start);
  return page.substr(start + open.size(), end - start - open.size());
}

TEST(StatusJson, AfterASequenceOnlyNewSamplesOverHttp) {
  Registry registry;
  RunHistory history;
  Fill(history);
  HttpEndpointOptions options;
  options.port = 0;
  options.history = &history;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpEndpoint> endpoint,
                       HttpEndpoint::Start(registry, options));
  httplib::Client client("127.0.0.1", endpoint->port());
  auto history_of = [&](const std::string& path) {
    httplib::Result res = client.Get(path);
    EXPECT_TRUE(res && res->status == 200) << path;
    return res ? Member(res->body, "history") : std::string();
  };
  EXPECT_EQ(history_of("/api/status?after=2"),
            "\"history\":{\"full\":false,\"sequence\":3,\"t\":[1704067202000],\"in\":[250],"
            "\"out\":[4],\"late\":[2],\"bad\":[2],\"watermark\":[\"+Inf\"],"
            "\"newest\":[1704067200900],\"open_windows\":[0],\"state\":[0]}");
  EXPECT_EQ(history_of("/api/status?after=3"),
            "\"history\":{\"full\":false,\"sequence\":3,\"t\":[],\"in\":[],\"out\":[],"
            "\"late\":[],\"bad\":[],\"watermark\":[],\"newest\":[],\"open_windows\":[],"
            "\"state\":[]}");
  // Not a sequence of this history, or not a number: everything.
  for (const char* path : {"/api/status", "/api/status?after=9", "/api/status?after=x",
                           "/api/status?after=-1", "/api/status?after=1e3"}) {
    EXPECT_EQ(history_of(path).substr(0, 41), "\"history\":{\"full\":true,\"sequence\":3,\"t\":[")
        << path;
  }
  // The served page's data block is empty: it polls instead.
  httplib::Result page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("<script id=\"pulse-data\" type=\"application/json\"></script>"),
            std::string::npos);
}

TEST(StatusReport, ThePageWithItsDataAndNoNetwork) {
  Registry registry;
  RegisterRunMetrics(registry);
  RunHistory history;
  Fill(history);
  StatusReportOptions options;
  options.title = "pipeline.toml";
  options.history = &history;
  options.outcome = RunOutcome::kFailed;
  options.error = "checkpoint 2: disk full";
  options.now_ms = kT0 + 2500;
  const std::string page = RenderStatusReport(registry, options);

  // A policy that allows inline script and style and nothing else: no fetch, no other file.
  EXPECT_NE(page.find("<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" "
                      "content=\"default-src 'none'; script-src 'unsafe-inline'; style-src "
                      "'unsafe-inline'; img-src data:\">"),
            std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos);

  // The bad record's "</script>" is escaped, so the block ends where the page's does and
  // parses back to the same text.
  const std::string data = DataBlock(page);
  EXPECT_EQ(data.find('<'), std::string::npos);
  ASSERT_OK_AND_ASSIGN(Value json, ParseJson(data));
  EXPECT_EQ(json.Find("bad_records")->as_array()[0].Find("raw")->as_string(),
            "</script><script>alert(1)</script>");
  EXPECT_EQ(json.Find("title")->as_string(), "pipeline.toml");
  EXPECT_FALSE(json.Find("running")->as_bool());
  EXPECT_EQ(json.Find("state")->as_string(), "failed");
  EXPECT_EQ(json.Find("error")->as_string(), "checkpoint 2: disk full");
  EXPECT_EQ(json.Find("now_ms")->as_int(), kT0 + 2500);
  EXPECT_EQ(json.Find("history")->Find("t")->as_array().size(), 3u);
  EXPECT_EQ(json.Find("checkpoints")->Find("recent")->as_array().size(), 2u);

  options.outcome = RunOutcome::kStopped;
  options.error.clear();
  ASSERT_OK_AND_ASSIGN(Value stopped, ParseJson(DataBlock(RenderStatusReport(registry, options))));
  EXPECT_EQ(stopped.Find("state")->as_string(), "stopped");
  EXPECT_EQ(stopped.Find("error"), nullptr);
  options.outcome = RunOutcome::kFinished;
  ASSERT_OK_AND_ASSIGN(Value finished,
                       ParseJson(DataBlock(RenderStatusReport(registry, options))));
  EXPECT_EQ(finished.Find("state")->as_string(), "finished");
}

}  // namespace
}  // namespace pulse::metrics
