// SPDX-License-Identifier: MIT
// The JSON document behind the status page (/api/status), built from a registry collection.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "pulse/core/run_metrics.h"
#include "pulse/metrics/registry.h"

namespace pulse::metrics::internal {

struct StatusContext {
  std::string_view title;
  std::span<const StageInfo> stages;
  bool running = true;
  int64_t now_ms = 0;  // wall clock, ms since the epoch
};

/// {"title","version","running","now_ms","start_time_s","process":{...},"queue_depth",
///  "watermark_lag_ms","dropped":{reason:n},"stages":[{name,kind,description,received,
///  emitted,watermark,late,dropped,...}],"latency":{...}}. Counters are numbers; a watermark is
/// a number of ms, or the string "-Inf" (none yet) or "+Inf" (end of input). Fields a stage
/// does not have are left out (a source has no "received").
std::string StatusJson(std::span<const FamilySnapshot> families, const StatusContext& context);

}  // namespace pulse::metrics::internal
