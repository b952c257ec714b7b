// SPDX-License-Identifier: MIT
// Env: what Pulse needs from its surroundings (processing time and files), in one injectable
// place, as in LevelDB and RocksDB.
#pragma once

#include "pulse/core/clock.h"

namespace pulse {

/// The environment a run uses: its clock and (see below) its file operations. Tests pass an
/// Env whose clock is a ManualClock (src/testing/manual_clock.h); everything else uses
/// Env::Default(). Thread-safe. An Env outlives every run and connector that uses it.
class Env {
 public:
  virtual ~Env() = default;

  /// The process-wide default: the real clock and the local file system. Lives forever.
  static Env& Default();

  /// Processing time.
  virtual Clock& clock() = 0;
};

/// An Env with the default file operations and the given clock (e.g. a ManualClock).
/// `clock` must outlive it. Thread-safe.
class EnvWithClock : public Env {
 public:
  explicit EnvWithClock(Clock& clock) : clock_(clock) {}
  Clock& clock() override { return clock_; }

 private:
  Clock& clock_;
};

}  // namespace pulse
