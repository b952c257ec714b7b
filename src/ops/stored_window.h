// SPDX-License-Identifier: MIT
// The window operators whose open windows live in a state backend (RocksDB), so that they may
// exceed memory.
#pragma once

#include <memory>

#include "pulse/core/operator.h"
#include "pulse/ops/window.h"

namespace pulse::ops::internal {

/// A window operator that keeps every open window in the backend `options.state_backend` opens
/// for `ctx`, with only a little bookkeeping in memory (per open fixed window a count of its
/// keys; per key group the next session end). Tumbling and sliding windows: a write-back cache
/// of options.state_cache_bytes in front of the backend (one Get and one Put per window, key and
/// cache round), a scan per released window. Sessions: per record a Get and a Put of
/// the key's session list plus its release-index entries; a release scans the index of the
/// groups with a session due. Same results, order and late records as the heap operators.
/// Checkpoints are the backend's own snapshots. Requires: options.state_backend is set.
Result<std::unique_ptr<KeyedOperator>> MakeStoredWindowOperator(const WindowOptions& options,
                                                                const KeyedOperatorContext& ctx);

}  // namespace pulse::ops::internal
