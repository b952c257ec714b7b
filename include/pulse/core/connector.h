// SPDX-License-Identifier: MIT
// Source and Sink: the two ends of a pipeline, and CheckpointedSource/CheckpointedSink, what
// the ones that take part in checkpoints implement besides. Concrete ones live in pulse/io.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/core/env.h"
#include "pulse/core/record.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/core/value.h"

namespace pulse::metrics {
class Registry;
}  // namespace pulse::metrics

namespace pulse {

/// Counters a source advances while it reads; read by the progress line and the summary.
struct SourceCounters {
  std::atomic<uint64_t> records{0};  // good records handed to the pipeline
  std::atomic<uint64_t> bytes{0};    // input bytes consumed
};

/// What the executor lends a source for the duration of a run.
struct SourceContext {
  BadRecordHandler* bad_records = nullptr;     // never null during a run
  SourceCounters* counters = nullptr;          // never null during a run
  const std::atomic<bool>* stop = nullptr;     // set on Ctrl-C/SIGTERM; a source polls it
  /// Threads the run may keep busy (RunOptions::workers); a source may decode in parallel
  /// with this many threads as long as it delivers records in input order.
  int parallelism = 1;
  /// The pipeline's bounded out-of-orderness (WatermarkOptions), for a source that
  /// GeneratesWatermarks() and applies it itself (e.g. per Kafka partition).
  std::optional<DurationMs> max_out_of_orderness{};
  /// The pipeline's idleness (Pipeline::Idleness), for a source that
  /// GeneratesWatermarks() and applies it itself: once it is caught up (nothing left to read
  /// for now) and no record has arrived for this long, it declares watermarks that advance with
  /// processing time from its own (largest event time − bound), as the executor does for other
  /// sources. nullopt: off.
  std::optional<DurationMs> idle_timeout = std::nullopt;
  /// Where a source may register metrics of its own (e.g. per Kafka partition); null when the
  /// caller keeps none. It outlives the run.
  metrics::Registry* metrics = nullptr;
  /// Processing time and files (idle timeouts, commit intervals, follow polling). Null means
  /// Env::Default() (a source opened outside a run); the executor always sets it.
  Env* env = nullptr;
};

/// A watermark a source declares itself (explicit test steps, per-partition Kafka watermarks):
/// before the record at `index` of the last Read() call's output (index == number of records
/// read: after the last of them), the pipeline watermark rises to at least `watermark`.
struct SourceWatermark {
  size_t index = 0;
  EventTime watermark = 0;
};

class CheckpointedSource;
class CheckpointedSink;

/// Produces records in a deterministic order.
/// Lifecycle: SetProjection? → Open → Read… → Close, all on the executor's source thread
/// (with checkpoints, the checkpoint side's calls interleave: see CheckpointedSource).
/// Not thread-safe.
class Source {
 public:
  virtual ~Source() = default;

  /// Hint that only these top-level fields of each record (besides the time field) are used
  /// downstream; a source may leave the others out of Record::value. Called before Open.
  /// An empty list means "keep everything" (the default).
  virtual void SetProjection(std::vector<std::string> fields) { (void)fields; }

  /// Acquire resources. `ctx` outlives the source's use. Errors: NotFound/IOError for inputs.
  virtual Status Open(const SourceContext& ctx) = 0;

  /// Append up to `max_records` good records to `out`. Malformed input is reported to
  /// ctx.bad_records (whose error, with on_error = fail, is returned). Returns true while more
  /// may follow, false once the input is exhausted or ctx.stop was seen.
  virtual Result<bool> Read(size_t max_records, std::vector<Record>* out) = 0;

  /// Move the watermarks declared during the last Read() into `out` (in index order).
  /// Called right after each Read(). The pipeline watermark is the maximum of these and of the
  /// pipeline's WatermarkOptions strategy. Default: none.
  virtual void TakeWatermarks(std::vector<SourceWatermark>* out) { (void)out; }

  /// True if the source computes the pipeline's watermarks itself (e.g. per partition, with
  /// ctx.max_out_of_orderness) and declares them through TakeWatermarks; the executor then does
  /// not apply WatermarkOptions' bound to its records. Default: false.
  virtual bool GeneratesWatermarks() const { return false; }

  /// Release resources.
  virtual Status Close() = 0;

  /// One line for `pulse validate` and logs, e.g. "file jsonl data/*.jsonl".
  virtual std::string Describe() const = 0;

  /// True if the input does not end by itself, so that the run lasts until it is stopped: a
  /// followed file, a pipe or terminal on standard input, Kafka without stop_at. The one notion
  /// of unboundedness: the executor tells the sink (SinkContext::unbounded), which then makes
  /// each result visible as it is written (docs/running-continuously.md); a stop without
  /// checkpoints publishes what the outputs hold (the windows closed before it) instead of
  /// aborting them as for an input cut short (RunEnd::kStopped); time.idle_timeout applies
  /// only to such a source. It may be called at any time (also before Open) and gives the same
  /// answer throughout a run. Default: false (the input ends).
  virtual bool Unbounded() const { return false; }

  /// The source's side of checkpoints, or null if it cannot be resumed (e.g. standard input);
  /// a run with checkpoints refuses a source without one. Owned by the source (usually the
  /// source itself) and valid as long as it; the same pointer at every call, before or after
  /// Open. Called by the executor before Open, on the thread that calls Run(). Default: null.
  virtual CheckpointedSource* AsCheckpointed() { return nullptr; }
};

/// What a source implements to take part in checkpoints (docs/checkpoints.md): it reports
/// where it is, resumes from there in a later run, and may release what a durable checkpoint
/// covers. Only resumable sources implement it (the file source, Kafka); Source::AsCheckpointed
/// returns it. The executor calls it only in runs with checkpoints, in this order: Seek (once,
/// before Source::Open, only when resuming), then after Open any number of Position (each
/// followed, once that checkpoint commits, by OnCheckpointCommitted). Not thread-safe, except
/// as OnCheckpointCommitted states.
class CheckpointedSource {
 public:
  virtual ~CheckpointedSource() = default;

  /// The position just after the last record returned by Read() so far, as a JSON object
  /// (file: {"file", "file_index", "offset", "line"}; Kafka: offsets per partition) that Seek
  /// accepts in a later run; it is stored verbatim in the checkpoint manifest. Records read
  /// ahead but not yet returned are not covered. Called on the source thread between Read()
  /// calls, when a checkpoint begins after the batch just read. Errors: any, which fails the
  /// checkpoint and stops the run.
  virtual Result<Value> Position() = 0;

  /// Resume just after `position` (a Position() of an earlier run of the same pipeline): the
  /// first Read() after Open returns the record that followed it. Called once, before Open, on
  /// the thread that calls Run(). Errors: InvalidArgument if the position is malformed; the run
  /// does not start. (Source::Open may refuse, also with InvalidArgument, a position that no
  /// longer fits the input, e.g. a file now shorter than the offset.)
  virtual Status Seek(const Value& position) = 0;

  /// The checkpoint that recorded Position() `position` is committed (durable). A source may
  /// now release or acknowledge what precedes it (Kafka: commit the offsets to the consumer
  /// group). Called on the sink thread, after CheckpointedSink::Commit, while the source
  /// thread may be in Read(): an implementation touches only state that is safe to share.
  /// Errors: any, which stops the run (the checkpoint stays committed). Default: nothing.
  virtual Status OnCheckpointCommitted(const Value& position) {
    (void)position;
    return Status::OK();
  }
};

/// Counters a sink advances.
struct SinkCounters {
  std::atomic<uint64_t> records{0};  // results written
  std::atomic<uint64_t> bytes{0};    // bytes written
};

/// What the executor lends a sink for a run.
struct SinkContext {
  SinkCounters* counters = nullptr;  // never null during a run
  /// Where a sink may register metrics of its own (e.g. Kafka deliveries); null when the caller
  /// keeps none. It outlives the run.
  metrics::Registry* metrics = nullptr;
  /// Receives warnings worth a user's attention (e.g. a recovery that had to redo work); may
  /// be empty.
  std::function<void(std::string_view)> on_warning{};
  /// Processing time and files (file age, flush timeouts). Null means Env::Default() (a sink
  /// opened outside a run); the executor always sets it.
  Env* env = nullptr;
  /// The run's source does not end by itself (Source::Unbounded()): results should become
  /// visible soon after Write rather than at Close (the JSON-lines file sink appends to its
  /// final path and flushes every batch; Parquet still publishes whole files).
  bool unbounded = false;
  /// The run takes checkpoints: CheckpointedSink::Recover follows Open, so Open must leave
  /// what an earlier run wrote for Recover to continue or cut back.
  bool checkpoints = false;
};

/// Consumes results in order. Lifecycle: Open → (Write | OnWatermark | Tick)… → Close, or Abort
/// on failure; all calls on the executor's sink thread (with checkpoints, the checkpoint side
/// changes the ending: see CheckpointedSink). Not thread-safe.
class Sink {
 public:
  virtual ~Sink() = default;

  /// Acquire resources. What `ctx` points to outlives the sink's use.
  virtual Status Open(const SinkContext& ctx) = 0;

  /// Write records in the given order.
  virtual Status Write(std::span<const Record> records) = 0;

  /// The pipeline's watermark has advanced to `watermark` (all results before it are written).
  virtual Status OnWatermark(EventTime watermark) {
    (void)watermark;
    return Status::OK();
  }

  /// Called on the sink thread about every TickInterval(), whatever the data rate, so
  /// that a sink can act on processing time, e.g. roll files by age. Default: nothing.
  virtual Status Tick() { return Status::OK(); }

  /// How long the sink may wait for its next Tick(); asked after each Write and Tick. A sink
  /// with work pending on time (e.g. delivery reports still to collect) asks for a short one.
  /// Default: a second.
  virtual std::chrono::milliseconds TickInterval() const { return std::chrono::seconds(1); }

  /// Flush and make the output visible (e.g. rename temporary files into place).
  virtual Status Close() = 0;

  /// Discard incomplete output after a failure of a run without checkpoints. Must not throw;
  /// best effort.
  virtual void Abort() {}

  /// One line for `pulse validate`, logs and errors, e.g. "file sink 'out.jsonl'".
  virtual std::string Describe() const = 0;

  /// The sink's side of checkpoints, or null if what it writes cannot be taken back after a
  /// crash (e.g. standard output); a run with checkpoints refuses a sink without one. Owned by
  /// the sink (usually the sink itself) and valid as long as it; the same pointer at every
  /// call, before or after Open. Called by the executor before Open, on the thread that calls
  /// Run(). Default: null.
  virtual CheckpointedSink* AsCheckpointed() { return nullptr; }
};

/// What a sink implements to take part in checkpoints (docs/checkpoints.md): a two-phase
/// commit with the checkpoint store, so that output becomes visible only once a checkpoint
/// covering it is durable, and a restarted run continues exactly after the checkpoint it
/// resumes from. Only sinks whose output can be taken back implement it (files, Parquet,
/// Kafka); Sink::AsCheckpointed returns it. In a run with checkpoints the sink's lifecycle is
/// Open → Recover → (Write | OnWatermark | Tick | PrepareCommit → Commit)… → Close (the input
/// ended and the final checkpoint committed) or Suspend (a stop, or any failure: Abort is not
/// called). Recover and Suspend are called on the thread that calls Run() while no stage runs;
/// PrepareCommit and Commit on the sink thread. Not thread-safe.
class CheckpointedSink {
 public:
  virtual ~CheckpointedSink() = default;

  /// Called once after Sink::Open and before the first Write. `info` is what PrepareCommit
  /// returned for the checkpoint the run resumes from, or null for a run that starts fresh.
  /// Finish that checkpoint's commit if it did not happen (idempotently), discard every output
  /// it does not cover (left by crashed runs), and continue after it. Errors: Corruption if
  /// `info` is malformed or the output it names is gone; IOError; the run does not start (its
  /// outputs are suspended).
  virtual Status Recover(const Value* info) = 0;

  /// Make everything written so far durable but not yet visible, and describe, as a JSON
  /// value stored verbatim in the manifest of checkpoint `checkpoint_id`, what committing it
  /// takes (what Recover receives in a later run). Called on the sink thread after the
  /// checkpoint's batch was written and OnWatermark, before the manifest is committed.
  /// Errors: any, which fails the checkpoint and stops the run.
  virtual Result<Value> PrepareCommit(uint64_t checkpoint_id) = 0;

  /// Checkpoint `checkpoint_id` is durable: make what its PrepareCommit covered visible
  /// (rename files, commit a transaction); nothing if the output becomes visible only at
  /// Close. Called on the sink thread right after the manifest is committed. Must be
  /// idempotent; a crash before it is repaired by Recover on restart. Errors: any, which stops
  /// the run (the checkpoint stays committed).
  virtual Status Commit(uint64_t checkpoint_id) = 0;

  /// Instead of Close, when a run with checkpoints stops early (Ctrl-C, SIGTERM) after its
  /// final checkpoint, and instead of Abort after a failure: release resources but leave the
  /// in-progress output for the next run's Recover (do not publish it, do not delete it).
  /// Errors: IOError (e.g. a failed fsync); the run reports it.
  virtual Status Suspend() = 0;
};

}  // namespace pulse
