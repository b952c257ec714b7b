// SPDX-License-Identifier: MIT
#include "ops/heavy_hitters.h"

#include <algorithm>

#include "ops/numbers.h"
#include "ops/state_image.h"

namespace pulse::ops::internal {
namespace {

constexpr uint32_t kMinCapacity = 128;
constexpr uint64_t kMaxCapacity = 4ull * 10000;  // 4 · Aggregate::kMaxTopK

}  // namespace

uint32_t HeavyHitters::CapacityFor(uint32_t k) { return std::max(kMinCapacity, 4 * k); }

void HeavyHitters::Add(std::string_view text) {
  auto it = counts_.find(text);
  if (it != counts_.end()) {
    ++it->second;
    return;
  }
  counts_.emplace(std::string(text), 1);
  if (counts_.size() > 2 * size_t{capacity_}) Reduce();
}

void HeavyHitters::Merge(const HeavyHitters& other) {
  for (const auto& [text, count] : other.counts_) counts_[text] += count;
  reduced_ = reduced_ || other.reduced_;
  if (counts_.size() > 2 * size_t{capacity_}) Reduce();
}

void HeavyHitters::Reduce() {
  std::vector<uint64_t> counts;
  counts.reserve(counts_.size());
  for (const auto& entry : counts_) counts.push_back(entry.second);
  // The (capacity+1)-th largest count.
  const auto nth = counts.begin() + capacity_;
  std::nth_element(counts.begin(), nth, counts.end(), std::greater<>());
  const uint64_t cut = *nth;
  for (auto it = counts_.begin(); it != counts_.end();) {
    if (it->second <= cut) {
      it = counts_.erase(it);
    } else {
      it->second -= cut;
      ++it;
    }
  }
  reduced_ = true;
}

std::vector<std::pair<std::string, uint64_t>> HeavyHitters::Top(uint32_t k) const {
  std::vector<std::pair<std::string, uint64_t>> top(counts_.begin(), counts_.end());
  auto order = [](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return CompareJsonTexts(a.first, b.first) < 0;
  };
  if (top.size() > k) {
    std::partial_sort(top.begin(), top.begin() + k, top.end(), order);
    top.resize(k);
  } else {
    std::sort(top.begin(), top.end(), order);
  }
  return top;
}

void HeavyHitters::AppendTo(std::string* out) const {
  PutU64(capacity_, out);
  PutU8(reduced_ ? 1 : 0, out);
  PutVarint(counts_.size(), out);
  // In text order, so that equal states have equal images.
  std::vector<const std::pair<const std::string, uint64_t>*> entries;
  entries.reserve(counts_.size());
  for (const auto& entry : counts_) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  for (const auto* entry : entries) {
    PutBytes(entry->first, out);
    PutU64(entry->second, out);
  }
}

Status HeavyHitters::ReadFrom(std::string_view* in) {
  const Status bad = Status::Corruption("top_k state: truncated or inconsistent");
  counts_.clear();
  uint64_t capacity = 0;
  uint8_t reduced = 0;
  uint64_t n = 0;
  if (!GetU64(in, &capacity) || capacity == 0 || capacity > kMaxCapacity ||
      !GetU8(in, &reduced) || reduced > 1 || !GetVarint(in, &n) || n > 2 * capacity + 1) {
    return bad;
  }
  capacity_ = static_cast<uint32_t>(capacity);
  reduced_ = reduced == 1;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view text;
    uint64_t count = 0;
    if (!GetBytes(in, &text) || !GetU64(in, &count) || count == 0) return bad;
    if (!counts_.emplace(std::string(text), count).second) return bad;
  }
  return Status::OK();
}

}  // namespace pulse::ops::internal
