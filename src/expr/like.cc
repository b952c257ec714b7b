// SPDX-License-Identifier: MIT
#include "expr/like.h"

#include <cctype>

namespace pulse::expr::internal {
namespace {

char Fold(char c, bool insensitive) {
  return insensitive ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
}

// The length of the UTF-8 character starting at text[i] (1 for a stray continuation byte).
size_t CharLength(std::string_view text, size_t i) {
  size_t n = 1;
  while (i + n < text.size() && (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80) ++n;
  return n;
}

}  // namespace

LikePattern::LikePattern(std::string_view pattern, bool case_insensitive)
    : case_insensitive_(case_insensitive) {
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      elems_.push_back(Elem{Kind::kByte, Fold(pattern[++i], case_insensitive)});
    } else if (c == '%') {
      if (elems_.empty() || elems_.back().kind != Kind::kAny) elems_.push_back({Kind::kAny, 0});
    } else if (c == '_') {
      elems_.push_back(Elem{Kind::kOne, 0});
    } else {
      elems_.push_back(Elem{Kind::kByte, Fold(c, case_insensitive)});
    }
  }
}

// Greedy matching that retries only from the last %: each % resumes one character further, so
// the work is bounded by text length × pattern length.
bool LikePattern::Matches(std::string_view text) const {
  size_t t = 0;
  size_t p = 0;
  size_t star = elems_.size();  // none yet
  size_t resume = 0;
  while (t < text.size()) {
    if (p < elems_.size() && elems_[p].kind == Kind::kOne) {
      t += CharLength(text, t);
      ++p;
    } else if (p < elems_.size() && elems_[p].kind == Kind::kByte &&
               elems_[p].byte == Fold(text[t], case_insensitive_)) {
      ++t;
      ++p;
    } else if (p < elems_.size() && elems_[p].kind == Kind::kAny) {
      star = p++;
      resume = t;
    } else if (star != elems_.size()) {
      p = star + 1;
      resume += CharLength(text, resume);
      t = resume;
    } else {
      return false;
    }
  }
  while (p < elems_.size() && elems_[p].kind == Kind::kAny) ++p;
  return p == elems_.size();
}

}  // namespace pulse::expr::internal
