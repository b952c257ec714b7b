// SPDX-License-Identifier: MIT
// SourceStage: read, stamp watermarks, run the operators before the key, route by key group.
#include "core/source_stage.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "core/checkpoint_coordinator.h"
#include "core/run_probe.h"
#include "pulse/core/json.h"
#include "pulse/core/key_group.h"

namespace pulse::internal {

Value KeyExtractor::Of(const Record& record) const {
  if (!field) return selector(record);
  const Value* v = record.value.Find(*field);
  return v != nullptr ? *v : Value();
}

SourceStage::SourceStage(Source& source, OperatorChain& before_key, const KeyExtractor* key,
                         BadRecordHandler& bad_records, CheckpointCoordinator* checkpoints,
                         const StageContext& ctx, SourceStageOptions options)
    : source_(source),
      before_key_(before_key),
      key_(key),
      bad_records_(bad_records),
      checkpoints_(checkpoints),
      ctx_(ctx),
      options_(std::move(options)),
      watermark_(options_.start_watermark),
      event_watermark_(options_.start_watermark) {
  batch_.routed.resize(ctx.channels.workers());
}

Status SourceStage::Run(const std::atomic<bool>& stop) {
  bool more = true;
  last_arrival_ = ctx_.clock.Now();  // the idle clock starts when reading does
  while (more && !ctx_.errors.failed()) {
    batch_.read.clear();
    batch_.marks.clear();
    const Clock::TimePoint read_start = ctx_.clock.Now();
    Result<bool> r = source_.Read(std::max<size_t>(1, options_.batch_size), &batch_.read);
    if (!r.ok()) return r.status().WithContext("source");
    more = *r;
    source_.TakeWatermarks(&batch_.marks);
    if (!batch_.read.empty()) {
      last_arrival_ = ctx_.clock.Now();
      ctx_.state.source_idle.store(false, std::memory_order_relaxed);
    }
    const bool checkpoint_due = checkpoints_ != nullptr && checkpoints_->Due(false);
    const bool idle_advanced = batch_.read.empty() && more && AdvanceIdle();
    if (batch_.read.empty() && batch_.marks.empty() && more && !checkpoint_due &&
        !idle_advanced) {
      continue;
    }
    const Clock::TimePoint process_start = ctx_.clock.Now();
    PULSE_RETURN_IF_ERROR(Process());
    ReportBatch(process_start - read_start, ctx_.clock.Now() - process_start);
    PULSE_ASSIGN_OR_RETURN(const bool open, Emit(more, !more && stop.load()));
    if (!open) return Status::OK();
  }
  return Status::OK();
}

// The records of batch_.read: watermarks, operators, keys.
Status SourceStage::Process() {
  before_key_.ResetCounts();
  batch_.keyed_in = 0;
  batch_.keyed_out = 0;
  const std::vector<SourceWatermark>& marks = batch_.marks;
  size_t next_mark = 0;
  for (size_t index = 0; index < batch_.read.size(); ++index) {
    Record& record = batch_.read[index];
    for (; next_mark < marks.size() && marks[next_mark].index <= index; ++next_mark) {
      event_watermark_ = std::max(event_watermark_, marks[next_mark].watermark);
      watermark_ = std::max(watermark_, event_watermark_);
    }
    const EventTime before = watermark_;
    newest_event_ = std::max(newest_event_, record.time);
    if (options_.max_out_of_orderness) {
      event_watermark_ =
          std::max(event_watermark_, record.time - *options_.max_out_of_orderness);
      watermark_ = std::max(watermark_, event_watermark_);
    }
    batch_.transformed.clear();
    PULSE_RETURN_IF_ERROR(before_key_.Process(std::move(record), &batch_.transformed));
    for (Record& out : batch_.transformed) Route(std::move(out), before);
    ++sequence_;
  }
  for (; next_mark < marks.size(); ++next_mark) {
    event_watermark_ = std::max(event_watermark_, marks[next_mark].watermark);
    watermark_ = std::max(watermark_, event_watermark_);
  }
  return Status::OK();
}

// The idle rule (options_.idle_timeout): after a Read without records, raise W with the
// processing time since the last record once that exceeds the timeout. Returns whether W rose.
bool SourceStage::AdvanceIdle() {
  if (!options_.idle_timeout || event_watermark_ == kMinWatermark) return false;
  const Clock::Duration quiet = ctx_.clock.Now() - last_arrival_;
  if (quiet < std::chrono::milliseconds(*options_.idle_timeout)) return false;
  ctx_.state.source_idle.store(true, std::memory_order_relaxed);
  const auto quiet_ms = std::chrono::duration_cast<std::chrono::milliseconds>(quiet).count();
  // Saturating: W stays below +∞, which only the end of the input reaches.
  const EventTime idle = quiet_ms >= kMaxWatermark - 1 - event_watermark_
                             ? kMaxWatermark - 1
                             : event_watermark_ + static_cast<EventTime>(quiet_ms);
  if (idle <= watermark_) return false;
  watermark_ = idle;
  return true;
}

// One output of the operators: to the sink's batch, or keyed to its worker's.
void SourceStage::Route(Record record, EventTime before) {
  if (key_ == nullptr) {
    batch_.plain.push_back(std::move(record));
    return;
  }
  ++batch_.keyed_in;
  if (options_.channel_bound > 0 &&
      ctx_.state.in_flight.load(std::memory_order_relaxed) >= options_.channel_bound) {
    bad_records_.Count(BadReason::kChannelFull);
    return;
  }
  KeyedRecord kr;
  kr.watermark = before;
  kr.sequence = sequence_;
  kr.key_value = key_->Of(record);
  batch_.key_text.clear();
  AppendJson(kr.key_value, &batch_.key_text);
  kr.key = batch_.key_text;
  kr.record = std::move(record);
  min_time_ = std::min(min_time_, kr.record.time);
  max_time_ = std::max(max_time_, kr.record.time);
  const uint32_t worker = WorkerOfKeyGroup(KeyGroupOf(KeyHash(kr.key)), ctx_.channels.workers());
  batch_.routed[worker].push_back(std::move(kr));
  ctx_.state.in_flight.fetch_add(1, std::memory_order_relaxed);
  ++batch_.keyed_out;
}

// Metrics and debug spans for one batch: the source, the operators before the key and the key
// by (whose time includes the operators').
void SourceStage::ReportBatch(Clock::Duration read_time, Clock::Duration process_time) {
  RunProbe& probe = ctx_.probe;
  const bool keyed = key_ != nullptr;
  const std::vector<ChainCount>& chain = before_key_.counts();
  const uint64_t read = batch_.read.size();
  ++batch_number_;
  probe.RecordStageBatch(probe.source(), 0, read);
  for (size_t i = 0; i < chain.size(); ++i) {
    probe.RecordStageBatch(probe.before_key(i), chain[i].received, chain[i].emitted);
  }
  if (keyed) probe.RecordStageBatch(probe.key_by(), batch_.keyed_in, batch_.keyed_out);
  if (keyed || !chain.empty()) probe.RecordOperatorBatchTime(process_time, read);
  if (!ctx_.on_span) return;
  ctx_.on_span(StageSpan{probe.stages()[probe.source()].name, -1, batch_number_, 0, read,
                         Milliseconds(read_time)});
  for (size_t i = 0; i < chain.size(); ++i) {
    const bool timed = i == 0 && !keyed;
    ctx_.on_span(StageSpan{probe.stages()[probe.before_key(i)].name, -1, batch_number_,
                           chain[i].received, chain[i].emitted,
                           timed ? Milliseconds(process_time) : 0});
  }
  if (keyed) {
    ctx_.on_span(StageSpan{probe.stages()[probe.key_by()].name, -1, batch_number_,
                           batch_.keyed_in, batch_.keyed_out, Milliseconds(process_time)});
  }
}

// Hand the processed batch on, with a checkpoint barrier when one is due. `more`: the source
// may deliver more; `stopped`: it ended because of the stop flag. Returns false when a queue
// closed (the run is ending).
Result<bool> SourceStage::Emit(bool more, bool stopped) {
  if (!more) ctx_.state.stopped.store(stopped);
  const bool ends = !more && (!stopped || options_.on_stop == StopMode::kDrain);
  const EventTime batch_watermark = ends ? kMaxWatermark : watermark_;
  ctx_.state.source_watermark.store(batch_watermark, std::memory_order_relaxed);
  ctx_.state.newest_event.store(newest_event_, std::memory_order_relaxed);
  std::shared_ptr<Barrier> barrier;
  if (checkpoints_ != nullptr && checkpoints_->Due(!more)) {
    PULSE_ASSIGN_OR_RETURN(barrier, checkpoints_->Begin(batch_watermark));
  }
  if (key_ != nullptr) return EmitKeyed(more, ends, batch_watermark, std::move(barrier));
  PlainBatch plain;
  plain.records = std::move(batch_.plain);
  batch_.plain.clear();
  plain.watermark = batch_watermark;
  plain.last = !more;
  plain.barrier = std::move(barrier);
  ctx_.state.in_flight.fetch_add(plain.records.size(), std::memory_order_relaxed);
  return ctx_.channels.plain().Push(std::move(plain));
}

// Every worker gets the batch (maybe empty). At the end of a finite input (`ends`: W goes to
// +∞) with records routed, the batch keeps W and the steps of Drain follow.
bool SourceStage::EmitKeyed(bool more, bool ends, EventTime batch_watermark,
                            std::shared_ptr<Barrier> barrier) {
  const bool drain = ends && min_time_ <= max_time_ && options_.end_of_input_steps > 0;
  for (uint32_t i = 0; i < ctx_.channels.workers(); ++i) {
    WorkerTask task;
    task.records = std::move(batch_.routed[i]);
    batch_.routed[i].clear();
    task.watermark = drain ? watermark_ : batch_watermark;
    task.last = !more && !drain;
    task.barrier = drain ? nullptr : barrier;
    if (!ctx_.channels.to_worker(i).Push(std::move(task))) return false;
  }
  if (drain) Drain(std::max(watermark_, min_time_), max_time_, std::move(barrier));
  return true;
}

// At the end of the input, close the open windows in options_.end_of_input_steps watermark
// steps from `from` to `to` (the smallest and largest event time still open), then the final
// step to the largest watermark, instead of in one jump. Results come out in the same order
// (each step's windows end before the next step's), but a pipeline that had no watermark until
// the end holds one step's results at a time rather than all of them.
void SourceStage::Drain(EventTime from, EventTime to, std::shared_ptr<Barrier> barrier) {
  const uint64_t steps = options_.end_of_input_steps;
  const uint64_t span = to > from ? static_cast<uint64_t>(to) - static_cast<uint64_t>(from) : 0;
  for (uint64_t step = 1; step <= steps && span > 0; ++step) {
    if (!PushWatermark(from + static_cast<EventTime>(span / steps * step), false, nullptr)) {
      return;
    }
  }
  PushWatermark(kMaxWatermark, true, std::move(barrier));
}

// Send every worker an empty batch that advances the watermark to `watermark`. False when the
// run is shutting down (a queue closed).
bool SourceStage::PushWatermark(EventTime watermark, bool last,
                                const std::shared_ptr<Barrier>& barrier) {
  ctx_.state.source_watermark.store(watermark, std::memory_order_relaxed);
  for (uint32_t i = 0; i < ctx_.channels.workers(); ++i) {
    WorkerTask task;
    task.watermark = watermark;
    task.last = last;
    task.barrier = barrier;
    if (!ctx_.channels.to_worker(i).Push(std::move(task))) return false;
  }
  return true;
}

}  // namespace pulse::internal
