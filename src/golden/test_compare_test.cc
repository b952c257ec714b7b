// SPDX-License-Identifier: MIT
// Tests for the line comparison of `pulse test`: matching rules, pairing and the diff text.
#include "golden/test_compare.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/test_util.h"

#include "pulse/core/json.h"

namespace pulse::golden {
namespace {

std::vector<Value> Parse(const std::vector<std::string>& lines) {
  std::vector<Value> out;
  for (const std::string& l : lines) {
    Result<Value> v = ParseJson(l);
    EXPECT_TRUE(v.ok()) << l;
    out.push_back(v.ok() ? *v : Value());
  }
  return out;
}

// The diff text of comparing two lists of JSON lines.
std::string Diff(const std::vector<std::string>& expected, const std::vector<std::string>& actual,
                 const CompareOptions& options = {}) {
  std::vector<Value> e = Parse(expected);
  std::vector<Value> a = Parse(actual);
  Comparison c = Compare(e, a, options);
  return FormatDifferences(c, e, a, "");
}

bool Matches(std::string_view expected, std::string_view actual,
             const CompareOptions& options = {}) {
  Result<Value> e = ParseJson(expected);
  Result<Value> a = ParseJson(actual);
  EXPECT_TRUE(e.ok() && a.ok());
  return ValuesMatch(*e, *a, options);
}

CompareOptions Tolerance(double t) {
  CompareOptions o;
  o.tolerance = t;
  return o;
}

CompareOptions Ignoring(std::vector<std::string> fields) {
  CompareOptions o;
  o.ignore_fields = std::move(fields);
  return o;
}

CompareOptions SetOrder() {
  CompareOptions o;
  o.order = CompareOptions::Order::kSet;
  return o;
}

TEST(ValuesMatch, JsonEqualityWithMembersInAnyOrder) {
  EXPECT_TRUE(Matches(R"({"a":1,"b":"x"})", R"({"b":"x","a":1})"));
  EXPECT_FALSE(Matches(R"({"a":1})", R"({"a":1,"b":2})"));
  EXPECT_FALSE(Matches(R"({"a":1,"b":2})", R"({"a":1})"));
  EXPECT_FALSE(Matches(R"({"a":"1"})", R"({"a":1})"));
  EXPECT_FALSE(Matches(R"({"a":null})", R"({"a":false})"));
  EXPECT_TRUE(Matches(R"([1,[2,{"x":3}]])", R"([1,[2,{"x":3}]])"));
  EXPECT_FALSE(Matches(R"([1,2])", R"([2,1])"));
}

TEST(ValuesMatch, NumbersCompareByValue) {
  EXPECT_TRUE(Matches(R"({"avg":2})", R"({"avg":2.0})"));
  EXPECT_FALSE(Matches(R"({"avg":2})", R"({"avg":2.0000001})"));
  EXPECT_TRUE(Matches(R"({"avg":0.3})", R"({"avg":0.30000000000000004})", Tolerance(1e-9)));
  EXPECT_TRUE(Matches(R"({"avg":[1.5]})", R"({"avg":[1.6]})", Tolerance(0.1 + 1e-12)));
  EXPECT_FALSE(Matches(R"({"avg":1.5})", R"({"avg":1.7})", Tolerance(0.1)));
  EXPECT_TRUE(Matches(R"({"n":9007199254740993})", R"({"n":9007199254740993})"));
  EXPECT_FALSE(Matches(R"({"n":9007199254740993})", R"({"n":9007199254740992})"));
}

TEST(ValuesMatch, IgnoredFieldsAreTopLevelOnly) {
  EXPECT_TRUE(Matches(R"({"a":1,"t":5})", R"({"a":1,"t":6})", Ignoring({"t"})));
  EXPECT_TRUE(Matches(R"({"a":1})", R"({"a":1,"t":6})", Ignoring({"t"})));
  EXPECT_FALSE(Matches(R"({"a":{"t":1}})", R"({"a":{"t":2}})", Ignoring({"t"})));
}

TEST(Compare, EqualListsHaveNoDifferences) {
  std::vector<Value> v = Parse({R"({"k":"a","count":1})", R"({"k":"b","count":2})"});
  Comparison c = Compare(v, v, {});
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.equal, 2u);
}

TEST(Compare, MissingAndUnexpected) {
  EXPECT_EQ(Diff({R"({"k":"a","count":1})", R"({"k":"b","count":2})"},
                 {R"({"k":"a","count":1})", R"({"x":true})"}),
            "- missing     expected #2: {\"k\":\"b\",\"count\":2}\n"
            "+ unexpected  actual #2: {\"x\":true}\n");
  EXPECT_EQ(Diff({}, {R"({"k":"a"})"}), "+ unexpected  actual #1: {\"k\":\"a\"}\n");
  EXPECT_EQ(Diff({R"({"k":"a"})"}, {}), "- missing     expected #1: {\"k\":\"a\"}\n");
}

TEST(Compare, ChangedMembersArePaired) {
  EXPECT_EQ(
      Diff({R"({"s":0,"e":60,"key":"a","count":2})", R"({"s":0,"e":60,"key":"b","count":1})"},
           {R"({"s":0,"e":60,"key":"a","count":3})", R"({"s":0,"e":60,"key":"b","count":1})"}),
      "~ changed     expected #1, actual #1: {\"s\":0,\"e\":60,\"key\":\"a\",\"count\":2}\n"
      "                count: expected 2, actual 3\n");
  // A member only on one side is a change too.
  EXPECT_EQ(Diff({R"({"key":"a","count":2,"x":1})"}, {R"({"key":"a","count":2,"y":1})"}),
            "~ changed     expected #1, actual #1: {\"key\":\"a\",\"count\":2,\"x\":1}\n"
            "                x: expected 1, actual (missing)\n"
            "                y: expected (missing), actual 1\n");
}

TEST(Compare, LinesThatDifferInMostMembersAreNotPaired) {
  EXPECT_EQ(
      Diff({R"({"s":0,"e":60,"key":"a","count":2})"}, {R"({"s":60,"e":120,"key":"b","count":2})"}),
      "- missing     expected #1: {\"s\":0,\"e\":60,\"key\":\"a\",\"count\":2}\n"
      "+ unexpected  actual #1: {\"s\":60,\"e\":120,\"key\":\"b\",\"count\":2}\n");
}

TEST(Compare, ChangedPrefersTheClosestLine) {
  // Actual #2 and #3 both differ from expected #2 in one member: the nearer one is paired.
  EXPECT_EQ(
      Diff({R"({"key":"a","count":1})", R"({"key":"b","count":1})"},
           {R"({"key":"a","count":1})", R"({"key":"b","count":5})", R"({"key":"c","count":1})"}),
      "~ changed     expected #2, actual #2: {\"key\":\"b\",\"count\":1}\n"
      "                count: expected 1, actual 5\n"
      "+ unexpected  actual #3: {\"key\":\"c\",\"count\":1}\n");
}

TEST(Compare, ExactOrderReportsMovedLines) {
  EXPECT_EQ(
      Diff({R"({"k":1})", R"({"k":2})", R"({"k":3})"}, {R"({"k":2})", R"({"k":3})", R"({"k":1})"}),
      "> moved       expected #1, actual #3: {\"k\":1}\n");
}

TEST(Compare, SetOrderIgnoresPositions) {
  EXPECT_EQ(Diff({R"({"k":1})", R"({"k":2})", R"({"k":3})"},
                 {R"({"k":2})", R"({"k":3})", R"({"k":1})"}, SetOrder()),
            "");
  // Duplicates count: two expected lines need two actual ones.
  EXPECT_EQ(Diff({R"({"k":1})", R"({"k":1})"}, {R"({"k":1})"}, SetOrder()),
            "- missing     expected #2: {\"k\":1}\n");
}

TEST(Compare, IgnoredFieldsAndToleranceApplyToPairing) {
  CompareOptions o = Ignoring({"window_start_ms"});
  o.tolerance = 0.01;
  EXPECT_EQ(Diff({R"({"window_start_ms":0,"key":"a","avg":1.5})"},
                 {R"({"window_start_ms":7,"key":"a","avg":1.505})"}, o),
            "");
  EXPECT_EQ(
      Diff({R"({"window_start_ms":0,"key":"a","avg":1.5})"},
           {R"({"window_start_ms":7,"key":"a","avg":1.6})"}, o),
      "~ changed     expected #1, actual #1: {\"window_start_ms\":0,\"key\":\"a\",\"avg\":1.5}\n"
      "                avg: expected 1.5, actual 1.6\n");
}

TEST(Compare, LongListsWithOneDifference) {
  std::vector<std::string> expected;
  std::vector<std::string> actual;
  for (int i = 0; i < 3000; ++i) {
    expected.push_back(R"({"i":)" + std::to_string(i) + "}");
    if (i != 1500) actual.push_back(R"({"i":)" + std::to_string(i) + "}");
  }
  actual.insert(actual.begin() + 10, R"({"i":-1})");
  EXPECT_EQ(Diff(expected, actual),
            "- missing     expected #1501: {\"i\":1500}\n"
            "+ unexpected  actual #11: {\"i\":-1}\n");
}

}  // namespace
}  // namespace pulse::golden
