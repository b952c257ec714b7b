// SPDX-License-Identifier: MIT
// RunHistory: what a run did over time, for the status page and the run report: samples of its
// counters taken about once a second on the run's clock (merged into coarser points as they
// age, so that memory stays bounded), its last checkpoints and its last bad records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"

namespace pulse {

/// A run's counters at one moment. Counts are totals since the run started.
struct RunSample {
  int64_t unix_ms = 0;        // the run's wall clock (Clock::UnixMillis) when it was taken
  uint64_t records_in = 0;    // good records the source read
  uint64_t records_out = 0;   // results the sink wrote
  uint64_t late = 0;          // records dropped as late
  uint64_t bad = 0;           // malformed input records (the reasons a source reports)
  /// The watermark the sink has reached (kMinWatermark: none yet; kMaxWatermark: the end of a
  /// finite input), as pulse_watermark_lag_ms measures it.
  EventTime watermark = kMinWatermark;
  /// The largest event time the source has read (kMinWatermark: none yet).
  EventTime newest_event = kMinWatermark;
  uint64_t open_windows = 0;   // windows (or sessions) open in the keyed operator
  uint64_t state_entries = 0;  // keyed state entries (pulse_state_size)
};

/// One checkpoint attempt of a run.
struct CheckpointRecord {
  uint64_t id = 0;
  int64_t started_unix_ms = 0;  // when its barrier left the source (the run's wall clock)
  double duration_ms = 0;       // from then until it committed or failed
  uint64_t bytes = 0;           // the committed checkpoint's files; 0 when it failed
  bool failed = false;
  std::string error;  // why it failed (empty when it committed)
};

/// The history of one run. The executor adds a sample at the start, about once a second of the
/// run's clock and at the end (RunOptions::history); the status page reads it while the run
/// goes and the run report (`pulse run --report`) once it has ended.
///
/// Samples live in tiers: the newest ones at full resolution (one a second: by default the
/// last hour), older ones merged `merge` at a time into the next tier's points, and the last
/// tier, when full, merges its points in pairs (its spacing doubles), so the whole run stays
/// covered with at most the sum of the capacities. A merged point keeps the newest sample's
/// time, totals and watermarks and the largest open windows and state entries of the samples
/// it replaces, so rates computed between points stay exact averages.
/// Thread-safe: one thread adds, any thread reads.
class RunHistory {
 public:
  struct Tier {
    size_t capacity = 0;  // points the tier holds
    size_t merge = 0;     // points merged into one point of the next tier (not the last tier)
  };
  struct Options {
    /// Default: 3600 points a second apart (an hour), 360 of 10 s (an hour), 1380 of a minute
    /// (23 hours), then 1000 points of 10 minutes (about a week) or more: 6340 points, about
    /// 0.5 MB.
    std::vector<Tier> tiers = {{3600, 10}, {360, 6}, {1380, 10}, {1000, 0}};
    /// Errors: InvalidArgument when there is no tier, a tier holds fewer than 2 points, or a
    /// tier other than the last merges fewer than 2 or more than its capacity.
    Status Validate() const;
  };

  /// What Read() returns: a copy.
  struct View {
    /// Oldest first: every point, or (full = false) only the samples added after Read's
    /// `after`.
    std::vector<RunSample> samples;
    bool full = true;
    /// Samples added so far; pass it to the next Read to get only the newer ones.
    uint64_t sequence = 0;
    std::vector<CheckpointRecord> checkpoints;  // the last ones, oldest first
    uint64_t checkpoints_committed = 0;
    uint64_t checkpoints_failed = 0;
    std::vector<RecentBadRecord> bad_records;  // the last ones, oldest first
  };

  /// With the default tiers.
  RunHistory();
  /// Requires: options.Validate() is OK (otherwise the default tiers are used).
  explicit RunHistory(Options options);
  RunHistory(const RunHistory&) = delete;
  RunHistory& operator=(const RunHistory&) = delete;

  /// Append a sample (its unix_ms should not go back in time).
  void Add(const RunSample& sample);
  /// Replace the checkpoint list (the last attempts, oldest first) and the totals.
  void SetCheckpoints(std::vector<CheckpointRecord> recent, uint64_t committed, uint64_t failed);
  /// Replace the list of the last bad records (oldest first).
  void SetBadRecords(std::vector<RecentBadRecord> recent);

  /// Everything; or, with `after` (a View::sequence from an earlier Read), only the samples
  /// added since, when they are all still at full resolution (full = false); otherwise
  /// everything (full = true).
  View Read(std::optional<uint64_t> after = std::nullopt) const;

  /// Points held now (at most the sum of the tiers' capacities).
  size_t size() const;

 private:
  void MergeInto(size_t tier, size_t count);

  const std::vector<Tier> tiers_;
  mutable std::mutex mu_;
  std::vector<std::deque<RunSample>> points_;  // per tier, oldest first; guarded by mu_
  uint64_t sequence_ = 0;                      // guarded by mu_
  std::vector<CheckpointRecord> checkpoints_;  // guarded by mu_
  uint64_t checkpoints_committed_ = 0;         // guarded by mu_
  uint64_t checkpoints_failed_ = 0;            // guarded by mu_
  std::vector<RecentBadRecord> bad_records_;   // guarded by mu_
};

}  // namespace pulse
