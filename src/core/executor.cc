// SPDX-License-Identifier: MIT
// The executor: a source thread, N keyed worker threads and a sink thread joined by bounded
// queues (see docs/architecture.md).
//
// Source thread: reads a batch, gives each record the watermark W in effect before it, runs the
// stateless operators, extracts the key and routes each record to the worker owning its key
// group. Every batch goes to every worker (possibly empty) with the watermark after it, so all
// workers advance together. Worker: feeds its records to its keyed operator instance, then
// advances the watermark. Sink thread: takes batch k's outputs from every worker, sorts the
// results by their order key and late records by sequence, and writes them. Since a result is
// released exactly when W ≥ its order, and W only grows, this gives one global order that does
// not depend on the worker count or the batch size.
#include "pulse/core/executor.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/blocking_queue.h"
#include "core/checkpoint_store.h"
#include "core/output_file.h"
#include "core/run_probe.h"
#include "pulse/core/json.h"
#include "pulse/core/key_group.h"
#include "pulse/metrics/registry.h"

namespace pulse {
namespace {

using internal::BlockingQueue;
using Clock = std::chrono::steady_clock;

double Milliseconds(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

/// The results of several workers in output order. Each worker's results are nearly always
/// sorted already (windows close in order, keys sorted within a window), so each run is checked
/// and sorted only if needed, then the runs are merged pairwise: O(n log workers) moves instead of
/// sorting everything. Equal results cannot come from two workers (a key lives in one), and the
/// merge is stable anyway, so the order does not depend on timing.
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

/// How often Sink::Tick() runs.
constexpr std::chrono::milliseconds kTickInterval{1000};

/// Checkpoint durations (ms) for the histogram.
constexpr std::array<double, 10> kCheckpointBucketsMs = {1,   5,    10,   50,   100,
                                                         500, 1000, 5000, 10000, 60000};

/// A checkpoint in flight: it travels with the batch after which it is taken, from the source
/// thread (which begins it and records the source position) through every worker (each
/// snapshots its state into its slot) to the sink thread (which commits it). The queues order
/// these accesses.
struct Barrier {
  std::unique_ptr<internal::PendingCheckpoint> pending;
  Value source_position;
  Value dead_letters;  // the dead-letter file's commit information
  EventTime watermark = kMinWatermark;
  Clock::time_point started;
  std::vector<Status> snapshots;                   // per worker
  std::vector<internal::CheckpointState> states;  // per worker
};

struct WorkerTask {
  std::vector<KeyedRecord> records;
  EventTime watermark = kMinWatermark;  // W after the batch
  bool last = false;
  std::shared_ptr<Barrier> barrier;  // a checkpoint after this batch
};

struct WorkerOutput {
  KeyedOutput output;
  EventTime watermark = kMinWatermark;
  bool last = false;
  std::shared_ptr<Barrier> barrier;
};

struct PlainBatch {
  std::vector<Record> records;
  EventTime watermark = kMinWatermark;
  bool last = false;
  std::shared_ptr<Barrier> barrier;
};

/// Collects operator outputs for the record being processed.
class VectorCollector final : public Collector {
 public:
  explicit VectorCollector(std::vector<Record>* out) : out_(out) {}
  void Emit(Record record) override { out_->push_back(std::move(record)); }

 private:
  std::vector<Record>* out_;
};

/// What one operator of a chain received and emitted in the current batch (for metrics).
struct ChainCount {
  uint64_t received = 0;
  uint64_t emitted = 0;
};

/// Run `record` through `ops` in order, appending the final outputs to `out` and counting
/// each operator's inputs and outputs in `counts` (one entry per operator).
Status RunChain(std::vector<std::unique_ptr<Operator>>& ops, size_t first, Record record,
                std::vector<Record>* out, std::vector<ChainCount>& counts) {
  if (first == ops.size()) {
    out->push_back(std::move(record));
    return Status::OK();
  }
  std::vector<Record> produced;
  VectorCollector collector(&produced);
  PULSE_RETURN_IF_ERROR(ops[first]->Process(std::move(record), collector));
  ++counts[first].received;
  counts[first].emitted += produced.size();
  for (Record& r : produced) {
    PULSE_RETURN_IF_ERROR(RunChain(ops, first + 1, std::move(r), out, counts));
  }
  return Status::OK();
}

class Execution {
 public:
  Execution(Pipeline::Parts& parts, const RunOptions& options)
      : parts_(parts),
        options_(options),
        env_(options.env != nullptr ? options.env : &Env::Default()) {}

  Result<RunProgress> Run() {
    start_ = Clock::now();
    metrics::Registry* registry = options_.metrics;
    if (registry == nullptr) {
      own_registry_ = std::make_unique<metrics::Registry>();
      registry = own_registry_.get();
    }
    probe_ = std::make_unique<internal::RunProbe>(*registry, internal::StagesOf(parts_));
    PULSE_ASSIGN_OR_RETURN(bad_, BadRecordHandler::Open(parts_.bad_records));
    if (!parts_.late_output_path.empty()) {
      PULSE_ASSIGN_OR_RETURN(late_file_, internal::OutputFile::Create(parts_.late_output_path));
    }
    keyed_ = parts_.keyed != nullptr;
    if (keyed_) {
      int n = options_.workers > 0 ? options_.workers
                                   : static_cast<int>(std::thread::hardware_concurrency());
      workers_ = static_cast<uint32_t>(std::clamp(n, 1, static_cast<int>(kMaxKeyGroups)));
    }
    batch_size_ = std::max<size_t>(1, options_.batch_size);
    SetProjection();
    checkpointing_ = !options_.checkpoint.dir.empty();
    if (checkpointing_) PULSE_RETURN_IF_ERROR(PrepareCheckpoints(*registry));

    SourceContext ctx{bad_.get(), &source_counters_, options_.stop ? options_.stop : &no_stop_,
                      static_cast<int>(std::max<uint32_t>(workers_, 1))};
    if (parts_.source->GeneratesWatermarks()) {
      ctx.max_out_of_orderness = parts_.watermarks.max_out_of_orderness;
    }
    ctx.metrics = registry;
    ctx.env = env_;
    Status open = parts_.source->Open(ctx);
    if (!open.ok()) return open.WithContext("source");
    open = parts_.sink->Open(
        SinkContext{&sink_counters_, registry, options_.checkpoint.on_warning, env_});
    if (!open.ok()) {
      (void)parts_.source->Close();
      return open.WithContext("sink");
    }
    if (checkpointing_) {
      Status recovered = RecoverOutputs();
      if (!recovered.ok()) {
        (void)parts_.source->Close();
        (void)SuspendOutputs();  // the recovery error is the one to report
        return recovered;
      }
    }

    for (uint32_t i = 0; i < workers_; ++i) {
      worker_in_.push_back(std::make_unique<BlockingQueue<WorkerTask>>(options_.queue_capacity));
      worker_out_.push_back(
          std::make_unique<BlockingQueue<WorkerOutput>>(options_.queue_capacity));
      worker_open_windows_.push_back(std::make_unique<std::atomic<uint64_t>>(0));
      worker_state_entries_.push_back(std::make_unique<std::atomic<uint64_t>>(0));
      worker_watermarks_.push_back(std::make_unique<std::atomic<EventTime>>(kMinWatermark));
    }
    // From here on a collection (e.g. an HTTP scrape) may sample the run's state; the last
    // sample is taken when Run() returns, after the sink's Close().
    probe_->StartSampling([this] { return SampleState(); });
    struct SamplingGuard {
      internal::RunProbe& probe;
      ~SamplingGuard() { probe.StopSampling(); }
    } sampling_guard{*probe_};
    std::vector<std::thread> threads;
    threads.emplace_back([this] { Check(SourceLoop(ctx_stop())); });
    for (uint32_t i = 0; i < workers_; ++i) {
      threads.emplace_back([this, i] { Check(WorkerLoop(i)); });
    }
    threads.emplace_back([this] { Check(SinkLoop()); });
    std::thread monitor;
    if (options_.on_progress) monitor = std::thread([this] { MonitorLoop(); });

    for (std::thread& t : threads) t.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    done_cv_.notify_all();
    if (monitor.joinable()) monitor.join();

    Status source_close = parts_.source->Close();
    Status error = FirstError();
    if (error.ok()) error = source_close;
    if (error.ok() && checkpointing_ && stopped_.load()) {
      // Stopped early: the final checkpoint covers everything; the next run continues.
      error = SuspendOutputs();
    } else {
      if (error.ok()) error = bad_->Close();
      if (error.ok() && late_file_) error = late_file_->Commit();
      if (error.ok()) error = parts_.sink->Close().WithContext("sink");
    }
    if (!error.ok()) {
      if (checkpointing_) {
        (void)SuspendOutputs();  // the next run cuts them back to the last checkpoint
      } else {
        parts_.sink->Abort();
        if (late_file_) late_file_->Abort();
      }
      return error;
    }
    RunProgress final_progress = Snapshot();
    if (options_.on_progress) options_.on_progress(final_progress);
    return final_progress;
  }

 private:
  const std::atomic<bool>& ctx_stop() const { return options_.stop ? *options_.stop : no_stop_; }

  // Only the fields that the key and the keyed operator read need to leave the source, unless
  // user code may look at the whole record.
  void SetProjection() {
    if (!keyed_ || !parts_.before_key.empty() || !parts_.late_output_path.empty()) return;
    std::vector<std::string> fields;
    if (parts_.key_field) {
      fields.push_back(*parts_.key_field);
    } else if (parts_.key_selector_fields.empty()) {
      return;
    } else {
      fields = parts_.key_selector_fields;
    }
    for (std::string& f : parts_.keyed->InputFields()) {
      if (f == "*") return;
      fields.push_back(std::move(f));
    }
    parts_.source->SetProjection(std::move(fields));
  }

  void Check(Status status) {
    if (status.ok()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (first_error_.ok()) first_error_ = std::move(status);
    }
    failed_.store(true);
    plain_queue_.Close();
    for (auto& q : worker_in_) q->Close();
    for (auto& q : worker_out_) q->Close();
  }

  Status FirstError() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_error_;
  }

  // --- Checkpoints -----------------------------------------------------------------------

  // Check that every stage can be checkpointed, open the store and load the checkpoint to
  // resume from (unless fresh), then position the source.
  Status PrepareCheckpoints(metrics::Registry& registry) {
    const CheckpointOptions& opts = options_.checkpoint;
    if (!parts_.source->SupportsCheckpoints()) {
      return Status::InvalidArgument(parts_.source->Describe() +
                                     " cannot be checkpointed (standard input cannot be read "
                                     "again after a restart)");
    }
    if (!parts_.sink->SupportsCheckpoints()) {
      return Status::InvalidArgument(
          parts_.sink->Describe() +
          " cannot be checkpointed (what it wrote cannot be taken back after a crash; write to "
          "a file)");
    }
    if (opts.interval_ms <= 0) {
      return Status::InvalidArgument("checkpoint interval must be greater than 0");
    }
    fingerprint_ = internal::PipelineFingerprint::Of(opts.fingerprint);
    PULSE_ASSIGN_OR_RETURN(store_, internal::CheckpointStore::Open({opts.dir, opts.keep}));
    if (!opts.fresh) {
      PULSE_ASSIGN_OR_RETURN(internal::CheckpointLoad load, store_->LoadLatest(fingerprint_));
      if (opts.on_warning) {
        for (const std::string& w : load.warnings) opts.on_warning(w);
      }
      resume_ = std::move(load.checkpoint);
    }
    if (resume_) {
      const internal::CheckpointManifest& m = resume_->manifest;
      const Value* position = FindMember(m.sources, "source");
      if (position == nullptr) {
        return Status::Corruption(fmt::format("checkpoint {} has no source position", m.id));
      }
      PULSE_RETURN_IF_ERROR(parts_.source->Seek(*position).WithContext(
          fmt::format("resuming from checkpoint {}", m.id)));
      start_watermark_ = m.watermark;
      source_watermark_.store(start_watermark_, std::memory_order_relaxed);  // known at once
    }
    checkpoints_total_ = &registry.GetCounter("pulse_checkpoints_total",
                                              "Checkpoints committed by this run.");
    checkpoint_failures_ = &registry.GetCounter("pulse_checkpoint_failures_total",
                                                "Checkpoints that failed (the run stops).");
    checkpoint_duration_ = &registry.GetHistogram(
        "pulse_checkpoint_duration_ms",
        "Time from the barrier leaving the source to the checkpoint's commit.",
        kCheckpointBucketsMs);
    checkpoint_size_ = &registry.GetGauge("pulse_checkpoint_size_bytes",
                                          "Bytes in the last committed checkpoint.");
    checkpoint_age_ = &registry.GetGauge(
        "pulse_checkpoint_age_seconds",
        "Seconds since the last checkpoint was committed (since the start before the first).");
    next_checkpoint_ = Clock::now() + std::chrono::milliseconds(opts.interval_ms);
    last_checkpoint_done_.store(Clock::now().time_since_epoch().count());
    return Status::OK();
  }

  static const Value* FindMember(const Object& object, std::string_view name) {
    for (const auto& [key, value] : object) {
      if (key == name) return &value;
    }
    return nullptr;
  }

  // Continue (or, fresh, clean up) the in-progress outputs: sink, dead letters, late output.
  Status RecoverOutputs() {
    const internal::CheckpointManifest* m = resume_ ? &resume_->manifest : nullptr;
    auto info = [&](std::string_view name) -> const Value* {
      if (m == nullptr) return nullptr;
      const Value* v = FindMember(m->sinks, name);
      return v != nullptr && !v->is_null() ? v : nullptr;
    };
    PULSE_RETURN_IF_ERROR(parts_.sink->Recover(info("sink")).WithContext("sink"));
    PULSE_RETURN_IF_ERROR(bad_->Recover(info("dead_letters")));
    if (late_file_) {
      PULSE_RETURN_IF_ERROR(late_file_->Recover(info("late_output")).WithContext("late output"));
    }
    return Status::OK();
  }

  // Close the outputs without publishing them (see Sink::Suspend).
  Status SuspendOutputs() {
    Status st = parts_.sink->Suspend().WithContext("sink");
    Status dead = bad_->Suspend();
    if (st.ok()) st = dead;
    if (late_file_) {
      Status late = late_file_->Suspend();
      if (st.ok()) st = late.WithContext("late output");
    }
    return st;
  }

  // Whether the source thread should put a barrier after the current batch.
  bool CheckpointDue(bool last) const {
    if (!checkpointing_) return false;
    if (last) return true;
    return !checkpoint_in_flight_.load() && Clock::now() >= next_checkpoint_;
  }

  // On the source thread: begin the checkpoint that follows the current batch.
  Result<std::shared_ptr<Barrier>> BeginCheckpoint(EventTime watermark) {
    auto barrier = std::make_shared<Barrier>();
    barrier->started = Clock::now();
    {
      std::lock_guard<std::mutex> lock(store_mu_);
      PULSE_ASSIGN_OR_RETURN(barrier->pending, store_->Begin(store_->NextId()));
    }
    Result<Value> position = parts_.source->Position();
    if (!position.ok()) return position.status().WithContext("source position");
    barrier->source_position = std::move(position).value();
    PULSE_ASSIGN_OR_RETURN(barrier->dead_letters, bad_->PrepareCommit());
    barrier->watermark = watermark;
    barrier->snapshots.resize(workers_);
    barrier->states.resize(workers_);
    checkpoint_in_flight_.store(true);
    next_checkpoint_ = Clock::now() + std::chrono::milliseconds(options_.checkpoint.interval_ms);
    return barrier;
  }

  // On a worker thread, after the barrier's batch: snapshot the operator's key groups.
  void SnapshotWorker(uint32_t index, KeyedOperator& op, Barrier& barrier) {
    const KeyGroupRange range = KeyGroupRange::ForWorker(index, workers_);
    internal::CheckpointState state{op.name(), range,
                                    internal::CheckpointState::DirFor(op.name(), range)};
    barrier.snapshots[index] = op.SnapshotState(barrier.pending->dir() + "/" + state.dir);
    barrier.states[index] = std::move(state);
  }

  // On the sink thread, after the barrier's batch is written: prepare the outputs, commit the
  // checkpoint, then publish what it covers.
  Status FinishCheckpoint(Barrier& barrier) {
    const uint64_t id = barrier.pending->id();
    Status st = CommitCheckpoint(barrier);
    if (!st.ok()) {
      checkpoint_failures_->Increment();
      std::lock_guard<std::mutex> lock(store_mu_);
      barrier.pending->Abort();
      return st.WithContext(fmt::format("checkpoint {}", id));
    }
    return Status::OK();
  }

  Status CommitCheckpoint(Barrier& barrier) {
    for (Status& snapshot : barrier.snapshots) {
      PULSE_RETURN_IF_ERROR(snapshot.WithContext("state snapshot"));
    }
    const uint64_t id = barrier.pending->id();
    internal::CheckpointManifest manifest;
    manifest.fingerprint = fingerprint_;
    manifest.watermark = barrier.watermark;
    manifest.created_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    manifest.sources.emplace_back("source", barrier.source_position);
    Result<Value> sink_info = parts_.sink->PrepareCommit(id);
    if (!sink_info.ok()) return sink_info.status().WithContext("sink");
    manifest.sinks.emplace_back("sink", std::move(sink_info).value());
    manifest.sinks.emplace_back("dead_letters", barrier.dead_letters);
    Value late_info;
    if (late_file_) {
      Result<Value> info = late_file_->PrepareCommit();
      if (!info.ok()) return info.status().WithContext("late output");
      late_info = std::move(info).value();
    }
    manifest.sinks.emplace_back("late_output", std::move(late_info));
    manifest.state = barrier.states;
    internal::CheckpointManifest written;
    {
      std::lock_guard<std::mutex> lock(store_mu_);
      PULSE_ASSIGN_OR_RETURN(written, barrier.pending->Commit(std::move(manifest)));
    }
    PULSE_RETURN_IF_ERROR(parts_.sink->Commit(id).WithContext("sink commit"));
    PULSE_RETURN_IF_ERROR(parts_.source->OnCheckpointCommitted(barrier.source_position)
                              .WithContext("source"));
    uint64_t bytes = 0;
    for (const internal::CheckpointFile& f : written.files) bytes += f.bytes;
    checkpoints_total_->Increment();
    checkpoint_size_->Set(static_cast<double>(bytes));
    checkpoint_duration_->Observe(Milliseconds(Clock::now() - barrier.started));
    last_checkpoint_done_.store(Clock::now().time_since_epoch().count());
    checkpoints_.fetch_add(1);
    checkpoint_in_flight_.store(false);
    return Status::OK();
  }

  // --- The stages ------------------------------------------------------------------------

  Status SourceLoop(const std::atomic<bool>& stop) {
    EventTime watermark = start_watermark_;
    uint64_t sequence = 0;
    const std::optional<DurationMs> bound =
        parts_.source->GeneratesWatermarks() ? std::nullopt : parts_.watermarks.max_out_of_orderness;
    std::vector<Record> read;
    std::vector<SourceWatermark> marks;
    std::vector<Record> transformed;
    std::vector<std::vector<KeyedRecord>> routed(workers_);
    std::string key_text;
    std::vector<ChainCount> chain_counts(parts_.before_key.size());
    uint64_t batch_number = 0;
    EventTime min_time = kMaxWatermark;  // of the records routed to the workers
    EventTime max_time = kMinWatermark;
    bool more = true;
    while (more && !failed_.load()) {
      read.clear();
      const Clock::time_point read_start = Clock::now();
      Result<bool> r = parts_.source->Read(batch_size_, &read);
      if (!r.ok()) return r.status().WithContext("source");
      more = *r;
      marks.clear();
      parts_.source->TakeWatermarks(&marks);
      if (read.empty() && marks.empty() && more && !CheckpointDue(false)) continue;
      const Clock::time_point process_start = Clock::now();
      std::fill(chain_counts.begin(), chain_counts.end(), ChainCount{});
      uint64_t keyed_in = 0;   // records that reached the key
      uint64_t keyed_out = 0;  // records routed to a worker
      PlainBatch plain;
      size_t next_mark = 0;
      for (size_t index = 0; index < read.size(); ++index) {
        Record& record = read[index];
        for (; next_mark < marks.size() && marks[next_mark].index <= index; ++next_mark) {
          watermark = std::max(watermark, marks[next_mark].watermark);
        }
        const EventTime before = watermark;
        if (bound) watermark = std::max(watermark, record.time - *bound);
        transformed.clear();
        PULSE_RETURN_IF_ERROR(
            RunChain(parts_.before_key, 0, std::move(record), &transformed, chain_counts));
        for (Record& out : transformed) {
          if (!keyed_) {
            plain.records.push_back(std::move(out));
            continue;
          }
          ++keyed_in;
          if (options_.channel_bound > 0 &&
              in_flight_.load(std::memory_order_relaxed) >= options_.channel_bound) {
            bad_->Count(BadReason::kChannelFull);
            continue;
          }
          KeyedRecord kr;
          kr.watermark = before;
          kr.sequence = sequence;
          if (parts_.key_field) {
            const Value* v = out.value.Find(*parts_.key_field);
            if (v != nullptr) kr.key_value = *v;
          } else {
            kr.key_value = parts_.key_selector(out);
          }
          key_text.clear();
          AppendJson(kr.key_value, &key_text);
          kr.key = key_text;
          kr.record = std::move(out);
          min_time = std::min(min_time, kr.record.time);
          max_time = std::max(max_time, kr.record.time);
          uint32_t w = WorkerOfKeyGroup(KeyGroupOf(KeyHash(kr.key)), workers_);
          routed[w].push_back(std::move(kr));
          in_flight_.fetch_add(1, std::memory_order_relaxed);
          ++keyed_out;
        }
        ++sequence;
      }
      RecordSourceBatch(++batch_number, read.size(), chain_counts, keyed_in, keyed_out,
                        process_start - read_start, Clock::now() - process_start);
      for (; next_mark < marks.size(); ++next_mark) {
        watermark = std::max(watermark, marks[next_mark].watermark);
      }
      const bool stopped = !more && stop.load();
      if (!more) stopped_ = stopped;
      const EventTime batch_watermark = (!more && !stopped) ? kMaxWatermark : watermark;
      source_watermark_.store(batch_watermark, std::memory_order_relaxed);
      std::shared_ptr<Barrier> barrier;
      if (CheckpointDue(!more)) {
        PULSE_ASSIGN_OR_RETURN(barrier, BeginCheckpoint(batch_watermark));
      }
      if (!keyed_) {
        plain.watermark = batch_watermark;
        plain.last = !more;
        plain.barrier = std::move(barrier);
        in_flight_.fetch_add(plain.records.size(), std::memory_order_relaxed);
        if (!plain_queue_.Push(std::move(plain))) return Status::OK();
        continue;
      }
      const bool drain =
          !more && !stopped && min_time <= max_time && options_.end_of_input_steps > 0;
      for (uint32_t i = 0; i < workers_; ++i) {
        WorkerTask task;
        task.records = std::move(routed[i]);
        routed[i].clear();
        task.watermark = drain ? watermark : batch_watermark;
        task.last = !more && !drain;
        task.barrier = drain ? nullptr : barrier;
        if (!worker_in_[i]->Push(std::move(task))) return Status::OK();
      }
      if (drain) {
        PULSE_RETURN_IF_ERROR(Drain(std::max(watermark, min_time), max_time, std::move(barrier)));
      }
    }
    return Status::OK();
  }

  // At the end of the input, close the open windows in options_.end_of_input_steps watermark
  // steps from `from` to `to` (the smallest and largest event time still open), then the final
  // step to the largest watermark, instead of in one jump. Results come out in the same order
  // (each step's windows end before the next step's), but a pipeline that had no watermark until
  // the end holds one step's results at a time rather than all of them.
  Status Drain(EventTime from, EventTime to, std::shared_ptr<Barrier> barrier) {
    const uint64_t steps = options_.end_of_input_steps;
    const uint64_t span = to > from ? static_cast<uint64_t>(to) - static_cast<uint64_t>(from) : 0;
    for (uint64_t step = 1; step <= steps && span > 0; ++step) {
      if (!PushWatermark(from + static_cast<EventTime>(span / steps * step), false, nullptr)) {
        return Status::OK();
      }
    }
    PushWatermark(kMaxWatermark, true, std::move(barrier));
    return Status::OK();
  }

  // Sends every worker an empty batch that advances the watermark to `w`. False when the run is
  // shutting down (a queue closed).
  bool PushWatermark(EventTime w, bool last, const std::shared_ptr<Barrier>& barrier) {
    source_watermark_.store(w, std::memory_order_relaxed);
    for (uint32_t i = 0; i < workers_; ++i) {
      WorkerTask task;
      task.watermark = w;
      task.last = last;
      task.barrier = barrier;
      if (!worker_in_[i]->Push(std::move(task))) return false;
    }
    return true;
  }

  // Metrics and debug spans for one batch of the source thread: the source, the operators
  // before the key and the key by (whose time includes the operators').
  void RecordSourceBatch(uint64_t batch, uint64_t read, const std::vector<ChainCount>& chain,
                         uint64_t keyed_in, uint64_t keyed_out, Clock::duration read_time,
                         Clock::duration process_time) {
    internal::RunProbe& probe = *probe_;
    probe.RecordStageBatch(probe.source(), 0, read);
    for (size_t i = 0; i < chain.size(); ++i) {
      probe.RecordStageBatch(probe.before_key(i), chain[i].received, chain[i].emitted);
    }
    if (keyed_) probe.RecordStageBatch(probe.key_by(), keyed_in, keyed_out);
    if (keyed_ || !chain.empty()) probe.RecordOperatorBatchTime(process_time, read);
    if (!options_.on_span) return;
    options_.on_span(StageSpan{probe.stages()[probe.source()].name, -1, batch, 0, read,
                               Milliseconds(read_time)});
    for (size_t i = 0; i < chain.size(); ++i) {
      const bool timed = i == 0 && !keyed_;
      options_.on_span(StageSpan{probe.stages()[probe.before_key(i)].name, -1, batch,
                                 chain[i].received, chain[i].emitted,
                                 timed ? Milliseconds(process_time) : 0});
    }
    if (keyed_) {
      options_.on_span(StageSpan{probe.stages()[probe.key_by()].name, -1, batch, keyed_in,
                                 keyed_out, Milliseconds(process_time)});
    }
  }

  Status WorkerLoop(uint32_t index) {
    const KeyGroupRange range = KeyGroupRange::ForWorker(index, workers_);
    PULSE_ASSIGN_OR_RETURN(std::unique_ptr<KeyedOperator> op,
                           parts_.keyed->Make(KeyedOperatorContext{index, workers_, range}));
    if (resume_) {
      PULSE_RETURN_IF_ERROR(op->RestoreState(resume_->StateDirsFor(op->name(), range))
                                .WithContext(fmt::format("restoring checkpoint {}",
                                                         resume_->manifest.id)));
    }
    uint64_t batch_number = 0;
    while (std::optional<WorkerTask> task = worker_in_[index]->Pop()) {
      WorkerOutput out;
      const size_t n = task->records.size();
      const Clock::time_point start = Clock::now();
      for (KeyedRecord& r : task->records) {
        PULSE_RETURN_IF_ERROR(op->Process(std::move(r), &out.output));
      }
      PULSE_RETURN_IF_ERROR(op->AdvanceWatermark(task->watermark, &out.output));
      const Clock::duration elapsed = Clock::now() - start;
      in_flight_.fetch_sub(n, std::memory_order_relaxed);
      const KeyedOperatorStats stats = op->stats();
      worker_open_windows_[index]->store(stats.open_windows, std::memory_order_relaxed);
      worker_state_entries_[index]->store(stats.state_entries, std::memory_order_relaxed);
      worker_watermarks_[index]->store(task->watermark, std::memory_order_relaxed);
      probe_->RecordStageBatch(probe_->keyed(), n, out.output.results.size());
      probe_->RecordLateRecords(out.output.late.size());
      probe_->RecordOperatorBatchTime(elapsed, n);
      if (options_.on_span) {
        options_.on_span(StageSpan{probe_->stages()[probe_->keyed()].name,
                                   static_cast<int>(index), ++batch_number, n,
                                   out.output.results.size(), Milliseconds(elapsed)});
      }
      if (task->barrier) SnapshotWorker(index, *op, *task->barrier);
      out.watermark = task->watermark;
      out.last = task->last;
      out.barrier = std::move(task->barrier);
      if (!worker_out_[index]->Push(std::move(out))) return Status::OK();
      if (task->last) break;
    }
    return Status::OK();
  }

  // Pop from `queue`, calling the sink's Tick() every kTickInterval while waiting and between
  // batches. Returns nullopt when the queue is closed.
  template <typename T>
  Result<std::optional<T>> PopTicking(BlockingQueue<T>& queue) {
    while (true) {
      if (Clock::now() - last_tick_ >= kTickInterval) {
        last_tick_ = Clock::now();
        PULSE_RETURN_IF_ERROR(parts_.sink->Tick().WithContext("sink"));
      }
      bool timed_out = false;
      std::optional<T> item = queue.PopFor(kTickInterval, &timed_out);
      if (!timed_out) return item;
    }
  }

  Status SinkLoop() {
    std::vector<Record> batch;
    std::string late_text;
    std::vector<ChainCount> chain_counts(parts_.after_key.size());
    uint64_t batch_number = 0;
    while (true) {
      batch.clear();
      ++batch_number;
      EventTime watermark;
      bool last;
      std::shared_ptr<Barrier> barrier;
      if (!keyed_) {
        PULSE_ASSIGN_OR_RETURN(std::optional<PlainBatch> plain, PopTicking(plain_queue_));
        if (!plain) return Status::OK();
        batch = std::move(plain->records);
        in_flight_.fetch_sub(batch.size(), std::memory_order_relaxed);
        watermark = plain->watermark;
        last = plain->last;
        barrier = std::move(plain->barrier);
      } else {
        std::vector<std::vector<KeyedResult>> runs;
        std::vector<KeyedRecord> late;
        watermark = kMinWatermark;
        last = false;
        for (uint32_t i = 0; i < workers_; ++i) {
          PULSE_ASSIGN_OR_RETURN(std::optional<WorkerOutput> out, PopTicking(*worker_out_[i]));
          if (!out) return Status::OK();
          watermark = out->watermark;
          last = out->last;
          barrier = out->barrier;
          runs.push_back(std::move(out->output.results));
          auto& l = out->output.late;
          late.insert(late.end(), std::make_move_iterator(l.begin()),
                      std::make_move_iterator(l.end()));
        }
        std::vector<KeyedResult> results = MergeResults(std::move(runs));
        std::fill(chain_counts.begin(), chain_counts.end(), ChainCount{});
        const Clock::time_point chain_start = Clock::now();
        const size_t released = results.size();
        for (KeyedResult& r : results) {
          PULSE_RETURN_IF_ERROR(
              RunChain(parts_.after_key, 0, std::move(r.record), &batch, chain_counts));
        }
        if (!chain_counts.empty()) {
          RecordAfterKeyBatch(batch_number, chain_counts, released, Clock::now() - chain_start);
        }
        if (!late.empty()) {
          std::sort(late.begin(), late.end(), [](const KeyedRecord& a, const KeyedRecord& b) {
            return a.sequence < b.sequence;
          });
          bad_->Count(BadReason::kLate, late.size());
          if (late_file_) {
            late_text.clear();
            for (const KeyedRecord& r : late) {
              AppendJson(r.record.value, &late_text);
              late_text += '\n';
            }
            PULSE_RETURN_IF_ERROR(late_file_->Append(late_text).WithContext("late output"));
          }
        }
      }
      const Clock::time_point write_start = Clock::now();
      if (!batch.empty()) PULSE_RETURN_IF_ERROR(parts_.sink->Write(batch).WithContext("sink"));
      const Clock::duration write_time = Clock::now() - write_start;
      probe_->RecordStageBatch(probe_->sink(), batch.size(), 0);
      probe_->RecordSinkBatchTime(write_time, batch.size());
      if (options_.on_span) {
        options_.on_span(StageSpan{probe_->stages()[probe_->sink()].name, -1, batch_number,
                                   batch.size(), 0, Milliseconds(write_time)});
      }
      PULSE_RETURN_IF_ERROR(parts_.sink->OnWatermark(watermark).WithContext("sink"));
      sink_watermark_.store(watermark, std::memory_order_relaxed);
      if (barrier) PULSE_RETURN_IF_ERROR(FinishCheckpoint(*barrier));
      if (last) return Status::OK();
    }
  }

  // Metrics and debug spans for the operators after the keyed one (on the sink thread).
  void RecordAfterKeyBatch(uint64_t batch, const std::vector<ChainCount>& chain,
                           uint64_t released, Clock::duration elapsed) {
    internal::RunProbe& probe = *probe_;
    for (size_t i = 0; i < chain.size(); ++i) {
      probe.RecordStageBatch(probe.after_key(i), chain[i].received, chain[i].emitted);
    }
    probe.RecordOperatorBatchTime(elapsed, released);
    if (!options_.on_span) return;
    for (size_t i = 0; i < chain.size(); ++i) {
      options_.on_span(StageSpan{probe.stages()[probe.after_key(i)].name, -1, batch,
                                 chain[i].received, chain[i].emitted,
                                 i == 0 ? Milliseconds(elapsed) : 0});
    }
  }

  // The run's state for the metrics (RunProbe::Sample); called on a collecting thread.
  internal::RunProbe::Sample SampleState() const {
    internal::RunProbe::Sample s;
    s.records_read = source_counters_.records.load(std::memory_order_relaxed);
    s.bytes_read = source_counters_.bytes.load(std::memory_order_relaxed);
    s.results_written = sink_counters_.records.load(std::memory_order_relaxed);
    s.bytes_written = sink_counters_.bytes.load(std::memory_order_relaxed);
    for (int i = 0; i < kNumBadReasons; ++i) s.dropped[i] = bad_->count(static_cast<BadReason>(i));
    s.in_flight = in_flight_.load(std::memory_order_relaxed);
    s.source_watermark = source_watermark_.load(std::memory_order_relaxed);
    s.sink_watermark = sink_watermark_.load(std::memory_order_relaxed);
    s.keyed_watermark = worker_watermarks_.empty() ? kMinWatermark : kMaxWatermark;
    for (const auto& w : worker_watermarks_) {
      s.keyed_watermark = std::min(s.keyed_watermark, w->load(std::memory_order_relaxed));
    }
    for (const auto& w : worker_open_windows_) s.open_windows += w->load(std::memory_order_relaxed);
    for (const auto& w : worker_state_entries_) {
      s.state_entries += w->load(std::memory_order_relaxed);
    }
    if (checkpoint_age_ != nullptr) {
      const Clock::time_point done(Clock::duration(last_checkpoint_done_.load()));
      checkpoint_age_->Set(std::chrono::duration<double>(Clock::now() - done).count());
    }
    return s;
  }

  void MonitorLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!done_) {
      if (done_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) break;
      lock.unlock();
      options_.on_progress(Snapshot());
      lock.lock();
    }
  }

  RunProgress Snapshot() const {
    RunProgress p;
    p.records_read = source_counters_.records.load();
    p.bytes_read = source_counters_.bytes.load();
    p.results_written = sink_counters_.records.load();
    p.bytes_written = sink_counters_.bytes.load();
    for (int i = 0; i < kNumBadReasons; ++i) p.bad[i] = bad_->count(static_cast<BadReason>(i));
    p.watermark = sink_watermark_.load();
    for (const auto& w : worker_open_windows_) p.open_windows += w->load();
    p.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    p.cancelled = stopped_.load();
    p.checkpoints = checkpoints_.load();
    if (resume_) p.resumed_from = resume_->manifest.id;
    return p;
  }

  Pipeline::Parts& parts_;
  const RunOptions& options_;
  Env* env_;  // never null
  Clock::time_point start_;
  Clock::time_point last_tick_ = Clock::now();  // sink thread only
  std::unique_ptr<BadRecordHandler> bad_;
  std::unique_ptr<internal::OutputFile> late_file_;
  bool keyed_ = false;
  uint32_t workers_ = 0;
  size_t batch_size_ = 4096;
  const std::atomic<bool> no_stop_{false};

  SourceCounters source_counters_;
  SinkCounters sink_counters_;
  std::atomic<uint64_t> in_flight_{0};
  std::atomic<EventTime> sink_watermark_{kMinWatermark};
  std::atomic<bool> stopped_{false};
  std::atomic<EventTime> source_watermark_{kMinWatermark};
  std::vector<std::unique_ptr<std::atomic<uint64_t>>> worker_open_windows_;
  std::vector<std::unique_ptr<std::atomic<uint64_t>>> worker_state_entries_;
  std::vector<std::unique_ptr<std::atomic<EventTime>>> worker_watermarks_;

  BlockingQueue<PlainBatch> plain_queue_{8};
  std::vector<std::unique_ptr<BlockingQueue<WorkerTask>>> worker_in_;
  std::vector<std::unique_ptr<BlockingQueue<WorkerOutput>>> worker_out_;

  // Checkpoints (when checkpointing_).
  bool checkpointing_ = false;
  internal::PipelineFingerprint fingerprint_;
  std::unique_ptr<internal::CheckpointStore> store_;
  std::mutex store_mu_;  // the store is used by the source thread and the sink thread
  std::optional<internal::LoadedCheckpoint> resume_;
  EventTime start_watermark_ = kMinWatermark;
  Clock::time_point next_checkpoint_;  // source thread only
  std::atomic<bool> checkpoint_in_flight_{false};
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<Clock::rep> last_checkpoint_done_{0};
  metrics::Counter* checkpoints_total_ = nullptr;
  metrics::Counter* checkpoint_failures_ = nullptr;
  metrics::Histogram* checkpoint_duration_ = nullptr;
  metrics::Gauge* checkpoint_size_ = nullptr;
  metrics::Gauge* checkpoint_age_ = nullptr;

  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;           // guarded by mu_
  Status first_error_;          // guarded by mu_
  std::atomic<bool> failed_{false};

  // Last, so that the probe (whose final sample reads the members above) goes first.
  std::unique_ptr<metrics::Registry> own_registry_;  // when RunOptions::metrics is null
  std::unique_ptr<internal::RunProbe> probe_;
};

}  // namespace

Result<RunProgress> Run(Pipeline pipeline, const RunOptions& options) {
  PULSE_RETURN_IF_ERROR(pipeline.Validate());
  Execution execution(pipeline.parts(), options);
  return execution.Run();
}

}  // namespace pulse
