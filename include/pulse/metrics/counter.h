// SPDX-License-Identifier: MIT
// Counter and Gauge: lock-free metric cells that a Registry owns and renders.
#pragma once

#include <atomic>

namespace pulse::metrics {

/// A value that only goes up (records, bytes, CPU seconds). Counts are kept as a double, as
/// Prometheus does; integers are exact up to 2^53.
/// Thread-safe and lock-free: any thread may Increment(). A Registry owns it; the reference a
/// registry hands out stays valid for the registry's lifetime. Update it per batch rather than
/// per record where a loop is hot.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  /// Add `amount`. Zero, negative and NaN amounts are ignored, so the value never decreases.
  void Increment(double amount = 1) {
    if (amount > 0) value_.fetch_add(amount, std::memory_order_relaxed);
  }

  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// A value that goes up and down (queue depth, watermark, resident memory).
/// Thread-safe and lock-free; owned by a Registry like Counter.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  /// Replace the value. ±infinity is allowed (rendered as +Inf / -Inf).
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }

  /// Add `delta` (may be negative).
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }

  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

}  // namespace pulse::metrics
