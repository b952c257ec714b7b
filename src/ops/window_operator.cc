// SPDX-License-Identifier: MIT
// The choice of store for a window operator.
#include "ops/window_operator.h"

#include "ops/window_parts.h"

namespace pulse::ops::internal {

Result<std::unique_ptr<KeyedOperator>> MakeWindowOperator(const WindowOptions& options,
                                                          const KeyedOperatorContext& ctx) {
  PULSE_RETURN_IF_ERROR(options.Validate());
  const bool session = options.window.kind == WindowSpec::Kind::kSession;
  if (!options.state_in_backend) {
    return session ? MakeHeapSessionOperator(options, ctx) : MakeHeapFixedOperator(options, ctx);
  }
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<state::StateBackend> backend,
                         options.state_backend(ctx));
  PULSE_ASSIGN_OR_RETURN(state::KvState kv, backend->OpenNamespace(kWindowNamespace));
  return session ? MakeBackendSessionOperator(options, ctx, std::move(backend), kv)
                 : MakeBackendFixedOperator(options, ctx, std::move(backend), kv);
}

}  // namespace pulse::ops::internal
