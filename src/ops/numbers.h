// SPDX-License-Identifier: MIT
// Numbers as the named aggregates see them: an integer or a double as it came (Number), their
// exact order, and an integer sum that cannot overflow (IntegerSum).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pulse/core/value.h"

namespace pulse::ops::internal {

/// A number as a record carried it: an int64 or a double (never NaN or infinite). A value type.
struct Number {
  bool is_int = true;
  int64_t i = 0;  // when is_int
  double d = 0;   // otherwise

  static Number Int(int64_t v) { return {true, v, 0}; }
  static Number Double(double v) { return {false, 0, v}; }

  double AsDouble() const { return is_int ? static_cast<double>(i) : d; }
  /// The number as a Value: an integer stays an integer.
  Value ToValue() const { return is_int ? Value(i) : Value(d); }
};

/// The number `v` is or spells: a JSON integer or double, or a string that is entirely a
/// decimal number (an integer literal that fits int64 is an integer: "12" → 12, "12.0" → 12.0,
/// "1e3" → 1000.0). Otherwise (null, bool, other strings, arrays, objects) false.
bool NumberOf(const Value& v, Number* out);

/// -1, 0 or 1 as a < b, a = b or a > b, exactly (an int64 against a double too: 2^53 + 1 is
/// above 2^53 as a double).
int CompareNumbers(const Number& a, const Number& b);

/// A sum of int64s in 128 bits, so that it cannot overflow (2^64 additions of int64s fit).
/// A value type.
class IntegerSum {
 public:
  void Add(int64_t v) {
    const uint64_t before = lo_;
    lo_ += static_cast<uint64_t>(v);
    // The carry out of the low word, plus the sign extension of v into the high word.
    hi_ += (lo_ < before ? 1 : 0) + (v < 0 ? -1 : 0);
  }
  void Add(const IntegerSum& other) {
    const uint64_t before = lo_;
    lo_ += other.lo_;
    hi_ += other.hi_ + (lo_ < before ? 1 : 0);
  }
  /// Whether the sum fits an int64.
  bool FitsInt64() const {
    return hi_ == (static_cast<int64_t>(lo_) < 0 ? -1 : 0);
  }
  /// The sum. Requires: FitsInt64().
  int64_t AsInt64() const { return static_cast<int64_t>(lo_); }
  /// The sum rounded to a double.
  double AsDouble() const;

  int64_t hi() const { return hi_; }
  uint64_t lo() const { return lo_; }
  static IntegerSum FromWords(int64_t hi, uint64_t lo) {
    IntegerSum s;
    s.hi_ = hi;
    s.lo_ = lo;
    return s;
  }

 private:
  int64_t hi_ = 0;   // the high 64 bits (two's complement of the whole)
  uint64_t lo_ = 0;  // the low 64 bits
};

/// The position ⌈q·n⌉ (1-based, at least 1) of the q-quantile of n sorted values, as DuckDB's
/// quantile_disc: q·n within a few units in the last place of an integer counts as that
/// integer, so that 0.3 · 10 is 3 although the product of the doubles is 3.0000000000000004.
/// Requires: n ≥ 1, q in [0, 1].
uint64_t QuantileRank(double q, uint64_t n);

/// A total order of JSON values for results that list values (top_k): null, false, true, then
/// numbers by value (ints and doubles compared exactly; equal ones by their text), strings
/// bytewise, arrays and objects by their JSON text. Compares two JSON texts written by
/// AppendJson. Returns <0, 0 or >0.
int CompareJsonTexts(std::string_view a, std::string_view b);

}  // namespace pulse::ops::internal
