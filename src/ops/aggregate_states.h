// SPDX-License-Identifier: MIT
// The states of the named aggregates: one per kind of state (AggregatePlan maps aggregates onto
// them), each with Add, Merge, its results and its binary image.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>
#include <vector>

#include "ops/distinct_sketch.h"
#include "ops/heavy_hitters.h"
#include "ops/numbers.h"
#include "ops/quantile_sketch.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/core/value.h"

namespace pulse::ops::internal {

/// One field of one record, as the states read it.
struct FieldInput {
  const Value* value = nullptr;  // the field, unless it is missing or null; borrowed
  bool has_number = false;       // whether the value is or spells a number (numeric fields only)
  Number number;                 // that number
};

// Every state has the same interface: Add(const FieldInput&, EventTime) with a record's input
// and event time; Merge(State&& other), as if other's records came first in the input (ties of
// first and last); AppendTo(std::string*) and ReadFrom(std::string_view*) (Corruption when the
// image is bad) for its image, little-endian (state_image.h). Not thread-safe.

/// count(*): records.
struct CountAllState {
  int64_t n = 0;

  void Add(const FieldInput&, EventTime) { ++n; }
  void Merge(CountAllState&& other) { n += other.n; }
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);
};

/// count(x): records whose x is not null.
struct CountValuesState {
  int64_t n = 0;

  void Add(const FieldInput& in, EventTime) { n += in.value != nullptr ? 1 : 0; }
  void Merge(CountValuesState&& other) { n += other.n; }
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);
};

/// sum and avg: integers summed exactly in 128 bits, doubles apart.
struct SumState {
  IntegerSum ints;
  double doubles = 0;
  int64_t n = 0;  // numbers added
  bool has_double = false;

  void Add(const FieldInput& in, EventTime) {
    if (!in.has_number) return;
    ++n;
    if (in.number.is_int) {
      ints.Add(in.number.i);
    } else {
      doubles += in.number.d;
      has_double = true;
    }
  }
  void Merge(SumState&& other);
  /// An integer while only integers came and their sum fits int64, else a double; null
  /// without numbers.
  Value Sum() const;
  /// A double; null without numbers.
  Value Avg() const;
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);
};

/// min (kMax false) or max (kMax true): the extreme number as it came. Of numbers that are
/// equal, an integer is kept over a double, and -0.0 is below 0.0, so the result does not
/// depend on the order of the input.
template <bool kMax>
struct ExtremeState {
  bool has = false;
  Number value;

  void Add(const FieldInput& in, EventTime) {
    if (in.has_number && (!has || Better(in.number, value))) {
      value = in.number;
      has = true;
    }
  }
  void Merge(ExtremeState&& other) {
    if (other.has && (!has || Better(other.value, value))) {
      value = other.value;
      has = true;
    }
  }
  Value Result() const { return has ? value.ToValue() : Value(); }
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);

  // Whether `a` replaces the current extreme `b`.
  static bool Better(const Number& a, const Number& b);
};

/// stddev and variance: Welford's running mean and sum of squared deviations, merged with
/// Chan's formula.
struct MomentsState {
  int64_t n = 0;
  double mean = 0;
  double m2 = 0;

  void Add(const FieldInput& in, EventTime) {
    if (!in.has_number) return;
    const double x = in.number.AsDouble();
    ++n;
    const double delta = x - mean;
    mean += delta / static_cast<double>(n);
    m2 += delta * (x - mean);
  }
  void Merge(MomentsState&& other);
  /// The variance (sample: over n − 1, null below 2 numbers; population: over n, null
  /// without numbers), or its square root.
  Value Variance(bool sample) const;
  Value Stddev(bool sample) const;
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);
};

/// distinct: the JSON texts of the values, exactly.
struct DistinctState {
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Set = std::unordered_set<std::string, TextHash, std::equal_to<>>;
  std::unique_ptr<Set> values;  // allocated with the first value

  void Add(const FieldInput& in, EventTime);
  void Merge(DistinctState&& other);
  int64_t Count() const { return values ? static_cast<int64_t>(values->size()) : 0; }
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);
};

/// approx_distinct: a DistinctSketch of the values' hashes.
struct ApproxDistinctState {
  DistinctSketch sketch;

  void Add(const FieldInput& in, EventTime) {
    if (in.value != nullptr) sketch.Add(HashValueForDistinct(*in.value));
  }
  void Merge(ApproxDistinctState&& other) { sketch.Merge(other.sketch); }
  int64_t Count() const { return sketch.Estimate(); }
  void AppendTo(std::string* out) const { sketch.AppendTo(out); }
  Status ReadFrom(std::string_view* in) { return sketch.ReadFrom(in); }
};

/// quantile and quantiles: a QuantileSketch of the numbers, and whether all were integers.
struct QuantileState {
  QuantileSketch sketch;
  bool all_int = true;

  void Add(const FieldInput& in, EventTime) {
    if (!in.has_number) return;
    sketch.Add(in.number.AsDouble());
    all_int = all_int && in.number.is_int;
  }
  void Merge(QuantileState&& other) {
    all_int = all_int && other.all_int;
    sketch.Merge(other.sketch);
  }
  /// The number at q (QuantileRank), an integer when all numbers were; null without numbers.
  Value At(double q) const;
  /// At(q) for each of `quantiles`, as an array.
  Value AtEach(const std::vector<double>& quantiles) const;
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);

 private:
  Value Typed(double v) const;
};

/// first (kLast false) or last (kLast true): the non-null value with the smallest / largest
/// event time; of equal times the first / last in the input.
template <bool kLast>
struct EdgeState {
  bool has = false;
  EventTime time = 0;
  Value value;

  void Add(const FieldInput& in, EventTime t) {
    if (in.value == nullptr) return;
    if (!has || (kLast ? t >= time : t < time)) {
      has = true;
      time = t;
      value = *in.value;
    }
  }
  void Merge(EdgeState&& other) {
    if (other.has && (!has || (kLast ? other.time > time : other.time <= time))) {
      *this = std::move(other);
    }
  }
  Value Result() const { return has ? value : Value(); }
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);
};

/// top_k: a HeavyHitters of the values' JSON texts.
struct TopKState {
  uint32_t capacity = 0;                // HeavyHitters::CapacityFor(k)
  std::unique_ptr<HeavyHitters> counts;  // allocated with the first value

  void Add(const FieldInput& in, EventTime);
  void Merge(TopKState&& other);
  /// [{"value": v, "count": c}, ...], at most k, by count descending then value.
  Value Top(uint32_t k) const;
  void AppendTo(std::string* out) const;
  Status ReadFrom(std::string_view* in);
};

/// What a state keeps; the order of AggState's alternatives, and the kind byte of images.
enum class StateKind : uint8_t {
  kCountAll,
  kCountValues,
  kSum,
  kMin,
  kMax,
  kMoments,
  kDistinct,
  kApproxDistinct,
  kQuantile,
  kFirst,
  kLast,
  kTopK,
};

using AggState =
    std::variant<CountAllState, CountValuesState, SumState, ExtremeState<false>,
                 ExtremeState<true>, MomentsState, DistinctState, ApproxDistinctState,
                 QuantileState, EdgeState<false>, EdgeState<true>, TopKState>;

/// An empty state of `kind` (top_k: with `capacity`).
AggState MakeState(StateKind kind, uint32_t capacity);

}  // namespace pulse::ops::internal
