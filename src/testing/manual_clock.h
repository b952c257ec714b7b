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

/// Processing time under a test's control: Now() and UnixMillis() move only by Advance() (or,
/// with Sleep::kAdvance, by SleepFor). WaitSlice() is at most a millisecond.
///
/// SleepFor() by default does not move the clock: it yields for at most a millisecond of real
/// time, so code that waits for an interval loops on Now() until the test advances the clock
/// (a test sees that it is waiting through sleeps()). With Sleep::kAdvance, SleepFor(d) moves
/// the clock by d at once instead, a simulated sleep: code that polls runs without real
/// waiting, and elapsed() tells how much processing time its waits took.
///
/// Code that retries until a deadline (e.g. the Kafka client's RetryWhileUnavailable) never
/// reaches the deadline while a test holds the clock still. Thread-safe.
class ManualClock final : public Clock {
 public:
  /// What SleepFor does.
  enum class Sleep : uint8_t {
    kWaitForTest,  // yield (at most 1 ms of real time); the clock stays where it is
    kAdvance,      // move the clock forward by the duration at once
  };

  /// Starts at an arbitrary monotonic origin and at `unix_ms` on the wall clock.
  explicit ManualClock(int64_t unix_ms = 1'700'000'000'000) : unix_origin_ms_(unix_ms) {}

  TimePoint Now() const override { return TimePoint(Duration(elapsed_ns_.load())); }
  int64_t UnixMillis() const override { return unix_origin_ms_ + elapsed_ns_.load() / 1'000'000; }
  void SleepFor(Duration d) override {
    sleeps_.fetch_add(1);
    if (sleep_.load() == Sleep::kAdvance) {
      Advance(d);
      return;
    }
    std::this_thread::sleep_for(std::clamp(d, Duration{0}, kMaxRealWait));
  }
  Duration WaitSlice(Duration d) const override {
    return std::clamp(d, Duration{0}, kMaxRealWait);
  }

  /// Move both clocks forward by `d` (>= 0).
  void Advance(Duration d) { elapsed_ns_.fetch_add(std::max(d, Duration{0}).count()); }

  /// How far the clock has moved.
  Duration elapsed() const { return Duration(elapsed_ns_.load()); }

  /// Choose what SleepFor does from now on (default: kWaitForTest).
  void SetSleep(Sleep sleep) { sleep_.store(sleep); }

  /// How many times SleepFor was called.
  uint64_t sleeps() const { return sleeps_.load(); }

 private:
  static constexpr Duration kMaxRealWait = std::chrono::milliseconds(1);

  const int64_t unix_origin_ms_;
  std::atomic<int64_t> elapsed_ns_{0};
  std::atomic<Sleep> sleep_{Sleep::kWaitForTest};
  std::atomic<uint64_t> sleeps_{0};
};

}  // namespace pulse::testing
