// SPDX-License-Identifier: MIT
// ManualClock: a Clock that moves only when a test advances it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "pulse/core/clock.h"

namespace pulse::testing {

/// Processing time under a test's control: Now() and UnixMillis() move only by Advance().
/// SleepFor() does not move it (it yields for at most a millisecond of real time, so a thread
/// that waits for an interval loops until the test advances the clock), and WaitSlice() is at
/// most a millisecond. Thread-safe.
class ManualClock final : public Clock {
 public:
  /// Starts at an arbitrary monotonic origin and at `unix_ms` on the wall clock.
  explicit ManualClock(int64_t unix_ms = 1'700'000'000'000) : unix_origin_ms_(unix_ms) {}

  TimePoint Now() const override { return TimePoint(Duration(elapsed_ns_.load())); }
  int64_t UnixMillis() const override { return unix_origin_ms_ + elapsed_ns_.load() / 1'000'000; }
  void SleepFor(Duration d) override {
    std::this_thread::sleep_for(std::clamp(d, Duration{0}, kMaxRealWait));
  }
  Duration WaitSlice(Duration d) const override {
    return std::clamp(d, Duration{0}, kMaxRealWait);
  }

  /// Move both clocks forward by `d` (>= 0).
  void Advance(Duration d) { elapsed_ns_.fetch_add(std::max(d, Duration{0}).count()); }

  /// How far Advance() has moved the clock.
  Duration elapsed() const { return Duration(elapsed_ns_.load()); }

 private:
  static constexpr Duration kMaxRealWait = std::chrono::milliseconds(1);

  const int64_t unix_origin_ms_;
  std::atomic<int64_t> elapsed_ns_{0};
};

}  // namespace pulse::testing
