// SPDX-License-Identifier: MIT
// What `pulse run` and `pulse serve` expose: the metrics registry, the HTTP endpoint
// (--http-port / --port, --http-addr), the run's history and its report (--report), JSON log
// lines and per-batch debug spans.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "pulse/core/executor.h"
#include "pulse/core/pipeline.h"
#include "pulse/core/run_history.h"
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
/// With an endpoint or a report, the run also keeps its history (RunOptions::history) for the
/// status page. Not thread-safe; the registry, the history and the endpoint are.
class RunObservability {
 public:
  /// `report_path`: where WriteReport() writes the run report (--report); empty: none. It is
  /// tried at once (its directory created, a temporary file opened and removed), so that a
  /// path that cannot be written fails before the run rather than after it.
  /// Errors: InvalidArgument for bad flags (a report path naming a directory: "--report: ..."),
  /// IOError when the address cannot be bound or the report cannot be written there.
  static Result<std::unique_ptr<RunObservability>> Start(const HttpFlags& http,
                                                         std::string title,
                                                         const Pipeline& pipeline,
                                                         std::string report_path = "");
  ~RunObservability();
  RunObservability(const RunObservability&) = delete;
  RunObservability& operator=(const RunObservability&) = delete;

  metrics::Registry& registry() { return registry_; }
  /// Null when no server was asked for.
  metrics::HttpEndpoint* endpoint() { return endpoint_.get(); }
  /// For RunOptions::history; null without a server and a report.
  RunHistory* history() { return history_.get(); }

  /// Write the run report (the status page with the run's data embedded) to the report path,
  /// atomically, saying how `result` ended: finished, stopped (RunProgress::cancelled) or
  /// failed (with its error). Nothing without a report path. Errors: IOError naming the path.
  Status WriteReport(const Result<RunProgress>& result);

  /// The run is over: /healthz answers 503, then the server stops (waiting at most its
  /// timeouts for requests in progress).
  void Finish();

 private:
  RunObservability() = default;
  metrics::Registry registry_;
  std::string title_;
  std::vector<StageInfo> stages_;
  std::string report_path_;
  std::unique_ptr<RunHistory> history_;
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
