// SPDX-License-Identifier: MIT
// Run(): opens a pipeline's connectors and outputs, wires its stages (source stage, keyed
// workers, sink stage, checkpoint coordinator; see src/core/README.md and
// docs/architecture.md), runs each stage on its own thread, and ends the outputs.
//
// Why the output is deterministic: the source stage gives each record the watermark W in
// effect before it and sends every batch to every worker with the watermark after it, so all
// workers advance together; the sink stage takes batch k of every worker before batch k+1 and
// merges the results by their order key. Since a result is released exactly when W ≥ its
// order, and W only grows, this gives one global order that does not depend on the worker
// count or the batch size.
#include "pulse/core/executor.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/channels.h"
#include "core/checkpoint_coordinator.h"
#include "core/history_sampler.h"
#include "core/keyed_worker.h"
#include "core/operator_chain.h"
#include "pulse/core/output_file.h"
#include "core/run_outputs.h"
#include "core/run_probe.h"
#include "core/run_state.h"
#include "core/sink_stage.h"
#include "core/source_stage.h"
#include "pulse/core/key_group.h"
#include "pulse/metrics/registry.h"

namespace pulse {
namespace {

using internal::Channels;
using internal::CheckpointCoordinator;
using internal::FirstError;
using internal::RunProbe;
using internal::RunState;

/// How often RunOptions::on_progress is called (and RunOptions::history sampled) while the
/// run goes, on the run's clock.
constexpr std::chrono::seconds kProgressInterval{1};

/// Keyed workers of a run: RunOptions::workers (0: one per core), at most one per key group;
/// 0 for a plain pipeline.
uint32_t WorkerCount(const Pipeline::Parts& parts, const RunOptions& options) {
  if (parts.keyed == nullptr) return 0;
  const int n = options.workers > 0 ? options.workers
                                    : static_cast<int>(std::thread::hardware_concurrency());
  return static_cast<uint32_t>(std::clamp(n, 1, static_cast<int>(kMaxKeyGroups)));
}

// Only the fields that the key and the keyed operator read need to leave the source, unless
// user code may look at the whole record.
void SetProjection(Pipeline::Parts& parts) {
  if (parts.keyed == nullptr || !parts.before_key.empty() || !parts.late_output_path.empty()) {
    return;
  }
  std::vector<std::string> fields;
  if (parts.key_field) {
    fields.push_back(*parts.key_field);
  } else if (parts.key_selector_fields.empty()) {
    return;
  } else {
    fields = parts.key_selector_fields;
  }
  for (std::string& f : parts.keyed->InputFields()) {
    if (f == "*") return;
    fields.push_back(std::move(f));
  }
  parts.source->SetProjection(std::move(fields));
}

/// Calls `report` every kProgressInterval of `clock` on its own thread, from Start() until
/// Stop(). Blocks Clock::WaitSlice at a time, so that a ManualClock drives it. Thread-safe.
class ProgressMonitor {
 public:
  ProgressMonitor(Clock& clock, std::function<void()> report)
      : clock_(clock), report_(std::move(report)) {}
  ProgressMonitor(const ProgressMonitor&) = delete;
  ProgressMonitor& operator=(const ProgressMonitor&) = delete;
  ~ProgressMonitor() { Stop(); }

  /// The first call comes kProgressInterval after this one.
  void Start() {
    const Clock::TimePoint first = clock_.Now() + kProgressInterval;
    thread_ = std::thread([this, first] { Loop(first); });
  }

  /// Stop and join the thread (no call of `report` after it returns). Idempotent.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop(Clock::TimePoint next) {
    std::unique_lock<std::mutex> lock(mu_);
    while (!done_) {
      const Clock::TimePoint now = clock_.Now();
      if (now < next) {
        cv_.wait_for(lock, clock_.WaitSlice(next - now), [this] { return done_; });
        continue;
      }
      next = now + kProgressInterval;
      lock.unlock();
      report_();
      lock.lock();
    }
  }

  Clock& clock_;
  std::function<void()> report_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;  // guarded by mu_
  std::thread thread_;
};

/// One run of one pipeline. Run() on the caller's thread opens the connectors and outputs,
/// runs the stages on their threads (one source thread, one per keyed worker, one sink thread)
/// and ends the outputs: published, or aborted (suspended with checkpoints) after an error.
/// Not thread-safe; Sample() and Snapshot() are called from other threads while stages run.
class Execution {
 public:
  Execution(Pipeline::Parts& parts, const RunOptions& options)
      : parts_(parts),
        options_(options),
        env_(options.env != nullptr ? options.env : &Env::Default()),
        clock_(env_->clock()),
        workers_(WorkerCount(parts, options)),
        state_(workers_),
        channels_(workers_, options.queue_capacity),
        errors_(channels_) {}

  Result<RunProgress> Run() {
    start_ = clock_.Now();
    PULSE_RETURN_IF_ERROR(Open());
    // From here on a collection (e.g. an HTTP scrape) may sample the run's state; the last
    // sample is taken when Run() returns, after the sink's Close().
    probe_->StartSampling([this] { return Sample(); });
    struct SamplingGuard {
      RunProbe& probe;
      ~SamplingGuard() { probe.StopSampling(); }
    } sampling_guard{*probe_};
    if (options_.history != nullptr) {
      history_ = std::make_unique<internal::HistorySampler>(*options_.history, state_, *bad_,
                                                            checkpoints_.get(), clock_);
      history_->Sample();
    }
    const Status finished = Finish(RunStages());
    if (history_ != nullptr) history_->Sample();
    PULSE_RETURN_IF_ERROR(finished);
    RunProgress final_progress = Snapshot();
    final_progress.end = EndOf();
    if (options_.on_progress) options_.on_progress(final_progress);
    return final_progress;
  }

 private:
  const std::atomic<bool>& stop() const { return options_.stop ? *options_.stop : no_stop_; }

  // The outputs, the checkpoint to resume from, and the connectors, in that order.
  Status Open() {
    metrics::Registry* registry = options_.metrics;
    if (registry == nullptr) {
      own_registry_ = std::make_unique<metrics::Registry>();
      registry = own_registry_.get();
    }
    probe_ = std::make_unique<RunProbe>(*registry, internal::StagesOf(parts_), clock_);
    BadRecordHandler::Options bad_records = parts_.bad_records;
    if (bad_records.env == nullptr) bad_records.env = env_;
    PULSE_ASSIGN_OR_RETURN(bad_, BadRecordHandler::Open(std::move(bad_records)));
    if (!parts_.late_output_path.empty()) {
      PULSE_ASSIGN_OR_RETURN(late_file_, OutputFile::Create(parts_.late_output_path, *env_));
    }
    outputs_ = std::make_unique<internal::RunOutputs>(*parts_.sink, *bad_, late_file_.get());
    SetProjection(parts_);
    if (!options_.checkpoint.dir.empty()) {
      PULSE_ASSIGN_OR_RETURN(checkpoints_,
                             CheckpointCoordinator::Open(options_.checkpoint, *parts_.source,
                                                         *outputs_, workers_, *env_, *registry));
      // Known at once, before the first batch.
      state_.source_watermark.store(checkpoints_->start_watermark(), std::memory_order_relaxed);
      // A checkpoint of a finished (or drained) run closed every window: whatever this run
      // reads can only be late.
      if (checkpoints_->start_watermark() == kMaxWatermark && options_.checkpoint.on_warning) {
        options_.checkpoint.on_warning(
            "resuming from checkpoint " + std::to_string(checkpoints_->resume()->manifest.id) +
            ", taken when the input ended or a --drain closed every window: any record read "
            "now is late; run with --fresh to start over");
      }
    }
    return OpenConnectors(*registry);
  }

  // Open the source and the sink; with checkpoints, continue the outputs.
  Status OpenConnectors(metrics::Registry& registry) {
    source_ctx_.bad_records = bad_.get();
    source_ctx_.counters = &state_.source_counters;
    source_ctx_.stop = &stop();
    source_ctx_.parallelism = static_cast<int>(std::max<uint32_t>(workers_, 1));
    if (parts_.source->GeneratesWatermarks()) {
      source_ctx_.max_out_of_orderness = parts_.watermarks.max_out_of_orderness;
      source_ctx_.idle_timeout = parts_.idle_timeout;
    }
    source_ctx_.metrics = &registry;
    source_ctx_.env = env_;
    Status open = parts_.source->Open(source_ctx_);
    if (!open.ok()) return open.WithContext("source");
    open = parts_.sink->Open(SinkContext{&state_.sink_counters, &registry,
                                         options_.checkpoint.on_warning, env_,
                                         parts_.source->Unbounded(), checkpoints_ != nullptr});
    if (!open.ok()) {
      (void)parts_.source->Close();
      return open.WithContext("sink");
    }
    if (checkpoints_ != nullptr) {
      Status recovered = checkpoints_->RecoverOutputs();
      if (!recovered.ok()) {
        (void)parts_.source->Close();
        (void)outputs_->Suspend();  // the recovery error is the one to report
        return recovered;
      }
    }
    return Status::OK();
  }

  internal::SourceStageOptions SourceOptions() const {
    internal::SourceStageOptions o;
    o.batch_size = std::max<size_t>(1, options_.batch_size);
    if (!parts_.source->GeneratesWatermarks()) {
      o.max_out_of_orderness = parts_.watermarks.max_out_of_orderness;
      o.idle_timeout = parts_.idle_timeout;
    }
    if (checkpoints_ != nullptr) o.start_watermark = checkpoints_->start_watermark();
    o.channel_bound = options_.channel_bound;
    o.end_of_input_steps = options_.end_of_input_steps;
    o.on_stop = options_.on_stop;
    return o;
  }

  // Wire the stages, run each on its thread (and the progress monitor), wait for all of them.
  // Returns the first error of any stage.
  Status RunStages() {
    const internal::StageContext ctx{clock_,   state_, channels_, errors_,
                                     *probe_, options_.on_span};
    internal::OperatorChain before_key(parts_.before_key);
    internal::OperatorChain after_key(parts_.after_key);
    const internal::KeyExtractor key{parts_.key_field, parts_.key_selector};
    internal::SourceStage source(*parts_.source, before_key, parts_.keyed ? &key : nullptr, *bad_,
                                 checkpoints_.get(), ctx, SourceOptions());
    std::vector<std::unique_ptr<internal::KeyedWorker>> workers;
    for (uint32_t i = 0; i < workers_; ++i) {
      workers.push_back(std::make_unique<internal::KeyedWorker>(i, workers_, *parts_.keyed,
                                                                checkpoints_.get(), ctx));
    }
    internal::SinkStage sink(*parts_.sink, after_key, *bad_, late_file_.get(), checkpoints_.get(),
                             ctx);
    ProgressMonitor monitor(clock_, [this] {
      if (history_ != nullptr) history_->Sample();
      if (options_.on_progress) options_.on_progress(Snapshot());
    });
    if (options_.on_progress || history_ != nullptr) monitor.Start();
    std::vector<std::thread> threads;
    threads.emplace_back([&] { errors_.Report(source.Run(stop())); });
    for (auto& worker : workers) {
      threads.emplace_back([&errors = errors_, &worker] { errors.Report(worker->Run()); });
    }
    threads.emplace_back([&] { errors_.Report(sink.Run()); });
    for (std::thread& t : threads) t.join();
    monitor.Stop();
    return errors_.status();
  }

  // How a run that did not fail ends (RunEnd).
  RunEnd EndOf() const {
    if (!state_.stopped.load()) return RunEnd::kInputEnded;
    if (options_.on_stop == StopMode::kDrain) return RunEnd::kDrained;
    if (checkpoints_ != nullptr) return RunEnd::kSuspended;
    return parts_.source->Unbounded() ? RunEnd::kStopped : RunEnd::kDiscarded;
  }

  // Close the source and end the outputs: published when the input ended, a stop drained it,
  // or a stop ended an unbounded input; suspended when a run with checkpoints stopped leaving
  // windows open (its final checkpoint covers everything; the next run continues); aborted
  // when a run without checkpoints stopped an input that would have ended by itself (a partial
  // output is never published). After an error: aborted, or
  // suspended with checkpoints (the next run cuts them back to the last checkpoint). Returns
  // `error`, or else the first error of closing.
  Status Finish(Status error) {
    Status source_close = parts_.source->Close();
    if (error.ok()) error = source_close;
    if (error.ok()) {
      switch (EndOf()) {
        case RunEnd::kSuspended:
          error = outputs_->Suspend();
          break;
        case RunEnd::kDiscarded:
          outputs_->Abort();
          break;
        default:
          error = outputs_->Publish();
          break;
      }
    }
    if (!error.ok()) {
      if (checkpoints_ != nullptr) {
        (void)outputs_->Suspend();
      } else {
        outputs_->Abort();
      }
    }
    return error;
  }

  // The run's state for the metrics (RunProbe::Sample); called on a collecting thread.
  RunProbe::Sample Sample() const {
    RunProbe::Sample s;
    s.records_read = state_.source_counters.records.load(std::memory_order_relaxed);
    s.bytes_read = state_.source_counters.bytes.load(std::memory_order_relaxed);
    s.results_written = state_.sink_counters.records.load(std::memory_order_relaxed);
    s.bytes_written = state_.sink_counters.bytes.load(std::memory_order_relaxed);
    for (int i = 0; i < kNumBadReasons; ++i) s.dropped[i] = bad_->count(static_cast<BadReason>(i));
    s.in_flight = state_.in_flight.load(std::memory_order_relaxed);
    s.source_watermark = state_.source_watermark.load(std::memory_order_relaxed);
    s.source_idle = state_.source_idle.load(std::memory_order_relaxed);
    s.sink_watermark = state_.sink_watermark.load(std::memory_order_relaxed);
    s.keyed_watermark = state_.workers.empty() ? kMinWatermark : kMaxWatermark;
    for (const internal::WorkerGauges& w : state_.workers) {
      s.keyed_watermark = std::min(s.keyed_watermark, w.watermark.load(std::memory_order_relaxed));
      s.open_windows += w.open_windows.load(std::memory_order_relaxed);
      s.state_entries += w.state_entries.load(std::memory_order_relaxed);
    }
    if (checkpoints_ != nullptr) checkpoints_->UpdateAge();
    return s;
  }

  RunProgress Snapshot() const {
    RunProgress p;
    p.records_read = state_.source_counters.records.load();
    p.bytes_read = state_.source_counters.bytes.load();
    p.results_written = state_.sink_counters.records.load();
    p.bytes_written = state_.sink_counters.bytes.load();
    for (int i = 0; i < kNumBadReasons; ++i) p.bad[i] = bad_->count(static_cast<BadReason>(i));
    p.watermark = state_.sink_watermark.load();
    for (const internal::WorkerGauges& w : state_.workers) p.open_windows += w.open_windows.load();
    p.seconds = std::chrono::duration<double>(clock_.Now() - start_).count();
    p.cancelled = state_.stopped.load();
    p.idle = state_.source_idle.load();
    if (checkpoints_ != nullptr) {
      p.checkpoints = checkpoints_->committed();
      if (checkpoints_->resume() != nullptr) p.resumed_from = checkpoints_->resume()->manifest.id;
    }
    return p;
  }

  Pipeline::Parts& parts_;
  const RunOptions& options_;
  Env* env_;  // never null
  Clock& clock_;
  const uint32_t workers_;  // keyed workers; 0 for a plain pipeline
  const std::atomic<bool> no_stop_{false};
  Clock::TimePoint start_;
  SourceContext source_ctx_;  // outlives the source's use, as Source::Open requires
  std::unique_ptr<BadRecordHandler> bad_;
  std::unique_ptr<OutputFile> late_file_;
  std::unique_ptr<internal::RunOutputs> outputs_;
  std::unique_ptr<CheckpointCoordinator> checkpoints_;
  std::unique_ptr<internal::HistorySampler> history_;  // with RunOptions::history
  RunState state_;
  Channels channels_;
  FirstError errors_;

  // Last, so that the probe (whose final sample reads the members above) goes first.
  std::unique_ptr<metrics::Registry> own_registry_;  // when RunOptions::metrics is null
  std::unique_ptr<RunProbe> probe_;
};

}  // namespace

Result<RunProgress> Run(Pipeline pipeline, const RunOptions& options) {
  PULSE_RETURN_IF_ERROR(pipeline.Validate());
  Execution execution(pipeline.parts(), options);
  return execution.Run();
}

}  // namespace pulse
