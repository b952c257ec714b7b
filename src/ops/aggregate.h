// SPDX-License-Identifier: MIT
// The accumulators of the windowed aggregation: a general one (sessions) and compact ones whose
// layout depends on the aggregation (fixed windows, where there is one per open (window, key)).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/core/value.h"
#include "pulse/ops/window.h"

namespace pulse::ops::internal {

class AggregatePlan;
struct FieldInput;

/// What one record contributes to an aggregation, extracted once per record (and added to each
/// of its windows).
struct AggInput {
  // The original single aggregation (ExtractAggInput).
  bool has_number = false;
  double number = 0;
  bool has_distinct = false;
  std::string distinct_text;  // compact JSON text of the value (distinct only)
  // The named aggregates (AggRow): their plan, the record's event time, and one input per
  // plan field (AggregatePlan::Extract), borrowed for the call.
  const AggregatePlan* plan = nullptr;
  EventTime time = 0;
  const FieldInput* fields = nullptr;
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

// Compact accumulators, one per aggregation kind, for fixed windows. Each has the same
// interface: Add(AggInput), Result(kind) (as Accumulator::Result), AppendTo and ReadFrom (its own
// binary image, host byte order; ReadFrom returns Corruption when truncated). Not thread-safe.

/// count: the number of records.
struct CountAcc {
  int64_t count = 0;

  void Add(const AggInput&) { ++count; }
  Value Result(AggSpec::Kind) const { return Value(count); }
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);
};

/// sum and avg: the numeric values' count and sum.
struct SumAcc {
  int64_t numeric_count = 0;
  double sum = 0;

  void Add(const AggInput& in) {
    if (!in.has_number) return;
    ++numeric_count;
    sum += in.number;
  }
  Value Result(AggSpec::Kind kind) const;
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);
};

/// min (kMax false) or max (kMax true) of the numeric values.
template <bool kMax>
struct ExtremeAcc {
  bool has_value = false;
  double value = 0;

  void Add(const AggInput& in) {
    if (!in.has_number) return;
    // std::min/std::max semantics, as Accumulator (the first value wins ties and NaN compares).
    if (!has_value) {
      value = kMax ? std::max(-std::numeric_limits<double>::infinity(), in.number)
                   : std::min(std::numeric_limits<double>::infinity(), in.number);
    } else {
      value = kMax ? std::max(value, in.number) : std::min(value, in.number);
    }
    has_value = true;
  }
  Value Result(AggSpec::Kind) const { return has_value ? Value(value) : Value(); }
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);
};

/// distinct_count: the set of distinct values' JSON texts, allocated on the first one.
struct DistinctAcc {
  std::unique_ptr<std::unordered_set<std::string>> values;

  void Add(const AggInput& in) {
    if (!in.has_distinct) return;
    if (!values) values = std::make_unique<std::unordered_set<std::string>>();
    values->insert(in.distinct_text);
  }
  Value Result(AggSpec::Kind) const {
    return Value(static_cast<int64_t>(values ? values->size() : 0));
  }
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);
};

}  // namespace pulse::ops::internal
