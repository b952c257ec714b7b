// SPDX-License-Identifier: MIT
// Windowed aggregation: fixed windows (tumbling, sliding) and merging session windows.
//
// Semantics (pinned by the core engine issue): a window [s, e) of a key is released once, when
// the watermark W ≥ e + L (L = allowed lateness). A record is late for a window when
// e + L ≤ W as it stood just before the record; it still counts in its windows that are not
// late, and a record late for all of them is handed back as `late`. Every call first releases
// what the record's watermark completes, so results do not depend on how records are batched.
#include "pulse/ops/window.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <limits>
#include <map>
#include <queue>
#include <utility>
#include <vector>

#include "ops/aggregate.h"
#include "ops/stored_window.h"
#include "ops/window_parts.h"
#include "pulse/core/json.h"
#include "pulse/state/memory_backend.h"

namespace pulse::ops {

using internal::Accumulator;
using internal::AggInput;
using internal::ExtractAggInput;
using state::KvState;

namespace {

Status CheckDuration(const char* name, DurationMs d) {
  if (d <= 0) return Status::InvalidArgument(fmt::format("{} must be greater than 0", name));
  if (d > kMaxDurationMs) {
    return Status::InvalidArgument(fmt::format("{} must be at most 100 years", name));
  }
  return Status::OK();
}

bool ResultLess(const KeyedResult& a, const KeyedResult& b) { return a < b; }

// ---------------------------------------------------------------------------------------------
// Checkpoint support shared by both operators.

Status CorruptState(std::string_view what) {
  return Status::Corruption(fmt::format("window state: {}", what));
}

// The state backend a window operator checkpoints through: the configured one (e.g. RocksDB)
// or, by default, an in-memory one, opened for the worker's key groups and kept as a mirror of
// the open windows: a snapshot writes only what changed since the previous one, then the
// backend writes its files.
class StateMirror {
 public:
  StateMirror(const WindowOptions& options, const KeyedOperatorContext& ctx)
      : factory_(options.state_backend), ctx_(ctx) {}

  // Open the backend, on the first snapshot or restore (runs without checkpoints never do).
  Result<KvState> Get() {
    if (kv_) return *kv_;
    if (factory_) {
      PULSE_ASSIGN_OR_RETURN(backend_, factory_(ctx_));
    } else {
      PULSE_ASSIGN_OR_RETURN(backend_, state::OpenMemoryBackend({ctx_.key_groups}));
    }
    PULSE_ASSIGN_OR_RETURN(KvState kv, backend_->OpenNamespace(internal::kWindowNamespace));
    kv_ = kv;
    return kv;
  }

  // Whether the backend has been opened (so entries written so far are in it).
  bool open() const { return kv_.has_value(); }

  Status Snapshot(const std::string& dir) { return backend_->Snapshot(dir).status(); }

  // Load the snapshots in `dirs` and visit every entry of this worker's key groups.
  Status Restore(std::span<const std::string> dirs,
                 const std::function<Status(std::string_view, std::string_view)>& visit) {
    PULSE_ASSIGN_OR_RETURN(KvState kv, Get());
    PULSE_RETURN_IF_ERROR(backend_->Restore(dirs));
    Status result;
    PULSE_RETURN_IF_ERROR(kv.Scan(ctx_.key_groups, "",
                                  [&](state::KeyGroup, std::string_view key,
                                      std::string_view value) {
                                    result = visit(key, value);
                                    return result.ok() ? state::ScanNext::kContinue
                                                       : state::ScanNext::kStop;
                                  }));
    return result;
  }

 private:
  StateBackendFactory factory_;
  KeyedOperatorContext ctx_;
  std::unique_ptr<state::StateBackend> backend_;
  std::optional<KvState> kv_;  // its namespace, once open
};

// An entry removed from the state since the last snapshot.
struct Deletion {
  state::KeyGroup group;
  std::string key;
};

// ---------------------------------------------------------------------------------------------
// Key interning for fixed windows: each key's JSON text is stored once per operator, however many
// windows it is open in, and windows refer to it by a 32-bit id.

constexpr uint32_t kNoKey = std::numeric_limits<uint32_t>::max();

// A fast hash of a key's JSON text (keys are short; the result only places keys in tables).
uint64_t HashText(std::string_view text) {
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

// The key value a result carries, rebuilt from its JSON text (which the executor wrote with
// AppendJson, so it reads back as the same value): plain strings and integers directly, the
// rest through the JSON parser.
Value KeyValueFromText(std::string_view text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"' &&
      text.find('\\') == std::string_view::npos) {
    return Value(std::string(text.substr(1, text.size() - 2)));
  }
  if (!text.empty() && (text.front() == '-' || (text.front() >= '0' && text.front() <= '9'))) {
    int64_t v = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec == std::errc() && ptr == end) return Value(v);
  }
  Result<Value> parsed = ParseJson(text);
  return parsed.ok() ? std::move(parsed).value() : Value(std::string(text));
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

// The keys of one fixed window and their accumulators: an open-addressing table from key id to
// a slot of 16 bytes for count, min and max (24 for sum and avg). Not thread-safe.
template <typename Acc>
class WindowTable {
 public:
  static constexpr uint8_t kDirty = 1;      // changed since the last snapshot
  static constexpr uint8_t kPersisted = 2;  // in the mirror backend

  struct Slot {
    uint32_t key = kNoKey;
    uint8_t flags = 0;
    Acc acc;
  };

  // The slot of `key`, added (empty, with no flags) if new; `*added` says which.
  Slot& FindOrAdd(uint32_t key, bool* added) {
    if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = Home(key);; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.key == key) {
        *added = false;
        return slot;
      }
      if (slot.key == kNoKey) {
        slot.key = key;
        ++size_;
        *added = true;
        return slot;
      }
    }
  }

  size_t size() const { return size_; }

  template <typename F>
  void ForEach(F&& f) {
    for (Slot& slot : slots_) {
      if (slot.key != kNoKey) f(slot);
    }
  }

 private:
  size_t Home(uint32_t key) const {
    return static_cast<size_t>((uint64_t{key} * 0x9E3779B97F4A7C15ULL) >> shift_);
  }

  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    const size_t capacity = old.empty() ? 4 : old.size() * 2;
    slots_ = std::vector<Slot>(capacity);
    shift_ = 64 - std::countr_zero(capacity);
    const size_t mask = capacity - 1;
    for (Slot& slot : old) {
      if (slot.key == kNoKey) continue;
      size_t i = Home(slot.key);
      while (slots_[i].key != kNoKey) i = (i + 1) & mask;
      slots_[i] = std::move(slot);
    }
  }

  std::vector<Slot> slots_;  // size a power of two
  size_t size_ = 0;
  int shift_ = 64;
};

// ---------------------------------------------------------------------------------------------
// Tumbling and sliding windows. State: window start → key id → accumulator (all windows have
// the same size, so start order is release order (end, start)); key ids index the operator's
// key texts. Results of a window are released sorted by key text.
template <typename Acc>
class FixedWindowOperator final : public KeyedOperator {
 public:
  FixedWindowOperator(const WindowOptions& options, const KeyedOperatorContext& ctx)
      : options_(options), mirror_(options, ctx) {
    size_ = options.window.size_ms;
    slide_ = options.window.kind == WindowSpec::Kind::kTumbling ? size_ : options.window.slide_ms;
  }

  std::string name() const override { return "window"; }

  Status Process(KeyedRecord rec, KeyedOutput* out) override {
    if (rec.watermark >= next_release_) Release(rec.watermark, out);
    const EventTime ts = rec.record.time;
    const EventTime watermark = rec.watermark;
    const DurationMs lateness = options_.allowed_lateness_ms;
    // Windows containing ts start at k·slide for k·slide ∈ (ts − size, ts].
    const int64_t last_index = FloorDiv(ts, slide_);  // of the last window: start / slide
    const int64_t last_start = last_index * slide_;
    if (last_start + size_ + lateness <= watermark) {  // late for every window
      out->late.push_back(std::move(rec));
      return Status::OK();
    }
    const AggInput input = ExtractAggInput(options_.agg, rec.record.value);
    const uint32_t key = keys_.Intern(rec.key, HashText(rec.key));
    int64_t index = last_index;
    for (int64_t start = last_start; start > ts - size_; start -= slide_, --index) {
      if (start + size_ + lateness <= watermark) break;  // this and every earlier window are late
      bool added = false;
      Slot& slot = TableFor(start, index).FindOrAdd(key, &added);
      if (added) {
        keys_.Ref(key);
        ++open_windows_;
      }
      slot.acc.Add(input);
      slot.flags |= Table::kDirty;
    }
    return Status::OK();
  }

  Status AdvanceWatermark(EventTime watermark, KeyedOutput* out) override {
    if (watermark >= next_release_) Release(watermark, out);
    return Status::OK();
  }

  KeyedOperatorStats stats() const override { return {open_windows_, open_windows_}; }

  // State entries: key = window end and start (big-endian, sign-flipped) + key text,
  // value = the accumulator, in the key's group.
  Status SnapshotState(const std::string& dir) override {
    PULSE_ASSIGN_OR_RETURN(KvState kv, mirror_.Get());
    for (const Deletion& d : deletions_) PULSE_RETURN_IF_ERROR(kv.Delete(d.group, d.key));
    deletions_.clear();
    std::string key, value;
    Status status;
    for (auto& [start, table] : windows_) {
      table.ForEach([&](Slot& slot) {
        if (!status.ok() || (slot.flags & Table::kDirty) == 0) return;
        const std::string_view key_text = keys_.text(slot.key);
        StateKey(start, key_text, &key);
        value.clear();
        slot.acc.AppendTo(&value);
        status = kv.Put(state::KeyGroupForKey(key_text), key, value);
        slot.flags = Table::kPersisted;
      });
      PULSE_RETURN_IF_ERROR(status);
    }
    return mirror_.Snapshot(dir);
  }

  Status RestoreState(std::span<const std::string> dirs) override {
    windows_.clear();
    keys_.Clear();
    cache_.fill(CacheEntry{});
    open_windows_ = 0;
    next_release_ = kMaxWatermark;
    deletions_.clear();
    return mirror_.Restore(dirs, [&](std::string_view key, std::string_view value) -> Status {
      int64_t end = 0, start = 0;
      if (!internal::ReadOrderedInt64(&key, &end) || !internal::ReadOrderedInt64(&key, &start)) {
        return CorruptState("short window key");
      }
      if (end != start + size_) return CorruptState("window of another size");
      if (!ParseJson(key).ok()) return CorruptState("key is not JSON");
      Acc acc;
      PULSE_RETURN_IF_ERROR(acc.ReadFrom(&value));
      const uint32_t id = keys_.Intern(key, HashText(key));
      bool added = false;
      Slot& slot = TableFor(start, FloorDiv(start, slide_)).FindOrAdd(id, &added);
      if (!added) return CorruptState("duplicate window entry");
      keys_.Ref(id);
      slot.acc = std::move(acc);
      slot.flags = Table::kPersisted;
      ++open_windows_;
      return Status::OK();
    });
  }

 private:
  using Table = WindowTable<Acc>;
  using Slot = typename Table::Slot;
  // Recently used windows by start / slide modulo kCacheSize: a record's windows (size/slide of
  // them) are nearly always there, which saves the ordered-map lookups.
  static constexpr size_t kCacheSize = 16;  // a power of two
  static_assert(std::has_single_bit(kCacheSize));
  struct CacheEntry {
    int64_t start = std::numeric_limits<int64_t>::min();
    Table* table = nullptr;
  };

  // A window's keys in release order: by text, bytewise, compared first by their first 8 bytes
  // (big-endian, zero-padded, so integer order is bytewise order) to spare most indirections.
  struct SortItem {
    uint64_t prefix;
    std::string_view text;  // valid until the first Unref
    Slot* slot;
    uint64_t hash;  // HashText(text)
  };

  static uint64_t TextPrefix(std::string_view text) {
    uint64_t prefix = 0;
    for (size_t i = 0; i < 8; ++i) {
      prefix <<= 8;
      if (i < text.size()) prefix |= static_cast<unsigned char>(text[i]);
    }
    return prefix;
  }

  void StateKey(int64_t start, std::string_view key_text, std::string* out) const {
    out->clear();
    internal::AppendOrderedInt64(start + size_, out);
    internal::AppendOrderedInt64(start, out);
    out->append(key_text);
  }

  // The cache entry of the window whose start / slide is `index` (a division is too slow to
  // repeat for each of a record's windows).
  CacheEntry& CacheFor(int64_t index) {
    return cache_[static_cast<size_t>(index) & (kCacheSize - 1)];
  }

  // The window starting at `start` (= index · slide), created if new.
  Table& TableFor(int64_t start, int64_t index) {
    CacheEntry& cached = CacheFor(index);
    if (cached.table != nullptr && cached.start == start) return *cached.table;
    auto [it, inserted] = windows_.try_emplace(start);
    if (inserted) {
      next_release_ = std::min(next_release_, start + size_ + options_.allowed_lateness_ms);
    }
    cached.start = start;
    cached.table = &it->second;
    return it->second;
  }

  void Release(EventTime watermark, KeyedOutput* out) {
    const DurationMs lateness = options_.allowed_lateness_ms;
    const std::string_view agg_name = options_.agg.OutputName();
    std::vector<SortItem> order;
    while (!windows_.empty()) {
      auto it = windows_.begin();
      const int64_t start = it->first;
      const int64_t end = start + size_;
      if (end + lateness > watermark) break;
      Table& table = it->second;
      order.clear();
      order.reserve(table.size());
      table.ForEach([&](Slot& slot) {
        const std::string_view text = keys_.text(slot.key);
        order.push_back(SortItem{TextPrefix(text), text, &slot, HashText(text)});
      });
      std::sort(order.begin(), order.end(), [](const SortItem& a, const SortItem& b) {
        if (a.prefix != b.prefix) return a.prefix < b.prefix;
        return a.text < b.text;
      });
      for (size_t i = 0; i < order.size(); ++i) {
        constexpr size_t kPrefetchDistance = 8;
        if (i + kPrefetchDistance < order.size()) {
          keys_.Prefetch(order[i + kPrefetchDistance].hash);
        }
        const SortItem& item = order[i];
        const Slot* slot = item.slot;
        const std::string_view key_text = keys_.text(slot->key);
        out->results.push_back(internal::MakeWindowResult(start, end, key_text, KeyValueFromText(key_text),
                                          agg_name, slot->acc.Result(options_.agg.kind)));
        if ((slot->flags & Table::kPersisted) != 0) {
          Deletion& d = deletions_.emplace_back();
          d.group = state::KeyGroupForKey(key_text);
          StateKey(start, key_text, &d.key);
        }
        keys_.Unref(slot->key, item.hash);
      }
      open_windows_ -= table.size();
      CacheEntry& cached = CacheFor(FloorDiv(start, slide_));
      if (cached.table == &table) cached = CacheEntry{};
      windows_.erase(it);
    }
    next_release_ = windows_.empty() ? kMaxWatermark : windows_.begin()->first + size_ + lateness;
  }

  WindowOptions options_;
  DurationMs size_ = 0;
  DurationMs slide_ = 0;
  std::map<int64_t, Table> windows_;  // by start
  KeyInterner keys_;
  std::array<CacheEntry, kCacheSize> cache_;
  EventTime next_release_ = kMaxWatermark;  // smallest end + L of an open window
  uint64_t open_windows_ = 0;               // (window, key) pairs
  StateMirror mirror_;
  std::vector<Deletion> deletions_;  // persisted entries released since the last snapshot
};

std::unique_ptr<KeyedOperator> MakeFixedWindowOperator(const WindowOptions& options,
                                                       const KeyedOperatorContext& ctx) {
  switch (options.agg.kind) {
    case AggSpec::Kind::kCount:
      return std::make_unique<FixedWindowOperator<internal::CountAcc>>(options, ctx);
    case AggSpec::Kind::kSum:
    case AggSpec::Kind::kAvg:
      return std::make_unique<FixedWindowOperator<internal::SumAcc>>(options, ctx);
    case AggSpec::Kind::kMin:
      return std::make_unique<FixedWindowOperator<internal::ExtremeAcc<false>>>(options, ctx);
    case AggSpec::Kind::kMax:
      return std::make_unique<FixedWindowOperator<internal::ExtremeAcc<true>>>(options, ctx);
    case AggSpec::Kind::kDistinct:
      return std::make_unique<FixedWindowOperator<internal::DistinctAcc>>(options, ctx);
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Session windows. A record opens [ts, ts+gap) and merges with every open session of its key
// that overlaps or touches it; a session's end is its last event time + gap.
class SessionWindowOperator final : public KeyedOperator {
 public:
  SessionWindowOperator(const WindowOptions& options, const KeyedOperatorContext& ctx)
      : options_(options), mirror_(options, ctx) {}

  std::string name() const override { return "window"; }

  Status Process(KeyedRecord rec, KeyedOutput* out) override {
    if (rec.watermark >= next_release_) Release(rec.watermark, out);
    const EventTime ts = rec.record.time;
    const DurationMs gap = options_.window.gap_ms;
    const DurationMs lateness = options_.allowed_lateness_ms;

    const uint64_t hash = HashText(rec.key);
    uint32_t key = keys_.Find(rec.key, hash);
    // Find the open sessions [s, e) that the record's window [ts, ts+gap) overlaps or touches.
    std::vector<Session>* sessions = key == kNoKey ? nullptr : &sessions_[key].sessions;
    size_t lo = 0, hi = 0;  // sessions[lo, hi) merge with the record (they are sorted by start)
    if (sessions != nullptr) {
      while (lo < sessions->size() && End((*sessions)[lo]) < ts) ++lo;
      hi = lo;
      while (hi < sessions->size() && (*sessions)[hi].start <= ts + gap) ++hi;
    }
    if (lo == hi && ts + gap + lateness <= rec.watermark) {
      out->late.push_back(std::move(rec));
      return Status::OK();
    }
    Session merged{ts, ts, std::numeric_limits<int64_t>::max(), Accumulator()};
    merged.acc.Add(ExtractAggInput(options_.agg, rec.record.value));
    if (sessions == nullptr) {
      key = keys_.Intern(rec.key, hash);
      keys_.Ref(key);
      if (sessions_.size() < keys_.id_limit()) sessions_.resize(keys_.id_limit());
      sessions = &sessions_[key].sessions;
    }
    KeySessions& ks = sessions_[key];
    ks.dirty = true;
    for (size_t i = lo; i < hi; ++i) {
      Session& s = (*sessions)[i];
      merged.start = std::min(merged.start, s.start);
      merged.last = std::max(merged.last, s.last);
      merged.queued_end = std::min(merged.queued_end, s.queued_end);
      merged.acc.Merge(std::move(s.acc));
    }
    open_sessions_ -= (hi - lo);
    ++open_sessions_;
    // A merged session keeps the earliest queue entry of its parts (at most its end); Release
    // moves the entry on to its current end. So the queue holds one entry per session.
    const bool queue = lo == hi;
    if (queue) merged.queued_end = End(merged);
    const EventTime queued_end = merged.queued_end;
    if (hi - lo == 1) {
      (*sessions)[lo] = std::move(merged);
    } else {
      sessions->erase(sessions->begin() + static_cast<std::ptrdiff_t>(lo),
                      sessions->begin() + static_cast<std::ptrdiff_t>(hi));
      sessions->insert(sessions->begin() + static_cast<std::ptrdiff_t>(lo), std::move(merged));
    }
    if (queue) {
      release_queue_.emplace(queued_end, key);
      next_release_ = std::min(next_release_, queued_end + lateness);
    }
    return Status::OK();
  }

  Status AdvanceWatermark(EventTime watermark, KeyedOutput* out) override {
    if (watermark >= next_release_) Release(watermark, out);
    return Status::OK();
  }

  KeyedOperatorStats stats() const override { return {open_sessions_, open_sessions_}; }

  // State entries: key = the key text, value = its sessions (count, then start, last and the
  // accumulator of each), in the key's group.
  Status SnapshotState(const std::string& dir) override {
    PULSE_ASSIGN_OR_RETURN(KvState kv, mirror_.Get());
    for (const Deletion& d : deletions_) PULSE_RETURN_IF_ERROR(kv.Delete(d.group, d.key));
    deletions_.clear();
    std::string value;
    for (size_t id = 0; id < sessions_.size(); ++id) {
      KeySessions& ks = sessions_[id];
      if (ks.sessions.empty() || !ks.dirty) continue;
      const std::string_view key_text = keys_.text(static_cast<uint32_t>(id));
      value.clear();
      internal::AppendOrderedInt64(static_cast<int64_t>(ks.sessions.size()), &value);
      for (const Session& session : ks.sessions) {
        internal::AppendSession(session.start, session.last, session.acc, &value);
      }
      PULSE_RETURN_IF_ERROR(kv.Put(state::KeyGroupForKey(key_text), key_text, value));
      ks.dirty = false;
      ks.persisted = true;
    }
    return mirror_.Snapshot(dir);
  }

  Status RestoreState(std::span<const std::string> dirs) override {
    keys_.Clear();
    sessions_.clear();
    release_queue_ = {};
    open_sessions_ = 0;
    deletions_.clear();
    PULSE_RETURN_IF_ERROR(
        mirror_.Restore(dirs, [&](std::string_view key, std::string_view value) -> Status {
          if (!ParseJson(key).ok()) return CorruptState("key is not JSON");
          if (keys_.Find(key, HashText(key)) != kNoKey) return CorruptState("duplicate key");
          KeySessions ks;
          int64_t n = 0;
          if (!internal::ReadOrderedInt64(&value, &n) || n < 0) return CorruptState("short session list");
          if (n == 0) return Status::OK();
          const uint32_t id = keys_.Intern(key, HashText(key));
          keys_.Ref(id);
          for (int64_t i = 0; i < n; ++i) {
            Session session{0, 0, 0, Accumulator()};
            PULSE_RETURN_IF_ERROR(
                internal::ReadSession(&value, &session.start, &session.last, &session.acc));
            session.queued_end = End(session);
            release_queue_.emplace(session.queued_end, id);
            ks.sessions.push_back(std::move(session));
          }
          ks.dirty = false;
          ks.persisted = true;
          open_sessions_ += ks.sessions.size();
          if (sessions_.size() < keys_.id_limit()) sessions_.resize(keys_.id_limit());
          sessions_[id] = std::move(ks);
          return Status::OK();
        }));
    next_release_ = release_queue_.empty()
                        ? kMaxWatermark
                        : release_queue_.top().first + options_.allowed_lateness_ms;
    return Status::OK();
  }

 private:
  struct Session {
    int64_t start;
    int64_t last;        // latest event time in the session
    int64_t queued_end;  // the end of its entry in the release queue (≤ its end)
    Accumulator acc;
  };
  struct KeySessions {
    std::vector<Session> sessions;  // disjoint, sorted by start; empty for a free key id
    bool dirty = true;              // changed since the last snapshot
    bool persisted = false;         // in the mirror backend
  };

  EventTime End(const Session& s) const { return s.last + options_.window.gap_ms; }

  // Release every session with end + L ≤ watermark. The queue holds one (end, key id) entry per
  // open session, with an end at most the session's: an entry whose session has grown since is
  // pushed again with its current end.
  void Release(EventTime watermark, KeyedOutput* out) {
    const DurationMs lateness = options_.allowed_lateness_ms;
    const std::string_view agg_name = options_.agg.OutputName();
    const size_t first = out->results.size();
    while (!release_queue_.empty() && release_queue_.top().first + lateness <= watermark) {
      const auto [queued_end, key] = release_queue_.top();
      release_queue_.pop();
      KeySessions& ks = sessions_[key];
      std::vector<Session>& sessions = ks.sessions;
      auto s = std::find_if(sessions.begin(), sessions.end(),
                            [&](const Session& x) { return x.queued_end == queued_end; });
      if (s == sessions.end()) continue;  // merged into a session with an earlier entry
      const EventTime end = End(*s);
      if (end != queued_end) {
        s->queued_end = end;
        release_queue_.emplace(end, key);
        continue;
      }
      const std::string_view key_text = keys_.text(key);
      out->results.push_back(internal::MakeWindowResult(s->start, end, key_text, KeyValueFromText(key_text),
                                        agg_name, s->acc.Result(options_.agg.kind)));
      sessions.erase(s);
      --open_sessions_;
      ks.dirty = true;
      if (sessions.empty()) {
        if (ks.persisted) {
          deletions_.push_back({state::KeyGroupForKey(key_text), std::string(key_text)});
        }
        ks = KeySessions();
        keys_.Unref(key, HashText(key_text));
      }
    }
    std::sort(out->results.begin() + static_cast<std::ptrdiff_t>(first), out->results.end(),
              ResultLess);
    next_release_ =
        release_queue_.empty() ? kMaxWatermark : release_queue_.top().first + lateness;
  }

  using QueueEntry = std::pair<int64_t, uint32_t>;  // (end, key id)
  WindowOptions options_;
  KeyInterner keys_;
  std::vector<KeySessions> sessions_;  // by key id
  std::priority_queue<QueueEntry, std::vector<QueueEntry>, std::greater<>> release_queue_;
  EventTime next_release_ = kMaxWatermark;
  uint64_t open_sessions_ = 0;
  StateMirror mirror_;
  std::vector<Deletion> deletions_;  // persisted keys whose last session was released
};

class WindowedAggregateFactory final : public KeyedOperatorFactory {
 public:
  explicit WindowedAggregateFactory(WindowOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "window"; }

  std::string Describe() const override {
    std::string s = options_.window.Describe() + ", " + std::string(options_.agg.OutputName());
    if (!options_.agg.field.empty()) s += " of '" + options_.agg.field + "'";
    s += ", allowed lateness " + FormatDuration(options_.allowed_lateness_ms);
    return s;
  }

  std::vector<std::string> InputFields() const override {
    if (options_.agg.kind == AggSpec::Kind::kCount) return {};
    return {options_.agg.field};
  }

  Result<std::unique_ptr<KeyedOperator>> Make(const KeyedOperatorContext& ctx) const override {
    if (options_.state_in_backend) return internal::MakeStoredWindowOperator(options_, ctx);
    if (options_.window.kind == WindowSpec::Kind::kSession) {
      return std::unique_ptr<KeyedOperator>(
          std::make_unique<SessionWindowOperator>(options_, ctx));
    }
    return MakeFixedWindowOperator(options_, ctx);
  }

 private:
  WindowOptions options_;
};

}  // namespace

Status WindowSpec::Validate() const {
  switch (kind) {
    case Kind::kTumbling:
      return CheckDuration("window.size", size_ms);
    case Kind::kSliding:
      PULSE_RETURN_IF_ERROR(CheckDuration("window.size", size_ms));
      PULSE_RETURN_IF_ERROR(CheckDuration("window.slide", slide_ms));
      if (slide_ms > size_ms) {
        return Status::InvalidArgument(
            fmt::format("window.slide ({}) must not be greater than window.size ({})",
                        FormatDuration(slide_ms), FormatDuration(size_ms)));
      }
      return Status::OK();
    case Kind::kSession:
      return CheckDuration("window.gap", gap_ms);
  }
  return Status::InvalidArgument("unknown window kind");
}

std::string WindowSpec::Describe() const {
  switch (kind) {
    case Kind::kTumbling:
      return "tumbling " + FormatDuration(size_ms);
    case Kind::kSliding:
      return "sliding " + FormatDuration(size_ms) + " every " + FormatDuration(slide_ms);
    case Kind::kSession:
      return "session with gap " + FormatDuration(gap_ms);
  }
  return "unknown";
}

std::string_view AggSpec::OutputName() const {
  switch (kind) {
    case Kind::kCount: return "count";
    case Kind::kSum: return "sum";
    case Kind::kAvg: return "avg";
    case Kind::kDistinct: return "distinct_count";
    case Kind::kMin: return "min";
    case Kind::kMax: return "max";
  }
  return "unknown";
}

Status AggSpec::Validate() const {
  if (kind != Kind::kCount && field.empty()) {
    return Status::InvalidArgument(
        fmt::format("aggregation {} needs a field", OutputName()));
  }
  return Status::OK();
}

Status WindowOptions::Validate() const {
  PULSE_RETURN_IF_ERROR(window.Validate());
  PULSE_RETURN_IF_ERROR(agg.Validate());
  if (allowed_lateness_ms < 0) {
    return Status::InvalidArgument("allowed_lateness must not be negative");
  }
  if (allowed_lateness_ms > kMaxDurationMs) {
    return Status::InvalidArgument("allowed_lateness must be at most 100 years");
  }
  if (state_in_backend && !state_backend) {
    return Status::InvalidArgument("state_in_backend needs a state_backend");
  }
  return Status::OK();
}

std::unique_ptr<KeyedOperatorFactory> WindowedAggregate(WindowOptions options) {
  return std::make_unique<WindowedAggregateFactory>(std::move(options));
}

namespace internal {

KeyedResult MakeWindowResult(int64_t start, int64_t end, std::string_view key_text,
                             const Value& key_value, std::string_view agg_name, Value agg_value) {
  Object obj;
  obj.reserve(4);
  obj.emplace_back("window_start_ms", Value(start));
  obj.emplace_back("window_end_ms", Value(end));
  obj.emplace_back("key", key_value);
  obj.emplace_back(std::string(agg_name), std::move(agg_value));
  KeyedResult r;
  r.order_a = end;
  r.order_b = start;
  r.order_key = std::string(key_text);
  r.record.time = end - 1;
  r.record.value = Value(std::move(obj));
  return r;
}

void AppendOrderedInt64(int64_t v, std::string* out) {
  const uint64_t u = static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(u >> shift));
}

bool ReadOrderedInt64(std::string_view* in, int64_t* v) {
  if (in->size() < 8) return false;
  uint64_t u = 0;
  for (size_t i = 0; i < 8; ++i) u = (u << 8) | static_cast<unsigned char>((*in)[i]);
  in->remove_prefix(8);
  *v = static_cast<int64_t>(u ^ (uint64_t{1} << 63));
  return true;
}

void AppendSession(int64_t start, int64_t last, const Accumulator& acc, std::string* out) {
  AppendOrderedInt64(start, out);
  AppendOrderedInt64(last, out);
  acc.AppendTo(out);
}

Status ReadSession(std::string_view* in, int64_t* start, int64_t* last, Accumulator* acc) {
  if (!ReadOrderedInt64(in, start) || !ReadOrderedInt64(in, last)) {
    return CorruptState("short session");
  }
  return acc->ReadFrom(in);
}

}  // namespace internal

}  // namespace pulse::ops
