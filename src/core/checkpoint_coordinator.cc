// SPDX-License-Identifier: MIT
// CheckpointCoordinator: restore, barriers and the two-phase commit (docs/checkpoints.md).
#include "core/checkpoint_coordinator.h"

#include <array>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "core/run_state.h"

namespace pulse::internal {
namespace {

/// Checkpoint durations (ms) for the histogram.
constexpr std::array<double, 10> kCheckpointBucketsMs = {1,   5,    10,   50,   100,
                                                         500, 1000, 5000, 10000, 60000};

Status CheckSupported(const CheckpointOptions& options, Source& source, Sink& sink) {
  if (source.AsCheckpointed() == nullptr) {
    return Status::InvalidArgument(source.Describe() +
                                   " cannot be checkpointed (standard input cannot be read "
                                   "again after a restart)");
  }
  if (sink.AsCheckpointed() == nullptr) {
    return Status::InvalidArgument(
        sink.Describe() +
        " cannot be checkpointed (what it wrote cannot be taken back after a crash; write to "
        "a file)");
  }
  if (options.interval_ms <= 0) {
    return Status::InvalidArgument("checkpoint interval must be greater than 0");
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<CheckpointCoordinator>> CheckpointCoordinator::Open(
    const CheckpointOptions& options, Source& source, RunOutputs& outputs, uint32_t workers,
    Env& env, metrics::Registry& registry) {
  PULSE_RETURN_IF_ERROR(CheckSupported(options, source, outputs.sink()));
  std::unique_ptr<CheckpointCoordinator> coordinator(new CheckpointCoordinator(
      options, *source.AsCheckpointed(), *outputs.sink().AsCheckpointed(), outputs, workers,
      env));
  PULSE_RETURN_IF_ERROR(coordinator->Load(options));
  coordinator->RegisterMetrics(registry);
  return coordinator;
}

CheckpointCoordinator::CheckpointCoordinator(const CheckpointOptions& options,
                                             CheckpointedSource& source, CheckpointedSink& sink,
                                             RunOutputs& outputs, uint32_t workers, Env& env)
    : interval_(std::chrono::milliseconds(options.interval_ms)),
      fingerprint_(PipelineFingerprint::Of(options.fingerprint)),
      source_(source),
      sink_(sink),
      outputs_(outputs),
      workers_(workers),
      env_(env),
      clock_(env.clock()) {}

// Open the store, load the checkpoint to resume from and position the source there.
Status CheckpointCoordinator::Load(const CheckpointOptions& options) {
  PULSE_ASSIGN_OR_RETURN(store_, CheckpointStore::Open({options.dir, options.keep, &env_}));
  if (!options.fresh) {
    PULSE_ASSIGN_OR_RETURN(CheckpointLoad load, store_->LoadLatest(fingerprint_));
    if (options.on_warning) {
      for (const std::string& w : load.warnings) options.on_warning(w);
    }
    resume_ = std::move(load.checkpoint);
  }
  if (resume_) {
    const CheckpointManifest& m = resume_->manifest;
    const Value* position = m.FindSource("source");
    if (position == nullptr) {
      return Status::Corruption(fmt::format("checkpoint {} has no source position", m.id));
    }
    PULSE_RETURN_IF_ERROR(
        source_.Seek(*position).WithContext(fmt::format("resuming from checkpoint {}", m.id)));
  }
  return Status::OK();
}

void CheckpointCoordinator::RegisterMetrics(metrics::Registry& registry) {
  metrics_.total =
      &registry.GetCounter("pulse_checkpoints_total", "Checkpoints committed by this run.");
  metrics_.failures = &registry.GetCounter("pulse_checkpoint_failures_total",
                                           "Checkpoints that failed (the run stops).");
  metrics_.duration = &registry.GetHistogram(
      "pulse_checkpoint_duration_ms",
      "Time from the barrier leaving the source to the checkpoint's commit.", kCheckpointBucketsMs);
  metrics_.size = &registry.GetGauge("pulse_checkpoint_size_bytes",
                                     "Bytes in the last committed checkpoint.");
  metrics_.age = &registry.GetGauge(
      "pulse_checkpoint_age_seconds",
      "Seconds since the last checkpoint was committed (since the start before the first).");
  const Clock::TimePoint now = clock_.Now();
  next_due_ = now + interval_;
  last_done_.store(now.time_since_epoch().count());
}

EventTime CheckpointCoordinator::start_watermark() const {
  return resume_ ? resume_->manifest.watermark : kMinWatermark;
}

Status CheckpointCoordinator::RestoreWorker(KeyedOperator& op, KeyGroupRange key_groups) const {
  if (!resume_) return Status::OK();
  return op.RestoreState(resume_->StateDirsFor(op.name(), key_groups))
      .WithContext(fmt::format("restoring checkpoint {}", resume_->manifest.id));
}

bool CheckpointCoordinator::Due(bool last) const {
  if (last) return true;
  return !in_flight_.load() && clock_.Now() >= next_due_;
}

Result<std::shared_ptr<Barrier>> CheckpointCoordinator::Begin(EventTime watermark) {
  auto barrier = std::make_shared<Barrier>();
  barrier->started = clock_.Now();
  barrier->started_unix_ms = clock_.UnixMillis();
  {
    std::lock_guard<std::mutex> lock(store_mu_);
    PULSE_ASSIGN_OR_RETURN(barrier->pending, store_->Begin(store_->NextId()));
  }
  Result<Value> position = source_.Position();
  if (!position.ok()) return position.status().WithContext("source position");
  barrier->source_position = std::move(position).value();
  PULSE_ASSIGN_OR_RETURN(barrier->dead_letters, outputs_.dead_letters().PrepareCommit());
  barrier->watermark = watermark;
  barrier->snapshots.resize(workers_);
  barrier->states.resize(workers_);
  in_flight_.store(true);
  next_due_ = clock_.Now() + interval_;
  return barrier;
}

void CheckpointCoordinator::Snapshot(uint32_t worker, KeyedOperator& op, Barrier& barrier) const {
  const KeyGroupRange range = KeyGroupRange::ForWorker(worker, workers_);
  CheckpointState state{op.name(), range, CheckpointState::DirFor(op.name(), range)};
  barrier.snapshots[worker] = op.SnapshotState(barrier.pending->dir() + "/" + state.dir);
  barrier.states[worker] = std::move(state);
}

Status CheckpointCoordinator::Finish(Barrier& barrier) {
  const uint64_t id = barrier.pending->id();
  Status st = Commit(barrier);
  if (!st.ok()) {
    metrics_.failures->Increment();
    {
      std::lock_guard<std::mutex> lock(store_mu_);
      barrier.pending->Abort();
    }
    st = st.WithContext(fmt::format("checkpoint {}", id));
    Remember(id, barrier, 0, st, clock_.Now());
    return st;
  }
  return Status::OK();
}

// Keep the attempt for Recent().
void CheckpointCoordinator::Remember(uint64_t id, const Barrier& barrier, uint64_t bytes,
                                     const Status& error, Clock::TimePoint done) {
  CheckpointRecord record;
  record.id = id;
  record.duration_ms = Milliseconds(done - barrier.started);
  record.started_unix_ms = barrier.started_unix_ms;
  record.bytes = bytes;
  record.failed = !error.ok();
  if (!error.ok()) record.error = error.message();
  std::lock_guard<std::mutex> lock(recent_mu_);
  if (record.failed) ++failed_;
  recent_.push_back(std::move(record));
  if (recent_.size() > kRecentCheckpoints) recent_.pop_front();
}

uint64_t CheckpointCoordinator::failed() const {
  std::lock_guard<std::mutex> lock(recent_mu_);
  return failed_;
}

std::vector<CheckpointRecord> CheckpointCoordinator::Recent() const {
  std::lock_guard<std::mutex> lock(recent_mu_);
  return {recent_.begin(), recent_.end()};
}

// The manifest's parts that the barrier carries; the outputs' parts are added by Commit.
CheckpointManifest CheckpointCoordinator::ManifestOf(const Barrier& barrier) const {
  CheckpointManifest manifest;
  manifest.fingerprint = fingerprint_;
  manifest.watermark = barrier.watermark;
  manifest.created_unix_ms = clock_.UnixMillis();
  manifest.sources.emplace_back("source", barrier.source_position);
  manifest.state = barrier.states;
  return manifest;
}

Status CheckpointCoordinator::Commit(Barrier& barrier) {
  for (Status& snapshot : barrier.snapshots) {
    PULSE_RETURN_IF_ERROR(snapshot.WithContext("state snapshot"));
  }
  const uint64_t id = barrier.pending->id();
  CheckpointManifest manifest = ManifestOf(barrier);
  Result<Value> sink_info = sink_.PrepareCommit(id);
  if (!sink_info.ok()) return sink_info.status().WithContext("sink");
  manifest.sinks.emplace_back("sink", std::move(sink_info).value());
  manifest.sinks.emplace_back("dead_letters", barrier.dead_letters);
  Value late_info;
  if (outputs_.late() != nullptr) {
    Result<Value> info = outputs_.late()->PrepareCommit();
    if (!info.ok()) return info.status().WithContext("late output");
    late_info = std::move(info).value();
  }
  manifest.sinks.emplace_back("late_output", std::move(late_info));
  CheckpointManifest written;
  {
    std::lock_guard<std::mutex> lock(store_mu_);
    PULSE_ASSIGN_OR_RETURN(written, barrier.pending->Commit(std::move(manifest)));
  }
  PULSE_RETURN_IF_ERROR(sink_.Commit(id).WithContext("sink commit"));
  PULSE_RETURN_IF_ERROR(
      source_.OnCheckpointCommitted(barrier.source_position).WithContext("source"));
  uint64_t bytes = 0;
  for (const CheckpointFile& f : written.files) bytes += f.bytes;
  const Clock::TimePoint now = clock_.Now();
  metrics_.total->Increment();
  metrics_.size->Set(static_cast<double>(bytes));
  metrics_.duration->Observe(Milliseconds(now - barrier.started));
  last_done_.store(now.time_since_epoch().count());
  committed_.fetch_add(1);
  Remember(id, barrier, bytes, Status::OK(), now);
  in_flight_.store(false);
  return Status::OK();
}

void CheckpointCoordinator::UpdateAge() const {
  const Clock::TimePoint done{Clock::Duration(last_done_.load())};
  metrics_.age->Set(std::chrono::duration<double>(clock_.Now() - done).count());
}

}  // namespace pulse::internal
