// SPDX-License-Identifier: MIT
// JsonObjectReader: typed reads, optional members, nested readers and their names, the one
// error format and the caller's error code.
#include "pulse/core/json_reader.h"

#include <gtest/gtest.h>

#include "pulse/core/json.h"
#include "testing/test_util.h"

namespace pulse {
namespace {

Value Parse(std::string_view text) {
  Result<Value> v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? std::move(v).value() : Value();
}

TEST(JsonObjectReader, ReadsTypedMembers) {
  const Value doc = Parse(
      R"({"s":"x","b":true,"i":-3,"u":7,"l":[1,"a"],"o":{"k":1},"kg":[0,64],"n":null})");
  ASSERT_OK_AND_ASSIGN(JsonObjectReader r, JsonObjectReader::Make(doc, "doc"));
  ASSERT_OK_AND_ASSIGN(std::string s, r.String("s"));
  EXPECT_EQ(s, "x");
  ASSERT_OK_AND_ASSIGN(bool b, r.Bool("b"));
  EXPECT_TRUE(b);
  ASSERT_OK_AND_ASSIGN(int64_t i, r.Int("i"));
  EXPECT_EQ(i, -3);
  ASSERT_OK_AND_ASSIGN(uint64_t u, r.Uint("u"));
  EXPECT_EQ(u, 7u);
  ASSERT_OK_AND_ASSIGN(int64_t at_least, r.IntAtLeast("u", 7));
  EXPECT_EQ(at_least, 7);
  ASSERT_OK_AND_ASSIGN(const Array* l, r.List("l"));
  EXPECT_EQ(l->size(), 2u);
  ASSERT_OK_AND_ASSIGN(const Object* o, r.Members("o"));
  EXPECT_EQ(o->size(), 1u);
  ASSERT_OK_AND_ASSIGN(JsonObjectReader child, r.Child("o"));
  EXPECT_EQ(child.document(), "doc \"o\"");
  ASSERT_OK_AND_ASSIGN(int64_t k, child.Int("k"));
  EXPECT_EQ(k, 1);
  ASSERT_OK_AND_ASSIGN(KeyGroupRange kg, r.KeyGroups("kg"));
  EXPECT_EQ(kg.begin, 0u);
  EXPECT_EQ(kg.end, 64u);
  EXPECT_EQ(KeyGroupsToJson(kg), *doc.Find("kg"));
  ASSERT_OK_AND_ASSIGN(const Value* n, r.Member("n"));
  EXPECT_TRUE(n->is_null());
  EXPECT_EQ(r.Find("absent"), nullptr);
}

TEST(JsonObjectReader, OptionalMembersAreAbsentOrNullOrTyped) {
  const Value doc = Parse(R"({"i":5,"n":null,"s":"x","b":false,"l":[]})");
  ASSERT_OK_AND_ASSIGN(JsonObjectReader r, JsonObjectReader::Make(doc, "doc"));
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> i, r.OptionalInt("i"));
  EXPECT_EQ(i, 5);
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> absent, r.OptionalInt("absent"));
  EXPECT_FALSE(absent.has_value());
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> null, r.OptionalInt("n"));
  EXPECT_FALSE(null.has_value());
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> s, r.OptionalString("s"));
  EXPECT_EQ(s, "x");
  ASSERT_OK_AND_ASSIGN(std::optional<bool> b, r.OptionalBool("b"));
  EXPECT_EQ(b, false);
  ASSERT_OK_AND_ASSIGN(const Array* l, r.OptionalList("l"));
  ASSERT_NE(l, nullptr);
  ASSERT_OK_AND_ASSIGN(const Array* no_list, r.OptionalList("absent"));
  EXPECT_EQ(no_list, nullptr);
  EXPECT_EQ(r.OptionalInt("s").status().ToString(), "Corruption: doc: \"s\" is not an integer");
  EXPECT_EQ(r.OptionalString("i").status().ToString(), "Corruption: doc: \"i\" is not a string");
}

TEST(JsonObjectReader, OneErrorFormatNamingTheDocumentAndTheMember) {
  const Value doc = Parse(R"({"i":-1,"s":"x","kg":[3,2],"pair":[1],"items":[{"a":1},2]})");
  ASSERT_OK_AND_ASSIGN(JsonObjectReader r, JsonObjectReader::Make(doc, "test position"));
  EXPECT_EQ(r.Int("missing").status().ToString(),
            "Corruption: test position has no \"missing\"");
  EXPECT_EQ(r.Int("s").status().ToString(),
            "Corruption: test position: \"s\" is not an integer");
  EXPECT_EQ(r.Bool("s").status().ToString(), "Corruption: test position: \"s\" is not a boolean");
  EXPECT_EQ(r.List("s").status().ToString(), "Corruption: test position: \"s\" is not an array");
  EXPECT_EQ(r.Child("s").status().ToString(),
            "Corruption: test position: \"s\" is not an object");
  EXPECT_EQ(r.Uint("i").status().ToString(), "Corruption: test position: \"i\" is -1, below 0");
  EXPECT_EQ(r.IntAtLeast("i", 1).status().ToString(),
            "Corruption: test position: \"i\" is -1, below 1");
  EXPECT_EQ(r.KeyGroups("kg").status().ToString(),
            "Corruption: test position: \"kg\" is [3, 2), not a key-group range within [0, 128)");
  EXPECT_EQ(r.KeyGroups("pair").status().ToString(),
            "Corruption: test position: \"pair\" is not [begin, end]");
  EXPECT_EQ(r.Children("items").status().ToString(),
            "Corruption: test position \"items\"[1] is not an object");
  EXPECT_EQ(r.Invalid("s", "is not a file of this sink").ToString(),
            "Corruption: test position: \"s\" is not a file of this sink");
  EXPECT_EQ(r.Error("is from another source").ToString(),
            "Corruption: test position is from another source");

  const Value nested = Parse(R"({"files":[{"path":"a"},{"bytes":1}]})");
  ASSERT_OK_AND_ASSIGN(JsonObjectReader m, JsonObjectReader::Make(nested, "manifest"));
  ASSERT_OK_AND_ASSIGN(std::vector<JsonObjectReader> files, m.Children("files"));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_OK(files[0].String("path").status());
  EXPECT_EQ(files[1].String("path").status().ToString(),
            "Corruption: manifest \"files\"[1] has no \"path\"");
}

TEST(JsonObjectReader, UsesTheCallersCode) {
  EXPECT_EQ(JsonObjectReader::Make(Value("nonsense"), "file source position",
                                   StatusCode::kInvalidArgument)
                .status()
                .ToString(),
            "Invalid argument: file source position is not an object");
  const Value doc = Parse(R"({"a":{"b":"x"}})");
  ASSERT_OK_AND_ASSIGN(JsonObjectReader r,
                       JsonObjectReader::Make(doc, "pos", StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(JsonObjectReader a, r.Child("a"));
  EXPECT_EQ(a.Int("b").status().code(), StatusCode::kInvalidArgument);
}

TEST(JsonObjectReader, ChecksFormatAndVersion) {
  const Value doc = Parse(R"({"format":"pulse-x","version":2})");
  ASSERT_OK_AND_ASSIGN(JsonObjectReader r, JsonObjectReader::Make(doc, "entry"));
  EXPECT_OK(r.CheckFormat("pulse-x", 2));
  EXPECT_EQ(r.CheckFormat("pulse-x", 1).ToString(),
            "Corruption: entry has format \"pulse-x\" version 2; this Pulse reads \"pulse-x\" "
            "version 1");
  const Value bare = Parse(R"({"version":1})");
  ASSERT_OK_AND_ASSIGN(JsonObjectReader b, JsonObjectReader::Make(bare, "entry"));
  EXPECT_EQ(b.CheckFormat("pulse-x", 1).ToString(), "Corruption: entry has no \"format\"");
}

}  // namespace
}  // namespace pulse
