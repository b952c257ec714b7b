// SPDX-License-Identifier: MIT
// Where a window operator keeps its open windows: the store interfaces, and the stores (on the
// heap; in a state backend such as RocksDB, with a write-back cache for fixed windows).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "ops/aggregate.h"
#include "ops/window_rules.h"
#include "pulse/core/operator.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/ops/window.h"
#include "pulse/state/state_backend.h"

namespace pulse::ops::internal {

/// The open windows of one window operator instance (one worker, its key groups): per
/// (window, key) the aggregation's accumulator. A store keeps, releases and checkpoints windows;
/// what belongs to which window, and when a window closes, is decided by WindowRules, which the
/// operator and the store share. The operator calls each method from its worker's thread; a
/// store is not thread-safe. Every result a store releases is the record MakeWindowResult
/// builds (window_parts.h).
class WindowStore {
 public:
  virtual ~WindowStore() = default;

  /// A lower bound of the smallest end of an open window, exact for fixed windows;
  /// kMaxWatermark when no window is open. Cheap (constant time): the operator calls it after
  /// each Add, Release and Restore to know the next watermark that closes something.
  virtual EventTime NextEnd() const = 0;

  /// Append the result of every (window, key) that WindowRules::IsClosed at `watermark`
  /// to out->results, in ascending (end, start, key text) order (KeyedResult's order), and
  /// forget those windows. Errors: the backend's (IOError), Corruption for unreadable state.
  virtual Status Release(EventTime watermark, KeyedOutput* out) = 0;

  /// The number of open (window, key) pairs (sessions: open sessions), for metrics.
  virtual uint64_t open_windows() const = 0;

  /// Write every open window into the empty directory `dir` (KeyedOperator::SnapshotState).
  /// The open windows are unchanged. Errors: IOError.
  virtual Status Snapshot(const std::string& dir) = 0;

  /// Replace every open window by those of the snapshots in `dirs` (written by Snapshot of the
  /// same kind of store with any key-group split) that lie in this instance's key groups
  /// (KeyedOperator::RestoreState). Errors: Corruption for entries this store cannot read;
  /// the backend's errors.
  virtual Status Restore(std::span<const std::string> dirs) = 0;
};

/// Tumbling and sliding windows, whose accumulators a record updates in place.
class FixedWindowStore : public WindowStore {
 public:
  /// Add `input`, from a record whose key is `key` (its compact JSON text), to the accumulator
  /// of (window, key) for every window from `windows` on, creating the ones that are new.
  /// Requires: windows.Valid(). Errors: the backend's, Corruption for unreadable state.
  virtual Status Add(std::string_view key, const AggInput& input, FixedWindowCursor windows) = 0;
};

/// What SessionStore::Add did with a record.
enum class SessionAdd : uint8_t {
  kAdded,  // in a session: its own, or one it merged with
  kLate,   // late for all of its windows: not added
};

/// Session windows: per key, its open sessions (disjoint, sorted by start, none touching).
class SessionStore : public WindowStore {
 public:
  /// Place a record of key `key` at time `ts` among the key's open sessions at `watermark`
  /// (WindowRules::PlaceSession). Unless it is late, merge it (`input` its contribution) with
  /// the sessions it touches (WindowRules::MergeSession) and keep the merged session.
  /// Returns which of the two it did. Errors: the backend's, Corruption for unreadable state.
  virtual Result<SessionAdd> Add(std::string_view key, EventTime ts, EventTime watermark,
                                 const AggInput& input) = 0;
};

// The stores. Each factory returns the window operator (window_operator.h) over a new store of
// its kind, so that the operator calls the store directly.

/// Fixed windows on the heap: each key's text stored once per worker, each window an
/// open-addressing table from key id to the aggregation's compact accumulator. Checkpoints go
/// through options.state_backend (default: an in-memory backend), opened at the first snapshot
/// or restore as a mirror that each snapshot updates with what changed.
/// Requires: options.Validate() is OK and the spec is tumbling or sliding.
std::unique_ptr<KeyedOperator> MakeHeapFixedOperator(const WindowOptions& options,
                                                     const KeyedOperatorContext& ctx);

/// Sessions on the heap: per key id its sessions, and a release queue ordered by end.
/// Checkpoints as MakeHeapFixedOperator's. Requires: options.Validate() is OK, a session spec.
std::unique_ptr<KeyedOperator> MakeHeapSessionOperator(const WindowOptions& options,
                                                       const KeyedOperatorContext& ctx);

/// Fixed windows in `backend` (e.g. RocksDB, so that they may exceed memory): one entry per
/// (window, key), a write-back cache of options.state_cache_bytes in front of it, and per open
/// window a count of its keys in memory. Checkpoints are the backend's own snapshots.
/// Requires: options.Validate() is OK, a tumbling or sliding spec; `kv` is the namespace
/// kWindowNamespace of `backend`.
std::unique_ptr<KeyedOperator> MakeBackendFixedOperator(
    const WindowOptions& options, const KeyedOperatorContext& ctx,
    std::unique_ptr<state::StateBackend> backend, state::KvState kv);

/// Sessions in `backend`: per key its session list, and a release index by end; in memory per
/// key group only a lower bound of its next session end. Checkpoints are the backend's own
/// snapshots. Requires: as MakeBackendFixedOperator, but a session spec.
std::unique_ptr<KeyedOperator> MakeBackendSessionOperator(
    const WindowOptions& options, const KeyedOperatorContext& ctx,
    std::unique_ptr<state::StateBackend> backend, state::KvState kv);

}  // namespace pulse::ops::internal
