// SPDX-License-Identifier: MIT
// HttpEndpoint: binds and runs an internal::HttpServer (routes, limits and connection
// handling are in http_server.cc) on a listening thread.
#include "pulse/metrics/http/http_endpoint.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "metrics/http/http_server.h"

namespace pulse::metrics {
namespace {

constexpr int kMaxPort = 65535;

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
      : options_(std::move(options)), server_(registry, options_, running_) {}

  ~Impl() { Stop(); }

  Status Start() {
    // The timeouts HttpServer applies itself; httplib also sets them on accepted sockets.
    time_t sec = 0;
    time_t usec = 0;
    SetTimeout(options_.read_timeout_ms, &sec, &usec);
    server_.set_read_timeout(sec, usec);
    SetTimeout(options_.write_timeout_ms, &sec, &usec);
    server_.set_write_timeout(sec, usec);

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
    server_.WidenListenBacklog();
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
  HttpEndpointOptions options_;
  std::atomic<bool> running_{true};
  internal::HttpServer server_;
  std::thread thread_;
  int port_ = -1;
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
