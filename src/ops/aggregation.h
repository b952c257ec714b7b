// SPDX-License-Identifier: MIT
// What a store of open windows needs to know about its accumulators, whichever form the window
// computes: the original single aggregation (its accumulators in aggregate.h) or the named
// aggregates (AggRow). The stores are templates over the accumulator type Acc and hold an
// AggregationFor<Acc>.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ops/aggregate.h"
#include "ops/aggregate_row.h"
#include "pulse/core/record.h"
#include "pulse/core/status.h"
#include "pulse/core/value.h"
#include "pulse/ops/window.h"

namespace pulse::ops::internal {

/// The original single aggregation over accumulator Acc (CountAcc, SumAcc, ExtremeAcc,
/// DistinctAcc or Accumulator): one result member named by AggSpec::OutputName. Immutable.
template <typename Acc>
class SingleAggregation {
 public:
  explicit SingleAggregation(const WindowOptions& options)
      : kind_(options.agg.kind), name_(options.agg.OutputName()) {}

  /// Read an image Acc::AppendTo wrote from the front of `*in`. Errors: Corruption.
  Status Read(std::string_view* in, Acc* acc) const { return acc->ReadFrom(in); }
  /// Append the result member(s) of `acc` to a result record.
  void AppendResults(const Acc& acc, Object* out) const {
    out->emplace_back(std::string(name_), acc.Result(kind_));
  }
  size_t result_members() const { return 1; }

 private:
  AggSpec::Kind kind_;
  std::string_view name_;  // AggSpec::OutputName(), a static string
};

/// The named aggregates (WindowOptions::aggregates) over AggRow: one result member per
/// aggregate. Immutable.
class NamedAggregation {
 public:
  explicit NamedAggregation(const WindowOptions& options)
      : plan_(std::make_shared<const AggregatePlan>(options.aggregates)) {}

  Status Read(std::string_view* in, AggRow* acc) const { return acc->ReadFrom(*plan_, in); }
  void AppendResults(const AggRow& acc, Object* out) const { acc.AppendResults(*plan_, out); }
  size_t result_members() const { return plan_->outputs().size(); }
  const AggregatePlan& plan() const { return *plan_; }

 private:
  std::shared_ptr<const AggregatePlan> plan_;  // immutable, shared by copies
};

template <typename Acc>
using AggregationFor =
    std::conditional_t<std::is_same_v<Acc, AggRow>, NamedAggregation, SingleAggregation<Acc>>;

/// What a window operator extracts from each record for accumulator Acc: for the original
/// form, ExtractAggInput; for AggRow, the named aggregates' fields, kept in a buffer reused by
/// every record (so an input is valid until the next Extract). One worker's; not thread-safe.
template <typename Acc>
class InputExtractor {
 public:
  explicit InputExtractor(const WindowOptions& options) : spec_(options.agg) {}
  AggInput Extract(const Record& record) { return ExtractAggInput(spec_, record.value); }

 private:
  const AggSpec spec_;
};

template <>
class InputExtractor<AggRow> {
 public:
  explicit InputExtractor(const WindowOptions& options) : aggregation_(options) {}
  AggInput Extract(const Record& record) {
    aggregation_.plan().Extract(record.value, &fields_);
    AggInput in;
    in.plan = &aggregation_.plan();
    in.time = record.time;
    in.fields = fields_.data();
    return in;
  }

 private:
  const NamedAggregation aggregation_;
  std::vector<FieldInput> fields_;  // reused
};

}  // namespace pulse::ops::internal
