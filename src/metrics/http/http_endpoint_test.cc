// SPDX-License-Identifier: MIT
// HttpEndpoint: routes, status codes, content types, bind errors, slow clients, concurrency.
#include "pulse/metrics/http/http_endpoint.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "pulse/core/json.h"
#include "testing/test_util.h"

namespace pulse::metrics {
namespace {

std::unique_ptr<HttpEndpoint> StartOnAnyPort(Registry& registry,
                                             HttpEndpointOptions options = {}) {
  options.port = 0;
  Result<std::unique_ptr<HttpEndpoint>> endpoint = HttpEndpoint::Start(registry, options);
  EXPECT_TRUE(endpoint.ok()) << endpoint.status().ToString();
  return endpoint.ok() ? std::move(endpoint).value() : nullptr;
}

// A JSON number (or NaN if `v` is missing or not a number).
double Num(const Value* v) {
  double d = NAN;
  if (v == nullptr || !v->is_number() || !v->ToNumber(&d)) return NAN;
  return d;
}

// A raw TCP connection to 127.0.0.1:port, for clients that misbehave.
int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(HttpEndpoint, MetricsIsThePrometheusTextOfTheRegistry) {
  Registry registry;
  registry.GetCounter("pulse_test_total", "Test", {{"k", "v"}}).Increment(7);
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  httplib::Client client("127.0.0.1", endpoint->port());
  httplib::Result res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body,
            "# HELP pulse_test_total Test\n"
            "# TYPE pulse_test_total counter\n"
            "pulse_test_total{k=\"v\"} 7\n");
  httplib::Result head = client.Head("/metrics");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
}

TEST(HttpEndpoint, HealthzFollowsTheRunningState) {
  Registry registry;
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  httplib::Client client("127.0.0.1", endpoint->port());
  httplib::Result res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");
  endpoint->SetRunning(false);
  res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
}

TEST(HttpEndpoint, UnknownPathsAre404AndOtherMethods405) {
  Registry registry;
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  httplib::Client client("127.0.0.1", endpoint->port());
  auto status = [](const httplib::Result& r) { return r ? r->status : -1; };
  EXPECT_EQ(status(client.Get("/nope")), 404);
  EXPECT_EQ(status(client.Get("/metrics/extra")), 404);
  EXPECT_EQ(status(client.Post("/metrics", "x", "text/plain")), 405);
  EXPECT_EQ(status(client.Post("/metrics")), 405);  // no body at all
  EXPECT_EQ(status(client.Put("/", "x", "text/plain")), 405);
  EXPECT_EQ(status(client.Patch("/healthz", "x", "text/plain")), 405);
  EXPECT_EQ(status(client.Delete("/api/status")), 405);
  EXPECT_EQ(status(client.Options("/metrics")), 405);
  EXPECT_EQ(status(client.Post("/nope", "x", "text/plain")), 404);
  httplib::Result res = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD");
  // The connection still works after those.
  EXPECT_EQ(status(client.Get("/metrics")), 200);
}

TEST(HttpEndpoint, StatusPageIsSelfContained) {
  Registry registry;
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  httplib::Client client("127.0.0.1", endpoint->port());
  httplib::Result res = client.Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(res->body.find("<title>Pulse status</title>"), std::string::npos);
  EXPECT_NE(res->body.find("\"/api/status\""), std::string::npos);
  // Nothing is loaded from elsewhere.
  EXPECT_EQ(res->body.find("http://"), std::string::npos);
  EXPECT_EQ(res->body.find("https://"), std::string::npos);
  EXPECT_EQ(res->get_header_value("Content-Security-Policy").find("default-src 'none'"), 0u);
}

TEST(HttpEndpoint, StatusJsonOfAnIdleProcess) {
  Registry registry;
  RegisterProcessMetrics(registry);
  RegisterRunMetrics(registry);
  HttpEndpointOptions options;
  options.title = "idle \"one\"";
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry, options);
  ASSERT_NE(endpoint, nullptr);
  httplib::Client client("127.0.0.1", endpoint->port());
  httplib::Result res = client.Get("/api/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json; charset=utf-8");
  Result<Value> json = ParseJson(res->body);
  ASSERT_TRUE(json.ok()) << res->body;
  EXPECT_EQ(json->Find("title")->as_string(), "idle \"one\"");
  EXPECT_TRUE(json->Find("running")->as_bool());
  EXPECT_EQ(json->Find("stages")->as_array().size(), 0u);
  EXPECT_EQ(Num(json->Find("queue_depth")), 0);
  EXPECT_EQ(Num(json->Find("dropped")->Find("late")), 0);
  EXPECT_EQ(json->Find("dropped")->as_object().size(), static_cast<size_t>(kNumBadReasons));
  EXPECT_GT(Num(json->Find("process")->Find("rss_bytes")), 0);
}

TEST(HttpEndpoint, BindingAPortInUseIsAnIOErrorNamingIt) {
  Registry registry;
  std::unique_ptr<HttpEndpoint> first = StartOnAnyPort(registry);
  ASSERT_NE(first, nullptr);
  HttpEndpointOptions options;
  options.port = first->port();
  Result<std::unique_ptr<HttpEndpoint>> second = HttpEndpoint::Start(registry, options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIOError);
  EXPECT_EQ(second.status().message(),
            "cannot listen on 127.0.0.1:" + std::to_string(first->port()) +
                ": Address already in use");
}

TEST(HttpEndpoint, BadOptionsAreInvalidArguments) {
  Registry registry;
  HttpEndpointOptions options;
  options.port = 70000;
  EXPECT_EQ(HttpEndpoint::Start(registry, options).status().code(),
            StatusCode::kInvalidArgument);
  options.port = 0;
  options.address = "";
  EXPECT_EQ(HttpEndpoint::Start(registry, options).status().code(),
            StatusCode::kInvalidArgument);
  options.address = "127.0.0.1";
  options.threads = 0;
  EXPECT_EQ(HttpEndpoint::Start(registry, options).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(HttpEndpoint, UrlNamesAddressAndPort) {
  Registry registry;
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  EXPECT_EQ(endpoint->url(), "http://127.0.0.1:" + std::to_string(endpoint->port()) + "/");
}

// Clients that connect and then send nothing, or half a request, each hold at most one of the
// pool's threads: the others keep answering.
TEST(HttpEndpoint, StuckClientsDoNotBlockOtherScrapes) {
  Registry registry;
  registry.GetGauge("pulse_g", "G").Set(1);
  HttpEndpointOptions options;
  options.threads = 3;
  options.read_timeout_ms = 60000;  // the stuck clients stay stuck during the test
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry, options);
  ASSERT_NE(endpoint, nullptr);
  const int silent = Connect(endpoint->port());
  const int partial = Connect(endpoint->port());
  ASSERT_GE(silent, 0);
  ASSERT_GE(partial, 0);
  const std::string half = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(write(partial, half.data(), half.size()), static_cast<ssize_t>(half.size()));
  httplib::Client client("127.0.0.1", endpoint->port());
  for (int i = 0; i < 50; ++i) {
    httplib::Result res = client.Get("/metrics");
    ASSERT_TRUE(res) << "request " << i;
    EXPECT_EQ(res->status, 200);
  }
  close(silent);
  close(partial);
  endpoint->Stop();
}

TEST(HttpEndpoint, ConcurrentClientsAllGetAnswers) {
  Registry registry;
  Counter& counter = registry.GetCounter("pulse_c_total", "C");
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  constexpr int kClients = 8;
  constexpr int kRequests = 50;
  std::atomic<int> ok{0};
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    while (writing.load()) counter.Increment();
  });
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", endpoint->port());
      for (int i = 0; i < kRequests; ++i) {
        httplib::Result res = client.Get(c % 2 == 0 ? "/metrics" : "/api/status");
        if (res && res->status == 200 && !res->body.empty()) ++ok;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  writing.store(false);
  writer.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
}

TEST(HttpEndpoint, StopIsIdempotentAndRefusesNewConnections) {
  Registry registry;
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  const int port = endpoint->port();
  endpoint->Stop();
  endpoint->Stop();
  EXPECT_EQ(Connect(port), -1);
}

}  // namespace
}  // namespace pulse::metrics
