// SPDX-License-Identifier: MIT
// The public window API: WindowSpec, AggSpec and WindowOptions (validation, descriptions) and
// the WindowedAggregate factory. The rules live in window_rules.h, the operator in
// window_operator.cc, the open windows in the stores of window_store.h.
#include "pulse/ops/window.h"

#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "ops/window_operator.h"

namespace pulse::ops {
namespace {

Status CheckDuration(const char* name, DurationMs d) {
  if (d <= 0) return Status::InvalidArgument(fmt::format("{} must be greater than 0", name));
  if (d > kMaxDurationMs) {
    return Status::InvalidArgument(fmt::format("{} must be at most 100 years", name));
  }
  return Status::OK();
}

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

  Status Validate() const override { return options_.Validate(); }

  // Validates the options first (also when Pipeline::Validate was not called): a bad option through the C++ API fails the run with
  // InvalidArgument naming it, before any record reaches an operator.
  Result<std::unique_ptr<KeyedOperator>> Make(const KeyedOperatorContext& ctx) const override {
    return internal::MakeWindowOperator(options_, ctx);
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
  switch (kind) {
    case Kind::kCount:
      return Status::OK();
    case Kind::kSum:
    case Kind::kAvg:
    case Kind::kDistinct:
    case Kind::kMin:
    case Kind::kMax:
      if (field.empty()) {
        return Status::InvalidArgument(fmt::format("aggregation {} needs a field", OutputName()));
      }
      return Status::OK();
  }
  return Status::InvalidArgument("unknown aggregation kind");
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
  if (state_in_backend && !state_backend) {
    return Status::InvalidArgument("state_in_backend needs a state_backend");
  }
  return Status::OK();
}

std::unique_ptr<KeyedOperatorFactory> WindowedAggregate(WindowOptions options) {
  return std::make_unique<WindowedAggregateFactory>(std::move(options));
}

}  // namespace pulse::ops
