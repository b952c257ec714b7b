// SPDX-License-Identifier: MIT
// Kafka source and sink against the real broker that ctest starts (scripts/kafka.sh, fixture
// kafka_broker): decoding and dead letters, per-partition and idle watermarks, Position/Seek,
// offset commits, delivery failures, the transactional sink's two phases and its recovery, and
// a live pipeline whose windows match the same data read from a file.
#include "pulse/io/kafka.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "io/kafka/kafka_testing.h"
#include "testing/manual_clock.h"
#include "testing/test_util.h"

#include "pulse/core/executor.h"
#include "pulse/core/json.h"
#include "pulse/core/pipeline.h"
#include "pulse/io/file.h"
#include "pulse/metrics/registry.h"
#include "pulse/ops/window.h"

namespace pulse::io {
namespace {

namespace kt = kafka_testing;
using pulse::testing::ManualClock;
using pulse::testing::TempDir;
using namespace std::chrono_literals;

class KafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::string> brokers = kt::TestBrokers();
    ASSERT_TRUE(brokers.ok()) << brokers.status().ToString();
    brokers_ = *brokers;
  }

  // A topic name no other test (or earlier run against the same broker) uses.
  std::string NewTopic(const std::string& what, int partitions,
                       const std::map<std::string, std::string>& configs = {}) {
    static std::mt19937_64 rng{std::random_device{}()};
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = fmt::format("{}-{}-{:08x}", info->name(), what, rng() & 0xffffffff);
    Status st = kt::CreateTopic(brokers_, name, partitions, configs);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return name;
  }

  KafkaSourceOptions SourceOptions(const std::string& topic) const {
    KafkaSourceOptions o;
    o.bootstrap_servers = brokers_;
    o.topics = {topic};
    o.group_id = "g-" + topic;
    o.auto_offset_reset = "earliest";
    o.time_field = "t";
    return o;
  }

  KafkaSinkOptions SinkOptions(const std::string& topic) const {
    KafkaSinkOptions o;
    o.bootstrap_servers = brokers_;
    o.topic = topic;
    return o;
  }

  std::string brokers_;
};

// A source opened with its own bad-record handler and counters, read until a condition holds.
struct OpenSource {
  std::unique_ptr<BadRecordHandler> bad;
  SourceCounters counters;
  std::atomic<bool> stop{false};
  std::unique_ptr<Source> source;
  std::vector<Record> records;
  std::vector<SourceWatermark> marks;  // index relative to `records`

  // `env` (null: the default) gives the source its clock (idle_timeout).
  // `idle`: the pipeline's idleness (SourceContext::idle_timeout).
  Status Open(std::unique_ptr<Source> s, std::optional<DurationMs> bound,
              const std::string& dead_letter = "", metrics::Registry* registry = nullptr,
              Env* env = nullptr, std::optional<DurationMs> idle = std::nullopt) {
    PULSE_ASSIGN_OR_RETURN(bad, BadRecordHandler::Open({OnError::kSkip, dead_letter}));
    source = std::move(s);
    SourceContext ctx;
    ctx.bad_records = bad.get();
    ctx.counters = &counters;
    ctx.stop = &stop;
    ctx.max_out_of_orderness = bound;
    ctx.metrics = registry;
    ctx.env = env;
    ctx.idle_timeout = idle;
    return source->Open(ctx);
  }

  // Read until `done()` or `timeout`; true if done.
  template <typename Done>
  bool ReadUntil(Done done, std::chrono::milliseconds timeout = 20s, size_t max_records = 100) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::vector<Record> batch;
      Result<bool> more = source->Read(max_records, &batch);
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok()) return false;
      std::vector<SourceWatermark> m;
      source->TakeWatermarks(&m);
      for (SourceWatermark& w : m) marks.push_back({records.size() + w.index, w.watermark});
      for (Record& r : batch) records.push_back(std::move(r));
    }
    return true;
  }

  EventTime LastWatermark() const { return marks.empty() ? kMinWatermark : marks.back().watermark; }

  // Keep reading for `duration` of real time (what a partition's silence takes in real time
  // must not matter when the source's clock is a ManualClock).
  void ReadFor(std::chrono::milliseconds duration) {
    (void)ReadUntil([] { return false; }, duration);
  }
};

std::string Json(EventTime t, const std::string& user) {
  return fmt::format(R"({{"t":{},"user":"{}"}})", t, user);
}

TEST_F(KafkaTest, SourceDecodesJsonAndDeadLettersBadPayloadsWithTopicPartitionOffset) {
  const std::string topic = NewTopic("in", 1);
  ASSERT_OK(kt::Produce(brokers_, topic,
                        {{0, std::nullopt, Json(1000, "a")},
                         {0, std::nullopt, "not json"},
                         {0, std::nullopt, "[1,2]"},
                         {0, std::nullopt, R"({"user":"b"})"},
                         {0, std::nullopt, R"({"t":"2024-01-01T00:00:00Z","user":"c"})"}}));
  TempDir dir;
  OpenSource s;
  ASSERT_OK(s.Open(KafkaSource(SourceOptions(topic)), std::nullopt, dir.file("dead.jsonl")));
  ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() >= 2 && s.bad->total() >= 3; }));
  ASSERT_EQ(s.records.size(), 2u);
  EXPECT_EQ(s.records[0].time, 1000);
  EXPECT_EQ(s.records[0].value.ToJson(), R"({"t":1000,"user":"a"})");
  EXPECT_EQ(s.records[1].time, 1704067200000);
  EXPECT_EQ(s.bad->count(BadReason::kInvalidJson), 1u);
  EXPECT_EQ(s.bad->count(BadReason::kNotAnObject), 1u);
  EXPECT_EQ(s.bad->count(BadReason::kBadEventTime), 1u);
  EXPECT_EQ(s.counters.records.load(), 2u);
  ASSERT_OK(s.source->Close());
  ASSERT_OK(s.bad->Close());
  const std::string dead = pulse::testing::ReadFile(dir.file("dead.jsonl"));
  EXPECT_NE(dead.find(fmt::format(R"("origin":"{}/0","position":1,)", topic)), std::string::npos)
      << dead;
  EXPECT_NE(dead.find(fmt::format(R"("origin":"{}/0","position":2,)", topic)), std::string::npos);
  EXPECT_NE(dead.find(R"("reason":"bad_event_time")"), std::string::npos);
  EXPECT_NE(dead.find(R"("error":"missing time field 't'")"), std::string::npos);
}

TEST_F(KafkaTest, SourceCanTakeEventTimeFromTheMessageTimestamp) {
  const std::string topic = NewTopic("in", 1);
  ASSERT_OK(kt::Produce(brokers_, topic, {{0, std::nullopt, R"({"user":"a"})"}}));
  KafkaSourceOptions o = SourceOptions(topic);
  o.time_source = KafkaTimeSource::kTimestamp;
  OpenSource s;
  const int64_t before = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  ASSERT_OK(s.Open(KafkaSource(o), std::nullopt));
  ASSERT_TRUE(s.ReadUntil([&] { return !s.records.empty(); }));
  // Produced within the last minute (CreateTime set by the producer).
  EXPECT_GT(s.records[0].time, before - 60'000);
  EXPECT_LE(s.records[0].time, before + 1000);
  ASSERT_OK(s.source->Close());
}

TEST_F(KafkaTest, SourceWatermarkIsTheMinimumOverPartitionsMinusTheBound) {
  const std::string topic = NewTopic("in", 3);
  ASSERT_OK(kt::Produce(brokers_, topic,
                        {{0, std::nullopt, Json(10'000, "a")},
                         {1, std::nullopt, Json(20'000, "b")},
                         {0, std::nullopt, Json(12'000, "a")},
                         {2, std::nullopt, Json(5'000, "c")}}));
  OpenSource s;
  ASSERT_OK(s.Open(KafkaSource(SourceOptions(topic)), 1000));
  EXPECT_TRUE(s.source->GeneratesWatermarks());
  ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() == 4; }));
  // Partition maxima 12000, 20000, 5000; bound 1000.
  EXPECT_EQ(s.LastWatermark(), 4'000);
  // Watermarks rise and each follows the record that raised it.
  for (size_t i = 1; i < s.marks.size(); ++i)
    EXPECT_GT(s.marks[i].watermark, s.marks[i - 1].watermark);
  // The last rise comes with the last of the three partitions' first records.
  ASSERT_FALSE(s.marks.empty());
  EXPECT_GE(s.marks.back().index, 3u);
  ASSERT_OK(kt::Produce(brokers_, topic, {{2, std::nullopt, Json(30'000, "c")}}));
  ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() == 5; }));
  EXPECT_EQ(s.LastWatermark(), 11'000);  // now partition 0 (12000) is the slowest
  ASSERT_OK(s.source->Close());
}

// A partition turns idle when it is caught up and silent for idle_timeout of the run's clock,
// counted from its last message or from the first Read (not from Open): not a millisecond
// earlier, however long that takes in real time, and at once when the time has come.
TEST_F(KafkaTest, IdlePartitionStopsHoldingTheWatermarkBackAndRejoins) {
  const std::string topic = NewTopic("in", 3);
  KafkaSourceOptions o = SourceOptions(topic);
  o.idle_timeout_ms = 1500;
  ManualClock clock;
  EnvWithClock env(clock);
  OpenSource s;
  ASSERT_OK(s.Open(KafkaSource(o), 0, "", nullptr, &env));
  clock.Advance(10s);  // between Open and the first Read (a restore, say): not silence
  s.ReadFor(500ms);    // every partition is caught up (empty) and silent since the first Read
  EXPECT_EQ(s.LastWatermark(), kMinWatermark);
  clock.Advance(1000ms);
  ASSERT_OK(
      kt::Produce(brokers_, topic,
                  {{0, std::nullopt, Json(10'000, "a")}, {1, std::nullopt, Json(20'000, "b")}}));
  ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() == 2; }));
  // Partition 2 has sent nothing: no watermark, and none 1499 ms after the first Read.
  EXPECT_EQ(s.LastWatermark(), kMinWatermark);
  clock.Advance(499ms);
  s.ReadFor(1s);
  EXPECT_EQ(s.LastWatermark(), kMinWatermark);
  // At 1500 ms partition 2 is idle (0 and 1 spoke 500 ms ago and still count).
  clock.Advance(1ms);
  ASSERT_TRUE(s.ReadUntil([&] { return s.LastWatermark() != kMinWatermark; }, 10s));
  EXPECT_EQ(s.LastWatermark(), 10'000);
  // Partition 2 rejoins with an old time: the watermark does not go back.
  ASSERT_OK(kt::Produce(brokers_, topic, {{2, std::nullopt, Json(4'000, "c")}}));
  ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() == 3; }));
  EXPECT_EQ(s.LastWatermark(), 10'000);
  // Now partition 2 (4000) is the slowest of the active ones, so 40000 elsewhere changes nothing.
  ASSERT_OK(
      kt::Produce(brokers_, topic,
                  {{0, std::nullopt, Json(40'000, "a")}, {1, std::nullopt, Json(40'000, "b")}}));
  ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() == 5; }));
  EXPECT_EQ(s.LastWatermark(), 10'000);
  ASSERT_OK(kt::Produce(brokers_, topic, {{2, std::nullopt, Json(30'000, "c")}}));
  ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() == 6; }));
  EXPECT_EQ(s.LastWatermark(), 30'000);
  ASSERT_OK(s.source->Close());
}

// The pipeline's idleness (time.idle_timeout, SourceContext::idle_timeout): once every
// partition is caught up and nothing has arrived for the timeout of the run's clock, the
// watermark follows that clock from the largest event time of all partitions minus the bound;
// not a millisecond earlier, and it never goes back when a partition speaks again.
TEST_F(KafkaTest, WholeSourceIdlenessAdvancesTheWatermarkWithTheClockOnceCaughtUp) {
  const std::string topic = NewTopic("in", 3);
  ManualClock clock;
  EnvWithClock env(clock);
  OpenSource s;
  ASSERT_OK(s.Open(KafkaSource(SourceOptions(topic)), 1000, "", nullptr, &env, 2000));
  ASSERT_OK(kt::Produce(brokers_, topic,
                        {{0, std::nullopt, Json(10'000, "a")},
                         {1, std::nullopt, Json(20'000, "b")},
                         {2, std::nullopt, Json(5'000, "c")}}));
  ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() == 3; }));
  s.ReadFor(500ms);  // every partition reports its end: caught up
  EXPECT_EQ(s.LastWatermark(), 4'000);  // the slowest partition, 5000 − 1000
  clock.Advance(1999ms);
  s.ReadFor(500ms);
  EXPECT_EQ(s.LastWatermark(), 4'000);
  clock.Advance(1ms);  // 2000 ms of silence: 20000 − 1000 + 2000
  ASSERT_TRUE(s.ReadUntil([&] { return s.LastWatermark() != 4'000; }, 10s));
  EXPECT_EQ(s.LastWatermark(), 21'000);
  clock.Advance(500ms);
  ASSERT_TRUE(s.ReadUntil([&] { return s.LastWatermark() == 21'500; }, 10s));
  // A partition speaks again with an old time: the watermark stays, the silence starts over.
  ASSERT_OK(kt::Produce(brokers_, topic, {{2, std::nullopt, Json(6'000, "c")}}));
  ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() == 4; }));
  clock.Advance(1500ms);
  s.ReadFor(500ms);
  EXPECT_EQ(s.LastWatermark(), 21'500);
  ASSERT_OK(s.source->Close());
}

// The value of the sample of family `name` with these label values, or NaN if there is none.
double SampleValue(const metrics::Registry& registry, std::string_view name,
                   const std::vector<std::string>& label_values) {
  for (const metrics::FamilySnapshot& f : registry.Collect()) {
    if (f.name != name) continue;
    if (const metrics::SampleSnapshot* s = f.Find(label_values)) return s->value;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// A per-partition gauge of the Kafka source (labels topic, partition).
double PartitionGauge(const metrics::Registry& registry, std::string_view name,
                      const std::string& topic, int partition) {
  return SampleValue(registry, name, {topic, std::to_string(partition)});
}

TEST_F(KafkaTest, PartitionMetricsShowLagWatermarkAndIdleness) {
  const std::string topic = NewTopic("in", 3);
  std::vector<kt::OutMessage> messages;
  for (int i = 0; i < 10; ++i) messages.push_back({0, std::nullopt, Json(10'000 + i, "a")});
  messages.push_back({1, std::nullopt, Json(20'000, "b")});
  ASSERT_OK(kt::Produce(brokers_, topic, messages));
  KafkaSourceOptions o = SourceOptions(topic);
  o.idle_timeout_ms = 3'600'000;  // an hour: only the manual clock gets there in the test
  metrics::Registry registry;
  ManualClock clock;
  EnvWithClock env(clock);
  OpenSource s;
  ASSERT_OK(s.Open(KafkaSource(o), 500, "", &registry, &env));
  auto gauge = [&](std::string_view name, int partition) {
    return PartitionGauge(registry, name, topic, partition);
  };
  constexpr double kMinusInf = -std::numeric_limits<double>::infinity();
  for (int p = 0; p < 3; ++p) {
    EXPECT_EQ(gauge("pulse_kafka_partition_watermark_seconds", p), kMinusInf) << p;
    EXPECT_EQ(gauge("pulse_kafka_partition_idle", p), 0) << p;
  }
  // One record at a time. The fetch that brings a partition's first record also tells its high
  // watermark, so from then on its lag + the records read from it is what it holds. (The two
  // partitions' fetches may arrive in any order, so each is checked on its own.)
  auto read_from = [&](const std::string& user) {
    return std::count_if(s.records.begin(), s.records.end(), [&](const Record& r) {
      return r.value.Find("user")->as_string() == user;
    });
  };
  bool saw_lag_mid_stream = false;
  while (s.records.size() < 11) {
    const size_t before = s.records.size();
    ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() > before; }, 20s, 1));
    const auto from_a = read_from("a");
    const auto from_b = read_from("b");
    if (from_a > 0) {
      EXPECT_EQ(gauge("pulse_kafka_partition_lag", 0) + static_cast<double>(from_a), 10)
          << "after " << s.records.size() << " records";
      saw_lag_mid_stream |= from_a < 10 && gauge("pulse_kafka_partition_lag", 0) > 0;
    }
    if (from_b > 0) {
      EXPECT_EQ(gauge("pulse_kafka_partition_lag", 1), 0);
    }
  }
  EXPECT_TRUE(saw_lag_mid_stream);
  auto lag = [&] {
    double total = 0;
    for (int p = 0; p < 3; ++p) total += gauge("pulse_kafka_partition_lag", p);
    return total;
  };
  // No partition is idle before idle_timeout of the source's clock, and the silent one is
  // right after.
  s.ReadFor(500ms);
  for (int p = 0; p < 3; ++p) EXPECT_EQ(gauge("pulse_kafka_partition_idle", p), 0) << p;
  clock.Advance(1h);
  ASSERT_TRUE(s.ReadUntil([&] { return gauge("pulse_kafka_partition_idle", 2) == 1; }, 10s));
  EXPECT_EQ(lag(), 0);
  EXPECT_EQ(gauge("pulse_kafka_partition_watermark_seconds", 0), 9.509);  // 10009 - 500 ms
  EXPECT_EQ(gauge("pulse_kafka_partition_watermark_seconds", 1), 19.5);
  EXPECT_EQ(gauge("pulse_kafka_partition_watermark_seconds", 2), kMinusInf);
  ASSERT_OK(s.source->Close());
}

TEST_F(KafkaTest, PositionSeekResumesExactlyAfterTheLastRecordReturned) {
  const std::string topic = NewTopic("in", 2);
  std::vector<kt::OutMessage> messages;
  for (int i = 0; i < 20; ++i) messages.push_back({i % 2, std::nullopt, Json(i * 1000, "u")});
  ASSERT_OK(kt::Produce(brokers_, topic, messages));

  Value position;
  std::vector<EventTime> times;
  {
    OpenSource s;
    ASSERT_OK(s.Open(KafkaSource(SourceOptions(topic)), std::nullopt));
    ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() >= 7; }, 20s, 7));
    ASSERT_OK_AND_ASSIGN(position, s.source->AsCheckpointed()->Position());
    for (const Record& r : s.records) times.push_back(r.time);
    ASSERT_OK(s.source->AsCheckpointed()->OnCheckpointCommitted(position));
    ASSERT_OK(s.source->Close());
  }
  // Offsets per partition: next to read = records returned from it.
  // and the largest event time read from it.
  int64_t even = 0;
  EventTime max_even = -1;
  EventTime max_odd = -1;
  for (EventTime t : times) {
    const bool is_even = (t / 1000) % 2 == 0;
    even += is_even;
    (is_even ? max_even : max_odd) = std::max(is_even ? max_even : max_odd, t);
  }
  const int64_t odd = static_cast<int64_t>(times.size()) - even;
  // A partition nothing was read from has no max_time.
  auto max_time = [](EventTime t) {
    return t < 0 ? std::string() : fmt::format(",\"max_time\":{}", t);
  };
  EXPECT_EQ(position.ToJson(),
            fmt::format(R"({{"kafka_offsets":[{{"topic":"{0}","partition":0,"offset":{1}{3}}},)"
                        R"({{"topic":"{0}","partition":1,"offset":{2}{4}}}]}})",
                        topic, even, odd, max_time(max_even), max_time(max_odd)));
  // The group's committed offsets follow the committed checkpoint (asynchronously).
  std::map<int32_t, int64_t> committed;
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK_AND_ASSIGN(committed, kt::CommittedOffsets(brokers_, "g-" + topic, topic));
    if (committed[0] == even && committed[1] == odd) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(committed[0], even);
  EXPECT_EQ(committed[1], odd);

  // A new source (auto_offset_reset = latest, so only the position can bring it back) resumes.
  KafkaSourceOptions o = SourceOptions(topic);
  o.auto_offset_reset = "latest";
  o.group_id = "another-group";
  OpenSource s;
  std::unique_ptr<Source> resumed = KafkaSource(o);
  ASSERT_OK(resumed->AsCheckpointed()->Seek(position));
  ASSERT_OK(s.Open(std::move(resumed), std::nullopt));
  ASSERT_TRUE(s.ReadUntil([&] { return times.size() + s.records.size() >= 20; }));
  for (const Record& r : s.records) times.push_back(r.time);
  std::sort(times.begin(), times.end());
  ASSERT_EQ(times.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(times[i], i * 1000);
  ASSERT_OK(s.source->Close());

  EXPECT_EQ(KafkaSource(o)->AsCheckpointed()->Seek(Value(Object{})).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(KafkaTest, ResumedSourceContinuesEachPartitionsWatermark) {
  const std::string topic = NewTopic("in", 2);
  ASSERT_OK(
      kt::Produce(brokers_, topic,
                  {{0, std::nullopt, Json(10'000, "a")}, {1, std::nullopt, Json(20'000, "b")}}));
  Value position;
  {
    OpenSource s;
    ASSERT_OK(s.Open(KafkaSource(SourceOptions(topic)), 0));
    ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() == 2; }));
    EXPECT_EQ(s.LastWatermark(), 10'000);
    ASSERT_OK_AND_ASSIGN(position, s.source->AsCheckpointed()->Position());
    ASSERT_OK(s.source->Close());
  }
  // After the restart only partition 1 has new data; partition 0 still counts with 10000 (it
  // would hold the watermark at -inf if its state were lost).
  ASSERT_OK(kt::Produce(brokers_, topic, {{1, std::nullopt, Json(30'000, "b")}}));
  OpenSource s;
  std::unique_ptr<Source> resumed = KafkaSource(SourceOptions(topic));
  ASSERT_OK(resumed->AsCheckpointed()->Seek(position));
  ASSERT_OK(s.Open(std::move(resumed), 0));
  ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() == 1; }));
  EXPECT_EQ(s.LastWatermark(), 10'000);
  ASSERT_OK(kt::Produce(brokers_, topic, {{0, std::nullopt, Json(25'000, "a")}}));
  ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() == 2; }));
  EXPECT_EQ(s.LastWatermark(), 25'000);
  ASSERT_OK(s.source->Close());
}

TEST_F(KafkaTest, ResumedSourceDeclaresItsWatermarkBeforeAnyRecord) {
  const std::string topic = NewTopic("in", 2);
  ASSERT_OK(
      kt::Produce(brokers_, topic,
                  {{0, std::nullopt, Json(10'000, "a")}, {1, std::nullopt, Json(20'000, "b")}}));
  Value position;
  {
    OpenSource s;
    ASSERT_OK(s.Open(KafkaSource(SourceOptions(topic)), 500));
    ASSERT_TRUE(s.ReadUntil([&] { return s.records.size() == 2; }));
    ASSERT_OK_AND_ASSIGN(position, s.source->AsCheckpointed()->Position());
    ASSERT_OK(s.source->Close());
  }
  // Nothing new in the topic: the first Read declares the saved watermark at index 0.
  OpenSource s;
  std::unique_ptr<Source> resumed = KafkaSource(SourceOptions(topic));
  ASSERT_OK(resumed->AsCheckpointed()->Seek(position));
  ASSERT_OK(s.Open(std::move(resumed), 500));
  ASSERT_TRUE(s.ReadUntil([&] { return !s.marks.empty(); }, 5s));
  EXPECT_TRUE(s.records.empty());
  EXPECT_EQ(s.marks.front().index, 0u);
  EXPECT_EQ(s.marks.front().watermark, 9'500);
  ASSERT_OK(s.source->Close());
}

// Reads until Read() returns false (the bounded read ended); false if it did not within 20 s.
bool ReadToTheEnd(OpenSource& s) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::vector<Record> batch;
    Result<bool> more = s.source->Read(100, &batch);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    std::vector<SourceWatermark> m;
    s.source->TakeWatermarks(&m);
    for (SourceWatermark& w : m) s.marks.push_back({s.records.size() + w.index, w.watermark});
    for (Record& r : batch) s.records.push_back(std::move(r));
    if (!more.ok() || !*more) return more.ok();
  }
  return false;
}

TEST_F(KafkaTest, StopAtEndReadsWhatTheTopicHeldAtTheStartAndEnds) {
  const std::string topic = NewTopic("in", 3);
  std::vector<kt::OutMessage> before;
  for (int i = 0; i < 9; ++i) before.push_back({i % 2, std::nullopt, Json(1000 * i, "a")});
  ASSERT_OK(kt::Produce(brokers_, topic, before));  // partition 2 stays empty
  KafkaSourceOptions o = SourceOptions(topic);
  o.stop_at = KafkaStopAt::kEnd;
  OpenSource s;
  ASSERT_OK(s.Open(KafkaSource(o), 0));
  // Produced after the start: beyond the end.
  ASSERT_OK(kt::Produce(brokers_, topic, {{0, std::nullopt, Json(50'000, "late")},
                                          {2, std::nullopt, Json(60'000, "late")}}));
  ASSERT_TRUE(ReadToTheEnd(s));
  ASSERT_EQ(s.records.size(), 9u);
  for (const Record& r : s.records) EXPECT_EQ(r.value.Find("user")->as_string(), "a");
  // The position stops at the end offsets, so a resumed unbounded run reads the rest.
  ASSERT_OK_AND_ASSIGN(Value position, s.source->AsCheckpointed()->Position());
  EXPECT_EQ(position.ToJson(),
            fmt::format(R"({{"kafka_offsets":[{{"topic":"{0}","partition":0,"offset":5,)"
                        R"("max_time":8000}},{{"topic":"{0}","partition":1,"offset":4,)"
                        R"("max_time":7000}},{{"topic":"{0}","partition":2,"offset":0}}]}})",
                        topic));
  Result<bool> again = s.source->Read(100, &s.records);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(s.records.size(), 9u);
  ASSERT_OK(s.source->Close());
}

TEST_F(KafkaTest, StopAtATimeEndsEachPartitionAtItsFirstLaterMessage) {
  const std::string topic = NewTopic("in", 2);
  constexpr int64_t kT0 = 1'700'000'000'000;
  std::vector<kt::OutMessage> messages;
  for (int i = 0; i < 10; ++i) {
    kt::OutMessage m{i % 2, std::nullopt, Json(i, "u" + std::to_string(i))};
    m.timestamp_ms = kT0 + 1000 * i;
    messages.push_back(m);
  }
  ASSERT_OK(kt::Produce(brokers_, topic, messages));
  KafkaSourceOptions o = SourceOptions(topic);
  o.stop_at = KafkaStopAt::kTime;
  o.stop_at_time = kT0 + 5000;  // messages 0..4 are before it, 5 is at it
  OpenSource s;
  ASSERT_OK(s.Open(KafkaSource(o), 0));
  ASSERT_TRUE(ReadToTheEnd(s));
  std::vector<EventTime> times;
  for (const Record& r : s.records) times.push_back(r.time);
  std::sort(times.begin(), times.end());
  EXPECT_EQ(times, (std::vector<EventTime>{0, 1, 2, 3, 4}));
  ASSERT_OK(s.source->Close());
}

TEST_F(KafkaTest, SourceReportsAMissingTopic) {
  OpenSource s;
  Status st = s.Open(KafkaSource(SourceOptions("no-such-topic-xyz")), std::nullopt);
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  EXPECT_NE(st.message().find("no-such-topic-xyz"), std::string::npos);
}

Record WindowResult(EventTime end, const std::string& key, int64_t count) {
  Record r;
  r.time = end - 1;
  r.value =
      Value(Object{{"window_end_ms", Value(end)}, {"key", Value(key)}, {"count", Value(count)}});
  return r;
}

TEST_F(KafkaTest, AtLeastOnceSinkWritesJsonWithKeys) {
  const std::string topic = NewTopic("out", 1);
  KafkaSinkOptions o = SinkOptions(topic);
  o.key_field = "key";
  std::unique_ptr<Sink> sink = KafkaSink(o);
  SinkCounters counters;
  ASSERT_OK(sink->Open({&counters}));
  std::vector<Record> records = {WindowResult(1000, "a", 2), WindowResult(1000, "b", 1)};
  ASSERT_OK(sink->Write(records));
  ASSERT_OK(sink->Close());
  EXPECT_EQ(counters.records.load(), 2u);
  ASSERT_OK_AND_ASSIGN(std::vector<kt::InMessage> out, kt::ReadTopic(brokers_, topic, true, 2));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].value, R"({"window_end_ms":1000,"key":"a","count":2})");
  EXPECT_EQ(out[0].key, std::optional<std::string>("a"));
  EXPECT_EQ(out[1].value, R"({"window_end_ms":1000,"key":"b","count":1})");
}

TEST_F(KafkaTest, DeliveryFailureFailsTheSinkLoudly) {
  // The broker refuses messages above 200 bytes for this topic; the client does not know.
  const std::string topic = NewTopic("out", 1, {{"max.message.bytes", "200"}});
  KafkaSinkOptions o = SinkOptions(topic);
  o.properties = {{"message.timeout.ms", "10000"}};
  std::unique_ptr<Sink> sink = KafkaSink(o);
  SinkCounters counters;
  ASSERT_OK(sink->Open({&counters}));
  Record big;
  big.value = Value(Object{{"key", Value(std::string(1000, 'x'))}});
  Status st = sink->Write(std::vector<Record>{big});
  if (st.ok()) st = sink->Close();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("delivery of a result to topic"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("MSG_SIZE_TOO_LARGE"), std::string::npos) << st.ToString();
  sink->Abort();

  // A missing topic fails at Open, before any result.
  std::unique_ptr<Sink> missing = KafkaSink(SinkOptions("no-such-output-topic"));
  EXPECT_EQ(missing->Open({&counters}).code(), StatusCode::kNotFound);
}

TEST_F(KafkaTest, ExactlyOnceSinkNeedsCheckpoints) {
  const std::string topic = NewTopic("out", 1);
  KafkaSinkOptions o = SinkOptions(topic);
  o.delivery = KafkaDelivery::kExactlyOnce;
  std::unique_ptr<Sink> sink = KafkaSink(o);
  SinkCounters counters;
  ASSERT_OK(sink->Open({&counters}));
  Status st = sink->Write(std::vector<Record>{WindowResult(1000, "a", 1)});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("needs checkpoints"), std::string::npos) << st.ToString();
  sink->Abort();
}

TEST(KafkaSinkOptionsTest, CheckpointIntervalMustFitTheTransactionTimeout) {
  KafkaSinkOptions o;
  o.bootstrap_servers = "localhost:9092";
  o.topic = "out";
  o.delivery = KafkaDelivery::kExactlyOnce;
  o.checkpoint_interval_ms = 10'000;
  EXPECT_OK(o.Validate());  // 10 s fits the default 60 s
  o.checkpoint_interval_ms = 45'000;
  Status st = o.Validate();
  EXPECT_EQ(st.message(),
            "kafka sink: the checkpoint interval (45s) does not fit the transaction timeout "
            "(transaction.timeout.ms = 60000, the default): each transaction stays open from one "
            "checkpoint to the next. Set [sink.properties] transaction.timeout.ms to at least "
            "90000 (the broker allows up to its transaction.max.timeout.ms, 15 minutes by "
            "default), or checkpoint at least every 30s");
  o.properties = {{"transaction.timeout.ms", "90000"}};
  EXPECT_OK(o.Validate());
  o.acks = "1";
  EXPECT_EQ(o.Validate().message(),
            "kafka sink: delivery = \"exactly-once\" needs acks = \"all\"; got \"1\"");
  o.delivery = KafkaDelivery::kAtLeastOnce;
  EXPECT_OK(o.Validate());
}

std::vector<std::string> Values(const std::vector<kt::InMessage>& messages) {
  std::vector<std::string> values;
  for (const kt::InMessage& m : messages) values.push_back(m.value);
  std::sort(values.begin(), values.end());
  return values;
}

TEST_F(KafkaTest, ExactlyOnceSinkCommitsPerCheckpointAndRedoesAnAbortedOne) {
  const std::string topic = NewTopic("out", 2);
  KafkaSinkOptions o = SinkOptions(topic);
  o.delivery = KafkaDelivery::kExactlyOnce;
  o.transactional_id = "tx-" + topic;
  o.key_field = "key";
  SinkCounters counters;
  Value info2;
  // The sink's metrics: results acknowledged, in flight, transactions by outcome.
  auto expect_metrics = [&](const metrics::Registry& r, double delivered, double committed,
                            double aborted, double redone = 0) {
    EXPECT_EQ(SampleValue(r, "pulse_kafka_sink_delivered_total", {topic}), delivered);
    EXPECT_EQ(SampleValue(r, "pulse_kafka_sink_in_flight", {topic}), 0);
    EXPECT_EQ(SampleValue(r, "pulse_kafka_sink_transactions_total", {topic, "committed"}),
              committed);
    EXPECT_EQ(SampleValue(r, "pulse_kafka_sink_transactions_total", {topic, "aborted"}),
              aborted);
    EXPECT_EQ(SampleValue(r, "pulse_kafka_sink_transactions_total", {topic, "redone"}), redone);
  };
  {
    metrics::Registry registry;
    std::unique_ptr<Sink> sink = KafkaSink(o);
    ASSERT_OK(sink->Open({&counters, &registry}));
    ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
    ASSERT_OK(
        sink->Write(std::vector<Record>{WindowResult(1000, "a", 1), WindowResult(1000, "b", 2)}));
    ASSERT_OK_AND_ASSIGN(Value info1, sink->AsCheckpointed()->PrepareCommit(1));
    // Prepared, not committed: a read_committed consumer sees nothing yet.
    ASSERT_OK_AND_ASSIGN(std::vector<kt::InMessage> seen, kt::ReadTopic(brokers_, topic, true));
    EXPECT_TRUE(seen.empty());
    ASSERT_OK(sink->AsCheckpointed()->Commit(1));
    ASSERT_OK(sink->AsCheckpointed()->Commit(1));  // idempotent
    ASSERT_OK_AND_ASSIGN(seen, kt::ReadTopic(brokers_, topic, true, 2));
    EXPECT_EQ(seen.size(), 2u);
    ASSERT_OK(
        sink->Write(std::vector<Record>{WindowResult(2000, "a", 3), WindowResult(2000, "c", 4)}));
    ASSERT_OK_AND_ASSIGN(info2, sink->AsCheckpointed()->PrepareCommit(2));
    expect_metrics(registry, 4, 1, 0);
    // The process dies here: checkpoint 2 is durable, its transaction never commits.
  }
  const std::vector<std::string> all = {R"({"window_end_ms":1000,"key":"a","count":1})",
                                        R"({"window_end_ms":1000,"key":"b","count":2})",
                                        R"({"window_end_ms":2000,"key":"a","count":3})",
                                        R"({"window_end_ms":2000,"key":"c","count":4})"};
  for (int restart = 0; restart < 2; ++restart) {
    // The next run resumes from checkpoint 2: the first restart finds its transaction aborted
    // and produces its results again; the second finds them committed and does nothing.
    metrics::Registry registry;
    std::vector<std::string> warnings;
    std::unique_ptr<Sink> sink = KafkaSink(o);
    ASSERT_OK(sink->Open(
        {&counters, &registry, [&](std::string_view w) { warnings.emplace_back(w); }}));
    ASSERT_OK(sink->AsCheckpointed()->Recover(&info2));
    ASSERT_OK(sink->AsCheckpointed()->Suspend());
    // The redo is a transaction of its own; Suspend aborts the (empty) one after it. The redo
    // is counted and said.
    if (restart == 0) {
      expect_metrics(registry, 2, 1, 1, 1);
      ASSERT_EQ(warnings.size(), 1u);
      EXPECT_EQ(warnings[0], fmt::format("kafka sink '{}': the transaction of checkpoint 2 had "
                                         "been aborted (the previous run stopped between the "
                                         "checkpoint and its commit); its 2 results were "
                                         "written again",
                                         topic));
    } else {
      expect_metrics(registry, 0, 0, 1, 0);
      EXPECT_TRUE(warnings.empty());
    }
    ASSERT_OK_AND_ASSIGN(std::vector<kt::InMessage> seen, kt::ReadTopic(brokers_, topic, true, 4));
    EXPECT_EQ(Values(seen), all) << "restart " << restart;
  }
  // Redone results keep their partitions (and keys).
  ASSERT_OK_AND_ASSIGN(std::vector<kt::InMessage> seen, kt::ReadTopic(brokers_, topic, true, 4));
  for (const kt::InMessage& m : seen) {
    for (const kt::InMessage& n : seen) {
      if (m.key == n.key) {
        EXPECT_EQ(m.partition, n.partition);
      }
    }
  }
  // A later checkpoint and the end of the run.
  std::unique_ptr<Sink> sink = KafkaSink(o);
  ASSERT_OK(sink->Open({&counters}));
  ASSERT_OK(sink->AsCheckpointed()->Recover(&info2));
  ASSERT_OK(sink->Write(std::vector<Record>{WindowResult(3000, "d", 5)}));
  ASSERT_OK(sink->Close());
  ASSERT_OK_AND_ASSIGN(seen, kt::ReadTopic(brokers_, topic, true, 5));
  EXPECT_EQ(seen.size(), 5u);
}

// --- A live pipeline: Kafka (3 partitions) → tumbling count → Kafka, against the same data
// from a file.

constexpr DurationMs kWindowMs = 10'000;
constexpr DurationMs kBoundMs = 2'000;

// Events of users u0..u4 over 100 s; within each partition times are out of order by at most
// kBoundMs. Partition = i % partitions (partitions with no data are left out).
std::vector<std::pair<int, std::string>> Events(int used_partitions) {
  std::vector<std::pair<int, std::string>> events;
  std::mt19937 rng(42);
  for (int i = 0; i < 300; ++i) {
    const EventTime t = i * 333 + static_cast<EventTime>(rng() % 1500);
    events.emplace_back(i % used_partitions,
                        fmt::format(R"({{"t":{},"user":"u{}"}})", t, rng() % 5));
  }
  return events;
}

Pipeline WindowPipeline(std::unique_ptr<Source> source, std::unique_ptr<Sink> sink) {
  ops::WindowOptions window;
  window.window = ops::WindowSpec::Tumbling(kWindowMs);
  window.agg = ops::AggSpec{ops::AggSpec::Kind::kCount, ""};
  Pipeline p;
  p.From(std::move(source)).KeyBy("user").Apply(ops::WindowedAggregate(window)).To(std::move(sink));
  p.Watermarks(WatermarkOptions{kBoundMs});
  return p;
}

// The results of the file run whose window ends at or before `watermark`.
std::vector<std::string> FileResults(const std::vector<std::pair<int, std::string>>& events,
                                     EventTime watermark) {
  TempDir dir;
  std::string text;
  for (const auto& e : events) text += e.second + "\n";
  pulse::testing::WriteFile(dir.file("in.jsonl"), text);
  std::vector<std::string> lines;
  FileSourceOptions f;
  f.path = dir.file("in.jsonl");
  f.time_field = "t";
  Result<RunProgress> run =
      Run(WindowPipeline(FileSource(f), std::make_unique<pulse::testing::CollectingSink>(&lines)));
  EXPECT_TRUE(run.ok()) << run.status().ToString();
  std::vector<std::string> closed;
  for (const std::string& line : lines) {
    Result<Value> v = ParseJson(line);
    if (v.ok() && v->Find("window_end_ms")->as_int() <= watermark) {
      closed.push_back(line);
    }
  }
  std::sort(closed.begin(), closed.end());
  return closed;
}

// With idle_timeout_ms > 0 the run's clock is a ManualClock that the test moves: partition 2,
// which gets no data, must hold every window open until idle_timeout of that clock has passed
// since the source's first Read, and release them right after.
void LivePipelineMatchesFile(KafkaTest& test, const std::string& brokers, int partitions,
                             int used_partitions, DurationMs idle_timeout_ms) {
  (void)test;
  const std::vector<std::pair<int, std::string>> events = Events(used_partitions);
  // Per used partition, the watermark the live run reaches: its largest time minus the bound.
  std::vector<EventTime> max_time(used_partitions, kMinWatermark);
  for (const auto& [p, json] : events) {
    max_time[p] = std::max(max_time[p], ParseJson(json)->Find("t")->as_int());
  }
  const EventTime watermark = *std::min_element(max_time.begin(), max_time.end()) - kBoundMs;
  const std::vector<std::string> expected = FileResults(events, watermark);
  ASSERT_GE(expected.size(), 20u);

  static std::mt19937_64 rng{std::random_device{}()};
  const std::string suffix = fmt::format("{:08x}", rng() & 0xffffffff);
  const std::string in = "live-in-" + suffix;
  const std::string out = "live-out-" + suffix;
  ASSERT_OK(kt::CreateTopic(brokers, in, partitions));
  ASSERT_OK(kt::CreateTopic(brokers, out, 1));

  KafkaSourceOptions so;
  so.bootstrap_servers = brokers;
  so.topics = {in};
  so.group_id = "live-" + suffix;
  so.auto_offset_reset = "earliest";
  so.time_field = "t";
  so.idle_timeout_ms = idle_timeout_ms;
  KafkaSinkOptions ko;
  ko.bootstrap_servers = brokers;
  ko.topic = out;
  ManualClock clock;
  EnvWithClock env(clock);
  metrics::Registry registry;
  const bool manual = idle_timeout_ms > 0;
  std::atomic<bool> stop{false};
  RunOptions options;
  options.stop = &stop;
  options.workers = 2;
  options.metrics = &registry;
  if (manual) options.env = &env;
  Result<RunProgress> result = Status::Internal("not run");
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    result = Run(WindowPipeline(KafkaSource(so), KafkaSink(ko)), options);
    returned = true;
  });
  auto gauge = [&](std::string_view name, int partition) {
    return PartitionGauge(registry, name, in, partition);
  };
  // Until `done`, for at most 60 s of real time; false if that passed.
  auto wait_until = [](const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  };
  // Produce while the pipeline runs, in two halves.
  std::vector<kt::OutMessage> messages;
  for (const auto& [p, json] : events) messages.push_back({p, std::nullopt, json});
  const size_t half = messages.size() / 2;
  Status produced = kt::Produce(brokers, in, {messages.begin(), messages.begin() + half});
  if (produced.ok() && manual) {
    // The source reads (its first Read starts partition 2's silence), then 500 ms pass on the
    // run's clock before the second half arrives.
    EXPECT_TRUE(wait_until([&] {
      return gauge("pulse_kafka_partition_watermark_seconds", 0) >
             -std::numeric_limits<double>::infinity();
    }));
    clock.Advance(std::chrono::milliseconds(idle_timeout_ms / 2));
  } else if (produced.ok()) {
    std::this_thread::sleep_for(500ms);
  }
  if (produced.ok()) {
    produced = kt::Produce(brokers, in, {messages.begin() + half, messages.end()});
  }
  if (produced.ok() && manual) {
    // Everything is read, yet partition 2 is not idle before its time: no window closes.
    EXPECT_TRUE(wait_until([&] {
      for (int p = 0; p < used_partitions; ++p) {
        if (gauge("pulse_kafka_partition_lag", p) != 0 ||
            gauge("pulse_kafka_partition_watermark_seconds", p) !=
                static_cast<double>(max_time[p] - kBoundMs) / 1000) {
          return false;
        }
      }
      return true;
    }));
    EXPECT_EQ(gauge("pulse_kafka_partition_idle", 2), 0);
    Result<std::vector<kt::InMessage>> early = kt::ReadTopic(brokers, out, true);
    ASSERT_TRUE(early.ok()) << early.status().ToString();
    EXPECT_TRUE(early->empty()) << early->size() << " results before partition 2 was idle";
    // Now partition 2 has been silent for idle_timeout; 0 and 1 for half of it.
    clock.Advance(std::chrono::milliseconds(idle_timeout_ms - idle_timeout_ms / 2));
  }
  // The results appear on the output topic while the source still runs.
  Result<std::vector<kt::InMessage>> seen =
      produced.ok() ? kt::ReadTopic(brokers, out, true, expected.size(), 60'000)
                    : Result<std::vector<kt::InMessage>>(produced);
  const bool still_running = !returned.load();
  if (manual) {
    EXPECT_EQ(gauge("pulse_kafka_partition_idle", 2), 1);
  }
  stop.store(true);
  runner.join();
  ASSERT_OK(produced);
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_TRUE(still_running) << "the run ended before its results were read";
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  // Stopped, the run wrote the closed windows and no more (an input that ended would have
  // closed every window).
  EXPECT_TRUE(result->cancelled);
  EXPECT_EQ(result->results_written, expected.size());
  // Nothing more than the closed windows, each once: read again after the run.
  ASSERT_OK_AND_ASSIGN(std::vector<kt::InMessage> final_out, kt::ReadTopic(brokers, out, true));
  EXPECT_EQ(Values(final_out), expected);
}

TEST_F(KafkaTest, LiveTopicWithThreePartitionsEmitsTheWindowsOfTheSameDataFromAFile) {
  LivePipelineMatchesFile(*this, brokers_, 3, 3, 0);
}

TEST_F(KafkaTest, IdlePartitionWithIdleTimeoutDoesNotStopWindowsFromClosing) {
  // Partition 2 never gets data; without idle_timeout no window would ever close. An hour of
  // the run's (manual) clock: a real-time idleness would never come within the test.
  LivePipelineMatchesFile(*this, brokers_, 3, 2, 3'600'000);
}

}  // namespace
}  // namespace pulse::io
