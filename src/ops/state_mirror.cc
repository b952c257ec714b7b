// SPDX-License-Identifier: MIT
#include "ops/state_mirror.h"

#include "ops/window_parts.h"
#include "pulse/state/memory_backend.h"

namespace pulse::ops::internal {

Result<state::KvState> StateMirror::Get() {
  if (kv_) return *kv_;
  if (factory_) {
    PULSE_ASSIGN_OR_RETURN(backend_, factory_(ctx_));
  } else {
    PULSE_ASSIGN_OR_RETURN(backend_, state::OpenMemoryBackend({ctx_.key_groups}));
  }
  PULSE_ASSIGN_OR_RETURN(state::KvState kv, backend_->OpenNamespace(kWindowNamespace));
  kv_ = kv;
  return kv;
}

Status StateMirror::Snapshot(const std::string& dir) {
  return backend_->Snapshot(dir).status();
}

Status StateMirror::Restore(
    std::span<const std::string> dirs,
    const std::function<Status(std::string_view, std::string_view)>& visit) {
  PULSE_ASSIGN_OR_RETURN(state::KvState kv, Get());
  PULSE_RETURN_IF_ERROR(backend_->Restore(dirs));
  Status result;
  PULSE_RETURN_IF_ERROR(kv.Scan(ctx_.key_groups, "",
                                [&](state::KeyGroup, std::string_view key,
                                    std::string_view value) {
                                  result = visit(key, value);
                                  return result.ok() ? state::ScanNext::kContinue
                                                     : state::ScanNext::kStop;
                                }));
  return result;
}

}  // namespace pulse::ops::internal
