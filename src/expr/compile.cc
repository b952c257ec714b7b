// SPDX-License-Identifier: MIT
// Compiled::Make: checks a tree once (names, arity, the types that can be known before any
// record) and turns it into EvalNodes; the operators' evaluation (functions are in
// functions.cc).
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "expr/eval.h"
#include "expr/functions.h"
#include "expr/like.h"
#include "expr/node.h"
#include "pulse/core/json.h"
#include "pulse/expr/compiled.h"

namespace pulse::expr {

struct Compiled::Impl {
  internal::EvalPtr root;
};

namespace internal {
namespace {

// ---- Evaluation of the operators ----

class LiteralNode final : public EvalNode {
 public:
  explicit LiteralNode(Value v) : value_(std::move(v)) {}
  void Eval(const Record&, Datum* out) const override { out->SetValue(value_); }

 private:
  Value value_;
};

class FieldNode final : public EvalNode {
 public:
  explicit FieldNode(std::vector<PathStep> path) : path_(std::move(path)) {}
  void Eval(const Record& record, Datum* out) const override {
    const Value* v = record.value.Find(path_[0].name);
    for (size_t i = 1; i < path_.size() && v != nullptr; ++i) {
      const PathStep& step = path_[i];
      if (!step.is_index) {
        v = v->Find(step.name);
        continue;
      }
      if (!v->is_array()) {
        v = nullptr;
        break;
      }
      const Array& a = v->as_array();
      const int64_t size = static_cast<int64_t>(a.size());
      const int64_t index = step.index < 0 ? size + step.index : step.index;
      v = index >= 0 && index < size ? &a[static_cast<size_t>(index)] : nullptr;
    }
    if (v == nullptr) {
      out->SetNull();
    } else {
      out->SetValue(*v);
    }
  }

 private:
  std::vector<PathStep> path_;
};

class NegNode final : public EvalNode {
 public:
  explicit NegNode(EvalPtr a) : a_(std::move(a)) {}
  void Eval(const Record& record, Datum* out) const override {
    Datum a;
    a_->Eval(record, &a);
    std::optional<Number> n = ToNumber(a);
    if (!n) {
      out->SetNull();
    } else if (!n->is_int) {
      out->SetDouble(-n->d);
    } else if (n->i == std::numeric_limits<int64_t>::min()) {
      out->SetDouble(-static_cast<double>(n->i));  // overflow: a double, as documented
    } else {
      out->SetInt(-n->i);
    }
  }

 private:
  EvalPtr a_;
};

class NotNode final : public EvalNode {
 public:
  explicit NotNode(EvalPtr a) : a_(std::move(a)) {}
  void Eval(const Record& record, Datum* out) const override {
    Datum a;
    a_->Eval(record, &a);
    const Tri t = TruthOf(a);
    if (t == Tri::kUnknown) {
      out->SetNull();
    } else {
      out->SetBool(t == Tri::kFalse);
    }
  }

 private:
  EvalPtr a_;
};

// and/or with SQL's three-valued logic; the right side is evaluated only when it matters.
class LogicNode final : public EvalNode {
 public:
  LogicNode(bool is_and, EvalPtr a, EvalPtr b)
      : is_and_(is_and), a_(std::move(a)), b_(std::move(b)) {}
  void Eval(const Record& record, Datum* out) const override {
    Datum a;
    a_->Eval(record, &a);
    const Tri x = TruthOf(a);
    const Tri decisive = is_and_ ? Tri::kFalse : Tri::kTrue;
    if (x == decisive) {
      out->SetBool(!is_and_);
      return;
    }
    Datum b;
    b_->Eval(record, &b);
    const Tri y = TruthOf(b);
    if (y == decisive) {
      out->SetBool(!is_and_);
    } else if (x == Tri::kUnknown || y == Tri::kUnknown) {
      out->SetNull();
    } else {
      out->SetBool(is_and_);
    }
  }

 private:
  bool is_and_;
  EvalPtr a_, b_;
};

bool AddOverflows(int64_t a, int64_t b, int64_t* r) { return __builtin_add_overflow(a, b, r); }
bool SubOverflows(int64_t a, int64_t b, int64_t* r) { return __builtin_sub_overflow(a, b, r); }
bool MulOverflows(int64_t a, int64_t b, int64_t* r) { return __builtin_mul_overflow(a, b, r); }

// + - * / // %: integers stay integers (a result beyond int64 becomes a double); a division
// or modulo by zero is null.
class ArithmeticNode final : public EvalNode {
 public:
  ArithmeticNode(BinaryOp op, EvalPtr a, EvalPtr b)
      : op_(op), a_(std::move(a)), b_(std::move(b)) {}
  void Eval(const Record& record, Datum* out) const override {
    Datum a, b;
    a_->Eval(record, &a);
    b_->Eval(record, &b);
    std::optional<Number> x = ToNumber(a);
    std::optional<Number> y = x ? ToNumber(b) : std::nullopt;
    if (!x || !y) {
      out->SetNull();
      return;
    }
    if (x->is_int && y->is_int) {
      EvalInts(x->i, y->i, out);
      return;
    }
    EvalDoubles(x->AsDouble(), y->AsDouble(), out);
  }

 private:
  void EvalInts(int64_t x, int64_t y, Datum* out) const {
    int64_t r = 0;
    const double dx = static_cast<double>(x);
    const double dy = static_cast<double>(y);
    switch (op_) {
      case BinaryOp::kAdd:
        if (AddOverflows(x, y, &r)) return out->SetDouble(dx + dy);
        return out->SetInt(r);
      case BinaryOp::kSub:
        if (SubOverflows(x, y, &r)) return out->SetDouble(dx - dy);
        return out->SetInt(r);
      case BinaryOp::kMul:
        if (MulOverflows(x, y, &r)) return out->SetDouble(dx * dy);
        return out->SetInt(r);
      case BinaryOp::kDiv:
        if (y == 0) return out->SetNull();
        return out->SetDouble(dx / dy);
      case BinaryOp::kIntDiv:
        if (y == 0) return out->SetNull();
        if (x == std::numeric_limits<int64_t>::min() && y == -1) return out->SetDouble(-dx);
        return out->SetInt(x / y);
      case BinaryOp::kMod:
        if (y == 0) return out->SetNull();
        if (y == -1) return out->SetInt(0);
        return out->SetInt(x % y);
      default:
        return out->SetNull();
    }
  }

  void EvalDoubles(double x, double y, Datum* out) const {
    switch (op_) {
      case BinaryOp::kAdd:
        return out->SetDouble(x + y);
      case BinaryOp::kSub:
        return out->SetDouble(x - y);
      case BinaryOp::kMul:
        return out->SetDouble(x * y);
      case BinaryOp::kDiv:
        if (y == 0) return out->SetNull();
        return out->SetDouble(x / y);
      case BinaryOp::kIntDiv:
        if (y == 0) return out->SetNull();
        return out->SetDouble(std::trunc(x / y));
      case BinaryOp::kMod:
        if (y == 0) return out->SetNull();
        return out->SetDouble(std::fmod(x, y));
      default:
        return out->SetNull();
    }
  }

  BinaryOp op_;
  EvalPtr a_, b_;
};

// a || b: the texts of two scalars; null if either is null.
class ConcatNode final : public EvalNode {
 public:
  ConcatNode(EvalPtr a, EvalPtr b) : a_(std::move(a)), b_(std::move(b)) {}
  void Eval(const Record& record, Datum* out) const override {
    Datum a, b;
    a_->Eval(record, &a);
    b_->Eval(record, &b);
    std::string buffer_a, buffer_b;
    std::optional<std::string_view> x = ToText(a, &buffer_a);
    std::optional<std::string_view> y = ToText(b, &buffer_b);
    if (!x || !y) {
      out->SetNull();
      return;
    }
    std::string s;
    s.reserve(x->size() + y->size());
    s.append(*x);
    s.append(*y);
    out->SetString(std::move(s));
  }

 private:
  EvalPtr a_, b_;
};

// The outcome of a comparison operator for two non-null values.
void CompareInto(BinaryOp op, const Datum& a, const Datum& b, Datum* out) {
  if (op == BinaryOp::kEq || op == BinaryOp::kNe) {
    out->SetBool(Equal(a, b) == (op == BinaryOp::kEq));
    return;
  }
  std::optional<int> c = Compare(a, b);
  if (!c) {
    out->SetNull();
    return;
  }
  switch (op) {
    case BinaryOp::kLt:
      return out->SetBool(*c < 0);
    case BinaryOp::kLe:
      return out->SetBool(*c <= 0);
    case BinaryOp::kGt:
      return out->SetBool(*c > 0);
    case BinaryOp::kGe:
      return out->SetBool(*c >= 0);
    default:
      return out->SetNull();
  }
}

class ComparisonNode final : public EvalNode {
 public:
  ComparisonNode(BinaryOp op, EvalPtr a, EvalPtr b)
      : op_(op), a_(std::move(a)), b_(std::move(b)) {}
  void Eval(const Record& record, Datum* out) const override {
    Datum a, b;
    a_->Eval(record, &a);
    if (a.is_null()) return out->SetNull();
    b_->Eval(record, &b);
    if (b.is_null()) return out->SetNull();
    CompareInto(op_, a, b, out);
  }

 private:
  BinaryOp op_;
  EvalPtr a_, b_;
};

class IsNullNode final : public EvalNode {
 public:
  IsNullNode(bool negated, EvalPtr a) : negated_(negated), a_(std::move(a)) {}
  void Eval(const Record& record, Datum* out) const override {
    Datum a;
    a_->Eval(record, &a);
    out->SetBool(a.is_null() != negated_);
  }

 private:
  bool negated_;
  EvalPtr a_;
};

// x [not] in (items): true if an item equals x; otherwise null if x or an item is null.
class InNode final : public EvalNode {
 public:
  InNode(bool negated, EvalPtr a, std::vector<EvalPtr> items)
      : negated_(negated), a_(std::move(a)), items_(std::move(items)) {}
  void Eval(const Record& record, Datum* out) const override {
    Datum a;
    a_->Eval(record, &a);
    if (a.is_null()) return out->SetNull();
    bool saw_null = false;
    for (const EvalPtr& item : items_) {
      Datum b;
      item->Eval(record, &b);
      if (b.is_null()) {
        saw_null = true;
      } else if (Equal(a, b)) {
        return out->SetBool(!negated_);
      }
    }
    if (saw_null) return out->SetNull();
    out->SetBool(negated_);
  }

 private:
  bool negated_;
  EvalPtr a_;
  std::vector<EvalPtr> items_;
};

// x [not] between lo and hi = x >= lo and x <= hi (three-valued).
class BetweenNode final : public EvalNode {
 public:
  BetweenNode(bool negated, EvalPtr a, EvalPtr low, EvalPtr high)
      : negated_(negated), a_(std::move(a)), low_(std::move(low)), high_(std::move(high)) {}
  void Eval(const Record& record, Datum* out) const override {
    Datum a, low, high;
    a_->Eval(record, &a);
    low_->Eval(record, &low);
    high_->Eval(record, &high);
    Datum ge, le;
    if (a.is_null() || low.is_null()) {
      ge.SetNull();
    } else {
      CompareInto(BinaryOp::kGe, a, low, &ge);
    }
    if (a.is_null() || high.is_null()) {
      le.SetNull();
    } else {
      CompareInto(BinaryOp::kLe, a, high, &le);
    }
    const Tri x = TruthOf(ge);
    const Tri y = TruthOf(le);
    Tri r;
    if (x == Tri::kFalse || y == Tri::kFalse) {
      r = Tri::kFalse;
    } else if (x == Tri::kUnknown || y == Tri::kUnknown) {
      r = Tri::kUnknown;
    } else {
      r = Tri::kTrue;
    }
    if (r == Tri::kUnknown) return out->SetNull();
    out->SetBool((r == Tri::kTrue) != negated_);
  }

 private:
  bool negated_;
  EvalPtr a_, low_, high_;
};

class LikeNode final : public EvalNode {
 public:
  // `pattern` set: a literal pattern compiled once; otherwise `pattern_eval` gives it per record.
  LikeNode(bool negated, bool insensitive, EvalPtr a, std::optional<LikePattern> pattern,
           EvalPtr pattern_eval)
      : negated_(negated),
        insensitive_(insensitive),
        a_(std::move(a)),
        pattern_(std::move(pattern)),
        pattern_eval_(std::move(pattern_eval)) {}
  void Eval(const Record& record, Datum* out) const override {
    Datum a;
    a_->Eval(record, &a);
    std::string buffer;
    std::optional<std::string_view> text = ToText(a, &buffer);
    if (!text) return out->SetNull();
    if (pattern_) return out->SetBool(pattern_->Matches(*text) != negated_);
    Datum p;
    pattern_eval_->Eval(record, &p);
    std::string pattern_buffer;
    std::optional<std::string_view> pattern_text = ToText(p, &pattern_buffer);
    if (!pattern_text) return out->SetNull();
    const LikePattern pattern(*pattern_text, insensitive_);
    out->SetBool(pattern.Matches(*text) != negated_);
  }

 private:
  bool negated_;
  bool insensitive_;
  EvalPtr a_;
  std::optional<LikePattern> pattern_;
  EvalPtr pattern_eval_;
};

// case [operand] when w then t ... [else e] end
class CaseNode final : public EvalNode {
 public:
  CaseNode(EvalPtr operand, std::vector<std::pair<EvalPtr, EvalPtr>> whens, EvalPtr otherwise)
      : operand_(std::move(operand)), whens_(std::move(whens)), else_(std::move(otherwise)) {}
  void Eval(const Record& record, Datum* out) const override {
    Datum operand;
    if (operand_ != nullptr) operand_->Eval(record, &operand);
    for (const auto& [when, then] : whens_) {
      Datum w;
      when->Eval(record, &w);
      const bool taken = operand_ != nullptr
                             ? (!operand.is_null() && !w.is_null() && Equal(operand, w))
                             : TruthOf(w) == Tri::kTrue;
      if (taken) return then->Eval(record, out);
    }
    if (else_ != nullptr) return else_->Eval(record, out);
    out->SetNull();
  }

 private:
  EvalPtr operand_;
  std::vector<std::pair<EvalPtr, EvalPtr>> whens_;
  EvalPtr else_;
};

// Round half away from zero to an int64; nullopt beyond its range.
std::optional<int64_t> RoundToInt(double d) {
  const double r = std::round(d);
  // 2^63 is the first double past int64's range.
  if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0)) return std::nullopt;
  return static_cast<int64_t>(r);
}

std::optional<bool> BoolFromText(std::string_view s) {
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true" || lower == "t" || lower == "yes" || lower == "1") return true;
  if (lower == "false" || lower == "f" || lower == "no" || lower == "0") return false;
  return std::nullopt;
}

class CastNode final : public EvalNode {
 public:
  CastNode(CastType type, EvalPtr a) : type_(type), a_(std::move(a)) {}
  void Eval(const Record& record, Datum* out) const override {
    Datum a;
    a_->Eval(record, &a);
    if (a.is_null()) return out->SetNull();
    switch (type_) {
      case CastType::kInt:
        return ToInt(a, out);
      case CastType::kDouble:
        if (a.kind() == Datum::Kind::kBool) return out->SetDouble(a.as_bool() ? 1 : 0);
        if (std::optional<Number> n = ToNumber(a)) return out->SetDouble(n->AsDouble());
        return out->SetNull();
      case CastType::kString: {
        if (a.kind() == Datum::Kind::kString) {
          *out = std::move(a);
          return;
        }
        if (a.kind() == Datum::Kind::kJson) return out->SetString(a.json().ToJson());
        std::string buffer;
        std::optional<std::string_view> text = ToText(a, &buffer);
        return out->SetString(std::string(*text));
      }
      case CastType::kBool:
        switch (a.kind()) {
          case Datum::Kind::kBool:
            *out = std::move(a);
            return;
          case Datum::Kind::kInt:
            return out->SetBool(a.as_int() != 0);
          case Datum::Kind::kDouble:
            return out->SetBool(a.as_double() != 0);
          case Datum::Kind::kString:
            if (std::optional<bool> b = BoolFromText(a.str())) return out->SetBool(*b);
            return out->SetNull();
          default:
            return out->SetNull();
        }
    }
  }

 private:
  static void ToInt(const Datum& a, Datum* out) {
    if (a.kind() == Datum::Kind::kBool) return out->SetInt(a.as_bool() ? 1 : 0);
    std::optional<Number> n = ToNumber(a);
    if (!n) return out->SetNull();
    if (n->is_int) return out->SetInt(n->i);
    if (std::optional<int64_t> i = RoundToInt(n->d)) return out->SetInt(*i);
    out->SetNull();
  }

  CastType type_;
  EvalPtr a_;
};

// ---- The checker ----

Types CastResult(CastType t) {
  switch (t) {
    case CastType::kInt:
      return Types::kInt;
    case CastType::kDouble:
      return Types::kDouble;
    case CastType::kString:
      return Types::kString;
    case CastType::kBool:
      break;
  }
  return Types::kBool;
}

Types LiteralTypes(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return Types::kNull;
    case Value::Type::kBool:
      return Types::kBool;
    case Value::Type::kInt:
      return Types::kInt;
    case Value::Type::kDouble:
      return Types::kDouble;
    case Value::Type::kString:
      return Types::kString;
    case Value::Type::kArray:
      return Types::kArray;
    case Value::Type::kObject:
      return Types::kObject;
  }
  return Types::kAny;
}

// The classes of values that compare with each other: numbers (and strings, which may hold
// numbers), booleans, arrays and objects.
bool Comparable(Types a, Types b) {
  auto classes = [](Types t) {
    int c = 0;
    if (Any(t & (Types::kNumber | Types::kString))) c |= 1;
    if (Any(t & Types::kBool)) c |= 2;
    if (Any(t & (Types::kArray | Types::kObject))) c |= 4;
    return c;
  };
  const Types non_null_a = static_cast<Types>(static_cast<uint8_t>(a) & ~1u);
  const Types non_null_b = static_cast<Types>(static_cast<uint8_t>(b) & ~1u);
  if (non_null_a == Types::kNone || non_null_b == Types::kNone) return true;  // a null literal
  if (Any(non_null_a & Types::kString) && Any(non_null_b & Types::kString)) return true;
  return (classes(non_null_a) & classes(non_null_b)) != 0;
}

class Compiler {
 public:
  explicit Compiler(const Scope& scope) : scope_(scope) {}

  Result<CompiledCall> Compile(const Node& n) {
    PULSE_RETURN_IF_ERROR(n.error);
    switch (n.kind) {
      case NodeKind::kLiteral:
        return CompiledCall{std::make_unique<LiteralNode>(n.value), LiteralTypes(n.value)};
      case NodeKind::kField:
        return CompileField(n);
      case NodeKind::kStar:
        return ErrorAt(n, "'*' is only allowed in count(*)");
      case NodeKind::kNeg: {
        PULSE_ASSIGN_OR_RETURN(CompiledCall a, Compile(*n.args[0]));
        PULSE_RETURN_IF_ERROR(CheckNumeric(*n.args[0], a.types, "'-'"));
        return CompiledCall{std::make_unique<NegNode>(std::move(a.eval)),
                            Types::kNumber | Types::kNull};
      }
      case NodeKind::kNot: {
        PULSE_ASSIGN_OR_RETURN(CompiledCall a, Compile(*n.args[0]));
        PULSE_RETURN_IF_ERROR(CheckCondition(*n.args[0], a.types, "'not'"));
        return CompiledCall{std::make_unique<NotNode>(std::move(a.eval)),
                            Types::kBool | Types::kNull};
      }
      case NodeKind::kBinary:
        return CompileBinary(n);
      case NodeKind::kIsNull: {
        PULSE_ASSIGN_OR_RETURN(CompiledCall a, Compile(*n.args[0]));
        return CompiledCall{std::make_unique<IsNullNode>(n.negated, std::move(a.eval)),
                            Types::kBool};
      }
      case NodeKind::kIn:
        return CompileIn(n);
      case NodeKind::kBetween:
        return CompileBetween(n);
      case NodeKind::kLike:
        return CompileLike(n);
      case NodeKind::kCase:
        return CompileCase(n);
      case NodeKind::kCast: {
        PULSE_ASSIGN_OR_RETURN(CompiledCall a, Compile(*n.args[0]));
        const Types scalars = Types::kAny & static_cast<Types>(~static_cast<uint8_t>(
                                                Types::kArray | Types::kObject));
        if (n.cast != CastType::kString && !Any(a.types & scalars)) {
          return ErrorAt(n, fmt::format("cannot cast {} to {}", DescribeTypes(a.types),
                                        CastTypeName(n.cast)));
        }
        return CompiledCall{std::make_unique<CastNode>(n.cast, std::move(a.eval)),
                            CastResult(n.cast) | Types::kNull};
      }
      case NodeKind::kCall:
        return CompileCall(n);
    }
    return ErrorAt(n, "unknown expression");
  }

  std::vector<std::string> TakeFields() { return std::move(fields_); }
  std::vector<std::string> TakeNames() { return std::move(names_); }

 private:
  const Scope::Name* FindName(std::string_view name) const {
    for (const Scope::Name& s : scope_.names) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }

  Result<CompiledCall> CompileField(const Node& n) {
    const std::string& top = n.path[0].name;
    const Scope::Name* known = FindName(top);
    // A dotted name may also be the whole name of a result field ("user.id" as a key).
    if (known == nullptr && n.path.size() > 1) {
      if (const Scope::Name* whole = FindName(PathText(n.path))) {
        if (std::find(names_.begin(), names_.end(), whole->name) == names_.end()) {
          names_.push_back(whole->name);
        }
        std::vector<PathStep> path = {PathStep{whole->name, 0, false}};
        return CompiledCall{std::make_unique<FieldNode>(std::move(path)),
                            whole->types | Types::kNull};
      }
    }
    if (known == nullptr && scope_.names_only) {
      std::string names;
      for (const Scope::Name& s : scope_.names) names += (names.empty() ? "" : ", ") + s.name;
      return ErrorAt(n, fmt::format("unknown name '{}': {} can use {}", PathText(n.path),
                                    scope_.role, names.empty() ? "no names" : names));
    }
    Types types = Types::kAny;
    if (known != nullptr) {
      types = n.path.size() == 1 ? known->types | Types::kNull : Types::kAny;
      if (std::find(names_.begin(), names_.end(), top) == names_.end()) names_.push_back(top);
    } else if (std::find(fields_.begin(), fields_.end(), top) == fields_.end()) {
      fields_.push_back(top);
    }
    return CompiledCall{std::make_unique<FieldNode>(n.path), types};
  }

  static Status CheckNumeric(const Node& operand, Types t, std::string_view op) {
    if (operand.kind == NodeKind::kLiteral && operand.value.is_string()) {
      if (!ParseNumber(operand.value.as_string())) {
        return ErrorAt(operand, fmt::format("{} needs numbers; '{}' is a string", op,
                                            operand.value.as_string()));
      }
      return Status::OK();
    }
    if (Any(t & (Types::kNumber | Types::kString)) || NonNull(t) == Types::kNone) {
      return Status::OK();
    }
    return ErrorAt(operand, fmt::format("{} needs numbers; got {}", op, DescribeTypes(t)));
  }

  static Status CheckCondition(const Node& operand, Types t, std::string_view op) {
    if (Any(t & Types::kBool) || NonNull(t) == Types::kNone) return Status::OK();
    return ErrorAt(operand, fmt::format("{} needs a condition (true or false); got {}", op,
                                        DescribeTypes(t)));
  }

  Result<CompiledCall> CompileBinary(const Node& n) {
    PULSE_ASSIGN_OR_RETURN(CompiledCall a, Compile(*n.args[0]));
    PULSE_ASSIGN_OR_RETURN(CompiledCall b, Compile(*n.args[1]));
    const std::string op = fmt::format("'{}'", BinaryOpText(n.op));
    switch (n.op) {
      case BinaryOp::kAnd:
      case BinaryOp::kOr:
        PULSE_RETURN_IF_ERROR(CheckCondition(*n.args[0], a.types, op));
        PULSE_RETURN_IF_ERROR(CheckCondition(*n.args[1], b.types, op));
        return CompiledCall{std::make_unique<LogicNode>(n.op == BinaryOp::kAnd,
                                                        std::move(a.eval), std::move(b.eval)),
                            Types::kBool | Types::kNull};
      case BinaryOp::kEq:
      case BinaryOp::kNe:
      case BinaryOp::kLt:
      case BinaryOp::kLe:
      case BinaryOp::kGt:
      case BinaryOp::kGe:
        if (!Comparable(a.types, b.types)) {
          return ErrorAt(n, fmt::format("cannot compare {} with {}", DescribeTypes(a.types),
                                        DescribeTypes(b.types)));
        }
        return CompiledCall{
            std::make_unique<ComparisonNode>(n.op, std::move(a.eval), std::move(b.eval)),
            Types::kBool | Types::kNull};
      case BinaryOp::kConcat:
        return CompiledCall{std::make_unique<ConcatNode>(std::move(a.eval), std::move(b.eval)),
                            Types::kString | Types::kNull};
      default:
        break;
    }
    PULSE_RETURN_IF_ERROR(CheckNumeric(*n.args[0], a.types, op));
    PULSE_RETURN_IF_ERROR(CheckNumeric(*n.args[1], b.types, op));
    const Types result = n.op == BinaryOp::kDiv ? Types::kDouble : Types::kNumber;
    return CompiledCall{
        std::make_unique<ArithmeticNode>(n.op, std::move(a.eval), std::move(b.eval)),
        result | Types::kNull};
  }

  Result<CompiledCall> CompileIn(const Node& n) {
    PULSE_ASSIGN_OR_RETURN(CompiledCall a, Compile(*n.args[0]));
    std::vector<EvalPtr> items;
    for (size_t i = 1; i < n.args.size(); ++i) {
      PULSE_ASSIGN_OR_RETURN(CompiledCall item, Compile(*n.args[i]));
      if (!Comparable(a.types, item.types)) {
        return ErrorAt(*n.args[i], fmt::format("cannot compare {} with {}",
                                               DescribeTypes(a.types),
                                               DescribeTypes(item.types)));
      }
      items.push_back(std::move(item.eval));
    }
    return CompiledCall{std::make_unique<InNode>(n.negated, std::move(a.eval), std::move(items)),
                        Types::kBool | Types::kNull};
  }

  Result<CompiledCall> CompileBetween(const Node& n) {
    PULSE_ASSIGN_OR_RETURN(CompiledCall a, Compile(*n.args[0]));
    PULSE_ASSIGN_OR_RETURN(CompiledCall low, Compile(*n.args[1]));
    PULSE_ASSIGN_OR_RETURN(CompiledCall high, Compile(*n.args[2]));
    for (const CompiledCall* bound : {&low, &high}) {
      if (!Comparable(a.types, bound->types)) {
        return ErrorAt(n, fmt::format("cannot compare {} with {}", DescribeTypes(a.types),
                                      DescribeTypes(bound->types)));
      }
    }
    return CompiledCall{std::make_unique<BetweenNode>(n.negated, std::move(a.eval),
                                                      std::move(low.eval), std::move(high.eval)),
                        Types::kBool | Types::kNull};
  }

  Result<CompiledCall> CompileLike(const Node& n) {
    PULSE_ASSIGN_OR_RETURN(CompiledCall a, Compile(*n.args[0]));
    PULSE_ASSIGN_OR_RETURN(CompiledCall p, Compile(*n.args[1]));
    const std::string_view word = n.case_insensitive ? "'ilike'" : "'like'";
    if (!Any(p.types & Types::kString) && NonNull(p.types) != Types::kNone) {
      return ErrorAt(*n.args[1], fmt::format("{} needs a string pattern; got {}", word,
                                             DescribeTypes(p.types)));
    }
    const Types scalars = Types::kBool | Types::kNumber | Types::kString;
    if (!Any(a.types & scalars) && NonNull(a.types) != Types::kNone) {
      return ErrorAt(*n.args[0], fmt::format("{} needs a string; got {}", word,
                                             DescribeTypes(a.types)));
    }
    std::optional<LikePattern> pattern;
    const Node& pn = *n.args[1];
    if (pn.kind == NodeKind::kLiteral && pn.value.is_string()) {
      pattern.emplace(pn.value.as_string(), n.case_insensitive);
    }
    return CompiledCall{std::make_unique<LikeNode>(n.negated, n.case_insensitive,
                                                   std::move(a.eval), std::move(pattern),
                                                   std::move(p.eval)),
                        Types::kBool | Types::kNull};
  }

  Result<CompiledCall> CompileCase(const Node& n) {
    size_t i = 0;
    EvalPtr operand;
    Types operand_types = Types::kAny;
    if (n.has_operand) {
      PULSE_ASSIGN_OR_RETURN(CompiledCall o, Compile(*n.args[i++]));
      operand = std::move(o.eval);
      operand_types = o.types;
    }
    const size_t end = n.args.size() - (n.has_else ? 1 : 0);
    std::vector<std::pair<EvalPtr, EvalPtr>> whens;
    Types result = n.has_else ? Types::kNone : Types::kNull;
    for (; i + 1 < end; i += 2) {
      PULSE_ASSIGN_OR_RETURN(CompiledCall w, Compile(*n.args[i]));
      PULSE_ASSIGN_OR_RETURN(CompiledCall t, Compile(*n.args[i + 1]));
      if (n.has_operand) {
        if (!Comparable(operand_types, w.types)) {
          return ErrorAt(*n.args[i], fmt::format("cannot compare {} with {}",
                                                 DescribeTypes(operand_types),
                                                 DescribeTypes(w.types)));
        }
      } else {
        PULSE_RETURN_IF_ERROR(CheckCondition(*n.args[i], w.types, "'when'"));
      }
      result = result | t.types;
      whens.emplace_back(std::move(w.eval), std::move(t.eval));
    }
    EvalPtr otherwise;
    if (n.has_else) {
      PULSE_ASSIGN_OR_RETURN(CompiledCall e, Compile(*n.args.back()));
      result = result | e.types;
      otherwise = std::move(e.eval);
    }
    return CompiledCall{
        std::make_unique<CaseNode>(std::move(operand), std::move(whens), std::move(otherwise)),
        result};
  }

  Result<CompiledCall> CompileCall(const Node& n) {
    if (IsAggregateFunction(n.name) && !scope_.aggregates.empty()) {
      const std::string text = ToText(n);
      for (const auto& [call, name] : scope_.aggregates) {
        if (call != text) continue;
        const Scope::Name* known = FindName(name);
        if (std::find(names_.begin(), names_.end(), name) == names_.end()) names_.push_back(name);
        std::vector<PathStep> path = {PathStep{name, 0, false}};
        return CompiledCall{std::make_unique<FieldNode>(std::move(path)),
                            known != nullptr ? known->types | Types::kNull : Types::kAny};
      }
    }
    if (IsAggregateFunction(n.name)) {
      return ErrorAt(n, fmt::format("aggregate function '{}' is not allowed in {}; aggregates "
                                    "go in [ops.aggregates]",
                                    n.name, scope_.role));
    }
    const FunctionDef* f = FindFunction(n.name);
    if (f == nullptr) {
      std::string message = fmt::format("unknown function '{}'", n.name);
      std::vector<std::string_view> names = FunctionNames();
      std::string_view best;
      size_t best_distance = n.name.size() < 6 ? 2 : 3;
      for (std::string_view name : names) {
        const size_t d = EditDistance(n.name, name);
        if (d < best_distance) {
          best_distance = d;
          best = name;
        }
      }
      if (!best.empty()) message += fmt::format(" (did you mean '{}'?)", best);
      return ErrorAt(n, message);
    }
    if (n.distinct) return ErrorAt(n, fmt::format("'distinct' is not allowed in {}()", n.name));
    const int count = static_cast<int>(n.args.size());
    if (count < f->min_args || (f->max_args != kVariadic && count > f->max_args)) {
      return ErrorAt(n, fmt::format("wrong number of arguments to {}: expected {}; got {}",
                                    n.name, f->signature, count));
    }
    std::vector<Arg> args;
    for (const NodePtr& a : n.args) {
      PULSE_ASSIGN_OR_RETURN(CompiledCall c, Compile(*a));
      args.push_back(Arg{a.get(), c.types, std::move(c.eval)});
    }
    return f->make(n, std::move(args));
  }

  static size_t EditDistance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
        diagonal = up;
      }
    }
    return row[b.size()];
  }

  const Scope& scope_;
  std::vector<std::string> fields_;
  std::vector<std::string> names_;
};

}  // namespace
}  // namespace internal

std::string DescribeTypes(Types t) {
  if (t == Types::kAny) return "any value";
  if (t == Types::kNull) return "null";
  static constexpr std::pair<Types, std::string_view> kNames[] = {
      {Types::kBool, "boolean"}, {Types::kInt, "integer"}, {Types::kDouble, "double"},
      {Types::kString, "string"}, {Types::kArray, "array"}, {Types::kObject, "object"}};
  std::vector<std::string_view> names;
  if ((t & Types::kNumber) == Types::kNumber) {
    names.push_back("number");
    t = t & static_cast<Types>(~static_cast<uint8_t>(Types::kNumber));
  }
  for (const auto& [bit, name] : kNames) {
    if (Any(t & bit)) names.push_back(name);
  }
  if (Any(t & Types::kNull)) names.push_back("null");
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out.empty() ? "no value" : out;
}

Result<Compiled> Compiled::Make(const Expr& e, const Scope& scope) {
  internal::Compiler compiler(scope);
  PULSE_ASSIGN_OR_RETURN(internal::CompiledCall c, compiler.Compile(e.node()));
  auto impl = std::make_shared<Impl>();
  impl->root = std::move(c.eval);
  std::vector<std::string> fields = compiler.TakeFields();
  return Compiled(std::move(impl), c.types, std::move(fields), compiler.TakeNames(),
                  e.ToString());
}

Value Compiled::Evaluate(const Record& record) const {
  internal::Datum d;
  impl_->root->Eval(record, &d);
  return d.ToValue();
}

Truth Compiled::Test(const Record& record) const {
  internal::Datum d;
  impl_->root->Eval(record, &d);
  switch (internal::TruthOf(d)) {
    case internal::Tri::kTrue:
      return Truth::kTrue;
    case internal::Tri::kFalse:
      return Truth::kFalse;
    case internal::Tri::kUnknown:
      break;
  }
  return Truth::kUnknown;
}

}  // namespace pulse::expr
