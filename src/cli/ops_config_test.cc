// SPDX-License-Identifier: MIT
// Tests for [ops] in the plan form (where, key, having, [ops.fields], [ops.aggregates]): file
// order, positions of expression errors, the rules between the two forms, and the plan that
// `pulse validate` prints.
#include <gtest/gtest.h>

#include <string>

#include "cli/config.h"
#include "pulse/core/executor.h"
#include "testing/test_util.h"
#include "testing/vector_source.h"

namespace pulse::cli {
namespace {

using ::pulse::testing::CollectingSink;
using ::pulse::testing::VectorSource;

// Lines 1-7; [ops] follows on line 8.
constexpr std::string_view kHead = R"([source]
kind = "file"
path = "input.jsonl"
[window]
type = "tumbling"
size = "60s"
[sink]
)";

std::string Config(std::string_view ops) {
  return std::string(kHead) + "kind = \"file\"\n" + std::string(ops);
}

std::string LoadError(std::string_view ops) {
  Result<PipelineConfig> config = LoadConfigString(Config(ops), "pipeline.toml");
  return config.ok() ? std::string("OK") : config.status().message();
}

// Lines of `ops` run over records {"a":i,"b":"x<i%2>"} at i seconds, i = 0..4.
std::vector<std::string> RunOps(std::string_view ops) {
  Result<PipelineConfig> config = LoadConfigString(Config(ops), "pipeline.toml");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  if (!config.ok()) return {};
  std::vector<Record> records;
  for (int64_t i = 0; i < 5; ++i) {
    records.push_back(Record{i * 1000, Value(Object{{"a", Value(i)},
                                                    {"b", Value(i % 2 ? "x1" : "x0")}})});
  }
  std::vector<std::string> lines;
  Result<Pipeline> p = BuildPipelineWith(*config, std::make_unique<VectorSource>(records),
                                         std::make_unique<CollectingSink>(&lines));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  if (!p.ok()) return {};
  EXPECT_TRUE(pulse::Run(std::move(*p)).ok());
  return lines;
}

TEST(OpsConfigTest, AggregatesAndFieldsKeepTheFileOrder) {
  EXPECT_EQ(RunOps(R"X([ops]
key = ["b"]
where = "a >= 1"
[ops.fields]
zeta = "a * 10"
alpha = "zeta + 1"
[ops.aggregates]
zz = "max(alpha)"
n = "count(*)"
total = "sum(a)"
mean_a = "avg(a)"
first_alpha = "first(alpha)"
mid = "median(alpha)"
)X"),
            (std::vector<std::string>{
                R"({"window_start_ms":0,"window_end_ms":60000,"b":"x0","zz":41,"n":2,"total":6,)"
                R"("mean_a":3.0,"first_alpha":21,"mid":21})",
                R"({"window_start_ms":0,"window_end_ms":60000,"b":"x1","zz":31,"n":2,"total":4,)"
                R"("mean_a":2.0,"first_alpha":11,"mid":11})"}));
  Result<PipelineConfig> c = LoadConfigString(Config(R"X([ops]
key = "b"
[ops.aggregates]
zz = "count(*)"
[ops.fields]
zeta = "1"
alpha = "2"
)X"),
                                              "pipeline.toml");
  ASSERT_OK(c.status());
  ASSERT_EQ(c->ops.fields.size(), 2u);
  EXPECT_EQ(c->ops.fields[0].name, "zeta");
  EXPECT_EQ(c->ops.fields[1].name, "alpha");
  EXPECT_EQ(c->ops.key.size(), 1u);
}

TEST(OpsConfigTest, OriginalFormWithWhere) {
  EXPECT_EQ(RunOps("[ops]\ncount_by = \"b\"\nwhere = \"a != 2\"\n"),
            (std::vector<std::string>{
                R"({"window_start_ms":0,"window_end_ms":60000,"key":"x0","count":2})",
                R"({"window_start_ms":0,"window_end_ms":60000,"key":"x1","count":2})"}));
}

TEST(OpsConfigTest, ExpressionErrorsPointAtTheCharacter) {
  EXPECT_EQ(LoadError("[ops]\nkey = [\"b\"]\nwhere = \"a >= \"\n[ops.aggregates]\nn = \"count(*)\"\n"),
            "pipeline.toml:11:15: ops.where: expected an expression, got the end of the text");
  EXPECT_EQ(LoadError("[ops]\nkey = [\"b\", \"lowr(b) as c\"]\n[ops.aggregates]\nn = \"count(*)\"\n"),
            "pipeline.toml:10:14: ops.key[2]: unknown function 'lowr' (did you mean 'lower'?)");
  EXPECT_EQ(LoadError("[ops]\nkey = [\"b\"]\n[ops.aggregates]\nn = 'sum(a + true)'\n"),
            "pipeline.toml:12:14: ops.aggregates.n: '+' needs numbers; got boolean");
  EXPECT_EQ(LoadError("[ops]\nkey = [\"b\"]\n[ops.fields]\nx = \"\"\"\n  a +\n  'q'\"\"\"\n"
                      "[ops.aggregates]\nn = \"count(*)\"\n"),
            "pipeline.toml:14:3: ops.fields.x: '+' needs numbers; 'q' is a string");
  EXPECT_EQ(LoadError("[ops]\nkey = [\"b\"]\nhaving = \"m > 1\"\n[ops.aggregates]\nn = \"count(*)\"\n"),
            "pipeline.toml:11:11: ops.having: unknown name 'm': ops.having can use b, n");
  EXPECT_EQ(LoadError("[ops]\nkey = [\"lower(b)\"]\n[ops.aggregates]\nn = \"count(*)\"\n"),
            "pipeline.toml:10:9: ops.key[1]: a key that is an expression needs a name: write "
            "\"lower(b) as <name>\"");
}

TEST(OpsConfigTest, TheTwoFormsDoNotMix) {
  EXPECT_EQ(LoadError("[ops]\ncount_by = \"b\"\nkey = [\"b\"]\n[ops.aggregates]\nn = \"count(*)\"\n"),
            "pipeline.toml:10: ops.count_by and ops.key are two forms of the key: use key = [...] "
            "with [ops.aggregates], or count_by with agg");
  EXPECT_EQ(LoadError("[ops]\nkey = [\"b\"]\nagg = \"sum\"\n[ops.aggregates]\nn = \"count(*)\"\n"),
            "pipeline.toml:11: ops.agg belongs to the count_by form; with ops.key, write "
            "aggregates in [ops.aggregates], e.g. total = \"sum(x)\"");
  EXPECT_EQ(LoadError("[ops]\nkey = [\"b\"]\n"),
            "pipeline.toml:10: ops.key needs [ops.aggregates], e.g. requests = \"count(*)\"");
  EXPECT_EQ(LoadError("[ops]\ncount_by = \"b\"\nhaving = \"count > 1\"\n"),
            "pipeline.toml:11: ops.having needs the plan form: key = [...] with [ops.aggregates]");
  EXPECT_EQ(LoadError("[ops]\nkey = [\"b\"]\n[ops.aggregates]\n"),
            "pipeline.toml:11: [ops.aggregates] is empty; add an aggregate such as requests = "
            "\"count(*)\"");
  EXPECT_EQ(LoadError("[ops]\nkey = 5\n[ops.aggregates]\nn = \"count(*)\"\n"),
            "pipeline.toml:10: ops.key must be a string or an array of strings (expressions, each "
            "with `as <name>` unless it is a field); got integer 5");
  EXPECT_EQ(LoadError("[ops]\nkey = [\"b\"]\nfields = 3\n[ops.aggregates]\nn = \"count(*)\"\n"),
            "pipeline.toml:11: ops.fields must be a table ([ops.fields]) of name = \"expression\"; "
            "got integer 3");
  EXPECT_EQ(LoadError("[ops]\nkey = [\"b\"]\n[ops.aggregates]\nn = 3\n"),
            "pipeline.toml:12: ops.aggregates.n must be a non-empty string (an expression); got "
            "integer 3");
  EXPECT_EQ(LoadError("[ops]\nkey = [\"b\"]\nwhere = \"\"\n[ops.aggregates]\nn = \"count(*)\"\n"),
            "pipeline.toml:11: ops.where must be a non-empty string (an expression); got string "
            "\"\"");
}

TEST(OpsConfigTest, ValidatePrintsThePlan) {
  Result<PipelineConfig> c = LoadConfigString(Config(R"X([ops]
where = "a > 1"
key = ["b", "a % 2 as odd"]
having = "n >= 1"
[ops.fields]
double_a = "a * 2"
[ops.aggregates]
n = "count(*)"
)X"),
                                              "pipeline.toml");
  ASSERT_OK(c.status());
  EXPECT_EQ(DescribePlan(*c),
            "source:      file \"input.jsonl\" (jsonl), event time from field \"event_time\"\n"
            "bad input:   skip and count\n"
            "watermark:   none until the end of input, which flushes every window\n"
            "where:       a > 1\n"
            "fields:      double_a = a * 2\n"
            "key:         b, a % 2 as odd\n"
            "window:      tumbling 1m\n"
            "aggregates:  n = count(*)\n"
            "having:      n >= 1\n"
            "lateness:    0s (a window [s, e) is emitted when the watermark reaches e + 0s)\n"
            "output:      one JSON line per window and key: window_start_ms, window_end_ms, b, "
            "odd, n\n"
            "sink:        standard output (JSON lines)\n"
            "dead letter: none (bad records are only counted)\n"
            "late output: none (late records are only counted)\n"
            "checkpoints: none (set [checkpoint] dir to survive crashes)\n");
  const CheckpointOptions options = MakeCheckpointOptions(*c);
  std::vector<std::string> names;
  for (const auto& [name, value] : options.fingerprint) names.push_back(name + "=" + value);
  EXPECT_EQ(names[2], "key=[b, a % 2 as odd]");
  EXPECT_EQ(names[3], "where=a > 1");
  EXPECT_EQ(names[4], "field double_a=a * 2");
  EXPECT_EQ(names[6], "aggregation=n = count(*)");
  EXPECT_EQ(names[7], "having=n >= 1");
}

}  // namespace
}  // namespace pulse::cli
