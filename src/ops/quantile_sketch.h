// SPDX-License-Identifier: MIT
// quantile's state: exact while small, then a KLL sketch (Karnin, Lang, Liberty 2016).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pulse/core/status.h"

namespace pulse::ops::internal {

/// The values of a window for rank queries, in bounded memory. It keeps every value until
/// there are more than kK (queries are then exact); beyond, a KLL sketch: levels of items of
/// weight 2^level, level h holding at most about kK·(2/3)^(top − h) items (at least
/// kMinLevelItems), so at most about 3·kK items (24 KiB) in all. A full level is compacted: sorted,
/// and every second item (from the first or the second, by a coin flip) moves one level up with
/// twice the weight. With kK = 1024 the rank error of a query is about 0.2 % of n
/// (one standard deviation; below 1 % in every window of the error-bound tests). The coin flips
/// come from a generator kept in the sketch (and in its image), seeded with a constant: the
/// same values in the same order give the same sketch, so results do not depend on the worker
/// count or on restores. Not thread-safe.
class QuantileSketch {
 public:
  static constexpr uint32_t kK = 1024;
  static constexpr uint32_t kMinLevelItems = 8;

  void Add(double v);
  /// Fold `other` in: level by level, then compacted to the bounds.
  void Merge(const QuantileSketch& other);

  /// The number of values added (and merged).
  uint64_t count() const { return n_; }
  /// Write to values[i] the value at 1-based rank ranks[i] (each in [1, count()], in any
  /// order): the smallest value whose estimated rank (the weight of the items not above it)
  /// reaches the rank. Rank 1 is the exact minimum and rank count() the exact maximum.
  /// Requires: count() > 0, values.size() == ranks.size().
  void ValuesAtRanks(std::span<const uint64_t> ranks, std::span<double> values) const;
  std::vector<double> ValuesAtRanks(std::span<const uint64_t> ranks) const {
    std::vector<double> values(ranks.size());
    ValuesAtRanks(ranks, values);
    return values;
  }
  /// Whether every value is still kept (queries are exact).
  bool exact() const { return upper_.empty(); }
  /// The items kept, for tests of the memory bound.
  size_t items() const { return items_; }

  /// Append the image: n, min, max, the generator state (u64 each), varint level count, then
  /// per level a varint item count and its items (f64).
  void AppendTo(std::string* out) const;
  /// Read an image AppendTo wrote from the front of `*in`. Errors: Corruption.
  Status ReadFrom(std::string_view* in);

 private:
  size_t levels() const { return 1 + upper_.size(); }
  std::vector<double>& Level(size_t h) { return h == 0 ? level0_ : upper_[h - 1]; }
  const std::vector<double>& Level(size_t h) const { return h == 0 ? level0_ : upper_[h - 1]; }
  uint32_t Capacity(size_t level) const;
  void UpdateCapacity();
  void Compress();  // compact levels until the items fit the capacities
  void CompactLevel(size_t level);
  bool CoinFlip();

  // Level h holds items of weight 2^h, unsorted: level 0 apart, so that a sketch that is still
  // exact holds one buffer.
  std::vector<double> level0_;
  std::vector<std::vector<double>> upper_;  // levels 1, 2, ...
  uint64_t n_ = 0;
  uint32_t items_ = 0;       // items in all levels
  uint32_t capacity_ = kK;   // the sum of the levels' capacities
  double min_ = 0;
  double max_ = 0;
  uint64_t random_ = 0x853c49e6748fea9bULL;  // xorshift64 state, never 0
};

}  // namespace pulse::ops::internal
