// SPDX-License-Identifier: MIT
// Tests of the expression language: parsing, printing, checking and evaluation, each with the
// exact expected value.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

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


struct Case {
  const char* text;
  const char* expected;  // JSON text of the result, or "error: ..."
};

void ExpectAll(const std::vector<Case>& cases) {
  for (const Case& c : cases) EXPECT_EQ(Eval(c.text), c.expected) << c.text;
}

TEST(ExprTest, Literals) {
  ExpectAll({
      {"1", "1"},
      {"-1", "-1"},
      {"1.5", "1.5"},
      {"2.0", "2.0"},
      {"1e3", "1000.0"},
      {".5", "0.5"},
      {"9223372036854775807", "9223372036854775807"},
      {"-9223372036854775808", "-9223372036854775808"},
      {"9223372036854775808", "9.223372036854776e18"},
      {"'it''s'", "\"it's\""},
      {"''", "\"\""},
      {"true", "true"},
      {"FALSE", "false"},
      {"null", "null"},
      {"NULL", "null"},
  });
}

TEST(ExprTest, FieldsAndPaths) {
  ExpectAll({
      {"a", "7"},
      {"x", "1.5"},
      {"s", "\"Hello\""},
      {"n", "null"},
      {"missing", "null"},
      {"user", R"({"id":42,"name":"Ann"})"},
      {"user.id", "42"},
      {"user.name", "\"Ann\""},
      {"user.missing", "null"},
      {"user.id.deeper", "null"},
      {"s.x", "null"},
      {"tags", R"(["x","y","z"])"},
      {"tags[0]", "\"x\""},
      {"tags[2]", "\"z\""},
      {"tags[3]", "null"},
      {"tags[-1]", "\"z\""},
      {"tags[-3]", "\"x\""},
      {"tags[-4]", "null"},
      {"user['name']", "\"Ann\""},
      {"a[0]", "null"},
      {"\"user\".\"id\"", "42"},
      {"`user`.id", "42"},
  });
  EXPECT_EQ(Eval(R"("odd name" + 1)", R"({"odd name":1})"), "2");
  EXPECT_EQ(Eval(R"("end")", R"({"end":"x"})"), "\"x\"");
  EXPECT_EQ(Eval("a.b[1].c", R"({"a":{"b":[{"c":1},{"c":2}]}})"), "2");
}

TEST(ExprTest, IntegerArithmeticStaysInteger) {
  ExpectAll({
      {"a + b", "9"},
      {"a - b", "5"},
      {"a * b", "14"},
      {"a / b", "3.5"},
      {"6 / 3", "2.0"},
      {"a // b", "3"},
      {"-7 // 2", "-3"},
      {"a % b", "1"},
      {"-7 % 2", "-1"},
      {"7 % -2", "1"},
      {"-a", "-7"},
      {"- -a", "7"},
      {"a + b * 2", "11"},
      {"(a + b) * 2", "18"},
      {"a - b - 1", "4"},
      {"2 * 3 % 4", "2"},
  });
}

TEST(ExprTest, IntegerOverflowBecomesDouble) {
  ExpectAll({
      {"big + 1", "9.223372036854776e18"},
      {"big - -1", "9.223372036854776e18"},
      {"big * 2", "1.8446744073709552e19"},
      {"-big - 2", "-9.223372036854776e18"},
      {"-9223372036854775808 // -1", "9.223372036854776e18"},
      {"-(-9223372036854775808)", "9.223372036854776e18"},
      {"-9223372036854775808 % -1", "0"},
      {"big + 0", "9223372036854775807"},
  });
}

TEST(ExprTest, DoubleArithmetic) {
  ExpectAll({
      {"x + 1", "2.5"},
      {"x * 2", "3.0"},
      {"x - a", "-5.5"},
      {"x / 0.5", "3.0"},
      {"x // 1", "1.0"},
      {"-x // 1", "-1.0"},
      {"x % 1", "0.5"},
      {"-x", "-1.5"},
      {"0.1 + 0.2", "0.30000000000000004"},
      {"1e308 * 10", "null"},
  });
}

TEST(ExprTest, DivisionByZeroIsNull) {
  ExpectAll({
      {"a / 0", "null"},
      {"a // 0", "null"},
      {"a % 0", "null"},
      {"x / 0", "null"},
      {"x / 0.0", "null"},
      {"x // 0", "null"},
      {"x % 0", "null"},
  });
}

TEST(ExprTest, ArithmeticWithNullsAndStrings) {
  ExpectAll({
      {"a + n", "null"},
      {"n * 2", "null"},
      {"a + missing", "null"},
      {"null + 1", "null"},
      {"-n", "null"},
      {"num + 1", "13"},
      {"dec * 2", "5.0"},
      {"'12' + 1", "13"},
      {"word + 1", "null"},
      {"t + 1", "null"},
      {"user + 1", "null"},
      {"-word", "null"},
  });
}

TEST(ExprTest, Comparisons) {
  ExpectAll({
      {"a = 7", "true"},
      {"a == 7", "true"},
      {"a != 7", "false"},
      {"a <> 8", "true"},
      {"a < 8", "true"},
      {"a <= 7", "true"},
      {"a > 7", "false"},
      {"a >= 8", "false"},
      {"a = 7.0", "true"},
      {"x > 1", "true"},
      {"x < 1.6", "true"},
      {"big > 9223372036854775806", "true"},
      {"big = 9223372036854775807.0", "false"},
      {"big < 9223372036854775807.0", "true"},
      {"s = 'Hello'", "true"},
      {"s < 'World'", "true"},
      {"s < 'hello'", "true"},
      {"s > ''", "true"},
      {"t = true", "true"},
      {"f < t", "true"},
      {"num = 12", "true"},
      {"num > 5", "true"},
      {"dec = 2.5", "true"},
      {"word = 1", "false"},
      {"word != 1", "true"},
      {"word < 1", "null"},
      {"num = '12'", "true"},
      {"num < '9'", "true"},
      {"t = 1", "false"},
      {"t < 1", "null"},
      {"user = user", "true"},
      {"tags = tags", "true"},
      {"user = tags", "false"},
      {"user < user", "null"},
  });
}

TEST(ExprTest, ComparisonsWithNull) {
  ExpectAll({
      {"n = 1", "null"},
      {"n != 1", "null"},
      {"1 = n", "null"},
      {"n = n", "null"},
      {"missing < 3", "null"},
      {"null = null", "null"},
  });
}

TEST(ExprTest, ThreeValuedLogic) {
  ExpectAll({
      {"true and true", "true"},
      {"true and false", "false"},
      {"true and null", "null"},
      {"false and null", "false"},
      {"null and false", "false"},
      {"null and null", "null"},
      {"true or null", "true"},
      {"null or true", "true"},
      {"false or null", "null"},
      {"false or false", "false"},
      {"null or null", "null"},
      {"not true", "false"},
      {"not false", "true"},
      {"not null", "null"},
      {"not n", "null"},
      {"not a", "null"},
      {"a and true", "null"},
      {"word or false", "null"},
      {"word or true", "true"},
      {"t and not f", "true"},
      {"not a = 7", "false"},
      {"a = 7 or b = 1 and false", "true"},
      {"(a = 7 or b = 1) and false", "false"},
  });
}

TEST(ExprTest, InBetweenIsNull) {
  ExpectAll({
      {"a in (1, 7, 9)", "true"},
      {"a in (1, 2)", "false"},
      {"a not in (1, 2)", "true"},
      {"a not in (7)", "false"},
      {"a in (1, null)", "null"},
      {"a in (7, null)", "true"},
      {"a not in (1, null)", "null"},
      {"n in (1, 2)", "null"},
      {"s in ('Hello', 'x')", "true"},
      {"num in (12)", "true"},
      {"a in (7.0)", "true"},
      {"a between 1 and 7", "true"},
      {"a between 8 and 9", "false"},
      {"a not between 8 and 9", "true"},
      {"a between 7 and 7", "true"},
      {"a between 9 and 1", "false"},
      {"a between null and 9", "null"},
      {"a between null and 5", "false"},
      {"n between 1 and 2", "null"},
      {"s between 'A' and 'Z'", "true"},
      {"n is null", "true"},
      {"missing is null", "true"},
      {"a is null", "false"},
      {"n is not null", "false"},
      {"a is not null", "true"},
      {"user.missing is null", "true"},
      {"a + n is null", "true"},
  });
}

TEST(ExprTest, Like) {
  ExpectAll({
      {"s like 'Hello'", "true"},
      {"s like 'hello'", "false"},
      {"s ilike 'hello'", "true"},
      {"s like 'H%'", "true"},
      {"s like '%lo'", "true"},
      {"s like '%ell%'", "true"},
      {"s like 'H_llo'", "true"},
      {"s like 'H_lo'", "false"},
      {"s like '%'", "true"},
      {"empty like '%'", "true"},
      {"empty like '_'", "false"},
      {"s not like 'H%'", "false"},
      {"s not ilike 'x%'", "true"},
      {"n like '%'", "null"},
      {"s like n", "null"},
      {"a like '7'", "true"},
      {"path like '/a/%?q=_'", "true"},
      {"'100%' like '100\\%'", "true"},
      {"'100x' like '100\\%'", "false"},
      {"'a_b' like 'a\\_b'", "true"},
      {"'aXb' like 'a\\_b'", "false"},
      {"'mississippi' like '%iss%ppi'", "true"},
      {"'mississippi' like 'm%s%s%i'", "true"},
      {"'mississippi' like 'm%x%'", "false"},
  });
  EXPECT_EQ(Eval("u like '_b'", R"({"u":"éb"})"), "true");
  EXPECT_EQ(Eval("u like '__b'", R"({"u":"éb"})"), "false");
}

TEST(ExprTest, Case) {
  ExpectAll({
      {"case when a > 5 then 'big' else 'small' end", "\"big\""},
      {"case when a > 50 then 'big' else 'small' end", "\"small\""},
      {"case when a > 50 then 'big' end", "null"},
      {"case when n then 1 when true then 2 end", "2"},
      {"case when a > 1 then 1 when a > 0 then 2 end", "1"},
      {"case a when 1 then 'one' when 7 then 'seven' else 'other' end", "\"seven\""},
      {"case a when 1 then 'one' end", "null"},
      {"case n when null then 'null' else 'no match' end", "\"no match\""},
      {"case s when 'Hello' then x end", "1.5"},
      {"case when word then 1 else 2 end", "2"},
  });
}

TEST(ExprTest, Coalesce) {
  ExpectAll({
      {"coalesce(n, a)", "7"},
      {"coalesce(missing, n, 'x')", "\"x\""},
      {"coalesce(a, 1)", "7"},
      {"coalesce(n)", "null"},
      {"coalesce(n, missing)", "null"},
      {"coalesce(user.missing, user.id)", "42"},
      {"nullif(a, 7)", "null"},
      {"nullif(a, 8)", "7"},
      {"nullif(n, 1)", "null"},
      {"nullif(a, n)", "7"},
  });
}

TEST(ExprTest, Casts) {
  ExpectAll({
      {"cast(a as double)", "7.0"},
      {"cast(a as string)", "\"7\""},
      {"cast(a as boolean)", "true"},
      {"cast(0 as bool)", "false"},
      {"cast(x as int)", "2"},
      {"cast(-1.5 as int)", "-2"},
      {"cast(1.4 as int)", "1"},
      {"cast(x as string)", "\"1.5\""},
      {"cast(2.0 as string)", "\"2.0\""},
      {"cast(1e300 as int)", "null"},
      {"cast(num as int)", "12"},
      {"cast(dec as int)", "3"},
      {"cast(dec as double)", "2.5"},
      {"cast(num as double)", "12.0"},
      {"cast(word as int)", "null"},
      {"cast(word as double)", "null"},
      {"cast(s as string)", "\"Hello\""},
      {"cast('TRUE' as boolean)", "true"},
      {"cast('no' as boolean)", "false"},
      {"cast('maybe' as boolean)", "null"},
      {"cast(t as int)", "1"},
      {"cast(f as double)", "0.0"},
      {"cast(t as string)", "\"true\""},
      {"cast(n as int)", "null"},
      {"cast(user as string)", R"("{\"id\":42,\"name\":\"Ann\"}")"},
      {"cast(tags as int)", "null"},
      {"a::string", "\"7\""},
      {"num::int + 1", "13"},
      {"x::int", "2"},
  });
}

TEST(ExprTest, StringFunctions) {
  ExpectAll({
      {"lower(s)", "\"hello\""},
      {"upper(s)", "\"HELLO\""},
      {"lower(host)", "\"web-01.example.com\""},
      {"lower(n)", "null"},
      {"lower(a)", "\"7\""},
      {"upper(x)", "\"1.5\""},
      {"lower(user)", "null"},
      {"length(s)", "5"},
      {"length(empty)", "0"},
      {"length(n)", "null"},
      {"length(a)", "1"},
      {"substr(s, 2)", "\"ello\""},
      {"substr(s, 2, 3)", "\"ell\""},
      {"substr(s, 0, 2)", "\"H\""},
      {"substr(s, -1, 3)", "\"H\""},
      {"substr(s, 4, 10)", "\"lo\""},
      {"substr(s, 6)", "\"\""},
      {"substr(s, 2, 0)", "\"\""},
      {"substr(s, 2, -1)", "null"},
      {"substr(n, 1)", "null"},
      {"substr(s, n)", "null"},
      {"substring(s, 1, 1)", "\"H\""},
      {"concat(s, '-', a)", "\"Hello-7\""},
      {"concat(s, n, '!')", "\"Hello!\""},
      {"concat(n)", "\"\""},
      {"concat(x, t)", "\"1.5true\""},
      {"concat('t=', tags)", R"("t=[\"x\",\"y\",\"z\"]")"},
      {"s || ' ' || a", "\"Hello 7\""},
      {"s || n", "null"},
      {"split_part(path, '?', 1)", "\"/a/b\""},
      {"split_part(path, '?', 2)", "\"q=1\""},
      {"split_part(path, '?', 3)", "\"\""},
      {"split_part(path, '/', -1)", "\"b?q=1\""},
      {"split_part(path, '/', -3)", "\"\""},
      {"split_part(path, '/', -4)", "\"\""},
      {"split_part(path, '', 1)", "\"/a/b?q=1\""},
      {"split_part(path, '', 2)", "\"\""},
      {"split_part(path, '?', 0)", "null"},
      {"split_part(n, '?', 1)", "null"},
      {"replace(path, '/', '|')", "\"|a|b?q=1\""},
      {"replace(s, '', 'x')", "\"Hello\""},
      {"replace(s, 'l', '')", "\"Heo\""},
      {"trim('  a b \t')", "\"a b\""},
      {"trim('   ')", "\"\""},
      {"starts_with(s, 'He')", "true"},
      {"starts_with(s, 'he')", "false"},
      {"ends_with(s, 'lo')", "true"},
      {"ends_with(s, 'Hello!')", "false"},
      {"contains(host, '01')", "true"},
      {"contains(host, n)", "null"},
  });
  EXPECT_EQ(Eval("length(u)", R"({"u":"héllo→"})"), "6");
  EXPECT_EQ(Eval("substr(u, 2, 2)", R"({"u":"héllo"})"), "\"él\"");
  EXPECT_EQ(Eval("upper(u)", R"({"u":"héllo"})"), "\"HéLLO\"");
}

TEST(ExprTest, RegularExpressions) {
  ExpectAll({
      {"regexp_like(host, '^web-[0-9]+')", "false"},
      {"regexp_like(host, '(?i)^web-[0-9]+')", "true"},
      {"regexp_like(n, 'x')", "null"},
      {"regexp_like(a, '^7$')", "true"},
      {"regexp_extract(host, '[0-9]+')", "\"01\""},
      {"regexp_extract(path, 'q=([0-9]+)', 1)", "\"1\""},
      {"regexp_extract(path, 'q=([0-9]+)', 0)", "\"q=1\""},
      {"regexp_extract(path, 'z=([0-9]+)', 1)", "null"},
      {"regexp_extract(path, '(x)?/a', 1)", "null"},
      {"regexp_extract(n, 'x')", "null"},
      {"regexp_replace(host, '[0-9]', '#')", "\"Web-##.Example.COM\""},
      {"regexp_replace(path, '/(\\w)', '<\\1>')", "\"<a><b>?q=1\""},
  });
}

TEST(ExprTest, NumericFunctions) {
  ExpectAll({
      {"abs(neg)", "3"},
      {"abs(a)", "7"},
      {"abs(-1.5)", "1.5"},
      {"abs(n)", "null"},
      {"abs(-9223372036854775808)", "9.223372036854776e18"},
      {"abs(num)", "12"},
      {"abs(word)", "null"},
      {"round(x)", "2.0"},
      {"round(-1.5)", "-2.0"},
      {"round(2.345, 2)", "2.35"},
      {"round(1.25, 1)", "1.3"},
      {"round(a)", "7"},
      {"round(1234, -2)", "1200"},
      {"round(1250, -2)", "1300"},
      {"round(-1250, -2)", "-1300"},
      {"round(-1249, -2)", "-1200"},
      {"round(15, -1)", "20"},
      {"round(a, 2)", "7"},
      {"round(1234.5, -2)", "1200.0"},
      {"round(n)", "null"},
      {"round(x, n)", "null"},
      {"floor(x)", "1.0"},
      {"floor(-1.5)", "-2.0"},
      {"floor(a)", "7"},
      {"ceil(x)", "2.0"},
      {"ceil(-1.5)", "-1.0"},
      {"ceiling(a)", "7"},
      {"floor(n)", "null"},
      {"floor(dec)", "2.0"},
      {"least(a, b, x)", "1.5"},
      {"least(a, b)", "2"},
      {"greatest(a, b, x)", "7"},
      {"greatest(a, 7.5)", "7.5"},
      {"least(a, n, b)", "2"},
      {"greatest(n, missing)", "null"},
      {"least('b', 'a')", "\"a\""},
  });
}

TEST(ExprTest, TimeFunctions) {
  // The record's event time is 1700000000123 = 2023-11-14T22:13:20.123Z, a Tuesday.
  ExpectAll({
      {"event_time()", "1700000000123"},
      {"year()", "2023"},
      {"month()", "11"},
      {"day()", "14"},
      {"hour()", "22"},
      {"minute()", "13"},
      {"second()", "20"},
      {"millisecond()", "123"},
      {"day_of_week()", "2"},
      {"day_of_year()", "318"},
      {"hour(event_time() + 7200000)", "0"},
      {"day(event_time() + 7200000)", "15"},
      {"year(0)", "1970"},
      {"day_of_week(0)", "4"},
      {"year(-1)", "1969"},
      {"month(-1)", "12"},
      {"day(-1)", "31"},
      {"hour(-1)", "23"},
      {"day_of_week(-1)", "3"},
      {"year('2024-02-29T12:00:00Z')", "2024"},
      {"day_of_year('2024-12-31T00:00:00Z')", "366"},
      {"hour('2024-02-29T12:00:00+02:00')", "10"},
      {"year('not a time')", "null"},
      {"year(n)", "null"},
      {"year(1e300)", "null"},
      {"date_trunc('hour', event_time())", "1699999200000"},
      {"date_trunc('minute', event_time())", "1699999980000"},
      {"date_trunc('second', event_time())", "1700000000000"},
      {"date_trunc('millisecond', event_time())", "1700000000123"},
      {"date_trunc('day', event_time())", "1699920000000"},
      {"date_trunc('week', event_time())", "1699833600000"},
      {"date_trunc('month', event_time())", "1698796800000"},
      {"date_trunc('quarter', event_time())", "1696118400000"},
      {"date_trunc('year', event_time())", "1672531200000"},
      {"date_trunc('DAY', -1)", "-86400000"},
      {"date_trunc('week', 0)", "-259200000"},
      {"date_trunc('hour', n)", "null"},
      {"format_time(event_time(), '%Y-%m-%dT%H:%M:%S.%LZ')", "\"2023-11-14T22:13:20.123Z\""},
      {"format_time(0, '%j %% %Y')", "\"001 % 1970\""},
      {"format_time(n, '%Y')", "null"},
  });
}

TEST(ExprTest, Printing) {
  const char* texts[] = {
      "a + b * 2",
      "(a + b) * 2",
      "a - (b - 1)",
      "a - b - 1",
      "not (a = 1 or b = 2)",
      "a = 1 and (b = 2 or c = 3)",
      "status >= 500 and method in ('GET', 'POST')",
      "lower(host)",
      "count(distinct user)",
      "count(*)",
      "x is not null",
      "s not like 'a%'",
      "s ilike 'a%'",
      "a not between 1 and 2",
      "case when a > 1 then 'x' else 'y' end",
      "case a when 1 then 2 end",
      "cast(a as double)",
      "user.id + tags[0]",
      "\"odd name\" + 1",
      "\"end\"",
      "a - -5",
      "-(a + b)",
      "'it''s'",
      "1.5e-7 + 1e16",
      "a || b || c",
  };
  for (const char* text : texts) {
    ASSERT_OK_AND_ASSIGN(Expr e, Parse(text, TestOrigin()));
    EXPECT_EQ(e.ToString(), text);
  }
  ASSERT_OK_AND_ASSIGN(Expr e, Parse("A+B*2 AND Lower(X)='y' OR x::INT<>1", TestOrigin()));
  EXPECT_EQ(e.ToString(), "A + B * 2 and lower(X) = 'y' or cast(x as int) != 1");
}

TEST(ExprTest, Builders) {
  Expr e = Field("status").Ge(Lit(500)).And(Field("method").In({Lit("GET"), Lit("POST")}));
  EXPECT_EQ(e.ToString(), "status >= 500 and method in ('GET', 'POST')");
  EXPECT_EQ((Field("a") + Field("b") * Lit(2)).ToString(), "a + b * 2");
  EXPECT_EQ(((Field("a") + Field("b")) * Lit(2)).ToString(), "(a + b) * 2");
  EXPECT_EQ(Not(Field("x").IsNull()).ToString(), "not x is null");
  EXPECT_EQ(Call("LOWER", {Field("user.name")}).ToString(), "lower(user.name)");
  EXPECT_EQ(Field("tags[0]").Like("x%").ToString(), "tags[0] like 'x%'");
  EXPECT_EQ(Field("a").Between(Lit(1), Lit(2)).ToString(), "a between 1 and 2");
  EXPECT_EQ(Field("a").Cast(CastType::kString).ToString(), "cast(a as string)");
  EXPECT_EQ(Call("count", {Star()}).ToString(), "count(*)");
  EXPECT_EQ((-Field("a")).ToString(), "-a");
  EXPECT_EQ(Field("a").Eq(Lit(Value())).ToString(), "a = null");

  ASSERT_OK_AND_ASSIGN(Compiled c, Compiled::Make(e));
  EXPECT_EQ(c.Test(MakeRecord(R"({"status":503,"method":"GET"})")), Truth::kTrue);
  EXPECT_EQ(c.Test(MakeRecord(R"({"status":200,"method":"GET"})")), Truth::kFalse);
  EXPECT_EQ(c.Test(MakeRecord(R"({"method":"GET"})")), Truth::kUnknown);
  EXPECT_EQ(c.fields(), (std::vector<std::string>{"status", "method"}));

  Result<Compiled> bad = Compiled::Make(Field("a..b"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "field path:1:3: expected a field name after '.', got '.'");
  Result<Compiled> typed = Compiled::Make(Call("lower", {Field("a")}) * Lit(true));
  ASSERT_FALSE(typed.ok());
  EXPECT_EQ(typed.status().message(), "'*' needs numbers; got boolean (in `true`)");
}

TEST(ExprTest, SyntaxErrorsPointAtTheCharacter) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"a +", "test:1:4: expected an expression, got the end of the text"},
      {"a + * b", "test:1:5: expected an expression, got '*'"},
      {"(a + b", "test:1:7: expected ')', got the end of the text"},
      {"a b", "test:1:3: expected the end of the expression, got 'b'"},
      {"'abc", "test:1:1: unterminated string (missing ')"},
      {"\"abc", "test:1:1: unterminated name (missing \")"},
      {"a && b", "test:1:3: unexpected '&&' (write 'and')"},
      {"!a", "test:1:1: unexpected '!' (write 'not')"},
      {"a # b", "test:1:3: unexpected character '#'"},
      {"a < b < c", "test:1:7: unexpected '<': comparisons do not chain; combine them with "
                    "'and'"},
      {"a is 5", "test:1:6: expected 'null', got '5'"},
      {"a not 5", "test:1:3: expected the end of the expression, got 'not'"},
      {"a in 1, 2", "test:1:6: expected '(', got '1'"},
      {"a between 1", "test:1:12: expected 'and', got the end of the text"},
      {"case a end", "test:1:8: expected 'when', got 'end'"},
      {"case when a then b", "test:1:19: expected 'end', got the end of the text"},
      {"cast(a as date)", "test:1:11: expected a type (int, double, string or boolean), got "
                          "'date'"},
      {"end + 1", "test:1:1: unexpected 'end' (a field with this name must be quoted: \"end\")"},
      {"12abc", "test:1:3: unexpected 'a' after the number '12'"},
      {"tags[x]", "test:1:6: expected an integer index or a quoted member name in [ ], got 'x'"},
      {"user.", "test:1:6: expected a field name after '.', got the end of the text"},
      {"1e999", "test:1:1: number '1e999' is out of range"},
      {"", "test:1:1: expected an expression, got the end of the text"},
      {"\"\"", "test:1:1: empty quoted name"},
  };
  for (const auto& [text, message] : cases) EXPECT_EQ(Error(text), message) << text;
}

TEST(ExprTest, PositionsInTheFile) {
  Origin o;
  o.file = "pipeline.toml";
  o.key = "ops.where";
  o.line = 4;
  o.column = 10;
  Result<Expr> e = Parse("status >= 500 and\n  lowr(x) = 1", o);
  ASSERT_OK(e.status());
  Result<Compiled> c = Compiled::Make(*e);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "pipeline.toml:5:3: ops.where: unknown function 'lowr' (did you mean 'lower'?)");
  Result<Expr> bad = Parse("é = @", o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "pipeline.toml:4:10: ops.where: unexpected character (byte 0xc3)");
  Result<Expr> later = Parse("'é' = @", o);
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.status().message(), "pipeline.toml:4:16: ops.where: unexpected character '@'");
}

TEST(ExprTest, TypeErrors) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"'a' + 1", "test:1:1: '+' needs numbers; 'a' is a string"},
      {"1 - true", "test:1:5: '-' needs numbers; got boolean"},
      {"-'x'", "test:1:2: '-' needs numbers; 'x' is a string"},
      {"not 3", "test:1:5: 'not' needs a condition (true or false); got integer"},
      {"a and 'x'", "test:1:7: 'and' needs a condition (true or false); got string"},
      {"1 = true", "test:1:1: cannot compare integer with boolean"},
      {"'a' < false", "test:1:1: cannot compare string with boolean"},
      {"1 in (2, true)", "test:1:10: cannot compare integer with boolean"},
      {"lower(s) + 1", "no error"},
      {"lower(s) + true", "test:1:12: '+' needs numbers; got boolean"},
      {"abs('x')", "test:1:5: abs expects a number as argument 1; 'x' is not a number"},
      {"abs(true)", "test:1:5: abs expects a number as argument 1; got boolean"},
      {"lower(1, 2)", "test:1:1: wrong number of arguments to lower: expected lower(string); "
                      "got 2"},
      {"substr(s)", "test:1:1: wrong number of arguments to substr: expected substr(string, "
                    "start[, length]); got 1"},
      {"coalesce()", "test:1:1: wrong number of arguments to coalesce: expected coalesce(value, "
                     "...); got 0"},
      {"event_time(1)", "test:1:1: wrong number of arguments to event_time: expected "
                        "event_time(); got 1"},
      {"substr(s, 'x')", "test:1:11: substr expects an integer as argument 2; got string"},
      {"nosuch(a)", "test:1:1: unknown function 'nosuch'"},
      {"uper(a)", "test:1:1: unknown function 'uper' (did you mean 'upper'?)"},
      {"sum(a)", "test:1:1: aggregate function 'sum' is not allowed in an expression; "
                 "aggregates go in [ops.aggregates]"},
      {"count(*)", "test:1:1: aggregate function 'count' is not allowed in an expression; "
                   "aggregates go in [ops.aggregates]"},
      {"lower(distinct s)", "test:1:1: 'distinct' is not allowed in lower()"},
      {"a + *", "test:1:5: expected an expression, got '*'"},
      {"lower(*)", "test:1:7: '*' is only allowed in count(*)"},
      {"regexp_like(s, '(')", "test:1:16: invalid regular expression: missing ): ("},
      {"regexp_like(s, word)", "test:1:16: regexp_like needs its pattern as a string literal"},
      {"regexp_extract(s, 'a(b)', 2)", "test:1:27: the pattern has no group 2 (it has 1)"},
      {"regexp_replace(s, 'a', '\\2')",
       "test:1:24: invalid replacement: Rewrite schema requests 2 matches, but the regexp only "
       "has 0 parenthesized subexpressions."},
      {"date_trunc('fortnight', a)", "test:1:12: date_trunc needs its unit as a string "
                                     "literal: 'millisecond', 'second', 'minute', 'hour', "
                                     "'day', 'week', 'month', 'quarter' or 'year'"},
      {"format_time(a, '%Q')", "test:1:16: format_time supports %Y %m %d %H %M %S %L %j and %%; "
                               "got '%Q'"},
      {"s like 5", "test:1:8: 'like' needs a string pattern; got integer"},
      {"case when 1 then 2 end", "test:1:11: 'when' needs a condition (true or false); got "
                                 "integer"},
      {"case 1 when 'x' then 2 end", "no error"},
      {"case true when 1 then 2 end", "test:1:16: cannot compare boolean with integer"},
  };
  for (const auto& [text, message] : cases) EXPECT_EQ(Error(text), message) << text;
}

TEST(ExprTest, ResultTypes) {
  auto types = [](const char* text) {
    Result<Expr> e = Parse(text, TestOrigin());
    EXPECT_TRUE(e.ok());
    Result<Compiled> c = Compiled::Make(*e);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return DescribeTypes(c->types());
  };
  EXPECT_EQ(types("a"), "any value");
  EXPECT_EQ(types("1"), "integer");
  EXPECT_EQ(types("1 + 2"), "number or null");
  EXPECT_EQ(types("a / 2"), "double or null");
  EXPECT_EQ(types("a > 1"), "boolean or null");
  EXPECT_EQ(types("a is null"), "boolean");
  EXPECT_EQ(types("lower(a)"), "string or null");
  EXPECT_EQ(types("coalesce(a, 0)"), "number, boolean, string, array or object");
  EXPECT_EQ(types("coalesce(lower(a), 'x')"), "string");
  EXPECT_EQ(types("case when a then 1 else 'x' end"), "integer or string");
  EXPECT_EQ(types("cast(a as int)"), "integer or null");
  EXPECT_EQ(types("event_time()"), "integer");
}

TEST(ExprTest, ScopeNames) {
  Scope scope;
  scope.names = {{"requests", Types::kInt}, {"host", Types::kAny}};
  scope.names_only = true;
  scope.role = "ops.having";
  ASSERT_OK_AND_ASSIGN(Expr ok, Parse("requests >= 10 and host != 'x'", TestOrigin()));
  ASSERT_OK_AND_ASSIGN(Compiled c, Compiled::Make(ok, scope));
  EXPECT_TRUE(c.fields().empty());
  ASSERT_OK_AND_ASSIGN(Expr bad, Parse("requets >= 10", TestOrigin()));
  Result<Compiled> r = Compiled::Make(bad, scope);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "test:1:1: unknown name 'requets': ops.having can use requests, host");
  ASSERT_OK_AND_ASSIGN(Expr typed, Parse("requests = 'x' or requests", TestOrigin()));
  Result<Compiled> t = Compiled::Make(typed, scope);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "test:1:19: 'or' needs a condition (true or false); got integer or null");
}

TEST(ExprTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '(');
  EXPECT_EQ(Error(deep), "test:1:201: expression nested too deeply");
  std::string nots;
  for (int i = 0; i < 100000; ++i) nots += "not ";
  EXPECT_EQ(Error(nots + "true"), "test:1:797: expression nested too deeply");
  std::string minus(100000, '-');
  EXPECT_EQ(Error(minus + "1"), "test:1:200: expression nested too deeply");
}

TEST(ExprTest, EvaluationDoesNotCopyTheRecord) {
  // A string field passes through as the same text, an integer stays an integer and a double
  // keeps its exact value, so their JSON text is unchanged.
  const char* json = R"({"k":"a\"b","i":-12,"d":0.1,"e":1e-7,"big":1.7976931348623157e308})";
  for (const char* field : {"k", "i", "d", "e", "big"}) {
    Record r = MakeRecord(json);
    ASSERT_OK_AND_ASSIGN(Expr e, Parse(field, TestOrigin()));
    ASSERT_OK_AND_ASSIGN(Compiled c, Compiled::Make(e));
    EXPECT_EQ(c.Evaluate(r).ToJson(), r.value.Find(field)->ToJson()) << field;
  }
  EXPECT_EQ(Eval("coalesce(n, i)", R"({"i":-12})"), "-12");
  EXPECT_EQ(Eval("case when true then d end", R"({"d":0.1})"), "0.1");
}

}  // namespace
}  // namespace pulse::expr
