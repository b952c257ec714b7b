// SPDX-License-Identifier: MIT
// HistorySampler: copies a run's state into its RunHistory (RunOptions::history).
#pragma once

#include "core/checkpoint_coordinator.h"
#include "core/run_state.h"
#include "pulse/core/bad_record.h"
#include "pulse/core/clock.h"
#include "pulse/core/run_history.h"

namespace pulse::internal {

/// Adds one RunSample of the run's counters (RunState, the bad-record counts) at the run's
/// clock's time to `history`, and replaces its lists with the checkpoint coordinator's and the
/// bad-record handler's recent ones. The executor calls Sample() when the stages start, about
/// once a second of the run's clock (on its monitor thread) and once after they end. Borrows
/// everything (it outlives the sampler); `checkpoints` may be null. Sample() is called from one
/// thread at a time.
class HistorySampler {
 public:
  HistorySampler(RunHistory& history, const RunState& state, const BadRecordHandler& bad_records,
                 const CheckpointCoordinator* checkpoints, Clock& clock)
      : history_(history),
        state_(state),
        bad_records_(bad_records),
        checkpoints_(checkpoints),
        clock_(clock) {}
  HistorySampler(const HistorySampler&) = delete;
  HistorySampler& operator=(const HistorySampler&) = delete;

  void Sample();

 private:
  RunHistory& history_;
  const RunState& state_;
  const BadRecordHandler& bad_records_;
  const CheckpointCoordinator* checkpoints_;
  Clock& clock_;
};

}  // namespace pulse::internal
