// SPDX-License-Identifier: MIT
#include "ops/aggregate_row.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "ops/aggregate.h"
#include "ops/state_image.h"
#include "ops/window_parts.h"

namespace pulse::ops::internal {
namespace {

// The version of AggRow's image; a later layout gets a new number and ReadFrom keeps reading
// this one.
constexpr uint8_t kRowImageVersion = 1;

StateKind StateKindOf(Aggregate::Kind kind, bool has_field) {
  switch (kind) {
    case Aggregate::Kind::kCount: return has_field ? StateKind::kCountValues : StateKind::kCountAll;
    case Aggregate::Kind::kSum:
    case Aggregate::Kind::kAvg: return StateKind::kSum;
    case Aggregate::Kind::kMin: return StateKind::kMin;
    case Aggregate::Kind::kMax: return StateKind::kMax;
    case Aggregate::Kind::kDistinct: return StateKind::kDistinct;
    case Aggregate::Kind::kApproxDistinct: return StateKind::kApproxDistinct;
    case Aggregate::Kind::kQuantile:
    case Aggregate::Kind::kQuantiles: return StateKind::kQuantile;
    case Aggregate::Kind::kFirst: return StateKind::kFirst;
    case Aggregate::Kind::kLast: return StateKind::kLast;
    case Aggregate::Kind::kTopK: return StateKind::kTopK;
    case Aggregate::Kind::kStddev:
    case Aggregate::Kind::kStddevPop:
    case Aggregate::Kind::kVariance:
    case Aggregate::Kind::kVariancePop: return StateKind::kMoments;
  }
  return StateKind::kCountAll;
}

// Whether a state reads its field as a number.
bool Numeric(StateKind kind) {
  switch (kind) {
    case StateKind::kSum:
    case StateKind::kMin:
    case StateKind::kMax:
    case StateKind::kMoments:
    case StateKind::kQuantile: return true;
    default: return false;
  }
}

const FieldInput kNoInput;

}  // namespace

AggregatePlan::AggregatePlan(const std::vector<Aggregate>& aggregates) {
  std::map<std::tuple<StateKind, int, uint32_t>, uint32_t> shared;  // → index into states_
  for (const Aggregate& a : aggregates) {
    int field = -1;
    if (!a.field.empty()) {
      auto it = std::find_if(fields_.begin(), fields_.end(),
                             [&](const Field& f) { return f.name == a.field; });
      field = static_cast<int>(it - fields_.begin());
      if (it == fields_.end()) fields_.push_back(Field{a.field, false});
    }
    const StateKind kind = StateKindOf(a.kind, field >= 0);
    const uint32_t capacity = a.kind == Aggregate::Kind::kTopK ? HeavyHitters::CapacityFor(a.k) : 0;
    if (field >= 0 && Numeric(kind)) fields_[static_cast<size_t>(field)].numeric = true;
    auto [it, added] = shared.emplace(std::make_tuple(kind, field, capacity),
                                      static_cast<uint32_t>(states_.size()));
    if (added) states_.push_back(State{kind, field, capacity});
    outputs_.push_back(Output{a.name, a.kind, it->second, a.quantiles, a.k});
  }
}

void AggregatePlan::Extract(const Value& value, std::vector<FieldInput>* inputs) const {
  inputs->resize(fields_.size());
  for (size_t i = 0; i < fields_.size(); ++i) {
    FieldInput& in = (*inputs)[i];
    const Value* v = value.Find(fields_[i].name);
    in.value = v != nullptr && !v->is_null() ? v : nullptr;
    in.has_number = in.value != nullptr && fields_[i].numeric && NumberOf(*v, &in.number);
    // Infinite and NaN doubles (possible from C++ operators, not from JSON) are no number.
    if (in.has_number && !in.number.is_int && !std::isfinite(in.number.d)) in.has_number = false;
  }
}

void AggRow::Add(const AggInput& in) {
  const std::vector<AggregatePlan::State>& plan = in.plan->states();
  if (states_.empty()) {
    states_.reserve(plan.size());
    for (const AggregatePlan::State& s : plan) states_.push_back(MakeState(s.kind, s.capacity));
  }
  for (size_t i = 0; i < states_.size(); ++i) {
    const int field = plan[i].field;
    const FieldInput& input = field < 0 ? kNoInput : in.fields[field];
    std::visit([&](auto& state) { state.Add(input, in.time); }, states_[i]);
  }
}

void AggRow::Merge(AggRow&& other) {
  if (other.states_.empty()) return;
  if (states_.empty()) {
    states_ = std::move(other.states_);
    return;
  }
  for (size_t i = 0; i < states_.size(); ++i) {
    std::visit(
        [&](auto& state) {
          using State = std::decay_t<decltype(state)>;
          state.Merge(std::move(std::get<State>(other.states_[i])));
        },
        states_[i]);
  }
}

void AggRow::AppendResults(const AggregatePlan& plan, Object* out) const {
  for (const AggregatePlan::Output& o : plan.outputs()) {
    if (states_.empty()) {  // never released: every window has a record
      out->emplace_back(o.name, Value());
      continue;
    }
    const AggState& s = states_[o.state];
    Value v;
    switch (o.kind) {
      case Aggregate::Kind::kCount:
        v = Value(std::holds_alternative<CountAllState>(s) ? std::get<CountAllState>(s).n
                                                            : std::get<CountValuesState>(s).n);
        break;
      case Aggregate::Kind::kSum: v = std::get<SumState>(s).Sum(); break;
      case Aggregate::Kind::kAvg: v = std::get<SumState>(s).Avg(); break;
      case Aggregate::Kind::kMin: v = std::get<ExtremeState<false>>(s).Result(); break;
      case Aggregate::Kind::kMax: v = std::get<ExtremeState<true>>(s).Result(); break;
      case Aggregate::Kind::kDistinct: v = Value(std::get<DistinctState>(s).Count()); break;
      case Aggregate::Kind::kApproxDistinct:
        v = Value(std::get<ApproxDistinctState>(s).Count());
        break;
      case Aggregate::Kind::kQuantile: v = std::get<QuantileState>(s).At(o.quantiles[0]); break;
      case Aggregate::Kind::kQuantiles: v = std::get<QuantileState>(s).AtEach(o.quantiles); break;
      case Aggregate::Kind::kFirst: v = std::get<EdgeState<false>>(s).Result(); break;
      case Aggregate::Kind::kLast: v = std::get<EdgeState<true>>(s).Result(); break;
      case Aggregate::Kind::kTopK: v = std::get<TopKState>(s).Top(o.k); break;
      case Aggregate::Kind::kStddev: v = std::get<MomentsState>(s).Stddev(true); break;
      case Aggregate::Kind::kStddevPop: v = std::get<MomentsState>(s).Stddev(false); break;
      case Aggregate::Kind::kVariance: v = std::get<MomentsState>(s).Variance(true); break;
      case Aggregate::Kind::kVariancePop: v = std::get<MomentsState>(s).Variance(false); break;
    }
    out->emplace_back(o.name, std::move(v));
  }
}

void AggRow::AppendTo(std::string* out) const {
  PutU8(kRowImageVersion, out);
  PutVarint(states_.size(), out);
  for (const AggState& s : states_) {
    PutU8(static_cast<uint8_t>(s.index()), out);
    std::visit([&](const auto& state) { state.AppendTo(out); }, s);
  }
}

Status AggRow::ReadFrom(const AggregatePlan& plan, std::string_view* in) {
  states_.clear();
  uint8_t version = 0;
  uint64_t n = 0;
  if (!GetU8(in, &version)) return CorruptWindowState("truncated aggregates");
  if (version != kRowImageVersion) {
    return CorruptWindowState(
        fmt::format("aggregates image of version {} (this Pulse reads version {})", version,
                    kRowImageVersion));
  }
  if (!GetVarint(in, &n)) return CorruptWindowState("truncated aggregates");
  if (n == 0) return Status::OK();
  if (n != plan.states().size()) {
    return CorruptWindowState("the image holds other aggregates than the pipeline's");
  }
  states_.reserve(n);
  for (const AggregatePlan::State& expected : plan.states()) {
    uint8_t kind = 0;
    if (!GetU8(in, &kind)) return CorruptWindowState("truncated aggregates");
    if (kind != static_cast<uint8_t>(expected.kind)) {
      return CorruptWindowState("the image holds other aggregates than the pipeline's");
    }
    states_.push_back(MakeState(expected.kind, expected.capacity));
    Status st = std::visit([&](auto& state) { return state.ReadFrom(in); }, states_.back());
    if (!st.ok()) return CorruptWindowState(st.message());
    if (expected.kind == StateKind::kTopK &&
        std::get<TopKState>(states_.back()).capacity != expected.capacity) {
      return CorruptWindowState("the image holds other aggregates than the pipeline's");
    }
  }
  return Status::OK();
}

}  // namespace pulse::ops::internal
