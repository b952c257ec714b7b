// SPDX-License-Identifier: MIT
#include "pulse/ops/map.h"

#include <utility>

namespace pulse::ops {
namespace {

class MapOperator final : public Operator {
 public:
  explicit MapOperator(std::function<Value(const Value&)> fn) : fn_(std::move(fn)) {}
  std::string name() const override { return "map"; }
  Status Process(Record in, Collector& out) override {
    out.Emit(Record{in.time, fn_(in.value)});
    return Status::OK();
  }

 private:
  std::function<Value(const Value&)> fn_;
};

class FlatMapOperator final : public Operator {
 public:
  explicit FlatMapOperator(std::function<std::vector<Value>(const Value&)> fn)
      : fn_(std::move(fn)) {}
  std::string name() const override { return "flat_map"; }
  Status Process(Record in, Collector& out) override {
    for (Value& v : fn_(in.value)) out.Emit(Record{in.time, std::move(v)});
    return Status::OK();
  }

 private:
  std::function<std::vector<Value>(const Value&)> fn_;
};

class FilterOperator final : public Operator {
 public:
  explicit FilterOperator(std::function<bool(const Record&)> pred) : pred_(std::move(pred)) {}
  std::string name() const override { return "filter"; }
  Status Process(Record in, Collector& out) override {
    if (pred_(in)) out.Emit(std::move(in));
    return Status::OK();
  }

 private:
  std::function<bool(const Record&)> pred_;
};

}  // namespace

std::unique_ptr<Operator> Map(std::function<Value(const Value&)> fn) {
  return std::make_unique<MapOperator>(std::move(fn));
}

std::unique_ptr<Operator> FlatMap(std::function<std::vector<Value>(const Value&)> fn) {
  return std::make_unique<FlatMapOperator>(std::move(fn));
}

std::unique_ptr<Operator> Filter(std::function<bool(const Record&)> pred) {
  return std::make_unique<FilterOperator>(std::move(pred));
}

}  // namespace pulse::ops
