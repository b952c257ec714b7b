// SPDX-License-Identifier: MIT
// RunOutputs: recover, publish, abort or suspend a run's outputs together.
#include "core/run_outputs.h"

#include <string_view>

namespace pulse::internal {
namespace {

Status NotCheckpointed(const Sink& sink) {
  return Status::Internal(sink.Describe() + " has no checkpoint side");
}

}  // namespace

Status RunOutputs::Recover(const CheckpointManifest* manifest) {
  CheckpointedSink* sink = sink_.AsCheckpointed();
  if (sink == nullptr) return NotCheckpointed(sink_);
  auto info = [&](std::string_view name) {
    return manifest != nullptr ? manifest->FindSink(name) : nullptr;
  };
  PULSE_RETURN_IF_ERROR(sink->Recover(info("sink")).WithContext("sink"));
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
  CheckpointedSink* sink = sink_.AsCheckpointed();
  Status st = sink != nullptr ? sink->Suspend().WithContext("sink") : NotCheckpointed(sink_);
  Status dead = dead_letters_.Suspend();
  if (st.ok()) st = dead;
  if (late_ != nullptr) {
    Status late = late_->Suspend();
    if (st.ok()) st = late.WithContext("late output");
  }
  return st;
}

}  // namespace pulse::internal
