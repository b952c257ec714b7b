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

}  // namespace pulse
