// SPDX-License-Identifier: MIT
// LIKE patterns: % (any run of characters), _ (one character), \ escapes the next character.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pulse::expr::internal {

/// A compiled LIKE pattern. Matching takes O(text × pattern) time at worst (no backtracking
/// blow-up). `_` matches one UTF-8 character; with `case_insensitive` (ILIKE) ASCII letters
/// match either case. Immutable after construction; Matches is thread-safe.
class LikePattern {
 public:
  LikePattern(std::string_view pattern, bool case_insensitive);
  bool Matches(std::string_view text) const;

 private:
  enum class Kind : char { kByte, kOne, kAny };
  struct Elem {
    Kind kind;
    char byte;
  };
  std::vector<Elem> elems_;
  bool case_insensitive_;
};

}  // namespace pulse::expr::internal
