// SPDX-License-Identifier: MIT
// Line comparison for `pulse test`: tolerant value matching, LCS pairing, diff text.
#include "golden/test_compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "pulse/core/json.h"

namespace pulse::golden {
namespace {

// Above this many cells the exact-order pairing falls back from LCS to a greedy scan.
constexpr size_t kMaxLcsCells = size_t{1} << 22;
constexpr size_t kNone = std::numeric_limits<size_t>::max();

bool Ignored(std::string_view key, const CompareOptions& options) {
  return std::find(options.ignore_fields.begin(), options.ignore_fields.end(), key) !=
         options.ignore_fields.end();
}

// The value of a double that is a whole number in int64's range.
std::optional<int64_t> WholeNumber(double d) {
  constexpr double kTwoTo63 = 9223372036854775808.0;
  if (!std::isfinite(d) || d != std::floor(d) || d < -kTwoTo63 || d >= kTwoTo63) {
    return std::nullopt;
  }
  return static_cast<int64_t>(d);
}

bool NumbersMatch(const Value& a, const Value& b, double tolerance) {
  if (tolerance == 0 && (a.is_int() || b.is_int())) {
    // Exactly, even beyond 2^53: an integer equals a float only if that is the same whole number.
    const std::optional<int64_t> x = a.is_int() ? a.as_int() : WholeNumber(a.as_double());
    const std::optional<int64_t> y = b.is_int() ? b.as_int() : WholeNumber(b.as_double());
    if (x.has_value() || y.has_value()) return x == y;
  }
  const double x = a.is_int() ? static_cast<double>(a.as_int()) : a.as_double();
  const double y = b.is_int() ? static_cast<double>(b.as_int()) : b.as_double();
  if (x == y) return true;
  return std::fabs(x - y) <= tolerance;
}

// `top_level`: whether ignore_fields applies to the members of these values.
bool Match(const Value& e, const Value& a, const CompareOptions& options, bool top_level) {
  if (e.is_number() && a.is_number()) return NumbersMatch(e, a, options.tolerance);
  if (e.type() != a.type()) return false;
  if (e.is_array()) {
    const Array& x = e.as_array();
    const Array& y = a.as_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!Match(x[i], y[i], options, false)) return false;
    }
    return true;
  }
  if (e.is_object()) {
    size_t compared = 0;
    for (const auto& [key, value] : e.as_object()) {
      if (top_level && Ignored(key, options)) continue;
      const Value* other = a.Find(key);
      if (other == nullptr || !Match(value, *other, options, false)) return false;
      ++compared;
    }
    size_t actual_members = 0;
    for (const auto& [key, value] : a.as_object()) {
      if (!(top_level && Ignored(key, options))) ++actual_members;
    }
    return compared == actual_members;
  }
  return e == a;
}

// The members in which two objects differ, as "key: expected X, actual Y" lines.
std::vector<std::string> MemberDifferences(const Value& e, const Value& a,
                                           const CompareOptions& options) {
  std::vector<std::string> out;
  for (const auto& [key, value] : e.as_object()) {
    if (Ignored(key, options)) continue;
    const Value* other = a.Find(key);
    if (other == nullptr) {
      out.push_back(fmt::format("{}: expected {}, actual (missing)", key, value.ToJson()));
    } else if (!Match(value, *other, options, false)) {
      out.push_back(
          fmt::format("{}: expected {}, actual {}", key, value.ToJson(), other->ToJson()));
    }
  }
  for (const auto& [key, value] : a.as_object()) {
    if (Ignored(key, options) || e.Find(key) != nullptr) continue;
    out.push_back(fmt::format("{}: expected (missing), actual {}", key, value.ToJson()));
  }
  return out;
}

// The number of members compared between two objects (the union of their non-ignored keys).
size_t MemberCount(const Value& e, const Value& a, const CompareOptions& options) {
  size_t n = 0;
  for (const auto& [key, value] : e.as_object()) {
    if (!Ignored(key, options)) ++n;
  }
  for (const auto& [key, value] : a.as_object()) {
    if (!Ignored(key, options) && e.Find(key) == nullptr) ++n;
  }
  return n;
}

// A text that two values share exactly when they match with tolerance 0: numbers by value,
// members sorted, top-level ignored members left out.
void AppendCanonical(const Value& v, const CompareOptions& options, bool top_level,
                     std::string* out) {
  switch (v.type()) {
    case Value::Type::kInt:
      *out += std::to_string(v.as_int());
      return;
    case Value::Type::kDouble:
      if (std::optional<int64_t> whole = WholeNumber(v.as_double())) {
        *out += std::to_string(*whole);
      } else {
        AppendJsonDouble(v.as_double(), out);
      }
      return;
    case Value::Type::kArray:
      *out += '[';
      for (const Value& item : v.as_array()) {
        AppendCanonical(item, options, false, out);
        *out += ',';
      }
      *out += ']';
      return;
    case Value::Type::kObject: {
      std::vector<const std::pair<std::string, Value>*> members;
      for (const auto& member : v.as_object()) {
        if (!(top_level && Ignored(member.first, options))) members.push_back(&member);
      }
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->first < b->first; });
      *out += '{';
      for (const auto* member : members) {
        AppendJsonString(member->first, out);
        *out += ':';
        AppendCanonical(member->second, options, false, out);
        *out += ',';
      }
      *out += '}';
      return;
    }
    default:
      AppendJson(v, out);
      return;
  }
}

// Whether expected line i matches actual line j. Without a tolerance, matching is equality of
// canonical texts, computed once per line, so that long lists compare quickly.
class Matcher {
 public:
  Matcher(std::span<const Value> expected, std::span<const Value> actual,
          const CompareOptions& options)
      : expected_(expected), actual_(actual), options_(options) {
    if (options.tolerance != 0) return;
    std::map<std::string, uint32_t> ids;
    auto id_of = [&](const Value& v) {
      std::string text;
      AppendCanonical(v, options, true, &text);
      return ids.emplace(std::move(text), static_cast<uint32_t>(ids.size())).first->second;
    };
    for (const Value& v : expected) expected_ids_.push_back(id_of(v));
    for (const Value& v : actual) actual_ids_.push_back(id_of(v));
  }

  bool operator()(size_t i, size_t j) const {
    if (options_.tolerance == 0) return expected_ids_[i] == actual_ids_[j];
    return Match(expected_[i], actual_[j], options_, true);
  }

 private:
  std::span<const Value> expected_;
  std::span<const Value> actual_;
  const CompareOptions& options_;
  std::vector<uint32_t> expected_ids_;
  std::vector<uint32_t> actual_ids_;
};

// Pairs (expected index → actual index) along a longest common subsequence of matching lines.
std::vector<size_t> PairInOrder(size_t n, size_t m, const Matcher& match) {
  std::vector<size_t> pair(n, kNone);
  // Common prefix and suffix first: the usual case is a few differences in a long output.
  size_t lo = 0;
  while (lo < n && lo < m && match(lo, lo)) {
    pair[lo] = lo;
    ++lo;
  }
  size_t hi_e = n;
  size_t hi_a = m;
  while (hi_e > lo && hi_a > lo && match(hi_e - 1, hi_a - 1)) {
    pair[--hi_e] = --hi_a;
  }
  const size_t rows = hi_e - lo;
  const size_t cols = hi_a - lo;
  if (rows == 0 || cols == 0) return pair;
  if (rows * cols > kMaxLcsCells) {
    size_t j = lo;
    for (size_t i = lo; i < hi_e && j < hi_a; ++i) {
      for (size_t k = j; k < hi_a; ++k) {
        if (match(i, k)) {
          pair[i] = k;
          j = k + 1;
          break;
        }
      }
    }
    return pair;
  }
  // lcs[i * width + j]: LCS length of expected[lo+i..hi_e) and actual[lo+j..hi_a).
  const size_t width = cols + 1;
  std::vector<uint32_t> lcs((rows + 1) * width, 0);
  for (size_t i = rows; i-- > 0;) {
    uint32_t* row = &lcs[i * width];
    const uint32_t* below = row + width;
    for (size_t j = cols; j-- > 0;) {
      row[j] = match(lo + i, lo + j) ? below[j + 1] + 1 : std::max(below[j], row[j + 1]);
    }
  }
  size_t i = 0;
  size_t j = 0;
  while (i < rows && j < cols) {
    if (match(lo + i, lo + j) && lcs[i * width + j] == lcs[(i + 1) * width + j + 1] + 1) {
      pair[lo + i] = lo + j;
      ++i;
      ++j;
    } else if (lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
      ++i;
    } else {
      ++j;
    }
  }
  return pair;
}

}  // namespace

bool ValuesMatch(const Value& expected, const Value& actual, const CompareOptions& options) {
  return Match(expected, actual, options, true);
}

Comparison Compare(std::span<const Value> expected, std::span<const Value> actual,
                   const CompareOptions& options) {
  const size_t n = expected.size();
  const size_t m = actual.size();
  const Matcher match(expected, actual, options);
  std::vector<size_t> pair;
  std::vector<bool> used(m, false);
  if (options.order == CompareOptions::Order::kExact) {
    pair = PairInOrder(n, m, match);
    for (size_t p : pair) {
      if (p != kNone) used[p] = true;
    }
  } else {
    pair.assign(n, kNone);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < m; ++j) {
        if (!used[j] && match(i, j)) {
          pair[i] = j;
          used[j] = true;
          break;
        }
      }
    }
  }

  Comparison result;
  std::vector<std::optional<Difference>> by_expected(n);
  for (size_t i = 0; i < n; ++i) {
    if (pair[i] != kNone) ++result.equal;
  }
  // Moved: the same line at another position (exact order only).
  if (options.order == CompareOptions::Order::kExact) {
    for (size_t i = 0; i < n; ++i) {
      if (pair[i] != kNone) continue;
      for (size_t j = 0; j < m; ++j) {
        if (!used[j] && match(i, j)) {
          used[j] = true;
          by_expected[i] = Difference{Difference::Kind::kMoved, i, j, {}};
          break;
        }
      }
    }
  }
  // Changed: the closest unpaired object that differs in at most half of the members and agrees
  // in at least one.
  for (size_t i = 0; i < n; ++i) {
    if (pair[i] != kNone || by_expected[i].has_value() || !expected[i].is_object()) continue;
    size_t best = kNone;
    size_t best_fields = 0;
    size_t best_distance = 0;
    std::vector<std::string> best_differences;
    for (size_t j = 0; j < m; ++j) {
      if (used[j] || !actual[j].is_object()) continue;
      std::vector<std::string> fields = MemberDifferences(expected[i], actual[j], options);
      const size_t members = MemberCount(expected[i], actual[j], options);
      if (fields.empty() || fields.size() > std::max<size_t>(1, members / 2) ||
          fields.size() >= members) {
        continue;
      }
      const size_t distance = i > j ? i - j : j - i;
      if (best == kNone || fields.size() < best_fields ||
          (fields.size() == best_fields && distance < best_distance)) {
        best = j;
        best_fields = fields.size();
        best_distance = distance;
        best_differences = std::move(fields);
      }
    }
    if (best != kNone) {
      used[best] = true;
      by_expected[i] = Difference{Difference::Kind::kChanged, i, best, std::move(best_differences)};
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (pair[i] != kNone) continue;
    if (by_expected[i].has_value()) {
      result.differences.push_back(std::move(*by_expected[i]));
    } else {
      result.differences.push_back(Difference{Difference::Kind::kMissing, i, 0, {}});
    }
  }
  for (size_t j = 0; j < m; ++j) {
    if (!used[j]) result.differences.push_back(Difference{Difference::Kind::kUnexpected, 0, j, {}});
  }
  return result;
}

std::string FormatDifferences(const Comparison& comparison, std::span<const Value> expected,
                              std::span<const Value> actual, std::string_view indent) {
  std::string out;
  for (const Difference& d : comparison.differences) {
    switch (d.kind) {
      case Difference::Kind::kMissing:
        out += fmt::format("{}- missing     expected #{}: {}\n", indent, d.expected + 1,
                           expected[d.expected].ToJson());
        break;
      case Difference::Kind::kUnexpected:
        out += fmt::format("{}+ unexpected  actual #{}: {}\n", indent, d.actual + 1,
                           actual[d.actual].ToJson());
        break;
      case Difference::Kind::kChanged:
        out += fmt::format("{}~ changed     expected #{}, actual #{}: {}\n", indent, d.expected + 1,
                           d.actual + 1, expected[d.expected].ToJson());
        for (const std::string& field : d.fields) {
          out += fmt::format("{}                {}\n", indent, field);
        }
        break;
      case Difference::Kind::kMoved:
        out += fmt::format("{}> moved       expected #{}, actual #{}: {}\n", indent, d.expected + 1,
                           d.actual + 1, expected[d.expected].ToJson());
        break;
    }
  }
  return out;
}

}  // namespace pulse::golden
