// SPDX-License-Identifier: MIT
// Windows in a state backend (e.g. RocksDB), so that the open windows may exceed memory.
//
// Fixed windows. Entry: key = window end and start (8 bytes each, big-endian,
// sign bit flipped, so that bytes sort like numbers) + the key's JSON text, in the key's group;
// value = the accumulator's image (Accumulator::AppendTo). Memory holds, per open window, the
// count of its keys and whether any of its entries was ever written to the backend, and a
// write-back cache of the entries written lately (bounded in bytes). An entry that is born and
// released within one round of the cache never touches the backend; one that lives longer
// costs a Get and a Put per round instead of per record.
#include "ops/stored_window.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ops/aggregate.h"
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

class StoredFixedWindowOperator final : public KeyedOperator {
 public:
  StoredFixedWindowOperator(const WindowOptions& options, const KeyedOperatorContext& ctx,
                            std::unique_ptr<state::StateBackend> backend, state::KvState kv)
      : options_(options),
        groups_(ctx.key_groups),
        backend_(std::move(backend)),
        kv_(kv),
        cache_limit_(options.state_cache_bytes) {
    size_ = options.window.size_ms;
    slide_ = options.window.kind == WindowSpec::Kind::kTumbling ? size_ : options.window.slide_ms;
  }

  std::string name() const override { return "window"; }

  Status Process(KeyedRecord rec, KeyedOutput* out) override {
    if (rec.watermark >= next_release_) PULSE_RETURN_IF_ERROR(Release(rec.watermark, out));
    const EventTime ts = rec.record.time;
    const DurationMs lateness = options_.allowed_lateness_ms;
    const AggInput input = ExtractAggInput(options_.agg, rec.record.value);
    const state::KeyGroup group = state::KeyGroupForKey(rec.key);
    bool counted = false;
    const int64_t last_start = FloorDiv(ts, slide_) * slide_;
    for (int64_t start = last_start; start > ts - size_; start -= slide_) {
      const int64_t end = start + size_;
      if (end + lateness <= rec.watermark) break;  // this and every earlier window are late
      key_.clear();
      AppendOrderedInt64(end, &key_);
      AppendOrderedInt64(start, &key_);
      key_.append(rec.key);
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
          next_release_ = std::min(next_release_, end + lateness);
        }
        cached = cache_.emplace_hint(cached, key_,
                                     CachedEntry{group, old ? std::move(*old) : std::string()});
        cache_bytes_ += key_.size() + kCacheEntryOverhead;
      }
      std::string& image = cached->second.image;
      Accumulator acc;
      if (!image.empty()) {  // an image is never empty; a new entry has none yet
        std::string_view in = image;
        PULSE_RETURN_IF_ERROR(acc.ReadFrom(&in));
      }
      acc.Add(input);
      cache_bytes_ -= image.size();
      image.clear();
      acc.AppendTo(&image);
      cache_bytes_ += image.size();
      counted = true;
    }
    if (!counted) out->late.push_back(std::move(rec));
    if (cache_bytes_ > cache_limit_) return FlushCache(/*keep=*/false);
    return Status::OK();
  }

  Status AdvanceWatermark(EventTime watermark, KeyedOutput* out) override {
    if (watermark >= next_release_) return Release(watermark, out);
    return Status::OK();
  }

  KeyedOperatorStats stats() const override { return {open_windows_, open_windows_}; }

  Status SnapshotState(const std::string& dir) override {
    PULSE_RETURN_IF_ERROR(FlushCache(/*keep=*/true));
    return backend_->Snapshot(dir).status();
  }

  Status RestoreState(std::span<const std::string> dirs) override {
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
    PULSE_RETURN_IF_ERROR(bad);
    UpdateNextRelease();
    return Status::OK();
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

  // Emit and delete every window with end + L ≤ watermark, in (end, start) order, each
  // window's keys in their text's byte order. A window's entries are in the cache, in the
  // backend or both (the cache's newer); only a window that reached the backend is scanned.
  Status Release(EventTime watermark, KeyedOutput* out) {
    const DurationMs lateness = options_.allowed_lateness_ms;
    const std::string_view agg_name = options_.agg.OutputName();
    while (!open_.empty() && open_.begin()->first.first + lateness <= watermark) {
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
        Accumulator acc;
        Result<Value> key_value = ParseJson(key_text);
        if (!key_value.ok()) return Status::Corruption("window state: key is not JSON");
        PULSE_RETURN_IF_ERROR(acc.ReadFrom(&image));
        out->results.push_back(MakeWindowResult(start, end, key_text, *key_value, agg_name,
                                                acc.Result(options_.agg.kind)));
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
    UpdateNextRelease();
    return Status::OK();
  }

  void UpdateNextRelease() {
    next_release_ = open_.empty() ? kMaxWatermark
                                  : open_.begin()->first.first + options_.allowed_lateness_ms;
  }

  WindowOptions options_;
  KeyGroupRange groups_;
  std::unique_ptr<state::StateBackend> backend_;
  state::KvState kv_;
  DurationMs size_ = 0;
  DurationMs slide_ = 0;
  std::map<WindowId, OpenWindow> open_;
  EventTime next_release_ = kMaxWatermark;
  uint64_t open_windows_ = 0;
  // Write-back cache: state key → entry, newer than the backend's; ordered, so that a window's
  // entries are one range.
  std::map<std::string, CachedEntry, std::less<>> cache_;
  size_t cache_bytes_ = 0;  // keys + images + kCacheEntryOverhead each
  size_t cache_limit_ = 0;
  std::string key_;  // reused
};

// Session windows in a state backend. Two kinds of entries, both in the key's group:
//   "k" + key text → the key's open sessions, sorted by start: a count, then each session's
//                     start, last event time (ordered int64s) and accumulator image;
//   "e" + end + key text → "" : the release index, one entry per open session at its end
//                     (last + gap), so a scan of a group's "e" entries meets sessions in the
//                     order they close.
// Memory holds, per owned key group, a lower bound of the smallest end in its index, which
// decides which groups a watermark has to scan; nothing per key or per session.
class StoredSessionWindowOperator final : public KeyedOperator {
 public:
  StoredSessionWindowOperator(const WindowOptions& options, const KeyedOperatorContext& ctx,
                              std::unique_ptr<state::StateBackend> backend, state::KvState kv)
      : options_(options),
        groups_(ctx.key_groups),
        backend_(std::move(backend)),
        kv_(kv),
        group_min_end_(ctx.key_groups.size(), kMaxWatermark) {}

  std::string name() const override { return "window"; }

  Status Process(KeyedRecord rec, KeyedOutput* out) override {
    if (rec.watermark >= next_release_) PULSE_RETURN_IF_ERROR(Release(rec.watermark, out));
    const EventTime ts = rec.record.time;
    const DurationMs gap = options_.window.gap_ms;
    const state::KeyGroup group = state::KeyGroupForKey(rec.key);
    SetSessionsKey(rec.key);
    PULSE_ASSIGN_OR_RETURN(std::optional<std::string> image, kv_.Get(group, sessions_key_));
    std::vector<Session> sessions;
    if (image) PULSE_RETURN_IF_ERROR(DecodeSessions(*image, &sessions));
    // The open sessions [lo, hi) that the record's window [ts, ts+gap) overlaps or touches.
    size_t lo = 0;
    while (lo < sessions.size() && End(sessions[lo]) < ts) ++lo;
    size_t hi = lo;
    while (hi < sessions.size() && sessions[hi].start <= ts + gap) ++hi;
    if (lo == hi && ts + gap + options_.allowed_lateness_ms <= rec.watermark) {
      out->late.push_back(std::move(rec));
      return Status::OK();
    }
    Session merged{ts, ts, Accumulator()};
    merged.acc.Add(ExtractAggInput(options_.agg, rec.record.value));
    for (size_t i = lo; i < hi; ++i) {
      Session& s = sessions[i];
      merged.start = std::min(merged.start, s.start);
      merged.last = std::max(merged.last, s.last);
      merged.acc.Merge(std::move(s.acc));
      PULSE_RETURN_IF_ERROR(kv_.Delete(group, IndexKey(End(s), rec.key)));
    }
    const EventTime end = End(merged);
    PULSE_RETURN_IF_ERROR(kv_.Put(group, IndexKey(end, rec.key), ""));
    sessions.erase(sessions.begin() + static_cast<std::ptrdiff_t>(lo),
                   sessions.begin() + static_cast<std::ptrdiff_t>(hi));
    sessions.insert(sessions.begin() + static_cast<std::ptrdiff_t>(lo), std::move(merged));
    open_sessions_ = open_sessions_ + 1 - (hi - lo);
    PULSE_RETURN_IF_ERROR(PutSessions(group, sessions));
    EventTime& min_end = group_min_end_[group - groups_.begin];
    min_end = std::min(min_end, end);
    next_release_ = std::min(next_release_, end + options_.allowed_lateness_ms);
    return Status::OK();
  }

  Status AdvanceWatermark(EventTime watermark, KeyedOutput* out) override {
    if (watermark >= next_release_) return Release(watermark, out);
    return Status::OK();
  }

  KeyedOperatorStats stats() const override { return {open_sessions_, open_sessions_}; }

  Status SnapshotState(const std::string& dir) override {
    return backend_->Snapshot(dir).status();
  }

  Status RestoreState(std::span<const std::string> dirs) override {
    PULSE_RETURN_IF_ERROR(backend_->Restore(dirs));
    open_sessions_ = 0;
    Status bad;
    std::vector<Session> sessions;
    PULSE_RETURN_IF_ERROR(kv_.Scan(groups_, "", [&](state::KeyGroup, std::string_view key,
                                                    std::string_view value) {
      if (key.empty() || (key[0] != 'k' && key[0] != 'e')) {
        // The heap operator's layout (key text → sessions): not this operator's checkpoint.
        bad = Status::Corruption(
            "session state: an entry of another layout (a checkpoint of sessions kept on the "
            "heap); run with --fresh to start over");
        return state::ScanNext::kStop;
      }
      if (key[0] == 'e') return state::ScanNext::kContinue;
      bad = DecodeSessions(value, &sessions);
      if (!bad.ok()) return state::ScanNext::kStop;
      open_sessions_ += sessions.size();
      return state::ScanNext::kContinue;
    }));
    PULSE_RETURN_IF_ERROR(bad);
    // No session is due below every watermark: this only sets each group's smallest end.
    std::vector<std::pair<int64_t, std::string>> none;
    for (uint32_t g = groups_.begin; g < groups_.end; ++g) {
      PULSE_RETURN_IF_ERROR(ScanDue(g, kMinWatermark, &none));
    }
    UpdateNextRelease();
    return Status::OK();
  }

 private:
  struct Session {
    int64_t start;
    int64_t last;  // latest event time in the session
    Accumulator acc;
  };

  EventTime End(const Session& s) const { return s.last + options_.window.gap_ms; }

  void SetSessionsKey(std::string_view key_text) {
    sessions_key_.assign("k");
    sessions_key_.append(key_text);
  }

  const std::string& IndexKey(EventTime end, std::string_view key_text) {
    index_key_.assign("e");
    AppendOrderedInt64(end, &index_key_);
    index_key_.append(key_text);
    return index_key_;
  }

  static Status DecodeSessions(std::string_view image, std::vector<Session>* sessions) {
    sessions->clear();
    int64_t n = 0;
    if (!ReadOrderedInt64(&image, &n) || n <= 0) {
      return Status::Corruption("session state: bad session list");
    }
    for (int64_t i = 0; i < n; ++i) {
      Session s{0, 0, Accumulator()};
      PULSE_RETURN_IF_ERROR(ReadSession(&image, &s.start, &s.last, &s.acc));
      sessions->push_back(std::move(s));
    }
    return Status::OK();
  }

  // Write the key's sessions (sessions_key_ names it), or delete the entry when none is left.
  Status PutSessions(state::KeyGroup group, const std::vector<Session>& sessions) {
    if (sessions.empty()) return kv_.Delete(group, sessions_key_);
    value_.clear();
    AppendOrderedInt64(static_cast<int64_t>(sessions.size()), &value_);
    for (const Session& s : sessions) AppendSession(s.start, s.last, s.acc, &value_);
    return kv_.Put(group, sessions_key_, value_);
  }

  // Replace `*due` with the (end, key text) of group g's sessions with end + L ≤ watermark, in
  // end order, and set the group's smallest end to the first session left (kMaxWatermark: none).
  Status ScanDue(uint32_t g, EventTime watermark,
                 std::vector<std::pair<int64_t, std::string>>* due) {
    const DurationMs lateness = options_.allowed_lateness_ms;
    EventTime& min_end = group_min_end_[g - groups_.begin];
    due->clear();
    min_end = kMaxWatermark;
    Status bad;
    PULSE_RETURN_IF_ERROR(kv_.Scan({g, g + 1}, "e", [&](state::KeyGroup, std::string_view key,
                                                         std::string_view) {
      int64_t end = 0;
      key.remove_prefix(1);
      if (!ReadOrderedInt64(&key, &end)) {
        bad = Status::Corruption("session state: short index key");
        return state::ScanNext::kStop;
      }
      if (end + lateness > watermark) {
        min_end = end;
        return state::ScanNext::kStop;
      }
      due->emplace_back(end, std::string(key));
      return state::ScanNext::kContinue;
    }));
    return bad;
  }

  // Emit and delete every session with end + L ≤ watermark, ordered as the heap operator
  // orders them: by (end, start, key text).
  Status Release(EventTime watermark, KeyedOutput* out) {
    const DurationMs lateness = options_.allowed_lateness_ms;
    const std::string_view agg_name = options_.agg.OutputName();
    const size_t first = out->results.size();
    std::vector<std::pair<int64_t, std::string>> closing;  // (end, key text) of one group
    std::vector<Session> sessions;
    for (uint32_t g = groups_.begin; g < groups_.end; ++g) {
      if (group_min_end_[g - groups_.begin] + lateness > watermark) continue;
      PULSE_RETURN_IF_ERROR(ScanDue(g, watermark, &closing));
      for (const auto& [end, key_text] : closing) {
        PULSE_RETURN_IF_ERROR(kv_.Delete(g, IndexKey(end, key_text)));
        SetSessionsKey(key_text);
        PULSE_ASSIGN_OR_RETURN(std::optional<std::string> image, kv_.Get(g, sessions_key_));
        if (!image) return Status::Corruption("session state: an indexed key has no sessions");
        PULSE_RETURN_IF_ERROR(DecodeSessions(*image, &sessions));
        auto s = std::find_if(sessions.begin(), sessions.end(),
                              [&](const Session& x) { return End(x) == end; });
        if (s == sessions.end()) {
          return Status::Corruption("session state: an indexed session is missing");
        }
        Result<Value> key_value = ParseJson(key_text);
        if (!key_value.ok()) return Status::Corruption("session state: key is not JSON");
        out->results.push_back(MakeWindowResult(s->start, end, key_text, *key_value, agg_name,
                                                s->acc.Result(options_.agg.kind)));
        sessions.erase(s);
        --open_sessions_;
        PULSE_RETURN_IF_ERROR(PutSessions(g, sessions));
      }
    }
    std::sort(out->results.begin() + static_cast<std::ptrdiff_t>(first), out->results.end());
    UpdateNextRelease();
    return Status::OK();
  }

  void UpdateNextRelease() {
    const EventTime min_end = *std::min_element(group_min_end_.begin(), group_min_end_.end());
    next_release_ = min_end + options_.allowed_lateness_ms;
  }

  WindowOptions options_;
  KeyGroupRange groups_;
  std::unique_ptr<state::StateBackend> backend_;
  state::KvState kv_;
  // Per owned group (index g − groups_.begin): at most the smallest end in its release index
  // (kMaxWatermark when it may be empty). Exact after a scan; merges may leave it lower.
  std::vector<EventTime> group_min_end_;
  EventTime next_release_ = kMaxWatermark;
  uint64_t open_sessions_ = 0;
  std::string sessions_key_;  // reused
  std::string index_key_;     // reused
  std::string value_;         // reused
};

}  // namespace

Result<std::unique_ptr<KeyedOperator>> MakeStoredWindowOperator(const WindowOptions& options,
                                                                const KeyedOperatorContext& ctx) {
  if (!options.state_backend) return Status::Internal("stored windows need a state backend");
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<state::StateBackend> backend,
                         options.state_backend(ctx));
  PULSE_ASSIGN_OR_RETURN(state::KvState kv, backend->OpenNamespace(kWindowNamespace));
  if (options.window.kind == WindowSpec::Kind::kSession) {
    return std::unique_ptr<KeyedOperator>(
        std::make_unique<StoredSessionWindowOperator>(options, ctx, std::move(backend), kv));
  }
  return std::unique_ptr<KeyedOperator>(
      std::make_unique<StoredFixedWindowOperator>(options, ctx, std::move(backend), kv));
}

}  // namespace pulse::ops::internal
