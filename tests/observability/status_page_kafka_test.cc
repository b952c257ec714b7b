// SPDX-License-Identifier: MIT
// The status page's Kafka partition rows in headless Chromium, against the real broker that the
// kafka_broker fixture starts: a topic of 3 partitions read to its end shows one row per
// partition with lag 0 and the partition's exact watermark, live and in the run report; a bad
// message appears with its partition and offset.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "binary_test_util.h"
#include "io/kafka/kafka_testing.h"

namespace {

namespace fs = std::filesystem;
namespace kt = pulse::io::kafka_testing;
using namespace pulse::obs_testing;

constexpr int kPartitions = 3;

// Partition p holds 4 + 2p events, at p·100 + i seconds (i from 0); partition 1 then one
// message that is not JSON.
int EventsIn(int p) { return 4 + 2 * p; }

std::string Chromium(const fs::path& profile, const std::string& url, bool offline) {
  std::string out;
  const std::string prefix = offline && Shell("unshare -rn true", &out) == 0 ? "unshare -rn " : "";
  std::string dom;
  EXPECT_EQ(Shell(prefix + "chromium --headless --no-sandbox --disable-gpu --no-first-run "
                           "--disable-background-networking --disable-component-update "
                           "--user-data-dir=" + profile.string() +
                      " --virtual-time-budget=5000 --dump-dom '" + url + "' 2>/dev/null",
                  &dom),
            0);
  return dom;
}

void ExpectPartitionRows(const std::string& dom, const std::string& topic) {
  // The watermark of partition p: its largest event time minus max_out_of_orderness (2 s).
  const char* watermarks[kPartitions] = {"2024-01-01 00:00:01", "2024-01-01 00:01:43",
                                         "2024-01-01 00:03:25"};
  for (int p = 0; p < kPartitions; ++p) {
    const std::string row = fmt::format(
        "<tr id=\"part-{0}-{1}\" data-lag=\"0\" data-idle=\"0\"><td>{0}</td><td class=\"n\">{1}"
        "</td><td class=\"n\">0</td><td>{2}</td><td>active</td></tr>",
        topic, p, watermarks[p]);
    EXPECT_NE(dom.find(row), std::string::npos) << row << "\n" << dom;
  }
  size_t rows = 0;
  for (size_t at = dom.find("<tr id=\"part-"); at != std::string::npos;
       at = dom.find("<tr id=\"part-", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, static_cast<size_t>(kPartitions));
  EXPECT_NE(dom.find("<td>invalid_json</td><td>" + topic + "/1:" +
                     std::to_string(EventsIn(1)) + "</td>"),
            std::string::npos);
}

TEST(StatusPageKafka, OneRowPerPartitionLiveAndInTheReport) {
  if (!HaveTool("chromium")) GTEST_SKIP() << "chromium not found (Debian package 'chromium')";
  pulse::Result<std::string> brokers = kt::TestBrokers();
  ASSERT_TRUE(brokers.ok()) << brokers.status().ToString();
  std::mt19937_64 rng{std::random_device{}()};
  const std::string topic = fmt::format("status-page-{:08x}", rng() & 0xffffffff);
  ASSERT_TRUE(kt::CreateTopic(*brokers, topic, kPartitions).ok());
  std::vector<kt::OutMessage> messages;
  int good = 0;
  for (int p = 0; p < kPartitions; ++p) {
    for (int i = 0; i < EventsIn(p); ++i) {
      kt::OutMessage m;
      m.partition = p;
      m.value = fmt::format(R"({{"event_time":{},"user":"u{}"}})",
                            kBase + (p * 100 + i) * 1000, i % 2);
      messages.push_back(std::move(m));
      ++good;
    }
  }
  messages.push_back(kt::OutMessage{1, std::nullopt, "not json", 0});
  ASSERT_TRUE(kt::Produce(*brokers, topic, messages).ok());

  TempDir dir;
  WriteFile(dir.path() / "p.toml",
            fmt::format("[source]\nkind = \"kafka\"\nbootstrap_servers = \"{}\"\n"
                        "topic = \"{}\"\ngroup_id = \"g-{}\"\nauto_offset_reset = \"earliest\"\n"
                        "[time]\nmax_out_of_orderness = \"2s\"\n"
                        "[window]\ntype = \"tumbling\"\nsize = \"10s\"\n"
                        "[ops]\ncount_by = \"user\"\n"
                        "[sink]\nkind = \"file\"\npath = \"out.jsonl\"\n",
                        *brokers, topic, topic));
  const int port = FreePort();
  Pulse pulse(dir.path(), {"run", "-c", "p.toml", "--http-port", std::to_string(port),
                           "--report", "run.html"});
  ASSERT_TRUE(WaitFor([&] {
    auto samples = ParseSamples(Get(port, "/metrics"));
    if (samples["pulse_source_records_read_total{source=\"source\"}"] != std::to_string(good)) {
      return false;
    }
    for (int p = 0; p < kPartitions; ++p) {
      const std::string labels = fmt::format("{{topic=\"{}\",partition=\"{}\"}}", topic, p);
      if (samples["pulse_kafka_partition_lag" + labels] != "0") return false;
    }
    // The page's list of bad records comes from the run history, sampled once a second.
    return Get(port, "/api/status").find("\"reason\":\"invalid_json\"") != std::string::npos;
  })) << pulse.err();
  ExpectPartitionRows(
      Chromium(dir.path() / "profile", "http://127.0.0.1:" + std::to_string(port) + "/", false),
      topic);

  EXPECT_EQ(pulse.Stop(SIGTERM), 143) << pulse.err();  // 128 + SIGTERM
  ASSERT_TRUE(fs::exists(dir.path() / "run.html")) << pulse.err();
  ExpectPartitionRows(Chromium(dir.path() / "profile-report",
                               "file://" + (dir.path() / "run.html").string(), true),
                      topic);
}

}  // namespace
