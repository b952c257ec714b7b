// SPDX-License-Identifier: MIT
// A checked expression that evaluates over records: type checking once, evaluation per record.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pulse/core/record.h"
#include "pulse/core/status.h"
#include "pulse/core/value.h"
#include "pulse/expr/expr.h"

namespace pulse::expr {

/// The JSON types a value may have, as a bit set. Fields of the data may hold any of them;
/// literals, operators and functions narrow it.
enum class Types : uint8_t {
  kNone = 0,
  kNull = 1,
  kBool = 2,
  kInt = 4,
  kDouble = 8,
  kString = 16,
  kArray = 32,
  kObject = 64,
  kNumber = kInt | kDouble,
  kAny = 127,
};
constexpr Types operator|(Types a, Types b) {
  return static_cast<Types>(static_cast<uint8_t>(a) | static_cast<uint8_t>(b));
}
constexpr Types operator&(Types a, Types b) {
  return static_cast<Types>(static_cast<uint8_t>(a) & static_cast<uint8_t>(b));
}
constexpr bool Any(Types t) { return t != Types::kNone; }
/// "integer", "string or null", "any value", for messages.
std::string DescribeTypes(Types t);

/// SQL's three truth values: a condition on null is unknown, and a filter keeps only true.
enum class Truth : uint8_t { kFalse, kTrue, kUnknown };

/// What names an expression may use besides the record's fields, and where it is used.
struct Scope {
  /// Names with known types: computed fields (usable by later expressions), or, in `having`,
  /// the keys and aggregates of the result.
  struct Name {
    std::string name;
    Types types = Types::kAny;
  };
  std::vector<Name> names;
  /// In `having`: only `names` may be referenced (the result has no other fields).
  bool names_only = false;
  /// What the expression is ("ops.where"), for the message that forbids aggregates there.
  std::string_view role = "an expression";
  /// Aggregate calls that stand for a name of `names` (in `having`: "count(*)" → "requests"),
  /// by their canonical text (Expr::ToString). Other aggregate calls are errors.
  std::vector<std::pair<std::string, std::string>> aggregates;
};

/// A type-checked expression ready to evaluate. Copyable (copies share the immutable compiled
/// tree). Evaluate and Test are const and may be called from any number of threads at once.
class Compiled {
 public:
  /// Check `e` and compile it. Errors (InvalidArgument, pointing into the text when `e` was
  /// parsed): an unknown function (with "did you mean"), a wrong number of arguments, an argument
  /// or operand of a type that cannot work ('a' + 1, lower(5), not 3), an invalid regular
  /// expression, an aggregate function (those belong in [ops.aggregates]), a name outside
  /// `scope` when scope.names_only.
  static Result<Compiled> Make(const Expr& e, const Scope& scope = {});

  /// The value of the expression for `record` (fields are read from record.value, which must
  /// outlive the call; nothing is copied but what the result holds).
  Value Evaluate(const Record& record) const;

  /// The truth of a condition for `record`: a boolean result, or kUnknown for null and for
  /// any non-boolean value.
  Truth Test(const Record& record) const;

  /// The types the result may have.
  Types types() const { return types_; }

  /// The top-level record fields the expression reads (in order of first use), without the
  /// names of the scope.
  const std::vector<std::string>& fields() const { return fields_; }

  /// The names of the scope the expression reads (computed fields, in order of first use).
  const std::vector<std::string>& names() const { return names_; }

  /// The expression's canonical text (Expr::ToString).
  const std::string& text() const { return text_; }

 private:
  struct Impl;
  Compiled(std::shared_ptr<const Impl> impl, Types types, std::vector<std::string> fields,
           std::vector<std::string> names, std::string text)
      : impl_(std::move(impl)),
        types_(types),
        fields_(std::move(fields)),
        names_(std::move(names)),
        text_(std::move(text)) {}

  std::shared_ptr<const Impl> impl_;
  Types types_ = Types::kAny;
  std::vector<std::string> fields_;
  std::vector<std::string> names_;
  std::string text_;
};

}  // namespace pulse::expr
