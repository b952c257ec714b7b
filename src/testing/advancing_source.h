// SPDX-License-Identifier: MIT
// AdvancingSource: a source decorator that moves a ManualClock forward on every read, so that a
// run's intervals (e.g. the checkpoint interval) pass per batch instead of per millisecond of
// real time.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pulse/core/connector.h"
#include "testing/manual_clock.h"

namespace pulse::testing {

/// Forwards every call to `inner` (its checkpoint side is the inner one), and advances `clock`
/// by `step` before each Read. A run whose
/// RunOptions::env uses `clock` and whose checkpoint interval is at most `step` is then due for
/// a checkpoint after every batch (when none is in flight), however fast the machine.
/// The clock outlives the source. Not thread-safe (the source thread), like any Source.
class AdvancingSource : public Source {
 public:
  AdvancingSource(std::unique_ptr<Source> inner, ManualClock* clock, Clock::Duration step)
      : inner_(std::move(inner)), clock_(clock), step_(step) {}

  void SetProjection(std::vector<std::string> fields) override {
    inner_->SetProjection(std::move(fields));
  }
  Status Open(const SourceContext& ctx) override { return inner_->Open(ctx); }
  Result<bool> Read(size_t max_records, std::vector<Record>* out) override {
    clock_->Advance(step_);
    return inner_->Read(max_records, out);
  }
  void TakeWatermarks(std::vector<SourceWatermark>* out) override { inner_->TakeWatermarks(out); }
  bool GeneratesWatermarks() const override { return inner_->GeneratesWatermarks(); }
  Status Close() override { return inner_->Close(); }
  std::string Describe() const override { return inner_->Describe(); }
  CheckpointedSource* AsCheckpointed() override { return inner_->AsCheckpointed(); }

 private:
  std::unique_ptr<Source> inner_;
  ManualClock* clock_;
  Clock::Duration step_;
};

}  // namespace pulse::testing
