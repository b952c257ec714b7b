// SPDX-License-Identifier: MIT
// The window operator. Every call first releases what its watermark closes, so that results do
// not depend on how records are batched; then a record goes to each of its windows that is
// still open (WindowRules), or comes back as late when none is.
#include "ops/window_operator.h"

#include <algorithm>
#include <utility>

#include "ops/aggregate.h"
#include "ops/window_parts.h"
#include "ops/window_rules.h"
#include "ops/window_store.h"

namespace pulse::ops::internal {
namespace {

// One worker's window operator over a store: a FixedWindowStore for tumbling and sliding
// windows, a SessionStore for sessions (exactly one is set). It keeps the watermark at which
// the next open window closes; the store keeps the windows. Called from one worker thread.
class WindowOperator final : public KeyedOperator {
 public:
  WindowOperator(const WindowOptions& options, std::unique_ptr<FixedWindowStore> fixed,
                 std::unique_ptr<SessionStore> sessions)
      : rules_(options),
        agg_(options.agg),
        fixed_(std::move(fixed)),
        sessions_(std::move(sessions)),
        store_(fixed_ ? static_cast<WindowStore*>(fixed_.get()) : sessions_.get()) {}

  std::string name() const override { return "window"; }

  Status Process(KeyedRecord rec, KeyedOutput* out) override {
    if (rec.watermark >= next_release_) PULSE_RETURN_IF_ERROR(Release(rec.watermark, out));
    EventTime end = 0;
    if (fixed_) {
      const FixedWindowCursor windows = rules_.WindowsOf(rec.record.time, rec.watermark);
      if (!windows.Valid()) {
        out->late.push_back(std::move(rec));
        return Status::OK();
      }
      PULSE_ASSIGN_OR_RETURN(
          end, fixed_->Add(rec.key, ExtractAggInput(agg_, rec.record.value), windows));
    } else {
      PULSE_ASSIGN_OR_RETURN(SessionAdd added,
                             sessions_->Add(rec.key, rec.record.time, rec.watermark,
                                            ExtractAggInput(agg_, rec.record.value)));
      if (added.late) {
        out->late.push_back(std::move(rec));
        return Status::OK();
      }
      end = added.end;
    }
    next_release_ = std::min(next_release_, rules_.ClosesAt(end));
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
  const AggSpec agg_;
  std::unique_ptr<FixedWindowStore> fixed_;
  std::unique_ptr<SessionStore> sessions_;
  WindowStore* store_;  // the one of fixed_ and sessions_ that is set
  // The first watermark that closes an open window (kMaxWatermark: none is open).
  EventTime next_release_ = kMaxWatermark;
};

}  // namespace

Result<std::unique_ptr<KeyedOperator>> MakeWindowOperator(const WindowOptions& options,
                                                          const KeyedOperatorContext& ctx) {
  PULSE_RETURN_IF_ERROR(options.Validate());
  const bool session = options.window.kind == WindowSpec::Kind::kSession;
  std::unique_ptr<FixedWindowStore> fixed;
  std::unique_ptr<SessionStore> sessions;
  if (options.state_in_backend) {
    PULSE_ASSIGN_OR_RETURN(std::unique_ptr<state::StateBackend> backend,
                           options.state_backend(ctx));
    PULSE_ASSIGN_OR_RETURN(state::KvState kv, backend->OpenNamespace(kWindowNamespace));
    if (session) {
      sessions = MakeBackendSessionStore(options, ctx, std::move(backend), kv);
    } else {
      fixed = MakeBackendFixedStore(options, ctx, std::move(backend), kv);
    }
  } else if (session) {
    sessions = MakeHeapSessionStore(options, ctx);
  } else {
    fixed = MakeHeapFixedStore(options, ctx);
  }
  return std::unique_ptr<KeyedOperator>(
      std::make_unique<WindowOperator>(options, std::move(fixed), std::move(sessions)));
}

}  // namespace pulse::ops::internal
