// SPDX-License-Identifier: MIT
// Pieces every window store shares: the result record, the order-preserving integer encoding of
// state keys, the session image and the state errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "ops/aggregate.h"
#include "pulse/core/operator.h"
#include "pulse/core/status.h"
#include "pulse/core/value.h"

namespace pulse::ops::internal {

/// The state namespace of the window operators.
inline constexpr std::string_view kWindowNamespace = "window";

/// Corruption "window state: <what>".
Status CorruptWindowState(std::string_view what);

/// The result of window [start, end) of the key `key_text`: the record `object` at event time
/// end − 1, ordered by (end, start, key text).
KeyedResult WindowResult(int64_t start, int64_t end, std::string_view key_text, Object object);

/// The result record of `acc` for window [start, end) of a key:
/// {"window_start_ms":start,"window_end_ms":end,"key":key_value} and then the aggregation's
/// members (aggregation.AppendResults(acc)).
template <typename Aggregation, typename Acc>
KeyedResult MakeWindowResult(int64_t start, int64_t end, std::string_view key_text,
                             const Value& key_value, const Aggregation& aggregation,
                             const Acc& acc) {
  Object obj;
  obj.reserve(3 + aggregation.result_members());
  obj.emplace_back("window_start_ms", Value(start));
  obj.emplace_back("window_end_ms", Value(end));
  obj.emplace_back("key", key_value);
  aggregation.AppendResults(acc, &obj);
  return WindowResult(start, end, key_text, std::move(obj));
}

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
template <typename Acc>
void AppendSession(int64_t start, int64_t last, const Acc& acc, std::string* out) {
  AppendOrderedInt64(start, out);
  AppendOrderedInt64(last, out);
  acc.AppendTo(out);
}

/// Read what AppendSession wrote from the front of `*in`, consuming it, the accumulator with
/// `aggregation` (AggregationFor<Acc>). Errors: Corruption "window state: short session", or
/// the accumulator's own.
template <typename Aggregation, typename Acc>
Status ReadSession(const Aggregation& aggregation, std::string_view* in, int64_t* start,
                   int64_t* last, Acc* acc) {
  if (!ReadOrderedInt64(in, start) || !ReadOrderedInt64(in, last)) {
    return CorruptWindowState("short session");
  }
  return aggregation.Read(in, acc);
}

}  // namespace pulse::ops::internal
