// SPDX-License-Identifier: MIT
// Key interning for the heap stores: each key's JSON text stored once per worker, and windows
// refer to it by a 32-bit id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

namespace pulse::ops::internal {

inline constexpr uint32_t kNoKey = std::numeric_limits<uint32_t>::max();

// A fast hash of a key's JSON text (keys are short; the result only places keys in tables).
inline uint64_t HashText(std::string_view text) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = static_cast<uint64_t>(text.size()) * kMul;
  const char* p = text.data();
  size_t n = text.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    h = (h ^ word) * kMul;
    h ^= h >> 29;
  }
  if (n > 0) {
    uint64_t word = 0;
    std::memcpy(&word, p, n);
    h = (h ^ word) * kMul;
  }
  // MurmurHash3's finalizer, so that every input bit reaches the high bits used for slots.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb93fe53ecd63ULL;
  h ^= h >> 33;
  return h;
}

// The keys of the open windows of one operator: id ↔ JSON text, with the number of open windows
// that use each; a key is dropped when its last window is released. Texts live in one arena
// that is compacted when more than half of it is dead. Not thread-safe.
class KeyInterner {
 public:
  // The id of `text` (whose HashText is `hash`), added with no references if new.
  uint32_t Intern(std::string_view text, uint64_t hash) {
    if ((live_ + 1) * 4 > slots_.size() * 3) Rehash(slots_.empty() ? 64 : slots_.size() * 2);
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    const size_t mask = slots_.size() - 1;
    for (size_t i = tag & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.id == kNoKey) {
        slot.tag = tag;
        slot.id = Add(text);
        ++live_;
        return slot.id;
      }
      if (slot.tag == tag && this->text(slot.id) == text) return slot.id;
    }
  }

  // The id of `text` (whose HashText is `hash`), or kNoKey.
  uint32_t Find(std::string_view text, uint64_t hash) const {
    if (slots_.empty()) return kNoKey;
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    const size_t mask = slots_.size() - 1;
    for (size_t i = tag & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.id == kNoKey) return kNoKey;
      if (slot.tag == tag && this->text(slot.id) == text) return slot.id;
    }
  }

  // One more than the largest id in use.
  size_t id_limit() const { return keys_.size(); }

  // Valid until the next Intern or Unref.
  std::string_view text(uint32_t id) const {
    const KeyInfo& k = keys_[id];
    return {arena_.data() + k.offset, k.size};
  }

  void Ref(uint32_t id) { ++keys_[id].refs; }

  // Drop one reference; the key goes with the last one. `hash` is its text's HashText.
  void Unref(uint32_t id, uint64_t hash) {
    if (--keys_[id].refs > 0) return;
    Erase(id, static_cast<uint32_t>(hash >> 32));
  }

  // Bring the table slot where a text of hash `hash` lives into the cache (releases unref many
  // keys in a row, each a cache miss otherwise).
  void Prefetch(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[(hash >> 32) & (slots_.size() - 1)]);
  }

  void Clear() { *this = KeyInterner(); }

 private:
  struct Slot {
    uint32_t tag = 0;  // the high half of the text's hash
    uint32_t id = kNoKey;
  };
  struct KeyInfo {
    uint64_t offset = 0;  // of the text in arena_
    uint32_t size = 0;
    uint32_t refs = 0;
  };
  static constexpr size_t kMinCompactBytes = size_t{1} << 20;

  uint32_t Add(std::string_view text) {
    uint32_t id;
    if (!free_ids_.empty()) {
      id = free_ids_.back();
      free_ids_.pop_back();
    } else {
      id = static_cast<uint32_t>(keys_.size());
      keys_.emplace_back();
    }
    KeyInfo& k = keys_[id];
    k.offset = arena_.size();
    k.size = static_cast<uint32_t>(text.size());
    k.refs = 0;
    arena_.insert(arena_.end(), text.begin(), text.end());
    return id;
  }

  void Erase(uint32_t id, uint32_t tag) {
    const size_t mask = slots_.size() - 1;
    size_t i = tag & mask;
    while (slots_[i].id != id) i = (i + 1) & mask;
    // Backward-shift deletion keeps every probe run unbroken without tombstones.
    for (size_t j = (i + 1) & mask; slots_[j].id != kNoKey; j = (j + 1) & mask) {
      const size_t home = slots_[j].tag & mask;
      // Move j into the hole at i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
    --live_;
    dead_bytes_ += keys_[id].size;
    keys_[id] = KeyInfo{};
    free_ids_.push_back(id);
    if (dead_bytes_ > kMinCompactBytes && dead_bytes_ * 2 > arena_.size()) Compact();
  }

  void Rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    const size_t mask = capacity - 1;
    for (const Slot& slot : old) {
      if (slot.id == kNoKey) continue;
      size_t i = slot.tag & mask;
      while (slots_[i].id != kNoKey) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  void Compact() {
    std::vector<char> arena;
    arena.reserve(arena_.size() - dead_bytes_);
    for (KeyInfo& k : keys_) {
      if (k.refs == 0) continue;  // a free id
      const uint64_t offset = arena.size();
      arena.insert(arena.end(), arena_.begin() + static_cast<std::ptrdiff_t>(k.offset),
                   arena_.begin() + static_cast<std::ptrdiff_t>(k.offset + k.size));
      k.offset = offset;
    }
    arena_ = std::move(arena);
    dead_bytes_ = 0;
  }

  std::vector<Slot> slots_;  // open addressing, linear probing; size a power of two
  std::vector<KeyInfo> keys_;
  std::vector<uint32_t> free_ids_;
  std::vector<char> arena_;
  size_t live_ = 0;
  size_t dead_bytes_ = 0;  // arena bytes of erased keys
};

}  // namespace pulse::ops::internal
