// SPDX-License-Identifier: MIT
// The stages a plan adds to a pipeline: the record stage (where, computed fields), the key and
// the result stage (named keys and aggregates, having).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "plan/plan_internal.h"
#include "pulse/core/operator.h"

namespace pulse::plan::internal {
namespace {

// Before the key, on the source thread. Not thread-safe (one per pipeline).
class RecordStage final : public Operator {
 public:
  RecordStage(std::shared_ptr<const CompiledPlan::Impl> plan, std::shared_ptr<FieldCheck> check)
      : plan_(std::move(plan)), check_(std::move(check)) {}

  std::string name() const override {
    return plan_->where.has_value() ? "where" : "computed fields";
  }

  Status Process(Record in, Collector& out) override {
    if (check_ != nullptr) check_->Observe(in.value);
    const bool object = in.value.is_object();
    for (const ComputedField& f : plan_->fields) {
      if (f.before_where && object) in.value.Set(f.name, f.expression.Evaluate(in));
    }
    if (plan_->where.has_value() && plan_->where->Test(in) != expr::Truth::kTrue) {
      return Status::OK();
    }
    for (const ComputedField& f : plan_->fields) {
      if (!f.before_where && object) in.value.Set(f.name, f.expression.Evaluate(in));
    }
    out.Emit(std::move(in));
    return Status::OK();
  }

 private:
  std::shared_ptr<const CompiledPlan::Impl> plan_;
  std::shared_ptr<FieldCheck> check_;
};

// After the window, on the sink thread: {"window_start_ms","window_end_ms","key",<aggregates
// in the plan's order>} → {"window_start_ms","window_end_ms",<keys by name>,<aggregates by
// name>}, then `having`.
class ResultStage final : public Operator {
 public:
  explicit ResultStage(std::shared_ptr<const CompiledPlan::Impl> plan) : plan_(std::move(plan)) {}

  std::string name() const override { return plan_->having ? "having" : "result names"; }

  Status Process(Record in, Collector& out) override {
    constexpr size_t kFirstAggregate = 3;  // after window_start_ms, window_end_ms and key
    if (!in.value.is_object() ||
        in.value.as_object().size() != kFirstAggregate + plan_->aggregates.size()) {
      out.Emit(std::move(in));
      return Status::OK();
    }
    Object& members = in.value.as_object();
    Object result;
    result.reserve(2 + plan_->keys.size() + plan_->aggregates.size());
    result.emplace_back(std::move(members[0]));
    result.emplace_back(std::move(members[1]));
    Value& key = members[2].second;
    if (plan_->keys.size() == 1) {
      result.emplace_back(plan_->keys[0].name, std::move(key));
    } else {
      for (size_t i = 0; i < plan_->keys.size(); ++i) {
        Value part;
        if (key.is_array() && i < key.as_array().size()) part = std::move(key.as_array()[i]);
        result.emplace_back(plan_->keys[i].name, std::move(part));
      }
    }
    for (size_t i = 0; i < plan_->aggregates.size(); ++i) {
      result.emplace_back(plan_->aggregates[i].name,
                          std::move(members[kFirstAggregate + i].second));
    }
    in.value = Value(std::move(result));
    if (plan_->having && plan_->having->Test(in) != expr::Truth::kTrue) return Status::OK();
    // Aggregates added only for `having` come last and are not part of the output.
    Object& shaped = in.value.as_object();
    for (const AggregateCall& a : plan_->aggregates) {
      if (a.hidden) shaped.pop_back();
    }
    out.Emit(std::move(in));
    return Status::OK();
  }

 private:
  std::shared_ptr<const CompiledPlan::Impl> plan_;
};

}  // namespace

std::unique_ptr<Operator> MakeRecordStage(std::shared_ptr<const CompiledPlan::Impl> plan,
                                          std::shared_ptr<FieldCheck> check) {
  return std::make_unique<RecordStage>(std::move(plan), std::move(check));
}

KeySelector MakeKeySelector(std::shared_ptr<const CompiledPlan::Impl> plan,
                            std::shared_ptr<FieldCheck> check) {
  // A part that is a top-level field is looked up, not evaluated (the count_by form's key).
  auto part = [](const KeyPart& k, const Record& r) -> Value {
    if (k.field.empty()) return k.expression.Evaluate(r);
    const Value* v = r.value.Find(k.field);
    return v != nullptr ? *v : Value();
  };
  return [plan = std::move(plan), check = std::move(check), part](const Record& r) -> Value {
    if (check != nullptr) check->Observe(r.value);
    if (plan->keys.size() == 1) return part(plan->keys[0], r);
    Array parts;
    parts.reserve(plan->keys.size());
    for (const KeyPart& k : plan->keys) parts.push_back(part(k, r));
    return Value(std::move(parts));
  };
}

std::unique_ptr<Operator> MakeResultStage(std::shared_ptr<const CompiledPlan::Impl> plan) {
  return std::make_unique<ResultStage>(std::move(plan));
}

}  // namespace pulse::plan::internal
