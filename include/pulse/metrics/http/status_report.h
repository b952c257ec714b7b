// SPDX-License-Identifier: MIT
// The run report: the status page of a run that has ended, as one self-contained HTML file
// (`pulse run --report report.html`). Target pulse::metrics_http.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pulse/core/run_history.h"
#include "pulse/core/run_metrics.h"
#include "pulse/metrics/registry.h"

namespace pulse::metrics {

/// How a run ended, as the report shows it.
enum class RunOutcome : uint8_t {
  kFinished,  // the input ended and the run completed
  kStopped,   // stopped early (RunOptions::stop, e.g. Ctrl-C), and ended cleanly
  kFailed,    // Run() returned an error
};

struct StatusReportOptions {
  /// Shown as the page's title (e.g. the config file).
  std::string title = "pulse";
  /// The pipeline's stages (PipelineStages).
  std::vector<StageInfo> stages;
  /// The run's history (RunOptions::history); null: current numbers only.
  const RunHistory* history = nullptr;
  RunOutcome outcome = RunOutcome::kFinished;
  /// With kFailed: the error, shown on the page.
  std::string error;
  /// When the run ended, in ms since the epoch; 0: the system clock now.
  int64_t now_ms = 0;
};

/// Render the status page of a run that has ended: the page served at / with the final numbers
/// (one collection of `registry`) and the whole history embedded as JSON, and a content
/// security policy that forbids every network request, so that the file opens anywhere, also
/// without network access (no external scripts, fonts or images; the charts are inline SVG).
/// Thread-safe (it only collects `registry`).
std::string RenderStatusReport(const Registry& registry, const StatusReportOptions& options);

}  // namespace pulse::metrics
