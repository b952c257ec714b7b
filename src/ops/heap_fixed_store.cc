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
#include "ops/window_parts.h"
#include "ops/window_store.h"
#include "pulse/core/json.h"

namespace pulse::ops::internal {
namespace {

template <typename Acc>
class HeapFixedStore final : public FixedWindowStore {
 public:
  HeapFixedStore(const WindowOptions& options, const KeyedOperatorContext& ctx)
      : rules_(options),
        agg_kind_(options.agg.kind),
        agg_name_(options.agg.OutputName()),
        size_(rules_.size()),
        slide_(rules_.slide()),
        mirror_(options, ctx) {}

  Result<EventTime> Add(std::string_view key_text, const AggInput& input,
                        FixedWindowCursor windows) override {
    const uint32_t key = keys_.Intern(key_text, HashText(key_text));
    EventTime oldest_end = 0;
    for (; windows.Valid(); windows.Next()) {
      bool added = false;
      Slot& slot = TableFor(windows.start(), windows.index()).FindOrAdd(key, &added);
      if (added) {
        keys_.Ref(key);
        ++open_windows_;
      }
      slot.acc.Add(input);
      slot.flags |= Table::kDirty;
      oldest_end = windows.end();
    }
    return oldest_end;
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
        out->results.push_back(MakeWindowResult(start, end, key_text, KeyValueFromText(key_text),
                                                agg_name_, slot->acc.Result(agg_kind_)));
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
      PULSE_RETURN_IF_ERROR(acc.ReadFrom(&value));
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

  // The window starting at `start` (= index · slide), created if new.
  Table& TableFor(int64_t start, int64_t index) {
    CacheEntry& cached = CacheFor(index);
    if (cached.table != nullptr && cached.start == start) return *cached.table;
    Table& table = windows_[start];
    cached.start = start;
    cached.table = &table;
    return table;
  }

  const WindowRules rules_;
  const AggSpec::Kind agg_kind_;
  const std::string_view agg_name_;  // AggSpec::OutputName(), a static string
  const DurationMs size_;
  const DurationMs slide_;
  std::map<int64_t, Table> windows_;  // by start
  KeyInterner keys_;
  std::array<CacheEntry, kCacheSize> cache_;
  uint64_t open_windows_ = 0;  // (window, key) pairs
  StateMirror mirror_;
  std::vector<Deletion> deletions_;  // persisted entries released since the last snapshot
};

}  // namespace

std::unique_ptr<FixedWindowStore> MakeHeapFixedStore(const WindowOptions& options,
                                                     const KeyedOperatorContext& ctx) {
  switch (options.agg.kind) {
    case AggSpec::Kind::kCount:
      return std::make_unique<HeapFixedStore<CountAcc>>(options, ctx);
    case AggSpec::Kind::kSum:
    case AggSpec::Kind::kAvg:
      return std::make_unique<HeapFixedStore<SumAcc>>(options, ctx);
    case AggSpec::Kind::kMin:
      return std::make_unique<HeapFixedStore<ExtremeAcc<false>>>(options, ctx);
    case AggSpec::Kind::kMax:
      return std::make_unique<HeapFixedStore<ExtremeAcc<true>>>(options, ctx);
    case AggSpec::Kind::kDistinct:
      return std::make_unique<HeapFixedStore<DistinctAcc>>(options, ctx);
  }
  return nullptr;
}

}  // namespace pulse::ops::internal
