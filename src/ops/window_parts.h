// SPDX-License-Identifier: MIT
// Pieces both window operators (window.cc on the heap, stored_window.cc in a state backend)
// share: the result record and the order-preserving integer encoding of state keys.
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

/// The result record {"window_start_ms","window_end_ms","key","<agg>"} for window [start, end)
/// of a key, at event time end − 1, ordered by (end, start, key text).
KeyedResult MakeWindowResult(int64_t start, int64_t end, std::string_view key_text,
                             const Value& key_value, std::string_view agg_name, Value agg_value);

/// Append `v` as 8 big-endian bytes with the sign bit flipped, so that bytes sort like numbers.
void AppendOrderedInt64(int64_t v, std::string* out);

/// Read what AppendOrderedInt64 wrote from the front of `*in`, consuming it; false if short.
bool ReadOrderedInt64(std::string_view* in, int64_t* v);

/// One session in a key's session list, as both session operators store it: its start and
/// last event time (ordered int64s), then its accumulator's image.
void AppendSession(int64_t start, int64_t last, const Accumulator& acc, std::string* out);

/// Read what AppendSession wrote from the front of `*in`, consuming it. Errors: Corruption
/// "window state: short session", or the accumulator's own.
Status ReadSession(std::string_view* in, int64_t* start, int64_t* last, Accumulator* acc);

}  // namespace pulse::ops::internal
