// SPDX-License-Identifier: MIT
// The named aggregates of a window (WindowOptions::aggregates): the plan that maps them onto
// shared states, what a record contributes (one input per field), and AggRow, the accumulator
// of one (window, key) for all of them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ops/aggregate_states.h"
#include "pulse/core/status.h"
#include "pulse/core/value.h"
#include "pulse/ops/window.h"

namespace pulse::ops::internal {

struct AggInput;

/// The named aggregates compiled once per operator: the distinct input fields, the states
/// (aggregates that need the same state share it: sum and avg of a field, its quantiles, its
/// stddev and variance), and per aggregate its output. Immutable after construction, so
/// thread-safe.
class AggregatePlan {
 public:
  struct Field {
    std::string name;
    bool numeric = false;  // some state reads it as a number
  };
  struct State {
    StateKind kind;
    int field = -1;  // index into fields(); -1 for count(*)
    uint32_t capacity = 0;  // top_k: HeavyHitters::CapacityFor(k)
  };
  struct Output {
    std::string name;
    Aggregate::Kind kind;
    uint32_t state = 0;  // index into states()
    std::vector<double> quantiles;
    uint32_t k = 0;
  };

  /// Requires: every aggregate Validate()s and `aggregates` is not empty.
  explicit AggregatePlan(const std::vector<Aggregate>& aggregates);

  const std::vector<Field>& fields() const { return fields_; }
  const std::vector<State>& states() const { return states_; }
  const std::vector<Output>& outputs() const { return outputs_; }

  /// Fill `inputs` (resized to fields().size()) with the fields of a record's `value`; the
  /// inputs point into `value`, which must outlive their use.
  void Extract(const Value& value, std::vector<FieldInput>* inputs) const;

 private:
  std::vector<Field> fields_;
  std::vector<State> states_;
  std::vector<Output> outputs_;
};

/// The accumulator of one (window, key) for every named aggregate: one state per plan state,
/// created by the first Add. Not thread-safe.
class AggRow {
 public:
  /// Add a record's contribution. Requires: in.plan and in.fields are set (the plan of every
  /// other call on this row).
  void Add(const AggInput& in);
  /// Fold `other` (of the same plan) into this. Ties between the two (first and last at equal
  /// event times) go as if `other`'s records came first in the input, which is how session
  /// merges call it (the record that merges sessions is the newest).
  void Merge(AggRow&& other);

  /// Append each aggregate's result under its name, in plan order.
  void AppendResults(const AggregatePlan& plan, Object* out) const;

  /// Append the versioned image: u8 version (1), varint state count, then per state its kind
  /// (u8) and its image (aggregate_states.h).
  void AppendTo(std::string* out) const;
  /// Read an image AppendTo wrote from the front of `*in`, checking it against `plan`.
  /// Errors: Corruption "window state: ..." when it is truncated, of another version, or of
  /// other aggregates.
  Status ReadFrom(const AggregatePlan& plan, std::string_view* in);

  /// Whether any record was added.
  bool empty() const { return states_.empty(); }

 private:
  std::vector<AggState> states_;
};

}  // namespace pulse::ops::internal
