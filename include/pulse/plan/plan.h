// SPDX-License-Identifier: MIT
// The logical plan of a windowed query, which the TOML config (and the C++ API) compile to:
//   source → where → computed fields → key → window → named aggregates → having → sink
// and its compilation into pipeline stages (docs/expressions.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/pipeline.h"
#include "pulse/core/status.h"
#include "pulse/expr/expr.h"
#include "pulse/metrics/counter.h"
#include "pulse/ops/window.h"

namespace pulse::plan {

/// One expression of a plan: text to parse (with where it comes from, for messages) or a tree
/// made with the builders of pulse/expr/expr.h.
struct ExprSource {
  std::string text;
  expr::Origin origin;  // an empty key gets the plan's own name ("where", "key[1]", ...)
  std::optional<expr::Expr> tree;  // set: used instead of `text`

  ExprSource() = default;
  ExprSource(std::string t, expr::Origin o = {})  // NOLINT(google-explicit-constructor)
      : text(std::move(t)), origin(std::move(o)) {}
  ExprSource(const char* t) : text(t) {}  // NOLINT(google-explicit-constructor)
  ExprSource(expr::Expr e) : tree(std::move(e)) {}  // NOLINT(google-explicit-constructor)
};

/// What a pipeline computes, in the order it happens. Build it with the fluent setters, then
/// Compile() it (which checks everything) and add it to a Pipeline.
///
///   LogicalPlan plan;
///   plan.Where("status >= 500")
///       .Field("latency_s", "latency_ms / 1000.0")
///       .Key("region").Key("lower(host) as host")
///       .Window(ops::WindowSpec::Tumbling(60'000))
///       .Aggregate("requests", "count(*)")
///       .Aggregate("p99_s", "quantile(latency_s, 0.99)")
///       .Having("requests >= 10");
///
/// Plain data: copyable, thread-compatible.
class LogicalPlan {
 public:
  /// Keep only the records for which `condition` is true (null and false drop the record).
  LogicalPlan& Where(ExprSource condition);
  /// A computed field, usable by name in `where`, later fields, keys and aggregates. Computed
  /// fields are evaluated in the order they are added; a field may use those before it.
  LogicalPlan& Field(std::string name, ExprSource expression);
  /// A key part: "region", "user.id" (named by its path) or "<expression> as <name>"; with a
  /// tree, Key(name, tree). Results are grouped by all key parts together.
  LogicalPlan& Key(ExprSource key);
  LogicalPlan& Key(std::string name, expr::Expr expression);
  /// The windows (spec, lateness, state backend). Its `agg` and `aggregates` are ignored: the
  /// plan's aggregates replace them.
  LogicalPlan& Window(ops::WindowOptions window);
  LogicalPlan& Window(ops::WindowSpec spec);
  /// An output column `name` = an aggregate call: "count(*)", "count(x)", "sum(bytes)",
  /// "avg(latency_ms / 1000)", "quantile(latency_s, 0.99)", "count(distinct user)", ...
  LogicalPlan& Aggregate(std::string name, ExprSource call);
  /// Keep only the results for which `condition` is true; it may use the key and aggregate
  /// names, and aggregate calls ("count(*) >= 10").
  LogicalPlan& Having(ExprSource condition);
  /// The original one-key, one-aggregate form (`count_by`, `agg`): results carry "key" and the
  /// aggregation's own name ("count", "sum", ...) exactly as the original Pulse wrote them.
  /// Requires: exactly one key that is a field and one aggregate that the original form has.
  LogicalPlan& OriginalOutput(bool on = true);

  struct NamedSource {
    std::string name;
    ExprSource source;
  };
  const std::optional<ExprSource>& where() const { return where_; }
  const std::vector<NamedSource>& fields() const { return fields_; }
  const std::vector<NamedSource>& keys() const { return keys_; }  // name empty: from the text
  const ops::WindowOptions& window() const { return window_; }
  const std::vector<NamedSource>& aggregates() const { return aggregates_; }
  const std::optional<ExprSource>& having() const { return having_; }
  bool original_output() const { return original_output_; }

 private:
  std::optional<ExprSource> where_;
  std::vector<NamedSource> fields_;
  std::vector<NamedSource> keys_;
  ops::WindowOptions window_;
  std::vector<NamedSource> aggregates_;
  std::optional<ExprSource> having_;
  bool original_output_ = false;
};

/// The check of item 7: a field that the plan reads but that none of the first
/// `records_to_check` records has (a typo such as `stauts`). Shared by the plan's stages (which
/// observe records on the source thread) and its owner (which reads the findings).
/// Thread-safe.
class FieldCheck {
 public:
  struct Missing {
    std::string field;       // "stauts"
    std::string used_in;     // "ops.where" (the first use)
    std::string suggestion;  // the closest field the data had, or ""
  };

  static constexpr uint64_t kRecordsToCheck = 10'000;

  FieldCheck(std::vector<std::pair<std::string, std::string>> fields_and_uses,
             uint64_t records_to_check = kRecordsToCheck);
  FieldCheck(const FieldCheck&) = delete;
  FieldCheck& operator=(const FieldCheck&) = delete;

  /// Called with each warning once it is known ("ops.where: field 'stauts' is in none of the
  /// first 10000 records (did you mean 'status'?)"), from the thread that finds it. Set before
  /// the run starts.
  void OnWarning(std::function<void(std::string_view)> callback);
  /// Count each missing field in `counter` (pulse_plan_missing_fields_total). Set before the run.
  void CountIn(metrics::Counter* counter);

  /// Look at one record (its top-level member names). Cheap once the check is done.
  void Observe(const Value& record);
  /// The end of the input: decide on the fields not seen in fewer than records_to_check
  /// records. Idempotent.
  void Finish();
  /// The fields found missing so far, in the order the plan names them.
  std::vector<Missing> missing() const;
  /// The fields the plan reads from the data, with their first use.
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  void Decide();

  std::vector<std::pair<std::string, std::string>> fields_;
  uint64_t records_to_check_;
  std::atomic<bool> done_{false};
  mutable std::mutex mu_;
  uint64_t records_ = 0;                    // guarded by mu_
  std::vector<bool> seen_;                  // guarded by mu_
  std::vector<std::string> names_seen_;     // guarded by mu_ (the data's fields, first 100)
  std::vector<Missing> missing_;            // guarded by mu_
  std::function<void(std::string_view)> on_warning_;
  metrics::Counter* counter_ = nullptr;
};

/// A checked plan, ready to be added to pipelines. Copyable (compiled expressions are shared).
class CompiledPlan {
 public:
  /// Parse and check every part: expressions (syntax, functions, types), names (unique keys
  /// and outputs, computed fields used before they are defined), aggregates (known functions,
  /// their arguments and parameters), having (only keys and aggregates), the window options.
  /// Errors: InvalidArgument naming the part, with the file position when the text has one.
  static Result<CompiledPlan> Make(const LogicalPlan& plan);

  /// Add the plan's stages to `pipeline`, between its source (From) and its sink (To): the
  /// record stage (where and computed fields, when there are any), the key, the window
  /// operator and the result stage (names, having), each new. Errors: InvalidArgument when the
  /// plan needs what this build's window operator cannot do yet.
  Status AddTo(Pipeline& pipeline) const;

  /// One line of the plan as `pulse validate` prints it.
  struct Line {
    std::string label;  // "where:", "fields:", "key:", "window:", "aggregates:", "having:",
                        // "output:"; "" continues the line above
    std::string text;
  };
  /// The plan in execution order: where, computed fields, key, window, aggregates, having,
  /// and the output's members (parts the plan does not have are left out).
  std::vector<Line> Lines() const;
  /// Lines() as text, labels padded to 13 characters.
  std::string Describe() const;

  /// The names of the result's members in order: window_start_ms, window_end_ms, the keys,
  /// the aggregates.
  std::vector<std::string> OutputColumns() const;

  /// The fields the plan reads from the data, each with its first use ("ops.where").
  std::vector<std::pair<std::string, std::string>> DataFields() const;

  /// The unknown-field check of this plan's stages (one per CompiledPlan; the stages that
  /// AddTo makes share it).
  const std::shared_ptr<FieldCheck>& field_check() const { return field_check_; }

  /// The window options the plan's aggregates compile to (for fingerprints and tests).
  const ops::WindowOptions& window() const;

  struct Impl;

 private:
  explicit CompiledPlan(std::shared_ptr<const Impl> impl);

  std::shared_ptr<const Impl> impl_;
  std::shared_ptr<FieldCheck> field_check_;
};

}  // namespace pulse::plan
