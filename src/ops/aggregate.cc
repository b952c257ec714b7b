// SPDX-License-Identifier: MIT
#include "ops/aggregate.h"

#include <algorithm>

namespace pulse::ops::internal {

AggInput ExtractAggInput(const AggSpec& spec, const Value& value) {
  AggInput in;
  if (spec.kind == AggSpec::Kind::kCount) return in;
  const Value* field = value.Find(spec.field);
  if (field == nullptr) return in;
  if (spec.kind == AggSpec::Kind::kDistinct) {
    if (!field->is_null()) {
      in.has_distinct = true;
      in.distinct_text = field->ToJson();
    }
    return in;
  }
  in.has_number = field->ToNumber(&in.number);
  return in;
}

void Accumulator::Add(const AggInput& in) {
  ++count_;
  if (in.has_number) {
    ++numeric_count_;
    sum_ += in.number;
    min_ = std::min(min_, in.number);
    max_ = std::max(max_, in.number);
  }
  if (in.has_distinct) {
    if (!distinct_) distinct_ = std::make_unique<std::unordered_set<std::string>>();
    distinct_->insert(in.distinct_text);
  }
}

void Accumulator::Merge(Accumulator&& other) {
  count_ += other.count_;
  numeric_count_ += other.numeric_count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  if (other.distinct_) {
    if (!distinct_) {
      distinct_ = std::move(other.distinct_);
    } else {
      distinct_->merge(*other.distinct_);
    }
  }
}

Value Accumulator::Result(AggSpec::Kind kind) const {
  switch (kind) {
    case AggSpec::Kind::kCount:
      return Value(count_);
    case AggSpec::Kind::kDistinct:
      return Value(static_cast<int64_t>(distinct_ ? distinct_->size() : 0));
    case AggSpec::Kind::kSum:
      return numeric_count_ ? Value(sum_) : Value();
    case AggSpec::Kind::kAvg:
      return numeric_count_ ? Value(sum_ / static_cast<double>(numeric_count_)) : Value();
    case AggSpec::Kind::kMin:
      return numeric_count_ ? Value(min_) : Value();
    case AggSpec::Kind::kMax:
      return numeric_count_ ? Value(max_) : Value();
  }
  return Value();
}

}  // namespace pulse::ops::internal
