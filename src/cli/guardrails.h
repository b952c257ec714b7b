// SPDX-License-Identifier: MIT
// Config checks that protect users from probable mistakes: durations written without a unit,
// and window shapes that would put too many windows on each record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pulse/core/time.h"

namespace pulse::cli {

/// The windows-per-record limit when `window.max_windows_per_record` is not set.
inline constexpr int64_t kDefaultMaxWindowsPerRecord = 10'000;

/// For a bare number such as "300000" (a duration without a unit), the message that suggests
/// its readings: "300000: add a unit: 300000ms = 5m, or 300000s = 3d 11h 20m?". "" for any
/// other text (ParseDuration judges it).
std::string BareDurationMessage(std::string_view text);

/// A duration for people, largest unit first, parts separated by spaces: "3d 11h 20m",
/// "1s 500ms", "0ms".
std::string SpelledDuration(DurationMs d);

/// How many sliding windows of `size` every `slide` contain one instant: ceil(size / slide).
/// Both must be > 0.
int64_t WindowsPerRecord(DurationMs size, DurationMs slide);

}  // namespace pulse::cli
