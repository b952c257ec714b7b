// SPDX-License-Identifier: MIT
// The per-(window, key) accumulator of the windowed aggregation.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "pulse/core/status.h"
#include "pulse/core/value.h"
#include "pulse/ops/window.h"

namespace pulse::ops::internal {

/// What one record contributes to an aggregation, extracted once per record.
struct AggInput {
  bool has_number = false;
  double number = 0;
  bool has_distinct = false;
  std::string distinct_text;  // compact JSON text of the value (distinct only)
};

/// Extract `spec`'s input from a record value.
AggInput ExtractAggInput(const AggSpec& spec, const Value& value);

/// Accumulator for every aggregation kind. Not thread-safe.
class Accumulator {
 public:
  void Add(const AggInput& in);
  /// Fold `other` into this (session merges).
  void Merge(Accumulator&& other);
  /// The result value for `kind`: count/distinct_count integers; sum/avg/min/max doubles or
  /// null when no numeric value was seen.
  Value Result(AggSpec::Kind kind) const;

  /// Append an exact binary image of the accumulator to `out` (checkpoints).
  void AppendTo(std::string* out) const;
  /// Read an image written by AppendTo from the front of `*in`, consuming it.
  /// Errors: Corruption if it is truncated.
  Status ReadFrom(std::string_view* in);

 private:
  int64_t count_ = 0;
  int64_t numeric_count_ = 0;
  double sum_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
  std::unique_ptr<std::unordered_set<std::string>> distinct_;
};

}  // namespace pulse::ops::internal
