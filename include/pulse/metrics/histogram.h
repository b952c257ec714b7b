// SPDX-License-Identifier: MIT
// Histogram: observations counted in fixed buckets, lock-free.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace pulse::metrics {

/// Bucket upper bounds (ms) of the latency histograms, as in the original Pulse.
inline constexpr std::array<double, 11> kLatencyBucketsMs = {0.1, 0.5, 1,   5,   10,  25,
                                                             50,  100, 250, 500, 1000};

/// Counts observations in buckets with fixed upper bounds (plus +Inf) and sums them.
/// Thread-safe and lock-free; owned by a Registry like Counter.
class Histogram {
 public:
  /// `bounds`: finite upper bounds in ascending order (the +Inf bucket is implicit).
  explicit Histogram(std::span<const double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  /// Record `count` observations of `value` at once (e.g. a batch's per-record mean latency,
  /// weighted by the batch's records). NaN values are ignored.
  void Observe(double value, uint64_t count = 1);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // observations <= bounds[i]; one more entry for +Inf
    double sum = 0;
    uint64_t count = 0;  // == cumulative.back()
  };
  /// A consistent-enough copy: cumulative counts are monotonic and end with `count`.
  Snapshot snapshot() const;

  std::span<const double> bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

}  // namespace pulse::metrics
