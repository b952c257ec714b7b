// SPDX-License-Identifier: MIT
// Tests of the expression language: parsing, printing, checking and evaluation, each with the
// exact expected value.
#include <gtest/gtest.h>

#include <string>

#include "pulse/core/json.h"
#include "pulse/expr/compiled.h"
#include "pulse/expr/expr.h"
#include "testing/test_util.h"

namespace pulse::expr {
namespace {

constexpr char kRecord[] =
    R"({"a":7,"b":2,"big":9223372036854775807,"x":1.5,"s":"Hello","n":null,"t":true,"f":false,)"
    R"("num":"12","dec":"2.5","word":"abc","user":{"id":42,"name":"Ann"},"tags":["x","y","z"],)"
    R"("path":"/a/b?q=1","host":"Web-01.Example.COM","empty":"","neg":-3})";

Record MakeRecord(const char* json = kRecord, EventTime time = 1700000000123) {
  Result<Value> v = ParseJson(json);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return Record{time, v.ok() ? *v : Value()};
}

Origin TestOrigin() {
  Origin o;
  o.key = "test";
  return o;
}

// The JSON text of `text` evaluated over the test record, or "error: <message>".
std::string Eval(const std::string& text, const char* json = kRecord) {
  Result<Expr> e = Parse(text, TestOrigin());
  if (!e.ok()) return "error: " + e.status().message();
  Result<Compiled> c = Compiled::Make(*e);
  if (!c.ok()) return "error: " + c.status().message();
  return c->Evaluate(MakeRecord(json)).ToJson();
}

std::string Error(const std::string& text) {
  Result<Expr> e = Parse(text, TestOrigin());
  if (!e.ok()) return e.status().message();
  Result<Compiled> c = Compiled::Make(*e);
  if (!c.ok()) return c.status().message();
  return "no error";
}

TEST(ExprTest, Smoke) {
  EXPECT_EQ(Eval("a + b"), "9");
  EXPECT_EQ(Eval("a / b"), "3.5");
  EXPECT_EQ(Eval("lower(s)"), "\"hello\"");
  EXPECT_EQ(Eval("user.id"), "42");
  EXPECT_EQ(Eval("tags[1]"), "\"y\"");
  EXPECT_EQ(Error("a +"), "test:1:4: expected an expression, got the end of the text");
  EXPECT_EQ(Error("lowr(s)"), "test:1:1: unknown function 'lowr' (did you mean 'lower'?)");
}

}  // namespace
}  // namespace pulse::expr
