// SPDX-License-Identifier: MIT
// Value: object member access, numeric conversion and JSON text.
#include "pulse/core/value.h"

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <system_error>

#include "pulse/core/json.h"

namespace pulse {
namespace {

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Cap for exponent digits while scanning, far beyond any double's range but safe from overflow.
constexpr int64_t kExponentCap = 1'000'000;

// Parse `text` if it is entirely a decimal number: [+-]digits[.digits][(e|E)[+-]digits].
bool ParseDecimalNumber(std::string_view text, double* out) {
  size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    negative = text[pos] == '-';
    ++pos;
  }
  const size_t number_start = pos;  // from_chars takes '-' but not '+': start after the sign
  // Decimal magnitude of the first non-zero digit (before the exponent), to tell an underflow
  // (a tiny value that rounds to zero) from an overflow when from_chars reports out of range.
  bool seen_nonzero = false;
  int64_t magnitude = 0;
  const size_t int_start = pos;
  while (pos < text.size() && IsDigit(text[pos])) ++pos;
  const size_t int_end = pos;
  if (int_end == int_start) return false;
  for (size_t i = int_start; i < int_end; ++i) {
    if (text[i] != '0') {
      seen_nonzero = true;
      magnitude = static_cast<int64_t>(int_end - i) - 1;
      break;
    }
  }
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t frac_start = pos;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (!seen_nonzero && text[pos] != '0') {
        seen_nonzero = true;
        magnitude = -static_cast<int64_t>(pos - frac_start) - 1;
      }
      ++pos;
    }
    if (pos == frac_start) return false;
  }
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    bool exp_negative = false;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
      exp_negative = text[pos] == '-';
      ++pos;
    }
    const size_t exp_start = pos;
    int64_t exponent = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (exponent < kExponentCap) exponent = exponent * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == exp_start) return false;
    magnitude += exp_negative ? -exponent : exponent;
  }
  if (pos != text.size()) return false;

  // A leading '+' is not accepted by from_chars; '-' is, so keep it in the parsed text.
  const char* first = text.data() + (negative ? number_start - 1 : number_start);
  const char* last = text.data() + text.size();
  double value = 0;
  auto [end, ec] = std::from_chars(first, last, value, std::chars_format::general);
  if (ec == std::errc::result_out_of_range && seen_nonzero && magnitude < 0) {
    value = negative ? -0.0 : 0.0;  // underflow: the nearest double is zero
  } else if (ec != std::errc() || end != last) {
    return false;
  }
  if (!std::isfinite(value)) return false;
  *out = value;
  return true;
}

}  // namespace

const Value* Value::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [name, value] : as_object()) {
    if (name == key) return &value;
  }
  return nullptr;
}

void Value::Set(std::string_view key, Value v) {
  Object& members = as_object();
  for (auto& [name, value] : members) {
    if (name == key) {
      value = std::move(v);
      return;
    }
  }
  members.emplace_back(std::string(key), std::move(v));
}

bool Value::ToNumber(double* out) const {
  switch (type()) {
    case Type::kInt:
      *out = static_cast<double>(as_int());
      return true;
    case Type::kDouble:
      *out = as_double();
      return true;
    case Type::kString:
      return ParseDecimalNumber(as_string(), out);
    default:
      return false;
  }
}

std::string Value::ToJson() const {
  std::string out;
  AppendJson(*this, &out);
  return out;
}

}  // namespace pulse
