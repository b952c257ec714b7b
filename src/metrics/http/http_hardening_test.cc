// SPDX-License-Identifier: MIT
// HttpEndpoint against hostile clients over real sockets (issue 8): malformed requests, huge
// headers, idle and non-reading clients, range bombs, pipelining, loopback-only default.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pulse/metrics/http/http_endpoint.h"

namespace pulse::metrics {
namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<HttpEndpoint> StartOnAnyPort(Registry& registry, HttpEndpointOptions options = {}) {
  options.port = 0;
  Result<std::unique_ptr<HttpEndpoint>> endpoint = HttpEndpoint::Start(registry, options);
  EXPECT_TRUE(endpoint.ok()) << endpoint.status().ToString();
  return endpoint.ok() ? std::move(endpoint).value() : nullptr;
}

// A TCP connection to address:port, or -1 with errno set. A `receive_buffer` > 0 is set
// before connecting (so that the window is small from the start).
int Connect(int port, const char* address = "127.0.0.1", int receive_buffer = 0) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (receive_buffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address, &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

// Send as much of `data` as the peer takes; the count sent.
size_t SendAll(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// Everything the peer sends until it closes (or resets) the connection, or `timeout` passes.
std::string ReadUntilClosed(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  std::string out;
  const Clock::time_point deadline = Clock::now() + timeout;
  char buf[65536];
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 0))) <= 0) break;
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// The first response in `text` if it is complete (head, and a body of its Content-Length).
bool HasCompleteResponse(std::string_view text) {
  const size_t head_end = text.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return false;
  size_t length = 0;
  const size_t at = text.substr(0, head_end).find("Content-Length: ");
  if (at != std::string_view::npos) length = std::stoul(std::string(text.substr(at + 16, 20)));
  return text.size() >= head_end + 4 + length;
}

// Send `request` on a new connection and return the server's first response: everything up
// to the end of its body, or up to when the server closed the connection.
std::string Exchange(int port, std::string_view request) {
  const int fd = Connect(port);
  if (fd < 0) return "connect failed";
  SendAll(fd, request);
  std::string response;
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(10);
  char buf[65536];
  while (!HasCompleteResponse(response) && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return response;
}

// The status code of the first response in `text`, or -1.
int StatusOf(std::string_view text) {
  constexpr std::string_view kPrefix = "HTTP/1.1 ";
  if (text.substr(0, kPrefix.size()) != kPrefix || text.size() < kPrefix.size() + 3) return -1;
  return std::stoi(std::string(text.substr(kPrefix.size(), 3)));
}

// How many responses `text` holds (status lines at the start of a line).
int CountResponses(std::string_view text) {
  int count = 0;
  for (size_t at = text.find("HTTP/1.1 "); at != std::string_view::npos;
       at = text.find("HTTP/1.1 ", at + 1)) {
    if (at == 0 || text[at - 1] == '\n') ++count;
  }
  return count;
}

bool ScrapeOk(int port, std::string* body = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(3);
  client.set_read_timeout(3);
  httplib::Result res = client.Get("/metrics");
  if (!res || res->status != 200) return false;
  if (body != nullptr) *body = res->body;
  return true;
}

struct RawCase {
  std::string name;
  std::string request;
  int status;
};

TEST(HttpHardening, MalformedRequestsGetExactStatuses) {
  Registry registry;
  registry.GetGauge("pulse_g", "G").Set(1);
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  const std::string long_path(9000, 'a');
  const std::vector<RawCase> cases = {
      {"well formed", "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200},
      {"http 1.0 without headers", "GET /metrics HTTP/1.0\r\n\r\n", 200},
      {"garbage", "GARBAGE\r\n\r\n", 400},
      {"binary", std::string("\x00\x01\x02\xff\r\n\r\n", 8), 400},
      {"method only", "GET\r\n\r\n", 400},
      {"no version", "GET /metrics\r\n\r\n", 400},
      {"unknown version", "GET /metrics HTTP/9.9\r\n\r\n", 400},
      {"lower-case method", "get /metrics HTTP/1.1\r\n\r\n", 400},
      {"unknown method", "BREW /metrics HTTP/1.1\r\n\r\n", 400},
      {"four parts", "GET /metrics HTTP/1.1 x\r\n\r\n", 400},
      {"two query marks", "GET /metrics?a?b HTTP/1.1\r\n\r\n", 400},
      {"bare LF line ends", "GET /metrics HTTP/1.1\n\n", 400},
      {"path without slash", "GET metrics HTTP/1.1\r\n\r\n", 404},
      {"unknown path", "GET /nope HTTP/1.1\r\n\r\n", 404},
      {"bad percent escape", "GET /%zz HTTP/1.1\r\n\r\n", 404},
      {"NUL escape", "GET /metrics%00 HTTP/1.1\r\n\r\n", 404},
      {"header without colon is ignored", "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n", 200},
      {"query string", "GET /metrics?name[]=x&%zz=1 HTTP/1.1\r\n\r\n", 200},
      {"bad range", "GET /metrics HTTP/1.1\r\nRange: bytes=abc\r\n\r\n", 416},
      {"TRACE", "TRACE /metrics HTTP/1.1\r\n\r\n", 405},
      {"CONNECT", "CONNECT /metrics HTTP/1.1\r\n\r\n", 405},
      {"PRI elsewhere", "PRI /x HTTP/1.1\r\n\r\n", 404},
      {"DELETE", "DELETE /metrics HTTP/1.1\r\n\r\n", 405},
      {"POST without length", "POST /metrics HTTP/1.1\r\n\r\n", 405},
      {"POST with a small body", "POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nab", 405},
      {"POST with a huge length", "POST /metrics HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
       405},
      {"bad chunk", "POST /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", 405},
      {"request line of 9000 bytes", "GET /" + long_path + " HTTP/1.1\r\n\r\n", 414},
  };
  for (const RawCase& c : cases) {
    const std::string response = Exchange(endpoint->port(), c.request);
    EXPECT_EQ(StatusOf(response), c.status) << c.name << ": " << response.substr(0, 200);
  }
  EXPECT_TRUE(ScrapeOk(endpoint->port()));
}

// A header of 1 MiB, or 1 MiB of small headers, is refused with 400 (the request head may be
// at most 64 KiB), and the server goes on serving.
TEST(HttpHardening, HugeHeadersAre400AndTheServerStillServes) {
  Registry registry;
  registry.GetGauge("pulse_g", "G").Set(1);
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  const std::string one_line =
      "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(1 << 20, 'a') + "\r\n\r\n";
  EXPECT_EQ(StatusOf(Exchange(endpoint->port(), one_line)), 400);
  std::string many = "GET /metrics HTTP/1.1\r\n";
  while (many.size() < (1 << 20)) many += "X-H: v\r\n";
  many += "\r\n";
  EXPECT_EQ(StatusOf(Exchange(endpoint->port(), many)), 400);
  // Just under the limit: served.
  std::string fits = "GET /healthz HTTP/1.1\r\n";
  while (fits.size() < 60 * 1024) fits += "X-H: v\r\n";
  fits += "\r\n";
  EXPECT_EQ(StatusOf(Exchange(endpoint->port(), fits)), 200);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(ScrapeOk(endpoint->port())) << i;
}

// Idle connections wait without holding a thread of the pool: with 200 of them open (and
// allowed to idle for 30 s), another client's scrapes are answered at once.
TEST(HttpHardening, TwoHundredIdleConnectionsDoNotDelayScrapes) {
  Registry registry;
  registry.GetGauge("pulse_g", "G").Set(1);
  HttpEndpointOptions options;
  options.read_timeout_ms = 30000;
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry, options);
  ASSERT_NE(endpoint, nullptr);
  constexpr int kIdle = 200;
  std::vector<int> idle;
  for (int i = 0; i < kIdle; ++i) {
    const int fd = Connect(endpoint->port());
    ASSERT_GE(fd, 0) << i;
    idle.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(ScrapeOk(endpoint->port())) << "scrape " << i;
  // Each scrape had 3 s (ScrapeOk); the old pool needed 200 × 1 s / 4 threads for the first.
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));
  // The idle connections are still open (no EOF waiting) and still usable.
  int open = 0;
  for (int fd : idle) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) == 0) ++open;
  }
  EXPECT_EQ(open, kIdle);
  const std::string request = "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(SendAll(idle[7], request), request.size());
  const std::string response = ReadUntilClosed(idle[7]);
  EXPECT_EQ(StatusOf(response), 200) << response;
  for (int fd : idle) close(fd);
}

// A client that asks for a large /metrics and reads nothing holds one thread for at most the
// write timeout; the other thread keeps answering, and the stuck response is then cut off.
TEST(HttpHardening, ClientThatNeverReadsDoesNotBlockOtherScrapes) {
  Registry registry;
  const std::string padding(400, 'x');
  for (int i = 0; i < 16000; ++i) {
    registry.GetGauge("pulse_big", "Big", {{"i", std::to_string(i)}, {"pad", padding}}).Set(i);
  }
  HttpEndpointOptions options;
  options.threads = 2;
  options.write_timeout_ms = 2000;
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry, options);
  ASSERT_NE(endpoint, nullptr);
  std::string full;
  ASSERT_TRUE(ScrapeOk(endpoint->port(), &full));
  ASSERT_GT(full.size(), 6u << 20);  // more than the socket buffers take

  const int stuck = Connect(endpoint->port(), "127.0.0.1", /*receive_buffer=*/4096);
  ASSERT_GE(stuck, 0);
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(SendAll(stuck, request), request.size());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 2; ++i) {
    std::string body;
    ASSERT_TRUE(ScrapeOk(endpoint->port(), &body)) << i;
    EXPECT_EQ(body.size(), full.size());
  }
  httplib::Client client("127.0.0.1", endpoint->port());
  for (int i = 0; i < 20; ++i) {
    httplib::Result res = client.Get("/healthz");
    ASSERT_TRUE(res) << i;
    EXPECT_EQ(res->status, 200);
  }
  // After the write timeout the server gives up: the stuck client gets part of the response
  // and then the end of the connection.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const int large = 1 << 20;
  setsockopt(stuck, SOL_SOCKET, SO_RCVBUF, &large, sizeof(large));
  const std::string got = ReadUntilClosed(stuck, std::chrono::seconds(10));
  EXPECT_EQ(StatusOf(got), 200);
  EXPECT_LT(got.size(), full.size());
  close(stuck);
}

// Bodies are never read: a POST is answered 405 at once, whatever it announces (a body that
// would take forever, a bad chunk, a "gzip" body that is not gzip), and the connection is
// closed after the answer since the body is still in it.
TEST(HttpHardening, RequestBodiesAreNeverRead) {
  Registry registry;
  HttpEndpointOptions options;
  options.read_timeout_ms = 60000;  // waiting for the body would outlast the test's limit
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry, options);
  ASSERT_NE(endpoint, nullptr);
  const std::vector<std::string> requests = {
      "POST /metrics HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\nabc",
      "PUT /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nnot a chunk",
      "POST /metrics HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 8\r\n\r\nnot gzip",
      "DELETE /api/status HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
  };
  for (const std::string& request : requests) {
    const int fd = Connect(endpoint->port());
    ASSERT_GE(fd, 0);
    SendAll(fd, request);
    const std::string response = ReadUntilClosed(fd, std::chrono::seconds(10));
    close(fd);
    EXPECT_EQ(StatusOf(response), 405) << request;
    EXPECT_NE(response.find("\r\nConnection: close\r\n"), std::string::npos) << response;
    EXPECT_EQ(response.find("Keep-Alive"), std::string::npos) << response;
    EXPECT_EQ(CountResponses(response), 1) << response;
  }
  // Without a body, the connection stays usable.
  const int fd = Connect(endpoint->port());
  ASSERT_GE(fd, 0);
  SendAll(fd,
          "OPTIONS /metrics HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
  const std::string both = ReadUntilClosed(fd);
  close(fd);
  EXPECT_EQ(CountResponses(both), 2) << both;
  EXPECT_NE(both.find("HTTP/1.1 200 OK"), std::string::npos) << both;
}

// Many ranges would make a response many times the size of /metrics: ranges are ignored.
TEST(HttpHardening, RangesAreIgnored) {
  Registry registry;
  registry.GetGauge("pulse_g", "G").Set(1);
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  std::string full;
  ASSERT_TRUE(ScrapeOk(endpoint->port(), &full));
  std::string ranges = "bytes=0-";
  for (int i = 0; i < 2000; ++i) ranges += ",0-";
  httplib::Client client("127.0.0.1", endpoint->port());
  httplib::Result res = client.Get("/metrics", {{"Range", ranges}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body.size(), full.size());  // not 2001 copies
  EXPECT_TRUE(res->body == full);
  res = client.Get("/metrics", {{"Range", "bytes=0-3"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body.size(), full.size());
}

// Requests sent back to back on one connection are all answered, in order.
TEST(HttpHardening, PipelinedRequestsAreAnsweredInOrder) {
  Registry registry;
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  std::string requests;
  for (int i = 0; i < 5; ++i) requests += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  requests += "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const int fd = Connect(endpoint->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, requests);
  const std::string response = ReadUntilClosed(fd);
  close(fd);
  EXPECT_EQ(CountResponses(response), 6) << response;
  EXPECT_EQ(StatusOf(response), 200);
  EXPECT_NE(response.find("HTTP/1.1 404 Not Found"), std::string::npos);
}

// A connection serves at most 20 requests; the 20th response says Connection: close.
TEST(HttpHardening, KeepAliveConnectionsServeAtMostTwentyRequests) {
  Registry registry;
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  std::string requests;
  for (int i = 0; i < 25; ++i) requests += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const int fd = Connect(endpoint->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, requests);
  const std::string response = ReadUntilClosed(fd);
  close(fd);
  EXPECT_EQ(CountResponses(response), 20);
  EXPECT_EQ(response.find("Connection: close"), response.rfind("Connection: close"));
  EXPECT_NE(response.find("Connection: close"), std::string::npos);
}

// The default address is 127.0.0.1: the listening socket is bound to it (so even 127.0.0.2,
// another loopback address, is refused), never to every interface.
TEST(HttpHardening, DefaultBindsLoopbackOnly) {
  HttpEndpointOptions defaults;
  EXPECT_EQ(defaults.address, "127.0.0.1");
  Registry registry;
  std::unique_ptr<HttpEndpoint> endpoint = StartOnAnyPort(registry);
  ASSERT_NE(endpoint, nullptr);
  const int port = endpoint->port();
  const int ok = Connect(port, "127.0.0.1");
  EXPECT_GE(ok, 0);
  close(ok);
  EXPECT_EQ(Connect(port, "127.0.0.2"), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  // /proc/net/tcp: the listening socket's local address is 0100007F (127.0.0.1, little endian).
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  char port_hex[8];
  std::snprintf(port_hex, sizeof(port_hex), "%04X", port);
  std::vector<std::string> listening;
  while (std::getline(tcp, line)) {
    // "  sl  local_address rem_address   st ..."; st 0A is LISTEN.
    std::istringstream fields(line);
    std::string sl, local, remote, state;
    fields >> sl >> local >> remote >> state;
    if (state == "0A" && local.size() > 5 && local.substr(local.size() - 4) == port_hex) {
      listening.push_back(local);
    }
  }
  EXPECT_EQ(listening, std::vector<std::string>{std::string("0100007F:") + port_hex});
}

}  // namespace
}  // namespace pulse::metrics
