// SPDX-License-Identifier: MIT
// HttpServer: cpp-httplib's request parser with Pulse's routes and Pulse's own connection
// handling (idle connections wait in one poll() thread, bounded requests, deadlines).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pulse/metrics/http/http_endpoint.h"

namespace pulse::metrics::internal {

/// Bytes a request (request line and headers; bodies are never read) may have; beyond, the
/// stream ends there, which httplib answers with 414 (request line) or 400 (headers).
constexpr size_t kMaxRequestBytes = 64 * 1024;
/// Connections open at once; further ones are closed as soon as they are accepted.
constexpr int kMaxConnections = 512;
/// An idle keep-alive connection is closed after this long; a connection serves at most
/// kKeepAliveMaxCount requests.
constexpr int kKeepAliveTimeoutMs = 1000;
constexpr size_t kKeepAliveMaxCount = 20;
/// Connections waiting to be accepted.
constexpr int kListenBacklog = 512;
/// When a connection is closed with unread input (e.g. a refused huge request), the input is
/// read and dropped for at most this long, so that the client gets the answer rather than a
/// reset.
constexpr int kLingerMs = 500;

/// One accepted connection between requests: the socket and the bytes received but not
/// parsed yet (pipelined requests). Move-only: the moved-from object no longer owns the socket.
struct Connection {
  Connection() = default;
  Connection(Connection&& other) noexcept { *this = std::move(other); }
  Connection& operator=(Connection&& other) noexcept {
    fd = std::exchange(other.fd, -1);
    buffer = std::move(other.buffer);
    offset = std::exchange(other.offset, 0);
    requests_left = other.requests_left;
    return *this;
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd = -1;
  std::string buffer;  // received bytes; those before `offset` are consumed
  size_t offset = 0;
  size_t requests_left = kKeepAliveMaxCount;
};

/// An httplib::Stream over a Connection for one request. Reads end (end of stream) after
/// `max_read_bytes` and fail once `read_timeout` has passed since construction; writes fail
/// once `write_timeout` has passed since the first write. Not thread-safe; borrows
/// `connection` for its lifetime.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(Connection& connection, std::chrono::milliseconds read_timeout,
                   std::chrono::milliseconds write_timeout, size_t max_read_bytes);

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override;

  /// Whether a read stopped at max_read_bytes (the request was larger).
  bool hit_read_limit() const { return hit_read_limit_; }

 private:
  Connection& connection_;
  std::chrono::steady_clock::time_point read_deadline_;
  std::chrono::milliseconds write_timeout_;
  std::chrono::steady_clock::time_point write_deadline_;
  bool write_started_ = false;
  size_t max_read_bytes_;
  size_t bytes_read_ = 0;
  bool hit_read_limit_ = false;
};

/// Waits, on its own thread, for parked connections to become readable or to pass their
/// deadline, and hands each back (on that thread) when one of these happens. Thread-safe.
class ConnectionParking {
 public:
  enum class Event { kReadable, kExpired };
  using Handoff = std::function<void(Connection, Event)>;
  ConnectionParking() = default;
  ~ConnectionParking();
  ConnectionParking(const ConnectionParking&) = delete;
  ConnectionParking& operator=(const ConnectionParking&) = delete;

  /// Start the thread. Requires: not started.
  void Start(Handoff handoff);
  /// Take `connection` until it is readable or `deadline`. Returns false (and leaves it to
  /// the caller) when not started or stopped.
  bool Park(Connection& connection, std::chrono::steady_clock::time_point deadline);
  /// Stop the thread and hand every parked connection back as expired. Idempotent.
  void Stop();

 private:
  struct Parked {
    Connection connection;
    std::chrono::steady_clock::time_point deadline;
  };
  void Loop();
  void Wake();

  Handoff handoff_;
  std::mutex mu_;
  std::vector<Parked> parked_;  // guarded by mu_
  bool started_ = false;        // guarded by mu_
  bool stopped_ = false;        // guarded by mu_
  int wake_[2] = {-1, -1};      // a pipe: a byte wakes the poll() up
  std::thread thread_;
};

/// cpp-httplib's server with Pulse's routes (GET/HEAD /metrics, /healthz, /, /api/status; 405
/// for other methods on those, 404 elsewhere, without reading a body; ranges ignored) and
/// connection handling: a new
/// or idle connection waits in ConnectionParking, not in a pool thread, and a pool thread
/// serves one request at a time of a connection that has input, within kMaxRequestBytes, the
/// read timeout for the whole request and the write timeout for the whole response.
/// Thread-safe once serving; `registry` and `running` must outlive it.
class HttpServer final : public httplib::Server {
 public:
  HttpServer(Registry& registry, const HttpEndpointOptions& options,
             const std::atomic<bool>& running);
  ~HttpServer() override;

  /// Read one request from `stream`, route it and write the response: what a pool thread does
  /// for each request of a connection (also the entry point of the http_request fuzzer).
  /// `close_connection`: answer with Connection: close. Returns false when the stream failed;
  /// sets `connection_closed` when the client asked to close, and `*unread_body` (if given)
  /// when the request announced a body, which is left unread (the connection must be closed).
  bool ServeRequest(httplib::Stream& stream, bool close_connection, bool& connection_closed,
                    bool* unread_body = nullptr);

  /// Raise the listen backlog of the bound socket from httplib's 5 to kListenBacklog, so that
  /// a burst of new connections is not dropped (a dropped SYN costs the client 1 s or more).
  /// Requires: bound (bind_to_port, bind_to_any_port), not listening yet.
  void WidenListenBacklog();

  /// Connections open now (accepted, not closed yet).
  int open_connections() const { return open_connections_.load(); }

 private:
  class Pool;
  // httplib calls this on a pool thread for each accepted socket (a private virtual of
  // httplib::Server, overridden to replace its blocking keep-alive loop).
  bool process_and_close_socket(socket_t sock) override;
  void Route();
  // Serve `connection` if it has input now, else park it until `deadline`.
  void Continue(Connection& connection, std::chrono::steady_clock::time_point deadline);
  // Serve requests of `connection` while it has input, then park or close it.
  void Serve(Connection& connection);
  void Close(Connection& connection, bool linger);

  Registry& registry_;
  const HttpEndpointOptions& options_;
  const std::atomic<bool>& running_;
  ConnectionParking parking_;
  std::atomic<httplib::TaskQueue*> pool_{nullptr};
  std::atomic<int> open_connections_{0};
};

}  // namespace pulse::metrics::internal
