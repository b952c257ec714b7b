// SPDX-License-Identifier: MIT
#include "pulse/ops/map.h"

#include <gtest/gtest.h>

#include <atomic>

#include "ops/window_test_util.h"
#include "pulse/core/executor.h"
#include "pulse/ops/window.h"
#include "testing/test_util.h"
#include "testing/vector_source.h"

namespace pulse::ops {
namespace {

using ::pulse::ops::testing::Options;
using ::pulse::testing::CollectingSink;
using ::pulse::testing::VectorSource;

std::vector<Record> Words() {
  std::vector<Record> in;
  const char* texts[] = {"the cat", "The dog", "a cat"};
  for (int i = 0; i < 3; ++i) {
    Object o;
    o.emplace_back("text", Value(texts[i]));
    in.push_back(Record{1000 * i, Value(std::move(o))});
  }
  return in;
}

std::vector<Value> SplitWords(const Value& v) {
  std::vector<Value> out;
  const Value* text = v.Find("text");
  if (text == nullptr || !text->is_string()) return out;
  std::string word;
  for (char c : text->as_string() + " ") {
    if (c == ' ') {
      if (!word.empty()) out.push_back(Value(Object{{"word", Value(word)}}));
      word.clear();
    } else {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

TEST(Operators, PassThroughKeepsOrder) {
  std::vector<std::string> lines;
  Pipeline p;
  p.From(std::make_unique<VectorSource>(Words(), 2))
      .Apply(Filter([](const Record& r) { return r.time != 1000; }))
      .Apply(Map([](const Value& v) { return Value(Object{{"t", *v.Find("text")}}); }))
      .To(std::make_unique<CollectingSink>(&lines));
  ASSERT_OK(pulse::Run(std::move(p)).status());
  EXPECT_EQ(lines, (std::vector<std::string>{R"({"t":"the cat"})", R"({"t":"a cat"})"}));
}

TEST(Operators, WordCountThroughFlatMapAndWindow) {
  std::vector<std::string> lines;
  Pipeline p;
  p.From(std::make_unique<VectorSource>(Words()))
      .Apply(FlatMap(SplitWords))
      .KeyBy("word")
      .Apply(WindowedAggregate(Options(WindowSpec::Tumbling(60000), AggSpec::Count(), 0)))
      .Apply(Map([](const Value& v) { return v; }))
      .To(std::make_unique<CollectingSink>(&lines));
  RunOptions options;
  options.workers = 2;
  ASSERT_OK(pulse::Run(std::move(p), options).status());
  EXPECT_EQ(lines, (std::vector<std::string>{
                       R"({"window_start_ms":0,"window_end_ms":60000,"key":"a","count":1})",
                       R"({"window_start_ms":0,"window_end_ms":60000,"key":"cat","count":2})",
                       R"({"window_start_ms":0,"window_end_ms":60000,"key":"dog","count":1})",
                       R"({"window_start_ms":0,"window_end_ms":60000,"key":"the","count":2})",
                   }));
}

TEST(Operators, KeySelectorFunction) {
  std::vector<std::string> lines;
  Pipeline p;
  p.From(std::make_unique<VectorSource>(Words()))
      .KeyBy([](const Record& r) { return Value(static_cast<int64_t>(r.value.Find("text")->as_string().size())); })
      .Apply(WindowedAggregate(Options(WindowSpec::Tumbling(60000), AggSpec::Count(), 0)))
      .To(std::make_unique<CollectingSink>(&lines));
  ASSERT_OK(pulse::Run(std::move(p)).status());
  EXPECT_EQ(lines, (std::vector<std::string>{
                       R"({"window_start_ms":0,"window_end_ms":60000,"key":5,"count":1})",
                       R"({"window_start_ms":0,"window_end_ms":60000,"key":7,"count":2})",
                   }));
}

class FailingOperator : public Operator {
 public:
  std::string name() const override { return "failing"; }
  Status Process(Record, Collector&) override { return Status::Internal("boom"); }
};

TEST(Operators, AnOperatorErrorFailsTheRun) {
  std::vector<std::string> lines;
  Pipeline p;
  p.From(std::make_unique<VectorSource>(Words()))
      .Apply(std::make_unique<FailingOperator>())
      .To(std::make_unique<CollectingSink>(&lines));
  Status st = pulse::Run(std::move(p)).status();
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_EQ(st.message(), "boom");
}

TEST(Operators, MisuseIsReportedByValidate) {
  Pipeline p;
  p.From(std::make_unique<VectorSource>(Words()))
      .Apply(WindowedAggregate(Options(WindowSpec::Tumbling(10), AggSpec::Count(), 0)));
  EXPECT_EQ(p.Validate().message(), "a keyed operator needs a KeyBy before it");
  Pipeline q;
  EXPECT_EQ(q.Validate().message(), "pipeline has no source");
}

TEST(Operators, StopFlagEmitsOnlyCompleteWindows) {
  std::vector<std::string> lines;
  std::atomic<bool> stop{true};  // stop before anything is read
  Pipeline p;
  p.From(std::make_unique<VectorSource>(Words(), 1))
      .Watermarks({0})
      .KeyBy("text")
      .Apply(WindowedAggregate(Options(WindowSpec::Tumbling(1000), AggSpec::Count(), 0)))
      .To(std::make_unique<CollectingSink>(&lines));
  RunOptions options;
  options.stop = &stop;
  options.batch_size = 1;
  Result<RunProgress> r = pulse::Run(std::move(p), options);
  ASSERT_OK(r.status());
  // The vector source ignores the flag and reads all three records, but the executor does not
  // flush: only windows the watermark (2000) completed are written.
  EXPECT_TRUE(r->cancelled);
  EXPECT_EQ(lines, (std::vector<std::string>{
                       R"({"window_start_ms":0,"window_end_ms":1000,"key":"the cat","count":1})",
                       R"({"window_start_ms":1000,"window_end_ms":2000,"key":"The dog","count":1})",
                   }));
}

}  // namespace
}  // namespace pulse::ops
