// SPDX-License-Identifier: MIT
// RunOutputs: everything a run writes (the sink, the dead-letter file, the late output) and
// how it ends: published, aborted, or suspended for the next run.
#pragma once

#include "pulse/core/bad_record.h"
#include "pulse/core/checkpoint_store.h"
#include "pulse/core/connector.h"
#include "pulse/core/output_file.h"
#include "pulse/core/status.h"

namespace pulse::internal {

/// The outputs of one run. Borrows them; they outlive it. `late` is null without a late
/// output. Lifecycle: the sink opened → Recover (with checkpoints) → writes by the stages →
/// exactly one of Publish, Abort, Suspend. Not thread-safe: Recover and the ending are called
/// by the thread that runs the executor while no stage runs.
class RunOutputs {
 public:
  RunOutputs(Sink& sink, BadRecordHandler& dead_letters, OutputFile* late)
      : sink_(sink), dead_letters_(dead_letters), late_(late) {}

  Sink& sink() { return sink_; }
  BadRecordHandler& dead_letters() { return dead_letters_; }
  OutputFile* late() { return late_; }

  /// With checkpoints, before the first write: continue the in-progress outputs that
  /// `manifest` (the checkpoint resumed from) covers, or, null (a fresh start), remove those
  /// left by crashed runs (CheckpointedSink::Recover, OutputFile::Recover). Errors: the first
  /// output's, with its name as context; Internal if the sink has no checkpoint side.
  Status Recover(const CheckpointManifest* manifest);

  /// Close and make every output visible: dead letters, late output, then the sink.
  /// Errors: the first output's; the caller then aborts or suspends.
  Status Publish();

  /// After a failure without checkpoints: discard every output. Best effort.
  void Abort();

  /// With checkpoints, after a stop or a failure: close the outputs without publishing them,
  /// leaving them for the next run's Recover (CheckpointedSink::Suspend). Errors: the first
  /// output's; Internal if the sink has no checkpoint side.
  Status Suspend();

 private:
  Sink& sink_;
  BadRecordHandler& dead_letters_;
  OutputFile* late_;
};

}  // namespace pulse::internal
