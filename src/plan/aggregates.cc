// SPDX-License-Identifier: MIT
// The aggregates of a plan: calls such as "quantile(latency_s, 0.99)" checked and turned into
// the window operator's form (function, input field, parameters).
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "plan/plan_internal.h"
#include "pulse/expr/compiled.h"

namespace pulse::plan::internal {
namespace {

using expr::Expr;
using expr::Types;

struct FunctionInfo {
  std::string_view name;      // as written
  std::string_view function;  // the window operator's name
  int parameters;             // literal parameters after the argument (-1: one or more)
  Types types;                // of the result
};

constexpr FunctionInfo kFunctions[] = {
    {"count", "count", 0, Types::kInt},
    {"sum", "sum", 0, Types::kNumber | Types::kNull},
    {"avg", "avg", 0, Types::kDouble | Types::kNull},
    {"mean", "avg", 0, Types::kDouble | Types::kNull},
    {"min", "min", 0, Types::kAny},
    {"max", "max", 0, Types::kAny},
    {"distinct", "distinct", 0, Types::kInt},
    {"count_distinct", "distinct", 0, Types::kInt},
    {"approx_distinct", "approx_distinct", 0, Types::kInt},
    {"quantile", "quantile", 1, Types::kAny},
    {"percentile", "quantile", 1, Types::kAny},
    {"median", "quantile", 0, Types::kAny},
    {"quantiles", "quantiles", -1, Types::kArray | Types::kNull},
    {"first", "first", 0, Types::kAny},
    {"last", "last", 0, Types::kAny},
    {"top_k", "top_k", 1, Types::kArray},
    {"stddev", "stddev", 0, Types::kDouble | Types::kNull},
    {"stddev_samp", "stddev", 0, Types::kDouble | Types::kNull},
    {"stddev_pop", "stddev_pop", 0, Types::kDouble | Types::kNull},
    {"variance", "variance", 0, Types::kDouble | Types::kNull},
    {"var_samp", "variance", 0, Types::kDouble | Types::kNull},
    {"var_pop", "variance_pop", 0, Types::kDouble | Types::kNull},
};

// The largest k of top_k (as the window operator's Aggregate::kMaxTopK).
constexpr int64_t kMaxTopK = 10'000;

const FunctionInfo* Find(std::string_view name) {
  for (const FunctionInfo& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Result<double> Fraction(const Expr& e, std::string_view function) {
  if (e.kind() == Expr::Kind::kLiteral && e.literal().is_number()) {
    double q = 0;
    (void)e.literal().ToNumber(&q);
    if (q >= 0 && q <= 1) return q;
  }
  return e.Error(fmt::format("{} needs a number from 0 to 1 here (0.99 for the 99th "
                             "percentile)",
                             function));
}

}  // namespace

Result<AggregateCall> CompileAggregate(const std::string& name, const Expr& call,
                                       const expr::Scope& scope,
                                       std::vector<ComputedField>* hidden_fields) {
  if (call.kind() != Expr::Kind::kCall || !expr::IsAggregateFunction(call.name())) {
    return call.Error(fmt::format(
        "'{}' is not an aggregate: write a call such as count(*), sum(x), avg(x), min(x), "
        "max(x), count(distinct x), approx_distinct(x), quantile(x, 0.99), first(x), "
        "top_k(x, 10) or stddev(x)",
        call.ToString()));
  }
  const FunctionInfo* f = Find(call.name());
  if (f == nullptr) return call.Error(fmt::format("unknown aggregate '{}'", call.name()));
  std::vector<Expr> args = call.args();
  AggregateCall out;
  out.name = name;
  out.function = std::string(f->function);
  out.types = f->types;
  out.text = call.ToString();
  if (call.distinct()) {
    if (f->function != "count") {
      return call.Error(fmt::format("'distinct' is only allowed in count(distinct x); for {} "
                                    "of distinct values use {}(x)",
                                    call.name(), call.name()));
    }
    out.function = "distinct";
  }
  const size_t wanted = f->parameters < 0 ? 0 : static_cast<size_t>(f->parameters);
  const bool arity_ok = f->parameters < 0 ? args.size() >= 2 : args.size() == 1 + wanted;
  if (!arity_ok) {
    std::string form = fmt::format("{}(x)", call.name());
    if (f->function == "count") form = "count(*), count(x) or count(distinct x)";
    if (call.name() == "quantile" || call.name() == "percentile") {
      form = fmt::format("{}(x, q) with q from 0 to 1", call.name());
    }
    if (call.name() == "quantiles") form = "quantiles(x, q1, q2, ...)";
    if (call.name() == "top_k") form = "top_k(x, k)";
    return call.Error(fmt::format("wrong number of arguments to {}: expected {}; got {}",
                                  call.name(), form, args.size()));
  }
  const Expr& arg = args[0];
  if (arg.kind() == Expr::Kind::kStar) {
    if (f->function != "count" || call.distinct()) {
      return arg.Error("'*' is only allowed in count(*)");
    }
  } else if (arg.IsTopLevelField()) {
    out.field = arg.FieldName();
  } else {
    // An expression: computed into a hidden field of the record that the window reads.
    expr::Scope arg_scope = scope;
    arg_scope.role = "an aggregate's argument";
    PULSE_ASSIGN_OR_RETURN(expr::Compiled compiled, expr::Compiled::Make(arg, arg_scope));
    out.field = fmt::format("__arg{}", hidden_fields->size() + 1);
    hidden_fields->push_back(ComputedField{out.field, std::move(compiled), false, true});
  }
  if (call.name() == "median") out.quantiles = {0.5};
  if (out.function == "quantile" && call.name() != "median") {
    PULSE_ASSIGN_OR_RETURN(double q, Fraction(args[1], call.name()));
    out.quantiles = {q};
  }
  if (out.function == "quantiles") {
    for (size_t i = 1; i < args.size(); ++i) {
      PULSE_ASSIGN_OR_RETURN(double q, Fraction(args[i], call.name()));
      out.quantiles.push_back(q);
    }
  }
  if (out.function == "top_k") {
    const Expr& k = args[1];
    if (k.kind() != Expr::Kind::kLiteral || !k.literal().is_int() || k.literal().as_int() < 1 ||
        k.literal().as_int() > kMaxTopK) {
      return k.Error(fmt::format("top_k needs k as an integer from 1 to {}", kMaxTopK));
    }
    out.k = static_cast<uint32_t>(k.literal().as_int());
  }
  return out;
}

std::optional<ops::AggSpec> OriginalAggSpec(const AggregateCall& call) {
  if (call.function == "count" && call.field.empty()) return ops::AggSpec::Count();
  if (call.field.empty()) return std::nullopt;
  if (call.function == "sum") return ops::AggSpec::Sum(call.field);
  if (call.function == "avg") return ops::AggSpec::Avg(call.field);
  if (call.function == "min") return ops::AggSpec::Min(call.field);
  if (call.function == "max") return ops::AggSpec::Max(call.field);
  if (call.function == "distinct") return ops::AggSpec::Distinct(call.field);
  return std::nullopt;
}

ops::Aggregate WindowAggregate(const AggregateCall& call, std::string name) {
  ops::Aggregate a;
  a.name = std::move(name);
  // CompileAggregate gives only the window operator's function names.
  a.kind = ops::Aggregate::KindNamed(call.function).value_or(ops::Aggregate::Kind::kCount);
  a.field = call.field;
  a.quantiles = call.quantiles;
  a.k = call.k;
  return a;
}

}  // namespace pulse::plan::internal
