// SPDX-License-Identifier: MIT
// The window operator: the window rules (window_rules.h) applied to records and watermarks,
// over one store of open windows (window_store.h).
#pragma once

#include <memory>

#include "pulse/core/operator.h"
#include "pulse/core/status.h"
#include "pulse/ops/window.h"

namespace pulse::ops::internal {

/// A window operator for one worker (`ctx`): its open windows on the heap, or, with
/// options.state_in_backend, in the backend options.state_backend opens for `ctx`.
/// Errors: InvalidArgument when options.Validate() fails (the option named); the state
/// backend's errors when it cannot be opened.
Result<std::unique_ptr<KeyedOperator>> MakeWindowOperator(const WindowOptions& options,
                                                          const KeyedOperatorContext& ctx);

}  // namespace pulse::ops::internal
