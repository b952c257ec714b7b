// SPDX-License-Identifier: MIT
// RunOutputs: recover, publish, abort or suspend a run's outputs together.
#include "core/run_outputs.h"

#include <string_view>

namespace pulse::internal {
namespace {

const Value* FindMember(const Object& object, std::string_view name) {
  for (const auto& [key, value] : object) {
    if (key == name) return &value;
  }
  return nullptr;
}

}  // namespace

Status RunOutputs::Recover(const CheckpointManifest* manifest) {
  auto info = [&](std::string_view name) -> const Value* {
    if (manifest == nullptr) return nullptr;
    const Value* v = FindMember(manifest->sinks, name);
    return v != nullptr && !v->is_null() ? v : nullptr;
  };
  PULSE_RETURN_IF_ERROR(sink_.Recover(info("sink")).WithContext("sink"));
  PULSE_RETURN_IF_ERROR(dead_letters_.Recover(info("dead_letters")));
  if (late_ != nullptr) {
    PULSE_RETURN_IF_ERROR(late_->Recover(info("late_output")).WithContext("late output"));
  }
  return Status::OK();
}

Status RunOutputs::Publish() {
  PULSE_RETURN_IF_ERROR(dead_letters_.Close());
  if (late_ != nullptr) PULSE_RETURN_IF_ERROR(late_->Commit());
  return sink_.Close().WithContext("sink");
}

void RunOutputs::Abort() {
  sink_.Abort();
  if (late_ != nullptr) late_->Abort();
}

Status RunOutputs::Suspend() {
  Status st = sink_.Suspend().WithContext("sink");
  Status dead = dead_letters_.Suspend();
  if (st.ok()) st = dead;
  if (late_ != nullptr) {
    Status late = late_->Suspend();
    if (st.ok()) st = late.WithContext("late output");
  }
  return st;
}

}  // namespace pulse::internal
