// SPDX-License-Identifier: MIT
// Datum and the value rules shared by operators and functions: numbers from strings, text of
// scalars, comparison and equality.
#include "expr/eval.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "pulse/core/json.h"

namespace pulse::expr::internal {

void Datum::SetDouble(double d) {
  if (!std::isfinite(d)) {
    kind_ = Kind::kNull;
    return;
  }
  kind_ = Kind::kDouble;
  d_ = d;
}

void Datum::SetValue(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      SetNull();
      return;
    case Value::Type::kBool:
      SetBool(v.as_bool());
      return;
    case Value::Type::kInt:
      SetInt(v.as_int());
      return;
    case Value::Type::kDouble:
      SetDouble(v.as_double());
      return;
    case Value::Type::kString:
      SetView(v.as_string());
      return;
    case Value::Type::kArray:
    case Value::Type::kObject:
      kind_ = Kind::kJson;
      json_ = &v;
      return;
  }
}

Value Datum::ToValue() const {
  switch (kind_) {
    case Kind::kNull:
      return Value();
    case Kind::kBool:
      return Value(b_);
    case Kind::kInt:
      return Value(i_);
    case Kind::kDouble:
      return Value(d_);
    case Kind::kString:
      return Value(std::string(str()));
    case Kind::kJson:
      return *json_;
  }
  return Value();
}

std::optional<Number> ParseNumber(std::string_view text) {
  size_t pos = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
  const size_t digits_start = pos;
  auto digits = [&] {
    const size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    return pos > start;
  };
  if (!digits()) return std::nullopt;
  bool integral = true;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    integral = false;
    if (!digits()) return std::nullopt;
  }
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    integral = false;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
    if (!digits()) return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  // from_chars takes a '-' but not a '+'.
  const char* first = text.data() + (text[0] == '+' ? digits_start : 0);
  const char* last = text.data() + text.size();
  if (integral) {
    int64_t i = 0;
    auto [end, ec] = std::from_chars(first, last, i);
    if (ec == std::errc() && end == last) return Number{true, i, 0};
  }
  double d = 0;
  auto [end, ec] = std::from_chars(first, last, d);
  if (ec == std::errc::result_out_of_range) {
    // Too small rounds to zero; too large has no finite value.
    const std::string_view s(first, static_cast<size_t>(last - first));
    const size_t e = s.find_first_of("eE");
    if (e != std::string_view::npos && e + 1 < s.size() && s[e + 1] == '-') {
      return Number{false, 0, 0.0};
    }
    return std::nullopt;
  }
  if (ec != std::errc() || end != last || !std::isfinite(d)) return std::nullopt;
  return Number{false, 0, d};
}

std::optional<Number> ToNumber(const Datum& d) {
  switch (d.kind()) {
    case Datum::Kind::kInt:
      return Number{true, d.as_int(), 0};
    case Datum::Kind::kDouble:
      return Number{false, 0, d.as_double()};
    case Datum::Kind::kString:
      return ParseNumber(d.str());
    default:
      return std::nullopt;
  }
}

std::optional<std::string_view> ToText(const Datum& d, std::string* buffer) {
  switch (d.kind()) {
    case Datum::Kind::kString:
      return d.str();
    case Datum::Kind::kInt:
      buffer->clear();
      buffer->append(std::to_string(d.as_int()));
      return std::string_view(*buffer);
    case Datum::Kind::kDouble:
      buffer->clear();
      AppendJsonDouble(d.as_double(), buffer);
      return std::string_view(*buffer);
    case Datum::Kind::kBool:
      return d.as_bool() ? std::string_view("true") : std::string_view("false");
    default:
      return std::nullopt;
  }
}

namespace {

int Sign(long double x) { return x < 0 ? -1 : (x > 0 ? 1 : 0); }

int CompareNumbers(const Number& a, const Number& b) {
  if (a.is_int && b.is_int) return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  // long double holds every int64 and every double exactly on the platforms Pulse builds for.
  const long double x = a.is_int ? static_cast<long double>(a.i) : a.d;
  const long double y = b.is_int ? static_cast<long double>(b.i) : b.d;
  return Sign(x - y);
}

bool IsNumeric(const Datum& d) {
  return d.kind() == Datum::Kind::kInt || d.kind() == Datum::Kind::kDouble;
}

}  // namespace

std::optional<int> Compare(const Datum& a, const Datum& b) {
  using K = Datum::Kind;
  if (IsNumeric(a) || IsNumeric(b)) {
    std::optional<Number> x = ToNumber(a);
    std::optional<Number> y = ToNumber(b);
    if (!x || !y) return std::nullopt;
    return CompareNumbers(*x, *y);
  }
  if (a.kind() == K::kString && b.kind() == K::kString) {
    const int c = a.str().compare(b.str());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.kind() == K::kBool && b.kind() == K::kBool) {
    return static_cast<int>(a.as_bool()) - static_cast<int>(b.as_bool());
  }
  return std::nullopt;
}

bool Equal(const Datum& a, const Datum& b) {
  if (a.kind() == Datum::Kind::kJson || b.kind() == Datum::Kind::kJson) {
    return a.kind() == b.kind() && a.json() == b.json();
  }
  std::optional<int> c = Compare(a, b);
  return c.has_value() && *c == 0;
}

}  // namespace pulse::expr::internal
