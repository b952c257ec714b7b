// SPDX-License-Identifier: MIT
// Value: a JSON value as Pulse records carry it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "pulse/core/status.h"

namespace pulse {

class Value;
using Array = std::vector<Value>;
/// Object members in their input order; keys are unique (a later duplicate replaces the value).
using Object = std::vector<std::pair<std::string, Value>>;

/// A JSON value: null, bool, int64, double, string, array or object.
/// Integers that fit int64 are kept exact; other numbers are doubles.
/// Value semantics (copyable, movable). Thread-compatible.
class Value {
 public:
  enum class Type : uint8_t { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

  Value() = default;
  Value(std::nullptr_t) {}                             // NOLINT(google-explicit-constructor)
  Value(bool b) : v_(b) {}                             // NOLINT(google-explicit-constructor)
  Value(int v) : v_(static_cast<int64_t>(v)) {}        // NOLINT(google-explicit-constructor)
  Value(int64_t v) : v_(v) {}                          // NOLINT(google-explicit-constructor)
  Value(double v) : v_(v) {}                           // NOLINT(google-explicit-constructor)
  Value(std::string s) : v_(std::move(s)) {}           // NOLINT(google-explicit-constructor)
  Value(std::string_view s) : v_(std::string(s)) {}    // NOLINT(google-explicit-constructor)
  Value(const char* s) : v_(std::string(s)) {}         // NOLINT(google-explicit-constructor)
  Value(Array a) : v_(std::move(a)) {}                 // NOLINT(google-explicit-constructor)
  Value(Object o) : v_(std::move(o)) {}                // NOLINT(google-explicit-constructor)

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_int() const { return type() == Type::kInt; }
  bool is_double() const { return type() == Type::kDouble; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  /// Accessors. Requires: the matching type.
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_double() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  const Object& as_object() const { return std::get<Object>(v_); }
  Object& as_object() { return std::get<Object>(v_); }

  /// Return the member `key` of an object, or nullptr if this is not an object or has no
  /// such member.
  const Value* Find(std::string_view key) const;

  /// Set member `key` of an object (replacing an existing one). Requires: is_object().
  void Set(std::string_view key, Value v);

  /// The number as a double, if this is a number or a string that is entirely a decimal
  /// number (`12`, `-1.5`, `2e3`; no spaces, no inf/nan). Otherwise false.
  bool ToNumber(double* out) const;

  /// Compact JSON text (no spaces), members in order. See json.h for number formatting.
  std::string ToJson() const;

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, Array, Object> v_;
};

}  // namespace pulse
