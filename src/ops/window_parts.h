// SPDX-License-Identifier: MIT
// Pieces every window store shares: the result record, the order-preserving integer encoding of
// state keys, the session image and the state errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ops/aggregate.h"
#include "pulse/core/operator.h"
#include "pulse/core/status.h"
#include "pulse/core/value.h"

namespace pulse::ops::internal {

/// The state namespace of the window operators.
inline constexpr std::string_view kWindowNamespace = "window";

/// Corruption "window state: <what>".
Status CorruptWindowState(std::string_view what);

/// The result record {"window_start_ms","window_end_ms","key","<agg>"} for window [start, end)
/// of a key, at event time end − 1, ordered by (end, start, key text).
KeyedResult MakeWindowResult(int64_t start, int64_t end, std::string_view key_text,
                             const Value& key_value, std::string_view agg_name, Value agg_value);

/// The key value a result carries, rebuilt from its JSON text (which the executor wrote with
/// AppendJson, so it reads back as the same value): plain strings and integers directly, the
/// rest through the JSON parser (text that is not JSON comes back as a string).
Value KeyValueFromText(std::string_view text);

/// Append `v` as 8 big-endian bytes with the sign bit flipped, so that bytes sort like numbers.
void AppendOrderedInt64(int64_t v, std::string* out);

/// Read what AppendOrderedInt64 wrote from the front of `*in`, consuming it; false if short.
bool ReadOrderedInt64(std::string_view* in, int64_t* v);

/// One session in a key's session list, as both session stores keep it: its start and
/// last event time (ordered int64s), then its accumulator's image.
void AppendSession(int64_t start, int64_t last, const Accumulator& acc, std::string* out);

/// Read what AppendSession wrote from the front of `*in`, consuming it. Errors: Corruption
/// "window state: short session", or the accumulator's own.
Status ReadSession(std::string_view* in, int64_t* start, int64_t* last, Accumulator* acc);

}  // namespace pulse::ops::internal
