// SPDX-License-Identifier: MIT
// The expression tree's node: what the parser and the builders make and the checker reads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/status.h"
#include "pulse/core/value.h"
#include "pulse/expr/expr.h"

namespace pulse::expr {

/// The name of a cast's target type as the language spells it ("int", "double", ...).
inline std::string_view CastTypeName(CastType t) {
  switch (t) {
    case CastType::kInt:
      return "int";
    case CastType::kDouble:
      return "double";
    case CastType::kString:
      return "string";
    case CastType::kBool:
      break;
  }
  return "boolean";
}

/// The text a parsed tree came from and where that text sits in its file, shared by its nodes.
struct SourceText {
  std::string text;
  Origin origin;
};

/// One step of a field path: a member name or an array index (negative: from the end).
struct PathStep {
  std::string name;
  int64_t index = 0;
  bool is_index = false;
};

enum class NodeKind : uint8_t {
  kLiteral,   // value
  kField,     // path
  kStar,      // the * of count(*)
  kNeg,       // -a
  kNot,       // not a
  kBinary,    // a <op> b
  kIsNull,    // a is [not] null (negated)
  kIn,        // a [not] in (args[1..])
  kBetween,   // a [not] between b and c
  kLike,      // a [not] like|ilike b (negated, case_insensitive)
  kCase,      // case [operand] when .. then .. [else ..] end
  kCast,      // cast(a as type)
  kCall,      // name(args) [distinct]
};

enum class BinaryOp : uint8_t {
  kAdd, kSub, kMul, kDiv, kIntDiv, kMod, kConcat,
  kEq, kNe, kLt, kLe, kGt, kGe,
  kAnd, kOr,
};

/// "+", "and", ...
std::string_view BinaryOpText(BinaryOp op);

/// An immutable tree node. `args` holds the operands: kNeg/kNot/kIsNull/kCast: [a];
/// kBinary: [a, b]; kIn: [a, item...]; kBetween: [a, low, high]; kLike: [a, pattern];
/// kCase: [operand?] then when/then pairs then [else?] (has_operand, has_else); kCall: args.
class Node {
 public:
  NodeKind kind = NodeKind::kLiteral;
  BinaryOp op = BinaryOp::kAdd;
  bool negated = false;
  bool case_insensitive = false;  // ilike
  bool distinct = false;          // count(distinct x)
  bool has_operand = false;       // case x when ...
  bool has_else = false;
  CastType cast = CastType::kInt;
  Value value;                   // kLiteral
  std::vector<PathStep> path;    // kField
  std::string name;              // kCall: the function's name, lower case
  std::vector<std::shared_ptr<const Node>> args;
  /// Where the node's text is in `source` (offset, length); source null for built trees.
  std::shared_ptr<const SourceText> source;
  uint32_t offset = 0;
  uint32_t length = 0;
  /// A builder's Field() whose path did not parse: the parser's error, reported when compiled.
  Status error;
};

using NodePtr = std::shared_ptr<const Node>;

/// The canonical text of a path ("user.id", "tags[0]", "\"odd name\"").
std::string PathText(const std::vector<PathStep>& path);

/// The canonical text of a tree.
std::string ToText(const Node& node);

/// InvalidArgument pointing at `node`'s text when it has one:
/// "<file>:<line>:<column>: <key>: <message>" or "<key>:<line>:<column>: <message>"; for a
/// built node "<message> (in `<node text>`)".
Status ErrorAt(const Node& node, std::string_view message);

/// As ErrorAt, at `offset` of `source`.
Status ErrorAtOffset(const SourceText& source, size_t offset, std::string_view message);

}  // namespace pulse::expr
