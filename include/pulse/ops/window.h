// SPDX-License-Identifier: MIT
// Keyed event-time windows (tumbling, sliding, session) with one aggregation each.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "pulse/core/operator.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/state/state_backend.h"

namespace pulse::ops {

/// Which windows a record at event time ts belongs to.
struct WindowSpec {
  enum class Kind : uint8_t { kTumbling, kSliding, kSession };
  Kind kind = Kind::kTumbling;
  DurationMs size_ms = 0;   // tumbling and sliding
  DurationMs slide_ms = 0;  // sliding
  DurationMs gap_ms = 0;    // session

  /// [floor(ts/size)·size, +size).
  static WindowSpec Tumbling(DurationMs size_ms) { return {Kind::kTumbling, size_ms, 0, 0}; }
  /// Every [k·slide, k·slide + size) that contains ts.
  static WindowSpec Sliding(DurationMs size_ms, DurationMs slide_ms) {
    return {Kind::kSliding, size_ms, slide_ms, 0};
  }
  /// [ts, ts+gap), merged transitively with overlapping or touching sessions of the same key.
  static WindowSpec Session(DurationMs gap_ms) { return {Kind::kSession, 0, 0, gap_ms}; }

  /// Sizes, slides and gaps must be > 0 (and at most kMaxDurationMs); slide ≤ size.
  Status Validate() const;
  std::string Describe() const;
};

/// The aggregation computed per (window, key).
struct AggSpec {
  enum class Kind : uint8_t { kCount, kSum, kAvg, kDistinct, kMin, kMax };
  Kind kind = Kind::kCount;
  std::string field;  // the value field; required for everything but count

  static AggSpec Count() { return {Kind::kCount, {}}; }
  static AggSpec Sum(std::string f) { return {Kind::kSum, std::move(f)}; }
  static AggSpec Avg(std::string f) { return {Kind::kAvg, std::move(f)}; }
  static AggSpec Distinct(std::string f) { return {Kind::kDistinct, std::move(f)}; }
  static AggSpec Min(std::string f) { return {Kind::kMin, std::move(f)}; }
  static AggSpec Max(std::string f) { return {Kind::kMax, std::move(f)}; }

  /// The result field: count, sum, avg, distinct_count, min or max.
  std::string_view OutputName() const;
  Status Validate() const;
};

/// Opens the state backend of one worker's window operator (e.g. RocksDB in a directory per
/// worker) for ctx.key_groups.
using StateBackendFactory = std::function<Result<std::unique_ptr<state::StateBackend>>(
    const KeyedOperatorContext& ctx)>;

struct WindowOptions {
  WindowSpec window;
  AggSpec agg;
  /// A window [s, e) emits once, when the watermark W ≥ e + allowed_lateness. Must be ≥ 0.
  DurationMs allowed_lateness_ms = 0;
  /// Where checkpoints of the open windows go (unset: an in-memory backend). Opened at the
  /// first snapshot or restore, each worker's backend mirrors its open windows: a snapshot
  /// writes only what changed since the previous one, then the backend writes its files.
  StateBackendFactory state_backend;
  /// Keep the open windows in `state_backend` (which must be set, e.g. RocksDB) instead of on
  /// the heap, so that they may exceed memory; checkpoints are then the backend's own
  /// snapshots. Tumbling and sliding: a write-back cache of `state_cache_bytes` in front of the
  /// backend, so one Get and one Put per (window, key) and cache round (the cache is written
  /// back when full, before a release and before a snapshot), a scan per released window.
  /// Sessions: a Get and a Put of the key's session list per record, plus its release-index
  /// entries (docs/checkpoints.md). Same output as on the heap.
  bool state_in_backend = false;
  /// With state_in_backend, the bytes of the tumbling/sliding write-back cache per worker.
  size_t state_cache_bytes = 16u << 20;

  Status Validate() const;
};

/// The windowed aggregation operator. Each result is the object
/// {"window_start_ms":s,"window_end_ms":e,"key":k,"<agg>":v} at event time e − 1.
/// count and distinct_count are integers; sum, avg, min and max are doubles, or null when the
/// window saw no numeric value (numbers and numeric strings count; anything else is ignored).
/// distinct counts distinct JSON values (1 and "1" differ), ignoring missing and null.
/// The options are checked when the run makes the operator (KeyedOperatorFactory::Make calls
/// options.Validate()): a bad option fails the run with InvalidArgument naming it, before any
/// record is processed. Call options.Validate() first to learn it while building.
std::unique_ptr<KeyedOperatorFactory> WindowedAggregate(WindowOptions options);

}  // namespace pulse::ops
