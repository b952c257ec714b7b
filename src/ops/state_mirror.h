// SPDX-License-Identifier: MIT
// The checkpoint mirror of the heap stores: a state backend that a snapshot brings up to date
// with the open windows, then writes to files.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pulse/core/operator.h"
#include "pulse/core/status.h"
#include "pulse/ops/window.h"
#include "pulse/state/state_backend.h"

namespace pulse::ops::internal {

/// The state backend a heap store checkpoints through: options.state_backend (e.g. RocksDB) or,
/// by default, an in-memory one, opened for the worker's key groups at the first snapshot or
/// restore (runs without checkpoints never open it) and kept as a mirror of the open windows:
/// a snapshot writes only what changed since the previous one, then the backend writes its
/// files. Owned by one store; not thread-safe.
class StateMirror {
 public:
  StateMirror(const WindowOptions& options, const KeyedOperatorContext& ctx)
      : factory_(options.state_backend), ctx_(ctx) {}
  StateMirror(const StateMirror&) = delete;
  StateMirror& operator=(const StateMirror&) = delete;

  /// The mirror's namespace (kWindowNamespace), opening the backend on the first call.
  /// Errors: the backend factory's.
  Result<state::KvState> Get();

  /// Write the mirror's files into `dir` (StateBackend::Snapshot). Requires: Get() succeeded.
  Status Snapshot(const std::string& dir);

  /// Load the snapshots in `dirs` into the mirror and call visit(key, value) for every entry of
  /// the worker's key groups, stopping at the first error, which it returns.
  Status Restore(std::span<const std::string> dirs,
                 const std::function<Status(std::string_view, std::string_view)>& visit);

 private:
  StateBackendFactory factory_;
  KeyedOperatorContext ctx_;
  std::unique_ptr<state::StateBackend> backend_;
  std::optional<state::KvState> kv_;  // its namespace, once open
};

/// An entry removed from the open windows since the last snapshot, to delete from the mirror.
struct Deletion {
  state::KeyGroup group;
  std::string key;
};

}  // namespace pulse::ops::internal
