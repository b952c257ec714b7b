// SPDX-License-Identifier: MIT
// The function table: each scalar function's arity, argument check and evaluation, and the
// names of the aggregate functions (which only the plan may use).
#pragma once

#include <string_view>
#include <vector>

#include "expr/eval.h"
#include "expr/node.h"
#include "pulse/core/status.h"
#include "pulse/expr/compiled.h"

namespace pulse::expr::internal {

/// A compiled argument of a call: its node (for literal checks and messages), its types and
/// its evaluation.
struct Arg {
  const Node* node = nullptr;
  Types types = Types::kAny;
  EvalPtr eval;
};

/// A compiled call and its result types.
struct CompiledCall {
  EvalPtr eval;
  Types types = Types::kAny;
};

/// A scalar function. `make` checks the arguments (their number is already within
/// [min_args, max_args]) and builds the evaluation; errors point at the call or an argument.
struct FunctionDef {
  std::string_view name;
  int min_args = 0;
  int max_args = 0;  // kVariadic: any number from min_args
  Result<CompiledCall> (*make)(const Node& call, std::vector<Arg> args) = nullptr;
  std::string_view signature;  // "lower(string)", for messages
};
inline constexpr int kVariadic = -1;

/// The scalar function `name` (lower case), or nullptr.
const FunctionDef* FindFunction(std::string_view name);

/// Every scalar function's name, in table order.
std::vector<std::string_view> ScalarFunctionNames();

/// Every aggregate function's name.
std::vector<std::string_view> AggregateFunctionNames();

/// What a string literal given for an argument must hold.
enum class LiteralText : uint8_t { kAny, kNumber };

/// InvalidArgument unless `arg` may hold one of `wanted` (or is the null literal): "<function>
/// expects <what> as argument <n>; got <types>"; with LiteralText::kNumber a string literal
/// must also be a number.
Status CheckArg(const Node& call, const Arg& arg, size_t index, Types wanted,
                std::string_view what, LiteralText literal_text = LiteralText::kAny);

/// `t` without null.
inline Types NonNull(Types t) { return static_cast<Types>(static_cast<uint8_t>(t) & ~1u); }

/// The literal value of `arg`, or nullptr when it is not a literal.
const Value* LiteralOf(const Arg& arg);

}  // namespace pulse::expr::internal
