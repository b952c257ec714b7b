// SPDX-License-Identifier: MIT
// The window operator: the window rules (window_rules.h) applied to records and watermarks,
// over one store of open windows (window_store.h).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "ops/aggregate.h"
#include "ops/aggregation.h"
#include "ops/window_rules.h"
#include "ops/window_store.h"
#include "pulse/core/operator.h"
#include "pulse/core/status.h"
#include "pulse/ops/window.h"

namespace pulse::ops::internal {

/// One worker's window operator over `Store`, a final FixedWindowStore (tumbling and sliding
/// windows) or SessionStore (sessions), whose accumulators are `Store::Acc` (InputExtractor<Acc>
/// takes each record's input: the original single aggregation's, or the named aggregates'). Every call first releases what its watermark closes,
/// so that results do not depend on how records are batched; then a record goes to each of its
/// windows that is still open, or comes back as late when none is (WindowRules). The operator
/// keeps the watermark at which the next open window closes; the store keeps the windows.
/// It names the concrete store type so that calls to it are direct (and inline) on the
/// per-record path; the store's contract is its interface's. Called from one worker thread.
template <typename Store>
class WindowOperator final : public KeyedOperator {
  static constexpr bool kFixed = std::is_base_of_v<FixedWindowStore, Store>;
  static_assert(kFixed || std::is_base_of_v<SessionStore, Store>);
  static_assert(std::is_final_v<Store>, "calls to the store should be direct");

 public:
  WindowOperator(const WindowOptions& options, std::unique_ptr<Store> store)
      : rules_(options), inputs_(options), store_(std::move(store)) {}

  std::string name() const override { return "window"; }

  Status Process(KeyedRecord rec, KeyedOutput* out) override {
    if (rec.watermark >= next_release_) PULSE_RETURN_IF_ERROR(Release(rec.watermark, out));
    if constexpr (kFixed) {
      const FixedWindowCursor windows = rules_.WindowsOf(rec.record.time, rec.watermark);
      if (!windows.Valid()) {
        out->late.push_back(std::move(rec));
        return Status::OK();
      }
      PULSE_RETURN_IF_ERROR(store_->Add(rec.key, inputs_.Extract(rec.record), windows));
    } else {
      PULSE_ASSIGN_OR_RETURN(const SessionAdd added,
                             store_->Add(rec.key, rec.record.time, rec.watermark,
                                         inputs_.Extract(rec.record)));
      if (added == SessionAdd::kLate) {
        out->late.push_back(std::move(rec));
        return Status::OK();
      }
    }
    // The record may have opened a window that closes before every other one.
    next_release_ = rules_.ClosesAt(store_->NextEnd());
    return Status::OK();
  }

  Status AdvanceWatermark(EventTime watermark, KeyedOutput* out) override {
    if (watermark >= next_release_) return Release(watermark, out);
    return Status::OK();
  }

  KeyedOperatorStats stats() const override {
    const uint64_t open = store_->open_windows();
    return {open, open};
  }

  Status SnapshotState(const std::string& dir) override { return store_->Snapshot(dir); }

  Status RestoreState(std::span<const std::string> dirs) override {
    PULSE_RETURN_IF_ERROR(store_->Restore(dirs));
    next_release_ = rules_.ClosesAt(store_->NextEnd());
    return Status::OK();
  }

 private:
  Status Release(EventTime watermark, KeyedOutput* out) {
    PULSE_RETURN_IF_ERROR(store_->Release(watermark, out));
    next_release_ = rules_.ClosesAt(store_->NextEnd());
    return Status::OK();
  }

  const WindowRules rules_;
  InputExtractor<typename Store::Acc> inputs_;
  std::unique_ptr<Store> store_;
  // The first watermark that closes an open window (kMaxWatermark: none is open).
  EventTime next_release_ = kMaxWatermark;
};

/// A window operator over `store`. Requires: options.Validate() is OK.
template <typename Store>
std::unique_ptr<KeyedOperator> MakeWindowOperator(const WindowOptions& options,
                                                  std::unique_ptr<Store> store) {
  return std::make_unique<WindowOperator<Store>>(options, std::move(store));
}

/// A window operator for one worker (`ctx`): its open windows on the heap, or, with
/// options.state_in_backend, in the backend options.state_backend opens for `ctx`.
/// Errors: InvalidArgument when options.Validate() fails (the option named); the state
/// backend's errors when it cannot be opened.
Result<std::unique_ptr<KeyedOperator>> MakeWindowOperator(const WindowOptions& options,
                                                          const KeyedOperatorContext& ctx);

}  // namespace pulse::ops::internal
