// SPDX-License-Identifier: MIT
#include "ops/quantile_sketch.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "ops/state_image.h"

namespace pulse::ops::internal {
namespace {

// Each level below the top holds 2/3 of the next one's items, as in the KLL paper.
constexpr double kShrink = 2.0 / 3.0;
constexpr size_t kMaxLevels = 64;  // 2^64 values cannot be added
// The first buffer of a sketch: most windows of most pipelines see few values.
constexpr size_t kFirstItems = 8;
// Queries of windows up to this many items sort on the stack.
constexpr size_t kStackItems = 64;

}  // namespace

uint32_t QuantileSketch::Capacity(size_t level) const {
  const size_t depth = levels() - 1 - level;
  const double items = std::floor(kK * std::pow(kShrink, static_cast<double>(depth)));
  return std::max(kMinLevelItems, static_cast<uint32_t>(items));
}

void QuantileSketch::UpdateCapacity() {
  capacity_ = 0;
  for (size_t h = 0; h < levels(); ++h) capacity_ += Capacity(h);
}

void QuantileSketch::Add(double v) {
  if (n_ == 0) {
    min_ = v;
    max_ = v;
    level0_.reserve(kFirstItems);
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  ++n_;
  level0_.push_back(v);
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
    while (Level(level).size() < Capacity(level)) ++level;
    if (level + 1 == kMaxLevels) return;  // unreachable: it takes 2^63 values
    CompactLevel(level);
  }
}

void QuantileSketch::CompactLevel(size_t level) {
  if (level + 1 == levels()) {
    upper_.emplace_back();
    UpdateCapacity();
  }
  std::vector<double>& items = Level(level);
  // An odd item out stays at its level with its weight: the last one added.
  const bool odd = items.size() % 2 == 1;
  const double kept = odd ? items.back() : 0;
  if (odd) items.pop_back();
  std::sort(items.begin(), items.end());
  std::vector<double>& up = Level(level + 1);
  for (size_t i = CoinFlip() ? 1 : 0; i < items.size(); i += 2) up.push_back(items[i]);
  items_ -= static_cast<uint32_t>(items.size() / 2);
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
  if (upper_.size() < other.upper_.size()) upper_.resize(other.upper_.size());
  for (size_t h = 0; h < other.levels(); ++h) {
    const std::vector<double>& from = other.Level(h);
    std::vector<double>& to = Level(h);
    to.insert(to.end(), from.begin(), from.end());
    items_ += static_cast<uint32_t>(from.size());
  }
  UpdateCapacity();
  Compress();
}

void QuantileSketch::ValuesAtRanks(std::span<const uint64_t> ranks,
                                   std::span<double> values) const {
  auto inner = [&](auto&& at_rank) {
    for (size_t i = 0; i < ranks.size(); ++i) {
      const uint64_t rank = ranks[i];
      values[i] = rank <= 1 ? min_ : (rank >= n_ ? max_ : at_rank(rank));
    }
  };
  if (exact()) {
    // Every item has weight 1: the rank-th smallest.
    std::array<double, kStackItems> stack;
    std::vector<double> heap;
    std::span<double> sorted;
    if (level0_.size() <= kStackItems) {
      sorted = std::span<double>(stack.data(), level0_.size());
    } else {
      heap.resize(level0_.size());
      sorted = heap;
    }
    std::copy(level0_.begin(), level0_.end(), sorted.begin());
    if (ranks.size() == 1) {  // one quantile: partition around it instead of sorting
      const uint64_t rank = std::clamp<uint64_t>(ranks[0], 1, n_);
      std::nth_element(sorted.begin(), sorted.begin() + (rank - 1), sorted.end());
    } else {
      std::sort(sorted.begin(), sorted.end());
    }
    inner([&](uint64_t rank) { return sorted[rank - 1]; });
    return;
  }
  std::vector<std::pair<double, uint64_t>> weighted;  // (value, weight)
  weighted.reserve(items_);
  for (size_t h = 0; h < levels(); ++h) {
    for (double v : Level(h)) weighted.emplace_back(v, uint64_t{1} << h);
  }
  std::sort(weighted.begin(), weighted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  // Each item's weight becomes the weight of the items up to it.
  uint64_t total = 0;
  for (auto& item : weighted) item.second = total += item.second;
  inner([&](uint64_t rank) {
    const auto it = std::lower_bound(weighted.begin(), weighted.end(), rank,
                                     [](const auto& item, uint64_t r) { return item.second < r; });
    return it == weighted.end() ? max_ : it->first;
  });
}

void QuantileSketch::AppendTo(std::string* out) const {
  PutU64(n_, out);
  PutF64(min_, out);
  PutF64(max_, out);
  PutU64(random_, out);
  PutVarint(n_ == 0 ? 0 : levels(), out);
  if (n_ == 0) return;
  for (size_t h = 0; h < levels(); ++h) {
    const std::vector<double>& level = Level(h);
    PutVarint(level.size(), out);
    for (double v : level) PutF64(v, out);
  }
}

Status QuantileSketch::ReadFrom(std::string_view* in) {
  const Status bad = Status::Corruption("quantile state: truncated or inconsistent");
  *this = QuantileSketch();
  uint64_t levels = 0;
  if (!GetU64(in, &n_) || !GetF64(in, &min_) || !GetF64(in, &max_) || !GetU64(in, &random_) ||
      !GetVarint(in, &levels) || levels > kMaxLevels || random_ == 0 ||
      (n_ > 0) != (levels > 0)) {
    return bad;
  }
  if (levels > 1) upper_.resize(levels - 1);
  uint64_t weight = 0;
  uint64_t items = 0;
  for (size_t h = 0; h < levels; ++h) {
    uint64_t size = 0;
    if (!GetVarint(in, &size) || in->size() / 8 < size) return bad;
    std::vector<double>& level = Level(h);
    level.resize(size);
    for (double& v : level) GetF64(in, &v);
    items += size;
    weight += size << h;
  }
  if (weight != n_ || items > 8 * kK) return bad;
  items_ = static_cast<uint32_t>(items);
  UpdateCapacity();
  return Status::OK();
}

}  // namespace pulse::ops::internal
