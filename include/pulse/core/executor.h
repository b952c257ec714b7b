// SPDX-License-Identifier: MIT
// Run a Pipeline: threads, batches, bounded queues, watermarks, deterministic output.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/core/env.h"
#include "pulse/core/pipeline.h"
#include "pulse/core/run_metrics.h"
#include "pulse/core/status.h"

namespace pulse {

class RunHistory;

/// How a run ended (RunProgress::end).
enum class RunEnd : uint8_t {
  kRunning,     ///< not yet: a progress report during the run
  kInputEnded,  ///< the input ended: every window closed, the outputs published
  /// Stopped with StopMode::kDrain: every window closed and emitted, the outputs published.
  kDrained,
  /// Stopped with StopMode::kLeaveOpen and checkpoints: a final checkpoint keeps the open
  /// windows and the source position, the outputs stay in progress; the next run continues.
  kSuspended,
  /// Stopped with StopMode::kLeaveOpen, no checkpoints, an unbounded input
  /// (Source::Unbounded): the open windows are discarded; the outputs, which hold every window
  /// closed before the stop, are published (only a stop ends such an input).
  kStopped,
  /// Stopped with StopMode::kLeaveOpen, no checkpoints, an input that would have ended by
  /// itself: the output would be partial, so the open windows are discarded and the outputs
  /// aborted (Sink::Abort: what a sink had not yet made visible, e.g. a JSONL file, is dropped).
  kDiscarded,
};

/// A snapshot of a run's progress.
struct RunProgress {
  uint64_t records_read = 0;
  uint64_t bytes_read = 0;
  uint64_t results_written = 0;
  uint64_t bytes_written = 0;
  std::array<uint64_t, kNumBadReasons> bad{};  // by BadReason (late and channel_full included)
  EventTime watermark = kMinWatermark;
  /// Windows open in the keyed workers; at the end of a stopped run, those kept by the final
  /// checkpoint (kSuspended) or discarded (kDiscarded).
  uint64_t open_windows = 0;
  double seconds = 0;
  bool cancelled = false;  // stopped by the stop flag before the input ended
  RunEnd end = RunEnd::kRunning;  // set in the final progress
  /// The watermark follows processing time because the input is idle
  /// (Pipeline::Idleness; not reported for sources that generate watermarks).
  bool idle = false;
  uint64_t checkpoints = 0;                 // checkpoints committed by this run
  std::optional<uint64_t> resumed_from;     // the checkpoint this run continued from
};

/// Checkpoints (docs/checkpoints.md): every `interval_ms`, at the end of the input and when
/// the run is stopped, the source position, the watermark, the keyed state and what the sinks
/// must commit are saved consistently in `dir`; a later run with the same `dir` continues
/// from the newest valid one, so that its committed output equals an uninterrupted run's.
struct CheckpointOptions {
  /// Empty: no checkpoints.
  std::string dir;
  /// The least time between two checkpoints, on the run's clock (RunOptions::env).
  DurationMs interval_ms = 10'000;
  /// Committed checkpoints kept (the newest ones); at least 1.
  uint32_t keep = 3;
  /// Ignore existing checkpoints and start over (they are replaced as new ones commit).
  bool fresh = false;
  /// What must match to resume (named parts, e.g. {"window", "tumbling 1m"}); a checkpoint
  /// taken with different parts is refused with a message naming them.
  std::vector<std::pair<std::string, std::string>> fingerprint;
  /// Receives warnings, e.g. that the newest checkpoint was corrupt and an older one is used.
  std::function<void(std::string_view)> on_warning;
};

/// What a stop (RunOptions::stop) does with the windows still open.
enum class StopMode : uint8_t {
  /// Leave them open, as Flink's stop-with-savepoint: with checkpoints a final checkpoint keeps
  /// them with the source position and the outputs are suspended, so that the next run
  /// continues exactly (RunEnd::kSuspended). Without checkpoints they are discarded; the
  /// outputs are published for an unbounded input (RunEnd::kStopped) and aborted for one cut
  /// short, so that no partial output is published (RunEnd::kDiscarded).
  kLeaveOpen,
  /// Close them all, as Flink's stop --drain: the input ends where the stop found it, the
  /// watermark rises past every window as at the end of a finite input, every result is
  /// emitted and the outputs are published (RunEnd::kDrained). With checkpoints the final
  /// checkpoint is an end-of-input one: a later run with the same checkpoints finds every
  /// window closed.
  kDrain,
};

struct RunOptions {
  /// Threads for keyed work; 0 means one per core. Output does not depend on it.
  int workers = 0;
  /// Records per batch between stages. Output does not depend on it.
  size_t batch_size = 4096;
  /// Batches each queue between two stages holds before its producer blocks (backpressure),
  /// with or without a key; 0 counts as 1.
  size_t queue_capacity = 8;
  /// Opt-in lossy bound on records in flight between the source and the keyed workers
  /// (the original's PULSE_CHANNEL_BOUND); 0 disables it. Excess records are dropped and
  /// counted as channel_full; watermarks are never dropped.
  uint64_t channel_bound = 0;
  /// Set (e.g. by a signal handler) to stop reading; the source ends its input, what is
  /// complete is emitted, `on_stop` decides the rest, and the run ends cleanly with
  /// progress.cancelled = true.
  const std::atomic<bool>* stop = nullptr;
  /// What a stop does with the open windows and the outputs.
  StopMode on_stop = StopMode::kLeaveOpen;
  /// Called every second of the run's clock from a monitor thread, and once at the end.
  std::function<void(const RunProgress&)> on_progress;
  /// Where the run's metrics go (run_metrics.h); must outlive the run. The run registers its
  /// cells, updates them per batch, and copies its counters in at each collection and once at
  /// the end. nullptr: a private registry.
  metrics::Registry* metrics = nullptr;
  /// Called after each batch for each stage (debug logs), on the thread running the stage, so
  /// it must be thread-safe. Unset: no spans.
  std::function<void(const StageSpan&)> on_span;
  /// Where the run records its history for the status page and the run report
  /// (pulse/core/run_history.h): a sample when the stages start, every second of the run's
  /// clock and when they end (also after an error or a stop), with the last checkpoints and
  /// bad records. Must outlive the run. nullptr: none.
  RunHistory* history = nullptr;
  /// Checkpointing; off unless checkpoint.dir is set.
  CheckpointOptions checkpoint;
  /// At the end of a finite input the watermark rises from where it is to the largest event time
  /// seen in this many equal steps, then past every window, so that windows left open (all of
  /// them when there was no watermark) close a slice at a time. 0: in one step. Output does not
  /// depend on it; the memory that holds results before they are written does.
  uint32_t end_of_input_steps = 256;
  /// Processing time and files for the run and its connectors (SourceContext/SinkContext::env).
  /// Every interval and duration of the run reads its clock: the checkpoint interval,
  /// Sink::Tick (every second), on_progress, RunProgress::seconds, the checkpoint and per-batch
  /// timing metrics. nullptr: Env::Default(). Must outlive the run.
  Env* env = nullptr;
};

/// Run `pipeline` to the end of its input (or until options.stop, then as options.on_stop
/// says). Returns the final progress.
/// Errors: the pipeline's Validate() errors, and the first error any stage returns (the sink
/// is then aborted so that no partial output becomes visible; with checkpoints it is
/// suspended instead, so that the next run continues from the last checkpoint). With
/// checkpoints also: InvalidArgument if a stage cannot be checkpointed or the newest checkpoint
/// belongs to a different pipeline; Corruption if no checkpoint verifies; Unavailable if
/// another run holds the directory.
Result<RunProgress> Run(Pipeline pipeline, const RunOptions& options = {});

}  // namespace pulse
