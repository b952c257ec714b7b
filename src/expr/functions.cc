// SPDX-License-Identifier: MIT
// The scalar functions (string, numeric, conditional, time), each with its argument check and
// evaluation, and the names of the aggregate functions.
#include "expr/functions.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "pulse/core/time.h"

namespace pulse::expr::internal {
namespace {

class CallNode;
using CallFn = void (*)(const CallNode& call, const Record& record, Datum* out);

// A call of a scalar function: its arguments and what was fixed when it was compiled (a
// regular expression, a group, a unit, a format).
class CallNode final : public EvalNode {
 public:
  CallNode(CallFn fn, std::vector<Arg> args) : fn_(fn) {
    for (internal::Arg& a : args) args_.push_back(std::move(a.eval));
  }
  void Eval(const Record& record, Datum* out) const override { fn_(*this, record, out); }

  size_t size() const { return args_.size(); }
  void EvalArg(size_t i, const Record& record, Datum* out) const { args_[i]->Eval(record, out); }

  std::shared_ptr<const RE2> regex;  // regexp_*: the compiled literal pattern
  int64_t param = 0;                 // regexp_extract: the group; date_trunc: the unit
  std::string text;                  // format_time: the format; regexp_replace: the rewrite

 private:
  CallFn fn_;
  std::vector<EvalPtr> args_;
};

constexpr Types kScalars = Types::kBool | Types::kNumber | Types::kString;
constexpr Types kNumeric = Types::kNumber | Types::kString;  // strings may hold numbers
constexpr Types kTimes = Types::kNumber | Types::kString;    // epoch ms or RFC 3339 text

Result<CompiledCall> Done(const Node& call, std::vector<Arg> args, CallFn fn, Types types) {
  (void)call;
  return CompiledCall{std::make_unique<CallNode>(fn, std::move(args)), types};
}

// ---- Strings ----

void CaseMap(const CallNode& c, const Record& r, Datum* out, bool upper) {
  Datum a;
  c.EvalArg(0, r, &a);
  std::string buffer;
  std::optional<std::string_view> s = ToText(a, &buffer);
  if (!s) return out->SetNull();
  std::string result(*s);
  for (char& ch : result) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (u < 0x80) ch = static_cast<char>(upper ? std::toupper(u) : std::tolower(u));
  }
  out->SetString(std::move(result));
}

size_t CharCount(std::string_view s) {
  size_t n = 0;
  for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

// The byte offset of character `index` (0-based) of `s`, or s.size() past its end.
size_t ByteOfChar(std::string_view s, int64_t index) {
  size_t i = 0;
  for (int64_t k = 0; k < index && i < s.size(); ++k) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

Result<CompiledCall> MakeStringFunction(const Node& call, std::vector<Arg> args, CallFn fn,
                                        Types result) {
  for (size_t i = 0; i < args.size(); ++i) {
    PULSE_RETURN_IF_ERROR(CheckArg(call, args[i], i, kScalars, "a string"));
  }
  return Done(call, std::move(args), fn, result);
}

Result<CompiledCall> MakeLower(const Node& call, std::vector<Arg> args) {
  return MakeStringFunction(call, std::move(args),
                            [](const CallNode& c, const Record& r, Datum* out) {
                              CaseMap(c, r, out, false);
                            },
                            Types::kString | Types::kNull);
}

Result<CompiledCall> MakeUpper(const Node& call, std::vector<Arg> args) {
  return MakeStringFunction(call, std::move(args),
                            [](const CallNode& c, const Record& r, Datum* out) {
                              CaseMap(c, r, out, true);
                            },
                            Types::kString | Types::kNull);
}

Result<CompiledCall> MakeLength(const Node& call, std::vector<Arg> args) {
  return MakeStringFunction(
      call, std::move(args),
      [](const CallNode& c, const Record& r, Datum* out) {
        Datum a;
        c.EvalArg(0, r, &a);
        std::string buffer;
        std::optional<std::string_view> s = ToText(a, &buffer);
        if (!s) return out->SetNull();
        out->SetInt(static_cast<int64_t>(CharCount(*s)));
      },
      Types::kInt | Types::kNull);
}

// The integer value of an argument (numbers are rounded), or nullopt.
std::optional<int64_t> IntArg(const CallNode& c, size_t i, const Record& r) {
  Datum d;
  c.EvalArg(i, r, &d);
  std::optional<Number> n = ToNumber(d);
  if (!n) return std::nullopt;
  if (n->is_int) return n->i;
  const double rounded = std::round(n->d);
  if (!(rounded >= -9e18 && rounded <= 9e18)) return std::nullopt;
  return static_cast<int64_t>(rounded);
}

// substr(s, start[, length]): characters start .. start+length-1 (1-based), clipped to the
// string, as in PostgreSQL: substr('hello', 0, 2) = 'h'.
Result<CompiledCall> MakeSubstr(const Node& call, std::vector<Arg> args) {
  PULSE_RETURN_IF_ERROR(CheckArg(call, args[0], 0, kScalars, "a string"));
  for (size_t i = 1; i < args.size(); ++i) {
    PULSE_RETURN_IF_ERROR(CheckArg(call, args[i], i, Types::kNumber, "an integer"));
  }
  return Done(call, std::move(args),
              [](const CallNode& c, const Record& r, Datum* out) {
                Datum a;
                c.EvalArg(0, r, &a);
                std::string buffer;
                std::optional<std::string_view> s = ToText(a, &buffer);
                std::optional<int64_t> start = IntArg(c, 1, r);
                if (!s || !start) return out->SetNull();
                const int64_t n = static_cast<int64_t>(CharCount(*s));
                int64_t end = n + 1;  // exclusive, 1-based
                if (c.size() > 2) {
                  std::optional<int64_t> length = IntArg(c, 2, r);
                  if (!length || *length < 0) return out->SetNull();
                  end = *start > std::numeric_limits<int64_t>::max() - *length ? n + 1
                                                                             : *start + *length;
                }
                const int64_t first = std::max<int64_t>(*start, 1);
                const int64_t last = std::min<int64_t>(end, n + 1);
                if (first >= last) return out->SetString(std::string());
                const size_t from = ByteOfChar(*s, first - 1);
                const size_t to = ByteOfChar(*s, last - 1);
                out->SetString(std::string(s->substr(from, to - from)));
              },
              Types::kString | Types::kNull);
}

// concat(a, ...): the texts of the arguments, nulls skipped (arrays and objects as JSON).
Result<CompiledCall> MakeConcat(const Node& call, std::vector<Arg> args) {
  return Done(call, std::move(args),
              [](const CallNode& c, const Record& r, Datum* out) {
                std::string result;
                std::string buffer;
                for (size_t i = 0; i < c.size(); ++i) {
                  Datum a;
                  c.EvalArg(i, r, &a);
                  if (a.kind() == Datum::Kind::kJson) {
                    result += a.json().ToJson();
                  } else if (std::optional<std::string_view> s = ToText(a, &buffer)) {
                    result.append(*s);
                  }
                }
                out->SetString(std::move(result));
              },
              Types::kString);
}

// split_part(s, delimiter, n): the n-th piece (1-based; negative counts from the end); '' when
// there is no such piece; null for n = 0.
Result<CompiledCall> MakeSplitPart(const Node& call, std::vector<Arg> args) {
  PULSE_RETURN_IF_ERROR(CheckArg(call, args[0], 0, kScalars, "a string"));
  PULSE_RETURN_IF_ERROR(CheckArg(call, args[1], 1, kScalars, "a string"));
  PULSE_RETURN_IF_ERROR(CheckArg(call, args[2], 2, Types::kNumber, "an integer"));
  return Done(
      call, std::move(args),
      [](const CallNode& c, const Record& r, Datum* out) {
        Datum a, d;
        c.EvalArg(0, r, &a);
        c.EvalArg(1, r, &d);
        std::string buffer_a, buffer_d;
        std::optional<std::string_view> s = ToText(a, &buffer_a);
        std::optional<std::string_view> delimiter = ToText(d, &buffer_d);
        std::optional<int64_t> n = IntArg(c, 2, r);
        if (!s || !delimiter || !n || *n == 0) return out->SetNull();
        std::vector<std::string_view> parts;
        if (delimiter->empty()) {
          parts.push_back(*s);
        } else {
          size_t start = 0;
          while (true) {
            const size_t at = s->find(*delimiter, start);
            if (at == std::string_view::npos) {
              parts.push_back(s->substr(start));
              break;
            }
            parts.push_back(s->substr(start, at - start));
            start = at + delimiter->size();
          }
        }
        const int64_t count = static_cast<int64_t>(parts.size());
        const int64_t index = *n > 0 ? *n - 1 : count + *n;
        if (index < 0 || index >= count) return out->SetString(std::string());
        out->SetString(std::string(parts[static_cast<size_t>(index)]));
      },
      Types::kString | Types::kNull);
}

// The literal pattern of a regexp_* call, compiled once.
Result<std::shared_ptr<const RE2>> CompileRegex(const Node& call, const Arg& pattern) {
  const Value* literal = LiteralOf(pattern);
  if (literal == nullptr || !literal->is_string()) {
    return ErrorAt(*pattern.node, fmt::format("{} needs its pattern as a string literal",
                                              call.name));
  }
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const RE2>(literal->as_string(), options);
  if (!re->ok()) {
    return ErrorAt(*pattern.node,
                   fmt::format("invalid regular expression: {}", re->error()));
  }
  return std::shared_ptr<const RE2>(std::move(re));
}

Result<CompiledCall> MakeRegexpLike(const Node& call, std::vector<Arg> args) {
  PULSE_RETURN_IF_ERROR(CheckArg(call, args[0], 0, kScalars, "a string"));
  PULSE_ASSIGN_OR_RETURN(std::shared_ptr<const RE2> re, CompileRegex(call, args[1]));
  auto node = std::make_unique<CallNode>(
      [](const CallNode& c, const Record& r, Datum* out) {
        Datum a;
        c.EvalArg(0, r, &a);
        std::string buffer;
        std::optional<std::string_view> s = ToText(a, &buffer);
        if (!s) return out->SetNull();
        out->SetBool(RE2::PartialMatch(*s, *c.regex));
      },
      std::move(args));
  node->regex = std::move(re);
  return CompiledCall{std::move(node), Types::kBool | Types::kNull};
}

// regexp_extract(s, pattern[, group]): the group (0: the whole match) of the first match, or
// null when there is none.
Result<CompiledCall> MakeRegexpExtract(const Node& call, std::vector<Arg> args) {
  PULSE_RETURN_IF_ERROR(CheckArg(call, args[0], 0, kScalars, "a string"));
  PULSE_ASSIGN_OR_RETURN(std::shared_ptr<const RE2> re, CompileRegex(call, args[1]));
  int64_t group = 0;
  if (args.size() > 2) {
    const Value* g = LiteralOf(args[2]);
    if (g == nullptr || !g->is_int()) {
      return ErrorAt(*args[2].node, "regexp_extract needs its group as an integer literal");
    }
    group = g->as_int();
    if (group < 0 || group > re->NumberOfCapturingGroups()) {
      return ErrorAt(*args[2].node,
                     fmt::format("the pattern has no group {} (it has {})", group,
                                 re->NumberOfCapturingGroups()));
    }
  }
  // Groups are read into a fixed array.
  if (group >= 64) return ErrorAt(*args[2].node, "regexp_extract supports groups up to 63");
  auto node = std::make_unique<CallNode>(
      [](const CallNode& c, const Record& r, Datum* out) {
        Datum a;
        c.EvalArg(0, r, &a);
        std::string buffer;
        std::optional<std::string_view> s = ToText(a, &buffer);
        if (!s) return out->SetNull();
        const int groups = static_cast<int>(c.param) + 1;
        std::array<re2::StringPiece, 64> found;
        re2::StringPiece input(s->data(), s->size());
        if (!c.regex->Match(input, 0, input.size(), RE2::UNANCHORED, found.data(), groups) ||
            found[static_cast<size_t>(c.param)].data() == nullptr) {
          return out->SetNull();
        }
        const re2::StringPiece g = found[static_cast<size_t>(c.param)];
        out->SetString(std::string(g.data(), g.size()));
      },
      std::move(args));
  node->regex = std::move(re);
  node->param = group;
  return CompiledCall{std::move(node), Types::kString | Types::kNull};
}

// regexp_replace(s, pattern, replacement): every match replaced (\1 .. \9 refer to groups).
Result<CompiledCall> MakeRegexpReplace(const Node& call, std::vector<Arg> args) {
  PULSE_RETURN_IF_ERROR(CheckArg(call, args[0], 0, kScalars, "a string"));
  PULSE_ASSIGN_OR_RETURN(std::shared_ptr<const RE2> re, CompileRegex(call, args[1]));
  const Value* rewrite = LiteralOf(args[2]);
  if (rewrite == nullptr || !rewrite->is_string()) {
    return ErrorAt(*args[2].node, "regexp_replace needs its replacement as a string literal");
  }
  std::string why;
  if (!re->CheckRewriteString(rewrite->as_string(), &why)) {
    return ErrorAt(*args[2].node, fmt::format("invalid replacement: {}", why));
  }
  std::string text = rewrite->as_string();
  auto node = std::make_unique<CallNode>(
      [](const CallNode& c, const Record& r, Datum* out) {
        Datum a;
        c.EvalArg(0, r, &a);
        std::string buffer;
        std::optional<std::string_view> s = ToText(a, &buffer);
        if (!s) return out->SetNull();
        std::string result(*s);
        RE2::GlobalReplace(&result, *c.regex, c.text);
        out->SetString(std::move(result));
      },
      std::move(args));
  node->regex = std::move(re);
  node->text = std::move(text);
  return CompiledCall{std::move(node), Types::kString | Types::kNull};
}

Result<CompiledCall> MakeReplace(const Node& call, std::vector<Arg> args) {
  return MakeStringFunction(
      call, std::move(args),
      [](const CallNode& c, const Record& r, Datum* out) {
        Datum a, f, t;
        c.EvalArg(0, r, &a);
        c.EvalArg(1, r, &f);
        c.EvalArg(2, r, &t);
        std::string ba, bf, bt;
        std::optional<std::string_view> s = ToText(a, &ba);
        std::optional<std::string_view> from = ToText(f, &bf);
        std::optional<std::string_view> to = ToText(t, &bt);
        if (!s || !from || !to) return out->SetNull();
        if (from->empty()) return out->SetString(std::string(*s));
        std::string result;
        size_t start = 0;
        while (true) {
          const size_t at = s->find(*from, start);
          if (at == std::string_view::npos) break;
          result.append(s->substr(start, at - start));
          result.append(*to);
          start = at + from->size();
        }
        result.append(s->substr(start));
        out->SetString(std::move(result));
      },
      Types::kString | Types::kNull);
}

Result<CompiledCall> MakeTrim(const Node& call, std::vector<Arg> args) {
  return MakeStringFunction(
      call, std::move(args),
      [](const CallNode& c, const Record& r, Datum* out) {
        Datum a;
        c.EvalArg(0, r, &a);
        std::string buffer;
        std::optional<std::string_view> s = ToText(a, &buffer);
        if (!s) return out->SetNull();
        constexpr std::string_view kSpace = " \t\r\n\f\v";
        const size_t first = s->find_first_not_of(kSpace);
        if (first == std::string_view::npos) return out->SetString(std::string());
        const size_t last = s->find_last_not_of(kSpace);
        out->SetString(std::string(s->substr(first, last - first + 1)));
      },
      Types::kString | Types::kNull);
}

// starts_with, ends_with, contains: a test of two texts.
template <int kWhich>
void TextTest(const CallNode& c, const Record& r, Datum* out) {
  Datum a, b;
  c.EvalArg(0, r, &a);
  c.EvalArg(1, r, &b);
  std::string ba, bb;
  std::optional<std::string_view> s = ToText(a, &ba);
  std::optional<std::string_view> p = ToText(b, &bb);
  if (!s || !p) return out->SetNull();
  if (kWhich == 0) return out->SetBool(s->substr(0, p->size()) == *p);
  if (kWhich == 1) {
    return out->SetBool(s->size() >= p->size() && s->substr(s->size() - p->size()) == *p);
  }
  out->SetBool(s->find(*p) != std::string_view::npos);
}

Result<CompiledCall> MakeStartsWith(const Node& call, std::vector<Arg> args) {
  return MakeStringFunction(call, std::move(args), TextTest<0>, Types::kBool | Types::kNull);
}
Result<CompiledCall> MakeEndsWith(const Node& call, std::vector<Arg> args) {
  return MakeStringFunction(call, std::move(args), TextTest<1>, Types::kBool | Types::kNull);
}
Result<CompiledCall> MakeContains(const Node& call, std::vector<Arg> args) {
  return MakeStringFunction(call, std::move(args), TextTest<2>, Types::kBool | Types::kNull);
}

// ---- Conditionals ----

// The union of the arguments' types, null only when every argument may be null.
Types CoalesceTypes(const std::vector<Arg>& args) {
  Types t = Types::kNone;
  bool all_nullable = true;
  for (const Arg& a : args) {
    t = t | NonNull(a.types);
    if (!Any(a.types & Types::kNull)) all_nullable = false;
  }
  return all_nullable ? t | Types::kNull : t;
}

Result<CompiledCall> MakeCoalesce(const Node& call, std::vector<Arg> args) {
  const Types types = CoalesceTypes(args);
  return Done(call, std::move(args),
              [](const CallNode& c, const Record& r, Datum* out) {
                for (size_t i = 0; i < c.size(); ++i) {
                  c.EvalArg(i, r, out);
                  if (!out->is_null()) return;
                }
                out->SetNull();
              },
              types);
}

Result<CompiledCall> MakeNullIf(const Node& call, std::vector<Arg> args) {
  const Types types = args[0].types | Types::kNull;
  return Done(call, std::move(args),
              [](const CallNode& c, const Record& r, Datum* out) {
                Datum b;
                c.EvalArg(0, r, out);
                c.EvalArg(1, r, &b);
                if (!out->is_null() && !b.is_null() && Equal(*out, b)) out->SetNull();
              },
              types);
}

// ---- Numbers ----

Result<CompiledCall> MakeNumeric(const Node& call, std::vector<Arg> args, CallFn fn,
                                 Types result) {
  for (size_t i = 0; i < args.size(); ++i) {
    PULSE_RETURN_IF_ERROR(
        CheckArg(call, args[i], i, kNumeric, "a number", LiteralText::kNumber));
  }
  return Done(call, std::move(args), fn, result);
}

Result<CompiledCall> MakeAbs(const Node& call, std::vector<Arg> args) {
  return MakeNumeric(call, std::move(args),
                     [](const CallNode& c, const Record& r, Datum* out) {
                       Datum a;
                       c.EvalArg(0, r, &a);
                       std::optional<Number> n = ToNumber(a);
                       if (!n) return out->SetNull();
                       if (!n->is_int) return out->SetDouble(std::fabs(n->d));
                       if (n->i == std::numeric_limits<int64_t>::min()) {
                         return out->SetDouble(-static_cast<double>(n->i));
                       }
                       out->SetInt(n->i < 0 ? -n->i : n->i);
                     },
                     Types::kNumber | Types::kNull);
}

// floor and ceil: integers unchanged, doubles to the whole double below or above.
template <bool kCeil>
void FloorCeil(const CallNode& c, const Record& r, Datum* out) {
  Datum a;
  c.EvalArg(0, r, &a);
  std::optional<Number> n = ToNumber(a);
  if (!n) return out->SetNull();
  if (n->is_int) return out->SetInt(n->i);
  out->SetDouble(kCeil ? std::ceil(n->d) : std::floor(n->d));
}

Result<CompiledCall> MakeFloor(const Node& call, std::vector<Arg> args) {
  return MakeNumeric(call, std::move(args), FloorCeil<false>, Types::kNumber | Types::kNull);
}
Result<CompiledCall> MakeCeil(const Node& call, std::vector<Arg> args) {
  return MakeNumeric(call, std::move(args), FloorCeil<true>, Types::kNumber | Types::kNull);
}

// round(x[, digits]): half away from zero. An integer stays an integer (negative digits round
// it to tens, hundreds, ...); a double stays a double.
Result<CompiledCall> MakeRound(const Node& call, std::vector<Arg> args) {
  return MakeNumeric(
      call, std::move(args),
      [](const CallNode& c, const Record& r, Datum* out) {
        Datum a;
        c.EvalArg(0, r, &a);
        std::optional<Number> n = ToNumber(a);
        if (!n) return out->SetNull();
        int64_t digits = 0;
        if (c.size() > 1) {
          std::optional<int64_t> d = IntArg(c, 1, r);
          if (!d) return out->SetNull();
          digits = std::clamp<int64_t>(*d, -20, 20);
        }
        if (n->is_int) {
          if (digits >= 0) return out->SetInt(n->i);
          if (digits <= -19) return out->SetInt(0);
          int64_t scale = 1;
          for (int64_t k = 0; k < -digits; ++k) scale *= 10;
          const int64_t q = n->i / scale;
          const int64_t rem = n->i % scale;
          int64_t rounded = q;
          if (rem >= scale / 2 + scale % 2 && rem > 0) ++rounded;
          if (-rem >= scale / 2 + scale % 2 && rem < 0) --rounded;
          int64_t result = 0;
          if (__builtin_mul_overflow(rounded, scale, &result)) {
            return out->SetDouble(static_cast<double>(rounded) * static_cast<double>(scale));
          }
          return out->SetInt(result);
        }
        if (digits == 0) return out->SetDouble(std::round(n->d));
        const double scale = std::pow(10.0, static_cast<double>(digits));
        const double scaled = n->d * scale;
        if (!std::isfinite(scaled)) return out->SetDouble(n->d);
        out->SetDouble(std::round(scaled) / scale);
      },
      Types::kNumber | Types::kNull);
}

// least/greatest: the smallest/largest non-null argument (null only if all are null), keeping
// its type.
template <bool kGreatest>
void Extreme(const CallNode& c, const Record& r, Datum* out) {
  out->SetNull();
  for (size_t i = 0; i < c.size(); ++i) {
    Datum a;
    c.EvalArg(i, r, &a);
    if (a.is_null()) continue;
    if (out->is_null()) {
      *out = std::move(a);
      continue;
    }
    std::optional<int> cmp = Compare(a, *out);
    if (cmp && (kGreatest ? *cmp > 0 : *cmp < 0)) *out = std::move(a);
  }
}

Result<CompiledCall> MakeLeastGreatest(const Node& call, std::vector<Arg> args, CallFn fn) {
  for (size_t i = 0; i < args.size(); ++i) {
    PULSE_RETURN_IF_ERROR(CheckArg(call, args[i], i, kNumeric | Types::kBool, "a number"));
  }
  const Types types = CoalesceTypes(args);
  return Done(call, std::move(args), fn, types);
}
Result<CompiledCall> MakeLeast(const Node& call, std::vector<Arg> args) {
  return MakeLeastGreatest(call, std::move(args), Extreme<false>);
}
Result<CompiledCall> MakeGreatest(const Node& call, std::vector<Arg> args) {
  return MakeLeastGreatest(call, std::move(args), Extreme<true>);
}

// ---- Time ----

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;

int64_t FloorDivide(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The proleptic Gregorian date of a day count since 1970-01-01 (the era-based method).
struct Civil {
  int64_t year;
  int64_t month;  // 1..12
  int64_t day;    // 1..31
};

Civil CivilOfDays(int64_t days) {
  const int64_t shifted = days + 719468;  // days since 0000-03-01
  const int64_t era = FloorDivide(shifted, 146097);
  const int64_t day_of_era = shifted - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;
  const int64_t day = day_of_year - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  return Civil{era * 400 + year_of_era + (month <= 2 ? 1 : 0), month, day};
}

int64_t DaysOfCivil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = FloorDivide(year, 400);
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

// The epoch ms of a time argument: an integer (or a double, floored), or RFC 3339 text; within
// Pulse's event-time range.
std::optional<int64_t> TimeArg(const CallNode& c, size_t i, const Record& r) {
  if (c.size() <= i) return r.time;  // no argument: the event time
  Datum d;
  c.EvalArg(i, r, &d);
  if (d.kind() == Datum::Kind::kString) {
    if (std::optional<EventTime> t = ParseRfc3339(d.str())) return *t;
  }
  std::optional<Number> n = ToNumber(d);
  if (!n) return std::nullopt;
  const double v = n->is_int ? static_cast<double>(n->i) : std::floor(n->d);
  if (!(v >= static_cast<double>(kMinEventTime) && v <= static_cast<double>(kMaxEventTime))) {
    return std::nullopt;
  }
  return n->is_int ? n->i : static_cast<int64_t>(v);
}

enum class Part : uint8_t { kYear, kMonth, kDay, kHour, kMinute, kSecond, kMillisecond,
                            kDayOfWeek, kDayOfYear };

template <Part kPart>
void TimePart(const CallNode& c, const Record& r, Datum* out) {
  std::optional<int64_t> t = TimeArg(c, 0, r);
  if (!t) return out->SetNull();
  const int64_t days = FloorDivide(*t, kMsPerDay);
  const int64_t ms = *t - days * kMsPerDay;
  const Civil civil = CivilOfDays(days);
  switch (kPart) {
    case Part::kYear:
      return out->SetInt(civil.year);
    case Part::kMonth:
      return out->SetInt(civil.month);
    case Part::kDay:
      return out->SetInt(civil.day);
    case Part::kHour:
      return out->SetInt(ms / kMsPerHour);
    case Part::kMinute:
      return out->SetInt(ms % kMsPerHour / kMsPerMinute);
    case Part::kSecond:
      return out->SetInt(ms % kMsPerMinute / kMsPerSecond);
    case Part::kMillisecond:
      return out->SetInt(ms % kMsPerSecond);
    case Part::kDayOfWeek:
      // 1970-01-01 was a Thursday (ISO 4).
      return out->SetInt((FloorDivide(days + 3, 7) * -7 + days + 3) + 1);
    case Part::kDayOfYear:
      return out->SetInt(days - DaysOfCivil(civil.year, 1, 1) + 1);
  }
}

Result<CompiledCall> MakeTimeFunction(const Node& call, std::vector<Arg> args, CallFn fn) {
  for (size_t i = 0; i < args.size(); ++i) {
    PULSE_RETURN_IF_ERROR(CheckArg(call, args[i], i, kTimes, "a time (epoch ms or RFC 3339)"));
  }
  return Done(call, std::move(args), fn, Types::kInt | Types::kNull);
}

template <Part kPart>
Result<CompiledCall> MakePart(const Node& call, std::vector<Arg> args) {
  return MakeTimeFunction(call, std::move(args), TimePart<kPart>);
}

Result<CompiledCall> MakeEventTime(const Node& call, std::vector<Arg> args) {
  return Done(call, std::move(args),
              [](const CallNode&, const Record& r, Datum* out) { out->SetInt(r.time); },
              Types::kInt);
}

enum class Unit : uint8_t { kMillisecond, kSecond, kMinute, kHour, kDay, kWeek, kMonth,
                            kQuarter, kYear };
constexpr std::pair<std::string_view, Unit> kUnits[] = {
    {"millisecond", Unit::kMillisecond}, {"second", Unit::kSecond}, {"minute", Unit::kMinute},
    {"hour", Unit::kHour},   {"day", Unit::kDay},         {"week", Unit::kWeek},
    {"month", Unit::kMonth}, {"quarter", Unit::kQuarter}, {"year", Unit::kYear}};

// date_trunc(unit, t): the start of t's unit (weeks start on Monday), as epoch ms.
Result<CompiledCall> MakeDateTrunc(const Node& call, std::vector<Arg> args) {
  const Value* unit_text = LiteralOf(args[0]);
  std::optional<Unit> unit;
  if (unit_text != nullptr && unit_text->is_string()) {
    std::string lower = unit_text->as_string();
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (const auto& [name, u] : kUnits) {
      if (lower == name) unit = u;
    }
  }
  if (!unit) {
    return ErrorAt(*args[0].node,
                   "date_trunc needs its unit as a string literal: 'millisecond', 'second', "
                   "'minute', 'hour', 'day', 'week', 'month', 'quarter' or 'year'");
  }
  PULSE_RETURN_IF_ERROR(CheckArg(call, args[1], 1, kTimes, "a time (epoch ms or RFC 3339)"));
  // Evaluate the time argument as argument 0 of the node: drop the unit.
  std::vector<Arg> rest;
  rest.push_back(std::move(args[1]));
  auto node = std::make_unique<CallNode>(
      [](const CallNode& c, const Record& r, Datum* out) {
        std::optional<int64_t> t = TimeArg(c, 0, r);
        if (!t) return out->SetNull();
        const int64_t days = FloorDivide(*t, kMsPerDay);
        auto floor_to = [&](int64_t step) { return FloorDivide(*t, step) * step; };
        switch (static_cast<Unit>(c.param)) {
          case Unit::kMillisecond:
            return out->SetInt(*t);
          case Unit::kSecond:
            return out->SetInt(floor_to(kMsPerSecond));
          case Unit::kMinute:
            return out->SetInt(floor_to(kMsPerMinute));
          case Unit::kHour:
            return out->SetInt(floor_to(kMsPerHour));
          case Unit::kDay:
            return out->SetInt(days * kMsPerDay);
          case Unit::kWeek:
            // Day 0 was a Thursday; Monday is 3 days earlier.
            return out->SetInt((FloorDivide(days + 3, 7) * 7 - 3) * kMsPerDay);
          case Unit::kMonth:
          case Unit::kQuarter:
          case Unit::kYear: {
            const Civil civil = CivilOfDays(days);
            const Unit u = static_cast<Unit>(c.param);
            const int64_t month = u == Unit::kYear      ? 1
                                  : u == Unit::kQuarter ? (civil.month - 1) / 3 * 3 + 1
                                                        : civil.month;
            return out->SetInt(DaysOfCivil(civil.year, month, 1) * kMsPerDay);
          }
        }
      },
      std::move(rest));
  node->param = static_cast<int64_t>(*unit);
  return CompiledCall{std::move(node), Types::kInt | Types::kNull};
}

// format_time(t, format): strftime-style text in UTC: %Y %m %d %H %M %S, %L (milliseconds),
// %j (day of year), %% ; other characters as they are.
Result<CompiledCall> MakeFormatTime(const Node& call, std::vector<Arg> args) {
  PULSE_RETURN_IF_ERROR(CheckArg(call, args[0], 0, kTimes, "a time (epoch ms or RFC 3339)"));
  const Value* format = LiteralOf(args[1]);
  if (format == nullptr || !format->is_string()) {
    return ErrorAt(*args[1].node, "format_time needs its format as a string literal");
  }
  const std::string& f = format->as_string();
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') continue;
    if (i + 1 >= f.size() || std::string_view("YmdHMSLj%").find(f[i + 1]) == std::string::npos) {
      return ErrorAt(*args[1].node,
                     fmt::format("format_time supports %Y %m %d %H %M %S %L %j and %%; got '{}'",
                                 f.substr(i, 2)));
    }
    ++i;
  }
  std::vector<Arg> rest;
  rest.push_back(std::move(args[0]));
  auto node = std::make_unique<CallNode>(
      [](const CallNode& c, const Record& r, Datum* out) {
        std::optional<int64_t> t = TimeArg(c, 0, r);
        if (!t) return out->SetNull();
        const int64_t days = FloorDivide(*t, kMsPerDay);
        const int64_t ms = *t - days * kMsPerDay;
        const Civil civil = CivilOfDays(days);
        std::string result;
        const std::string& f = c.text;
        for (size_t i = 0; i < f.size(); ++i) {
          if (f[i] != '%') {
            result += f[i];
            continue;
          }
          switch (f[++i]) {
            case 'Y':
              result += fmt::format("{:04}", civil.year);
              break;
            case 'm':
              result += fmt::format("{:02}", civil.month);
              break;
            case 'd':
              result += fmt::format("{:02}", civil.day);
              break;
            case 'H':
              result += fmt::format("{:02}", ms / kMsPerHour);
              break;
            case 'M':
              result += fmt::format("{:02}", ms % kMsPerHour / kMsPerMinute);
              break;
            case 'S':
              result += fmt::format("{:02}", ms % kMsPerMinute / kMsPerSecond);
              break;
            case 'L':
              result += fmt::format("{:03}", ms % kMsPerSecond);
              break;
            case 'j':
              result += fmt::format("{:03}", days - DaysOfCivil(civil.year, 1, 1) + 1);
              break;
            default:
              result += '%';
              break;
          }
        }
        out->SetString(std::move(result));
      },
      std::move(rest));
  node->text = f;
  return CompiledCall{std::move(node), Types::kString | Types::kNull};
}

constexpr FunctionDef kFunctions[] = {
    {"lower", 1, 1, MakeLower, "lower(string)"},
    {"upper", 1, 1, MakeUpper, "upper(string)"},
    {"length", 1, 1, MakeLength, "length(string)"},
    {"substr", 2, 3, MakeSubstr, "substr(string, start[, length])"},
    {"substring", 2, 3, MakeSubstr, "substring(string, start[, length])"},
    {"concat", 1, kVariadic, MakeConcat, "concat(value, ...)"},
    {"split_part", 3, 3, MakeSplitPart, "split_part(string, delimiter, n)"},
    {"regexp_extract", 2, 3, MakeRegexpExtract, "regexp_extract(string, 'pattern'[, group])"},
    {"regexp_like", 2, 2, MakeRegexpLike, "regexp_like(string, 'pattern')"},
    {"regexp_replace", 3, 3, MakeRegexpReplace,
     "regexp_replace(string, 'pattern', 'replacement')"},
    {"replace", 3, 3, MakeReplace, "replace(string, from, to)"},
    {"trim", 1, 1, MakeTrim, "trim(string)"},
    {"starts_with", 2, 2, MakeStartsWith, "starts_with(string, prefix)"},
    {"ends_with", 2, 2, MakeEndsWith, "ends_with(string, suffix)"},
    {"contains", 2, 2, MakeContains, "contains(string, part)"},
    {"coalesce", 1, kVariadic, MakeCoalesce, "coalesce(value, ...)"},
    {"nullif", 2, 2, MakeNullIf, "nullif(value, value)"},
    {"abs", 1, 1, MakeAbs, "abs(number)"},
    {"round", 1, 2, MakeRound, "round(number[, digits])"},
    {"floor", 1, 1, MakeFloor, "floor(number)"},
    {"ceil", 1, 1, MakeCeil, "ceil(number)"},
    {"ceiling", 1, 1, MakeCeil, "ceiling(number)"},
    {"least", 1, kVariadic, MakeLeast, "least(value, ...)"},
    {"greatest", 1, kVariadic, MakeGreatest, "greatest(value, ...)"},
    {"event_time", 0, 0, MakeEventTime, "event_time()"},
    {"year", 0, 1, MakePart<Part::kYear>, "year([time])"},
    {"month", 0, 1, MakePart<Part::kMonth>, "month([time])"},
    {"day", 0, 1, MakePart<Part::kDay>, "day([time])"},
    {"hour", 0, 1, MakePart<Part::kHour>, "hour([time])"},
    {"minute", 0, 1, MakePart<Part::kMinute>, "minute([time])"},
    {"second", 0, 1, MakePart<Part::kSecond>, "second([time])"},
    {"millisecond", 0, 1, MakePart<Part::kMillisecond>, "millisecond([time])"},
    {"day_of_week", 0, 1, MakePart<Part::kDayOfWeek>, "day_of_week([time])"},
    {"day_of_year", 0, 1, MakePart<Part::kDayOfYear>, "day_of_year([time])"},
    {"date_trunc", 2, 2, MakeDateTrunc, "date_trunc('unit', time)"},
    {"format_time", 2, 2, MakeFormatTime, "format_time(time, 'format')"},
};

constexpr std::string_view kAggregates[] = {
    "count",    "sum",        "avg",         "mean",      "min",      "max",
    "distinct", "count_distinct", "approx_distinct", "quantile", "percentile", "median",
    "first",    "last",       "top_k",       "stddev",    "stddev_pop", "stddev_samp",
    "variance", "var_pop",    "var_samp"};

}  // namespace

const FunctionDef* FindFunction(std::string_view name) {
  for (const FunctionDef& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<std::string_view> ScalarFunctionNames() {
  std::vector<std::string_view> names;
  for (const FunctionDef& f : kFunctions) names.push_back(f.name);
  return names;
}

std::vector<std::string_view> AggregateFunctionNames() {
  return std::vector<std::string_view>(std::begin(kAggregates), std::end(kAggregates));
}

const Value* LiteralOf(const Arg& arg) {
  return arg.node != nullptr && arg.node->kind == NodeKind::kLiteral ? &arg.node->value
                                                                     : nullptr;
}

Status CheckArg(const Node& call, const Arg& arg, size_t index, Types wanted,
                std::string_view what, LiteralText literal_text) {
  const Value* literal = LiteralOf(arg);
  if (literal != nullptr && literal->is_string() && literal_text == LiteralText::kNumber &&
      !ParseNumber(literal->as_string())) {
    // A number argument given as a string literal must hold a number.
    return ErrorAt(*arg.node, fmt::format("{} expects {} as argument {}; '{}' is not a number",
                                          call.name, what, index + 1, literal->as_string()));
  }
  if (Any(arg.types & wanted) || NonNull(arg.types) == Types::kNone) return Status::OK();
  return ErrorAt(*arg.node, fmt::format("{} expects {} as argument {}; got {}", call.name, what,
                                        index + 1, DescribeTypes(arg.types)));
}

}  // namespace pulse::expr::internal

namespace pulse::expr {

std::vector<std::string_view> FunctionNames() {
  std::vector<std::string_view> names = internal::ScalarFunctionNames();
  for (std::string_view a : internal::AggregateFunctionNames()) names.push_back(a);
  return names;
}

bool IsAggregateFunction(std::string_view name) {
  for (std::string_view a : internal::kAggregates) {
    if (a == name) return true;
  }
  return false;
}

}  // namespace pulse::expr
