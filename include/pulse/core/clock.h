// SPDX-License-Identifier: MIT
// Clock: processing time for the engine and its connectors, injected so that tests drive it.
#pragma once

#include <chrono>
#include <cstdint>

namespace pulse {

/// Processing time: a monotonic clock for intervals, timeouts and durations, and a wall clock
/// for timestamps shown to users. Every interval in Pulse (checkpoint interval, Sink::Tick,
/// idle timeouts, file age, retry backoff, follow polling) reads a Clock, never
/// std::chrono directly. Event time comes from records, never from a Clock.
/// Thread-safe: any method may be called from any thread.
class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;

  /// Monotonic now. Never goes back.
  virtual TimePoint Now() const = 0;

  /// Wall-clock now, in milliseconds since the Unix epoch (for file names and timestamps that
  /// people read; intervals use Now()).
  virtual int64_t UnixMillis() const = 0;

  /// Let `d` of this clock's time pass before returning (polling a followed file, backing off
  /// before a retry). A manual clock does not move by itself: it waits briefly in real time and
  /// returns, so a caller loops on Now() until a test advances it.
  virtual void SleepFor(Duration d) = 0;

  /// The longest real time a thread may block (on a condition variable or a queue) while it
  /// waits for `d` of this clock's time to pass; it must then look at Now() again. The system
  /// clock: `d`. A manual clock: at most a millisecond, since only the test moves it.
  virtual Duration WaitSlice(Duration d) const = 0;

  /// The system clocks (std::chrono::steady_clock and system_clock). Lives forever.
  static Clock& Real();
};

}  // namespace pulse
