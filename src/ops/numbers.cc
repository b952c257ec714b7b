// SPDX-License-Identifier: MIT
#include "ops/numbers.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace pulse::ops::internal {
namespace {

constexpr double kTwoTo63 = 9223372036854775808.0;  // 2^63, exactly a double

// An integer literal: an optional '-' then digits only, fitting int64.
bool ParseInteger(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const char* first = text.data();
  const char* last = first + text.size();
  auto [ptr, ec] = std::from_chars(first, last, *out);
  return ec == std::errc() && ptr == last;
}

// The order of JSON value kinds in CompareJsonTexts.
int KindRank(std::string_view text) {
  if (text.empty()) return 0;
  switch (text.front()) {
    case 'n': return 0;  // null
    case 'f': return 1;
    case 't': return 2;
    case '"': return 4;
    case '[':
    case '{': return 5;
    default: return 3;  // a number
  }
}

Number ParseNumberText(std::string_view text) {
  int64_t i = 0;
  if (ParseInteger(text, &i)) return Number::Int(i);
  double d = 0;
  std::from_chars(text.data(), text.data() + text.size(), d);
  return Number::Double(d);
}

}  // namespace

bool NumberOf(const Value& v, Number* out) {
  switch (v.type()) {
    case Value::Type::kInt:
      *out = Number::Int(v.as_int());
      return true;
    case Value::Type::kDouble:
      *out = Number::Double(v.as_double());
      return true;
    case Value::Type::kString: {
      int64_t i = 0;
      if (ParseInteger(v.as_string(), &i)) {
        *out = Number::Int(i);
        return true;
      }
      double d = 0;
      if (!v.ToNumber(&d)) return false;
      *out = Number::Double(d);
      return true;
    }
    default:
      return false;
  }
}

int CompareNumbers(const Number& a, const Number& b) {
  if (a.is_int && b.is_int) return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  if (!a.is_int && !b.is_int) return a.d < b.d ? -1 : (a.d > b.d ? 1 : 0);
  // An int64 against a double: compare with the double's integer part, then its fraction.
  const bool flip = !a.is_int;
  const int64_t x = flip ? b.i : a.i;
  const double y = flip ? a.d : b.d;
  int c = 0;
  if (y >= kTwoTo63) {
    c = -1;
  } else if (y < -kTwoTo63) {
    c = 1;
  } else {
    const double whole = std::trunc(y);
    const auto yi = static_cast<int64_t>(whole);
    if (x != yi) {
      c = x < yi ? -1 : 1;
    } else {
      c = y > whole ? -1 : (y < whole ? 1 : 0);
    }
  }
  return flip ? -c : c;
}

double IntegerSum::AsDouble() const {
  if (FitsInt64()) return static_cast<double>(AsInt64());
  // The magnitude hi·2^64 + lo (two's complement negated when negative), its two parts rounded
  // separately: within an ulp or two of the exact sum.
  const bool negative = hi_ < 0;
  uint64_t lo = lo_;
  uint64_t hi = static_cast<uint64_t>(hi_);
  if (negative) {
    lo = ~lo + 1;
    hi = ~hi + (lo == 0 ? 1 : 0);
  }
  const double magnitude = static_cast<double>(hi) * 18446744073709551616.0 +
                           static_cast<double>(lo);
  return negative ? -magnitude : magnitude;
}

uint64_t QuantileRank(double q, uint64_t n) {
  const double product = q * static_cast<double>(n);
  const double nearest = std::nearbyint(product);
  // q came from a decimal literal: q·n is off an exact integer by rounding only.
  const double slack = 4 * std::numeric_limits<double>::epsilon() * std::max(1.0, product);
  const double rank = std::abs(product - nearest) <= slack ? nearest : std::ceil(product);
  if (rank < 1) return 1;
  if (rank >= static_cast<double>(n)) return n;
  return static_cast<uint64_t>(rank);
}

int CompareJsonTexts(std::string_view a, std::string_view b) {
  const int ka = KindRank(a);
  const int kb = KindRank(b);
  if (ka != kb) return ka < kb ? -1 : 1;
  if (ka == 3) {
    const int c = CompareNumbers(ParseNumberText(a), ParseNumberText(b));
    if (c != 0) return c;
  }
  return a.compare(b) < 0 ? -1 : (a.compare(b) > 0 ? 1 : 0);
}

}  // namespace pulse::ops::internal
