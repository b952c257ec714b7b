// SPDX-License-Identifier: MIT
// Observability through the real binary: `pulse serve`, `pulse run --http-port` scraped during
// a following run (exact values, promtool), a wrk scrape load that leaves the output unchanged,
// the status page rendered by headless Chromium, bind errors, JSON logs and debug spans.
// Tools that are missing (promtool, wrk, chromium; scripts/setup.sh installs them) make the
// tests that need them skip with a message.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "binary_test_util.h"
#include "pulse/config.h"
#include "pulse/core/json.h"

namespace {

namespace fs = std::filesystem;
using namespace pulse::obs_testing;

// promtool's lint flags the three metric names the original Pulse gave a "_ms" unit; those
// names are kept for compatibility, any other finding (or a parse error, exit 1) fails.
// scripts/setup.sh puts promtool in .tools/bin; one on the PATH works too.
std::string Promtool() {
  const fs::path local = fs::path(PULSE_SOURCE_DIR) / ".tools" / "bin" / "promtool";
  if (access(local.c_str(), X_OK) == 0) return local.string();
  return HaveTool("promtool") ? "promtool" : "";
}

void ExpectPromtoolAccepts(const std::string& exposition, const fs::path& dir) {
  const std::string promtool = Promtool();
  if (promtool.empty()) {
    std::cout << "note: promtool not found (scripts/setup.sh unpacks it into .tools/bin from "
                 "Debian's prometheus package): exposition format not checked\n";
    return;
  }
  WriteFile(dir / "metrics.txt", exposition);
  std::string out;
  const int code = Shell(promtool + " check metrics < " + (dir / "metrics.txt").string(), &out);
  ASSERT_TRUE(code == 0 || code == 3) << "promtool exit " << code << ": " << out;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    const bool allowed = line == "pulse_operator_process_latency_ms metric names should not "
                                 "contain abbreviated units" ||
                         line == "pulse_sink_process_latency_ms metric names should not "
                                 "contain abbreviated units" ||
                         line == "pulse_watermark_lag_ms metric names should not contain "
                                 "abbreviated units";
    EXPECT_TRUE(allowed) << "promtool: " << line;
  }
}

TEST(Serve, IdleProcessServesEveryMetricAtZero) {
  TempDir dir;
  const int port = FreePort();
  Pulse pulse(dir.path(), {"serve", "--port", std::to_string(port)});
  int status = 0;
  ASSERT_TRUE(WaitFor([&] { return Get(port, "/healthz", &status) == "ok\n"; })) << pulse.err();
  const std::string text = Get(port, "/metrics", &status);
  EXPECT_EQ(status, 200);
  auto samples = ParseSamples(text);
  EXPECT_EQ(samples["pulse_queue_depth"], "0");
  EXPECT_EQ(samples["pulse_watermark_lag_ms"], "0");
  EXPECT_EQ(samples["pulse_operator_process_latency_ms_count"], "0");
  EXPECT_EQ(samples["pulse_sink_process_latency_ms_count"], "0");
  EXPECT_EQ(samples["pulse_dropped_records_total{reason=\"late\"}"], "0");
  EXPECT_EQ(samples["pulse_dropped_records_total{reason=\"channel_full\"}"], "0");
  EXPECT_EQ(samples["pulse_dropped_records_total{reason=\"invalid_json\"}"], "0");
  EXPECT_EQ(samples["pulse_build_info{version=\"" PULSE_VERSION "\"}"], "1");
  EXPECT_EQ(samples.count("pulse_process_resident_memory_bytes"), 1u);
  EXPECT_EQ(samples.count("pulse_process_cpu_seconds_total"), 1u);
  for (const char* family : {"pulse_operator_records_total", "pulse_bytes_written_total",
                             "pulse_state_size", "pulse_source_records_read_total"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family), std::string::npos) << family;
  }
  ExpectPromtoolAccepts(text, dir.path());
  EXPECT_EQ(pulse.Stop(SIGTERM), 0) << pulse.err();
  EXPECT_NE(pulse.err().find("serving /metrics on http://127.0.0.1:" + std::to_string(port) +
                             "/metrics"),
            std::string::npos)
      << pulse.err();
}

// A TCP connection to address:port, or -1.
int ConnectTo(const char* address, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address, &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Issue 8 through the binary: `pulse serve` listens on 127.0.0.1 only; 200 idle connections
// and a request with a 1 MiB header do not keep /metrics from being scraped; SIGTERM still
// ends the process at once with the idle connections open.
TEST(Serve, LoopbackOnlyAndHostileClientsDoNotStopScrapes) {
  TempDir dir;
  const int port = FreePort();
  Pulse pulse(dir.path(), {"serve", "--port", std::to_string(port)});
  int status = 0;
  ASSERT_TRUE(WaitFor([&] { return Get(port, "/healthz", &status) == "ok\n"; })) << pulse.err();
  EXPECT_EQ(ConnectTo("127.0.0.2", port), -1);

  std::vector<int> idle;
  for (int i = 0; i < 200; ++i) {
    const int fd = ConnectTo("127.0.0.1", port);
    ASSERT_GE(fd, 0) << i;
    idle.push_back(fd);
  }
  const int big = ConnectTo("127.0.0.1", port);
  ASSERT_GE(big, 0);
  const std::string request =
      "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(1 << 20, 'a') + "\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(big, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server refused the rest (it answers after 64 KiB)
    sent += static_cast<size_t>(n);
  }
  char head[64] = {};
  const ssize_t got = recv(big, head, sizeof(head) - 1, 0);
  EXPECT_GT(got, 0);
  EXPECT_EQ(std::string(head).substr(0, 24), "HTTP/1.1 400 Bad Request");
  close(big);

  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(3);
  for (int i = 0; i < 10; ++i) {
    httplib::Result res = client.Get("/metrics");
    ASSERT_TRUE(res) << i;
    EXPECT_EQ(res->status, 200);
    EXPECT_NE(res->body.find("# TYPE pulse_queue_depth gauge"), std::string::npos);
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(pulse.Stop(SIGTERM), 0) << pulse.err();
  // Stopping closes the idle connections at once (a bound for a hang, not a timing assertion).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  for (int fd : idle) close(fd);
}

// The acceptance test of the issue: values scraped during a real run, exactly.
TEST(Run, ScrapedWhileFollowingAFile) {
  TempDir dir;
  WriteConfig(dir.path(), /*follow=*/true);
  const std::string input = Fixture();
  WriteFile(dir.path() / "in.jsonl", "");
  const int port = FreePort();
  Pulse pulse(dir.path(), {"run", "-c", "p.toml", "--workers", "2", "--http-port",
                           std::to_string(port)});
  ASSERT_TRUE(WaitFor([&] { return Get(port, "/healthz") == "ok\n"; })) << pulse.err();
  // Present from the start, at zero, before any input.
  auto samples = ParseSamples(Get(port, "/metrics"));
  EXPECT_EQ(samples["pulse_source_records_read_total{source=\"source\"}"], "0");
  EXPECT_EQ(samples["pulse_operator_records_total{operator=\"window\",stage=\"receive\"}"], "0");
  EXPECT_EQ(samples["pulse_operator_watermark_seconds{operator=\"window\"}"], "-Inf");

  WriteFile(dir.path() / "in.jsonl", input);
  const std::string watermark = std::to_string(kBase / 1000 + 25);
  ASSERT_TRUE(WaitFor([&] {
    samples = ParseSamples(Get(port, "/metrics"));
    return samples["pulse_source_records_read_total{source=\"source\"}"] == "7" &&
           samples["pulse_sink_results_written_total{sink=\"sink\"}"] == "4" &&
           samples["pulse_operator_watermark_seconds{operator=\"sink\"}"] == watermark;
  })) << pulse.err();
  EXPECT_EQ(samples["pulse_source_bytes_read_total{source=\"source\"}"],
            std::to_string(input.size()));
  EXPECT_EQ(samples["pulse_dropped_records_total{reason=\"invalid_json\"}"], "1");
  EXPECT_EQ(samples["pulse_dropped_records_total{reason=\"bad_event_time\"}"], "1");
  EXPECT_EQ(samples["pulse_dropped_records_total{reason=\"not_an_object\"}"], "1");
  EXPECT_EQ(samples["pulse_dropped_records_total{reason=\"late\"}"], "1");
  EXPECT_EQ(samples["pulse_operator_late_records_total{operator=\"window\"}"], "1");
  EXPECT_EQ(samples["pulse_source_watermark_seconds{source=\"source\"}"], watermark);
  EXPECT_EQ(samples["pulse_operator_watermark_seconds{operator=\"window\"}"], watermark);
  EXPECT_EQ(samples["pulse_operator_records_total{operator=\"key_by\",stage=\"emit\"}"], "7");
  EXPECT_EQ(samples["pulse_operator_records_total{operator=\"window\",stage=\"emit\"}"], "4");
  EXPECT_EQ(samples["pulse_operator_records_total{operator=\"sink\",stage=\"receive\"}"], "4");
  EXPECT_EQ(samples["pulse_operator_open_windows{operator=\"window\"}"], "1");
  EXPECT_EQ(samples["pulse_state_size{operator=\"window\"}"], "1");
  EXPECT_EQ(samples["pulse_queue_depth"], "0");
  ExpectPromtoolAccepts(Get(port, "/metrics"), dir.path());

  EXPECT_EQ(pulse.Stop(SIGTERM), 143) << pulse.err();  // 128 + SIGTERM
  EXPECT_EQ(ReadFile(dir.path() / "out.jsonl"),
            "{\"window_start_ms\":1704067200000,\"window_end_ms\":1704067210000,\"key\":\"a\","
            "\"count\":2}\n"
            "{\"window_start_ms\":1704067200000,\"window_end_ms\":1704067210000,\"key\":\"b\","
            "\"count\":1}\n"
            "{\"window_start_ms\":1704067210000,\"window_end_ms\":1704067220000,\"key\":\"a\","
            "\"count\":1}\n"
            "{\"window_start_ms\":1704067210000,\"window_end_ms\":1704067220000,\"key\":\"b\","
            "\"count\":1}\n");
  // The server is gone with the run.
  int status = 0;
  Get(port, "/healthz", &status);
  EXPECT_EQ(status, -1);
}

// Run a following pipeline over `input` (with HTTP on `port`), wait until everything is read
// and the output is complete, run `during` (the load), stop, and return the output.
std::string FollowRun(const fs::path& dir, const std::string& input, int records, int results,
                      const std::function<void(int port)>& during) {
  WriteConfig(dir, /*follow=*/true);
  WriteFile(dir / "in.jsonl", input);
  const int port = FreePort();
  Pulse pulse(dir, {"run", "-c", "p.toml", "--http-port", std::to_string(port)});
  EXPECT_TRUE(WaitFor([&] { return Get(port, "/healthz") == "ok\n"; })) << pulse.err();
  during(port);
  EXPECT_TRUE(WaitFor([&] {
    auto samples = ParseSamples(Get(port, "/metrics"));
    return samples["pulse_source_records_read_total{source=\"source\"}"] ==
               std::to_string(records) &&
           samples["pulse_sink_results_written_total{sink=\"sink\"}"] == std::to_string(results);
  })) << pulse.err();
  EXPECT_EQ(pulse.Stop(SIGTERM), 143) << pulse.err();  // 128 + SIGTERM
  return ReadFile(dir / "out.jsonl");
}

TEST(Run, WrkScrapeLoadAnswersEveryRequestAndLeavesTheOutputUnchanged) {
  if (!HaveTool("wrk")) {
    GTEST_SKIP() << "wrk not found (Debian package 'wrk'; scripts/setup.sh installs it)";
  }
  std::string input;
  constexpr int kRecords = 100000;
  for (int i = 0; i < kRecords; ++i) input += Line(i / 20, "u" + std::to_string(i % 101));
  // Windows of 10 s over 5000 s of event time, 101 keys each; the last one stays open.
  constexpr int kResults = 499 * 101;
  TempDir quiet;
  const std::string expected = FollowRun(quiet.path(), input, kRecords, kResults, [](int) {});
  TempDir loaded;
  std::string wrk_out;
  int wrk_code = -1;
  const std::string output = FollowRun(loaded.path(), input, kRecords, kResults, [&](int port) {
    // 3 s of 6 connections on 2 threads against /metrics, while a client polls the status
    // JSON; the load starts while the file is still being read.
    std::thread status_client([port] {
      for (int i = 0; i < 100; ++i) {
        int status = 0;
        Get(port, "/api/status", &status);
        EXPECT_EQ(status, 200);
      }
    });
    wrk_code = Shell("wrk -t2 -c6 -d3s --timeout 10s http://127.0.0.1:" + std::to_string(port) +
                         "/metrics",
                     &wrk_out);
    status_client.join();
  });
  ASSERT_EQ(wrk_code, 0) << wrk_out;
  EXPECT_NE(wrk_out.find(" requests in "), std::string::npos) << wrk_out;
  EXPECT_EQ(wrk_out.find("Non-2xx"), std::string::npos) << wrk_out;
  EXPECT_EQ(wrk_out.find("Socket errors"), std::string::npos) << wrk_out;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), kResults);
  EXPECT_TRUE(output == expected) << "the output under load differs";
}

TEST(Run, StatusPageRendersInHeadlessChromium) {
  if (!HaveTool("chromium")) {
    GTEST_SKIP() << "chromium not found (Debian package 'chromium'; scripts/setup.sh installs "
                    "it): status page not rendered";
  }
  TempDir dir;
  WriteConfig(dir.path(), /*follow=*/true);
  WriteFile(dir.path() / "in.jsonl", Fixture());
  const int port = FreePort();
  Pulse pulse(dir.path(), {"run", "-c", "p.toml", "--http-port", std::to_string(port)});
  ASSERT_TRUE(WaitFor([&] {
    auto samples = ParseSamples(Get(port, "/metrics"));
    return samples["pulse_sink_results_written_total{sink=\"sink\"}"] == "4";
  })) << pulse.err();
  const fs::path profile = dir.path() / "chromium-profile";
  const std::string chromium =
      "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir=" + profile.string() + " --window-size=1400,900 "
      "--virtual-time-budget=5000 ";
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  std::string dom;
  ASSERT_EQ(Shell(chromium + "--dump-dom " + url + " 2>/dev/null", &dom), 0) << dom;
  // The graph: one card per stage, in order.
  const size_t source = dom.find("id=\"stage-source\"");
  const size_t key_by = dom.find("id=\"stage-key_by\"");
  const size_t window = dom.find("id=\"stage-window\"");
  const size_t sink = dom.find("id=\"stage-sink\"");
  ASSERT_NE(source, std::string::npos) << dom;
  EXPECT_TRUE(source < key_by && key_by < window && window < sink &&
              sink != std::string::npos)
      << dom;
  // The numbers of the run, after the page's updates.
  for (const char* fragment :
       {"id=\"state\">running<", "id=\"s-source-emitted\" data-value=\"7\">7<",
        "id=\"s-source-dropped\" data-value=\"3\" class=\"alert\">3<",
        "id=\"s-key_by-received\" data-value=\"7\">7<",
        "id=\"s-window-received\" data-value=\"7\">7<",
        "id=\"s-window-emitted\" data-value=\"4\">4<", "id=\"s-window-late\" data-value=\"1\" class=\"alert\">1<",
        "id=\"s-window-open_windows\" data-value=\"1\">1<",
        "id=\"s-sink-received\" data-value=\"4\">4<",
        "id=\"s-window-watermark\" class=\"time\" data-value=\"1704067225000\">2024-01-01 00:00:25<",
        "id=\"d-invalid_json\" data-value=\"1\">1<", "id=\"d-late\" data-value=\"1\">1<",
        "id=\"t-read\" data-value=\"7\">7<", "id=\"t-written\" data-value=\"4\">4<",
        "id=\"t-dropped\" data-value=\"4\""}) {
    EXPECT_NE(dom.find(fragment), std::string::npos) << fragment;
  }
  std::string out;
  const fs::path png = dir.path() / "status.png";
  ASSERT_EQ(Shell(chromium + "--screenshot=" + png.string() + " " + url, &out), 0) << out;
  EXPECT_GT(fs::file_size(png), 20000u);
  EXPECT_EQ(pulse.Stop(SIGTERM), 143) << pulse.err();  // 128 + SIGTERM
}

TEST(Run, PortInUseIsARuntimeErrorAndBadPortAUsageError) {
  TempDir dir;
  WriteConfig(dir.path(), /*follow=*/false);
  WriteFile(dir.path() / "in.jsonl", Fixture());
  // Hold a port.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  {
    Pulse pulse(dir.path(), {"run", "-c", "p.toml", "--http-port", port});
    EXPECT_EQ(pulse.Wait(), 1);
    EXPECT_EQ(pulse.err(),
              "error: cannot listen on 127.0.0.1:" + port + ": Address already in use\n");
    EXPECT_FALSE(fs::exists(dir.path() / "out.jsonl"));
  }
  {
    Pulse pulse(dir.path(), {"serve", "--port", port});
    EXPECT_EQ(pulse.Wait(), 1);
    EXPECT_EQ(pulse.err(),
              "error: cannot listen on 127.0.0.1:" + port + ": Address already in use\n");
  }
  close(fd);
  {
    Pulse pulse(dir.path(), {"run", "-c", "p.toml", "--http-port", "70000"});
    EXPECT_EQ(pulse.Wait(), 2);
    EXPECT_NE(pulse.err().find("--http-port"), std::string::npos) << pulse.err();
  }
  {
    Pulse pulse(dir.path(), {"serve", "--port", "0"});
    EXPECT_EQ(pulse.Wait(), 2);
  }
  {
    // Without --http-port nothing listens and the run is as before.
    Pulse pulse(dir.path(), {"run", "-c", "p.toml"});
    EXPECT_EQ(pulse.Wait(), 0);
    EXPECT_NE(pulse.err().find("wrote 5 results"), std::string::npos) << pulse.err();
    EXPECT_EQ(pulse.err().find("serving"), std::string::npos) << pulse.err();
  }
}

TEST(Logs, JsonLinesWithDebugSpans) {
  TempDir dir;
  WriteConfig(dir.path(), /*follow=*/false);
  WriteFile(dir.path() / "in.jsonl", Fixture());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--log-format", "json", "run", "-c", "p.toml"},
        std::vector<std::string>{"run", "-c", "p.toml", "--log-format", "json", "--workers",
                                 "2"}}) {
    Pulse pulse(dir.path(), args, {"PULSE_LOG=debug"});
    ASSERT_EQ(pulse.Wait(), 0) << pulse.err();
    std::istringstream lines(pulse.err());
    std::string line;
    int spans = 0;
    int64_t window_received = 0;
    int64_t sink_received = 0;
    bool summary = false;
    while (std::getline(lines, line)) {
      pulse::Result<pulse::Value> json = pulse::ParseJson(line);
      ASSERT_TRUE(json.ok()) << "not JSON: " << line;
      ASSERT_NE(json->Find("ts"), nullptr) << line;
      ASSERT_NE(json->Find("level"), nullptr) << line;
      const std::string& msg = json->Find("msg")->as_string();
      if (msg.rfind("span ", 0) == 0) {
        ++spans;
        EXPECT_EQ(json->Find("level")->as_string(), "debug");
        const std::string& stage = json->Find("stage")->as_string();
        if (stage == "window") window_received += json->Find("received")->as_int();
        if (stage == "sink") sink_received += json->Find("received")->as_int();
        EXPECT_NE(json->Find("elapsed_ms"), nullptr) << line;
      }
      if (msg.rfind("pulse: read 7 records", 0) == 0) {
        summary = true;
        EXPECT_EQ(json->Find("level")->as_string(), "info");
      }
    }
    EXPECT_GE(spans, 4);  // source, key_by, window (per worker), sink
    EXPECT_EQ(window_received, 7);
    EXPECT_EQ(sink_received, 5);
    EXPECT_TRUE(summary) << pulse.err();
  }
  {
    // At info level there are no spans; text is the default format.
    Pulse pulse(dir.path(), {"run", "-c", "p.toml"}, {"PULSE_LOG=info"});
    ASSERT_EQ(pulse.Wait(), 0);
    EXPECT_EQ(pulse.err().find("span"), std::string::npos) << pulse.err();
  }
  {
    Pulse pulse(dir.path(), {"run", "-c", "p.toml", "--log-format", "xml"});
    EXPECT_EQ(pulse.Wait(), 2);
  }
}

}  // namespace
