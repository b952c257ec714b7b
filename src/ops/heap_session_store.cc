// SPDX-License-Identifier: MIT
// Session windows on the heap: per key id its open sessions, and a release queue of
// (end, key id) entries, one per session.
//
// Checkpoint entries (in the mirror backend): key = the key text, value = its sessions (count,
// then start, last and the general accumulator of each), in the key's group.
#include <algorithm>
#include <functional>
#include <limits>
#include <queue>
#include <span>
#include <utility>
#include <vector>

#include "ops/heap_keys.h"
#include "ops/state_mirror.h"
#include "ops/window_operator.h"
#include "ops/window_parts.h"
#include "pulse/core/json.h"

namespace pulse::ops::internal {
namespace {

// A SessionStore on the heap over accumulator A (Accumulator, or the named aggregates' AggRow).
// One worker's; not thread-safe.
template <typename A>
class HeapSessionStore final : public SessionStore {
 public:
  using Acc = A;

  HeapSessionStore(const WindowOptions& options, const KeyedOperatorContext& ctx)
      : rules_(options), agg_(options), mirror_(options, ctx) {}

  Result<SessionAdd> Add(std::string_view key_text, EventTime ts, EventTime watermark,
                         const AggInput& input) override {
    const uint64_t hash = HashText(key_text);
    uint32_t key = keys_.Find(key_text, hash);
    std::span<const Session> open;
    if (key != kNoKey) open = sessions_[key].sessions;
    const SessionPlacement p = rules_.PlaceSession(open, ts, watermark);
    if (p.late) return SessionAdd::kLate;
    if (key == kNoKey) {
      key = keys_.Intern(key_text, hash);
      keys_.Ref(key);
      if (sessions_.size() < keys_.id_limit()) sessions_.resize(keys_.id_limit());
    }
    KeySessions& ks = sessions_[key];
    ks.dirty = true;
    Session fresh{ts, ts, 0, Acc()};
    fresh.acc.Add(input);
    // A merged session keeps the earliest queue entry of its parts (at most its end); Release
    // moves the entry on to its current end. So the queue holds one entry per session.
    EventTime queued_end = std::numeric_limits<EventTime>::max();
    Session& merged =
        rules_.MergeSession(&ks.sessions, p, std::move(fresh), [&](const Session& part) {
          queued_end = std::min(queued_end, part.queued_end);
        });
    open_sessions_ = open_sessions_ + 1 - (p.hi - p.lo);
    if (p.lo == p.hi) {
      merged.queued_end = rules_.SessionEnd(merged.last);
      release_queue_.emplace(merged.queued_end, key);
    } else {
      merged.queued_end = queued_end;
    }
    return SessionAdd::kAdded;
  }

  EventTime NextEnd() const override {
    return release_queue_.empty() ? kMaxWatermark : release_queue_.top().first;
  }

  // The queue holds one (end, key id) entry per open session, with an end at most the
  // session's: an entry whose session has grown since is pushed again with its current end.
  Status Release(EventTime watermark, KeyedOutput* out) override {
    const size_t first = out->results.size();
    while (!release_queue_.empty() && rules_.IsClosed(release_queue_.top().first, watermark)) {
      const auto [queued_end, key] = release_queue_.top();
      release_queue_.pop();
      KeySessions& ks = sessions_[key];
      std::vector<Session>& sessions = ks.sessions;
      auto s = std::find_if(sessions.begin(), sessions.end(),
                            [&](const Session& x) { return x.queued_end == queued_end; });
      if (s == sessions.end()) continue;  // merged into a session with an earlier entry
      const EventTime end = rules_.SessionEnd(s->last);
      if (end != queued_end) {
        s->queued_end = end;
        release_queue_.emplace(end, key);
        continue;
      }
      const std::string_view key_text = keys_.text(key);
      out->results.push_back(
          MakeWindowResult(s->start, end, key_text, KeyValueFromText(key_text), agg_, s->acc));
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
    std::sort(out->results.begin() + static_cast<std::ptrdiff_t>(first), out->results.end());
    return Status::OK();
  }

  uint64_t open_windows() const override { return open_sessions_; }

  Status Snapshot(const std::string& dir) override {
    PULSE_ASSIGN_OR_RETURN(state::KvState kv, mirror_.Get());
    for (const Deletion& d : deletions_) PULSE_RETURN_IF_ERROR(kv.Delete(d.group, d.key));
    deletions_.clear();
    std::string value;
    for (size_t id = 0; id < sessions_.size(); ++id) {
      KeySessions& ks = sessions_[id];
      if (ks.sessions.empty() || !ks.dirty) continue;
      const std::string_view key_text = keys_.text(static_cast<uint32_t>(id));
      value.clear();
      AppendOrderedInt64(static_cast<int64_t>(ks.sessions.size()), &value);
      for (const Session& session : ks.sessions) {
        AppendSession(session.start, session.last, session.acc, &value);
      }
      PULSE_RETURN_IF_ERROR(kv.Put(state::KeyGroupForKey(key_text), key_text, value));
      ks.dirty = false;
      ks.persisted = true;
    }
    return mirror_.Snapshot(dir);
  }

  Status Restore(std::span<const std::string> dirs) override {
    keys_.Clear();
    sessions_.clear();
    release_queue_ = {};
    open_sessions_ = 0;
    deletions_.clear();
    return mirror_.Restore(dirs, [&](std::string_view key, std::string_view value) -> Status {
      if (!ParseJson(key).ok()) return CorruptWindowState("key is not JSON");
      if (keys_.Find(key, HashText(key)) != kNoKey) return CorruptWindowState("duplicate key");
      KeySessions ks;
      int64_t n = 0;
      if (!ReadOrderedInt64(&value, &n) || n < 0) {
        return CorruptWindowState("short session list");
      }
      if (n == 0) return Status::OK();
      const uint32_t id = keys_.Intern(key, HashText(key));
      keys_.Ref(id);
      for (int64_t i = 0; i < n; ++i) {
        Session session{0, 0, 0, Acc()};
        PULSE_RETURN_IF_ERROR(
            ReadSession(agg_, &value, &session.start, &session.last, &session.acc));
        session.queued_end = rules_.SessionEnd(session.last);
        release_queue_.emplace(session.queued_end, id);
        ks.sessions.push_back(std::move(session));
      }
      ks.dirty = false;
      ks.persisted = true;
      open_sessions_ += ks.sessions.size();
      if (sessions_.size() < keys_.id_limit()) sessions_.resize(keys_.id_limit());
      sessions_[id] = std::move(ks);
      return Status::OK();
    });
  }

 private:
  struct Session {
    EventTime start;
    EventTime last;        // latest event time in the session
    EventTime queued_end;  // the end of its entry in the release queue (≤ its end)
    Acc acc;
  };
  struct KeySessions {
    std::vector<Session> sessions;  // disjoint, sorted by start; empty for a free key id
    bool dirty = true;              // changed since the last snapshot
    bool persisted = false;         // in the mirror backend
  };
  using QueueEntry = std::pair<EventTime, uint32_t>;  // (end, key id)

  const WindowRules rules_;
  const AggregationFor<Acc> agg_;
  KeyInterner keys_;
  std::vector<KeySessions> sessions_;  // by key id
  std::priority_queue<QueueEntry, std::vector<QueueEntry>, std::greater<>> release_queue_;
  uint64_t open_sessions_ = 0;
  StateMirror mirror_;
  std::vector<Deletion> deletions_;  // persisted keys whose last session was released
};

}  // namespace

std::unique_ptr<KeyedOperator> MakeHeapSessionOperator(const WindowOptions& options,
                                                       const KeyedOperatorContext& ctx) {
  if (!options.aggregates.empty()) {
    return MakeWindowOperator(options, std::make_unique<HeapSessionStore<AggRow>>(options, ctx));
  }
  return MakeWindowOperator(options,
                            std::make_unique<HeapSessionStore<Accumulator>>(options, ctx));
}

}  // namespace pulse::ops::internal
