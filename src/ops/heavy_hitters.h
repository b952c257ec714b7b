// SPDX-License-Identifier: MIT
// top_k's state: the counts of the most frequent values (Misra–Gries summary).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pulse/core/status.h"

namespace pulse::ops::internal {

/// Counts of values (by their JSON text), exact while at most 2·capacity distinct values were
/// seen. Beyond, when the table holds more than 2·capacity values it is reduced: the
/// (capacity+1)-th largest count c is subtracted from every count and the values left at zero or
/// below are dropped (a Misra–Gries step). So a count is low by at most n / (capacity + 1) (n:
/// the values added), every value seen more often than that is kept, and memory stays within
/// 2·capacity + 1 entries. Merging adds the counts, then reduces likewise; the result does not
/// depend on the order of values or merges but through the reductions. Not thread-safe.
class HeavyHitters {
 public:
  /// The capacity for top_k(x, k): max(128, 4·k).
  static uint32_t CapacityFor(uint32_t k);

  HeavyHitters() = default;
  explicit HeavyHitters(uint32_t capacity) : capacity_(capacity) {}

  void Add(std::string_view text);
  void Merge(const HeavyHitters& other);

  /// The at most k values of largest count, by count descending then by value
  /// (CompareJsonTexts), with their counts.
  std::vector<std::pair<std::string, uint64_t>> Top(uint32_t k) const;
  /// Whether every count is exact (no reduction yet).
  bool exact() const { return !reduced_; }
  size_t size() const { return counts_.size(); }

  /// Append the image: capacity (u64), reduced (u8), varint entry count, then per entry its
  /// text (length-prefixed) and count (u64), in text order.
  void AppendTo(std::string* out) const;
  /// Read an image AppendTo wrote from the front of `*in`. Errors: Corruption.
  Status ReadFrom(std::string_view* in);

 private:
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  void Reduce();

  uint32_t capacity_ = 128;
  bool reduced_ = false;
  std::unordered_map<std::string, uint64_t, TextHash, std::equal_to<>> counts_;
};

}  // namespace pulse::ops::internal
