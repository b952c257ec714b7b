// SPDX-License-Identifier: MIT
// What a compiled plan holds, shared by its compiler (plan.cc), its aggregates
// (aggregates.cc) and its stages (stages.cc).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pulse/core/operator.h"
#include "pulse/core/pipeline.h"
#include "pulse/expr/compiled.h"
#include "pulse/ops/window.h"
#include "pulse/plan/plan.h"

namespace pulse::plan {
namespace internal {

/// A field the record stage computes and stores in the record: a computed field of the plan,
/// or the argument of an aggregate that is an expression (hidden: named "__arg<n>").
struct ComputedField {
  std::string name;
  expr::Compiled expression;
  bool before_where = false;  // `where` uses it
  bool hidden = false;
};

/// A part of the key.
struct KeyPart {
  std::string name;
  expr::Compiled expression;
  std::string text;   // as written (without its `as` name)
  std::string field;  // set when the part is a top-level field: read directly, not evaluated
};

/// One aggregate of the plan, in the form of ops::Aggregate (the window operator's named
/// aggregates): the function, its input field and parameters.
struct AggregateCall {
  std::string name;      // the output member
  std::string function;  // count, sum, avg, min, max, distinct, approx_distinct, quantile,
                         // quantiles, first, last, top_k, stddev, stddev_pop, variance,
                         // variance_pop
  std::string field;     // the input field; empty for count(*)
  std::vector<double> quantiles;
  uint32_t k = 0;
  std::string text;      // the call as written (canonical), e.g. "quantile(latency_s, 0.99)"
  expr::Types types = expr::Types::kAny;  // of the result, for `having`
  bool hidden = false;   // added for a call in `having` that no aggregate names
};

/// Parse and check the aggregate `source` named `name` (`index`: its position, for the names
/// of hidden arguments). An argument that is not a top-level field (or a computed field)
/// becomes a hidden computed field appended to `*hidden_fields`, checked in `scope`.
Result<AggregateCall> CompileAggregate(const std::string& name, const expr::Expr& call,
                                       const expr::Scope& scope,
                                       std::vector<ComputedField>* hidden_fields);

/// The single aggregation of the original form that `call` is, if it is one (count(*), sum,
/// avg, min, max, distinct of a field).
std::optional<ops::AggSpec> OriginalAggSpec(const AggregateCall& call);

/// The window operator's named aggregate for `call`, under the name `name`.
ops::Aggregate WindowAggregate(const AggregateCall& call, std::string name);

/// The record stage: observes records for the field check, computes the fields `where` uses,
/// drops the records `where` does not keep, computes the other fields.
std::unique_ptr<Operator> MakeRecordStage(std::shared_ptr<const CompiledPlan::Impl> plan,
                                          std::shared_ptr<FieldCheck> check);

/// The key of a record: the value of the single key part, or an array of the parts' values.
/// `check`, when set, observes each record (plans without a record stage).
KeySelector MakeKeySelector(std::shared_ptr<const CompiledPlan::Impl> plan,
                            std::shared_ptr<FieldCheck> check);

/// The result stage: names the key parts and aggregates of each window result, in the plan's
/// order, and drops the results `having` does not keep.
std::unique_ptr<Operator> MakeResultStage(std::shared_ptr<const CompiledPlan::Impl> plan);

}  // namespace internal

struct CompiledPlan::Impl {
  std::optional<expr::Compiled> where;
  std::string where_text;
  std::vector<internal::ComputedField> fields;  // the plan's, then the hidden arguments
  std::vector<internal::KeyPart> keys;
  std::vector<internal::AggregateCall> aggregates;  // visible (in order), then hidden
  std::optional<expr::Compiled> having;
  std::string having_text;
  /// The window's options: with the original output, the one aggregation of the original form
  /// (window.agg, whose result member is `original_agg_member`: "count", "sum", ...);
  /// otherwise the plan's aggregates as named aggregates (window.aggregates), in the plan's
  /// order, each result member at position 3 + its index.
  ops::WindowOptions window;
  std::string original_agg_member;
  bool original_output = false;
  std::vector<std::pair<std::string, std::string>> data_fields;  // field, first use
};

}  // namespace pulse::plan
