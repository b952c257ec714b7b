// SPDX-License-Identifier: MIT
// RunProbe: the executor's metric cells, looked up once per run, and the sampling of the
// run's own counters (sources, sinks, bad records, watermarks) at each collection.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/core/clock.h"
#include "pulse/core/run_metrics.h"
#include "pulse/core/time.h"
#include "pulse/metrics/registry.h"

namespace pulse::internal {

/// The stages of a pipeline under construction (PipelineStages for its parts).
std::vector<StageInfo> StagesOf(const Pipeline::Parts& parts);

/// The cells of one run. Per-batch methods only touch atomics, so any thread may call them.
/// Lifecycle: construct (registers the cells) → StartSampling → per-batch calls →
/// StopSampling (one last sample; required before whatever the sampler reads is destroyed).
class RunProbe {
 public:
  static constexpr size_t kNone = std::numeric_limits<size_t>::max();

  /// State of the run that the probe copies into the registry before each collection.
  struct Sample {
    uint64_t records_read = 0;
    uint64_t bytes_read = 0;
    uint64_t results_written = 0;
    uint64_t bytes_written = 0;
    std::array<uint64_t, kNumBadReasons> dropped{};
    uint64_t in_flight = 0;  // records between the source and the keyed workers
    EventTime source_watermark = kMinWatermark;
    bool source_idle = false;  // the watermark follows processing time (Pipeline::Idleness)
    EventTime keyed_watermark = kMinWatermark;  // the lowest of the keyed workers'
    EventTime sink_watermark = kMinWatermark;
    uint64_t open_windows = 0;
    uint64_t state_entries = 0;
  };

  /// Register the run's families and the cells of `stages` (which may be empty: an idle
  /// process) in `registry`, which must outlive the probe. `clock` (the run's; it outlives the
  /// probe) gives the wall time the watermark lag is measured against.
  RunProbe(metrics::Registry& registry, std::vector<StageInfo> stages,
           const Clock& clock = Clock::Real());
  RunProbe(const RunProbe&) = delete;
  RunProbe& operator=(const RunProbe&) = delete;
  ~RunProbe();

  const std::vector<StageInfo>& stages() const { return stages_; }

  // Stage indices (kNone when the pipeline has no such stage).
  size_t source() const { return 0; }
  size_t before_key(size_t i) const { return first_before_ + i; }
  size_t key_by() const { return key_by_; }
  size_t keyed() const { return keyed_; }
  size_t after_key(size_t i) const { return first_after_ + i; }
  size_t sink() const { return stages_.empty() ? kNone : stages_.size() - 1; }

  /// Count a batch through `stage`: records received and records emitted.
  void RecordStageBatch(size_t stage, uint64_t received, uint64_t emitted);
  /// Count records the keyed stage dropped as late.
  void RecordLateRecords(uint64_t count);
  /// A batch of `records` took `elapsed` in an operator (sink): observed as `records`
  /// observations of the per-record mean.
  void RecordOperatorBatchTime(std::chrono::nanoseconds elapsed, uint64_t records);
  void RecordSinkBatchTime(std::chrono::nanoseconds elapsed, uint64_t records);

  /// Call `sampler` (from the collecting thread) before each collection of the registry.
  void StartSampling(std::function<Sample()> sampler);
  /// Take a final sample and stop sampling. Idempotent.
  void StopSampling();

 private:
  struct StageCells {
    metrics::Counter* received = nullptr;
    metrics::Counter* emitted = nullptr;
    metrics::Gauge* watermark = nullptr;
    metrics::Counter* late = nullptr;
    metrics::Gauge* open_windows = nullptr;
    metrics::Gauge* state_size = nullptr;
  };

  void AddStageCells(size_t stage);
  void Apply(const Sample& sample);

  metrics::Registry& registry_;
  const Clock& clock_;
  std::vector<StageInfo> stages_;
  size_t first_before_ = 1;
  size_t key_by_ = kNone;
  size_t keyed_ = kNone;
  size_t first_after_ = kNone;
  std::vector<StageCells> cells_;
  metrics::Histogram* operator_latency_ = nullptr;
  metrics::Histogram* sink_latency_ = nullptr;
  metrics::Gauge* queue_depth_ = nullptr;
  metrics::Gauge* watermark_lag_ = nullptr;
  metrics::Counter* records_read_ = nullptr;  // null without a source stage
  metrics::Counter* bytes_read_ = nullptr;
  metrics::Gauge* source_watermark_ = nullptr;
  metrics::Gauge* source_idle_ = nullptr;
  metrics::Counter* results_written_ = nullptr;  // null without a sink stage
  metrics::Counter* bytes_written_ = nullptr;
  std::array<metrics::Counter*, kNumBadReasons> dropped_{};

  std::function<Sample()> sampler_;
  Sample last_;  // what Apply() last saw; only touched under the registry's collection lock
  metrics::CollectHook hook_;
};

}  // namespace pulse::internal
