// SPDX-License-Identifier: MIT
// Evaluation: Datum (a value during evaluation, borrowing from the record where it can) and the
// compiled tree of EvalNodes, plus the value rules every operator and function shares.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/record.h"
#include "pulse/core/value.h"

namespace pulse::expr::internal {

/// A value during evaluation. Scalars are held inline; strings, arrays and objects of the record
/// (or of a literal) are borrowed, so a field that passes through is never copied; computed
/// strings are owned. Moving a Datum keeps it valid (the view of an owned string is recomputed).
class Datum {
 public:
  enum class Kind : uint8_t { kNull, kBool, kInt, kDouble, kString, kJson };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_double() const { return d_; }
  std::string_view str() const { return owned_ ? std::string_view(own_) : view_; }
  /// kJson: an array or object of the record (or of a literal).
  const Value& json() const { return *json_; }

  void SetNull() { kind_ = Kind::kNull; }
  void SetBool(bool b) {
    kind_ = Kind::kBool;
    b_ = b;
  }
  void SetInt(int64_t i) {
    kind_ = Kind::kInt;
    i_ = i;
  }
  /// NaN and infinities become null (JSON has no text for them).
  void SetDouble(double d);
  /// Borrow `s`, which must outlive the evaluation (the record's or a literal's text).
  void SetView(std::string_view s) {
    kind_ = Kind::kString;
    view_ = s;
    owned_ = false;
  }
  void SetString(std::string s) {
    kind_ = Kind::kString;
    own_ = std::move(s);
    owned_ = true;
  }
  /// Borrow `v` (any type: scalars are copied, strings, arrays and objects borrowed).
  void SetValue(const Value& v);

  /// The value as a Value (strings copied).
  Value ToValue() const;

 private:
  Kind kind_ = Kind::kNull;
  bool b_ = false;
  bool owned_ = false;
  int64_t i_ = 0;
  double d_ = 0;
  const Value* json_ = nullptr;
  std::string_view view_;
  std::string own_;
};

/// A number: an exact int64 or a double.
struct Number {
  bool is_int = true;
  int64_t i = 0;
  double d = 0;
  double AsDouble() const { return is_int ? static_cast<double>(i) : d; }
};

/// The number `d` holds: integers and doubles, and strings that are entirely a decimal number
/// ("12" is an integer, "1.5" and "2e3" doubles; no spaces, no inf or nan). Otherwise nullopt.
std::optional<Number> ToNumber(const Datum& d);

/// Parse a decimal number as ToNumber does for strings.
std::optional<Number> ParseNumber(std::string_view text);

/// The text of a scalar for string functions and concatenation: strings as they are, numbers
/// as their JSON text, booleans "true"/"false". Arrays and objects: nullopt.
std::optional<std::string_view> ToText(const Datum& d, std::string* buffer);

/// Compare two non-null values under the rules of docs/expressions.md: numbers with numbers
/// (exactly, int64 against double too), a number with a string that is a number, strings
/// bytewise, booleans (false < true). Returns <0, 0, >0, or nullopt when they cannot be ordered.
std::optional<int> Compare(const Datum& a, const Datum& b);

/// Equality as `=`: Compare() == 0 when comparable; arrays and objects by JSON value;
/// otherwise false.
bool Equal(const Datum& a, const Datum& b);

/// One node of a compiled tree. Immutable after compilation; Eval may run on many threads.
class EvalNode {
 public:
  virtual ~EvalNode() = default;
  /// Set `*out` to the value of this node for `record` (which outlives `*out`'s use).
  virtual void Eval(const Record& record, Datum* out) const = 0;
};

using EvalPtr = std::unique_ptr<EvalNode>;

/// The truth of a condition: a boolean, or unknown (null or any other value).
enum class Tri : uint8_t { kFalse, kTrue, kUnknown };
inline Tri TruthOf(const Datum& d) {
  if (d.kind() != Datum::Kind::kBool) return Tri::kUnknown;
  return d.as_bool() ? Tri::kTrue : Tri::kFalse;
}

}  // namespace pulse::expr::internal
