// SPDX-License-Identifier: MIT
// SinkStage: merges the keyed workers' results into the global output order, runs the
// operators after the keyed one, writes to the sink and commits checkpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/operator_chain.h"
#include "pulse/core/output_file.h"
#include "core/run_state.h"
#include "pulse/core/bad_record.h"
#include "pulse/core/connector.h"
#include "pulse/core/operator.h"
#include "pulse/core/status.h"

namespace pulse::internal {

class CheckpointCoordinator;

/// The results of several workers in output order. Each worker's results are nearly always
/// sorted already (windows close in order, keys sorted within a window), so each run is checked
/// and sorted only if needed, then the runs are merged pairwise: O(n log workers) moves instead
/// of sorting everything. Equal results cannot come from two workers (a key lives in one), and
/// the merge is stable anyway, so the order does not depend on timing.
std::vector<KeyedResult> MergeResults(std::vector<std::vector<KeyedResult>> runs);

/// The sink stage of a run: the only caller of the Sink after Open (Write, OnWatermark, Tick,
/// and through the coordinator the checkpoint calls).
///
/// Input: with a key, batch k of every worker (ctx.channels.from_worker(i) for each i in turn);
/// without, ctx.channels.plain(). Per batch: the workers' results merged (MergeResults), late
/// records sorted by their input position, counted as late and appended to `late_output`, the
/// results run through the operators after the key, then Sink::Write (if any), OnWatermark
/// with the batch's watermark, and the barrier's checkpoint committed (Finish). Sink::Tick runs
/// whenever Sink::TickInterval() has passed on ctx.clock since the last one (initially: since
/// the construction), also while the stage waits for a batch (it waits Clock::WaitSlice at a
/// time).
/// Ends after the batch marked last, or when its queues close.
/// Thread: Run() on the sink thread; the object is used by that thread only.
/// Publishes: ctx.state.sink_watermark, in_flight (plain). Errors: the sink's (context "sink"),
/// an operator's, the late output's, the checkpoint's.
class SinkStage {
 public:
  /// `late_output` null: late records are only counted. `checkpoints` null: no checkpoints.
  /// Borrows everything; it outlives the stage. Requires: the sink is open.
  SinkStage(Sink& sink, OperatorChain& after_key, BadRecordHandler& bad_records,
            OutputFile* late_output, CheckpointCoordinator* checkpoints, const StageContext& ctx);
  SinkStage(const SinkStage&) = delete;
  SinkStage& operator=(const SinkStage&) = delete;

  /// Write batches until the last one or until the queues close.
  Status Run();

 private:
  /// What the stage hands the sink for one batch.
  struct Batch {
    std::vector<Record> records;
    EventTime watermark = kMinWatermark;
    bool last = false;
    std::shared_ptr<Barrier> barrier;
  };

  template <typename T>
  Result<std::optional<T>> PopTicking(BlockingQueue<T>& queue);
  Result<bool> TakePlain(Batch* batch);
  Result<bool> TakeKeyed(Batch* batch);
  Status RunAfterKey(std::vector<KeyedResult> results, std::vector<Record>* out);
  Status HandleLate(std::vector<KeyedRecord> late);
  Status Deliver(Batch& batch);

  Sink& sink_;
  OperatorChain& after_key_;
  BadRecordHandler& bad_records_;
  OutputFile* late_output_;
  CheckpointCoordinator* checkpoints_;
  const StageContext& ctx_;
  Clock::TimePoint last_tick_;
  uint64_t batch_number_ = 0;
  std::string late_text_;
};

}  // namespace pulse::internal
