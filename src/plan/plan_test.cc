// SPDX-License-Identifier: MIT
// Tests of plans run through the executor: where, computed fields, keys, aggregates, having,
// output names and order, the unknown-field check, and the errors of bad plans.
#include "pulse/plan/plan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pulse/core/executor.h"
#include "pulse/core/json.h"
#include "testing/test_util.h"
#include "testing/vector_source.h"

namespace pulse::plan {
namespace {

using ::pulse::testing::CollectingSink;
using ::pulse::testing::VectorSource;

std::vector<Record> Records(const std::vector<std::pair<EventTime, const char*>>& in) {
  std::vector<Record> out;
  for (const auto& [t, json] : in) {
    Result<Value> v = ParseJson(json);
    EXPECT_TRUE(v.ok()) << json;
    out.push_back(Record{t, *v});
  }
  return out;
}

std::vector<Record> Requests() {
  return Records({
      {1000, R"({"status":503,"method":"GET","host":"A.example","region":"eu","bytes":100,"latency_ms":250})"},
      {2000, R"({"status":200,"method":"GET","host":"a.example","region":"eu","bytes":50,"latency_ms":20})"},
      {3000, R"({"status":500,"method":"POST","host":"a.EXAMPLE","region":"eu","bytes":7,"latency_ms":900})"},
      {4000, R"({"status":502,"method":"PUT","host":"b.example","region":"us","bytes":1,"latency_ms":30})"},
      {5000, R"({"status":504,"method":"GET","host":"b.example","region":"us","bytes":2,"latency_ms":40})"},
      {61000, R"({"status":500,"method":"GET","host":"b.example","region":"us","bytes":3,"latency_ms":50})"},
  });
}

// Run `plan` over `records` and return the output lines.
std::vector<std::string> RunPlan(const LogicalPlan& plan, std::vector<Record> records,
                                 int workers = 2) {
  Result<CompiledPlan> compiled = CompiledPlan::Make(plan);
  EXPECT_TRUE(compiled.ok()) << compiled.status().ToString();
  if (!compiled.ok()) return {};
  std::vector<std::string> lines;
  Pipeline p;
  p.From(std::make_unique<VectorSource>(std::move(records), 2));
  Status st = compiled->AddTo(p);
  EXPECT_TRUE(st.ok()) << st.ToString();
  p.To(std::make_unique<CollectingSink>(&lines));
  RunOptions options;
  options.workers = workers;
  Result<RunProgress> r = pulse::Run(std::move(p), options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return lines;
}

std::string Error(const LogicalPlan& plan) {
  Result<CompiledPlan> compiled = CompiledPlan::Make(plan);
  if (!compiled.ok()) return compiled.status().message();
  Pipeline p;
  Status st = compiled->AddTo(p);
  return st.ok() ? "no error" : st.message();
}

TEST(PlanTest, WhereComputedFieldsKeysAndOneAggregate) {
  LogicalPlan plan;
  plan.Where("status >= 500 and method in ('GET', 'POST')")
      .Field("h", "lower(host)")
      .Key("region")
      .Key("h as host")
      .Window(ops::WindowSpec::Tumbling(60'000))
      .Aggregate("requests", "count(*)");
  for (int workers : {1, 3}) {
    EXPECT_EQ(RunPlan(plan, Requests(), workers),
              (std::vector<std::string>{
                  R"({"window_start_ms":0,"window_end_ms":60000,"region":"eu","host":"a.example","requests":2})",
                  R"({"window_start_ms":0,"window_end_ms":60000,"region":"us","host":"b.example","requests":1})",
                  R"({"window_start_ms":60000,"window_end_ms":120000,"region":"us","host":"b.example","requests":1})",
              }))
        << workers;
  }
}

TEST(PlanTest, AggregateOverAnExpressionAndHaving) {
  LogicalPlan plan;
  plan.Field("latency_s", "latency_ms / 1000.0")
      .Key("region")
      .Window(ops::WindowSpec::Tumbling(60'000))
      .Aggregate("worst_s", "max(latency_s)")
      .Having("worst_s > 0.1");
  EXPECT_EQ(RunPlan(plan, Requests()),
            (std::vector<std::string>{
                R"({"window_start_ms":0,"window_end_ms":60000,"region":"eu","worst_s":0.9})"}));

  LogicalPlan expression;
  expression.Key("region")
      .Window(ops::WindowSpec::Tumbling(60'000))
      .Aggregate("kb", "sum(bytes / 1000)");
  EXPECT_EQ(RunPlan(expression, Requests()),
            (std::vector<std::string>{
                R"({"window_start_ms":0,"window_end_ms":60000,"region":"eu","kb":0.15700000000000003})",
                R"({"window_start_ms":0,"window_end_ms":60000,"region":"us","kb":0.003})",
                R"({"window_start_ms":60000,"window_end_ms":120000,"region":"us","kb":0.003})"}));
}

TEST(PlanTest, SeveralAggregatesInTheirOrderWithTypedNumbers) {
  LogicalPlan plan;
  plan.Key("region")
      .Window(ops::WindowSpec::Tumbling(60'000))
      .Aggregate("requests", "count(*)")
      .Aggregate("bytes", "sum(bytes)")
      .Aggregate("p50", "quantile(latency_ms, 0.5)")
      .Aggregate("hosts", "approx_distinct(host)")
      .Aggregate("worst", "max(latency_ms)")
      .Aggregate("first_status", "first(status)")
      .Aggregate("methods", "top_k(method, 2)")
      .Aggregate("sd", "stddev(latency_ms)")
      .Aggregate("key", "count(distinct lower(host))");
  for (int workers : {1, 3}) {
    EXPECT_EQ(
        RunPlan(plan, Requests(), workers),
        (std::vector<std::string>{
            R"({"window_start_ms":0,"window_end_ms":60000,"region":"eu","requests":3,"bytes":157,)"
            R"("p50":250,"hosts":3,"worst":900,"first_status":503,"methods":[{"value":"GET",)"
            R"("count":2},{"value":"POST","count":1}],"sd":456.39894828976105,"key":1})",
            R"({"window_start_ms":0,"window_end_ms":60000,"region":"us","requests":2,"bytes":3,)"
            R"("p50":30,"hosts":1,"worst":40,"first_status":502,"methods":[{"value":"GET",)"
            R"("count":1},{"value":"PUT","count":1}],"sd":7.0710678118654755,"key":1})",
            R"({"window_start_ms":60000,"window_end_ms":120000,"region":"us","requests":1,)"
            R"("bytes":3,"p50":50,"hosts":1,"worst":50,"first_status":500,"methods":[{"value":)"
            R"("GET","count":1}],"sd":null,"key":1})",
        }))
        << workers;
  }
}

TEST(PlanTest, FieldsWithNamesThatNeedQuotes) {
  LogicalPlan plan;
  plan.Key(R"("user id")")
      .Window(ops::WindowSpec::Tumbling(60'000))
      .Aggregate("bytes", R"(sum("bytes sent"))")
      .Aggregate("first_end", R"(first("end"))");
  EXPECT_EQ(RunPlan(plan, Records({{1000, R"({"user id":"a","bytes sent":5,"end":1})"},
                                   {2000, R"({"user id":"a","bytes sent":7,"end":2})"}})),
            (std::vector<std::string>{
                R"({"window_start_ms":0,"window_end_ms":60000,"user id":"a","bytes":12,)"
                R"("first_end":1})"}));
}

TEST(PlanTest, HavingWithAnAggregateCall) {
  LogicalPlan plan;
  plan.Key("region").Window(ops::WindowSpec::Tumbling(60'000))
      .Aggregate("n", "count(*)")
      .Having("count(*) >= 3");
  EXPECT_EQ(RunPlan(plan, Requests()),
            (std::vector<std::string>{
                R"({"window_start_ms":0,"window_end_ms":60000,"region":"eu","n":3})"}));
}

TEST(PlanTest, NoKeyIsOneGroup) {
  LogicalPlan plan;
  plan.Window(ops::WindowSpec::Tumbling(60'000)).Aggregate("n", "count(*)");
  EXPECT_EQ(RunPlan(plan, Requests()),
            (std::vector<std::string>{R"({"window_start_ms":0,"window_end_ms":60000,"n":5})",
                                      R"({"window_start_ms":60000,"window_end_ms":120000,"n":1})"}));
}

TEST(PlanTest, KeysKeepTheirValuesAndNestedPaths) {
  std::vector<Record> in = Records({
      {1, R"({"user":{"id":7},"tags":["x"],"v":1.50})"},
      {2, R"({"user":{"id":7},"tags":["x"],"v":1.5})"},
      {3, R"({"user":{"id":"7"},"tags":[],"v":12345678901234567})"},
  });
  LogicalPlan plan;
  plan.Key("user.id").Key("tags[0] as tag").Key("v")
      .Window(ops::WindowSpec::Tumbling(10))
      .Aggregate("n", "count(*)");
  EXPECT_EQ(RunPlan(plan, in),
            (std::vector<std::string>{
                R"({"window_start_ms":0,"window_end_ms":10,"user.id":"7","tag":null,"v":12345678901234567,"n":1})",
                R"({"window_start_ms":0,"window_end_ms":10,"user.id":7,"tag":"x","v":1.5,"n":2})"}));
}

TEST(PlanTest, OriginalOutputIsTheOriginalForm) {
  LogicalPlan plan;
  plan.Key("region").Window(ops::WindowSpec::Tumbling(60'000)).Aggregate("s", "sum(bytes)")
      .OriginalOutput();
  EXPECT_EQ(RunPlan(plan, Requests()),
            (std::vector<std::string>{
                R"({"window_start_ms":0,"window_end_ms":60000,"key":"eu","sum":157.0})",
                R"({"window_start_ms":0,"window_end_ms":60000,"key":"us","sum":3.0})",
                R"({"window_start_ms":60000,"window_end_ms":120000,"key":"us","sum":3.0})"}));
}

TEST(PlanTest, BuildersMakeTheSamePlan) {
  using expr::Call;
  using expr::Field;
  using expr::Lit;
  LogicalPlan plan;
  plan.Where(Field("status").Ge(Lit(500)).And(Field("method").In({Lit("GET"), Lit("POST")})))
      .Field("h", Call("lower", {Field("host")}))
      .Key("region")
      .Key("host", Field("h"))
      .Window(ops::WindowSpec::Tumbling(60'000))
      .Aggregate("requests", Call("count", {expr::Star()}));
  EXPECT_EQ(RunPlan(plan, Requests()),
            (std::vector<std::string>{
                R"({"window_start_ms":0,"window_end_ms":60000,"region":"eu","host":"a.example","requests":2})",
                R"({"window_start_ms":0,"window_end_ms":60000,"region":"us","host":"b.example","requests":1})",
                R"({"window_start_ms":60000,"window_end_ms":120000,"region":"us","host":"b.example","requests":1})",
            }));
  ASSERT_OK_AND_ASSIGN(CompiledPlan compiled, CompiledPlan::Make(plan));
  EXPECT_EQ(compiled.Describe(),
            "where:       status >= 500 and method in ('GET', 'POST')\n"
            "fields:      h = lower(host)\n"
            "key:         region, h as host\n"
            "window:      tumbling 1m\n"
            "aggregates:  requests = count(*)\n"
            "output:      window_start_ms, window_end_ms, region, host, requests\n");
}

TEST(PlanTest, Describe) {
  LogicalPlan plan;
  plan.Where("status >= 500")
      .Field("latency_s", "latency_ms / 1000.0")
      .Field("route", "split_part(path, '?', 1)")
      .Key("region")
      .Key("lower(host) as host")
      .Window(ops::WindowSpec::Tumbling(60'000))
      .Aggregate("requests", "count(*)")
      .Aggregate("p99_s", "quantile(latency_s, 0.99)")
      .Having("requests >= 10 and max(bytes) > 0");
  ASSERT_OK_AND_ASSIGN(CompiledPlan compiled, CompiledPlan::Make(plan));
  EXPECT_EQ(compiled.Describe(),
            "where:       status >= 500\n"
            "fields:      latency_s = latency_ms / 1000.0\n"
            "             route = split_part(path, '?', 1)\n"
            "key:         region, lower(host) as host\n"
            "window:      tumbling 1m\n"
            "aggregates:  requests = count(*)\n"
            "             p99_s = quantile(latency_s, 0.99)\n"
            "             max(bytes) (for having only)\n"
            "having:      requests >= 10 and max(bytes) > 0\n"
            "output:      window_start_ms, window_end_ms, region, host, requests, p99_s\n");
  EXPECT_EQ(compiled.DataFields(),
            (std::vector<std::pair<std::string, std::string>>{{"latency_ms", "fields.latency_s"},
                                                              {"path", "fields.route"},
                                                              {"status", "where"},
                                                              {"region", "key[1]"},
                                                              {"host", "key[2]"},
                                                              {"bytes", "having"}}));
}

TEST(PlanTest, Errors) {
  auto base = [] {
    LogicalPlan p;
    p.Window(ops::WindowSpec::Tumbling(1000));
    return p;
  };
  EXPECT_EQ(Error(base()), "the plan has no aggregate: add one, e.g. count = \"count(*)\"");
  EXPECT_EQ(Error(base().Aggregate("n", "count(*)").Where("status + 1")),
            "where:1:1: where must be a condition (true or false); got number or null");
  EXPECT_EQ(Error(base().Aggregate("n", "count(*)").Key("lower(host)")),
            "key[1]:1:1: a key that is an expression needs a name: write \"lower(host) as "
            "<name>\"");
  EXPECT_EQ(Error(base().Aggregate("n", "count(*)").Key("a").Key("b as a")),
            "key[2]: the output already has a column 'a'");
  EXPECT_EQ(Error(base().Aggregate("a", "count(*)").Key("a")),
            "aggregates.a: the output already has a column 'a'");
  EXPECT_EQ(Error(base().Aggregate("window_end_ms", "count(*)")),
            "aggregates.window_end_ms: 'window_end_ms' is the name of a window bound; name the "
            "column otherwise");
  EXPECT_EQ(Error(base().Aggregate("n", "lower(x)")),
            "aggregates.n:1:1: 'lower(x)' is not an aggregate: write a call such as count(*), "
            "sum(x), avg(x), min(x), max(x), count(distinct x), approx_distinct(x), "
            "quantile(x, 0.99), first(x), top_k(x, 10) or stddev(x)");
  EXPECT_EQ(Error(base().Aggregate("n", "sum(*)")),
            "aggregates.n:1:5: '*' is only allowed in count(*)");
  EXPECT_EQ(Error(base().Aggregate("n", "sum(a, b)")),
            "aggregates.n:1:1: wrong number of arguments to sum: expected sum(x); got 2");
  EXPECT_EQ(Error(base().Aggregate("n", "quantile(a, 2)")),
            "aggregates.n:1:13: quantile needs a number from 0 to 1 here (0.99 for the 99th "
            "percentile)");
  EXPECT_EQ(Error(base().Aggregate("n", "top_k(a, 0)")),
            "aggregates.n:1:10: top_k needs k as an integer from 1 to 10000");
  EXPECT_EQ(Error(base().Aggregate("n", "sum(distinct a)")),
            "aggregates.n:1:1: 'distinct' is only allowed in count(distinct x); for sum of "
            "distinct values use sum(x)");
  EXPECT_EQ(Error(base().Aggregate("n", "sum(sum(a))")),
            "aggregates.n:1:5: aggregate function 'sum' is not allowed in an aggregate's "
            "argument; aggregates go in [ops.aggregates]");
  EXPECT_EQ(Error(base().Aggregate("n", "count(*)").Having("m > 1")),
            "having:1:1: unknown name 'm': having can use n");
  EXPECT_EQ(Error(base().Aggregate("n", "count(*)").Field("a", "b + 1").Field("b", "2")),
            "fields.a:1:1: 'b' is a computed field defined after 'a'; a computed field can use "
            "only those above it");
  EXPECT_EQ(Error(base().Aggregate("n", "count(*)").Field("a", "1").Field("a", "2")),
            "fields.a: the computed field 'a' is defined twice");
  EXPECT_EQ(Error(base().Aggregate("__n", "count(*)")),
            "aggregates.__n: names starting with __ are reserved; name the column '__n' "
            "otherwise");
  EXPECT_EQ(Error(base().Aggregate("n", "count(*)").Aggregate("m", "sum(x)")), "no error");
  LogicalPlan bad_window;
  bad_window.Aggregate("n", "count(*)");
  EXPECT_EQ(Error(bad_window), "window.size must be greater than 0");
}

TEST(PlanTest, FieldCheckWarnsOnceWithASuggestion) {
  LogicalPlan plan;
  plan.Where("stauts >= 500").Key("region").Window(ops::WindowSpec::Tumbling(60'000))
      .Aggregate("n", "count(*)").Aggregate("b", "sum(byts)");
  plan = LogicalPlan();
  plan.Where("stauts >= 500 or status >= 500").Key("regoin")
      .Window(ops::WindowSpec::Tumbling(60'000)).Aggregate("n", "count(*)");
  ASSERT_OK_AND_ASSIGN(CompiledPlan compiled, CompiledPlan::Make(plan));
  std::vector<std::string> warnings;
  compiled.field_check()->OnWarning([&](std::string_view w) { warnings.emplace_back(w); });
  metrics::Counter counter;
  compiled.field_check()->CountIn(&counter);
  std::vector<std::string> lines;
  Pipeline p;
  p.From(std::make_unique<VectorSource>(Requests(), 2));
  ASSERT_OK(compiled.AddTo(p));
  p.To(std::make_unique<CollectingSink>(&lines));
  ASSERT_OK(pulse::Run(std::move(p)).status());
  EXPECT_TRUE(warnings.empty());  // fewer than 10000 records: decided at the end
  compiled.field_check()->Finish();
  compiled.field_check()->Finish();
  EXPECT_EQ(warnings,
            (std::vector<std::string>{
                "where: field 'stauts' is in none of the 6 records (did you mean 'status'?)",
                "key[1]: field 'regoin' is in none of the 6 records (did you mean 'region'?)"}));
  EXPECT_EQ(counter.value(), 2);
}

TEST(PlanTest, FieldCheckDecidesAfterTheFirstRecords) {
  FieldCheck check({{"status", "ops.where"}, {"bytse", "ops.aggregates.b"}, {"x", "key"}}, 3);
  std::vector<std::string> warnings;
  check.OnWarning([&](std::string_view w) { warnings.emplace_back(w); });
  ASSERT_OK_AND_ASSIGN(Value a, ParseJson(R"({"status":1,"bytes":2})"));
  ASSERT_OK_AND_ASSIGN(Value b, ParseJson(R"({"X":1})"));
  check.Observe(a);
  check.Observe(b);
  EXPECT_TRUE(warnings.empty());
  check.Observe(a);
  EXPECT_EQ(warnings,
            (std::vector<std::string>{
                "ops.aggregates.b: field 'bytse' is in none of the first 3 records (did you "
                "mean 'bytes'?)",
                "key: field 'x' is in none of the first 3 records (did you mean 'X'?)"}));
  ASSERT_OK_AND_ASSIGN(Value c, ParseJson(R"({"x":1,"bytse":1})"));
  check.Observe(c);  // too late: the check is over
  check.Finish();
  EXPECT_EQ(warnings.size(), 2u);
  ASSERT_EQ(check.missing().size(), 2u);
  EXPECT_EQ(check.missing()[0].suggestion, "bytes");

  FieldCheck nothing(std::vector<std::pair<std::string, std::string>>{{"a", "key"}});
  nothing.Finish();
  EXPECT_TRUE(nothing.missing().empty());  // no records, no verdict
}

}  // namespace
}  // namespace pulse::plan
