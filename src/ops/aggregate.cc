// SPDX-License-Identifier: MIT
#include "ops/aggregate.h"

#include <algorithm>
#include <cstring>

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

namespace {

template <typename T>
void AppendRaw(T v, std::string* out) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out->append(bytes, sizeof(T));
}

template <typename T>
bool ReadRaw(std::string_view* in, T* v) {
  if (in->size() < sizeof(T)) return false;
  std::memcpy(v, in->data(), sizeof(T));
  in->remove_prefix(sizeof(T));
  return true;
}

}  // namespace

// Layout (host byte order; checkpoints are read back on the machine kind that wrote them):
// count, numeric count (i64), sum, min, max (f64 bit images), distinct size (u64), then each
// distinct value as u32 length + bytes.
void Accumulator::AppendTo(std::string* out) const {
  AppendRaw(count_, out);
  AppendRaw(numeric_count_, out);
  AppendRaw(sum_, out);
  AppendRaw(min_, out);
  AppendRaw(max_, out);
  AppendRaw(static_cast<uint64_t>(distinct_ ? distinct_->size() : 0), out);
  if (!distinct_) return;
  for (const std::string& v : *distinct_) {
    AppendRaw(static_cast<uint32_t>(v.size()), out);
    out->append(v);
  }
}

Status Accumulator::ReadFrom(std::string_view* in) {
  uint64_t distinct = 0;
  if (!ReadRaw(in, &count_) || !ReadRaw(in, &numeric_count_) || !ReadRaw(in, &sum_) ||
      !ReadRaw(in, &min_) || !ReadRaw(in, &max_) || !ReadRaw(in, &distinct)) {
    return Status::Corruption("truncated aggregation state");
  }
  distinct_.reset();
  if (distinct == 0) return Status::OK();
  distinct_ = std::make_unique<std::unordered_set<std::string>>();
  for (uint64_t i = 0; i < distinct; ++i) {
    uint32_t size = 0;
    if (!ReadRaw(in, &size) || in->size() < size) {
      return Status::Corruption("truncated aggregation state");
    }
    distinct_->emplace(in->substr(0, size));
    in->remove_prefix(size);
  }
  return Status::OK();
}

// Compact images: count → i64; sum/avg → numeric count (i64), sum (f64 bits); min/max → flag
// (u8), value (f64 bits); distinct → size (u64), then each value as u32 length + bytes.
void CountAcc::AppendTo(std::string* out) const { AppendRaw(count, out); }

Status CountAcc::ReadFrom(std::string_view* in) {
  if (!ReadRaw(in, &count)) return Status::Corruption("truncated aggregation state");
  return Status::OK();
}

Value SumAcc::Result(AggSpec::Kind kind) const {
  if (numeric_count == 0) return Value();
  if (kind == AggSpec::Kind::kAvg) return Value(sum / static_cast<double>(numeric_count));
  return Value(sum);
}

void SumAcc::AppendTo(std::string* out) const {
  AppendRaw(numeric_count, out);
  AppendRaw(sum, out);
}

Status SumAcc::ReadFrom(std::string_view* in) {
  if (!ReadRaw(in, &numeric_count) || !ReadRaw(in, &sum)) {
    return Status::Corruption("truncated aggregation state");
  }
  return Status::OK();
}

template <bool kMax>
void ExtremeAcc<kMax>::AppendTo(std::string* out) const {
  AppendRaw(static_cast<uint8_t>(has_value ? 1 : 0), out);
  AppendRaw(value, out);
}

template <bool kMax>
Status ExtremeAcc<kMax>::ReadFrom(std::string_view* in) {
  uint8_t flag = 0;
  if (!ReadRaw(in, &flag) || !ReadRaw(in, &value)) {
    return Status::Corruption("truncated aggregation state");
  }
  has_value = flag != 0;
  return Status::OK();
}

template struct ExtremeAcc<false>;
template struct ExtremeAcc<true>;

void DistinctAcc::AppendTo(std::string* out) const {
  AppendRaw(static_cast<uint64_t>(values ? values->size() : 0), out);
  if (!values) return;
  for (const std::string& v : *values) {
    AppendRaw(static_cast<uint32_t>(v.size()), out);
    out->append(v);
  }
}

Status DistinctAcc::ReadFrom(std::string_view* in) {
  uint64_t n = 0;
  if (!ReadRaw(in, &n)) return Status::Corruption("truncated aggregation state");
  values.reset();
  if (n == 0) return Status::OK();
  values = std::make_unique<std::unordered_set<std::string>>();
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t size = 0;
    if (!ReadRaw(in, &size) || in->size() < size) {
      return Status::Corruption("truncated aggregation state");
    }
    values->emplace(in->substr(0, size));
    in->remove_prefix(size);
  }
  return Status::OK();
}

}  // namespace pulse::ops::internal
