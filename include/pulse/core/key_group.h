// SPDX-License-Identifier: MIT
// Key groups: how keyed state is split so that it can be moved between workers and machines.
#pragma once

#include <cstdint>
#include <string_view>

namespace pulse {

/// Keyed state is organised in kMaxKeyGroups groups; a key belongs to group
/// KeyHash(key) % kMaxKeyGroups, whatever the worker count. Worker w of n owns the contiguous
/// range of groups [w·G/n, (w+1)·G/n), so checkpoints (a later issue) can be written per group
/// and reassigned when the worker count changes. Like Flink's max parallelism, it is fixed.
inline constexpr uint32_t kMaxKeyGroups = 128;

/// A stable 64-bit hash of a key's compact JSON text (the same on every run and machine).
inline uint64_t KeyHash(std::string_view key) {
  // FNV-1a, then a murmur-style finaliser to spread the low bits.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

inline uint32_t KeyGroupOf(uint64_t key_hash) {
  return static_cast<uint32_t>(key_hash % kMaxKeyGroups);
}

/// The worker (of `workers`) that owns key group `group`.
inline uint32_t WorkerOfKeyGroup(uint32_t group, uint32_t workers) {
  return static_cast<uint32_t>(static_cast<uint64_t>(group) * workers / kMaxKeyGroups);
}

/// A contiguous range [begin, end) of key groups: what one worker owns, what one state snapshot
/// holds. Value type.
struct KeyGroupRange {
  uint32_t begin = 0;
  uint32_t end = kMaxKeyGroups;

  /// Every key group.
  static constexpr KeyGroupRange All() { return {0, kMaxKeyGroups}; }

  /// The groups that WorkerOfKeyGroup assigns to `worker` of `workers`:
  /// [⌈worker·G/workers⌉, ⌈(worker+1)·G/workers⌉). Requires: worker < workers ≤ kMaxKeyGroups.
  static constexpr KeyGroupRange ForWorker(uint32_t worker, uint32_t workers) {
    auto first = [workers](uint32_t w) {
      return static_cast<uint32_t>((static_cast<uint64_t>(w) * kMaxKeyGroups + workers - 1) /
                                   workers);
    };
    return {first(worker), first(worker + 1)};
  }

  constexpr bool empty() const { return begin >= end; }
  constexpr uint32_t size() const { return empty() ? 0 : end - begin; }
  constexpr bool Contains(uint32_t group) const { return group >= begin && group < end; }
  /// The groups in both ranges (empty if none).
  constexpr KeyGroupRange Intersect(KeyGroupRange other) const {
    KeyGroupRange r{begin > other.begin ? begin : other.begin, end < other.end ? end : other.end};
    return r.empty() ? KeyGroupRange{0, 0} : r;
  }
  friend constexpr bool operator==(const KeyGroupRange&, const KeyGroupRange&) = default;
};

}  // namespace pulse
