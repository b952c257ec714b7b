// SPDX-License-Identifier: MIT
// The fixed-window operator whose open windows live in a state backend (RocksDB), so that they
// may exceed memory.
#pragma once

#include <memory>

#include "pulse/core/operator.h"
#include "pulse/ops/window.h"

namespace pulse::ops::internal {

/// A tumbling or sliding window operator that keeps every open (window, key) accumulator in
/// the backend `options.state_backend` opens for `ctx` (one Get and one Put per record and
/// window; a scan per released window), with only a count of open keys per window in memory.
/// Same results, order and late records as the in-memory operator. Checkpoints are the
/// backend's own snapshots. Requires: options.state_backend is set; the window is not a session.
Result<std::unique_ptr<KeyedOperator>> MakeStoredFixedWindowOperator(
    const WindowOptions& options, const KeyedOperatorContext& ctx);

}  // namespace pulse::ops::internal
