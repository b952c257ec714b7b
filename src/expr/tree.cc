// SPDX-License-Identifier: MIT
// Expr: the builders and the canonical text of a tree.
#include <cctype>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "expr/node.h"
#include "pulse/core/json.h"
#include "pulse/expr/expr.h"

namespace pulse::expr {
namespace {

// Binding strength, loosest first, as the parser reads them.
enum Level : int {
  kOrLevel = 1,
  kAndLevel,
  kNotLevel,
  kPredicateLevel,
  kConcatLevel,
  kAdditiveLevel,
  kMultiplicativeLevel,
  kUnaryLevel,
  kPrimaryLevel,
};

int LevelOf(const Node& n) {
  switch (n.kind) {
    case NodeKind::kNot:
      return kNotLevel;
    case NodeKind::kNeg:
      return kUnaryLevel;
    case NodeKind::kIsNull:
    case NodeKind::kIn:
    case NodeKind::kBetween:
    case NodeKind::kLike:
      return kPredicateLevel;
    case NodeKind::kBinary:
      switch (n.op) {
        case BinaryOp::kOr:
          return kOrLevel;
        case BinaryOp::kAnd:
          return kAndLevel;
        case BinaryOp::kEq:
        case BinaryOp::kNe:
        case BinaryOp::kLt:
        case BinaryOp::kLe:
        case BinaryOp::kGt:
        case BinaryOp::kGe:
          return kPredicateLevel;
        case BinaryOp::kConcat:
          return kConcatLevel;
        case BinaryOp::kAdd:
        case BinaryOp::kSub:
          return kAdditiveLevel;
        default:
          return kMultiplicativeLevel;
      }
    case NodeKind::kLiteral:
      // A negative number prints with its sign, like a unary minus.
      if ((n.value.is_int() && n.value.as_int() < 0) ||
          (n.value.is_double() && std::signbit(n.value.as_double()))) {
        return kUnaryLevel;
      }
      return kPrimaryLevel;
    default:
      return kPrimaryLevel;
  }
}

bool IsPlainName(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  static constexpr std::string_view kReserved[] = {
      "and",  "or",   "not",  "in",   "between", "like", "ilike", "is",       "null", "true",
      "false", "case", "when", "then", "else",   "end",  "cast",  "as", "distinct"};
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view r : kReserved) {
    if (lower == r) return false;
  }
  return true;
}

void AppendName(std::string_view name, std::string* out) {
  if (IsPlainName(name)) {
    out->append(name);
    return;
  }
  *out += '"';
  for (char c : name) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

void AppendLiteral(const Value& v, std::string* out) {
  switch (v.type()) {
    case Value::Type::kNull:
      *out += "null";
      return;
    case Value::Type::kBool:
      *out += v.as_bool() ? "true" : "false";
      return;
    case Value::Type::kString:
      *out += '\'';
      for (char c : v.as_string()) {
        if (c == '\'') *out += '\'';
        *out += c;
      }
      *out += '\'';
      return;
    default:
      AppendJson(v, out);
      return;
  }
}

void Append(const Node& n, std::string* out);

// `child` in a place that needs at least `level`.
void AppendAt(const Node& child, int level, std::string* out) {
  if (LevelOf(child) < level) {
    *out += '(';
    Append(child, out);
    *out += ')';
  } else {
    Append(child, out);
  }
}

void Append(const Node& n, std::string* out) {
  switch (n.kind) {
    case NodeKind::kLiteral:
      AppendLiteral(n.value, out);
      return;
    case NodeKind::kField:
      *out += PathText(n.path);
      return;
    case NodeKind::kStar:
      *out += '*';
      return;
    case NodeKind::kNeg:
      *out += '-';
      AppendAt(*n.args[0], kPrimaryLevel, out);
      return;
    case NodeKind::kNot:
      *out += "not ";
      AppendAt(*n.args[0], kNotLevel, out);
      return;
    case NodeKind::kBinary: {
      const int level = LevelOf(n);
      // Left-associative: the right operand binds tighter; comparisons do not chain.
      const bool chains = level != kPredicateLevel;
      AppendAt(*n.args[0], chains ? level : level + 1, out);
      *out += fmt::format(" {} ", BinaryOpText(n.op));
      AppendAt(*n.args[1], level + 1, out);
      return;
    }
    case NodeKind::kIsNull:
      AppendAt(*n.args[0], kConcatLevel, out);
      *out += n.negated ? " is not null" : " is null";
      return;
    case NodeKind::kIn:
      AppendAt(*n.args[0], kConcatLevel, out);
      *out += n.negated ? " not in (" : " in (";
      for (size_t i = 1; i < n.args.size(); ++i) {
        if (i > 1) *out += ", ";
        Append(*n.args[i], out);
      }
      *out += ')';
      return;
    case NodeKind::kBetween:
      AppendAt(*n.args[0], kConcatLevel, out);
      *out += n.negated ? " not between " : " between ";
      AppendAt(*n.args[1], kConcatLevel, out);
      *out += " and ";
      AppendAt(*n.args[2], kConcatLevel, out);
      return;
    case NodeKind::kLike:
      AppendAt(*n.args[0], kConcatLevel, out);
      *out += n.negated ? " not " : " ";
      *out += n.case_insensitive ? "ilike " : "like ";
      AppendAt(*n.args[1], kConcatLevel, out);
      return;
    case NodeKind::kCase: {
      *out += "case";
      size_t i = 0;
      if (n.has_operand) {
        *out += ' ';
        Append(*n.args[i++], out);
      }
      const size_t end = n.args.size() - (n.has_else ? 1 : 0);
      for (; i + 1 < end; i += 2) {
        *out += " when ";
        Append(*n.args[i], out);
        *out += " then ";
        Append(*n.args[i + 1], out);
      }
      if (n.has_else) {
        *out += " else ";
        Append(*n.args.back(), out);
      }
      *out += " end";
      return;
    }
    case NodeKind::kCast:
      *out += "cast(";
      Append(*n.args[0], out);
      *out += fmt::format(" as {})", CastTypeName(n.cast));
      return;
    case NodeKind::kCall:
      *out += n.name;
      *out += n.distinct ? "(distinct " : "(";
      for (size_t i = 0; i < n.args.size(); ++i) {
        if (i > 0) *out += ", ";
        Append(*n.args[i], out);
      }
      *out += ')';
      return;
  }
}

std::shared_ptr<Node> Built(NodeKind kind, std::vector<NodePtr> args) {
  auto n = std::make_shared<Node>();
  n->kind = kind;
  n->args = std::move(args);
  return n;
}

Expr Binary(BinaryOp op, const Expr& a, const Expr& b) {
  auto n = Built(NodeKind::kBinary, {a.node_ptr(), b.node_ptr()});
  n->op = op;
  return Expr(std::move(n));
}

}  // namespace

std::string_view BinaryOpText(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kIntDiv:
      return "//";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kConcat:
      return "||";
    case BinaryOp::kEq:
      return "=";
    case BinaryOp::kNe:
      return "!=";
    case BinaryOp::kLt:
      return "<";
    case BinaryOp::kLe:
      return "<=";
    case BinaryOp::kGt:
      return ">";
    case BinaryOp::kGe:
      return ">=";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      break;
  }
  return "or";
}

std::string PathText(const std::vector<PathStep>& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    const PathStep& step = path[i];
    if (step.is_index) {
      out += fmt::format("[{}]", step.index);
      continue;
    }
    if (i > 0) out += '.';
    AppendName(step.name, &out);
  }
  return out;
}

std::string ToText(const Node& node) {
  std::string out;
  Append(node, &out);
  return out;
}

Expr::Expr() : node_(std::make_shared<Node>()) {}

Expr::Kind Expr::kind() const {
  switch (node_->kind) {
    case NodeKind::kLiteral:
      return Kind::kLiteral;
    case NodeKind::kField:
      return Kind::kField;
    case NodeKind::kStar:
      return Kind::kStar;
    case NodeKind::kCall:
      return Kind::kCall;
    default:
      return Kind::kOther;
  }
}

std::string Expr::name() const {
  if (node_->kind == NodeKind::kField) return PathText(node_->path);
  return node_->name;
}

bool Expr::IsTopLevelField() const {
  return node_->kind == NodeKind::kField && node_->path.size() == 1 && node_->error.ok();
}

std::string Expr::FieldName() const {
  return IsTopLevelField() ? node_->path[0].name : std::string();
}

bool Expr::distinct() const { return node_->distinct; }

std::vector<Expr> Expr::args() const {
  std::vector<Expr> out;
  for (const NodePtr& a : node_->args) out.emplace_back(a);
  return out;
}

const Value& Expr::literal() const { return node_->value; }

Status Expr::Error(std::string_view message) const { return ErrorAt(*node_, message); }

namespace {
void CollectAggregateCalls(const NodePtr& n, std::vector<Expr>* out) {
  if (n->kind == NodeKind::kCall && IsAggregateFunction(n->name)) {
    out->emplace_back(n);
    return;
  }
  for (const NodePtr& a : n->args) CollectAggregateCalls(a, out);
}
}  // namespace

std::vector<Expr> AggregateCalls(const Expr& e) {
  std::vector<Expr> out;
  CollectAggregateCalls(e.node_ptr(), &out);
  return out;
}

std::string Expr::ToString() const { return ToText(*node_); }

Expr Expr::Eq(Expr rhs) const { return Binary(BinaryOp::kEq, *this, rhs); }
Expr Expr::Ne(Expr rhs) const { return Binary(BinaryOp::kNe, *this, rhs); }
Expr Expr::Lt(Expr rhs) const { return Binary(BinaryOp::kLt, *this, rhs); }
Expr Expr::Le(Expr rhs) const { return Binary(BinaryOp::kLe, *this, rhs); }
Expr Expr::Gt(Expr rhs) const { return Binary(BinaryOp::kGt, *this, rhs); }
Expr Expr::Ge(Expr rhs) const { return Binary(BinaryOp::kGe, *this, rhs); }
Expr Expr::And(Expr rhs) const { return Binary(BinaryOp::kAnd, *this, rhs); }
Expr Expr::Or(Expr rhs) const { return Binary(BinaryOp::kOr, *this, rhs); }

Expr Expr::IsNull() const { return Expr(Built(NodeKind::kIsNull, {node_})); }

Expr Expr::IsNotNull() const {
  auto n = Built(NodeKind::kIsNull, {node_});
  n->negated = true;
  return Expr(std::move(n));
}

Expr Expr::In(std::vector<Expr> list) const {
  std::vector<NodePtr> args = {node_};
  for (const Expr& e : list) args.push_back(e.node_ptr());
  return Expr(Built(NodeKind::kIn, std::move(args)));
}

Expr Expr::Between(Expr low, Expr high) const {
  return Expr(Built(NodeKind::kBetween, {node_, low.node_ptr(), high.node_ptr()}));
}

Expr Expr::Like(std::string pattern) const {
  return Expr(Built(NodeKind::kLike, {node_, Lit(Value(std::move(pattern))).node_ptr()}));
}

Expr Expr::Cast(CastType type) const {
  auto n = Built(NodeKind::kCast, {node_});
  n->cast = type;
  return Expr(std::move(n));
}

Expr Lit(Value value) {
  auto n = Built(NodeKind::kLiteral, {});
  if (value.is_array() || value.is_object()) {
    n->error = Status::InvalidArgument("a literal must be null, a boolean, a number or a string");
  }
  n->value = std::move(value);
  return Expr(std::move(n));
}

Expr Call(std::string name, std::vector<Expr> args) {
  std::vector<NodePtr> nodes;
  for (const Expr& e : args) nodes.push_back(e.node_ptr());
  auto n = Built(NodeKind::kCall, std::move(nodes));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  n->name = std::move(name);
  return Expr(std::move(n));
}

Expr Star() { return Expr(Built(NodeKind::kStar, {})); }

Expr Not(Expr e) { return Expr(Built(NodeKind::kNot, {e.node_ptr()})); }

Expr operator+(Expr a, Expr b) { return Binary(BinaryOp::kAdd, a, b); }
Expr operator-(Expr a, Expr b) { return Binary(BinaryOp::kSub, a, b); }
Expr operator*(Expr a, Expr b) { return Binary(BinaryOp::kMul, a, b); }
Expr operator/(Expr a, Expr b) { return Binary(BinaryOp::kDiv, a, b); }
Expr operator%(Expr a, Expr b) { return Binary(BinaryOp::kMod, a, b); }
Expr operator-(Expr a) { return Expr(Built(NodeKind::kNeg, {a.node_ptr()})); }

}  // namespace pulse::expr
