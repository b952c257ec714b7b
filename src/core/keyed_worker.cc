// SPDX-License-Identifier: MIT
// KeyedWorker: feeds its key groups' records to its keyed operator instance.
#include "core/keyed_worker.h"

#include <optional>
#include <utility>

#include "core/checkpoint_coordinator.h"
#include "core/run_probe.h"

namespace pulse::internal {

Status KeyedWorker::Run() {
  const KeyGroupRange range = KeyGroupRange::ForWorker(index_, workers_);
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<KeyedOperator> op,
                         factory_.Make(KeyedOperatorContext{index_, workers_, range}));
  if (checkpoints_ != nullptr) PULSE_RETURN_IF_ERROR(checkpoints_->RestoreWorker(*op, range));
  BlockingQueue<WorkerTask>& in = ctx_.channels.to_worker(index_);
  BlockingQueue<WorkerOutput>& out = ctx_.channels.from_worker(index_);
  while (std::optional<WorkerTask> task = in.Pop()) {
    WorkerOutput output;
    PULSE_RETURN_IF_ERROR(Process(*op, *task, &output));
    if (task->barrier) checkpoints_->Snapshot(index_, *op, *task->barrier);
    output.watermark = task->watermark;
    output.last = task->last;
    output.barrier = std::move(task->barrier);
    if (!out.Push(std::move(output))) return Status::OK();
    if (task->last) break;
  }
  return Status::OK();
}

// One task through the operator, with its metrics and span.
Status KeyedWorker::Process(KeyedOperator& op, WorkerTask& task, WorkerOutput* out) {
  const size_t n = task.records.size();
  const Clock::TimePoint start = ctx_.clock.Now();
  for (KeyedRecord& r : task.records) {
    PULSE_RETURN_IF_ERROR(op.Process(std::move(r), &out->output));
  }
  PULSE_RETURN_IF_ERROR(op.AdvanceWatermark(task.watermark, &out->output));
  const Clock::Duration elapsed = ctx_.clock.Now() - start;
  ctx_.state.in_flight.fetch_sub(n, std::memory_order_relaxed);
  const KeyedOperatorStats stats = op.stats();
  WorkerGauges& gauges = ctx_.state.workers[index_];
  gauges.open_windows.store(stats.open_windows, std::memory_order_relaxed);
  gauges.state_entries.store(stats.state_entries, std::memory_order_relaxed);
  gauges.watermark.store(task.watermark, std::memory_order_relaxed);
  RunProbe& probe = ctx_.probe;
  probe.RecordStageBatch(probe.keyed(), n, out->output.results.size());
  probe.RecordLateRecords(out->output.late.size());
  probe.RecordOperatorBatchTime(elapsed, n);
  if (ctx_.on_span) {
    ctx_.on_span(StageSpan{probe.stages()[probe.keyed()].name, static_cast<int>(index_),
                           ++batch_number_, n, out->output.results.size(),
                           Milliseconds(elapsed)});
  }
  return Status::OK();
}

}  // namespace pulse::internal
