// SPDX-License-Identifier: MIT
// CheckpointCoordinator: the executor's side of checkpoints (docs/checkpoints.md): restore at
// the start, barriers that ride on batches, and the two-phase commit with the outputs.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "core/run_outputs.h"
#include "pulse/core/checkpoint_store.h"
#include "pulse/core/clock.h"
#include "pulse/core/connector.h"
#include "pulse/core/env.h"
#include "pulse/core/executor.h"
#include "pulse/core/operator.h"
#include "pulse/core/run_history.h"
#include "pulse/core/status.h"
#include "pulse/metrics/registry.h"

namespace pulse::internal {

/// A checkpoint in flight. The source stage begins it after batch k and records the source
/// position; it travels with batch k to every worker (worker i writes snapshots[i] and
/// states[i] after the batch) and to the sink stage, which commits it once every worker's
/// batch k has arrived. The queues order these accesses: no lock is needed.
struct Barrier {
  std::unique_ptr<PendingCheckpoint> pending;
  Value source_position;
  Value dead_letters;  // the dead-letter file's commit information
  EventTime watermark = kMinWatermark;
  Clock::TimePoint started;
  int64_t started_unix_ms = 0;  // the same moment on the wall clock
  std::vector<Status> snapshots;        // per worker
  std::vector<CheckpointState> states;  // per worker
};

/// Coordinates the checkpoints of one run. Created (Open) before the source opens; the calls
/// below name the thread they are made on. Begin (source stage) and Finish (sink stage) share
/// the store under a mutex; at most one interval checkpoint is in flight, so the interval is a
/// minimum. Talks to the connectors only through their checkpoint sides (CheckpointedSource,
/// CheckpointedSink). Borrows the source, the outputs and the Env (its files and clock), which
/// outlive it. Thread-safe as described per method.
class CheckpointCoordinator {
 public:
  /// Check that the source and the sink can be checkpointed (AsCheckpointed() is not null),
  /// open the store in options.dir (locking it), load the checkpoint to resume from unless
  /// options.fresh (its warnings go to options.on_warning), Seek `source` to its position, and
  /// register the checkpoint metrics in `registry`. `workers`: keyed workers (0 for a plain
  /// pipeline). The interval starts now. Called on the thread that calls Run(), before the
  /// source opens.
  /// Errors: InvalidArgument (a stage cannot be checkpointed: "<Describe()> cannot be
  /// checkpointed (<why>)"; interval ≤ 0; a checkpoint of another pipeline); Corruption (no
  /// checkpoint verifies, or it has no source position); Unavailable (another run holds the
  /// directory); IOError; the source's Seek error.
  static Result<std::unique_ptr<CheckpointCoordinator>> Open(const CheckpointOptions& options,
                                                             Source& source, RunOutputs& outputs,
                                                             uint32_t workers, Env& env,
                                                             metrics::Registry& registry);
  CheckpointCoordinator(const CheckpointCoordinator&) = delete;
  CheckpointCoordinator& operator=(const CheckpointCoordinator&) = delete;

  // --- Restore (before the stages start, or on a worker before its first record).

  /// The checkpoint this run resumes from; null for a fresh start.
  const LoadedCheckpoint* resume() const { return resume_ ? &*resume_ : nullptr; }
  /// The watermark the run starts at: the checkpoint's, or kMinWatermark.
  EventTime start_watermark() const;
  /// After the sink opened, before the first write: continue the outputs the checkpoint
  /// covers, or remove what crashed runs left (RunOutputs::Recover).
  Status RecoverOutputs() { return outputs_.Recover(resume_ ? &resume_->manifest : nullptr); }
  /// On a worker thread, before its first record: replace `op`'s state with the checkpoint's
  /// state of `key_groups` (any worker count may have written it). Nothing on a fresh start.
  /// Errors: the operator's RestoreState error, naming the checkpoint.
  Status RestoreWorker(KeyedOperator& op, KeyGroupRange key_groups) const;

  // --- Taking checkpoints.

  /// Source thread, after each batch: whether a barrier follows it. Always after the last batch
  /// (end of input or stop); otherwise when no checkpoint is in flight and the interval has
  /// passed on the clock since the previous one began (or since Open).
  bool Due(bool last) const;
  /// Source thread: begin the checkpoint after the current batch, taken at `watermark`: a new
  /// id in the store, CheckpointedSource::Position() and the dead-letter file's commit
  /// information.
  /// The next interval starts now. Errors: the store's, the source's (with context).
  Result<std::shared_ptr<Barrier>> Begin(EventTime watermark);
  /// Worker `worker`'s thread, after the barrier's batch and AdvanceWatermark: snapshot `op`'s
  /// key groups into the pending checkpoint. An error is kept in the barrier for Finish.
  void Snapshot(uint32_t worker, KeyedOperator& op, Barrier& barrier) const;
  /// Sink thread, after the barrier's batch was written and OnWatermark: the two-phase commit.
  /// Check every snapshot, CheckpointedSink::PrepareCommit and the late output's, commit the
  /// manifest, then CheckpointedSink::Commit and CheckpointedSource::OnCheckpointCommitted.
  /// Errors: the first failure, naming the checkpoint (counted as a failure, the pending
  /// checkpoint removed); the run then stops.
  Status Finish(Barrier& barrier);

  // --- Any thread.

  /// Checkpoints committed by this run.
  uint64_t committed() const { return committed_.load(); }
  /// Checkpoints of this run that failed.
  uint64_t failed() const;
  /// Attempts Recent() keeps.
  static constexpr size_t kRecentCheckpoints = 100;
  /// The last kRecentCheckpoints checkpoint attempts of this run (committed or failed), oldest
  /// first: a read-only view for the status page (RunOptions::history).
  std::vector<CheckpointRecord> Recent() const;
  /// Set pulse_checkpoint_age_seconds from the clock (the metrics sampler calls it).
  void UpdateAge() const;

 private:
  struct Metrics {
    metrics::Counter* total = nullptr;
    metrics::Counter* failures = nullptr;
    metrics::Histogram* duration = nullptr;
    metrics::Gauge* size = nullptr;
    metrics::Gauge* age = nullptr;
  };

  CheckpointCoordinator(const CheckpointOptions& options, CheckpointedSource& source,
                        CheckpointedSink& sink, RunOutputs& outputs, uint32_t workers, Env& env);
  Status Load(const CheckpointOptions& options);
  void RegisterMetrics(metrics::Registry& registry);
  Status Commit(Barrier& barrier);
  CheckpointManifest ManifestOf(const Barrier& barrier) const;
  void Remember(uint64_t id, const Barrier& barrier, uint64_t bytes, const Status& error,
                Clock::TimePoint done);

  const Clock::Duration interval_;
  const PipelineFingerprint fingerprint_;
  CheckpointedSource& source_;
  CheckpointedSink& sink_;
  RunOutputs& outputs_;
  const uint32_t workers_;
  Env& env_;
  Clock& clock_;
  std::unique_ptr<CheckpointStore> store_;  // guarded by store_mu_ after Open
  std::mutex store_mu_;
  std::optional<LoadedCheckpoint> resume_;
  Clock::TimePoint next_due_;  // source thread only
  std::atomic<bool> in_flight_{false};
  std::atomic<uint64_t> committed_{0};
  std::atomic<Clock::Duration::rep> last_done_{0};  // Clock::TimePoint of the last commit
  Metrics metrics_;
  mutable std::mutex recent_mu_;
  std::deque<CheckpointRecord> recent_;  // guarded by recent_mu_
  uint64_t failed_ = 0;                  // guarded by recent_mu_
};

}  // namespace pulse::internal
