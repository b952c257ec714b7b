// SPDX-License-Identifier: MIT
// KeyedWorker: one of the run's keyed workers, between the source stage and the sink stage.
#pragma once

#include <cstdint>
#include <memory>

#include "core/run_state.h"
#include "pulse/core/operator.h"
#include "pulse/core/status.h"

namespace pulse::internal {

class CheckpointCoordinator;

/// Worker `index` of `workers`: owns the keyed operator instance of its key groups
/// (KeyGroupRange::ForWorker(index, workers)).
///
/// Input: the WorkerTasks of ctx.channels.to_worker(index), one per source batch, in order.
/// Per task it feeds the records to the operator (Process), then advances the watermark to the
/// task's (AdvanceWatermark), publishes its gauges (ctx.state.workers[index]), snapshots its
/// state when the task carries a barrier, and pushes a WorkerOutput (results, late records, the
/// watermark and the barrier) to ctx.channels.from_worker(index). It ends after the task marked
/// last, or when its queues close (another stage failed).
/// Thread: Run() on the worker's own thread; the object is used by that thread only.
/// Errors: the factory's Make, the checkpoint's restore, the operator's Process and
/// AdvanceWatermark errors (a snapshot error goes with the barrier to the sink stage).
class KeyedWorker {
 public:
  /// `checkpoints` null: a run without checkpoints. Borrows everything; it outlives the worker.
  KeyedWorker(uint32_t index, uint32_t workers, const KeyedOperatorFactory& factory,
              const CheckpointCoordinator* checkpoints, const StageContext& ctx)
      : index_(index), workers_(workers), factory_(factory), checkpoints_(checkpoints),
        ctx_(ctx) {}
  KeyedWorker(const KeyedWorker&) = delete;
  KeyedWorker& operator=(const KeyedWorker&) = delete;

  /// Make the operator (restored from the checkpoint when the run resumes), then process
  /// tasks until the last one or until the queues close.
  Status Run();

 private:
  Status Process(KeyedOperator& op, WorkerTask& task, WorkerOutput* out);

  const uint32_t index_;
  const uint32_t workers_;
  const KeyedOperatorFactory& factory_;
  const CheckpointCoordinator* checkpoints_;
  const StageContext& ctx_;
  uint64_t batch_number_ = 0;
};

}  // namespace pulse::internal
