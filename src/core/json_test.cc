// SPDX-License-Identifier: MIT
// Tests for JSON writing (strings, doubles) and ParseJson / the simdjson DOM conversion.
#include "pulse/core/json.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/json_dom.h"
#include "testing/test_util.h"

namespace pulse {
namespace {

std::string DoubleText(double d) {
  std::string out;
  AppendJsonDouble(d, &out);
  return out;
}

std::string StringText(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

TEST(JsonDoubleTest, DecimalNotationKeepsPointZero) {
  EXPECT_EQ(DoubleText(3.0), "3.0");
  EXPECT_EQ(DoubleText(100.0), "100.0");
  EXPECT_EQ(DoubleText(-7.0), "-7.0");
  EXPECT_EQ(DoubleText(0.0), "0.0");
  EXPECT_EQ(DoubleText(-0.0), "-0.0");
  EXPECT_EQ(DoubleText(0.1), "0.1");
  EXPECT_EQ(DoubleText(-0.5), "-0.5");
  EXPECT_EQ(DoubleText(1.5), "1.5");
  EXPECT_EQ(DoubleText(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(DoubleText(123456789012345.6), "123456789012345.6");
  EXPECT_EQ(DoubleText(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(DoubleText(1e15), "1000000000000000.0");
  EXPECT_EQ(DoubleText(9007199254740993.0), "9007199254740992.0");
  EXPECT_EQ(DoubleText(0.0001), "0.0001");
  EXPECT_EQ(DoubleText(0.00012), "0.00012");
  // Decimal exponent -5 is still in the decimal range [-5, 16), as in the original (ryu).
  EXPECT_EQ(DoubleText(0.00001), "0.00001");
  EXPECT_EQ(DoubleText(0.000015), "0.000015");
  EXPECT_EQ(DoubleText(12.345), "12.345");
}

TEST(JsonDoubleTest, ScientificOutsideTheDecimalRange) {
  EXPECT_EQ(DoubleText(1e16), "1e16");
  EXPECT_EQ(DoubleText(1.5e16), "1.5e16");
  EXPECT_EQ(DoubleText(12345678901234567.0), "1.2345678901234568e16");
  EXPECT_EQ(DoubleText(-2.5e20), "-2.5e20");
  EXPECT_EQ(DoubleText(1e300), "1e300");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::max()), "1.7976931348623157e308");
  EXPECT_EQ(DoubleText(18446744073709551616.0), "1.8446744073709552e19");
  EXPECT_EQ(DoubleText(1e-6), "1e-6");
  EXPECT_EQ(DoubleText(1.5e-7), "1.5e-7");
  EXPECT_EQ(DoubleText(-1e-7), "-1e-7");
  EXPECT_EQ(DoubleText(5e-324), "5e-324");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::min()), "2.2250738585072014e-308");
}

TEST(JsonDoubleTest, NonFiniteIsNull) {
  EXPECT_EQ(DoubleText(std::nan("")), "null");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(DoubleText(-std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonDoubleTest, TextReadsBackExactly) {
  for (double d : {0.1, 1.0 / 3, 2.0 / 3 * 1e20, 1e-6 / 7, 123.456e-10, 4.35, 1e22, 1e23,
                   5e-324, std::numeric_limits<double>::max(), 1234567890123456.7}) {
    ASSERT_OK_AND_ASSIGN(Value parsed, ParseJson(DoubleText(d)));
    ASSERT_TRUE(parsed.is_double()) << DoubleText(d);
    EXPECT_EQ(parsed.as_double(), d) << DoubleText(d);
  }
}

TEST(JsonStringTest, Escaping) {
  EXPECT_EQ(StringText(""), R"("")");
  EXPECT_EQ(StringText("plain"), R"("plain")");
  EXPECT_EQ(StringText("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(StringText("\n\t\r\b\f"), R"("\n\t\r\b\f")");
  EXPECT_EQ(StringText("\x1f"), R"("\u001f")");
  EXPECT_EQ(StringText(std::string_view("\0\x01\x0b", 3)), R"("\u0000\u0001\u000b")");
  EXPECT_EQ(StringText("\x7f"), "\"\x7f\"");  // DEL is written raw
  EXPECT_EQ(StringText("/"), R"("/")");
  EXPECT_EQ(StringText("héllo ✓ 😀"), "\"héllo ✓ 😀\"");
  EXPECT_EQ(StringText("end\n"), R"("end\n")");
}

TEST(JsonStringTest, AppendsToExistingText) {
  std::string out = "x=";
  AppendJsonString("a\tb", &out);
  AppendJson(Value(Array{1, 2.5}), &out);
  EXPECT_EQ(out, R"(x="a\tb"[1,2.5])");
}

TEST(ParseJsonTest, RoundTripsCompactText) {
  for (const char* text : {
           R"({"b":1,"a":[true,false,null],"c":{"d":"x","e":-2.5}})",
           R"([])",
           R"({})",
           R"("just a string")",
           R"(42)",
           R"(-0.0)",
           R"(3.0)",
           R"(null)",
           R"([1,"two",[3,[4]],{"five":5}])",
           R"({"s":"tab\tquote\"slash\\ctl\u001fé"})",
           R"({"z":1,"y":2,"x":3})",
       }) {
    ASSERT_OK_AND_ASSIGN(Value v, ParseJson(text));
    EXPECT_EQ(v.ToJson(), text);
  }
}

TEST(ParseJsonTest, WhitespaceAndEscapesNormalised) {
  ASSERT_OK_AND_ASSIGN(Value v, ParseJson(" { \"a\" : [ 1 , 2.50 ] ,\n\"b\":\"\\u00e9\\/\" } \n"));
  EXPECT_EQ(v.ToJson(), R"({"a":[1,2.5],"b":"é/"})");
  ASSERT_OK_AND_ASSIGN(Value e, ParseJson(R"([1E2,1e-7,0.00001,1.0])"));
  EXPECT_EQ(e.ToJson(), R"([100.0,1e-7,0.00001,1.0])");
}

TEST(ParseJsonTest, DuplicateKeysLaterWinsInFirstPosition) {
  ASSERT_OK_AND_ASSIGN(Value v, ParseJson(R"({"a":1,"b":2,"a":3})"));
  EXPECT_EQ(v.ToJson(), R"({"a":3,"b":2})");
  ASSERT_OK_AND_ASSIGN(Value nested, ParseJson(R"({"o":{"k":1,"k":{"x":1,"x":2}}})"));
  EXPECT_EQ(nested.ToJson(), R"({"o":{"k":{"x":2}}})");
}

TEST(ParseJsonTest, DuplicateKeysInLargeObjects) {
  // Past the linear-scan limit the duplicate check uses a hash map; results must match.
  std::string text = "{";
  std::string expected = "{";
  for (int i = 0; i < 10000; ++i) {
    if (i > 0) {
      text += ",";
      expected += ",";
    }
    text += "\"k" + std::to_string(i) + "\":" + std::to_string(i);
    expected += "\"k" + std::to_string(i) + "\":" +
                std::to_string(i % 1000 == 0 ? -i - 1 : i);
  }
  for (int i = 0; i < 10000; i += 1000) {
    text += ",\"k" + std::to_string(i) + "\":" + std::to_string(-i - 1);
  }
  text += "}";
  expected += "}";
  ASSERT_OK_AND_ASSIGN(Value v, ParseJson(text));
  EXPECT_EQ(v.as_object().size(), 10000u);
  EXPECT_EQ(v.ToJson(), expected);
}

TEST(ParseJsonTest, IntegersAndDoubles) {
  ASSERT_OK_AND_ASSIGN(Value max, ParseJson("9223372036854775807"));
  ASSERT_TRUE(max.is_int());
  EXPECT_EQ(max.as_int(), std::numeric_limits<int64_t>::max());
  ASSERT_OK_AND_ASSIGN(Value min, ParseJson("-9223372036854775808"));
  ASSERT_TRUE(min.is_int());
  EXPECT_EQ(min.as_int(), std::numeric_limits<int64_t>::min());
  ASSERT_OK_AND_ASSIGN(Value big, ParseJson("9223372036854775808"));
  ASSERT_TRUE(big.is_double());
  EXPECT_EQ(big.as_double(), 9223372036854775808.0);
  EXPECT_EQ(big.ToJson(), "9.223372036854776e18");
  ASSERT_OK_AND_ASSIGN(Value umax, ParseJson("18446744073709551615"));
  ASSERT_TRUE(umax.is_double());
  EXPECT_EQ(umax.as_double(), 18446744073709551615.0);
  ASSERT_OK_AND_ASSIGN(Value one, ParseJson("1.0"));
  ASSERT_TRUE(one.is_double());
  EXPECT_EQ(one.as_double(), 1.0);
  ASSERT_OK_AND_ASSIGN(Value zero, ParseJson("0"));
  ASSERT_TRUE(zero.is_int());
  EXPECT_EQ(zero.as_int(), 0);
}

TEST(ParseJsonTest, ErrorsAreInvalidArgument) {
  for (const char* text : {"", "   ", "{", "[1,]", "{\"a\":}", "{'a':1}", "tru", "01", "1 2",
                           "{\"a\":1}x", "NaN", "\"unterminated", "[1e400]"}) {
    Result<Value> r = ParseJson(text);
    ASSERT_FALSE(r.ok()) << '"' << text << '"';
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(r.status().message().rfind("invalid JSON: ", 0), 0u) << r.status().message();
  }
}

TEST(JsonDomTest, KeepFieldsFiltersObjectMembers) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(std::string_view(R"({"a":1,"b":{"x":[1]},"c":"s","a":2,"d":null})"))
                .get(root),
            simdjson::SUCCESS);
  simdjson::dom::object obj = root.get_object().value_unsafe();

  EXPECT_EQ(FromSimdjsonObject(obj, nullptr).ToJson(),
            R"({"a":2,"b":{"x":[1]},"c":"s","d":null})");
  const std::vector<std::string> none;
  EXPECT_EQ(FromSimdjsonObject(obj, &none).ToJson(), R"({"a":2,"b":{"x":[1]},"c":"s","d":null})");
  const std::vector<std::string> keep = {"c", "a", "missing"};
  EXPECT_EQ(FromSimdjsonObject(obj, &keep).ToJson(), R"({"a":2,"c":"s"})");
  EXPECT_EQ(FromSimdjson(root).ToJson(), R"({"a":2,"b":{"x":[1]},"c":"s","d":null})");
}

}  // namespace
}  // namespace pulse
