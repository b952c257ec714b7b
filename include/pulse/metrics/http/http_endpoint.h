// SPDX-License-Identifier: MIT
// HttpEndpoint: serves a Registry over HTTP (GET /metrics for Prometheus, /healthz, the live
// status page at / and its JSON at /api/status). Target pulse::metrics_http, which depends on
// pulse::metrics and on core (the pipeline's stages for the status page); pulse::metrics itself
// (include/pulse/metrics/*.h) depends on nothing of Pulse, so that core can use it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pulse/core/run_history.h"
#include "pulse/core/run_metrics.h"
#include "pulse/core/status.h"
#include "pulse/metrics/registry.h"

namespace pulse::metrics {

struct HttpEndpointOptions {
  /// Address to listen on: an IP address or a host name. The default serves this machine only.
  std::string address = "127.0.0.1";
  /// TCP port; 0 picks a free one (see HttpEndpoint::port()).
  int port = 9898;
  /// Requests served at once. Further connections wait in the listen backlog, so a slow or
  /// stuck client holds at most one thread, and for at most the timeouts below.
  int threads = 4;
  /// How long a connection may take to send a request, or to take the response.
  int read_timeout_ms = 5000;
  int write_timeout_ms = 5000;
  /// Shown on the status page (e.g. the config file).
  std::string title = "pulse";
  /// The pipeline's stages (PipelineStages), drawn on the status page; empty for an idle
  /// process.
  std::vector<StageInfo> stages;
  /// The run's history (RunOptions::history), drawn as charts, the checkpoint panel and the
  /// last bad records; null: the page shows current numbers only. Must outlive the endpoint.
  const RunHistory* history = nullptr;

  /// Errors: InvalidArgument for an empty address, a port outside 0..65535, threads < 1 or a
  /// timeout < 1 ms.
  Status Validate() const;
};

/// An HTTP server on its own threads. Routes: GET /metrics (text/plain; version=0.0.4),
/// GET /healthz (200 "ok" while running, 503 once SetRunning(false)), GET / (the status
/// page: HTML, CSS and JS built into the binary, no network access needed), GET /api/status
/// (JSON for the page; `?after=N`, N a history sequence the page has, sends only the newer
/// samples). A known path with another method is 405, any other path 404.
/// Serving never blocks the registry's writers: it only takes the registry's collection lock.
/// Thread-safe. The registry must outlive the endpoint.
class HttpEndpoint {
 public:
  /// Bind to options.address:options.port and start serving on background threads.
  /// Errors: InvalidArgument for bad options, IOError when the address cannot be bound (e.g.
  /// the port is in use; the message says which).
  static Result<std::unique_ptr<HttpEndpoint>> Start(Registry& registry,
                                                     HttpEndpointOptions options);

  /// Stop() and release the threads.
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  /// The port listened on (the chosen one when options.port was 0).
  int port() const;

  /// "http://127.0.0.1:9898/", for logs.
  std::string url() const;

  /// Whether the pipeline runs: /healthz answers 200 while true (the initial state), 503 after.
  void SetRunning(bool running);

  /// Stop accepting, finish the requests in progress (each within the timeouts) and join the
  /// threads. Idempotent.
  void Stop();

 private:
  class Impl;
  explicit HttpEndpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pulse::metrics
