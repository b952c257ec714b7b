// SPDX-License-Identifier: MIT
// Source and Sink: the two ends of a pipeline. Concrete ones live in pulse/io.
#pragma once

#include <atomic>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/core/record.h"
#include "pulse/core/status.h"

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
};

/// A watermark a source declares itself (explicit test steps, per-partition Kafka watermarks):
/// before the record at `index` of the last Read() call's output (index == number of records
/// read: after the last of them), the pipeline watermark rises to at least `watermark`.
struct SourceWatermark {
  size_t index = 0;
  EventTime watermark = 0;
};

/// Produces records in a deterministic order.
/// Lifecycle: SetProjection? → Open → Read… → Close, all on the executor's source thread.
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

  /// Release resources.
  virtual Status Close() = 0;

  /// One line for `pulse validate` and logs, e.g. "file jsonl data/*.jsonl".
  virtual std::string Describe() const = 0;
};

/// Counters a sink advances.
struct SinkCounters {
  std::atomic<uint64_t> records{0};  // results written
  std::atomic<uint64_t> bytes{0};    // bytes written
};

/// Consumes results in order. Lifecycle: Open → (Write | OnWatermark)… → Close, or Abort on
/// failure; all calls on the executor's sink thread. Not thread-safe.
class Sink {
 public:
  virtual ~Sink() = default;

  /// Acquire resources. `counters` outlives the sink's use.
  virtual Status Open(SinkCounters* counters) = 0;

  /// Write records in the given order.
  virtual Status Write(std::span<const Record> records) = 0;

  /// The pipeline's watermark has advanced to `watermark` (all results before it are written).
  virtual Status OnWatermark(EventTime watermark) {
    (void)watermark;
    return Status::OK();
  }

  /// Called on the sink thread about once a second, whatever the data rate, so
  /// that a sink can act on processing time, e.g. roll files by age. Default: nothing.
  virtual Status Tick() { return Status::OK(); }

  /// Flush and make the output visible (e.g. rename temporary files into place).
  virtual Status Close() = 0;

  /// Discard incomplete output after a failure. Must not throw; best effort.
  virtual void Abort() {}

  virtual std::string Describe() const = 0;
};

}  // namespace pulse
