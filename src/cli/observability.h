// SPDX-License-Identifier: MIT
// What `pulse run` and `pulse serve` expose: the metrics registry, the HTTP endpoint
// (--http-port / --port, --http-addr), JSON log lines and per-batch debug spans.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "pulse/core/pipeline.h"
#include "pulse/core/run_metrics.h"
#include "pulse/core/status.h"
#include "pulse/metrics/http/http_endpoint.h"
#include "pulse/metrics/registry.h"

namespace pulse::cli {

/// Where to serve HTTP. port 0 means no server (`pulse run` without --http-port).
struct HttpFlags {
  int port = 0;
  std::string address = "127.0.0.1";
};

/// The metrics of one `pulse run`: the process metrics and every cell of the pipeline are
/// registered (at zero) before the endpoint starts, so the first scrape already sees them.
/// Not thread-safe; the registry and the endpoint are.
class RunObservability {
 public:
  /// Errors: InvalidArgument for bad flags, IOError when the address cannot be bound.
  static Result<std::unique_ptr<RunObservability>> Start(const HttpFlags& http,
                                                         std::string title,
                                                         const Pipeline& pipeline);
  ~RunObservability();
  RunObservability(const RunObservability&) = delete;
  RunObservability& operator=(const RunObservability&) = delete;

  metrics::Registry& registry() { return registry_; }
  /// Null when no server was asked for.
  metrics::HttpEndpoint* endpoint() { return endpoint_.get(); }

  /// The run is over: /healthz answers 503, then the server stops (waiting at most its
  /// timeouts for requests in progress).
  void Finish();

 private:
  RunObservability() = default;
  metrics::Registry registry_;
  std::unique_ptr<metrics::HttpEndpoint> endpoint_;
};

/// `pulse serve`: serve the metrics of this (idle) process until `stop` is set.
/// `on_listening` gets the URL once the server is up. Errors as RunObservability::Start.
Status Serve(const HttpFlags& http, const std::atomic<bool>& stop,
             const std::function<void(const std::string& url)>& on_listening);

enum class LogFormat : uint8_t { kText, kJson };

/// Switch the default spdlog logger to `format`. JSON: one object per line on stderr,
/// {"ts":"2024-01-01T00:00:00.000Z","level":"info","msg":"..."} plus a span's fields.
void SetLogFormat(LogFormat format);

/// Log `span` at debug level: "span window[0] batch 3: received 4096, emitted 12 in
/// 0.812 ms"; in JSON the numbers are fields (stage, worker, batch, received, emitted,
/// elapsed_ms). Thread-safe.
void LogSpan(const StageSpan& span);

}  // namespace pulse::cli
