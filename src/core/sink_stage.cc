// SPDX-License-Identifier: MIT
// SinkStage: the ordered merge, late records, the operators after the key, and the sink.
#include "core/sink_stage.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "core/checkpoint_coordinator.h"
#include "core/run_probe.h"
#include "pulse/core/json.h"

namespace pulse::internal {

std::vector<KeyedResult> MergeResults(std::vector<std::vector<KeyedResult>> runs) {
  for (std::vector<KeyedResult>& run : runs) {
    if (!std::is_sorted(run.begin(), run.end())) std::sort(run.begin(), run.end());
  }
  if (runs.empty()) return {};
  while (runs.size() > 1) {
    std::vector<std::vector<KeyedResult>> next;
    for (size_t i = 0; i + 1 < runs.size(); i += 2) {
      std::vector<KeyedResult>& a = runs[i];
      std::vector<KeyedResult>& b = runs[i + 1];
      std::vector<KeyedResult> merged;
      merged.reserve(a.size() + b.size());
      std::merge(std::make_move_iterator(a.begin()), std::make_move_iterator(a.end()),
                 std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()),
                 std::back_inserter(merged));
      next.push_back(std::move(merged));
    }
    if (runs.size() % 2 == 1) next.push_back(std::move(runs.back()));
    runs = std::move(next);
  }
  return std::move(runs.front());
}

SinkStage::SinkStage(Sink& sink, OperatorChain& after_key, BadRecordHandler& bad_records,
                     OutputFile* late_output, CheckpointCoordinator* checkpoints,
                     const StageContext& ctx)
    : sink_(sink),
      after_key_(after_key),
      bad_records_(bad_records),
      late_output_(late_output),
      checkpoints_(checkpoints),
      ctx_(ctx),
      last_tick_(ctx.clock.Now()) {}

Status SinkStage::Run() {
  Batch batch;
  while (true) {
    batch.records.clear();
    ++batch_number_;
    PULSE_ASSIGN_OR_RETURN(const bool taken,
                           ctx_.channels.workers() == 0 ? TakePlain(&batch) : TakeKeyed(&batch));
    if (!taken) return Status::OK();
    PULSE_RETURN_IF_ERROR(Deliver(batch));
    if (batch.last) return Status::OK();
  }
}

// Pop from `queue`, calling the sink's Tick() every Sink::TickInterval() of the clock while
// waiting and between batches. Returns nullopt when the queue is closed.
template <typename T>
Result<std::optional<T>> SinkStage::PopTicking(BlockingQueue<T>& queue) {
  while (true) {
    const Clock::TimePoint now = ctx_.clock.Now();
    Clock::Duration interval = sink_.TickInterval();
    if (now - last_tick_ >= interval) {
      last_tick_ = now;
      PULSE_RETURN_IF_ERROR(sink_.Tick().WithContext("sink"));
      interval = sink_.TickInterval();
    }
    const Clock::Duration until_tick = interval - (now - last_tick_);
    bool timed_out = false;
    std::optional<T> item = queue.PopFor(ctx_.clock.WaitSlice(until_tick), &timed_out);
    if (!timed_out) return item;
  }
}

// The next plain batch; false when the queue closed.
Result<bool> SinkStage::TakePlain(Batch* batch) {
  PULSE_ASSIGN_OR_RETURN(std::optional<PlainBatch> plain, PopTicking(ctx_.channels.plain()));
  if (!plain) return false;
  batch->records = std::move(plain->records);
  ctx_.state.in_flight.fetch_sub(batch->records.size(), std::memory_order_relaxed);
  batch->watermark = plain->watermark;
  batch->last = plain->last;
  batch->barrier = std::move(plain->barrier);
  return true;
}

// The next batch of every worker, merged, through the operators after the key; false when a
// queue closed.
Result<bool> SinkStage::TakeKeyed(Batch* batch) {
  std::vector<std::vector<KeyedResult>> runs;
  std::vector<KeyedRecord> late;
  for (uint32_t i = 0; i < ctx_.channels.workers(); ++i) {
    PULSE_ASSIGN_OR_RETURN(std::optional<WorkerOutput> out,
                           PopTicking(ctx_.channels.from_worker(i)));
    if (!out) return false;
    batch->watermark = out->watermark;
    batch->last = out->last;
    batch->barrier = std::move(out->barrier);
    runs.push_back(std::move(out->output.results));
    std::vector<KeyedRecord>& l = out->output.late;
    late.insert(late.end(), std::make_move_iterator(l.begin()), std::make_move_iterator(l.end()));
  }
  PULSE_RETURN_IF_ERROR(RunAfterKey(MergeResults(std::move(runs)), &batch->records));
  PULSE_RETURN_IF_ERROR(HandleLate(std::move(late)));
  return true;
}

// The released results through the operators after the key, with their metrics and spans.
Status SinkStage::RunAfterKey(std::vector<KeyedResult> results, std::vector<Record>* out) {
  after_key_.ResetCounts();
  const Clock::TimePoint start = ctx_.clock.Now();
  for (KeyedResult& r : results) {
    PULSE_RETURN_IF_ERROR(after_key_.Process(std::move(r.record), out));
  }
  if (after_key_.empty()) return Status::OK();
  const Clock::Duration elapsed = ctx_.clock.Now() - start;
  const std::vector<ChainCount>& chain = after_key_.counts();
  RunProbe& probe = ctx_.probe;
  for (size_t i = 0; i < chain.size(); ++i) {
    probe.RecordStageBatch(probe.after_key(i), chain[i].received, chain[i].emitted);
  }
  probe.RecordOperatorBatchTime(elapsed, results.size());
  if (!ctx_.on_span) return Status::OK();
  for (size_t i = 0; i < chain.size(); ++i) {
    ctx_.on_span(StageSpan{probe.stages()[probe.after_key(i)].name, -1, batch_number_,
                           chain[i].received, chain[i].emitted,
                           i == 0 ? Milliseconds(elapsed) : 0});
  }
  return Status::OK();
}

// Records late for all of their windows: counted, and written in input order to the late
// output when there is one.
Status SinkStage::HandleLate(std::vector<KeyedRecord> late) {
  if (late.empty()) return Status::OK();
  std::sort(late.begin(), late.end(), [](const KeyedRecord& a, const KeyedRecord& b) {
    return a.sequence < b.sequence;
  });
  bad_records_.Count(BadReason::kLate, late.size());
  if (late_output_ == nullptr) return Status::OK();
  late_text_.clear();
  for (const KeyedRecord& r : late) {
    AppendJson(r.record.value, &late_text_);
    late_text_ += '\n';
  }
  return late_output_->Append(late_text_).WithContext("late output");
}

// Write the batch, advance the sink's watermark, commit the checkpoint that follows the batch.
Status SinkStage::Deliver(Batch& batch) {
  const Clock::TimePoint write_start = ctx_.clock.Now();
  if (!batch.records.empty()) {
    PULSE_RETURN_IF_ERROR(sink_.Write(batch.records).WithContext("sink"));
  }
  const Clock::Duration write_time = ctx_.clock.Now() - write_start;
  RunProbe& probe = ctx_.probe;
  probe.RecordStageBatch(probe.sink(), batch.records.size(), 0);
  probe.RecordSinkBatchTime(write_time, batch.records.size());
  if (ctx_.on_span) {
    ctx_.on_span(StageSpan{probe.stages()[probe.sink()].name, -1, batch_number_,
                           batch.records.size(), 0, Milliseconds(write_time)});
  }
  PULSE_RETURN_IF_ERROR(sink_.OnWatermark(batch.watermark).WithContext("sink"));
  ctx_.state.sink_watermark.store(batch.watermark, std::memory_order_relaxed);
  if (batch.barrier) {
    std::shared_ptr<Barrier> barrier = std::move(batch.barrier);
    PULSE_RETURN_IF_ERROR(checkpoints_->Finish(*barrier));
  }
  return Status::OK();
}

}  // namespace pulse::internal
