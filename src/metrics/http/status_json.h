// SPDX-License-Identifier: MIT
// The JSON document behind the status page (/api/status), built from a registry collection.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "pulse/core/run_history.h"
#include "pulse/core/run_metrics.h"
#include "pulse/metrics/registry.h"

namespace pulse::metrics::internal {

struct StatusContext {
  std::string_view title;
  std::span<const StageInfo> stages;
  bool running = true;
  /// "running", or how the run ended: "finished", "stopped", "failed" (with `error`).
  std::string_view state = "running";
  std::string_view error;
  int64_t now_ms = 0;  // wall clock, ms since the epoch
  /// The run's history (null: none; the document then has no "history", "checkpoints" or
  /// "bad_records"), and the sequence the client already has (only newer samples are sent
  /// when they are all still at full resolution).
  const RunHistory* history = nullptr;
  std::optional<uint64_t> history_after;
};

/// {"title","version","running","state","error","now_ms","start_time_s","process":{...},
///  "queue_depth","watermark_lag_ms","dropped":{reason:n},"stages":[{name,kind,description,
///  received,emitted,watermark,late,dropped,...}],"latency":{...},"partitions":[{topic,
///  partition,lag,watermark,idle}],"history":{full,sequence,t,in,out,late,bad,watermark,newest,
///  open_windows,state},"checkpoints":{enabled,committed,failed,recent:[{id,started_ms,
///  duration_ms,bytes,failed,error}]},"bad_records":[{number,time_ms,reason,origin,position,
///  error,raw,truncated}]}. Counters are numbers; a watermark is a number of ms, or the string
/// "-Inf" (none yet) or "+Inf" (end of input). Fields a stage does not have are left out (a
/// source has no "received"). The history is columnar: one array per series, oldest first.
std::string StatusJson(std::span<const FamilySnapshot> families, const StatusContext& context);

}  // namespace pulse::metrics::internal
