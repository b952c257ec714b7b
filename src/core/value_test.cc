// SPDX-License-Identifier: MIT
// Tests for Value: member access, numeric conversion and JSON text.
#include "pulse/core/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "testing/test_util.h"

namespace pulse {
namespace {

TEST(ValueTest, TypesAndAccessors) {
  EXPECT_TRUE(Value().is_null());
  EXPECT_TRUE(Value(nullptr).is_null());
  EXPECT_TRUE(Value(true).as_bool());
  EXPECT_EQ(Value(7).as_int(), 7);
  EXPECT_EQ(Value(int64_t{1} << 40).as_int(), int64_t{1} << 40);
  EXPECT_TRUE(Value(7).is_number());
  EXPECT_TRUE(Value(1.5).is_double());
  EXPECT_EQ(Value("a").as_string(), "a");
  EXPECT_EQ(Value(std::string_view("b")).as_string(), "b");
  EXPECT_EQ(Value(Array{1, 2}).as_array().size(), 2u);
  EXPECT_TRUE(Value(Object{}).is_object());
  // Keys compare as JSON values: 1, 1.0 and "1" differ.
  EXPECT_NE(Value(1), Value(1.0));
  EXPECT_NE(Value(1), Value("1"));
  EXPECT_EQ(Value(Object{{"a", 1}}), Value(Object{{"a", 1}}));
}

TEST(ValueTest, FindMembers) {
  Value v(Object{{"a", 1}, {"b", "x"}, {"", true}});
  ASSERT_NE(v.Find("a"), nullptr);
  EXPECT_EQ(*v.Find("a"), Value(1));
  EXPECT_EQ(*v.Find("b"), Value("x"));
  EXPECT_EQ(*v.Find(""), Value(true));
  EXPECT_EQ(v.Find("c"), nullptr);
  EXPECT_EQ(v.Find("A"), nullptr);
  EXPECT_EQ(Value(Array{1}).Find("a"), nullptr);
  EXPECT_EQ(Value("a").Find("a"), nullptr);
  EXPECT_EQ(Value().Find("a"), nullptr);
}

TEST(ValueTest, SetReplacesInPlaceOrAppends) {
  Value v(Object{{"a", 1}, {"b", 2}});
  v.Set("a", "one");
  v.Set("c", 3);
  v.Set("b", Value(Array{}));
  EXPECT_EQ(v.ToJson(), R"({"a":"one","b":[],"c":3})");
  Value empty(Object{});
  empty.Set("k", nullptr);
  EXPECT_EQ(empty.ToJson(), R"({"k":null})");
}

TEST(ValueTest, ToNumberOfNumbers) {
  double d = 0;
  EXPECT_TRUE(Value(42).ToNumber(&d));
  EXPECT_EQ(d, 42.0);
  EXPECT_TRUE(Value(-1.5).ToNumber(&d));
  EXPECT_EQ(d, -1.5);
  EXPECT_TRUE(Value(std::numeric_limits<int64_t>::max()).ToNumber(&d));
  EXPECT_EQ(d, 9223372036854775807.0);
}

TEST(ValueTest, ToNumberOfDecimalStrings) {
  struct Case {
    const char* text;
    double expected;
  };
  for (const Case& c : {Case{"12", 12.0}, Case{"-1.5", -1.5}, Case{"+2", 2.0},
                        Case{"2e3", 2000.0}, Case{"2E+3", 2000.0}, Case{"2.5e-1", 0.25},
                        Case{"0", 0.0}, Case{"007", 7.0}, Case{"0.1", 0.1},
                        Case{"1e308", 1e308}, Case{"5e-324", 5e-324},
                        Case{"1e-400", 0.0}, Case{"12345678901234567890", 12345678901234567890.0},
                        Case{"0.000000000000000000000000000001e-300", 0.0}}) {
    double d = -99;
    EXPECT_TRUE(Value(c.text).ToNumber(&d)) << c.text;
    EXPECT_EQ(d, c.expected) << c.text;
  }
  double d = 0;
  EXPECT_TRUE(Value("-0").ToNumber(&d));
  EXPECT_TRUE(std::signbit(d));
  EXPECT_TRUE(Value("-1e-400").ToNumber(&d));
  EXPECT_EQ(d, 0.0);
  EXPECT_TRUE(std::signbit(d));
}

TEST(ValueTest, ToNumberRejectsEverythingElse) {
  for (const char* text : {"", " 1", "1 ", "1 2", "abc", "1a", "inf", "-inf", "Infinity", "nan",
                           "NaN", "0x10", "1.", ".5", "-", "+", "+-1", "--1", "1e", "1e+",
                           "1.5.5", "1,5", "1e400", "-1e400", "1_000", "١"}) {
    double d = -99;
    EXPECT_FALSE(Value(text).ToNumber(&d)) << '"' << text << '"';
    EXPECT_EQ(d, -99) << text;
  }
  double d = -99;
  EXPECT_FALSE(Value().ToNumber(&d));
  EXPECT_FALSE(Value(true).ToNumber(&d));
  EXPECT_FALSE(Value(Array{1}).ToNumber(&d));
  EXPECT_FALSE(Value(Object{{"a", 1}}).ToNumber(&d));
  EXPECT_EQ(d, -99);
}

TEST(ValueTest, ToJsonIsCompactAndOrdered) {
  Value v(Object{{"z", 1},
                 {"a", Array{true, false, nullptr, 1.5, -2, "s"}},
                 {"m", Object{{"k", Object{}}, {"e", Array{}}}}});
  EXPECT_EQ(v.ToJson(), R"({"z":1,"a":[true,false,null,1.5,-2,"s"],"m":{"k":{},"e":[]}})");
  EXPECT_EQ(Value().ToJson(), "null");
  EXPECT_EQ(Value(3.0).ToJson(), "3.0");
  EXPECT_EQ(Value(std::numeric_limits<int64_t>::min()).ToJson(), "-9223372036854775808");
  EXPECT_EQ(Value("a\"b").ToJson(), R"("a\"b")");
}

}  // namespace
}  // namespace pulse
