// SPDX-License-Identifier: MIT
// Stateless operators built from user functions.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "pulse/core/operator.h"

namespace pulse::ops {

/// One output per input: the value is replaced by fn(value); the event time is kept.
std::unique_ptr<Operator> Map(std::function<Value(const Value&)> fn);

/// Zero or more outputs per input, each with the input's event time.
std::unique_ptr<Operator> FlatMap(std::function<std::vector<Value>(const Value&)> fn);

/// Keep the records for which pred(record) is true.
std::unique_ptr<Operator> Filter(std::function<bool(const Record&)> pred);

}  // namespace pulse::ops
