// SPDX-License-Identifier: MIT
// HistorySampler: one RunSample from the run's shared state, and the recent lists.
#include "core/history_sampler.h"


namespace pulse::internal {

void HistorySampler::Sample() {
  RunSample s;
  s.unix_ms = clock_.UnixMillis();
  s.records_in = state_.source_counters.records.load(std::memory_order_relaxed);
  s.records_out = state_.sink_counters.records.load(std::memory_order_relaxed);
  for (int i = 0; i < kNumBadReasons; ++i) {
    const auto reason = static_cast<BadReason>(i);
    const uint64_t n = bad_records_.count(reason);
    if (reason == BadReason::kLate) {
      s.late = n;
    } else if (reason != BadReason::kChannelFull) {
      s.bad += n;
    }
  }
  s.watermark = state_.sink_watermark.load(std::memory_order_relaxed);
  s.newest_event = state_.newest_event.load(std::memory_order_relaxed);
  for (const WorkerGauges& w : state_.workers) {
    s.open_windows += w.open_windows.load(std::memory_order_relaxed);
    s.state_entries += w.state_entries.load(std::memory_order_relaxed);
  }
  history_.Add(s);
  if (checkpoints_ != nullptr) {
    history_.SetCheckpoints(checkpoints_->Recent(), checkpoints_->committed(),
                            checkpoints_->failed());
  }
  history_.SetBadRecords(bad_records_.Recent());
}

}  // namespace pulse::internal
