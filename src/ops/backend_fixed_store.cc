// SPDX-License-Identifier: MIT
// Tumbling and sliding windows in a state backend (e.g. RocksDB), so that the open windows may
// exceed memory.
//
// Entry: key = window end and start (8 bytes each, big-endian, sign bit flipped, so that bytes
// sort like numbers) + the key's JSON text, in the key's group; value = the accumulator's image
// (Accumulator::AppendTo). Memory holds, per open window, the count of its keys and whether any
// of its entries was ever written to the backend, and a write-back cache of the entries written
// lately (bounded in bytes). An entry that is born and released within one round of the cache
// never touches the backend; one that lives longer costs a Get and a Put per round instead of
// per record.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ops/window_operator.h"
#include "ops/window_parts.h"
#include "pulse/core/json.h"

namespace pulse::ops::internal {
namespace {

// The (end, start) of a state key (its first 16 bytes). Requires: key.size() >= 16.
std::pair<int64_t, int64_t> ReadWindowId(std::string_view key) {
  int64_t end = 0, start = 0;
  ReadOrderedInt64(&key, &end);
  ReadOrderedInt64(&key, &start);
  return {end, start};
}

// A FixedWindowStore in a state backend, which it owns, over accumulator A (Accumulator, or the
// named aggregates' AggRow). One worker's; not thread-safe.
template <typename A>
class BackendFixedStore final : public FixedWindowStore {
 public:
  using Acc = A;

  BackendFixedStore(const WindowOptions& options, const KeyedOperatorContext& ctx,
                    std::unique_ptr<state::StateBackend> backend, state::KvState kv)
      : rules_(options),
        agg_(options),
        groups_(ctx.key_groups),
        backend_(std::move(backend)),
        kv_(kv),
        cache_limit_(options.state_cache_bytes) {}

  Status Add(std::string_view key_text, const AggInput& input,
             FixedWindowCursor windows) override {
    const state::KeyGroup group = state::KeyGroupForKey(key_text);
    for (; windows.Valid(); windows.Next()) {
      const int64_t start = windows.start();
      const int64_t end = windows.end();
      key_.clear();
      AppendOrderedInt64(end, &key_);
      AppendOrderedInt64(start, &key_);
      key_.append(key_text);
      auto cached = cache_.lower_bound(key_);  // one search serves the lookup and the insert
      if (cached == cache_.end() || cached->first != key_) {
        // Not in the cache: the backend has the entry, if anything does.
        OpenWindow& window = open_[{end, start}];
        std::optional<std::string> old;
        if (window.in_backend) {
          PULSE_ASSIGN_OR_RETURN(old, kv_.Get(group, key_));
        }
        if (!old) {
          ++window.keys;
          ++open_windows_;
        }
        cached = cache_.emplace_hint(cached, key_,
                                     CachedEntry{group, old ? std::move(*old) : std::string()});
        cache_bytes_ += key_.size() + kCacheEntryOverhead;
      }
      std::string& image = cached->second.image;
      Acc acc;
      if (!image.empty()) {  // an image is never empty; a new entry has none yet
        std::string_view in = image;
        PULSE_RETURN_IF_ERROR(agg_.Read(&in, &acc));
      }
      acc.Add(input);
      cache_bytes_ -= image.size();
      image.clear();
      acc.AppendTo(&image);
      cache_bytes_ += image.size();
    }
    if (cache_bytes_ > cache_limit_) return FlushCache(/*keep=*/false);
    return Status::OK();
  }

  EventTime NextEnd() const override {
    return open_.empty() ? kMaxWatermark : open_.begin()->first.first;
  }

  // In (end, start) order, each window's keys in their text's byte order. A window's entries
  // are in the cache, in the backend or both (the cache's newer); only a window that reached
  // the backend is scanned.
  Status Release(EventTime watermark, KeyedOutput* out) override {
    while (!open_.empty() && rules_.IsClosed(open_.begin()->first.first, watermark)) {
      const auto [end, start] = open_.begin()->first;
      const OpenWindow window = open_.begin()->second;
      std::string prefix;
      AppendOrderedInt64(end, &prefix);
      AppendOrderedInt64(start, &prefix);
      const auto cached_begin = cache_.lower_bound(prefix);
      auto cached_end = cached_begin;
      while (cached_end != cache_.end() && cached_end->first.starts_with(prefix)) ++cached_end;
      const size_t first = out->results.size();
      auto emit = [&](std::string_view key, std::string_view image) {
        const std::string_view key_text = key.substr(16);
        Acc acc;
        Result<Value> key_value = ParseJson(key_text);
        if (!key_value.ok()) return Status::Corruption("window state: key is not JSON");
        PULSE_RETURN_IF_ERROR(agg_.Read(&image, &acc));
        out->results.push_back(MakeWindowResult(start, end, key_text, *key_value, agg_, acc));
        return Status::OK();
      };
      std::vector<std::pair<state::KeyGroup, std::string>> stored;
      if (window.in_backend) {
        Status bad;
        PULSE_RETURN_IF_ERROR(kv_.Scan(groups_, prefix, [&](state::KeyGroup group,
                                                            std::string_view key,
                                                            std::string_view value) {
          stored.emplace_back(group, std::string(key));
          if (cache_.contains(stored.back().second)) return state::ScanNext::kContinue;
          bad = emit(key, value);
          return bad.ok() ? state::ScanNext::kContinue : state::ScanNext::kStop;
        }));
        PULSE_RETURN_IF_ERROR(bad);
      }
      for (auto it = cached_begin; it != cached_end; ++it) {
        PULSE_RETURN_IF_ERROR(emit(it->first, it->second.image));
        cache_bytes_ -= it->first.size() + it->second.image.size() + kCacheEntryOverhead;
      }
      cache_.erase(cached_begin, cached_end);
      for (const auto& [group, key] : stored) PULSE_RETURN_IF_ERROR(kv_.Delete(group, key));
      std::sort(out->results.begin() + static_cast<std::ptrdiff_t>(first), out->results.end());
      open_windows_ -= window.keys;
      open_.erase(open_.begin());
    }
    return Status::OK();
  }

  uint64_t open_windows() const override { return open_windows_; }

  Status Snapshot(const std::string& dir) override {
    PULSE_RETURN_IF_ERROR(FlushCache(/*keep=*/true));
    return backend_->Snapshot(dir).status();
  }

  Status Restore(std::span<const std::string> dirs) override {
    cache_.clear();
    cache_bytes_ = 0;
    PULSE_RETURN_IF_ERROR(backend_->Restore(dirs));
    open_.clear();
    open_windows_ = 0;
    Status bad;
    PULSE_RETURN_IF_ERROR(kv_.Scan(groups_, "", [&](state::KeyGroup, std::string_view key,
                                                    std::string_view) {
      if (key.size() < 16) {
        bad = Status::Corruption("window state: short window key");
        return state::ScanNext::kStop;
      }
      OpenWindow& window = open_[ReadWindowId(key)];
      ++window.keys;
      window.in_backend = true;
      ++open_windows_;
      return state::ScanNext::kContinue;
    }));
    return bad;
  }

 private:
  using WindowId = std::pair<int64_t, int64_t>;  // (end, start): release order
  struct OpenWindow {
    uint64_t keys = 0;
    bool in_backend = false;  // some entry of it may be in the backend
  };
  // An entry written since it was last written back: its key group and accumulator image.
  struct CachedEntry {
    state::KeyGroup group = 0;
    std::string image;
  };
  // What a cached entry costs besides its key and image: the tree node, the strings' headers.
  static constexpr size_t kCacheEntryOverhead = 96;

  // Write every cached entry to the backend; keep them cached (still newer than nothing) or
  // empty the cache.
  Status FlushCache(bool keep) {
    OpenWindow* window = nullptr;
    WindowId id{0, 0};
    for (const auto& [key, entry] : cache_) {
      PULSE_RETURN_IF_ERROR(kv_.Put(entry.group, key, entry.image));
      const WindowId key_id = ReadWindowId(key);
      if (window == nullptr || key_id != id) {  // the cache is in window order
        id = key_id;
        window = &open_[id];
      }
      window->in_backend = true;
    }
    if (!keep) {
      cache_.clear();
      cache_bytes_ = 0;
    }
    return Status::OK();
  }

  const WindowRules rules_;
  const AggregationFor<Acc> agg_;
  const KeyGroupRange groups_;
  std::unique_ptr<state::StateBackend> backend_;
  state::KvState kv_;
  std::map<WindowId, OpenWindow> open_;
  uint64_t open_windows_ = 0;
  // Write-back cache: state key → entry, newer than the backend's; ordered, so that a window's
  // entries are one range.
  std::map<std::string, CachedEntry, std::less<>> cache_;
  size_t cache_bytes_ = 0;  // keys + images + kCacheEntryOverhead each
  const size_t cache_limit_;
  std::string key_;  // reused
};

}  // namespace

std::unique_ptr<KeyedOperator> MakeBackendFixedOperator(
    const WindowOptions& options, const KeyedOperatorContext& ctx,
    std::unique_ptr<state::StateBackend> backend, state::KvState kv) {
  if (!options.aggregates.empty()) {
    return MakeWindowOperator(options, std::make_unique<BackendFixedStore<AggRow>>(
                                           options, ctx, std::move(backend), kv));
  }
  return MakeWindowOperator(options, std::make_unique<BackendFixedStore<Accumulator>>(
                                         options, ctx, std::move(backend), kv));
}

}  // namespace pulse::ops::internal
