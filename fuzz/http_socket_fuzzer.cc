// SPDX-License-Identifier: MIT
// Fuzz the HTTP endpoint over real sockets: each input is sent to a running HttpEndpoint on
// 127.0.0.1 (whole or in pieces, then the sending side is closed), whatever comes back
// must be HTTP with a known status, and the endpoint must then still answer /healthz.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"

#include "pulse/metrics/http/http_endpoint.h"

namespace pulse::fuzz {
namespace {

using Clock = std::chrono::steady_clock;

struct Fixture {
  metrics::Registry registry;
  std::unique_ptr<metrics::HttpEndpoint> endpoint;

  Fixture() {
    registry.GetCounter("pulse_fuzz_total", "Fuzz").Increment(1);
    metrics::HttpEndpointOptions options;
    options.port = 0;
    options.threads = 2;
    // Short, so that a request the input leaves unfinished costs little.
    options.read_timeout_ms = 200;
    options.write_timeout_ms = 1000;
    Result<std::unique_ptr<metrics::HttpEndpoint>> started =
        metrics::HttpEndpoint::Start(registry, options);
    PULSE_FUZZ_CHECK(started.ok(), started.status().ToString());
    endpoint = std::move(started).value();
  }
};

Fixture& TheFixture() {
  static Fixture* fixture = new Fixture();  // never destroyed: libFuzzer exits without cleanup
  return *fixture;
}

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  PULSE_FUZZ_CHECK(fd >= 0, "socket: " << errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  PULSE_FUZZ_CHECK(rc == 0, "cannot connect to the endpoint: errno " << errno);
  return fd;
}

// What the server sends until it closes the connection or `timeout` passes.
std::string ReadAll(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  const Clock::time_point deadline = Clock::now() + timeout;
  char buf[16384];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void CheckResponses(std::string_view out) {
  if (out.empty()) return;  // e.g. the input ended inside the request line
  constexpr std::string_view kPrefix = "HTTP/1.1 ";
  PULSE_FUZZ_CHECK(out.substr(0, kPrefix.size()) == kPrefix, "not HTTP: " << out.substr(0, 60));
  const std::string_view code = out.substr(kPrefix.size(), 3);
  bool known = false;
  for (std::string_view s : {"100", "200", "400", "404", "405", "414", "416", "417"}) {
    known = known || code == s;
  }
  PULSE_FUZZ_CHECK(known, "unexpected status " << code);
  PULSE_FUZZ_CHECK(out.find("EXCEPTION_WHAT") == std::string_view::npos, "a handler threw");
}

void CheckStillServes(int port) {
  const int fd = Connect(port);
  const std::string request = "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n";
  PULSE_FUZZ_CHECK(send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                       static_cast<ssize_t>(request.size()),
                   "cannot send the health check");
  const std::string out = ReadAll(fd, std::chrono::seconds(5));
  close(fd);
  PULSE_FUZZ_CHECK(out.substr(0, 15) == "HTTP/1.1 200 OK", "health check failed: " << out);
}

}  // namespace
}  // namespace pulse::fuzz

// Input: byte 0 selects how the rest is sent: in pieces of 1 << (n % 12) bytes (n = bits 1-7;
// pieces under 64 bytes with a short pause between them); then the sending side is closed
// at once (bit 0 clear) or after 300 ms, past the server's read timeout (bit 0 set).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using pulse::fuzz::Fixture;
  if (size == 0) return 0;
  Fixture& f = pulse::fuzz::TheFixture();
  const int port = f.endpoint->port();
  const uint8_t control = data[0];
  const std::string_view input = pulse::fuzz::AsText(data + 1, size - 1);
  const size_t piece = size_t{1} << ((control >> 1) % 12);
  const int fd = pulse::fuzz::Connect(port);
  for (size_t at = 0; at < input.size(); at += piece) {
    const std::string_view part = input.substr(at, piece);
    if (send(fd, part.data(), part.size(), MSG_NOSIGNAL) < 0) break;  // the server closed
    if (at + piece < input.size() && piece < 64) usleep(100);
  }
  if ((control & 1) != 0) usleep(300 * 1000);
  shutdown(fd, SHUT_WR);
  const std::string out = pulse::fuzz::ReadAll(fd, std::chrono::seconds(3));
  close(fd);
  pulse::fuzz::CheckResponses(out);
  pulse::fuzz::CheckStillServes(port);
  return 0;
}
