// SPDX-License-Identifier: MIT
// Event time: int64 milliseconds since the Unix epoch (UTC), its parsers and durations.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "pulse/core/status.h"

namespace pulse {

/// Milliseconds since 1970-01-01T00:00:00Z. A plain integer so that window arithmetic stays
/// readable; every variable that holds one ends in `_ms` or is typed EventTime.
using EventTime = int64_t;

/// A length of time in milliseconds.
using DurationMs = int64_t;

/// The valid event-time range: the years 0000 to 9999, as RFC 3339 can write them.
/// Keeping times (and durations, see kMaxDurationMs) in this range makes every sum of a time and
/// a duration that Pulse computes safe from overflow.
inline constexpr EventTime kMinEventTime = -62167219200000;  // 0000-01-01T00:00:00Z
inline constexpr EventTime kMaxEventTime = 253402300799999;  // 9999-12-31T23:59:59.999Z
inline constexpr DurationMs kMaxDurationMs = 100LL * 366 * 86400000;  // about 100 years

/// Watermark before anything is known, and the one that flushes everything at end of input.
inline constexpr EventTime kMinWatermark = std::numeric_limits<int64_t>::min() / 4;
inline constexpr EventTime kMaxWatermark = std::numeric_limits<int64_t>::max() / 4;

/// floor(a / b) for b > 0, correct for negative a (times before 1970).
constexpr int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

/// Parse an RFC 3339 timestamp: `YYYY-MM-DD`, `T`/`t`/space, `HH:MM:SS`, an optional fraction
/// of any length (truncated to ms), then `Z`/`z` or `±HH:MM`. Second 60 (a leap second) is read
/// as the first millisecond of the next minute. Returns nullopt for anything else or for a time
/// outside [kMinEventTime, kMaxEventTime].
std::optional<EventTime> ParseRfc3339(std::string_view text);

/// Parse an integer of epoch milliseconds written in decimal digits with an optional leading
/// `-` (a CSV cell). Returns nullopt if the text has anything else or is out of range.
std::optional<EventTime> ParseEpochMillisText(std::string_view text);

/// Return the event time of a CSV cell or JSON string: epoch-ms digits or RFC 3339.
std::optional<EventTime> ParseEventTimeText(std::string_view text);

/// Format as RFC 3339 UTC with milliseconds, e.g. `2024-01-01T00:00:00.000Z`.
/// Watermark sentinels format as `-inf` / `+inf`.
std::string FormatEventTime(EventTime t);

/// Parse a duration: one or more `<digits><unit>` parts with unit ms, s, m, h or d
/// ("1h30m", "500ms", "10s"); a bare integer means seconds (as in the original Pulse).
/// An optional leading '-' gives a negative duration (callers reject it where it is not allowed).
/// Errors: InvalidArgument naming what is allowed.
Result<DurationMs> ParseDuration(std::string_view text);

/// Format a duration compactly ("1h30m", "500ms", "0s").
std::string FormatDuration(DurationMs d);

}  // namespace pulse
