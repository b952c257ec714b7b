// SPDX-License-Identifier: MIT
// The expression language's lexer and recursive-descent parser (grammar in
// docs/expressions.md), and the positions of its error messages.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "expr/node.h"
#include "pulse/expr/expr.h"

namespace pulse::expr {
namespace {

// Deeper nesting is refused rather than risking the stack on hostile input.
constexpr int kMaxDepth = 200;

enum class Tok : uint8_t { kEnd, kNumber, kString, kIdent, kQuotedIdent, kSymbol };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // symbol text, identifier, string value, number text
  uint32_t offset = 0;
  uint32_t end = 0;
};

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits the text into tokens; the first error stops it.
class Lexer {
 public:
  explicit Lexer(const SourceText& source) : source_(source), text_(source.text) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      Token t;
      t.offset = static_cast<uint32_t>(pos_);
      if (pos_ >= text_.size()) {
        t.end = t.offset;
        tokens.push_back(std::move(t));
        return tokens;
      }
      const char c = text_[pos_];
      if (IsDigit(c) || (c == '.' && pos_ + 1 < text_.size() && IsDigit(text_[pos_ + 1]))) {
        PULSE_RETURN_IF_ERROR(Number(&t));
      } else if (c == '\'') {
        PULSE_RETURN_IF_ERROR(Quoted('\'', Tok::kString, &t));
      } else if (c == '"' || c == '`') {
        PULSE_RETURN_IF_ERROR(Quoted(c, Tok::kQuotedIdent, &t));
      } else if (IsIdentStart(c)) {
        const size_t start = pos_;
        while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
        t.kind = Tok::kIdent;
        t.text = std::string(text_.substr(start, pos_ - start));
      } else {
        PULSE_RETURN_IF_ERROR(Symbol(&t));
      }
      t.end = static_cast<uint32_t>(pos_);
      tokens.push_back(std::move(t));
    }
  }

 private:
  Status Number(Token* t) {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < text_.size() && (text_[p] == '+' || text_[p] == '-')) ++p;
      if (p < text_.size() && IsDigit(text_[p])) {
        pos_ = p;
        while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
      }
    }
    if (pos_ < text_.size() && IsIdentChar(text_[pos_])) {
      return ErrorAtOffset(source_, pos_, fmt::format("unexpected '{}' after the number '{}'",
                                                      text_[pos_],
                                                      text_.substr(start, pos_ - start)));
    }
    t->kind = Tok::kNumber;
    t->text = std::string(text_.substr(start, pos_ - start));
    return Status::OK();
  }

  // 'string' with '' for a quote; "identifier" or `identifier` with the quote doubled.
  Status Quoted(char quote, Tok kind, Token* t) {
    const size_t start = pos_;
    ++pos_;
    std::string value;
    while (true) {
      if (pos_ >= text_.size()) {
        return ErrorAtOffset(source_, start,
                             kind == Tok::kString ? "unterminated string (missing ')"
                                                  : fmt::format("unterminated name (missing {})",
                                                                quote));
      }
      const char c = text_[pos_++];
      if (c == quote) {
        if (pos_ < text_.size() && text_[pos_] == quote) {
          value += quote;
          ++pos_;
          continue;
        }
        break;
      }
      value += c;
    }
    if (kind == Tok::kQuotedIdent && value.empty()) {
      return ErrorAtOffset(source_, start, "empty quoted name");
    }
    t->kind = kind;
    t->text = std::move(value);
    return Status::OK();
  }

  Status Symbol(Token* t) {
    static constexpr std::string_view kTwo[] = {"//", "||", "==", "!=", "<>", "<=", ">=", "::"};
    static constexpr std::string_view kOne = "()[],.+-*/%=<>";
    const std::string_view rest = text_.substr(pos_);
    for (std::string_view two : kTwo) {
      if (rest.substr(0, 2) == two) {
        t->kind = Tok::kSymbol;
        t->text = std::string(two);
        pos_ += 2;
        return Status::OK();
      }
    }
    if (kOne.find(rest[0]) != std::string_view::npos) {
      t->kind = Tok::kSymbol;
      t->text = std::string(1, rest[0]);
      ++pos_;
      return Status::OK();
    }
    if (rest.substr(0, 2) == "&&") {
      return ErrorAtOffset(source_, pos_, "unexpected '&&' (write 'and')");
    }
    if (rest[0] == '!') return ErrorAtOffset(source_, pos_, "unexpected '!' (write 'not')");
    if (rest[0] == ';') return ErrorAtOffset(source_, pos_, "unexpected ';'");
    const unsigned char u = static_cast<unsigned char>(rest[0]);
    if (u < 0x20 || u >= 0x80) {
      return ErrorAtOffset(source_, pos_, fmt::format("unexpected character (byte 0x{:02x})", u));
    }
    return ErrorAtOffset(source_, pos_, fmt::format("unexpected character '{}'", rest[0]));
  }

  const SourceText& source_;
  std::string_view text_;
  size_t pos_ = 0;
};

// Words that cannot name a field unless quoted.
constexpr std::string_view kReserved[] = {
    "and", "or", "not", "in", "between", "like", "ilike", "is", "null", "true", "false",
    "case", "when", "then", "else", "end", "cast", "as", "distinct"};

bool IsReserved(std::string_view lower) {
  return std::find(std::begin(kReserved), std::end(kReserved), lower) != std::end(kReserved);
}

class Parser {
 public:
  Parser(std::shared_ptr<const SourceText> source, std::vector<Token> tokens)
      : source_(std::move(source)), tokens_(std::move(tokens)) {}

  Result<NodePtr> ParseAll() {
    PULSE_ASSIGN_OR_RETURN(NodePtr e, ParseExpr());
    if (Peek().kind != Tok::kEnd) return Unexpected("the end of the expression");
    return e;
  }

  // "<expr> [as <name>]".
  Result<NamedExpr> ParseNamedAll() {
    NamedExpr named;
    PULSE_ASSIGN_OR_RETURN(NodePtr e, ParseExpr());
    named.expr = Expr(e);
    if (IsKeyword("as")) {
      Next();
      const Token& t = Peek();
      if (t.kind == Tok::kQuotedIdent || (t.kind == Tok::kIdent && !IsReserved(Lower(t.text)))) {
        named.name = t.text;
        named.aliased = true;
        Next();
      } else {
        return Unexpected("a name after 'as'");
      }
    } else if (e->kind == NodeKind::kField) {
      // A top-level field is named as the data spells it ("odd name"), a path by its text.
      named.name = e->path.size() == 1 && !e->path[0].is_index ? e->path[0].name
                                                                : PathText(e->path);
    }
    if (Peek().kind != Tok::kEnd) {
      return Unexpected(named.aliased ? "the end of the expression"
                                      : "the end of the expression (or 'as <name>')");
    }
    return named;
  }

  // A field path alone ("user.id", "tags[0]").
  Result<NodePtr> ParsePathAll() {
    const Token& t = Peek();
    if (t.kind != Tok::kIdent && t.kind != Tok::kQuotedIdent) return Unexpected("a field name");
    PULSE_ASSIGN_OR_RETURN(NodePtr e, ParseFieldFrom(Next()));
    if (Peek().kind != Tok::kEnd) return Unexpected("the end of the field path");
    return e;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  const Token& Previous() const { return tokens_[pos_ == 0 ? 0 : pos_ - 1]; }

  bool IsSymbol(std::string_view s, size_t ahead = 0) const {
    return Peek(ahead).kind == Tok::kSymbol && Peek(ahead).text == s;
  }
  bool IsKeyword(std::string_view word, size_t ahead = 0) const {
    const Token& t = Peek(ahead);
    return t.kind == Tok::kIdent && t.text.size() == word.size() && Lower(t.text) == word;
  }

  Status Unexpected(std::string_view expected) const {
    const Token& t = Peek();
    std::string got;
    switch (t.kind) {
      case Tok::kEnd:
        got = "the end of the text";
        break;
      case Tok::kString:
        got = fmt::format("the string '{}'", t.text);
        break;
      case Tok::kQuotedIdent:
        got = fmt::format("the name \"{}\"", t.text);
        break;
      default:
        got = fmt::format("'{}'", t.text);
        break;
    }
    return ErrorAtOffset(*source_, t.offset, fmt::format("expected {}, got {}", expected, got));
  }

  Status Expect(std::string_view symbol) {
    if (!IsSymbol(symbol)) return Unexpected(fmt::format("'{}'", symbol));
    Next();
    return Status::OK();
  }
  Status ExpectKeyword(std::string_view word) {
    if (!IsKeyword(word)) return Unexpected(fmt::format("'{}'", word));
    Next();
    return Status::OK();
  }

  std::shared_ptr<Node> Make(NodeKind kind, uint32_t start) const {
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->source = source_;
    n->offset = start;
    n->length = Previous().end > start ? Previous().end - start : 0;
    return n;
  }
  // Set the length once the node's last token is consumed.
  void Finish(Node* n) const {
    n->length = Previous().end > n->offset ? Previous().end - n->offset : 0;
  }

  struct DepthGuard {
    explicit DepthGuard(int* depth) : depth_(depth) { ++*depth_; }
    ~DepthGuard() { --*depth_; }
    int* depth_;
  };

  Result<NodePtr> ParseExpr() {
    DepthGuard guard(&depth_);
    if (depth_ > kMaxDepth) {
      return ErrorAtOffset(*source_, Peek().offset, "expression nested too deeply");
    }
    return ParseOr();
  }

  Result<NodePtr> Binary(BinaryOp op, NodePtr a, NodePtr b) {
    auto n = std::make_shared<Node>();
    n->kind = NodeKind::kBinary;
    n->op = op;
    n->source = source_;
    n->offset = a->offset;
    n->args = {std::move(a), std::move(b)};
    Finish(n.get());
    return NodePtr(n);
  }

  Result<NodePtr> ParseOr() {
    PULSE_ASSIGN_OR_RETURN(NodePtr left, ParseAnd());
    while (IsKeyword("or")) {
      Next();
      PULSE_ASSIGN_OR_RETURN(NodePtr right, ParseAnd());
      PULSE_ASSIGN_OR_RETURN(left, Binary(BinaryOp::kOr, left, right));
    }
    return left;
  }

  Result<NodePtr> ParseAnd() {
    PULSE_ASSIGN_OR_RETURN(NodePtr left, ParseNot());
    while (IsKeyword("and")) {
      Next();
      PULSE_ASSIGN_OR_RETURN(NodePtr right, ParseNot());
      PULSE_ASSIGN_OR_RETURN(left, Binary(BinaryOp::kAnd, left, right));
    }
    return left;
  }

  Result<NodePtr> ParseNot() {
    if (IsKeyword("not")) {
      const uint32_t start = Next().offset;
      DepthGuard guard(&depth_);
      if (depth_ > kMaxDepth) {
        return ErrorAtOffset(*source_, start, "expression nested too deeply");
      }
      PULSE_ASSIGN_OR_RETURN(NodePtr operand, ParseNot());
      auto n = Make(NodeKind::kNot, start);
      n->args = {std::move(operand)};
      Finish(n.get());
      return NodePtr(n);
    }
    return ParsePredicate();
  }

  // <concat> [comparison | is [not] null | [not] in | [not] between | [not] like]
  Result<NodePtr> ParsePredicate() {
    PULSE_ASSIGN_OR_RETURN(NodePtr left, ParseConcat());
    static constexpr std::pair<std::string_view, BinaryOp> kComparisons[] = {
        {"=", BinaryOp::kEq},  {"==", BinaryOp::kEq}, {"!=", BinaryOp::kNe},
        {"<>", BinaryOp::kNe}, {"<", BinaryOp::kLt},  {"<=", BinaryOp::kLe},
        {">", BinaryOp::kGt},  {">=", BinaryOp::kGe}};
    for (const auto& [symbol, op] : kComparisons) {
      if (IsSymbol(symbol)) {
        Next();
        PULSE_ASSIGN_OR_RETURN(NodePtr right, ParseConcat());
        PULSE_ASSIGN_OR_RETURN(NodePtr cmp, Binary(op, left, right));
        return NoSecondComparison(cmp);
      }
    }
    const uint32_t start = left->offset;
    if (IsKeyword("is")) {
      Next();
      bool negated = false;
      if (IsKeyword("not")) {
        Next();
        negated = true;
      }
      PULSE_RETURN_IF_ERROR(ExpectKeyword("null"));
      auto n = Make(NodeKind::kIsNull, start);
      n->negated = negated;
      n->args = {left};
      Finish(n.get());
      return NoSecondComparison(n);
    }
    bool negated = false;
    if (IsKeyword("not") &&
        (IsKeyword("in", 1) || IsKeyword("between", 1) || IsKeyword("like", 1) ||
         IsKeyword("ilike", 1))) {
      Next();
      negated = true;
    }
    if (IsKeyword("in")) {
      Next();
      PULSE_RETURN_IF_ERROR(Expect("("));
      auto n = Make(NodeKind::kIn, start);
      n->negated = negated;
      n->args.push_back(left);
      while (true) {
        PULSE_ASSIGN_OR_RETURN(NodePtr item, ParseExpr());
        n->args.push_back(std::move(item));
        if (IsSymbol(",")) {
          Next();
          continue;
        }
        PULSE_RETURN_IF_ERROR(Expect(")"));
        break;
      }
      Finish(n.get());
      return NoSecondComparison(n);
    }
    if (IsKeyword("between")) {
      Next();
      PULSE_ASSIGN_OR_RETURN(NodePtr low, ParseConcat());
      PULSE_RETURN_IF_ERROR(ExpectKeyword("and"));
      PULSE_ASSIGN_OR_RETURN(NodePtr high, ParseConcat());
      auto n = Make(NodeKind::kBetween, start);
      n->negated = negated;
      n->args = {left, std::move(low), std::move(high)};
      Finish(n.get());
      return NoSecondComparison(n);
    }
    if (IsKeyword("like") || IsKeyword("ilike")) {
      const bool insensitive = IsKeyword("ilike");
      Next();
      PULSE_ASSIGN_OR_RETURN(NodePtr pattern, ParseConcat());
      auto n = Make(NodeKind::kLike, start);
      n->negated = negated;
      n->case_insensitive = insensitive;
      n->args = {left, std::move(pattern)};
      Finish(n.get());
      return NoSecondComparison(n);
    }
    if (negated) return Unexpected("'in', 'between', 'like' or 'ilike' after 'not'");
    return left;
  }

  // `a < b < c` means nothing in SQL; say so rather than guessing.
  Result<NodePtr> NoSecondComparison(NodePtr n) {
    static constexpr std::string_view kSymbols[] = {"=", "==", "!=", "<>", "<", "<=", ">", ">="};
    for (std::string_view s : kSymbols) {
      if (IsSymbol(s)) {
        return ErrorAtOffset(*source_, Peek().offset,
                             fmt::format("unexpected '{}': comparisons do not chain; combine "
                                         "them with 'and'",
                                         s));
      }
    }
    if (IsKeyword("is") || IsKeyword("in") || IsKeyword("between") || IsKeyword("like")) {
      return ErrorAtOffset(*source_, Peek().offset,
                           fmt::format("unexpected '{}': use parentheses or 'and'", Peek().text));
    }
    return n;
  }

  Result<NodePtr> ParseConcat() {
    PULSE_ASSIGN_OR_RETURN(NodePtr left, ParseAdditive());
    while (IsSymbol("||")) {
      Next();
      PULSE_ASSIGN_OR_RETURN(NodePtr right, ParseAdditive());
      PULSE_ASSIGN_OR_RETURN(left, Binary(BinaryOp::kConcat, left, right));
    }
    return left;
  }

  Result<NodePtr> ParseAdditive() {
    PULSE_ASSIGN_OR_RETURN(NodePtr left, ParseMultiplicative());
    while (IsSymbol("+") || IsSymbol("-")) {
      const BinaryOp op = Next().text == "+" ? BinaryOp::kAdd : BinaryOp::kSub;
      PULSE_ASSIGN_OR_RETURN(NodePtr right, ParseMultiplicative());
      PULSE_ASSIGN_OR_RETURN(left, Binary(op, left, right));
    }
    return left;
  }

  Result<NodePtr> ParseMultiplicative() {
    PULSE_ASSIGN_OR_RETURN(NodePtr left, ParseUnary());
    while (IsSymbol("*") || IsSymbol("/") || IsSymbol("//") || IsSymbol("%")) {
      const std::string symbol = Next().text;
      const BinaryOp op = symbol == "*"    ? BinaryOp::kMul
                          : symbol == "/"  ? BinaryOp::kDiv
                          : symbol == "//" ? BinaryOp::kIntDiv
                                           : BinaryOp::kMod;
      PULSE_ASSIGN_OR_RETURN(NodePtr right, ParseUnary());
      PULSE_ASSIGN_OR_RETURN(left, Binary(op, left, right));
    }
    return left;
  }

  Result<NodePtr> ParseUnary() {
    if (IsSymbol("-") || IsSymbol("+")) {
      const Token& sign = Next();
      const bool minus = sign.text == "-";
      const uint32_t start = sign.offset;
      DepthGuard guard(&depth_);
      if (depth_ > kMaxDepth) {
        return ErrorAtOffset(*source_, start, "expression nested too deeply");
      }
      // A negative number literal, so that -9223372036854775808 is an integer.
      if (minus && Peek().kind == Tok::kNumber && !IsSymbol("::", 1)) {
        const Token& number = Next();
        auto n = Make(NodeKind::kLiteral, start);
        PULSE_ASSIGN_OR_RETURN(n->value, NumberValue("-" + number.text, number.offset));
        Finish(n.get());
        return NodePtr(n);
      }
      PULSE_ASSIGN_OR_RETURN(NodePtr operand, ParseUnary());
      if (!minus) return operand;
      auto n = Make(NodeKind::kNeg, start);
      n->args = {std::move(operand)};
      Finish(n.get());
      return NodePtr(n);
    }
    return ParsePostfix();
  }

  // <primary> ['::' type]...
  Result<NodePtr> ParsePostfix() {
    PULSE_ASSIGN_OR_RETURN(NodePtr e, ParsePrimary());
    while (IsSymbol("::")) {
      Next();
      PULSE_ASSIGN_OR_RETURN(CastType type, ParseType());
      auto n = Make(NodeKind::kCast, e->offset);
      n->cast = type;
      n->args = {std::move(e)};
      Finish(n.get());
      e = n;
    }
    return e;
  }

  Result<CastType> ParseType() {
    const Token& t = Peek();
    if (t.kind == Tok::kIdent) {
      const std::string word = Lower(t.text);
      static constexpr std::pair<std::string_view, CastType> kTypes[] = {
          {"int", CastType::kInt},        {"integer", CastType::kInt},
          {"bigint", CastType::kInt},     {"long", CastType::kInt},
          {"double", CastType::kDouble},  {"float", CastType::kDouble},
          {"real", CastType::kDouble},    {"string", CastType::kString},
          {"varchar", CastType::kString}, {"text", CastType::kString},
          {"bool", CastType::kBool},      {"boolean", CastType::kBool}};
      for (const auto& [name, type] : kTypes) {
        if (word == name) {
          Next();
          return type;
        }
      }
    }
    return Unexpected("a type (int, double, string or boolean)");
  }

  Result<Value> NumberValue(const std::string& text, uint32_t offset) const {
    const bool integral = text.find_first_of(".eE") == std::string::npos;
    if (integral) {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && end == text.data() + text.size()) return Value(v);
    }
    double d = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(d)) {
      return ErrorAtOffset(*source_, offset, fmt::format("number '{}' is out of range", text));
    }
    return Value(d);
  }

  Result<NodePtr> ParsePrimary() {
    const Token& t = Peek();
    const uint32_t start = t.offset;
    switch (t.kind) {
      case Tok::kNumber: {
        Next();
        auto n = Make(NodeKind::kLiteral, start);
        PULSE_ASSIGN_OR_RETURN(n->value, NumberValue(t.text, start));
        return NodePtr(n);
      }
      case Tok::kString: {
        Next();
        auto n = Make(NodeKind::kLiteral, start);
        n->value = Value(t.text);
        return NodePtr(n);
      }
      case Tok::kQuotedIdent:
        return ParseFieldFrom(Next());
      case Tok::kIdent:
        break;
      case Tok::kSymbol:
        if (t.text == "(") {
          Next();
          PULSE_ASSIGN_OR_RETURN(NodePtr inner, ParseExpr());
          PULSE_RETURN_IF_ERROR(Expect(")"));
          return inner;
        }
        // The * of count(*): alone in an argument list.
        if (t.text == "*" && Previous().text == "(" && IsSymbol(")", 1)) {
          Next();
          return NodePtr(Make(NodeKind::kStar, start));
        }
        return Unexpected("an expression");
      case Tok::kEnd:
        return Unexpected("an expression");
    }
    const std::string word = Lower(t.text);
    if (word == "null" || word == "true" || word == "false") {
      Next();
      auto n = Make(NodeKind::kLiteral, start);
      n->value = word == "null" ? Value() : Value(word == "true");
      return NodePtr(n);
    }
    if (word == "case") return ParseCase();
    if (word == "cast") {
      Next();
      PULSE_RETURN_IF_ERROR(Expect("("));
      PULSE_ASSIGN_OR_RETURN(NodePtr operand, ParseExpr());
      PULSE_RETURN_IF_ERROR(ExpectKeyword("as"));
      PULSE_ASSIGN_OR_RETURN(CastType type, ParseType());
      PULSE_RETURN_IF_ERROR(Expect(")"));
      auto n = Make(NodeKind::kCast, start);
      n->cast = type;
      n->args = {std::move(operand)};
      return NodePtr(n);
    }
    if (IsSymbol("(", 1)) return ParseCall();
    if (IsReserved(word)) {
      return ErrorAtOffset(*source_, start,
                           fmt::format("unexpected '{}' (a field with this name must be quoted: "
                                       "\"{}\")",
                                       t.text, t.text));
    }
    return ParseFieldFrom(Next());
  }

  Result<NodePtr> ParseCase() {
    const uint32_t start = Next().offset;
    auto n = Make(NodeKind::kCase, start);
    if (!IsKeyword("when")) {
      PULSE_ASSIGN_OR_RETURN(NodePtr operand, ParseExpr());
      n->args.push_back(std::move(operand));
      n->has_operand = true;
    }
    if (!IsKeyword("when")) return Unexpected("'when'");
    while (IsKeyword("when")) {
      Next();
      PULSE_ASSIGN_OR_RETURN(NodePtr when, ParseExpr());
      PULSE_RETURN_IF_ERROR(ExpectKeyword("then"));
      PULSE_ASSIGN_OR_RETURN(NodePtr then, ParseExpr());
      n->args.push_back(std::move(when));
      n->args.push_back(std::move(then));
    }
    if (IsKeyword("else")) {
      Next();
      PULSE_ASSIGN_OR_RETURN(NodePtr otherwise, ParseExpr());
      n->args.push_back(std::move(otherwise));
      n->has_else = true;
    }
    PULSE_RETURN_IF_ERROR(ExpectKeyword("end"));
    Finish(n.get());
    return NodePtr(n);
  }

  Result<NodePtr> ParseCall() {
    const Token& name = Next();
    auto n = Make(NodeKind::kCall, name.offset);
    n->name = Lower(name.text);
    Next();  // (
    if (IsKeyword("distinct")) {
      Next();
      n->distinct = true;
    }
    if (!IsSymbol(")")) {
      while (true) {
        PULSE_ASSIGN_OR_RETURN(NodePtr arg, ParseExpr());
        n->args.push_back(std::move(arg));
        if (IsSymbol(",")) {
          Next();
          continue;
        }
        break;
      }
    }
    PULSE_RETURN_IF_ERROR(Expect(")"));
    Finish(n.get());
    return NodePtr(n);
  }

  // A field path starting with the identifier `first`: name ('.' name | '[' index ']')*.
  Result<NodePtr> ParseFieldFrom(const Token& first) {
    auto n = Make(NodeKind::kField, first.offset);
    n->path.push_back(PathStep{first.text, 0, false});
    while (true) {
      if (IsSymbol(".")) {
        Next();
        const Token& t = Peek();
        if (t.kind != Tok::kIdent && t.kind != Tok::kQuotedIdent) {
          return Unexpected("a field name after '.'");
        }
        n->path.push_back(PathStep{Next().text, 0, false});
        continue;
      }
      if (IsSymbol("[")) {
        Next();
        bool minus = false;
        if (IsSymbol("-")) {
          Next();
          minus = true;
        }
        const Token& t = Peek();
        if (t.kind == Tok::kString && !minus) {
          n->path.push_back(PathStep{Next().text, 0, false});
        } else if (t.kind == Tok::kNumber && t.text.find_first_of(".eE") == std::string::npos) {
          int64_t index = 0;
          const std::string text = (minus ? "-" : "") + t.text;
          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
          if (ec != std::errc() || index < std::numeric_limits<int32_t>::min() ||
              index > std::numeric_limits<int32_t>::max()) {
            return ErrorAtOffset(*source_, t.offset, "array index out of range");
          }
          Next();
          n->path.push_back(PathStep{{}, index, true});
        } else {
          return Unexpected("an integer index or a quoted member name in [ ]");
        }
        PULSE_RETURN_IF_ERROR(Expect("]"));
        continue;
      }
      break;
    }
    Finish(n.get());
    return NodePtr(n);
  }

  std::shared_ptr<const SourceText> source_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

std::shared_ptr<const SourceText> MakeSource(std::string_view text, const Origin& origin) {
  auto source = std::make_shared<SourceText>();
  source->text = std::string(text);
  source->origin = origin;
  return source;
}

}  // namespace

Status ErrorAtOffset(const SourceText& source, size_t offset, std::string_view message) {
  int line = source.origin.line;
  int column = source.origin.column;
  const std::string_view text = source.text;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;  // count characters, not UTF-8 continuation bytes
    }
  }
  const Origin& o = source.origin;
  if (o.file.empty()) {
    return Status::InvalidArgument(fmt::format("{}:{}:{}: {}", o.key, line, column, message));
  }
  return Status::InvalidArgument(
      fmt::format("{}:{}:{}: {}: {}", o.file, line, column, o.key, message));
}

Status ErrorAt(const Node& node, std::string_view message) {
  if (node.source != nullptr) return ErrorAtOffset(*node.source, node.offset, message);
  return Status::InvalidArgument(fmt::format("{} (in `{}`)", message, ToText(node)));
}

Result<Expr> Parse(std::string_view text, const Origin& origin) {
  std::shared_ptr<const SourceText> source = MakeSource(text, origin);
  PULSE_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lexer(*source).Run());
  Parser parser(source, std::move(tokens));
  PULSE_ASSIGN_OR_RETURN(NodePtr node, parser.ParseAll());
  return Expr(std::move(node));
}

Result<NamedExpr> ParseNamed(std::string_view text, const Origin& origin) {
  std::shared_ptr<const SourceText> source = MakeSource(text, origin);
  PULSE_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lexer(*source).Run());
  Parser parser(source, std::move(tokens));
  return parser.ParseNamedAll();
}

Expr Field(std::string_view path) {
  Origin origin;
  origin.key = "field path";
  std::shared_ptr<const SourceText> source = MakeSource(path, origin);
  Result<std::vector<Token>> tokens = Lexer(*source).Run();
  Result<NodePtr> node = tokens.ok() ? Parser(source, std::move(*tokens)).ParsePathAll()
                                     : Result<NodePtr>(tokens.status());
  if (node.ok()) {
    // A built tree has no source text: its messages quote the tree instead.
    auto built = std::make_shared<Node>(**node);
    built->source = nullptr;
    built->offset = 0;
    built->length = 0;
    return Expr(std::move(built));
  }
  auto bad = std::make_shared<Node>();
  bad->kind = NodeKind::kField;
  bad->path.push_back(PathStep{std::string(path), 0, false});
  bad->error = node.status();
  return Expr(std::move(bad));
}

}  // namespace pulse::expr
