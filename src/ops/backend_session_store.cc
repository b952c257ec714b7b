// SPDX-License-Identifier: MIT
// Session windows in a state backend (e.g. RocksDB), so that the open sessions may exceed
// memory. Two kinds of entries, both in the key's group:
//   "k" + key text → the key's open sessions, sorted by start: a count, then each session's
//                     start, last event time (ordered int64s) and accumulator image;
//   "e" + end + key text → "" : the release index, one entry per open session at its end
//                     (last + gap), so a scan of a group's "e" entries meets sessions in the
//                     order they close.
// Memory holds, per owned key group, a lower bound of the smallest end in its index, which
// decides which groups a watermark has to scan; nothing per key or per session.
#include <algorithm>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ops/window_operator.h"
#include "ops/window_parts.h"
#include "pulse/core/json.h"

namespace pulse::ops::internal {
namespace {

// A SessionStore in a state backend, which it owns, over accumulator A (Accumulator, or the
// named aggregates' AggRow). One worker's; not thread-safe.
template <typename A>
class BackendSessionStore final : public SessionStore {
 public:
  using Acc = A;

  BackendSessionStore(const WindowOptions& options, const KeyedOperatorContext& ctx,
                      std::unique_ptr<state::StateBackend> backend, state::KvState kv)
      : rules_(options),
        agg_(options),
        groups_(ctx.key_groups),
        backend_(std::move(backend)),
        kv_(kv),
        group_min_end_(ctx.key_groups.size(), kMaxWatermark) {}

  Result<SessionAdd> Add(std::string_view key_text, EventTime ts, EventTime watermark,
                         const AggInput& input) override {
    const state::KeyGroup group = state::KeyGroupForKey(key_text);
    SetSessionsKey(key_text);
    PULSE_ASSIGN_OR_RETURN(std::optional<std::string> image, kv_.Get(group, sessions_key_));
    sessions_.clear();
    if (image) PULSE_RETURN_IF_ERROR(DecodeSessions(*image, &sessions_));
    const SessionPlacement p =
        rules_.PlaceSession(std::span<const Session>(sessions_), ts, watermark);
    if (p.late) return SessionAdd::kLate;
    Session fresh{ts, ts, Acc()};
    fresh.acc.Add(input);
    Status deleted;
    const Session& merged =
        rules_.MergeSession(&sessions_, p, std::move(fresh), [&](const Session& part) {
          if (deleted.ok()) {
            deleted = kv_.Delete(group, IndexKey(rules_.SessionEnd(part.last), key_text));
          }
        });
    PULSE_RETURN_IF_ERROR(deleted);
    const EventTime end = rules_.SessionEnd(merged.last);
    PULSE_RETURN_IF_ERROR(kv_.Put(group, IndexKey(end, key_text), ""));
    open_sessions_ = open_sessions_ + 1 - (p.hi - p.lo);
    PULSE_RETURN_IF_ERROR(PutSessions(group, sessions_));
    EventTime& min_end = group_min_end_[group - groups_.begin];
    min_end = std::min(min_end, end);
    next_end_ = std::min(next_end_, end);
    return SessionAdd::kAdded;
  }

  EventTime NextEnd() const override { return next_end_; }

  // Ordered as every store orders results: by (end, start, key text).
  Status Release(EventTime watermark, KeyedOutput* out) override {
    const size_t first = out->results.size();
    std::vector<std::pair<int64_t, std::string>> closing;  // (end, key text) of one group
    for (uint32_t g = groups_.begin; g < groups_.end; ++g) {
      if (!rules_.IsClosed(group_min_end_[g - groups_.begin], watermark)) continue;
      PULSE_RETURN_IF_ERROR(ScanDue(g, watermark, &closing));
      for (const auto& [end, key_text] : closing) {
        PULSE_RETURN_IF_ERROR(kv_.Delete(g, IndexKey(end, key_text)));
        SetSessionsKey(key_text);
        PULSE_ASSIGN_OR_RETURN(std::optional<std::string> image, kv_.Get(g, sessions_key_));
        if (!image) return Status::Corruption("session state: an indexed key has no sessions");
        PULSE_RETURN_IF_ERROR(DecodeSessions(*image, &sessions_));
        auto s = std::find_if(sessions_.begin(), sessions_.end(), [&](const Session& x) {
          return rules_.SessionEnd(x.last) == end;
        });
        if (s == sessions_.end()) {
          return Status::Corruption("session state: an indexed session is missing");
        }
        Result<Value> key_value = ParseJson(key_text);
        if (!key_value.ok()) return Status::Corruption("session state: key is not JSON");
        out->results.push_back(MakeWindowResult(s->start, end, key_text, *key_value, agg_, s->acc));
        sessions_.erase(s);
        --open_sessions_;
        PULSE_RETURN_IF_ERROR(PutSessions(g, sessions_));
      }
    }
    std::sort(out->results.begin() + static_cast<std::ptrdiff_t>(first), out->results.end());
    UpdateNextEnd();
    return Status::OK();
  }

  uint64_t open_windows() const override { return open_sessions_; }

  Status Snapshot(const std::string& dir) override { return backend_->Snapshot(dir).status(); }

  Status Restore(std::span<const std::string> dirs) override {
    PULSE_RETURN_IF_ERROR(backend_->Restore(dirs));
    open_sessions_ = 0;
    Status bad;
    PULSE_RETURN_IF_ERROR(kv_.Scan(groups_, "", [&](state::KeyGroup, std::string_view key,
                                                    std::string_view value) {
      if (key.empty() || (key[0] != 'k' && key[0] != 'e')) {
        // The heap store's layout (key text → sessions): not this store's checkpoint.
        bad = Status::Corruption(
            "session state: an entry of another layout (a checkpoint of sessions kept on the "
            "heap); run with --fresh to start over");
        return state::ScanNext::kStop;
      }
      if (key[0] == 'e') return state::ScanNext::kContinue;
      bad = DecodeSessions(value, &sessions_);
      if (!bad.ok()) return state::ScanNext::kStop;
      open_sessions_ += sessions_.size();
      return state::ScanNext::kContinue;
    }));
    PULSE_RETURN_IF_ERROR(bad);
    // No session is due below every watermark: this only sets each group's smallest end.
    std::vector<std::pair<int64_t, std::string>> none;
    for (uint32_t g = groups_.begin; g < groups_.end; ++g) {
      PULSE_RETURN_IF_ERROR(ScanDue(g, kMinWatermark, &none));
    }
    UpdateNextEnd();
    return Status::OK();
  }

 private:
  struct Session {
    EventTime start;
    EventTime last;  // latest event time in the session
    Acc acc;
  };

  // (clear and push_back rather than assign("k"), of which GCC 12 warns falsely: -Wrestrict.)
  void SetSessionsKey(std::string_view key_text) {
    sessions_key_.clear();
    sessions_key_.push_back('k');
    sessions_key_.append(key_text);
  }

  const std::string& IndexKey(EventTime end, std::string_view key_text) {
    index_key_.clear();
    index_key_.push_back('e');
    AppendOrderedInt64(end, &index_key_);
    index_key_.append(key_text);
    return index_key_;
  }

  Status DecodeSessions(std::string_view image, std::vector<Session>* sessions) const {
    sessions->clear();
    int64_t n = 0;
    if (!ReadOrderedInt64(&image, &n) || n <= 0) {
      return Status::Corruption("session state: bad session list");
    }
    for (int64_t i = 0; i < n; ++i) {
      Session s{0, 0, Acc()};
      PULSE_RETURN_IF_ERROR(ReadSession(agg_, &image, &s.start, &s.last, &s.acc));
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

  void UpdateNextEnd() {
    next_end_ = *std::min_element(group_min_end_.begin(), group_min_end_.end());
  }

  // Replace `*due` with the (end, key text) of group g's sessions that are closed at
  // `watermark`, in end order, and set the group's smallest end to the first session left
  // (kMaxWatermark: none).
  Status ScanDue(uint32_t g, EventTime watermark,
                 std::vector<std::pair<int64_t, std::string>>* due) {
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
      if (!rules_.IsClosed(end, watermark)) {
        min_end = end;
        return state::ScanNext::kStop;
      }
      due->emplace_back(end, std::string(key));
      return state::ScanNext::kContinue;
    }));
    return bad;
  }

  const WindowRules rules_;
  const AggregationFor<Acc> agg_;
  const KeyGroupRange groups_;
  std::unique_ptr<state::StateBackend> backend_;
  state::KvState kv_;
  // Per owned group (index g − groups_.begin): at most the smallest end in its release index
  // (kMaxWatermark when it may be empty). Exact after a scan; merges may leave it lower.
  std::vector<EventTime> group_min_end_;
  EventTime next_end_ = kMaxWatermark;  // the smallest of group_min_end_
  uint64_t open_sessions_ = 0;
  std::vector<Session> sessions_;  // reused: the sessions of the key at hand
  std::string sessions_key_;       // reused
  std::string index_key_;          // reused
  std::string value_;              // reused
};

}  // namespace

std::unique_ptr<KeyedOperator> MakeBackendSessionOperator(
    const WindowOptions& options, const KeyedOperatorContext& ctx,
    std::unique_ptr<state::StateBackend> backend, state::KvState kv) {
  if (!options.aggregates.empty()) {
    return MakeWindowOperator(options, std::make_unique<BackendSessionStore<AggRow>>(
                                           options, ctx, std::move(backend), kv));
  }
  return MakeWindowOperator(options, std::make_unique<BackendSessionStore<Accumulator>>(
                                         options, ctx, std::move(backend), kv));
}

}  // namespace pulse::ops::internal
