// SPDX-License-Identifier: MIT
// The in-memory state backend (the default): sorted maps per namespace and key group.
#pragma once

#include <memory>

#include "pulse/core/key_group.h"
#include "pulse/core/status.h"
#include "pulse/state/state_backend.h"

namespace pulse::state {

struct MemoryBackendOptions {
  /// The key groups the backend holds (a worker's range).
  KeyGroupRange key_groups = KeyGroupRange::All();
  /// Where snapshots are written and read; null: Env::Default(). Must outlive the backend.
  Env* env = nullptr;

  /// The range must be non-empty and within [0, kMaxKeyGroups).
  Status Validate() const;
};

/// A backend whose state lives on the heap. Snapshots write one file per namespace
/// ("ns-<i>.kvs", format in docs/checkpoints.md). Errors: InvalidArgument (options).
Result<std::unique_ptr<StateBackend>> OpenMemoryBackend(MemoryBackendOptions options);

}  // namespace pulse::state
