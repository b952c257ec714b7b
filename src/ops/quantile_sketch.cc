// SPDX-License-Identifier: MIT
#include "ops/quantile_sketch.h"

#include <algorithm>
#include <cmath>

#include "ops/state_image.h"

namespace pulse::ops::internal {
namespace {

// Each level below the top holds 2/3 of the next one's items, as in the KLL paper.
constexpr double kShrink = 2.0 / 3.0;
constexpr size_t kMaxLevels = 64;  // 2^64 values cannot be added

}  // namespace

uint32_t QuantileSketch::Capacity(size_t level) const {
  const size_t depth = levels_.size() - 1 - level;
  const double items = std::floor(kK * std::pow(kShrink, static_cast<double>(depth)));
  return std::max(kMinLevelItems, static_cast<uint32_t>(items));
}

void QuantileSketch::Add(double v) {
  if (n_ == 0) {
    min_ = v;
    max_ = v;
    levels_.resize(1);
    capacity_ = Capacity(0);
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  ++n_;
  levels_[0].push_back(v);
  ++items_;
  if (items_ > capacity_) Compress();
}

bool QuantileSketch::CoinFlip() {
  random_ ^= random_ << 13;
  random_ ^= random_ >> 7;
  random_ ^= random_ << 17;
  return (random_ >> 32) & 1;
}

void QuantileSketch::Compress() {
  while (items_ > capacity_) {
    // Some level is full when all of them hold more than their capacities together.
    size_t level = 0;
    while (levels_[level].size() < Capacity(level)) ++level;
    if (level + 1 == kMaxLevels) return;  // unreachable: it takes 2^63 values
    CompactLevel(level);
  }
}

void QuantileSketch::CompactLevel(size_t level) {
  if (level + 1 == levels_.size()) {
    levels_.emplace_back();
    capacity_ = 0;
    for (size_t h = 0; h < levels_.size(); ++h) capacity_ += Capacity(h);
  }
  std::vector<double>& items = levels_[level];
  // An odd item out stays at its level with its weight: the last one added.
  const bool odd = items.size() % 2 == 1;
  const double kept = odd ? items.back() : 0;
  if (odd) items.pop_back();
  std::sort(items.begin(), items.end());
  std::vector<double>& up = levels_[level + 1];
  for (size_t i = CoinFlip() ? 1 : 0; i < items.size(); i += 2) up.push_back(items[i]);
  items_ -= items.size() / 2;
  items.clear();
  if (odd) items.push_back(kept);
}

void QuantileSketch::Merge(const QuantileSketch& other) {
  if (other.n_ == 0) return;
  if (n_ == 0) {
    *this = other;
    return;
  }
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  n_ += other.n_;
  if (levels_.size() < other.levels_.size()) levels_.resize(other.levels_.size());
  for (size_t h = 0; h < other.levels_.size(); ++h) {
    levels_[h].insert(levels_[h].end(), other.levels_[h].begin(), other.levels_[h].end());
    items_ += other.levels_[h].size();
  }
  capacity_ = 0;
  for (size_t h = 0; h < levels_.size(); ++h) capacity_ += Capacity(h);
  Compress();
}

std::vector<double> QuantileSketch::ValuesAtRanks(std::span<const uint64_t> ranks) const {
  std::vector<std::pair<double, uint64_t>> weighted;  // (value, weight)
  weighted.reserve(items_);
  for (size_t h = 0; h < levels_.size(); ++h) {
    for (double v : levels_[h]) weighted.emplace_back(v, uint64_t{1} << h);
  }
  std::sort(weighted.begin(), weighted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  // cumulative[i]: the weight of items 0..i.
  std::vector<uint64_t> cumulative(weighted.size());
  uint64_t total = 0;
  for (size_t i = 0; i < weighted.size(); ++i) cumulative[i] = total += weighted[i].second;
  std::vector<double> values;
  values.reserve(ranks.size());
  for (uint64_t rank : ranks) {
    if (rank <= 1) {
      values.push_back(min_);
    } else if (rank >= n_) {
      values.push_back(max_);
    } else {
      const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), rank);
      values.push_back(it == cumulative.end() ? max_ : weighted[it - cumulative.begin()].first);
    }
  }
  return values;
}

void QuantileSketch::AppendTo(std::string* out) const {
  PutU64(n_, out);
  PutF64(min_, out);
  PutF64(max_, out);
  PutU64(random_, out);
  PutVarint(levels_.size(), out);
  for (const std::vector<double>& level : levels_) {
    PutVarint(level.size(), out);
    for (double v : level) PutF64(v, out);
  }
}

Status QuantileSketch::ReadFrom(std::string_view* in) {
  const Status bad = Status::Corruption("quantile state: truncated or inconsistent");
  *this = QuantileSketch();
  uint64_t levels = 0;
  if (!GetU64(in, &n_) || !GetF64(in, &min_) || !GetF64(in, &max_) || !GetU64(in, &random_) ||
      !GetVarint(in, &levels) || levels > kMaxLevels || random_ == 0) {
    return bad;
  }
  levels_.resize(levels);
  uint64_t weight = 0;
  for (size_t h = 0; h < levels; ++h) {
    uint64_t size = 0;
    if (!GetVarint(in, &size) || in->size() / 8 < size) return bad;
    levels_[h].resize(size);
    for (double& v : levels_[h]) GetF64(in, &v);
    items_ += size;
    weight += size << h;
  }
  if (weight != n_ || (n_ > 0) != (levels > 0)) return bad;
  for (size_t h = 0; h < levels_.size(); ++h) capacity_ += Capacity(h);
  return Status::OK();
}

}  // namespace pulse::ops::internal
