// SPDX-License-Identifier: MIT
// RunHistory: tiers of samples, merged as they age; the last checkpoints and bad records.
#include "pulse/core/run_history.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace pulse {
namespace {

// `newer` replaces `older` and the points between them: its time, totals and watermarks, and
// the largest gauges.
void Absorb(const RunSample& older, RunSample& newer) {
  newer.open_windows = std::max(newer.open_windows, older.open_windows);
  newer.state_entries = std::max(newer.state_entries, older.state_entries);
}

std::vector<RunHistory::Tier> ValidTiers(RunHistory::Options options) {
  if (!options.Validate().ok()) return RunHistory::Options{}.tiers;
  return std::move(options.tiers);
}

}  // namespace

Status RunHistory::Options::Validate() const {
  if (tiers.empty()) return Status::InvalidArgument("a run history needs at least one tier");
  for (size_t i = 0; i < tiers.size(); ++i) {
    if (tiers[i].capacity < 2) {
      return Status::InvalidArgument(fmt::format("history tier {} holds fewer than 2 points", i));
    }
    const bool last = i + 1 == tiers.size();
    if (!last && (tiers[i].merge < 2 || tiers[i].merge > tiers[i].capacity)) {
      return Status::InvalidArgument(fmt::format(
          "history tier {} must merge 2 to {} points (its capacity)", i, tiers[i].capacity));
    }
  }
  return Status::OK();
}

RunHistory::RunHistory() : RunHistory(Options{}) {}

RunHistory::RunHistory(Options options)
    : tiers_(ValidTiers(std::move(options))), points_(tiers_.size()) {}

void RunHistory::Add(const RunSample& sample) {
  std::lock_guard<std::mutex> lock(mu_);
  ++sequence_;
  points_[0].push_back(sample);
  for (size_t tier = 0; tier < tiers_.size(); ++tier) {
    std::deque<RunSample>& points = points_[tier];
    if (points.size() <= tiers_[tier].capacity) break;
    if (tier + 1 < tiers_.size()) {
      MergeInto(tier, tiers_[tier].merge);
      continue;
    }
    // The last tier: merge neighbours in pairs, oldest first (an odd newest point stays).
    std::deque<RunSample> halved;
    for (size_t i = 0; i + 1 < points.size(); i += 2) {
      RunSample merged = points[i + 1];
      Absorb(points[i], merged);
      halved.push_back(merged);
    }
    if (points.size() % 2 == 1) halved.push_back(points.back());
    points = std::move(halved);
  }
}

// The oldest `count` points of `tier` become one point at the end of the next tier.
void RunHistory::MergeInto(size_t tier, size_t count) {
  std::deque<RunSample>& points = points_[tier];
  RunSample merged = points[count - 1];
  for (size_t i = 0; i + 1 < count; ++i) Absorb(points[i], merged);
  points.erase(points.begin(), points.begin() + static_cast<std::ptrdiff_t>(count));
  points_[tier + 1].push_back(merged);
}

void RunHistory::SetCheckpoints(std::vector<CheckpointRecord> recent, uint64_t committed,
                                uint64_t failed) {
  std::lock_guard<std::mutex> lock(mu_);
  checkpoints_ = std::move(recent);
  checkpoints_committed_ = committed;
  checkpoints_failed_ = failed;
}

void RunHistory::SetBadRecords(std::vector<RecentBadRecord> recent) {
  std::lock_guard<std::mutex> lock(mu_);
  bad_records_ = std::move(recent);
}

RunHistory::View RunHistory::Read(std::optional<uint64_t> after) const {
  std::lock_guard<std::mutex> lock(mu_);
  View view;
  view.sequence = sequence_;
  const std::deque<RunSample>& recent = points_[0];
  if (after && *after <= sequence_ && sequence_ - *after <= recent.size()) {
    view.full = false;
    view.samples.assign(recent.end() - static_cast<std::ptrdiff_t>(sequence_ - *after),
                        recent.end());
  } else {
    for (size_t tier = tiers_.size(); tier-- > 0;) {
      view.samples.insert(view.samples.end(), points_[tier].begin(), points_[tier].end());
    }
  }
  view.checkpoints = checkpoints_;
  view.checkpoints_committed = checkpoints_committed_;
  view.checkpoints_failed = checkpoints_failed_;
  view.bad_records = bad_records_;
  return view;
}

size_t RunHistory::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const std::deque<RunSample>& points : points_) n += points.size();
  return n;
}

}  // namespace pulse
