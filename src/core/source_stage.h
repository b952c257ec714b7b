// SPDX-License-Identifier: MIT
// SourceStage: reads the source, stamps watermarks, runs the operators before the key and
// routes each record to the keyed worker that owns its key group.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/operator_chain.h"
#include "core/run_state.h"
#include "pulse/core/bad_record.h"
#include "pulse/core/connector.h"
#include "pulse/core/executor.h"
#include "pulse/core/pipeline.h"
#include "pulse/core/status.h"

namespace pulse::internal {

class CheckpointCoordinator;

/// How the source stage finds a record's key (Pipeline::KeyBy): a top-level field (missing:
/// null) or a function. Value type.
struct KeyExtractor {
  std::optional<std::string> field;
  KeySelector selector;  // used when `field` is unset

  Value Of(const Record& record) const;
};

struct SourceStageOptions {
  /// Records asked of each Source::Read (RunOptions::batch_size; at least 1).
  size_t batch_size = 4096;
  /// The bound B of the pipeline's WatermarkOptions when this stage applies it (after each
  /// record W = max(W, ts − B)); nullopt when there is none or the source generates watermarks.
  std::optional<DurationMs> max_out_of_orderness;
  /// The watermark before the first record (a resumed run's checkpoint watermark).
  EventTime start_watermark = kMinWatermark;
  /// RunOptions::channel_bound (0: off).
  uint64_t channel_bound = 0;
  /// RunOptions::end_of_input_steps.
  uint32_t end_of_input_steps = 256;
  /// Pipeline::Idleness when this stage applies it (a bound is set and the source
  /// does not generate watermarks); nullopt: off.
  std::optional<DurationMs> idle_timeout;
  /// RunOptions::on_stop: kDrain ends a stopped input as a finished one (W rises to +∞).
  StopMode on_stop = StopMode::kLeaveOpen;
};

/// The source stage of a run: the only caller of the Source after Open.
///
/// Per batch: Source::Read and TakeWatermarks; each record gets the watermark W in effect
/// before it (the source's declared watermarks and the bound raise W), goes through the
/// operators before the key, and each output is keyed (compact JSON text), hashed into a key
/// group and appended to the batch of the worker that owns the group (with a key: one
/// WorkerTask per worker per batch, possibly empty, carrying the watermark after the batch) or
/// to the PlainBatch for the sink stage (without a key). A checkpoint barrier, when due, rides
/// on the batch. At the end of a finite input (and at a stop with StopMode::kDrain) W rises to
/// +∞: with a key, in `end_of_input_steps` empty steps from the smallest to the largest event
/// time routed, then to +∞ with the barrier of the final checkpoint, so that open windows close
/// a slice at a time. A stop with StopMode::kLeaveOpen keeps W where it is (the final batch
/// still carries the final checkpoint's barrier).
/// Idleness (options.idle_timeout = T): when a Read returns no record and none has arrived
/// for T of ctx.clock (since the last one, or since the first Read), W = max(W, E + (now − a))
/// where a is when the last record arrived and E the watermark the records gave (W without
/// idle advances); the new W goes out in an empty batch. W never goes back.
/// Ends at the end of the input, when its queues close, or when ctx.errors reports a failure.
/// Thread: Run() on the source thread; the object is used by that thread only.
/// Publishes: ctx.state.source_watermark, source_idle, newest_event, in_flight, stopped;
/// counts channel_full records in `bad_records`. Errors: the source's Read (context "source"),
/// an operator's, the checkpoint's Begin.
class SourceStage {
 public:
  /// `key` null: a plain pipeline (records go to ctx.channels.plain()). `checkpoints` null: no
  /// checkpoints. Borrows everything; it outlives the stage. Requires: the source is open.
  SourceStage(Source& source, OperatorChain& before_key, const KeyExtractor* key,
              BadRecordHandler& bad_records, CheckpointCoordinator* checkpoints,
              const StageContext& ctx, SourceStageOptions options);
  SourceStage(const SourceStage&) = delete;
  SourceStage& operator=(const SourceStage&) = delete;

  /// Read and forward batches until the input ends (or `stop` ends it), a queue closes or the
  /// run fails. `stop` is the flag the source polls (SourceContext::stop).
  Status Run(const std::atomic<bool>& stop);

 private:
  /// The stage's buffers for the batch being processed (reused between batches).
  struct Batch {
    std::vector<Record> read;
    std::vector<SourceWatermark> marks;
    std::vector<Record> transformed;            // one record's outputs of the operators
    std::vector<Record> plain;                  // without a key: the batch for the sink
    std::vector<std::vector<KeyedRecord>> routed;  // with a key: per worker
    uint64_t keyed_in = 0;                      // records that reached the key
    uint64_t keyed_out = 0;                     // records routed to a worker
    std::string key_text;
  };

  Status Process();
  bool AdvanceIdle();
  void Route(Record record, EventTime before);
  void ReportBatch(Clock::Duration read_time, Clock::Duration process_time);
  Result<bool> Emit(bool more, bool stopped);
  bool EmitKeyed(bool more, bool ends, EventTime batch_watermark,
                 std::shared_ptr<Barrier> barrier);
  void Drain(EventTime from, EventTime to, std::shared_ptr<Barrier> barrier);
  bool PushWatermark(EventTime watermark, bool last, const std::shared_ptr<Barrier>& barrier);

  Source& source_;
  OperatorChain& before_key_;
  const KeyExtractor* key_;
  BadRecordHandler& bad_records_;
  CheckpointCoordinator* checkpoints_;
  const StageContext& ctx_;
  const SourceStageOptions options_;
  EventTime watermark_;                // W after the records processed so far
  EventTime event_watermark_;          // W without idle advances (E of the idle rule)
  Clock::TimePoint last_arrival_;      // when the last record arrived (or reading began)
  uint64_t sequence_ = 0;              // position of the next record in the stream
  EventTime min_time_ = kMaxWatermark;  // of the records routed to the workers
  EventTime max_time_ = kMinWatermark;
  EventTime newest_event_ = kMinWatermark;  // the largest event time read
  uint64_t batch_number_ = 0;
  Batch batch_;
};

}  // namespace pulse::internal
