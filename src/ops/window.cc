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
#include <map>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ops/aggregate.h"
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

/// Build a result record for window [start, end) of `key`.
KeyedResult MakeResult(int64_t start, int64_t end, const std::string& key_text,
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
  r.order_key = key_text;
  r.record.time = end - 1;
  r.record.value = Value(std::move(obj));
  return r;
}

bool ResultLess(const KeyedResult& a, const KeyedResult& b) { return a < b; }

// ---------------------------------------------------------------------------------------------
// Checkpoint support shared by both operators.

constexpr std::string_view kNamespace = "window";

void AppendBigEndian(int64_t v, std::string* out) {
  // Flipping the sign bit makes bytewise order equal numeric order.
  const uint64_t u = static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(u >> shift));
}

bool ReadBigEndian(std::string_view* in, int64_t* v) {
  if (in->size() < 8) return false;
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<unsigned char>((*in)[static_cast<size_t>(i)]);
  in->remove_prefix(8);
  *v = static_cast<int64_t>(u ^ (uint64_t{1} << 63));
  return true;
}

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
    PULSE_ASSIGN_OR_RETURN(KvState kv, backend_->OpenNamespace(kNamespace));
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
// Tumbling and sliding windows. State: window (end, start) → key → accumulator; windows are
// released in (end, start) order, keys sorted by their JSON text.
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
    AggInput input = ExtractAggInput(options_.agg, rec.record.value);
    bool counted = false;
    // Windows containing ts start at k·slide for k·slide ∈ (ts − size, ts].
    const int64_t last_start = FloorDiv(ts, slide_) * slide_;
    for (int64_t start = last_start; start > ts - size_; start -= slide_) {
      const int64_t end = start + size_;
      if (end + lateness <= watermark) break;  // this and every earlier window are late
      KeyTable& table = TableFor(start, end);
      auto it = table.find(rec.key);
      if (it == table.end()) {
        it = table.emplace(rec.key, Entry{rec.key_value, Accumulator()}).first;
        ++open_windows_;
      }
      it->second.acc.Add(input);
      it->second.dirty = true;
      counted = true;
    }
    if (!counted) out->late.push_back(std::move(rec));
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
    for (auto& [id, table] : windows_) {
      for (auto& [key_text, entry] : table) {
        if (!entry.dirty) continue;
        StateKey(id, key_text, &key);
        value.clear();
        entry.acc.AppendTo(&value);
        PULSE_RETURN_IF_ERROR(kv.Put(state::KeyGroupForKey(key_text), key, value));
        entry.dirty = false;
        entry.persisted = true;
      }
    }
    return mirror_.Snapshot(dir);
  }

  Status RestoreState(std::span<const std::string> dirs) override {
    windows_.clear();
    cached_ = nullptr;
    open_windows_ = 0;
    next_release_ = kMaxWatermark;
    deletions_.clear();
    return mirror_.Restore(dirs, [&](std::string_view key, std::string_view value) -> Status {
      int64_t end = 0, start = 0;
      if (!ReadBigEndian(&key, &end) || !ReadBigEndian(&key, &start)) {
        return CorruptState("short window key");
      }
      Result<Value> key_value = ParseJson(key);
      if (!key_value.ok()) return CorruptState("key is not JSON");
      Entry entry{std::move(key_value).value(), Accumulator()};
      PULSE_RETURN_IF_ERROR(entry.acc.ReadFrom(&value));
      entry.dirty = false;
      entry.persisted = true;
      TableFor(start, end).emplace(std::string(key), std::move(entry));
      ++open_windows_;
      return Status::OK();
    });
  }

 private:
  struct Entry {
    Value key_value;
    Accumulator acc;
    bool dirty = true;       // changed since the last snapshot
    bool persisted = false;  // in the mirror backend
  };
  using KeyTable = std::unordered_map<std::string, Entry>;
  using WindowId = std::pair<int64_t, int64_t>;  // (end, start): release order

  static void StateKey(const WindowId& id, std::string_view key_text, std::string* out) {
    out->clear();
    AppendBigEndian(id.first, out);
    AppendBigEndian(id.second, out);
    out->append(key_text);
  }

  KeyTable& TableFor(int64_t start, int64_t end) {
    if (cached_ != nullptr && cached_start_ == start && cached_end_ == end) return *cached_;
    auto [it, inserted] = windows_.try_emplace(WindowId{end, start});
    if (inserted) next_release_ = std::min(next_release_, end + options_.allowed_lateness_ms);
    cached_ = &it->second;
    cached_start_ = start;
    cached_end_ = end;
    return it->second;
  }

  void Release(EventTime watermark, KeyedOutput* out) {
    const DurationMs lateness = options_.allowed_lateness_ms;
    const std::string_view agg_name = options_.agg.OutputName();
    while (!windows_.empty()) {
      auto it = windows_.begin();
      const auto [end, start] = it->first;
      if (end + lateness > watermark) break;
      KeyTable& table = it->second;
      const size_t first = out->results.size();
      for (auto& [key, entry] : table) {
        out->results.push_back(MakeResult(start, end, key, entry.key_value, agg_name,
                                          entry.acc.Result(options_.agg.kind)));
        if (entry.persisted) {
          Deletion& d = deletions_.emplace_back();
          d.group = state::KeyGroupForKey(key);
          StateKey(it->first, key, &d.key);
        }
      }
      std::sort(out->results.begin() + static_cast<std::ptrdiff_t>(first), out->results.end(),
                ResultLess);
      open_windows_ -= table.size();
      if (cached_ == &table) cached_ = nullptr;
      windows_.erase(it);
    }
    next_release_ =
        windows_.empty() ? kMaxWatermark : windows_.begin()->first.first + lateness;
  }

  WindowOptions options_;
  DurationMs size_ = 0;
  DurationMs slide_ = 0;
  std::map<WindowId, KeyTable> windows_;
  EventTime next_release_ = kMaxWatermark;  // smallest end + L of an open window
  KeyTable* cached_ = nullptr;              // the table used last (most records hit it)
  int64_t cached_start_ = 0;
  int64_t cached_end_ = 0;
  uint64_t open_windows_ = 0;  // (window, key) pairs
  StateMirror mirror_;
  std::vector<Deletion> deletions_;  // persisted entries released since the last snapshot
};

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

    auto it = keys_.find(rec.key);
    // Find the open sessions [s, e) that the record's window [ts, ts+gap) overlaps or touches.
    Session merged{ts, ts, Accumulator()};
    std::vector<Session>* sessions = it == keys_.end() ? nullptr : &it->second.sessions;
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
    merged.acc.Add(ExtractAggInput(options_.agg, rec.record.value));
    if (sessions == nullptr) {
      it = keys_.emplace(rec.key, KeySessions{rec.key_value, {}}).first;
      sessions = &it->second.sessions;
    }
    it->second.dirty = true;
    for (size_t i = lo; i < hi; ++i) {
      Session& s = (*sessions)[i];
      merged.start = std::min(merged.start, s.start);
      merged.last = std::max(merged.last, s.last);
      merged.acc.Merge(std::move(s.acc));
    }
    open_sessions_ -= (hi - lo);
    ++open_sessions_;
    const EventTime end = End(merged);
    sessions->erase(sessions->begin() + static_cast<std::ptrdiff_t>(lo),
                    sessions->begin() + static_cast<std::ptrdiff_t>(hi));
    sessions->insert(sessions->begin() + static_cast<std::ptrdiff_t>(lo), std::move(merged));
    release_queue_.emplace(end, it->first);
    next_release_ = std::min(next_release_, end + lateness);
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
    for (auto& [key_text, ks] : keys_) {
      if (!ks.dirty) continue;
      value.clear();
      AppendBigEndian(static_cast<int64_t>(ks.sessions.size()), &value);
      for (const Session& session : ks.sessions) {
        AppendBigEndian(session.start, &value);
        AppendBigEndian(session.last, &value);
        session.acc.AppendTo(&value);
      }
      PULSE_RETURN_IF_ERROR(kv.Put(state::KeyGroupForKey(key_text), key_text, value));
      ks.dirty = false;
      ks.persisted = true;
    }
    return mirror_.Snapshot(dir);
  }

  Status RestoreState(std::span<const std::string> dirs) override {
    keys_.clear();
    release_queue_ = {};
    open_sessions_ = 0;
    deletions_.clear();
    PULSE_RETURN_IF_ERROR(
        mirror_.Restore(dirs, [&](std::string_view key, std::string_view value) -> Status {
          Result<Value> key_value = ParseJson(key);
          if (!key_value.ok()) return CorruptState("key is not JSON");
          KeySessions ks{std::move(key_value).value(), {}};
          int64_t n = 0;
          if (!ReadBigEndian(&value, &n) || n < 0) return CorruptState("short session list");
          for (int64_t i = 0; i < n; ++i) {
            Session session{0, 0, Accumulator()};
            if (!ReadBigEndian(&value, &session.start) || !ReadBigEndian(&value, &session.last)) {
              return CorruptState("short session");
            }
            PULSE_RETURN_IF_ERROR(session.acc.ReadFrom(&value));
            release_queue_.emplace(End(session), std::string(key));
            ks.sessions.push_back(std::move(session));
          }
          ks.dirty = false;
          ks.persisted = true;
          open_sessions_ += ks.sessions.size();
          keys_.emplace(std::string(key), std::move(ks));
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
    int64_t last;  // latest event time in the session
    Accumulator acc;
  };
  struct KeySessions {
    Value key_value;
    std::vector<Session> sessions;  // disjoint, sorted by start
    bool dirty = true;              // changed since the last snapshot
    bool persisted = false;         // in the mirror backend
  };

  EventTime End(const Session& s) const { return s.last + options_.window.gap_ms; }

  // Release every session with end + L ≤ watermark. The queue holds (end, key) for every
  // session ever opened or extended; entries whose session has since merged or grown are stale
  // and skipped.
  void Release(EventTime watermark, KeyedOutput* out) {
    const DurationMs lateness = options_.allowed_lateness_ms;
    const std::string_view agg_name = options_.agg.OutputName();
    const size_t first = out->results.size();
    while (!release_queue_.empty() && release_queue_.top().first + lateness <= watermark) {
      auto [end, key] = release_queue_.top();
      release_queue_.pop();
      auto it = keys_.find(key);
      if (it == keys_.end()) continue;
      std::vector<Session>& sessions = it->second.sessions;
      auto s = std::find_if(sessions.begin(), sessions.end(),
                            [&](const Session& x) { return End(x) == end; });
      if (s == sessions.end()) continue;
      out->results.push_back(MakeResult(s->start, end, key, it->second.key_value, agg_name,
                                        s->acc.Result(options_.agg.kind)));
      sessions.erase(s);
      --open_sessions_;
      it->second.dirty = true;
      if (sessions.empty()) {
        if (it->second.persisted) deletions_.push_back({state::KeyGroupForKey(key), key});
        keys_.erase(it);
      }
    }
    std::sort(out->results.begin() + static_cast<std::ptrdiff_t>(first), out->results.end(),
              ResultLess);
    next_release_ =
        release_queue_.empty() ? kMaxWatermark : release_queue_.top().first + lateness;
  }

  using QueueEntry = std::pair<int64_t, std::string>;
  WindowOptions options_;
  std::unordered_map<std::string, KeySessions> keys_;
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
    if (options_.window.kind == WindowSpec::Kind::kSession) {
      return std::unique_ptr<KeyedOperator>(
          std::make_unique<SessionWindowOperator>(options_, ctx));
    }
    return std::unique_ptr<KeyedOperator>(std::make_unique<FixedWindowOperator>(options_, ctx));
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
  return Status::OK();
}

std::unique_ptr<KeyedOperatorFactory> WindowedAggregate(WindowOptions options) {
  return std::make_unique<WindowedAggregateFactory>(std::move(options));
}

}  // namespace pulse::ops
