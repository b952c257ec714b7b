// SPDX-License-Identifier: MIT
// Expressions over records (docs/expressions.md): the tree, its parser and its builders.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/status.h"
#include "pulse/core/value.h"

namespace pulse::expr {

/// Where an expression's text comes from, so that an error can point at the character: the
/// config file, its key and the position of the text's first character in the file.
struct Origin {
  std::string file;  // "pipeline.toml"; empty when the text does not come from a file
  std::string key;   // "ops.where", "key[1]", "where"
  int line = 1;      // 1-based line of the text's first character
  int column = 1;    // 1-based column of the text's first character
};

/// The types a cast converts to.
enum class CastType : uint8_t { kInt, kDouble, kString, kBool };

class Node;

/// An expression tree. Immutable; copies share their nodes. Made by Parse() or the builders
/// below; turned into something that runs by Compiled::Make (compiled.h).
///
///   Expr e = Field("status").Ge(500).And(Field("method").In({Lit("GET"), Lit("POST")}));
///   e.ToString() == "status >= 500 and method in ('GET', 'POST')"
class Expr {
 public:
  /// The literal null.
  Expr();
  explicit Expr(std::shared_ptr<const Node> node) : node_(std::move(node)) {}

  /// Text that parses back to the same tree (canonical spacing, keywords in lower case).
  std::string ToString() const;

  // Builders; each returns a new tree.
  Expr Eq(Expr rhs) const;
  Expr Ne(Expr rhs) const;
  Expr Lt(Expr rhs) const;
  Expr Le(Expr rhs) const;
  Expr Gt(Expr rhs) const;
  Expr Ge(Expr rhs) const;
  Expr And(Expr rhs) const;
  Expr Or(Expr rhs) const;
  Expr IsNull() const;
  Expr IsNotNull() const;
  Expr In(std::vector<Expr> list) const;
  Expr Between(Expr low, Expr high) const;
  Expr Like(std::string pattern) const;
  Expr Cast(CastType type) const;

  // Inspection, for plans that give calls and fields a meaning of their own (aggregates).
  enum class Kind : uint8_t { kLiteral, kField, kStar, kCall, kOther };
  Kind kind() const;
  /// kField: the path's text ("user.id"); kCall: the function's name in lower case.
  std::string name() const;
  /// kField: true if the path is one plain name (no '.' or '[ ]').
  bool IsTopLevelField() const;
  /// With IsTopLevelField(): the field's name as the data spells it (`"odd name"` → odd name).
  std::string FieldName() const;
  /// kCall: true for count(distinct x).
  bool distinct() const;
  /// kCall: the arguments.
  std::vector<Expr> args() const;
  /// kLiteral: the value.
  const Value& literal() const;
  /// InvalidArgument "<message>" pointing at this part of its text (as Parse's errors), or
  /// quoting the tree when it was built.
  Status Error(std::string_view message) const;

  const Node& node() const { return *node_; }
  const std::shared_ptr<const Node>& node_ptr() const { return node_; }

 private:
  std::shared_ptr<const Node> node_;
};

/// A field of the record: a name, or a path into nested objects and arrays ("user.id",
/// "tags[0]", "a.b[1].c", "\"odd name\".x"). A path that does not parse gives an expression
/// that Compiled::Make rejects with the parser's message.
Expr Field(std::string_view path);
/// A literal: null, a boolean, an integer, a double or a string (not an array or object).
Expr Lit(Value value);
/// A function call, e.g. Call("lower", {Field("host")}); also aggregates ("sum", "quantile").
Expr Call(std::string name, std::vector<Expr> args);
/// The `*` of count(*).
Expr Star();
Expr Not(Expr e);
Expr operator+(Expr a, Expr b);
Expr operator-(Expr a, Expr b);
Expr operator*(Expr a, Expr b);
Expr operator/(Expr a, Expr b);
Expr operator%(Expr a, Expr b);
Expr operator-(Expr a);

/// Parse the expression `text`. Errors: InvalidArgument "<file>:<line>:<column>: <key>: <what>"
/// (without a file: "<key>:<line>:<column>: <what>"), pointing at the offending character.
Result<Expr> Parse(std::string_view text, const Origin& origin);

/// An expression with the name of its result: "lower(host) as host". Without `as`, a field
/// reference is named by its path ("region", "user.id"); other expressions have no name.
struct NamedExpr {
  Expr expr;
  std::string name;  // empty: no `as` and not a field reference
  bool aliased = false;
};

/// Parse "<expression> [as <name>]". Errors as Parse.
Result<NamedExpr> ParseNamed(std::string_view text, const Origin& origin);

/// The aggregate calls in `e` (outermost first, left to right), e.g. count(*) in
/// "count(*) >= 10"; calls inside an aggregate call are not listed.
std::vector<Expr> AggregateCalls(const Expr& e);

/// The names of the functions the language knows (scalar and aggregate), for messages.
std::vector<std::string_view> FunctionNames();

/// True if `name` (lower case) is an aggregate function: count, sum, avg, min, max, distinct,
/// approx_distinct, quantile, percentile, first, last, top_k, stddev, variance, ...
bool IsAggregateFunction(std::string_view name);

}  // namespace pulse::expr
