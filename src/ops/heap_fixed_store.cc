// SPDX-License-Identifier: MIT
// Tumbling and sliding windows on the heap. State: window start → key id → accumulator (all
// windows have the same size, so start order is release order (end, start)); key ids index the
// store's key texts, each stored once. A window's results are released sorted by key text.
//
// Checkpoint entries (in the mirror backend): key = window end and start (big-endian,
// sign-flipped) + key text, value = the compact accumulator's image, in the key's group.
#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "ops/heap_keys.h"
#include "ops/state_mirror.h"
#include "ops/window_operator.h"
#include "ops/window_parts.h"
#include "pulse/core/json.h"

namespace pulse::ops::internal {
namespace {

// The keys of one fixed window and their accumulators: an open-addressing table from key id to
// a slot of 16 bytes for count (24 for sum, avg, min and max; 32 for the named aggregates'
// AggRow, whose states are on the heap). Not thread-safe.
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

  // The slot of `key`, added (empty, with no flags) if new; `*added` says which. Inlined: it
  // runs for each window of each record (a call costs as much as the search).
  [[gnu::always_inline]] Slot& FindOrAdd(uint32_t key, bool* added) {
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

// The slots of the original single aggregations stay this small (the named aggregates' AggRow
// is 32: a vector of states on the heap).
static_assert(sizeof(WindowTable<CountAcc>::Slot) == 16);
static_assert(sizeof(WindowTable<SumAcc>::Slot) == 24);
static_assert(sizeof(WindowTable<ExtremeAcc<true>>::Slot) == 24);
static_assert(sizeof(WindowTable<AggRow>::Slot) == 32);

// A FixedWindowStore on the heap, with the compact accumulator A of the aggregation (or the
// named aggregates' AggRow). One worker's; not thread-safe.
template <typename A>
class HeapFixedStore final : public FixedWindowStore {
 public:
  using Acc = A;

  HeapFixedStore(const WindowOptions& options, const KeyedOperatorContext& ctx)
      : rules_(options),
        agg_(options),
        size_(rules_.size()),
        slide_(rules_.slide()),
        mirror_(options, ctx) {}

  // Inlined into the operator (which calls it directly) as the per-record path.
  [[gnu::always_inline]] Status Add(std::string_view key_text, const AggInput& input,
                                    FixedWindowCursor windows) override {
    const uint32_t key = keys_.Intern(key_text, HashText(key_text));
    for (; windows.Valid(); windows.Next()) {
      bool added = false;
      Slot& slot = TableFor(windows.start(), windows.index()).FindOrAdd(key, &added);
      if (added) {
        keys_.Ref(key);
        ++open_windows_;
      }
      slot.acc.Add(input);
      slot.flags |= Table::kDirty;
    }
    return Status::OK();
  }

  EventTime NextEnd() const override {
    return windows_.empty() ? kMaxWatermark : windows_.begin()->first + size_;
  }

  Status Release(EventTime watermark, KeyedOutput* out) override {
    std::vector<SortItem> order;
    while (!windows_.empty()) {
      auto it = windows_.begin();
      const int64_t start = it->first;
      const int64_t end = start + size_;
      if (!rules_.IsClosed(end, watermark)) break;
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
        out->results.push_back(
            MakeWindowResult(start, end, key_text, KeyValueFromText(key_text), agg_, slot->acc));
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
    return Status::OK();
  }

  uint64_t open_windows() const override { return open_windows_; }

  Status Snapshot(const std::string& dir) override {
    PULSE_ASSIGN_OR_RETURN(state::KvState kv, mirror_.Get());
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

  Status Restore(std::span<const std::string> dirs) override {
    windows_.clear();
    keys_.Clear();
    cache_.fill(CacheEntry{});
    open_windows_ = 0;
    deletions_.clear();
    return mirror_.Restore(dirs, [&](std::string_view key, std::string_view value) -> Status {
      int64_t end = 0, start = 0;
      if (!ReadOrderedInt64(&key, &end) || !ReadOrderedInt64(&key, &start)) {
        return CorruptWindowState("short window key");
      }
      if (end != start + size_) return CorruptWindowState("window of another size");
      if (!ParseJson(key).ok()) return CorruptWindowState("key is not JSON");
      Acc acc;
      PULSE_RETURN_IF_ERROR(agg_.Read(&value, &acc));
      const uint32_t id = keys_.Intern(key, HashText(key));
      bool added = false;
      Slot& slot = TableFor(start, FloorDiv(start, slide_)).FindOrAdd(id, &added);
      if (!added) return CorruptWindowState("duplicate window entry");
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
    AppendOrderedInt64(start + size_, out);
    AppendOrderedInt64(start, out);
    out->append(key_text);
  }

  // The cache entry of the window whose start / slide is `index` (a division is too slow to
  // repeat for each of a record's windows).
  CacheEntry& CacheFor(int64_t index) {
    return cache_[static_cast<size_t>(index) & (kCacheSize - 1)];
  }

  // The window starting at `start` (= index · slide), created if new. Inlined: it runs for
  // each window of each record.
  [[gnu::always_inline]] Table& TableFor(int64_t start, int64_t index) {
    CacheEntry& cached = CacheFor(index);
    if (cached.table != nullptr && cached.start == start) return *cached.table;
    Table& table = windows_[start];
    cached.start = start;
    cached.table = &table;
    return table;
  }

  const WindowRules rules_;
  const AggregationFor<Acc> agg_;
  const DurationMs size_;
  const DurationMs slide_;
  std::map<int64_t, Table> windows_;  // by start
  KeyInterner keys_;
  std::array<CacheEntry, kCacheSize> cache_;
  uint64_t open_windows_ = 0;  // (window, key) pairs
  StateMirror mirror_;
  std::vector<Deletion> deletions_;  // persisted entries released since the last snapshot
};

template <typename Acc>
std::unique_ptr<KeyedOperator> OperatorOver(const WindowOptions& options,
                                            const KeyedOperatorContext& ctx) {
  return MakeWindowOperator(options, std::make_unique<HeapFixedStore<Acc>>(options, ctx));
}

}  // namespace

std::unique_ptr<KeyedOperator> MakeHeapFixedOperator(const WindowOptions& options,
                                                     const KeyedOperatorContext& ctx) {
  if (!options.aggregates.empty()) return OperatorOver<AggRow>(options, ctx);
  switch (options.agg.kind) {
    case AggSpec::Kind::kCount:
      return OperatorOver<CountAcc>(options, ctx);
    case AggSpec::Kind::kSum:
    case AggSpec::Kind::kAvg:
      return OperatorOver<SumAcc>(options, ctx);
    case AggSpec::Kind::kMin:
      return OperatorOver<ExtremeAcc<false>>(options, ctx);
    case AggSpec::Kind::kMax:
      return OperatorOver<ExtremeAcc<true>>(options, ctx);
    case AggSpec::Kind::kDistinct:
      return OperatorOver<DistinctAcc>(options, ctx);
  }
  return nullptr;
}

}  // namespace pulse::ops::internal
