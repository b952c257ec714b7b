// SPDX-License-Identifier: MIT
#include "ops/aggregate_states.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>

#include "ops/state_image.h"
#include "pulse/core/json.h"

namespace pulse::ops::internal {
namespace {

Status Truncated(std::string_view what) {
  return Status::Corruption(std::string(what) + " state: truncated or inconsistent");
}

// The JSON text of a value, in a buffer reused by the worker's thread (distinct and top_k look
// a value up by its text once per record).
std::string_view ScratchJson(const Value& v) {
  thread_local std::string text;
  text.clear();
  AppendJson(v, &text);
  return text;
}

void PutNumber(const Number& v, std::string* out) {
  PutU8(v.is_int ? 1 : 0, out);
  if (v.is_int) {
    PutI64(v.i, out);
  } else {
    PutF64(v.d, out);
  }
}

bool GetNumber(std::string_view* in, Number* v) {
  uint8_t is_int = 0;
  if (!GetU8(in, &is_int) || is_int > 1) return false;
  v->is_int = is_int == 1;
  return v->is_int ? GetI64(in, &v->i) : GetF64(in, &v->d);
}

// A present flag, then the sketch's image.
template <typename Sketch>
void PutOptional(const std::unique_ptr<Sketch>& sketch, std::string* out) {
  PutU8(sketch ? 1 : 0, out);
  if (sketch) sketch->AppendTo(out);
}

template <typename Sketch>
Status GetOptional(std::string_view* in, std::unique_ptr<Sketch>* sketch, std::string_view what) {
  uint8_t present = 0;
  if (!GetU8(in, &present) || present > 1) return Truncated(what);
  sketch->reset();
  if (present == 0) return Status::OK();
  *sketch = std::make_unique<Sketch>();
  return (*sketch)->ReadFrom(in);
}

}  // namespace

void CountAllState::AppendTo(std::string* out) const { PutI64(n, out); }
Status CountAllState::ReadFrom(std::string_view* in) {
  return GetI64(in, &n) && n >= 0 ? Status::OK() : Truncated("count");
}

void CountValuesState::AppendTo(std::string* out) const { PutI64(n, out); }
Status CountValuesState::ReadFrom(std::string_view* in) {
  return GetI64(in, &n) && n >= 0 ? Status::OK() : Truncated("count");
}

void SumState::Merge(SumState&& other) {
  ints.Add(other.ints);
  doubles += other.doubles;
  n += other.n;
  has_double = has_double || other.has_double;
}

Value SumState::Sum() const {
  if (n == 0) return Value();
  if (!has_double && ints.FitsInt64()) return Value(ints.AsInt64());
  return Value(ints.AsDouble() + doubles);
}

Value SumState::Avg() const {
  if (n == 0) return Value();
  return Value((ints.AsDouble() + doubles) / static_cast<double>(n));
}

void SumState::AppendTo(std::string* out) const {
  PutI64(ints.hi(), out);
  PutU64(ints.lo(), out);
  PutF64(doubles, out);
  PutI64(n, out);
  PutU8(has_double ? 1 : 0, out);
}

Status SumState::ReadFrom(std::string_view* in) {
  int64_t hi = 0;
  uint64_t lo = 0;
  uint8_t flag = 0;
  if (!GetI64(in, &hi) || !GetU64(in, &lo) || !GetF64(in, &doubles) || !GetI64(in, &n) ||
      !GetU8(in, &flag) || n < 0 || flag > 1) {
    return Truncated("sum");
  }
  ints = IntegerSum::FromWords(hi, lo);
  has_double = flag == 1;
  return Status::OK();
}

template <bool kMax>
bool ExtremeState<kMax>::Better(const Number& a, const Number& b) {
  const int c = CompareNumbers(a, b);
  if (c != 0) return kMax ? c > 0 : c < 0;
  // Equal numbers: an integer over a double; of two doubles (0.0 and -0.0), the one below for
  // min and above for max.
  if (a.is_int != b.is_int) return a.is_int;
  if (a.is_int) return false;
  return kMax ? (!std::signbit(a.d) && std::signbit(b.d)) : (std::signbit(a.d) && !std::signbit(b.d));
}

template <bool kMax>
void ExtremeState<kMax>::AppendTo(std::string* out) const {
  PutU8(has ? 1 : 0, out);
  if (has) PutNumber(value, out);
}

template <bool kMax>
Status ExtremeState<kMax>::ReadFrom(std::string_view* in) {
  uint8_t flag = 0;
  if (!GetU8(in, &flag) || flag > 1) return Truncated(kMax ? "max" : "min");
  has = flag == 1;
  if (has && !GetNumber(in, &value)) return Truncated(kMax ? "max" : "min");
  return Status::OK();
}

template struct ExtremeState<false>;
template struct ExtremeState<true>;

void MomentsState::Merge(MomentsState&& other) {
  if (other.n == 0) return;
  if (n == 0) {
    *this = other;
    return;
  }
  const double na = static_cast<double>(n);
  const double nb = static_cast<double>(other.n);
  const double total = na + nb;
  const double delta = other.mean - mean;
  mean += delta * nb / total;
  m2 += other.m2 + delta * delta * na * nb / total;
  n += other.n;
}

Value MomentsState::Variance(bool sample) const {
  if (n < (sample ? 2 : 1)) return Value();
  return Value(std::max(0.0, m2) / static_cast<double>(sample ? n - 1 : n));
}

Value MomentsState::Stddev(bool sample) const {
  Value v = Variance(sample);
  return v.is_null() ? v : Value(std::sqrt(v.as_double()));
}

void MomentsState::AppendTo(std::string* out) const {
  PutI64(n, out);
  PutF64(mean, out);
  PutF64(m2, out);
}

Status MomentsState::ReadFrom(std::string_view* in) {
  if (!GetI64(in, &n) || !GetF64(in, &mean) || !GetF64(in, &m2) || n < 0) {
    return Truncated("stddev");
  }
  return Status::OK();
}

void DistinctState::Add(const FieldInput& in, EventTime) {
  if (in.value == nullptr) return;
  if (!values) values = std::make_unique<Set>();
  const std::string_view text = ScratchJson(*in.value);
  if (!values->contains(text)) values->emplace(text);
}

void DistinctState::Merge(DistinctState&& other) {
  if (!other.values) return;
  if (!values) {
    values = std::move(other.values);
    return;
  }
  values->merge(*other.values);
}

void DistinctState::AppendTo(std::string* out) const {
  PutVarint(values ? values->size() : 0, out);
  if (!values) return;
  // In text order, so that equal states have equal images.
  std::vector<std::string_view> texts(values->begin(), values->end());
  std::sort(texts.begin(), texts.end());
  for (std::string_view text : texts) PutBytes(text, out);
}

Status DistinctState::ReadFrom(std::string_view* in) {
  uint64_t n = 0;
  if (!GetVarint(in, &n)) return Truncated("distinct");
  values.reset();
  if (n == 0) return Status::OK();
  values = std::make_unique<Set>();
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view text;
    if (!GetBytes(in, &text) || !values->emplace(text).second) return Truncated("distinct");
  }
  return Status::OK();
}

Value QuantileState::Typed(double v) const {
  // Integers came in as int64s and were rounded to doubles only beyond 2^53.
  if (all_int) return Value(v >= 0x1p63 ? INT64_MAX : static_cast<int64_t>(v));
  return Value(v);
}

Value QuantileState::At(double q) const {
  if (sketch.count() == 0) return Value();
  const uint64_t rank = QuantileRank(q, sketch.count());
  double v = 0;
  sketch.ValuesAtRanks(std::span<const uint64_t>(&rank, 1), std::span<double>(&v, 1));
  return Typed(v);
}

Value QuantileState::AtEach(const std::vector<double>& quantiles) const {
  Array values;
  values.reserve(quantiles.size());
  if (sketch.count() == 0) {
    values.resize(quantiles.size());
    return Value(std::move(values));
  }
  std::vector<uint64_t> ranks;
  ranks.reserve(quantiles.size());
  for (double q : quantiles) ranks.push_back(QuantileRank(q, sketch.count()));
  for (double v : sketch.ValuesAtRanks(ranks)) values.push_back(Typed(v));
  return Value(std::move(values));
}

void QuantileState::AppendTo(std::string* out) const {
  PutU8(all_int ? 1 : 0, out);
  sketch.AppendTo(out);
}

Status QuantileState::ReadFrom(std::string_view* in) {
  uint8_t flag = 0;
  if (!GetU8(in, &flag) || flag > 1) return Truncated("quantile");
  all_int = flag == 1;
  return sketch.ReadFrom(in);
}

template <bool kLast>
void EdgeState<kLast>::AppendTo(std::string* out) const {
  PutU8(has ? 1 : 0, out);
  if (!has) return;
  PutI64(time, out);
  PutBytes(value.ToJson(), out);
}

template <bool kLast>
Status EdgeState<kLast>::ReadFrom(std::string_view* in) {
  const std::string_view what = kLast ? "last" : "first";
  uint8_t flag = 0;
  if (!GetU8(in, &flag) || flag > 1) return Truncated(what);
  has = flag == 1;
  value = Value();
  if (!has) return Status::OK();
  std::string_view text;
  if (!GetI64(in, &time) || !GetBytes(in, &text)) return Truncated(what);
  pulse::Result<Value> parsed = ParseJson(text);
  if (!parsed.ok()) return Truncated(what);
  value = std::move(parsed).value();
  return Status::OK();
}

template struct EdgeState<false>;
template struct EdgeState<true>;

void TopKState::Add(const FieldInput& in, EventTime) {
  if (in.value == nullptr) return;
  if (!counts) counts = std::make_unique<HeavyHitters>(capacity);
  counts->Add(ScratchJson(*in.value));
}

void TopKState::Merge(TopKState&& other) {
  if (!other.counts) return;
  if (!counts) {
    counts = std::move(other.counts);
    return;
  }
  counts->Merge(*other.counts);
}

Value TopKState::Top(uint32_t k) const {
  Array top;
  if (!counts) return Value(std::move(top));
  for (auto& [text, count] : counts->Top(k)) {
    Result<Value> value = ParseJson(text);
    Object entry;
    entry.reserve(2);
    entry.emplace_back("value", value.ok() ? std::move(value).value() : Value(text));
    entry.emplace_back("count", Value(static_cast<int64_t>(count)));
    top.push_back(Value(std::move(entry)));
  }
  return Value(std::move(top));
}

void TopKState::AppendTo(std::string* out) const {
  PutU64(capacity, out);
  PutOptional(counts, out);
}

Status TopKState::ReadFrom(std::string_view* in) {
  uint64_t c = 0;
  if (!GetU64(in, &c) || c == 0 || c > UINT32_MAX) return Truncated("top_k");
  capacity = static_cast<uint32_t>(c);
  return GetOptional(in, &counts, "top_k");
}

AggState MakeState(StateKind kind, uint32_t capacity) {
  switch (kind) {
    case StateKind::kCountAll: return CountAllState();
    case StateKind::kCountValues: return CountValuesState();
    case StateKind::kSum: return SumState();
    case StateKind::kMin: return ExtremeState<false>();
    case StateKind::kMax: return ExtremeState<true>();
    case StateKind::kMoments: return MomentsState();
    case StateKind::kDistinct: return DistinctState();
    case StateKind::kApproxDistinct: return ApproxDistinctState();
    case StateKind::kQuantile: return QuantileState();
    case StateKind::kFirst: return EdgeState<false>();
    case StateKind::kLast: return EdgeState<true>();
    case StateKind::kTopK: {
      TopKState s;
      s.capacity = capacity;
      return s;
    }
  }
  return CountAllState();
}

}  // namespace pulse::ops::internal
