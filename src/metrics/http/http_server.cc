// SPDX-License-Identifier: MIT
// HttpServer: Pulse's routes and connection handling on cpp-httplib's request parser
// (httplib's exceptions stay inside it: it turns a handler exception into a 500).
#include "metrics/http/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include "metrics/http/status_json.h"
#include "metrics/http/status_page.h"

namespace pulse::metrics::internal {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kKnownPaths[] = {"/", "/metrics", "/healthz", "/api/status"};
constexpr size_t kReceiveChunkBytes = 4096;

bool IsKnownPath(const std::string& path) {
  for (const char* p : kKnownPaths) {
    if (path == p) return true;
  }
  return false;
}

// Whether the request announced a body (which is never read).
bool HasBody(const httplib::Request& req) {
  return req.has_header("Transfer-Encoding") ||
         (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
}

// The `after` parameter of /api/status: a history sequence; anything else is ignored (the
// whole history is sent).
std::optional<uint64_t> HistoryAfter(const httplib::Request& req) {
  if (!req.has_param("after")) return std::nullopt;
  const std::string value = req.get_param_value("after");
  uint64_t after = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), after);
  if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return after;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Milliseconds from now to `deadline`, rounded up, at least 0.
int MsUntil(Clock::time_point deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

// Wait until `fd` has one of `events` (or an error or hang-up) or `deadline` passes.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, MsUntil(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

bool ReadableNow(const Connection& connection) {
  return connection.offset < connection.buffer.size() ||
         WaitFor(connection.fd, POLLIN, Clock::now());
}

void AddressOf(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(addr);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
    port = ntohs(in.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(addr);
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));
    port = ntohs(in6.sin6_port);
  } else {
    port = 0;
  }
  ip = text;
}

}  // namespace

// ---- ConnectionStream

ConnectionStream::ConnectionStream(Connection& connection, std::chrono::milliseconds read_timeout,
                                   std::chrono::milliseconds write_timeout, size_t max_read_bytes)
    : connection_(connection),
      read_deadline_(Clock::now() + read_timeout),
      write_timeout_(write_timeout),
      max_read_bytes_(max_read_bytes) {}

bool ConnectionStream::is_readable() const {
  return connection_.offset < connection_.buffer.size() ||
         WaitFor(connection_.fd, POLLIN, read_deadline_);
}

bool ConnectionStream::is_writable() const {
  return WaitFor(connection_.fd, POLLOUT,
                 write_started_ ? write_deadline_ : Clock::now() + write_timeout_);
}

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  if (bytes_read_ >= max_read_bytes_) {
    hit_read_limit_ = true;
    return 0;  // the end of the request as far as httplib is concerned
  }
  size = std::min(size, max_read_bytes_ - bytes_read_);
  std::string& buffer = connection_.buffer;
  while (connection_.offset >= buffer.size()) {
    buffer.clear();
    connection_.offset = 0;
    if (!WaitFor(connection_.fd, POLLIN, read_deadline_)) return -1;
    char chunk[kReceiveChunkBytes];
    const ssize_t n = ::recv(connection_.fd, chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0) return n;
    buffer.assign(chunk, static_cast<size_t>(n));
  }
  const size_t n = std::min(size, buffer.size() - connection_.offset);
  std::memcpy(ptr, buffer.data() + connection_.offset, n);
  connection_.offset += n;
  bytes_read_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  if (!write_started_) {
    write_started_ = true;
    write_deadline_ = Clock::now() + write_timeout_;
  }
  for (;;) {
    if (!WaitFor(connection_.fd, POLLOUT, write_deadline_)) return -1;
    const ssize_t n = ::send(connection_.fd, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    return n;
  }
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(connection_.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) addr = {};
  AddressOf(addr, ip, port);
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(connection_.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) addr = {};
  AddressOf(addr, ip, port);
}

// httplib only compares this with FD_SETSIZE (the limit of its select(), which answers 500
// above it); this stream waits with poll(), which has no such limit.
socket_t ConnectionStream::socket() const { return 0; }

// ---- ConnectionParking

ConnectionParking::~ConnectionParking() { Stop(); }

void ConnectionParking::Start(Handoff handoff) {
  handoff_ = std::move(handoff);
  if (::pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) {
    // Without the pipe the loop still wakes at least every kMaxWaitMs.
    wake_[0] = wake_[1] = -1;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  thread_ = std::thread([this] { Loop(); });
  started_ = true;
}

bool ConnectionParking::Park(Connection& connection, Clock::time_point deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || !started_) return false;
    parked_.push_back(Parked{std::move(connection), deadline});
    Wake();  // under mu_, so that Stop cannot close the pipe meanwhile
  }
  return true;
}

void ConnectionParking::Wake() {
  if (wake_[1] < 0) return;
  const char byte = 1;
  // A full pipe already holds a wake-up.
  [[maybe_unused]] const ssize_t n = ::write(wake_[1], &byte, 1);
}

void ConnectionParking::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    Wake();
  }
  // Only Start and Stop touch thread_, and Start happens before (it sets started_ under mu_).
  if (thread_.joinable()) thread_.join();
  std::vector<Parked> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(parked_);
    for (int& fd : wake_) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }
  for (Parked& p : left) handoff_(std::move(p.connection), Event::kExpired);
}

void ConnectionParking::Loop() {
  constexpr int kMaxWaitMs = 1000;
  std::vector<pollfd> fds;
  std::vector<Connection> ready;
  std::vector<Connection> expired;
  for (;;) {
    fds.clear();
    fds.push_back(pollfd{wake_[0], POLLIN, 0});
    int wait_ms = kMaxWaitMs;
    size_t polled = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      polled = parked_.size();
      for (const Parked& p : parked_) {
        fds.push_back(pollfd{p.connection.fd, POLLIN, 0});
        wait_ms = std::min(wait_ms, MsUntil(p.deadline));
      }
    }
    if (::poll(fds.data(), fds.size(), wait_ms) < 0 && errno != EINTR) {
      // Only EINVAL/ENOMEM are possible here; wait a little rather than spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (fds[0].revents != 0) {
      char drain[64];
      while (::read(wake_[0], drain, sizeof(drain)) > 0) {
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      const Clock::time_point now = Clock::now();
      size_t keep = 0;
      for (size_t i = 0; i < parked_.size(); ++i) {
        Parked& p = parked_[i];
        if (i < polled && fds[i + 1].revents != 0) {
          ready.push_back(std::move(p.connection));
        } else if (p.deadline <= now) {
          expired.push_back(std::move(p.connection));
        } else if (keep != i) {
          parked_[keep++] = std::move(p);
        } else {
          ++keep;
        }
      }
      parked_.resize(keep);
    }
    for (Connection& c : ready) handoff_(std::move(c), Event::kReadable);
    for (Connection& c : expired) handoff_(std::move(c), Event::kExpired);
    ready.clear();
    expired.clear();
  }
}

// ---- HttpServer

// httplib's task queue: a thread pool that stops the parking first, so that nothing is handed
// to the pool once it shuts down.
class HttpServer::Pool final : public httplib::ThreadPool {
 public:
  Pool(size_t threads, HttpServer& server) : httplib::ThreadPool(threads), server_(server) {}
  void shutdown() override {
    server_.parking_.Stop();
    httplib::ThreadPool::shutdown();
  }

 private:
  HttpServer& server_;
};

HttpServer::HttpServer(Registry& registry, const HttpEndpointOptions& options,
                       const std::atomic<bool>& running)
    : registry_(registry), options_(options), running_(running) {
  const size_t threads = static_cast<size_t>(std::max(1, options_.threads));
  // httplib takes ownership of the queue it gets from this factory; it is made once, when
  // listening starts.
  new_task_queue = [this, threads]() -> httplib::TaskQueue* {
    auto* pool = new Pool(threads, *this);
    pool_.store(pool);
    parking_.Start([this](Connection connection, ConnectionParking::Event event) {
      if (event == ConnectionParking::Event::kExpired) {
        Close(connection, /*linger=*/false);
        return;
      }
      // std::function needs a copyable callable, so the connection travels in a shared_ptr.
      auto shared = std::make_shared<Connection>(std::move(connection));
      pool_.load()->enqueue([this, shared] { Serve(*shared); });
    });
    return pool;
  };
  set_keep_alive_timeout(kKeepAliveTimeoutMs / 1000);
  set_keep_alive_max_count(kKeepAliveMaxCount);
  // Bodies are never read (see Route); a limit all the same.
  set_payload_max_length(kMaxRequestBytes);
  // Responses are written in pieces (headers, body); without this, Nagle's algorithm and the
  // client's delayed ACK stall each keep-alive response by about 40 ms.
  set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which would let a second process listen on the
  // same port and silently take half of the scrapes; only SO_REUSEADDR is kept.
  set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  Route();
}

HttpServer::~HttpServer() { parking_.Stop(); }

bool HttpServer::ServeRequest(httplib::Stream& stream, bool close_connection,
                              bool& connection_closed, bool* unread_body) {
  bool body = false;
  const bool ok =
      process_request(stream, close_connection, connection_closed, [&body](httplib::Request& req) {
        // Ranges of a generated page are of no use, and many of them (bytes=0-,0-,...) would
        // make a multipart response many times its size.
        req.ranges.clear();
        body = HasBody(req);
      });
  if (unread_body != nullptr) *unread_body = body;
  return ok;
}

void HttpServer::WidenListenBacklog() {
  // listen() on a listening socket only changes its backlog (Linux).
  const socket_t sock = svr_sock_;
  if (sock != INVALID_SOCKET) ::listen(sock, kListenBacklog);
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  Connection connection;
  connection.fd = sock;
  if (open_connections_.fetch_add(1) >= kMaxConnections) {
    Close(connection, /*linger=*/false);
    return false;
  }
  Continue(connection, Clock::now() + std::chrono::milliseconds(options_.read_timeout_ms));
  return true;
}

void HttpServer::Continue(Connection& connection, Clock::time_point deadline) {
  if (ReadableNow(connection)) {
    Serve(connection);
  } else if (!parking_.Park(connection, deadline)) {
    Close(connection, /*linger=*/false);
  }
}

void HttpServer::Serve(Connection& connection) {
  for (;;) {
    ConnectionStream stream(connection, std::chrono::milliseconds(options_.read_timeout_ms),
                            std::chrono::milliseconds(options_.write_timeout_ms), kMaxRequestBytes);
    const bool last = connection.requests_left <= 1 || svr_sock_ == INVALID_SOCKET;
    bool client_closes = false;
    bool unread_body = false;
    const bool ok = ServeRequest(stream, last, client_closes, &unread_body);
    --connection.requests_left;
    if (!ok || client_closes || last || unread_body || stream.hit_read_limit()) {
      Close(connection,
            /*linger=*/unread_body || stream.hit_read_limit() || ReadableNow(connection));
      return;
    }
    if (!ReadableNow(connection)) break;  // else a pipelined request: serve it now
  }
  if (!parking_.Park(connection, Clock::now() + std::chrono::milliseconds(kKeepAliveTimeoutMs))) {
    Close(connection, /*linger=*/false);
  }
}

void HttpServer::Close(Connection& connection, bool linger) {
  if (connection.fd < 0) return;
  ::shutdown(connection.fd, SHUT_WR);
  if (linger) {
    // Read and drop what the client still sends, so that it reads the answer before the end
    // of the connection rather than a reset.
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(kLingerMs);
    char chunk[kReceiveChunkBytes];
    while (WaitFor(connection.fd, POLLIN, deadline)) {
      const ssize_t n = ::recv(connection.fd, chunk, sizeof(chunk), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
    }
  }
  ::close(connection.fd);
  connection.fd = -1;
  open_connections_.fetch_sub(1);
}

void HttpServer::Route() {
  Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry_.RenderText(), kMetricsContentType);
  });
  Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    if (running_.load()) {
      res.set_content("ok\n", "text/plain; charset=utf-8");
    } else {
      res.status = 503;
      res.set_content("stopped\n", "text/plain; charset=utf-8");
    }
  });
  Get("/", [](const httplib::Request&, httplib::Response& res) {
    // The page only talks to this server: no CDN, no other origin.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src "
                   "'unsafe-inline'; connect-src 'self'; img-src data:");
    res.set_content(kStatusPageHtml, "text/html; charset=utf-8");
  });
  Get("/api/status", [this](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    StatusContext context;
    context.title = options_.title;
    context.stages = options_.stages;
    context.running = running_.load();
    context.state = context.running ? "running" : "finished";
    context.now_ms = NowMs();
    context.history = options_.history;
    context.history_after = HistoryAfter(req);
    res.set_content(StatusJson(registry_.Collect(), context), "application/json; charset=utf-8");
  });
  // Other methods: 405 on a known path, 404 elsewhere.
  auto not_allowed = [](const httplib::Request& req, httplib::Response& res) {
    if (IsKnownPath(req.path)) {
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      res.set_content("method not allowed\n", "text/plain; charset=utf-8");
    } else {
      res.status = 404;
      res.set_content("not found\n", "text/plain; charset=utf-8");
    }
  };
  // Every method but GET and HEAD is answered before routing, which is before httplib reads a
  // body: bodies are never read (nor de-chunked or decompressed: a small gzip or brotli body
  // can inflate a thousandfold and more). A connection whose request announced a body is
  // closed after the answer (see ServeRequest), since the body is still in it.
  set_pre_routing_handler([not_allowed](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "GET" || req.method == "HEAD") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    not_allowed(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  set_post_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (HasBody(req)) {
      res.headers.erase("Keep-Alive");
      res.set_header("Connection", "close");
    }
  });
  set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty() && res.status == 404) {
      res.set_content("not found\n", "text/plain; charset=utf-8");
    }
  });
}

}  // namespace pulse::metrics::internal
