// SPDX-License-Identifier: MIT
// LogicalPlan's setters, and CompiledPlan: checking a plan once and adding its stages to a
// pipeline.
#include "pulse/plan/plan.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "plan/plan_internal.h"
#include "pulse/expr/compiled.h"

namespace pulse::plan {

using internal::AggregateCall;
using internal::ComputedField;
using internal::KeyPart;

LogicalPlan& LogicalPlan::Where(ExprSource condition) {
  where_ = std::move(condition);
  return *this;
}

LogicalPlan& LogicalPlan::Field(std::string name, ExprSource expression) {
  fields_.push_back(NamedSource{std::move(name), std::move(expression)});
  return *this;
}

LogicalPlan& LogicalPlan::Key(ExprSource key) {
  keys_.push_back(NamedSource{{}, std::move(key)});
  return *this;
}

LogicalPlan& LogicalPlan::Key(std::string name, expr::Expr expression) {
  keys_.push_back(NamedSource{std::move(name), ExprSource(std::move(expression))});
  return *this;
}

LogicalPlan& LogicalPlan::Window(ops::WindowOptions window) {
  window_ = std::move(window);
  return *this;
}

LogicalPlan& LogicalPlan::Window(ops::WindowSpec spec) {
  window_.window = spec;
  return *this;
}

LogicalPlan& LogicalPlan::Aggregate(std::string name, ExprSource call) {
  aggregates_.push_back(NamedSource{std::move(name), std::move(call)});
  return *this;
}

LogicalPlan& LogicalPlan::Having(ExprSource condition) {
  having_ = std::move(condition);
  return *this;
}

LogicalPlan& LogicalPlan::OriginalOutput(bool on) {
  original_output_ = on;
  return *this;
}

namespace {

constexpr std::string_view kWindowStart = "window_start_ms";
constexpr std::string_view kWindowEnd = "window_end_ms";

// The parsed tree of `source`; `key` names it in messages when its origin has no key.
Result<expr::Expr> ParseSource(const ExprSource& source, const std::string& key) {
  if (source.tree) return *source.tree;
  expr::Origin origin = source.origin;
  if (origin.key.empty()) origin.key = key;
  return expr::Parse(source.text, origin);
}

// "<file>:<line>: <key>: <message>", or "<key>: <message>" without a file.
Status PlanError(const ExprSource& source, const std::string& key, std::string_view message) {
  const expr::Origin& o = source.origin;
  const std::string& name = o.key.empty() ? key : o.key;
  if (o.file.empty()) return Status::InvalidArgument(fmt::format("{}: {}", name, message));
  return Status::InvalidArgument(fmt::format("{}:{}: {}: {}", o.file, o.line, name, message));
}

std::string KeyOf(const ExprSource& source, const std::string& fallback) {
  return source.origin.key.empty() ? fallback : source.origin.key;
}

bool IsCondition(expr::Types t) {
  return expr::Any(t & expr::Types::kBool) ||
         (t & static_cast<expr::Types>(~1u & 0x7f)) == expr::Types::kNone;
}

// Compiles the parts of a LogicalPlan in order, each in the scope of the parts before it.
class Compiler {
 public:
  explicit Compiler(const LogicalPlan& plan) : plan_(plan) {}

  Result<std::shared_ptr<CompiledPlan::Impl>> Run() {
    impl_ = std::make_shared<CompiledPlan::Impl>();
    impl_->original_output = plan_.original_output();
    PULSE_RETURN_IF_ERROR(CompileFields());
    PULSE_RETURN_IF_ERROR(CompileWhere());
    PULSE_RETURN_IF_ERROR(CompileKeys());
    PULSE_RETURN_IF_ERROR(CompileAggregates());
    PULSE_RETURN_IF_ERROR(CompileHaving());
    for (ComputedField& f : hidden_) impl_->fields.push_back(std::move(f));
    PULSE_RETURN_IF_ERROR(CompileWindow());
    return impl_;
  }

 private:
  void AddDataFields(const expr::Compiled& c, const std::string& use) {
    for (const std::string& f : c.fields()) {
      const bool known = std::any_of(impl_->data_fields.begin(), impl_->data_fields.end(),
                                     [&f](const auto& p) { return p.first == f; });
      if (!known) impl_->data_fields.emplace_back(f, use);
    }
  }

  Status CompileFields() {
    const auto& fields = plan_.fields();
    for (size_t i = 0; i < fields.size(); ++i) {
      const std::string& name = fields[i].name;
      const std::string key = KeyOf(fields[i].source, "fields." + name);
      if (name.empty()) return PlanError(fields[i].source, key, "a computed field needs a name");
      if (name.rfind("__arg", 0) == 0) {
        return PlanError(fields[i].source, key, "names starting with __arg are reserved");
      }
      for (size_t j = 0; j < i; ++j) {
        if (fields[j].name == name) {
          return PlanError(fields[i].source, key,
                           fmt::format("the computed field '{}' is defined twice", name));
        }
      }
      PULSE_ASSIGN_OR_RETURN(expr::Expr e, ParseSource(fields[i].source, key));
      expr::Scope s = scope_;
      s.role = key;
      PULSE_ASSIGN_OR_RETURN(expr::Compiled c, expr::Compiled::Make(e, s));
      for (const std::string& f : c.fields()) {
        for (size_t j = i + 1; j < fields.size(); ++j) {
          if (fields[j].name == f) {
            return e.Error(fmt::format("'{}' is a computed field defined after '{}'; a computed "
                                       "field can use only those above it",
                                       f, name));
          }
        }
      }
      AddDataFields(c, key);
      scope_.names.push_back(expr::Scope::Name{name, c.types()});
      impl_->fields.push_back(ComputedField{name, std::move(c), false, false});
    }
    return Status::OK();
  }

  Status CompileWhere() {
    if (!plan_.where()) return Status::OK();
    const ExprSource& source = *plan_.where();
    const std::string key = KeyOf(source, "where");
    PULSE_ASSIGN_OR_RETURN(expr::Expr e, ParseSource(source, key));
    expr::Scope s = scope_;
    s.role = key;
    PULSE_ASSIGN_OR_RETURN(expr::Compiled c, expr::Compiled::Make(e, s));
    if (!IsCondition(c.types())) {
      return e.Error(fmt::format("{} must be a condition (true or false); got {}", key,
                                 expr::DescribeTypes(c.types())));
    }
    AddDataFields(c, key);
    // The computed fields `where` uses, and those they use, are computed before it.
    std::set<std::string> needed(c.names().begin(), c.names().end());
    for (auto it = impl_->fields.rbegin(); it != impl_->fields.rend(); ++it) {
      if (needed.count(it->name) == 0) continue;
      it->before_where = true;
      needed.insert(it->expression.names().begin(), it->expression.names().end());
    }
    impl_->where_text = c.text();
    impl_->where = std::move(c);
    return Status::OK();
  }

  Status CheckOutputName(const ExprSource& source, const std::string& key,
                         const std::string& name) {
    if (name == kWindowStart || name == kWindowEnd) {
      return PlanError(source, key, fmt::format("'{}' is the name of a window bound; name the "
                                                "column otherwise",
                                                name));
    }
    if (name.rfind("__", 0) == 0) {
      return PlanError(source, key, fmt::format("names starting with __ are reserved; name the "
                                                "column '{}' otherwise",
                                                name));
    }
    if (std::find(output_names_.begin(), output_names_.end(), name) != output_names_.end()) {
      return PlanError(source, key, fmt::format("the output already has a column '{}'", name));
    }
    output_names_.push_back(name);
    return Status::OK();
  }

  Status CompileKeys() {
    const auto& keys = plan_.keys();
    for (size_t i = 0; i < keys.size(); ++i) {
      const ExprSource& source = keys[i].source;
      const std::string key = KeyOf(source, fmt::format("key[{}]", i + 1));
      expr::NamedExpr named;
      if (source.tree) {
        named.expr = *source.tree;
        const expr::Expr& tree = *source.tree;
        if (!keys[i].name.empty() || tree.kind() != expr::Expr::Kind::kField) {
          named.name = keys[i].name;
        } else {
          named.name = tree.IsTopLevelField() ? tree.FieldName() : tree.name();
        }
      } else {
        expr::Origin origin = source.origin;
        if (origin.key.empty()) origin.key = key;
        PULSE_ASSIGN_OR_RETURN(named, expr::ParseNamed(source.text, origin));
      }
      if (named.name.empty()) {
        return named.expr.Error(fmt::format("a key that is an expression needs a name: write "
                                            "\"{} as <name>\"",
                                            named.expr.ToString()));
      }
      PULSE_RETURN_IF_ERROR(CheckOutputName(source, key, named.name));
      expr::Scope s = scope_;
      s.role = key;
      PULSE_ASSIGN_OR_RETURN(expr::Compiled c, expr::Compiled::Make(named.expr, s));
      AddDataFields(c, key);
      // A top-level field (of the data or computed, which the record stage has stored).
      std::string field = named.expr.FieldName();
      impl_->keys.push_back(
          KeyPart{named.name, std::move(c), named.expr.ToString(), std::move(field)});
    }
    return Status::OK();
  }

  Status CompileAggregates() {
    const auto& aggregates = plan_.aggregates();
    if (aggregates.empty()) {
      return Status::InvalidArgument("the plan has no aggregate: add one, e.g. count = "
                                     "\"count(*)\"");
    }
    for (const auto& a : aggregates) {
      const std::string key = KeyOf(a.source, "aggregates." + a.name);
      if (a.name.empty()) return PlanError(a.source, key, "an aggregate needs a name");
      PULSE_RETURN_IF_ERROR(CheckOutputName(a.source, key, a.name));
      PULSE_ASSIGN_OR_RETURN(expr::Expr e, ParseSource(a.source, key));
      PULSE_ASSIGN_OR_RETURN(AggregateCall call, CompileOne(a.name, e, key));
      impl_->aggregates.push_back(std::move(call));
    }
    return Status::OK();
  }

  Result<AggregateCall> CompileOne(const std::string& name, const expr::Expr& e,
                                   const std::string& key) {
    const size_t hidden_before = hidden_.size();
    expr::Scope s = scope_;
    s.role = key;
    PULSE_ASSIGN_OR_RETURN(AggregateCall call,
                           internal::CompileAggregate(name, e, s, &hidden_));
    if (hidden_.size() > hidden_before) AddDataFields(hidden_.back().expression, key);
    const bool computed = std::any_of(scope_.names.begin(), scope_.names.end(),
                                      [&call](const auto& n) { return n.name == call.field; });
    if (!call.field.empty() && !computed && hidden_.size() == hidden_before) {
      const bool known =
          std::any_of(impl_->data_fields.begin(), impl_->data_fields.end(),
                      [&call](const auto& p) { return p.first == call.field; });
      if (!known) impl_->data_fields.emplace_back(call.field, key);
    }
    return call;
  }

  Status CompileHaving() {
    if (!plan_.having()) return Status::OK();
    const ExprSource& source = *plan_.having();
    const std::string key = KeyOf(source, "having");
    PULSE_ASSIGN_OR_RETURN(expr::Expr e, ParseSource(source, key));
    expr::Scope s;
    s.names_only = true;
    s.role = key;
    // Aggregate calls in `having` are the aggregates' columns; a call no aggregate names is
    // computed too, and left out of the output.
    for (const expr::Expr& call : expr::AggregateCalls(e)) {
      const std::string text = call.ToString();
      const auto named = std::find_if(impl_->aggregates.begin(), impl_->aggregates.end(),
                                      [&text](const AggregateCall& a) { return a.text == text; });
      if (named != impl_->aggregates.end()) {
        s.aggregates.emplace_back(text, named->name);
        continue;
      }
      const std::string name = fmt::format("__having{}", impl_->aggregates.size() + 1);
      PULSE_ASSIGN_OR_RETURN(AggregateCall hidden, CompileOne(name, call, key));
      hidden.hidden = true;
      s.aggregates.emplace_back(text, name);
      impl_->aggregates.push_back(std::move(hidden));
    }
    for (const KeyPart& k : impl_->keys) s.names.push_back({k.name, k.expression.types()});
    for (const AggregateCall& a : impl_->aggregates) s.names.push_back({a.name, a.types});
    PULSE_ASSIGN_OR_RETURN(expr::Compiled c, expr::Compiled::Make(e, s));
    if (!IsCondition(c.types())) {
      return e.Error(fmt::format("{} must be a condition (true or false); got {}", key,
                                 expr::DescribeTypes(c.types())));
    }
    impl_->having_text = c.text();
    impl_->having = std::move(c);
    return Status::OK();
  }

  Status CompileWindow() {
    impl_->window = plan_.window();
    impl_->window.agg = ops::AggSpec::Count();
    impl_->window.aggregates.clear();
    if (impl_->original_output) {
      // The original form: its one aggregation, with its output byte for byte.
      std::optional<ops::AggSpec> spec;
      if (impl_->aggregates.size() == 1) spec = internal::OriginalAggSpec(impl_->aggregates[0]);
      if (!spec || impl_->keys.size() != 1 || impl_->having) {
        return Status::InvalidArgument(
            "the original output form needs one key, one of count, sum, avg, min, max or "
            "distinct, and no having");
      }
      impl_->window.agg = *spec;
      impl_->original_agg_member = std::string(spec->OutputName());
    } else {
      // The result stage finds each aggregate by its position, so the window's names need
      // only be unique; "key" is the window's own member.
      for (const AggregateCall& a : impl_->aggregates) {
        impl_->window.aggregates.push_back(
            internal::WindowAggregate(a, a.name == "key" ? "__key" : a.name));
      }
    }
    if (Status st = impl_->window.Validate(); !st.ok()) return st;
    return Status::OK();
  }

  const LogicalPlan& plan_;
  std::shared_ptr<CompiledPlan::Impl> impl_;
  expr::Scope scope_;                 // the computed fields so far
  std::vector<ComputedField> hidden_;  // aggregate arguments that are expressions
  std::vector<std::string> output_names_;
};

}  // namespace

CompiledPlan::CompiledPlan(std::shared_ptr<const Impl> impl)
    : impl_(std::move(impl)), field_check_(std::make_shared<FieldCheck>(impl_->data_fields)) {}

Result<CompiledPlan> CompiledPlan::Make(const LogicalPlan& plan) {
  PULSE_ASSIGN_OR_RETURN(std::shared_ptr<Impl> impl, Compiler(plan).Run());
  return CompiledPlan(std::move(impl));
}

Status CompiledPlan::AddTo(Pipeline& pipeline) const {
  const bool record_stage = impl_->where.has_value() || !impl_->fields.empty();
  if (record_stage) pipeline.Apply(internal::MakeRecordStage(impl_, field_check_));
  // Without a record stage the key observes records for the field check, and the source may
  // leave out the fields no part reads.
  std::vector<std::string> key_fields;
  for (const KeyPart& k : impl_->keys) {
    for (const std::string& f : k.expression.fields()) key_fields.push_back(f);
  }
  if (key_fields.empty()) key_fields.push_back("*");  // no projection without a field to keep
  pipeline.KeyBy(internal::MakeKeySelector(impl_, record_stage ? nullptr : field_check_),
                 key_fields.front() == "*" ? std::vector<std::string>{} : key_fields);
  pipeline.Apply(ops::WindowedAggregate(impl_->window));
  if (!impl_->original_output) pipeline.Apply(internal::MakeResultStage(impl_));
  return Status::OK();
}

std::vector<CompiledPlan::Line> CompiledPlan::Lines() const {
  std::vector<Line> lines;
  auto add = [&lines](std::string_view label, std::string text) {
    lines.push_back(Line{std::string(label), std::move(text)});
  };
  if (impl_->where) add("where:", impl_->where_text);
  std::string_view label = "fields:";
  for (const ComputedField& f : impl_->fields) {
    if (f.hidden) continue;
    add(label, fmt::format("{} = {}", f.name, f.expression.text()));
    label = "";
  }
  std::vector<std::string> keys;
  for (const KeyPart& k : impl_->keys) {
    keys.push_back(k.text == k.name ? k.name : fmt::format("{} as {}", k.text, k.name));
  }
  add("key:", keys.empty() ? std::string("none (one group)") : fmt::format("{}", fmt::join(keys, ", ")));
  add("window:", impl_->window.window.Describe());
  label = "aggregates:";
  for (const AggregateCall& a : impl_->aggregates) {
    add(label, a.hidden ? fmt::format("{} (for having only)", a.text)
                        : fmt::format("{} = {}", a.name, a.text));
    label = "";
  }
  if (impl_->having) add("having:", impl_->having_text);
  add("output:", fmt::format("{}", fmt::join(OutputColumns(), ", ")));
  return lines;
}

std::string CompiledPlan::Describe() const {
  std::string out;
  for (const Line& l : Lines()) out += fmt::format("{:<13}{}\n", l.label, l.text);
  return out;
}

std::vector<std::string> CompiledPlan::OutputColumns() const {
  std::vector<std::string> columns = {std::string(kWindowStart), std::string(kWindowEnd)};
  if (impl_->original_output) {
    columns.emplace_back("key");
    columns.push_back(impl_->original_agg_member);
    return columns;
  }
  for (const KeyPart& k : impl_->keys) columns.push_back(k.name);
  for (const AggregateCall& a : impl_->aggregates) {
    if (!a.hidden) columns.push_back(a.name);
  }
  return columns;
}

std::vector<std::pair<std::string, std::string>> CompiledPlan::DataFields() const {
  return impl_->data_fields;
}

const ops::WindowOptions& CompiledPlan::window() const { return impl_->window; }

}  // namespace pulse::plan
