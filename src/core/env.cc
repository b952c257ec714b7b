// SPDX-License-Identifier: MIT
// The default Env: the system clocks and the local file system.
#include "pulse/core/env.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace pulse {
namespace {

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  int64_t UnixMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  void SleepFor(Duration d) override { std::this_thread::sleep_for(std::max(d, Duration{0})); }
  Duration WaitSlice(Duration d) const override { return std::max(d, Duration{0}); }
};

}  // namespace

Clock& Clock::Real() {
  static RealClock* clock = new RealClock();  // never destroyed: usable during shutdown
  return *clock;
}

Env& Env::Default() {
  static EnvWithClock* env = new EnvWithClock(Clock::Real());
  return *env;
}

}  // namespace pulse
