// SPDX-License-Identifier: MIT
// HttpEndpoint on cpp-httplib: a bounded thread pool, read/write timeouts, fixed routes.
// The only file that includes httplib.h (it throws nothing we let escape: handlers are noexcept
// in practice, and httplib turns a handler exception into a 500).
#include "pulse/metrics/http_endpoint.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "metrics/http/status_json.h"
#include "metrics/http/status_page.h"

namespace pulse::metrics {
namespace {

constexpr int kMaxPort = 65535;
// An idle keep-alive connection holds a pool thread, so it is closed quickly; a connection
// serves at most this many requests before it is closed and the thread goes to the next one.
constexpr time_t kKeepAliveTimeoutSeconds = 1;
constexpr size_t kKeepAliveMaxCount = 20;

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kKnownPaths[] = {"/", "/metrics", "/healthz", "/api/status"};

bool IsKnownPath(const std::string& path) {
  for (const char* p : kKnownPaths) {
    if (path == p) return true;
  }
  return false;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void SetTimeout(int ms, time_t* seconds, time_t* microseconds) {
  *seconds = ms / 1000;
  *microseconds = static_cast<time_t>(ms % 1000) * 1000;
}

}  // namespace

Status HttpEndpointOptions::Validate() const {
  if (address.empty()) return Status::InvalidArgument("the HTTP address is empty");
  if (port < 0 || port > kMaxPort) {
    return Status::InvalidArgument(fmt::format("HTTP port {} is not in 0..{}", port, kMaxPort));
  }
  if (threads < 1) return Status::InvalidArgument("HTTP threads must be at least 1");
  if (read_timeout_ms < 1 || write_timeout_ms < 1) {
    return Status::InvalidArgument("HTTP timeouts must be at least 1 ms");
  }
  return Status::OK();
}

class HttpEndpoint::Impl {
 public:
  Impl(Registry& registry, HttpEndpointOptions options)
      : registry_(registry), options_(std::move(options)) {}

  ~Impl() { Stop(); }

  Status Start() {
    const int threads = options_.threads;
    // httplib takes ownership of the queue it gets from this factory.
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    time_t sec = 0;
    time_t usec = 0;
    SetTimeout(options_.read_timeout_ms, &sec, &usec);
    server_.set_read_timeout(sec, usec);
    SetTimeout(options_.write_timeout_ms, &sec, &usec);
    server_.set_write_timeout(sec, usec);
    server_.set_keep_alive_timeout(kKeepAliveTimeoutSeconds);
    server_.set_keep_alive_max_count(kKeepAliveMaxCount);
    // Responses are written in pieces (headers, body); without this, Nagle's algorithm and
    // the client's delayed ACK stall each keep-alive response by about 40 ms.
    server_.set_tcp_nodelay(true);
    // httplib's default also sets SO_REUSEPORT, which would let a second process listen on
    // the same port and silently take half of the scrapes; only SO_REUSEADDR is kept.
    server_.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    Route();

    errno = 0;
    if (options_.port == 0) {
      port_ = server_.bind_to_any_port(options_.address);
    } else {
      port_ = server_.bind_to_port(options_.address, options_.port) ? options_.port : -1;
    }
    if (port_ < 0) {
      const int err = errno;
      return Status::IOError(fmt::format("cannot listen on {}:{}: {}", options_.address,
                                         options_.port,
                                         err != 0 ? std::strerror(err) : "bind failed"));
    }
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      listen_returned_.store(true);
    });
    // httplib's stop() does nothing until the listening loop has started, so wait for it.
    while (!server_.is_running() && !listen_returned_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return Status::OK();
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }
  const HttpEndpointOptions& options() const { return options_; }
  void SetRunning(bool running) { running_.store(running); }

 private:
  void Route() {
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(registry_.RenderText(), kMetricsContentType);
    });
    server_.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      if (running_.load()) {
        res.set_content("ok\n", "text/plain; charset=utf-8");
      } else {
        res.status = 503;
        res.set_content("stopped\n", "text/plain; charset=utf-8");
      }
    });
    server_.Get("/", [](const httplib::Request&, httplib::Response& res) {
      // The page only talks to this server: no CDN, no other origin.
      res.set_header("Content-Security-Policy",
                     "default-src 'none'; script-src 'unsafe-inline'; style-src "
                     "'unsafe-inline'; connect-src 'self'; img-src data:");
      res.set_content(internal::kStatusPageHtml, "text/html; charset=utf-8");
    });
    server_.Get("/api/status", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      internal::StatusContext context;
      context.title = options_.title;
      context.stages = options_.stages;
      context.running = running_.load();
      context.now_ms = NowMs();
      res.set_content(internal::StatusJson(registry_.Collect(), context),
                      "application/json; charset=utf-8");
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
    // httplib answers 400 to a POST, PUT or PATCH without a body before routing it; those
    // have nothing left unread on the connection, so they are answered here already.
    server_.set_pre_routing_handler([not_allowed](const httplib::Request& req,
                                                  httplib::Response& res) {
      const bool needs_body = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
      if (needs_body && !req.has_header("Content-Length") &&
          req.get_header_value("Transfer-Encoding") != "chunked") {
        not_allowed(req, res);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server_.Post(".*", not_allowed);
    server_.Put(".*", not_allowed);
    server_.Patch(".*", not_allowed);
    server_.Delete(".*", not_allowed);
    server_.Options(".*", not_allowed);
    server_.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty() && res.status == 404) {
        res.set_content("not found\n", "text/plain; charset=utf-8");
      }
    });
  }

  Registry& registry_;
  HttpEndpointOptions options_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::atomic<bool> running_{true};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> listen_returned_{false};
};

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(Registry& registry,
                                                          HttpEndpointOptions options) {
  PULSE_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>(registry, std::move(options));
  PULSE_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<HttpEndpoint>(new HttpEndpoint(std::move(impl)));
}

HttpEndpoint::HttpEndpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpEndpoint::~HttpEndpoint() = default;

int HttpEndpoint::port() const { return impl_->port(); }

std::string HttpEndpoint::url() const {
  const std::string& address = impl_->options().address;
  // An IPv6 literal goes in brackets.
  if (address.find(':') != std::string::npos) {
    return fmt::format("http://[{}]:{}/", address, impl_->port());
  }
  return fmt::format("http://{}:{}/", address, impl_->port());
}

void HttpEndpoint::SetRunning(bool running) { impl_->SetRunning(running); }

void HttpEndpoint::Stop() { impl_->Stop(); }

}  // namespace pulse::metrics
