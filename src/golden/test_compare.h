// SPDX-License-Identifier: MIT
// Comparing a case's actual lines with the expected ones, and the readable diff of the two.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "golden/test_file.h"

#include "pulse/core/value.h"

namespace pulse::golden {

/// One way in which the actual lines differ from the expected ones.
struct Difference {
  enum class Kind : uint8_t {
    kMissing,     // an expected line that no actual line matches
    kUnexpected,  // an actual line that no expected line matches
    kChanged,     // an expected and an actual object that differ in a few members
    kMoved,       // order "exact": a line that matches, but at another position
  };
  Kind kind = Kind::kMissing;
  size_t expected = 0;  // 0-based index into the expected lines (all kinds but kUnexpected)
  size_t actual = 0;    // 0-based index into the actual lines (all kinds but kMissing)
  /// kChanged: one line per differing member, e.g. "count: expected 2, actual 3".
  std::vector<std::string> fields;
};

struct Comparison {
  size_t equal = 0;  // expected lines matched by an actual line at the right place
  /// Missing, changed and moved lines by expected index, then unexpected ones by actual index.
  std::vector<Difference> differences;
  bool ok() const { return differences.empty(); }
};

/// Whether `actual` matches `expected`: JSON equality, except that numbers match when within
/// options.tolerance of each other (an integer and a float compare by value), object members
/// may come in any order, and top-level members named in options.ignore_fields are left out.
bool ValuesMatch(const Value& expected, const Value& actual, const CompareOptions& options);

/// Compare line lists. Order kExact pairs lines along a longest common subsequence (the rest are
/// moved, changed, missing or unexpected); kSet pairs equal lines wherever they are. Unpaired
/// objects that differ in at most half of their members (or one) and agree in at least one are
/// reported as changed, each paired with the nearest such line.
Comparison Compare(std::span<const Value> expected, std::span<const Value> actual,
                   const CompareOptions& options);

/// The differences as text, one per line (changed members on indented lines below), each line
/// starting with `indent`:
///   - missing     expected #3: {...}
///   + unexpected  actual #3: {...}
///   ~ changed     expected #2, actual #2: {...expected...}
///                   count: expected 2, actual 3
///   > moved       expected #1, actual #3: {...}
/// Indexes are shown 1-based; lines as compact JSON.
std::string FormatDifferences(const Comparison& comparison, std::span<const Value> expected,
                              std::span<const Value> actual, std::string_view indent);

}  // namespace pulse::golden
