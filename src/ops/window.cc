// SPDX-License-Identifier: MIT
// The public window API: WindowSpec, AggSpec and WindowOptions (validation, descriptions) and
// the WindowedAggregate factory. The rules live in window_rules.h, the operator in
// window_operator.cc, the open windows in the stores of window_store.h.
#include "pulse/ops/window.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>
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
    return options_.window.Describe() + ", " + options_.DescribeAggregation() +
           ", allowed lateness " + FormatDuration(options_.allowed_lateness_ms);
  }

  std::vector<std::string> InputFields() const override {
    std::vector<std::string> fields;
    if (options_.aggregates.empty()) {
      if (options_.agg.kind != AggSpec::Kind::kCount) fields.push_back(options_.agg.field);
      return fields;
    }
    for (const Aggregate& a : options_.aggregates) {
      if (!a.field.empty() &&
          std::find(fields.begin(), fields.end(), a.field) == fields.end()) {
        fields.push_back(a.field);
      }
    }
    return fields;
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

// Function names by Aggregate::Kind.
constexpr std::array<std::string_view, 16> kFunctionNames = {
    "count",    "sum",  "avg",  "min",   "max",    "distinct",   "approx_distinct", "quantile",
    "quantiles", "first", "last", "top_k", "stddev", "stddev_pop", "variance",        "variance_pop"};

std::string_view Aggregate::FunctionName(Kind kind) {
  const auto i = static_cast<size_t>(kind);
  return i < kFunctionNames.size() ? kFunctionNames[i] : std::string_view("unknown");
}

std::optional<Aggregate::Kind> Aggregate::KindNamed(std::string_view name) {
  for (size_t i = 0; i < kFunctionNames.size(); ++i) {
    if (kFunctionNames[i] == name) return static_cast<Kind>(i);
  }
  return std::nullopt;
}

std::string Aggregate::Describe() const {
  std::string s(FunctionName(kind));
  s += '(';
  s += field.empty() && kind == Kind::kCount ? std::string("*") : field;
  if (kind == Kind::kQuantile || kind == Kind::kQuantiles) {
    for (double q : quantiles) s += fmt::format(", {}", q);
  }
  if (kind == Kind::kTopK) s += fmt::format(", {}", k);
  s += ')';
  return s;
}

Status Aggregate::Validate() const {
  auto bad = [&](std::string_view what) {
    return Status::InvalidArgument(fmt::format("aggregate '{}': {}", name, what));
  };
  if (name.empty()) return Status::InvalidArgument("an aggregate needs a name");
  if (static_cast<size_t>(kind) >= kFunctionNames.size()) return bad("unknown aggregate kind");
  const std::string_view function = FunctionName(kind);
  if (field.empty() && kind != Kind::kCount) {
    return bad(fmt::format("{} needs a field", function));
  }
  const bool takes_q = kind == Kind::kQuantile || kind == Kind::kQuantiles;
  if (!takes_q && !quantiles.empty()) {
    return bad(fmt::format("{} takes no quantile", function));
  }
  if (kind == Kind::kQuantile && quantiles.size() != 1) {
    return bad("quantile takes exactly one q (quantiles takes several)");
  }
  if (kind == Kind::kQuantiles && quantiles.empty()) return bad("quantiles needs at least one q");
  for (double q : quantiles) {
    if (!(q >= 0 && q <= 1)) return bad(fmt::format("q must be between 0 and 1, not {}", q));
  }
  if (kind == Kind::kTopK) {
    if (k < 1 || k > kMaxTopK) {
      return bad(fmt::format("k must be between 1 and {}, not {}", kMaxTopK, k));
    }
  } else if (k != 0) {
    return bad(fmt::format("{} takes no k", function));
  }
  return Status::OK();
}

std::string WindowOptions::DescribeAggregation() const {
  if (aggregates.empty()) {
    std::string s(agg.OutputName());
    if (!agg.field.empty()) s += " of '" + agg.field + "'";
    return s;
  }
  std::string s;
  for (const Aggregate& a : aggregates) {
    if (!s.empty()) s += ", ";
    s += a.name + " = " + a.Describe();
  }
  return s;
}

Status WindowOptions::Validate() const {
  PULSE_RETURN_IF_ERROR(window.Validate());
  if (aggregates.empty()) {
    PULSE_RETURN_IF_ERROR(agg.Validate());
  } else {
    std::set<std::string_view> names = {"window_start_ms", "window_end_ms", "key"};
    for (const Aggregate& a : aggregates) {
      PULSE_RETURN_IF_ERROR(a.Validate());
      if (!names.insert(a.name).second) {
        return Status::InvalidArgument(
            a.name == "window_start_ms" || a.name == "window_end_ms" || a.name == "key"
                ? fmt::format("aggregate '{}': the name is taken by the window's result", a.name)
                : fmt::format("aggregate '{}' is named twice", a.name));
      }
    }
  }
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
