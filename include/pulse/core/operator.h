// SPDX-License-Identifier: MIT
// Operator (stateless, per record) and KeyedOperator (per key, event-time, one per worker).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pulse/core/key_group.h"
#include "pulse/core/record.h"
#include "pulse/core/status.h"

namespace pulse {

/// Receives an operator's outputs.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual void Emit(Record record) = 0;
};

/// A stateless record transformation (map, filter, flat map).
/// Called on one thread at a time; an instance may be moved between runs but not shared.
class Operator {
 public:
  virtual ~Operator() = default;
  /// Name for metrics and `pulse validate` ("map", "filter", ...).
  virtual std::string name() const = 0;
  /// Consume `in`, emitting zero or more records. Outputs keep the input's position in the
  /// stream (and so its watermark). Errors stop the run.
  virtual Status Process(Record in, Collector& out) = 0;
};

/// A record routed to a keyed operator.
struct KeyedRecord {
  Record record;
  EventTime watermark = 0;  // the pipeline watermark just before this record
  uint64_t sequence = 0;    // position in the source stream (for ordering side outputs)
  std::string key;          // compact JSON text of the key value
  Value key_value;          // the key value itself
};

/// A result of a keyed operator with the key that orders it in the output.
/// The executor writes the results that one watermark step releases in ascending
/// (order_a, order_b, order_key) order, with order_key compared bytewise.
struct KeyedResult {
  int64_t order_a = 0;
  int64_t order_b = 0;
  std::string order_key;
  Record record;

  friend bool operator<(const KeyedResult& x, const KeyedResult& y) {
    if (x.order_a != y.order_a) return x.order_a < y.order_a;
    if (x.order_b != y.order_b) return x.order_b < y.order_b;
    return x.order_key < y.order_key;
  }
};

/// Outputs of a keyed operator for one batch.
struct KeyedOutput {
  std::vector<KeyedResult> results;
  std::vector<KeyedRecord> late;  // records late for all of their windows, in input order
};

/// Statistics a keyed operator reports.
struct KeyedOperatorStats {
  uint64_t open_windows = 0;
  uint64_t state_entries = 0;
};

/// Event-time operator over keyed state. The executor creates one instance per worker and routes
/// each key to exactly one of them, so an instance sees every record of its keys in stream order.
/// All calls for one instance come from one worker thread.
class KeyedOperator {
 public:
  virtual ~KeyedOperator() = default;
  virtual std::string name() const = 0;

  /// Process one record. Requires: record.watermark never decreases between calls.
  virtual Status Process(KeyedRecord record, KeyedOutput* out) = 0;

  /// The watermark is now `watermark`: release every result it completes.
  virtual Status AdvanceWatermark(EventTime watermark, KeyedOutput* out) = 0;

  virtual KeyedOperatorStats stats() const = 0;

  /// Checkpoints. Write everything this instance holds (its key groups only) into the empty
  /// directory `dir`, so that RestoreState can rebuild it. Called between batches, after
  /// AdvanceWatermark. Default: InvalidArgument (the operator cannot be checkpointed).
  virtual Status SnapshotState(const std::string& dir) {
    (void)dir;
    return Status::InvalidArgument(name() + " cannot be checkpointed");
  }

  /// Replace this instance's state with the part of the snapshots in `dirs` (written by
  /// SnapshotState of instances with any key-group split) that falls in its key groups.
  /// Called before the first Process. Default: InvalidArgument.
  virtual Status RestoreState(std::span<const std::string> dirs) {
    (void)dirs;
    return Status::InvalidArgument(name() + " cannot be restored from a checkpoint");
  }
};

/// Where one keyed operator instance runs: worker `worker` of `workers`, owning `key_groups`
/// (KeyGroupRange::ForWorker(worker, workers)). Every record it receives has a key in them.
struct KeyedOperatorContext {
  uint32_t worker = 0;
  uint32_t workers = 1;
  KeyGroupRange key_groups = KeyGroupRange::All();
};

/// Makes the per-worker instances of a keyed operator.
class KeyedOperatorFactory {
 public:
  virtual ~KeyedOperatorFactory() = default;
  /// The name of the operators it makes (KeyedOperator::name()).
  virtual std::string name() const = 0;
  virtual std::string Describe() const = 0;
  /// Top-level record fields the operator reads, so that sources can skip the others;
  /// {"*"} means any field. The key is not included (the executor extracts it).
  virtual std::vector<std::string> InputFields() const = 0;
  /// Check the options the factory was made with (Pipeline::Validate calls it, before any
  /// instance is made). Errors: InvalidArgument naming the bad option. Default: OK.
  virtual Status Validate() const { return Status::OK(); }
  /// A new instance for one worker. Errors: e.g. a state backend that cannot be opened.
  virtual Result<std::unique_ptr<KeyedOperator>> Make(const KeyedOperatorContext& ctx) const = 0;
};

}  // namespace pulse
