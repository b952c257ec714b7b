// SPDX-License-Identifier: MIT
// Fixed windows in a state backend. Entry: key = window end and start (8 bytes each, big-endian,
// sign bit flipped, so that bytes sort like numbers) + the key's JSON text, in the key's group;
// value = the accumulator's image (Accumulator::AppendTo). Memory holds one counter per open
// window (not per key), which drives the releases.
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
      : options_(options), groups_(ctx.key_groups), backend_(std::move(backend)), kv_(kv) {
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
      PULSE_ASSIGN_OR_RETURN(std::optional<std::string> old, kv_.Get(group, key_));
      Accumulator acc;
      if (old) {
        std::string_view image = *old;
        PULSE_RETURN_IF_ERROR(acc.ReadFrom(&image));
      } else {
        ++open_[{end, start}];
        ++open_windows_;
        next_release_ = std::min(next_release_, end + lateness);
      }
      acc.Add(input);
      value_.clear();
      acc.AppendTo(&value_);
      PULSE_RETURN_IF_ERROR(kv_.Put(group, key_, value_));
      counted = true;
    }
    if (!counted) out->late.push_back(std::move(rec));
    return Status::OK();
  }

  Status AdvanceWatermark(EventTime watermark, KeyedOutput* out) override {
    if (watermark >= next_release_) return Release(watermark, out);
    return Status::OK();
  }

  KeyedOperatorStats stats() const override { return {open_windows_, open_windows_}; }

  Status SnapshotState(const std::string& dir) override {
    return backend_->Snapshot(dir).status();
  }

  Status RestoreState(std::span<const std::string> dirs) override {
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
      ++open_[ReadWindowId(key)];
      ++open_windows_;
      return state::ScanNext::kContinue;
    }));
    PULSE_RETURN_IF_ERROR(bad);
    UpdateNextRelease();
    return Status::OK();
  }

 private:
  using WindowId = std::pair<int64_t, int64_t>;  // (end, start): release order

  // Emit and delete every window with end + L ≤ watermark, in (end, start) order, each
  // window's keys in their text's byte order.
  Status Release(EventTime watermark, KeyedOutput* out) {
    const DurationMs lateness = options_.allowed_lateness_ms;
    const std::string_view agg_name = options_.agg.OutputName();
    while (!open_.empty() && open_.begin()->first.first + lateness <= watermark) {
      const auto [end, start] = open_.begin()->first;
      std::string prefix;
      AppendOrderedInt64(end, &prefix);
      AppendOrderedInt64(start, &prefix);
      const size_t first = out->results.size();
      std::vector<std::pair<state::KeyGroup, std::string>> done;
      Status bad;
      PULSE_RETURN_IF_ERROR(kv_.Scan(groups_, prefix, [&](state::KeyGroup group,
                                                          std::string_view key,
                                                          std::string_view value) {
        const std::string_view key_text = key.substr(16);
        Accumulator acc;
        Result<Value> key_value = ParseJson(key_text);
        if (!key_value.ok()) {
          bad = Status::Corruption("window state: key is not JSON");
          return state::ScanNext::kStop;
        }
        if (Status st = acc.ReadFrom(&value); !st.ok()) {
          bad = st;
          return state::ScanNext::kStop;
        }
        out->results.push_back(MakeWindowResult(start, end, key_text, *key_value, agg_name,
                                          acc.Result(options_.agg.kind)));
        done.emplace_back(group, std::string(key));
        return state::ScanNext::kContinue;
      }));
      PULSE_RETURN_IF_ERROR(bad);
      for (const auto& [group, key] : done) PULSE_RETURN_IF_ERROR(kv_.Delete(group, key));
      std::sort(out->results.begin() + static_cast<std::ptrdiff_t>(first), out->results.end());
      open_windows_ -= done.size();
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
  std::map<WindowId, uint64_t> open_;  // open keys per window
  EventTime next_release_ = kMaxWatermark;
  uint64_t open_windows_ = 0;
  std::string key_;    // reused
  std::string value_;  // reused
};

}  // namespace

Result<std::unique_ptr<KeyedOperator>> MakeStoredFixedWindowOperator(
    const WindowOptions& options, const KeyedOperatorContext& ctx) {
  if (!options.state_backend || options.window.kind == WindowSpec::Kind::kSession) {
    return Status::Internal("stored windows need a state backend and fixed windows");
  }
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<state::StateBackend> backend,
                         options.state_backend(ctx));
  PULSE_ASSIGN_OR_RETURN(state::KvState kv, backend->OpenNamespace(kWindowNamespace));
  return std::unique_ptr<KeyedOperator>(
      std::make_unique<StoredFixedWindowOperator>(options, ctx, std::move(backend), kv));
}

}  // namespace pulse::ops::internal
