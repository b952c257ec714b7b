// SPDX-License-Identifier: MIT
// Fuzz the HTTP endpoint's request path in memory: raw bytes, or a request built from fuzzed
// method, path, query, headers and body, go through HttpServer::ServeRequest (httplib's parser
// and Pulse's routes, exactly as a connection is served) and the responses are checked.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "metrics/http/http_server.h"

#include "pulse/metrics/registry.h"

namespace pulse::fuzz {
namespace {

// The request bytes in, the response bytes out; reads hand out at most `chunk` bytes.
class MemoryStream final : public httplib::Stream {
 public:
  MemoryStream(std::string_view input, size_t chunk) : input_(input), chunk_(chunk) {}

  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min({size, chunk_, input_.size() - offset_});
    std::memcpy(ptr, input_.data() + offset_, n);
    offset_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    output_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 9898;
  }
  socket_t socket() const override { return 0; }

  bool exhausted() const { return offset_ >= input_.size(); }
  const std::string& output() const { return output_; }

 private:
  std::string_view input_;
  size_t chunk_;
  size_t offset_ = 0;
  std::string output_;
};

struct Fixture {
  metrics::Registry registry;
  metrics::HttpEndpointOptions options;
  std::atomic<bool> running{true};
  metrics::internal::HttpServer server{registry, options, running};

  Fixture() {
    registry.GetCounter("pulse_fuzz_total", "Fuzz", {{"k", "v"}}).Increment(3);
    registry.GetGauge("pulse_fuzz_gauge", "Gauge").Set(-1.5);
  }
};

Fixture& TheFixture() {
  static Fixture* fixture = new Fixture();  // never destroyed: libFuzzer exits without cleanup
  return *fixture;
}

// Status codes the endpoint may answer with (100 precedes a final answer to Expect).
bool IsKnownStatus(int status) {
  for (int s : {100, 200, 400, 404, 405, 414, 416, 417, 503}) {
    if (status == s) return true;
  }
  return false;
}

int StatusOf(std::string_view response) {
  constexpr std::string_view kPrefix = "HTTP/1.1 ";
  PULSE_FUZZ_CHECK(response.substr(0, kPrefix.size()) == kPrefix && response.size() >= 12,
                   "not a status line: " << response.substr(0, 40));
  int status = 0;
  for (char c : response.substr(kPrefix.size(), 3)) {
    PULSE_FUZZ_CHECK(c >= '0' && c <= '9', "bad status: " << response.substr(0, 40));
    status = status * 10 + (c - '0');
  }
  return status;
}

// The head (status line and headers) and the body of the first response; skips a 100.
struct Response {
  int status = 0;
  std::string head;
  std::string body;
};

Response FirstResponse(std::string_view output) {
  Response r;
  r.status = StatusOf(output);
  if (r.status == 100) {
    const size_t end = output.find("\r\n\r\n");
    PULSE_FUZZ_CHECK(end != std::string_view::npos, "unterminated 100 Continue");
    output.remove_prefix(end + 4);
    r.status = StatusOf(output);
  }
  const size_t end = output.find("\r\n\r\n");
  PULSE_FUZZ_CHECK(end != std::string_view::npos, "unterminated head: " << output.substr(0, 80));
  r.head = std::string(output.substr(0, end + 2));
  r.body = std::string(output.substr(end + 4));
  return r;
}

void CheckCommon(const std::string& output) {
  PULSE_FUZZ_CHECK(output.find("EXCEPTION_WHAT") == std::string::npos,
                   "a handler threw: " << output.substr(0, 200));
  const Response first = FirstResponse(output);
  PULSE_FUZZ_CHECK(IsKnownStatus(first.status), "unexpected status " << first.status);
}

// Raw mode: the bytes as they come, served like one keep-alive connection (up to 20
// requests).
void FuzzRaw(std::string_view input, size_t chunk) {
  Fixture& f = TheFixture();
  MemoryStream stream(input, chunk);
  for (size_t i = 0; i < metrics::internal::kKeepAliveMaxCount && !stream.exhausted(); ++i) {
    bool closed = false;
    bool unread_body = false;
    const bool ok = f.server.ServeRequest(stream, i + 1 == metrics::internal::kKeepAliveMaxCount,
                                          closed, &unread_body);
    if (!ok || closed || unread_body) break;  // as the server closes the connection
  }
  if (!stream.output().empty()) CheckCommon(stream.output());
}

// Take the next field of a structured input: bytes up to a 0xff byte.
std::string_view NextField(std::string_view& input) {
  const size_t end = input.find('\xff');
  const std::string_view field = input.substr(0, end);
  input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
  return field;
}

// Keep only characters that cannot end or split the request line or a header, and at most
// kMaxTokenBytes of them (no line reaches httplib's 8192-byte limits).
constexpr size_t kMaxTokenBytes = 1000;
std::string Token(std::string_view text, bool allow_space) {
  text = text.substr(0, kMaxTokenBytes);
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u >= 0x7f || c == '?' || c == '#' || c == '%' || c == ':') {
      if (!(allow_space && c == ' ')) continue;
    }
    out += c;
  }
  return out;
}

// Structured mode: a request from fuzzed parts, whose answer is known exactly.
void FuzzStructured(std::string_view input, size_t chunk, bool running) {
  static constexpr const char* kMethods[] = {"GET",    "HEAD",    "POST",  "PUT",    "PATCH",
                                             "DELETE", "OPTIONS", "TRACE", "CONNECT"};
  static constexpr const char* kPaths[] = {"/", "/metrics", "/healthz", "/api/status"};
  Fixture& f = TheFixture();
  f.running.store(running);
  if (input.size() < 2) return;
  const std::string method = kMethods[static_cast<uint8_t>(input[0]) % std::size(kMethods)];
  const uint8_t path_choice = static_cast<uint8_t>(input[1]);
  input.remove_prefix(2);
  std::string path = "/" + Token(NextField(input), false);
  const bool known = path_choice < 0x80;
  if (known) path = kPaths[path_choice % std::size(kPaths)];
  const std::string query = Token(NextField(input), false);
  std::string request = method + " " + path + (query.empty() ? "" : "?" + query) + " HTTP/1.1\r\n";
  const std::string body(NextField(input));
  // Headers: X-<name>: <value>, so that none changes the framing (Content-Length, Expect, ...).
  while (!input.empty() && request.size() < 8000) {
    const std::string name = Token(NextField(input), false);
    const std::string value = Token(NextField(input), true);
    request += "X-" + name + ": " + value + "\r\n";
  }
  const bool has_body = method != "GET" && method != "HEAD" && method != "TRACE" &&
                        method != "CONNECT" && !body.empty();
  if (has_body) request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "Connection: close\r\n\r\n";
  if (has_body) request += body;

  MemoryStream stream(request, chunk);
  bool closed = false;
  bool unread_body = false;
  f.server.ServeRequest(stream, false, closed, &unread_body);
  PULSE_FUZZ_CHECK(closed, "Connection: close was not honoured");
  PULSE_FUZZ_CHECK(unread_body == has_body, "unread body " << unread_body << ", sent " << has_body);
  CheckCommon(stream.output());
  const Response r = FirstResponse(stream.output());

  // httplib decodes the path; a known path is sent as is, a fuzzed one may decode to a known
  // one only through "%", which Token removed.
  const bool is_known_path =
      std::find(std::begin(kPaths), std::end(kPaths), path) != std::end(kPaths);
  int expected = 404;
  if (method == "GET" || method == "HEAD") {
    if (is_known_path) expected = (path == "/healthz" && !running) ? 503 : 200;
  } else if (is_known_path) {
    expected = 405;
  }
  PULSE_FUZZ_CHECK(r.status == expected,
                   method << " " << path << ": got " << r.status << ", expected " << expected);
  if (expected == 405) {
    PULSE_FUZZ_CHECK(r.head.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos,
                     "405 without Allow");
  }
  if (method == "HEAD") {
    PULSE_FUZZ_CHECK(r.body.empty(), "HEAD with a body");
  } else if (expected == 200 && path == "/metrics") {
    PULSE_FUZZ_CHECK(r.body == f.registry.RenderText(), "/metrics differs from the registry");
  }
  PULSE_FUZZ_CHECK(r.head.find("\r\nConnection: close\r\n") != std::string::npos,
                   "no Connection: close");
}

}  // namespace
}  // namespace pulse::fuzz

// Input: byte 0 selects the mode (bit 0: structured), /healthz's state (bit 1: stopped) and
// the read size (bits 2-7: reads of 1 << (n % 13) bytes); the rest is the request (raw) or
// method, path choice and 0xff-separated fields: path, query, body, then header name/value
// pairs (structured).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view input = pulse::fuzz::AsText(data + 1, size - 1);
  const size_t chunk = size_t{1} << ((control >> 2) % 13);
  if ((control & 1) != 0) {
    pulse::fuzz::FuzzStructured(input, chunk, (control & 2) == 0);
  } else {
    pulse::fuzz::TheFixture().running.store(true);
    pulse::fuzz::FuzzRaw(input, chunk);
  }
  return 0;
}
