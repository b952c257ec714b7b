// SPDX-License-Identifier: MIT
// What a run reports about itself: the pipeline's stages as metrics label them, the metric
// families of a run (names in docs/observability.md), and per-batch spans for debug logs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/pipeline.h"

namespace pulse {
namespace metrics {
class Registry;
}  // namespace metrics

/// What a stage of a pipeline is.
enum class StageKind : uint8_t {
  kSource,    // reads records
  kOperator,  // a stateless operator (map, filter, ...)
  kKeyBy,     // extracts the key and routes records to the keyed workers
  kKeyed,     // the keyed event-time operator (windows)
  kSink,      // writes results
};

/// "source", "operator", "key_by", "keyed", "sink".
std::string_view StageKindName(StageKind kind);

/// One stage of a pipeline, in data-flow order.
struct StageInfo {
  /// Unique within the pipeline; the `operator` label of the run's metrics: "source", the
  /// operator's name() ("map", a second one "map_2"), "key_by", "window", "sink".
  std::string name;
  StageKind kind = StageKind::kOperator;
  /// What it does, e.g. "file jsonl events.jsonl" or "tumbling 1m, count".
  std::string description;
};

/// The stages of `pipeline`: source, operators before the key, key by, keyed operator,
/// operators after it, sink (the ones the pipeline has).
std::vector<StageInfo> PipelineStages(const Pipeline& pipeline);

/// Register, at zero, every metric family a run reports and, for each of `stages`, its
/// labelled children. A run with RunOptions::metrics registers the same cells again (a
/// registry hands out existing cells), so calling this first makes every metric visible
/// before the run starts, e.g. to an HTTP scrape. With no stages (an idle process) the
/// families without labels and pulse_dropped_records_total{reason} for every reason are present.
void RegisterRunMetrics(metrics::Registry& registry, std::span<const StageInfo> stages = {});

/// What a stage did with one batch, reported through RunOptions::on_span (debug logs).
struct StageSpan {
  std::string_view stage;  // StageInfo::name; valid during the callback only
  int worker = -1;         // the keyed worker for the keyed stage, otherwise -1
  uint64_t batch = 0;      // the batch's number on its thread, from 1
  uint64_t received = 0;   // records in
  uint64_t emitted = 0;    // records (or results) out
  /// Time spent in the stage for this batch. Stateless operators before the key run record
  /// by record together with the key extraction, so their time is reported once, on key_by
  /// (or on the first operator when there is no key).
  double elapsed_ms = 0;
};

// Metric names (types, labels and meaning in docs/observability.md).
inline constexpr std::string_view kOperatorRecordsMetric = "pulse_operator_records_total";
inline constexpr std::string_view kOperatorLatencyMetric = "pulse_operator_process_latency_ms";
inline constexpr std::string_view kOperatorLateMetric = "pulse_operator_late_records_total";
inline constexpr std::string_view kOperatorWatermarkMetric = "pulse_operator_watermark_seconds";
inline constexpr std::string_view kOperatorOpenWindowsMetric = "pulse_operator_open_windows";
inline constexpr std::string_view kStateSizeMetric = "pulse_state_size";
inline constexpr std::string_view kSourceRecordsMetric = "pulse_source_records_read_total";
inline constexpr std::string_view kSourceBytesMetric = "pulse_source_bytes_read_total";
inline constexpr std::string_view kSourceWatermarkMetric = "pulse_source_watermark_seconds";
inline constexpr std::string_view kSourceIdleMetric = "pulse_source_idle";
inline constexpr std::string_view kSinkResultsMetric = "pulse_sink_results_written_total";
inline constexpr std::string_view kSinkBytesMetric = "pulse_bytes_written_total";
inline constexpr std::string_view kSinkLatencyMetric = "pulse_sink_process_latency_ms";
inline constexpr std::string_view kDroppedMetric = "pulse_dropped_records_total";
inline constexpr std::string_view kQueueDepthMetric = "pulse_queue_depth";
inline constexpr std::string_view kWatermarkLagMetric = "pulse_watermark_lag_ms";

}  // namespace pulse
