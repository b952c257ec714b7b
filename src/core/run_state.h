// SPDX-License-Identifier: MIT
// What the stages of one run share: the counters and watermarks they publish for progress and
// metrics, the first error, and the context every stage borrows.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "core/channels.h"
#include "pulse/core/clock.h"
#include "pulse/core/connector.h"
#include "pulse/core/run_metrics.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"

namespace pulse::internal {

class RunProbe;

/// What keyed worker i publishes after each batch.
struct WorkerGauges {
  std::atomic<uint64_t> open_windows{0};
  std::atomic<uint64_t> state_entries{0};
  std::atomic<EventTime> watermark{kMinWatermark};
};

/// Counters and watermarks the stages publish while they run, read by the progress callback
/// and the metrics sampler. Each field has one writer (named below); any thread may read.
/// Thread-safe (atomics, relaxed: each is a gauge on its own).
struct RunState {
  explicit RunState(uint32_t worker_count) : workers(worker_count) {}
  RunState(const RunState&) = delete;
  RunState& operator=(const RunState&) = delete;

  SourceCounters source_counters;  // the source (on the source thread)
  SinkCounters sink_counters;      // the sink (on the sink thread)
  /// Records between the source stage and the keyed workers (plain: and the sink stage).
  std::atomic<uint64_t> in_flight{0};
  std::atomic<EventTime> source_watermark{kMinWatermark};  // the source stage
  std::atomic<EventTime> sink_watermark{kMinWatermark};    // the sink stage
  std::atomic<EventTime> newest_event{kMinWatermark};  // the source stage: largest time read
  /// Set by the source stage at the end of the input: it ended because of the stop flag.
  std::atomic<bool> stopped{false};
  /// The source stage: the watermark follows processing time (the input is idle).
  std::atomic<bool> source_idle{false};
  std::vector<WorkerGauges> workers;  // one per keyed worker, each written by its worker
};

/// The first error of any stage. Reporting it closes every channel, so that the other stages
/// stop at their next push or pop. Thread-safe.
class FirstError {
 public:
  explicit FirstError(Channels& channels) : channels_(channels) {}
  FirstError(const FirstError&) = delete;
  FirstError& operator=(const FirstError&) = delete;

  /// Keep `status` if no error came before it and stop the run; OK is ignored.
  void Report(Status status);
  /// Whether an error was reported.
  bool failed() const { return failed_.load(); }
  /// The first error reported, or OK.
  Status status() const;

 private:
  Channels& channels_;
  mutable std::mutex mu_;
  Status first_;  // guarded by mu_
  std::atomic<bool> failed_{false};
};

/// What every stage of a run borrows. Everything referred to outlives the stages.
struct StageContext {
  Clock& clock;  // processing time: batch timings, the checkpoint interval, Sink::Tick
  RunState& state;
  Channels& channels;
  FirstError& errors;
  RunProbe& probe;  // per-batch metrics
  /// Called after each batch of each stage, on the stage's thread (RunOptions::on_span); may be
  /// empty.
  const std::function<void(const StageSpan&)>& on_span;
};

/// Milliseconds in `d`, for metrics and spans.
inline double Milliseconds(Clock::Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace pulse::internal
