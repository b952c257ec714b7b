// SPDX-License-Identifier: MIT
// Tests for the pipeline config loader: the original's configs, defaults, and the exact text of
// every validation error.
#include "cli/config.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "pulse/config.h"
#include "testing/test_util.h"

namespace pulse::cli {
namespace {

using ::pulse::testing::TempDir;
using ::pulse::testing::WriteFile;

// The message LoadConfigString gives for `text`, or "OK".
std::string LoadError(std::string_view text) {
  Result<PipelineConfig> config = LoadConfigString(text, "pipeline.toml");
  return config.ok() ? std::string("OK") : config.status().message();
}

// What BuildPipeline gives for a config with a parquet sink on `line`: "OK" when this Pulse has
// the Parquet sink, else the error naming the option that turns it on.
std::string ParquetBuildResult(int line) {
  if (PULSE_HAVE_PARQUET) return "OK";
  return "pipeline.toml:" + std::to_string(line) +
         ": sink.kind = \"parquet\": this pulse was built without Parquet support "
         "(PULSE_WITH_PARQUET=OFF); rebuild with it ON or use kind = \"file\"";
}

// The message BuildPipeline gives for a config that loads, or "OK".
std::string BuildError(std::string_view text) {
  Result<PipelineConfig> config = LoadConfigString(text, "pipeline.toml");
  if (!config.ok()) return "load failed: " + config.status().message();
  Result<Pipeline> pipeline = BuildPipeline(*config);
  return pipeline.ok() ? std::string("OK") : pipeline.status().message();
}

// A valid config; tests below vary one part of it. Line numbers are noted where they matter.
constexpr std::string_view kMinimal = R"([source]
kind = "file"
path = "input.jsonl"

[window]
type = "tumbling"
size = "60s"

[ops]
count_by = "word"

[sink]
kind = "file"
path = "out.jsonl"
)";

// ---------------------------------------------------------------------------------------------
// The original's configs keep working.

// README "Config format": sliding window, parquet sink, comments after values.
constexpr std::string_view kReadmeSliding = R"([source]
kind = "file"
path = "pulse-examples/examples/sliding_avg.jsonl"
time_field = "event_time"

[time]
allowed_lateness = "10s"

[window]
# supported: tumbling|sliding|session
type = "sliding"
size = "60s"
slide = "15s"   # for sliding; for session, use: gap = "30s"

[ops]
# aggregation over a key; supported: count (default), sum, avg, distinct
count_by = "word"
# agg = "count"          # default
# agg_field = "value"     # obrigatório para sum|avg|distinct

[sink]
kind = "parquet"
out_dir = "outputs"
## Optional Parquet settings
# compression = "snappy"      # one of: snappy (default) | zstd | none
# max_bytes = 104857600        # rotate file when ~bytes reached (e.g. 100MB)
# partition_field = "user_id" # partition by a payload field value
# partition_format = "%Y-%m"  # date partition format when partitioning by event_time
)";

// README "CSV → Parquet".
constexpr std::string_view kReadmeCsv = R"([source]
kind = "file"
format = "csv"               # jsonl | csv
path = "input.csv"
time_field = "event_time"    # epoch ms in CSV

[time]
allowed_lateness = "10s"

[window]
type = "tumbling"
size = "60s"

[ops]
count_by = "word"

[sink]
kind = "parquet"
out_dir = "outputs"
)";

// README "other aggregations".
constexpr std::string_view kReadmeAvg = R"([source]
kind = "file"
path = "pulse-examples/examples/sliding_avg.jsonl"
time_field = "event_time"

[time]
allowed_lateness = "10s"

[window]
type = "tumbling"
size = "60s"

[ops]
count_by = "word"
agg = "avg"         # or: sum | distinct | count
agg_field = "score" # required for avg/sum/distinct

[sink]
kind = "parquet"
out_dir = "outputs"
)";

// pulse-tests/fixtures/simple/pipeline.toml.
constexpr std::string_view kFixture = R"([source]
kind = "file"
path = "pulse-tests/fixtures/simple/input.jsonl"
time_field = "event_time"

[time]
allowed_lateness = "0s"

[window]
type = "tumbling"
size = "60s"

[ops]
count_by = "word"

[sink]
kind = "parquet"
out_dir = "pulse-tests/fixtures/simple/out"
)";

// The original's kafka/kafka validation test: path "unused", earliest, 1000 ms, acks all.
constexpr std::string_view kKafka = R"([source]
kind = "kafka"
path = "unused"
time_field = "event_time"
bootstrap_servers = "localhost:9092"
topic = "events"
group_id = "pulse"
auto_offset_reset = "earliest"
commit_interval_ms = 1000

[time]
allowed_lateness = "0s"

[window]
type = "tumbling"
size = "60s"

[ops]
count_by = "word"

[sink]
kind = "kafka"
bootstrap_servers = "localhost:9092"
topic = "results"
acks = "all"
)";

// Replace the first occurrence of `from` in `text`.
std::string Replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string s(text);
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// The same config with the parquet sink swapped for a file sink on `out_dir`.
std::string WithFileSink(std::string_view text) {
  return Replace(text, "kind = \"parquet\"", "kind = \"file\"");
}

TEST(ConfigTest, OriginalReadmeSlidingLoads) {
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(kReadmeSliding, "pipeline.toml"));
  EXPECT_EQ(c.name, "pipeline.toml");
  EXPECT_EQ(c.source.kind(), "file");
  EXPECT_EQ(c.source.String("path"), "pulse-examples/examples/sliding_avg.jsonl");
  EXPECT_EQ(c.source.Line("path"), 3);
  EXPECT_EQ(c.time.allowed_lateness.value, 10'000);
  EXPECT_EQ(c.time.allowed_lateness.line, 7);
  EXPECT_EQ(c.window.type.value, ops::WindowSpec::Kind::kSliding);
  EXPECT_EQ(c.window.size.value, 60'000);
  EXPECT_EQ(c.window.slide.value, 15'000);
  EXPECT_EQ(c.window.slide.line, 13);
  EXPECT_EQ(c.ops.count_by.value, "word");
  EXPECT_EQ(c.ops.agg.value, ops::AggSpec::Kind::kCount);
  EXPECT_EQ(c.sink.kind(), "parquet");
  EXPECT_EQ(c.sink.String("out_dir"), "outputs");
  EXPECT_EQ(c.sink.String("compression"), "snappy");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(BuildError(kReadmeSliding), ParquetBuildResult(22));
}

TEST(ConfigTest, OriginalReadmeCsvLoads) {
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(kReadmeCsv, "pipeline.toml"));
  EXPECT_EQ(c.source.String("format"), "csv");
  EXPECT_EQ(c.source.Line("format"), 3);
  EXPECT_EQ(c.source.String("path"), "input.csv");
  EXPECT_EQ(c.window.type.value, ops::WindowSpec::Kind::kTumbling);
  EXPECT_EQ(BuildError(kReadmeCsv), ParquetBuildResult(18));
  // With a file sink, out_dir names the output file, as in the original.
  ASSERT_OK_AND_ASSIGN(PipelineConfig f, LoadConfigString(WithFileSink(kReadmeCsv), "p.toml"));
  EXPECT_EQ(f.sink.kind(), "file");
  EXPECT_EQ(f.sink.String("out_dir"), "outputs");
  EXPECT_EQ(f.sink.Line("out_dir"), 19);
  EXPECT_EQ(BuildError(WithFileSink(kReadmeCsv)), "OK");
}

TEST(ConfigTest, OriginalReadmeAvgLoads) {
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(kReadmeAvg, "pipeline.toml"));
  EXPECT_EQ(c.ops.agg.value, ops::AggSpec::Kind::kAvg);
  EXPECT_EQ(c.ops.agg_field.value, "score");
  EXPECT_EQ(c.ops.agg_field.line, 16);
  EXPECT_EQ(BuildError(WithFileSink(kReadmeAvg)), "OK");
}

TEST(ConfigTest, OriginalFixtureLoads) {
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(kFixture, "pipeline.toml"));
  EXPECT_EQ(c.time.allowed_lateness.value, 0);
  EXPECT_TRUE(c.time.allowed_lateness.is_set());
  EXPECT_EQ(BuildError(kFixture), ParquetBuildResult(17));
  EXPECT_EQ(BuildError(WithFileSink(kFixture)), "OK");
}

// What BuildPipeline gives for a config with a Kafka source (or sink) on `line`: "OK" when
// this Pulse has Kafka (building connects to nothing), else the error naming the option.
std::string KafkaBuildResult(int line, std::string_view part) {
  if (PULSE_HAVE_KAFKA) return "OK";
  return fmt::format("pipeline.toml:{}: {}.kind = \"kafka\": this pulse was built without Kafka "
                     "support (PULSE_WITH_KAFKA=OFF); rebuild with it ON or use kind = \"file\"",
                     line, part);
}

TEST(ConfigTest, OriginalKafkaConfigLoadsAndBuilds) {
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(kKafka, "pipeline.toml"));
  EXPECT_EQ(c.source.kind(), "kafka");
  EXPECT_EQ(c.source.String("bootstrap_servers"), "localhost:9092");
  EXPECT_EQ(c.source.String("topic"), "events");
  EXPECT_EQ(c.source.String("group_id"), "pulse");
  EXPECT_EQ(c.source.String("auto_offset_reset"), "earliest");
  EXPECT_EQ(c.source.Int("commit_interval_ms"), 1000);
  EXPECT_EQ(c.sink.kind(), "kafka");
  EXPECT_EQ(c.sink.String("topic"), "results");
  EXPECT_EQ(c.sink.String("acks"), "all");
  EXPECT_TRUE(c.warnings.empty());
  // The original's Kafka config has no bound: no window would close while it runs.
  const std::vector<std::string> time = TimeWarnings(c, !UnboundedSource(c).empty());
  ASSERT_EQ(time.size(), 1u);
  EXPECT_EQ(time[0],
            "pipeline.toml:1: the source is unbounded (a Kafka topic without stop_at) and "
            "time.max_out_of_orderness is not set, so no window closes before its input ends "
            "or the run is stopped with --drain; set time.max_out_of_orderness (and "
            "time.idle_timeout for pauses)");
  EXPECT_EQ(BuildError(kKafka), KafkaBuildResult(2, "source"));
  std::string file_source =
      Replace(kKafka, "kind = \"kafka\"\npath = \"unused\"", "kind = \"file\"\npath = \"in\"");
  ASSERT_OK_AND_ASSIGN(PipelineConfig f, LoadConfigString(file_source, "pipeline.toml"));
  EXPECT_EQ(f.warnings.size(), 5u);  // the five Kafka source keys have no effect
  EXPECT_EQ(f.warnings[0],
            "pipeline.toml:5: source.bootstrap_servers has no effect for a file source");
  EXPECT_EQ(BuildError(file_source), KafkaBuildResult(22, "sink"));
}

// Idleness and unbounded sources (issue 22): an input that may never end without a bound gets a
// warning; idle_timeout needs a bound, is applied only to an unbounded source and is a warning
// (no effect) on one that ends.
TEST(ConfigTest, IdleTimeoutAndUnboundedSources) {
  const std::string follow = Replace(kMinimal, "path = \"input.jsonl\"",
                                     "path = \"input.jsonl\"\nfollow = true");
  ASSERT_OK_AND_ASSIGN(PipelineConfig no_bound, LoadConfigString(follow, "pipeline.toml"));
  EXPECT_TRUE(no_bound.warnings.empty());
  EXPECT_EQ(UnboundedSource(no_bound), "follow = true");
  EXPECT_EQ(TimeWarnings(no_bound, true),
            std::vector<std::string>{
                "pipeline.toml:1: the source is unbounded (follow = true) and "
                "time.max_out_of_orderness is not set, so no window closes before its input "
                "ends or the run is stopped with --drain; set time.max_out_of_orderness (and "
                "time.idle_timeout for pauses)"});
  EXPECT_TRUE(TimeWarnings(no_bound, false).empty());  // a bounded input closes all at its end
  ASSERT_OK_AND_ASSIGN(
      PipelineConfig stdin_config,
      LoadConfigString(Replace(kMinimal, "\"input.jsonl\"", "\"-\""), "pipeline.toml"));
  EXPECT_EQ(UnboundedSource(stdin_config), "standard input, when a pipe or a terminal");

  const std::string idle =
      Replace(follow, "[window]",
              "[time]\nmax_out_of_orderness = \"2s\"\nidle_timeout = \"500ms\"\n\n[window]");
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(idle, "pipeline.toml"));
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_TRUE(TimeWarnings(c, true).empty());
  EXPECT_EQ(c.time.idle_timeout.value, std::optional<DurationMs>(500));
  EXPECT_EQ(c.time.idle_timeout.line, 8);
  ASSERT_OK_AND_ASSIGN(Pipeline p, BuildPipeline(c));
  EXPECT_EQ(p.parts().idle_timeout, std::optional<DurationMs>(500));
  const std::string plan = DescribePlan(c);
  EXPECT_NE(plan.find("idle:        after 500ms without a record, W = largest event time - 2s + "
                      "the time since the last record (processing time)\n"),
            std::string::npos)
      << plan;
  EXPECT_NE(plan.find("stop:        unbounded input (follow = true)"), std::string::npos)
      << plan;

  // A file that ends: no effect, and the pipeline does not get it.
  const std::string bounded = Replace(idle, "\nfollow = true", "");
  ASSERT_OK_AND_ASSIGN(PipelineConfig b, LoadConfigString(bounded, "pipeline.toml"));
  EXPECT_EQ(TimeWarnings(b, false),
            std::vector<std::string>{
                "pipeline.toml:7: time.idle_timeout has no effect: the source's input ends by "
                "itself (idleness is for follow = true, standard input from a pipe or terminal, "
                "and Kafka without stop_at)"});
  ASSERT_OK_AND_ASSIGN(Pipeline bp, BuildPipeline(b));
  EXPECT_FALSE(bp.parts().idle_timeout.has_value());
  EXPECT_EQ(DescribePlan(b).find("idle:"), std::string::npos);

  EXPECT_EQ(LoadError(Replace(idle, "max_out_of_orderness = \"2s\"\n", "")),
            "pipeline.toml:7: time.idle_timeout needs time.max_out_of_orderness: the idle "
            "watermark continues from the largest event time minus that bound; set both");
  EXPECT_EQ(LoadError(Replace(idle, "\"500ms\"", "\"0s\"")),
            "pipeline.toml:8: time.idle_timeout must be > 0; got \"0s\"");

  // A bounded Kafka read ends like a file.
  ASSERT_OK_AND_ASSIGN(PipelineConfig k,
                       LoadConfigString(Replace(kKafka, "topic = \"events\"\n",
                                                "topic = \"events\"\nstop_at = \"end\"\n"),
                                        "pipeline.toml"));
  EXPECT_EQ(UnboundedSource(k), "");
}

TEST(ConfigTest, KafkaKeysOfIssue6) {
  std::string text = Replace(kKafka, "topic = \"events\"\n",
                             "topics = [\"a\", \"b\"]\ntime_source = \"message\"\n"
                             "idle_timeout = \"30s\"\n");
  text = Replace(text, "acks = \"all\"\n",
                 "acks = \"all\"\nkey_field = \"word\"\ndelivery = \"exactly-once\"\n"
                 "transactional_id = \"tx\"\n\n[sink.properties]\n\"linger.ms\" = 20\n"
                 "transaction.timeout.ms = 120000\n");
  text += "\n[source.properties]\nsecurity.protocol = \"plaintext\"\n\"fetch.wait.max.ms\" = 50\n";
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(text, "pipeline.toml"));
  EXPECT_EQ(c.source.List("topics"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.source.String("time_source"), "message");
  EXPECT_EQ(c.source.Duration("idle_timeout"), 30'000);
  using Properties = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(c.source.Properties("properties"),
            (Properties{{"fetch.wait.max.ms", "50"}, {"security.protocol", "plaintext"}}));
  EXPECT_EQ(c.sink.String("delivery"), "exactly-once");
  EXPECT_EQ(c.sink.String("transactional_id"), "tx");
  EXPECT_EQ(c.sink.Properties("properties"),
            (Properties{{"linger.ms", "20"}, {"transaction.timeout.ms", "120000"}}));
  EXPECT_TRUE(c.warnings.empty());
  if (PULSE_HAVE_KAFKA) {
    EXPECT_EQ(BuildError(text),
              "pipeline.toml:29: sink.delivery = \"exactly-once\" commits one Kafka transaction "
              "per checkpoint, so it needs checkpoints: set [checkpoint] dir or "
              "--checkpoint-dir (or use delivery = \"at-least-once\")");
    EXPECT_EQ(BuildError(text + "\n[checkpoint]\ndir = \"ck\"\ninterval = \"1m\"\n"), "OK");
    EXPECT_EQ(BuildError(text + "\n[checkpoint]\ndir = \"ck\"\ninterval = \"2m\"\n"),
              "pipeline.toml:29: kafka sink: the checkpoint interval (2m) does not fit the "
              "transaction timeout (transaction.timeout.ms = 120000): each transaction stays open "
              "from one checkpoint to the next. Set [sink.properties] transaction.timeout.ms to "
              "at least 240000 (the broker allows up to its transaction.max.timeout.ms, 15 "
              "minutes by default), or checkpoint at least every 1m");
  }
  EXPECT_EQ(LoadError(Replace(kKafka, "topic = \"events\"", "topics = [\"\"]")),
            "pipeline.toml:6: source.topics must be an array of non-empty strings; got array");
  EXPECT_EQ(LoadError(Replace(kKafka, "acks = \"all\"", "delivery = \"exactly_once\"")),
            "pipeline.toml:25: sink.delivery must be one of at-least-once, exactly-once; got "
            "\"exactly_once\" (did you mean \"exactly-once\"?)");
}

TEST(ConfigTest, LoadConfigReadsAFile) {
  TempDir dir;
  WriteFile(dir.file("p.toml"), std::string(kMinimal));
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfig(dir.file("p.toml")));
  EXPECT_EQ(c.name, dir.file("p.toml"));
  EXPECT_EQ(c.ops.count_by.value, "word");
}

TEST(ConfigTest, MissingFile) {
  Result<PipelineConfig> c = LoadConfig("/nonexistent/x.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), "cannot read config '/nonexistent/x.toml': No such file or "
                                  "directory");
}

TEST(ConfigTest, Defaults) {
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(kMinimal, "pipeline.toml"));
  EXPECT_EQ(c.source.line(), 1);
  EXPECT_EQ(c.source.kind_line(), 2);
  EXPECT_EQ(c.source.String("time_field"), "event_time");
  EXPECT_FALSE(c.source.IsSet("time_field"));
  EXPECT_EQ(c.source.String("format"), "jsonl");
  EXPECT_FALSE(c.source.Bool("follow"));
  EXPECT_EQ(c.source.Duration("poll_interval"), 100);
  EXPECT_EQ(c.source.Duration("rotate_wait"), 10'000);
  EXPECT_EQ(c.source.Int("max_line_bytes"), 16 << 20);
  EXPECT_EQ(c.source.String("on_error"), "skip");
  EXPECT_EQ(c.time.line, 0);
  EXPECT_EQ(c.time.allowed_lateness.value, 0);
  EXPECT_FALSE(c.time.allowed_lateness.is_set());
  EXPECT_FALSE(c.time.max_out_of_orderness.value.has_value());
  EXPECT_EQ(c.window.line, 5);
  EXPECT_EQ(c.window.size.line, 7);
  EXPECT_EQ(c.ops.agg.value, ops::AggSpec::Kind::kCount);
  EXPECT_EQ(c.sink.String("path"), "out.jsonl");
  EXPECT_EQ(c.dead_letter.line, 0);
  EXPECT_EQ(c.dead_letter.path.value, "");
  EXPECT_EQ(c.late_output.path.value, "");
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ConfigTest, DecodeThreads) {
  const std::string base = std::string(kMinimal);
  auto with = [&](std::string_view value) {
    std::string text = base;
    text.insert(text.find("\n\n"), "\ndecode_threads = " + std::string(value));  // line 4
    return text;
  };
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(with("3"), "pipeline.toml"));
  EXPECT_EQ(c.source.Int("decode_threads"), 3);
  EXPECT_EQ(c.source.Line("decode_threads"), 4);
  EXPECT_EQ(BuildError(with("0")), "OK");
  EXPECT_EQ(LoadError(with("-1")), "pipeline.toml:4: source.decode_threads must be >= 0; got -1");
  EXPECT_EQ(LoadError(with("\"2\"")),
            "pipeline.toml:4: source.decode_threads must be an integer; got string \"2\"");
  EXPECT_EQ(LoadError(with("257")),
            "pipeline.toml:4: source.decode_threads must be between 0 and 256; got 257");
  EXPECT_EQ(LoadError(with("9223372036854775807")),
            "pipeline.toml:4: source.decode_threads must be between 0 and 256; got "
            "9223372036854775807");
}

TEST(ConfigTest, StateMemory) {
  auto with = [](std::string_view backend, std::string_view value) {
    return std::string(kMinimal) + "\n[state]\nbackend = \"" + std::string(backend) +
           "\"\npath = \"work\"\nmemory_mb = " + std::string(value) + "\n";
  };
  const std::string text = with("rocksdb", "256");
  const int line = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(text, "pipeline.toml"));
  EXPECT_EQ(c.state.memory_mb.value, 256);
  EXPECT_EQ(c.state.memory_mb.line, line);
  EXPECT_TRUE(c.warnings.empty());
  ASSERT_OK_AND_ASSIGN(PipelineConfig defaults, LoadConfigString(std::string(kMinimal), "p"));
  EXPECT_EQ(defaults.state.memory_mb.value, 64);
  const std::string at = fmt::format("pipeline.toml:{}: ", line);
  EXPECT_EQ(LoadError(with("rocksdb", "7")), at + "state.memory_mb must be >= 8; got 7");
  EXPECT_EQ(LoadError(with("rocksdb", "1048577")),
            at + "state.memory_mb must be between 8 and 1048576; got 1048577");
  EXPECT_EQ(LoadError(with("rocksdb", "\"64MB\"")),
            at + "state.memory_mb must be an integer; got string \"64MB\"");
  ASSERT_OK_AND_ASSIGN(PipelineConfig memory,
                       LoadConfigString(with("memory", "64"), "pipeline.toml"));
  ASSERT_EQ(memory.warnings.size(), 2u);
  EXPECT_NE(memory.warnings[1].find("state.memory_mb has no effect for the memory backend"),
            std::string::npos);
}

TEST(ConfigTest, EveryKeySet) {
  constexpr std::string_view kFull = R"([source]
kind = "file"
path = "data/*.csv"
time_field = "ts"
format = "csv"
follow = false
max_line_bytes = 1024
on_error = "fail"

[time]
allowed_lateness = "1h30m"
max_out_of_orderness = "500ms"

[window]
type = "session"
gap = "2d"

[ops]
count_by = "user"
agg = "distinct"
agg_field = "page"

[sink]
kind = "file"

[dead_letter]
path = "bad.jsonl"

[late_output]
path = "late.jsonl"
)";
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(kFull, "pipeline.toml"));
  EXPECT_EQ(c.source.String("path"), "data/*.csv");
  EXPECT_EQ(c.source.String("time_field"), "ts");
  EXPECT_EQ(c.source.String("format"), "csv");
  EXPECT_TRUE(c.source.IsSet("follow"));
  EXPECT_EQ(c.source.Int("max_line_bytes"), 1024);
  EXPECT_EQ(c.source.String("on_error"), "fail");
  EXPECT_EQ(c.source.Line("on_error"), 8);
  EXPECT_EQ(c.time.line, 10);
  EXPECT_EQ(c.time.allowed_lateness.value, 5'400'000);
  EXPECT_EQ(c.time.max_out_of_orderness.value, std::optional<DurationMs>(500));
  EXPECT_EQ(c.time.max_out_of_orderness.line, 12);
  EXPECT_EQ(c.window.type.value, ops::WindowSpec::Kind::kSession);
  EXPECT_EQ(c.window.gap.value, 2 * 86'400'000);
  EXPECT_EQ(c.ops.agg.value, ops::AggSpec::Kind::kDistinct);
  EXPECT_EQ(c.ops.agg_field.value, "page");
  EXPECT_EQ(c.sink.String("path"), "");  // stdout
  EXPECT_EQ(c.dead_letter.line, 26);
  EXPECT_EQ(c.dead_letter.path.value, "bad.jsonl");
  EXPECT_EQ(c.late_output.path.value, "late.jsonl");
  EXPECT_EQ(c.late_output.path.line, 30);
  EXPECT_TRUE(c.warnings.empty());
  ASSERT_OK_AND_ASSIGN(Pipeline p, BuildPipeline(c));
  EXPECT_OK(p.Validate());
  // The key is the plan's (a selector reading the field "user", so that sources may project).
  EXPECT_TRUE(p.parts().key_selector != nullptr);
  EXPECT_EQ(p.parts().key_selector_fields, (std::vector<std::string>{"user"}));
  EXPECT_EQ(p.parts().watermarks.max_out_of_orderness, std::optional<DurationMs>(500));
  EXPECT_EQ(p.parts().bad_records.on_error, OnError::kFail);
  EXPECT_EQ(p.parts().bad_records.dead_letter_path, "bad.jsonl");
  EXPECT_EQ(p.parts().late_output_path, "late.jsonl");
}

TEST(ConfigTest, Durations) {
  struct Case {
    std::string text;
    DurationMs ms;
  };
  for (const Case& c : {Case{"500ms", 500}, Case{"10s", 10'000}, Case{"2m", 120'000},
                        Case{"1h", 3'600'000}, Case{"1h30m", 5'400'000},
                        Case{"1d", 86'400'000}}) {
    ASSERT_OK_AND_ASSIGN(
        PipelineConfig config,
        LoadConfigString(Replace(kMinimal, "size = \"60s\"", "size = \"" + c.text + "\""),
                         "pipeline.toml"));
    EXPECT_EQ(config.window.size.value, c.ms) << c.text;
  }
  // The original read a bare number as seconds ("42" = 42s); here it needs a unit.
  EXPECT_EQ(LoadError(Replace(kMinimal, "size = \"60s\"", "size = \"42\"")),
            "pipeline.toml:7: window.size: 42: add a unit: 42ms, or 42s?");
}

// ---------------------------------------------------------------------------------------------
// Errors: one line each, exact text.

TEST(ConfigErrorTest, TomlSyntax) {
  std::string message = LoadError("[source\nkind = \"file\"\n");
  EXPECT_EQ(message.rfind("pipeline.toml:1:8: TOML parse error: ", 0), 0u) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
  message = LoadError(Replace(kMinimal, "size = \"60s\"", "size = 60s"));
  EXPECT_EQ(message.rfind("pipeline.toml:7:", 0), 0u) << message;
  EXPECT_NE(message.find(": TOML parse error: "), std::string::npos) << message;
}

TEST(ConfigErrorTest, UnknownKeySuggestsTheNearestOne) {
  EXPECT_EQ(LoadError(Replace(kMinimal, "size = \"60s\"", "sise = \"60s\"")),
            "pipeline.toml:7: unknown key 'sise' in [window] (did you mean 'size'?); allowed: "
            "type, size, slide, gap, max_windows_per_record");
  EXPECT_EQ(LoadError(Replace(kMinimal, "count_by", "countby")),
            "pipeline.toml:10: unknown key 'countby' in [ops] (did you mean 'count_by'?); "
            "allowed: count_by, agg, agg_field, key, where, having, fields, aggregates");
  EXPECT_EQ(LoadError(Replace(kMinimal, "count_by = \"word\"",
                              "count_by = \"word\"\ncolour = \"red\"")),
            "pipeline.toml:11: unknown key 'colour' in [ops]; allowed: count_by, agg, agg_field, "
            "key, where, having, fields, aggregates");
  // The first unknown key in the file is reported, whatever the table's key order.
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"",
                              "zpath = \"input.jsonl\"\napath = 1")),
            "pipeline.toml:3: unknown key 'zpath' in [source] (did you mean 'path'?); allowed: "
            "kind, path, time_field, format, follow, poll_interval, rotate_wait, "
            "max_line_bytes, on_error, decode_threads");
}

TEST(ConfigErrorTest, UnknownKeyListsTheKeysOfTheKind) {
  EXPECT_EQ(LoadError(Replace(kFixture, "out_dir", "outdir")),
            "pipeline.toml:18: unknown key 'outdir' in [sink] (did you mean 'out_dir'?); "
            "allowed: kind, out_dir, compression, max_bytes, partition_field, partition_format, "
            "max_rows, max_age, row_group_rows, schema, success_marker");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"out.jsonl\"", "file = \"out.jsonl\"")),
            "pipeline.toml:14: unknown key 'file' in [sink]; allowed: kind, path, out_dir");
  EXPECT_EQ(LoadError(Replace(kKafka, "group_id", "groupid")),
            "pipeline.toml:7: unknown key 'groupid' in [source] (did you mean 'group_id'?); "
            "allowed: kind, bootstrap_servers, topic, group_id, auto_offset_reset, "
            "commit_interval_ms, time_field, on_error, topics, time_source, idle_timeout, "
            "properties, stop_at");
}

TEST(ConfigTest, KafkaStopAtIsEndOrAnRfc3339Time) {
  ASSERT_OK_AND_ASSIGN(
      PipelineConfig end,
      LoadConfigString(Replace(kKafka, "topic = \"events\"\n", "topic = \"events\"\nstop_at = \"end\"\n"),
                       "pipeline.toml"));
  EXPECT_EQ(end.source.String("stop_at"), "end");
  ASSERT_OK_AND_ASSIGN(PipelineConfig at,
                       LoadConfigString(Replace(kKafka, "topic = \"events\"\n",
                                                "topic = \"events\"\nstop_at = "
                                                "\"2024-01-01T00:00:00Z\"\n"),
                                        "pipeline.toml"));
  EXPECT_EQ(at.source.String("stop_at"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(LoadError(Replace(kKafka, "topic = \"events\"\n",
                              "topic = \"events\"\nstop_at = \"tomorrow\"\n")),
            "pipeline.toml:7: source.stop_at = \"tomorrow\": expected \"end\" or an RFC 3339 time "
            "such as \"2024-01-01T00:00:00Z\"");
}

TEST(ConfigErrorTest, UnknownAndMissingTables) {
  EXPECT_EQ(LoadError(Replace(kMinimal, "[window]", "[windw]")),
            "pipeline.toml:5: unknown table [windw] (did you mean [window]?); allowed tables: "
            "[source], [time], [window], [ops], [sink], [dead_letter], [late_output], [state], "
            "[checkpoint]");
  EXPECT_EQ(LoadError("name = \"x\"\n" + std::string(kMinimal)),
            "pipeline.toml:1: unknown key 'name' at the top level; allowed tables: [source], "
            "[time], [window], [ops], [sink], [dead_letter], [late_output], [state], "
            "[checkpoint]");
  EXPECT_EQ(LoadError(Replace(kMinimal, "[ops]\ncount_by = \"word\"\n", "")),
            "pipeline.toml: missing table [ops]; required tables: [source], [window], [ops], "
            "[sink]");
  EXPECT_EQ(LoadError("window = \"tumbling\"\n" +
                      Replace(kMinimal, "[window]\ntype = \"tumbling\"\nsize = \"60s\"\n", "")),
            "pipeline.toml:1: window must be a table ([window]); got string \"tumbling\"");
  EXPECT_EQ(LoadError(Replace(kMinimal, "[window]", "[window.inner]\nx = 1\n[window]")),
            "pipeline.toml:5: unknown key 'inner' in [window]; allowed: type, size, slide, gap, "
            "max_windows_per_record");
}

TEST(ConfigErrorTest, Source) {
  EXPECT_EQ(LoadError(Replace(kMinimal, "kind = \"file\"\npath", "path")),
            "pipeline.toml:1: source.kind must be set (one of file, kafka)");
  EXPECT_EQ(LoadError(Replace(kMinimal, "kind = \"file\"", "kind = \"s3\"")),
            "pipeline.toml:2: source.kind must be one of file, kafka; got \"s3\"");
  EXPECT_EQ(LoadError(Replace(kMinimal, "kind = \"file\"", "kind = \"flie\"")),
            "pipeline.toml:2: source.kind must be one of file, kafka; got \"flie\" (did you mean "
            "\"file\"?)");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"\n", "")),
            "pipeline.toml:1: source.path must be set for file source");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"", "path = \"\"")),
            "pipeline.toml:3: source.path must be set for file source");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"", "path = 7")),
            "pipeline.toml:3: source.path must be a string; got integer 7");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"", "format = \"xml\"")),
            "pipeline.toml:3: source.format must be one of jsonl, csv; got \"xml\"");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"", "format = \"json\"")),
            "pipeline.toml:3: source.format must be one of jsonl, csv; got \"json\" (did you "
            "mean \"jsonl\"?)");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"", "format = 1")),
            "pipeline.toml:3: source.format must be a string, one of jsonl, csv; got integer 1");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"", "follow = \"yes\"")),
            "pipeline.toml:3: source.follow must be a boolean (true or false); got string "
            "\"yes\"");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"", "max_line_bytes = 0")),
            "pipeline.toml:3: source.max_line_bytes must be > 0; got 0");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"", "max_line_bytes = \"1MB\"")),
            "pipeline.toml:3: source.max_line_bytes must be an integer; got string \"1MB\"");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"", "max_line_bytes = 1.5")),
            "pipeline.toml:3: source.max_line_bytes must be an integer; got float 1.5");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"", "on_error = \"ignore\"")),
            "pipeline.toml:3: source.on_error must be one of skip, fail; got \"ignore\"");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"", "time_field = \"\"")),
            "pipeline.toml:3: source.time_field must not be empty");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"input.jsonl\"", "time_field = [\"a\"]")),
            "pipeline.toml:3: source.time_field must be a string; got array");
}

TEST(ConfigErrorTest, KafkaSource) {
  EXPECT_EQ(LoadError(Replace(kKafka, "bootstrap_servers = \"localhost:9092\"\ntopic = \"events\"",
                              "topic = \"events\"")),
            "pipeline.toml:1: source.bootstrap_servers must be set for kafka source");
  EXPECT_EQ(LoadError(Replace(kKafka, "topic = \"events\"", "topic = \"\"")),
            "pipeline.toml:6: source.topic (or source.topics) must be set for kafka source");
  EXPECT_EQ(LoadError(Replace(kKafka, "group_id = \"pulse\"\n", "")),
            "pipeline.toml:1: source.group_id must be set for kafka source");
  EXPECT_EQ(LoadError(Replace(kKafka, "\"earliest\"", "\"newest\"")),
            "pipeline.toml:8: source.auto_offset_reset must be one of earliest, latest; got "
            "\"newest\"");
  EXPECT_EQ(LoadError(Replace(kKafka, "commit_interval_ms = 1000", "commit_interval_ms = -1")),
            "pipeline.toml:9: source.commit_interval_ms must be >= 0; got -1");
  // path is accepted (the original required it) and not needed.
  EXPECT_EQ(LoadError(Replace(kKafka, "path = \"unused\"\n", "")), "OK");
}

TEST(ConfigErrorTest, Time) {
  std::string with_time =
      Replace(kMinimal, "[window]", "[time]\nallowed_lateness = \"5s\"\n\n[window]");
  EXPECT_EQ(LoadError(with_time), "OK");
  EXPECT_EQ(LoadError(Replace(with_time, "\"5s\"", "\"-5s\"")),
            "pipeline.toml:6: time.allowed_lateness must be >= 0; got \"-5s\"");
  EXPECT_EQ(LoadError(Replace(with_time, "\"5s\"", "10")),
            "pipeline.toml:6: time.allowed_lateness must be a duration string such as \"60s\"; "
            "got integer 10");
  EXPECT_EQ(LoadError(Replace(with_time, "allowed_lateness = \"5s\"",
                              "max_out_of_orderness = \"5x\"")),
            "pipeline.toml:6: time.max_out_of_orderness: invalid duration \"5x\": expected an "
            "integer with a unit ms, s, m, h or d (e.g. \"500ms\", \"10s\", \"1h30m\")");
  EXPECT_EQ(LoadError(Replace(with_time, "allowed_lateness", "allowed_latenes")),
            "pipeline.toml:6: unknown key 'allowed_latenes' in [time] (did you mean "
            "'allowed_lateness'?); allowed: allowed_lateness, max_out_of_orderness, "
            "idle_timeout");
  ASSERT_OK_AND_ASSIGN(PipelineConfig zero,
                       LoadConfigString(Replace(with_time, "allowed_lateness = \"5s\"",
                                                "max_out_of_orderness = \"0s\""),
                                        "pipeline.toml"));
  EXPECT_EQ(zero.time.max_out_of_orderness.value, std::optional<DurationMs>(0));
}

TEST(ConfigErrorTest, Window) {
  EXPECT_EQ(LoadError(Replace(kMinimal, "size = \"60s\"", "size = \"1.5s\"")),
            "pipeline.toml:7: window.size: invalid duration \"1.5s\": expected an integer with "
            "a unit ms, s, m, h or d (e.g. \"500ms\", \"10s\", \"1h30m\")");
  EXPECT_EQ(LoadError(Replace(kMinimal, "type = \"tumbling\"\n", "")),
            "pipeline.toml:5: window.type must be set (one of tumbling, sliding, session)");
  EXPECT_EQ(LoadError(Replace(kMinimal, "\"tumbling\"", "\"hopping\"")),
            "pipeline.toml:6: window.type must be one of tumbling, sliding, session; got "
            "\"hopping\"");
  EXPECT_EQ(LoadError(Replace(kMinimal, "\"tumbling\"", "\"tumblng\"")),
            "pipeline.toml:6: window.type must be one of tumbling, sliding, session; got "
            "\"tumblng\" (did you mean \"tumbling\"?)");
  EXPECT_EQ(LoadError(Replace(kMinimal, "size = \"60s\"\n", "")),
            "pipeline.toml:5: window.size must be set for tumbling window");
  EXPECT_EQ(LoadError(Replace(kMinimal, "size = \"60s\"", "size = \"0s\"")),
            "pipeline.toml:7: window.size must be > 0; got \"0s\"");
  EXPECT_EQ(LoadError(Replace(kMinimal, "size = \"60s\"", "size = \"-1m\"")),
            "pipeline.toml:7: window.size must be > 0; got \"-1m\"");
  EXPECT_EQ(LoadError(Replace(kMinimal, "size = \"60s\"", "size = 60")),
            "pipeline.toml:7: window.size must be a duration string such as \"60s\"; got "
            "integer 60");

  std::string sliding = Replace(kMinimal, "\"tumbling\"", "\"sliding\"");
  EXPECT_EQ(LoadError(sliding), "pipeline.toml:5: window.slide must be set for sliding window");
  EXPECT_EQ(LoadError(Replace(sliding, "size = \"60s\"", "slide = \"15s\"")),
            "pipeline.toml:5: window.size must be set for sliding window");
  EXPECT_EQ(LoadError(Replace(sliding, "size = \"60s\"", "size = \"60s\"\nslide = \"90s\"")),
            "pipeline.toml:8: window.slide (1m30s) must not be greater than window.size (1m)");
  EXPECT_EQ(LoadError(Replace(sliding, "size = \"60s\"", "size = \"60s\"\nslide = \"0ms\"")),
            "pipeline.toml:8: window.slide must be > 0; got \"0ms\"");
  EXPECT_EQ(LoadError(Replace(sliding, "size = \"60s\"", "size = \"60s\"\nslide = \"60s\"")),
            "OK");

  std::string session = Replace(kMinimal, "\"tumbling\"", "\"session\"");
  EXPECT_EQ(LoadError(session), "pipeline.toml:5: window.gap must be set for session window");
  EXPECT_EQ(LoadError(Replace(session, "size = \"60s\"", "size = \"60s\"\ngap = \"-30s\"")),
            "pipeline.toml:8: window.gap must be > 0; got \"-30s\"");
  EXPECT_EQ(LoadError(Replace(session, "size = \"60s\"", "gap = \"36601d\"")),
            "pipeline.toml:7: window.gap: invalid duration \"36601d\": out of range (at most "
            "36600d either way)");
}

TEST(ConfigErrorTest, Ops) {
  EXPECT_EQ(LoadError(Replace(kMinimal, "count_by = \"word\"\n", "")),
            "pipeline.toml:9: ops.count_by must be set (e.g., word field)");
  EXPECT_EQ(LoadError(Replace(kMinimal, "count_by = \"word\"", "count_by = \"\"")),
            "pipeline.toml:10: ops.count_by must be set (e.g., word field)");
  EXPECT_EQ(LoadError(Replace(kMinimal, "count_by = \"word\"", "count_by = 5")),
            "pipeline.toml:10: ops.count_by must be a string; got integer 5");
  EXPECT_EQ(LoadError(Replace(kMinimal, "count_by = \"word\"",
                              "count_by = \"word\"\nagg = \"median\"")),
            "pipeline.toml:11: ops.agg must be one of count, sum, avg, distinct, min, max; got "
            "\"median\"");
  for (std::string_view agg : {"sum", "avg", "distinct", "min", "max"}) {
    EXPECT_EQ(LoadError(Replace(kMinimal, "count_by = \"word\"",
                                "count_by = \"word\"\nagg = \"" + std::string(agg) + "\"")),
              "pipeline.toml:9: ops.agg_field must be set when ops.agg is "
              "sum|avg|distinct|min|max")
        << agg;
  }
  EXPECT_EQ(LoadError(Replace(kMinimal, "count_by = \"word\"",
                              "count_by = \"word\"\nagg = \"sum\"\nagg_field = \"\"")),
            "pipeline.toml:12: ops.agg_field must be set when ops.agg is "
            "sum|avg|distinct|min|max");
  ASSERT_OK_AND_ASSIGN(PipelineConfig max,
                       LoadConfigString(Replace(kMinimal, "count_by = \"word\"",
                                                "count_by = \"word\"\nagg = \"max\"\n"
                                                "agg_field = \"x\""),
                                        "pipeline.toml"));
  EXPECT_EQ(max.ops.agg.value, ops::AggSpec::Kind::kMax);
  EXPECT_EQ(max.ops.agg.line, 11);
}

TEST(ConfigErrorTest, Sink) {
  EXPECT_EQ(LoadError(Replace(kMinimal, "kind = \"file\"\npath = \"out", "path = \"out")),
            "pipeline.toml:12: sink.kind must be set (one of file, parquet, kafka)");
  EXPECT_EQ(LoadError(Replace(kMinimal, "kind = \"file\"\npath = \"out",
                              "kind = \"s3\"\npath = \"out")),
            "pipeline.toml:13: sink.kind must be one of file, parquet, kafka; got \"s3\"");
  EXPECT_EQ(LoadError(Replace(kMinimal, "path = \"out.jsonl\"",
                              "path = \"out.jsonl\"\nout_dir = \"o.jsonl\"")),
            "pipeline.toml:15: sink.path and sink.out_dir both name the output file; set only "
            "one");
  EXPECT_EQ(LoadError(Replace(kFixture, "out_dir", "compression = \"gzip\"\nout_dir")),
            "pipeline.toml:18: sink.compression must be one of snappy, zstd, none; got \"gzip\"");
  EXPECT_EQ(LoadError(Replace(kFixture, "out_dir", "max_bytes = 0\nout_dir")),
            "pipeline.toml:18: sink.max_bytes must be > 0; got 0");
  EXPECT_EQ(LoadError(Replace(kFixture, "out_dir", "success_marker = 1\nout_dir")),
            "pipeline.toml:18: sink.success_marker must be a boolean (true or false); got "
            "integer 1");
  EXPECT_EQ(LoadError(Replace(kFixture, "out_dir", "schema = \"column\"\nout_dir")),
            "pipeline.toml:18: sink.schema must be one of payload, columns; got \"column\" (did "
            "you mean \"columns\"?)");
  EXPECT_EQ(LoadError(Replace(kKafka, "bootstrap_servers = \"localhost:9092\"\ntopic = \"results\"",
                              "topic = \"results\"")),
            "pipeline.toml:21: sink.bootstrap_servers must be set for kafka sink");
  EXPECT_EQ(LoadError(Replace(kKafka, "topic = \"results\"\n", "")),
            "pipeline.toml:21: sink.topic must be set for kafka sink");
  EXPECT_EQ(LoadError(Replace(kKafka, "acks = \"all\"", "acks = \"2\"")),
            "pipeline.toml:25: sink.acks must be one of all, 1, 0, -1; got \"2\"");
  ASSERT_OK_AND_ASSIGN(
      PipelineConfig parquet,
      LoadConfigString(Replace(kFixture, "out_dir",
                               "compression = \"zstd\"\nmax_bytes = 104857600\n"
                               "partition_field = \"user_id\"\npartition_format = \"%Y-%m\"\n"
                               "max_rows = 10\nmax_age = \"5m\"\nrow_group_rows = 1000\n"
                               "schema = \"columns\"\nsuccess_marker = false\nout_dir"),
                       "pipeline.toml"));
  EXPECT_EQ(parquet.sink.String("compression"), "zstd");
  EXPECT_EQ(parquet.sink.Int("max_bytes"), 104857600);
  EXPECT_EQ(parquet.sink.String("partition_field"), "user_id");
  EXPECT_EQ(parquet.sink.String("partition_format"), "%Y-%m");
  EXPECT_EQ(parquet.sink.Int("max_rows"), 10);
  EXPECT_EQ(parquet.sink.Duration("max_age"), 300'000);
  EXPECT_EQ(parquet.sink.Int("row_group_rows"), 1000);
  EXPECT_EQ(parquet.sink.String("schema"), "columns");
  EXPECT_FALSE(parquet.sink.Bool("success_marker"));
  EXPECT_TRUE(parquet.warnings.empty());
}

TEST(ConfigErrorTest, OutputFiles) {
  std::string with_dead_letter = std::string(kMinimal) + "\n[dead_letter]\npath = \"dl.jsonl\"\n";
  EXPECT_EQ(LoadError(with_dead_letter), "OK");
  EXPECT_EQ(LoadError(Replace(with_dead_letter, "path = \"dl.jsonl\"", "")),
            "pipeline.toml:16: dead_letter.path must be set");
  EXPECT_EQ(LoadError(Replace(with_dead_letter, "path = \"dl.jsonl\"", "file = \"dl.jsonl\"")),
            "pipeline.toml:17: unknown key 'file' in [dead_letter]; allowed: path");
  EXPECT_EQ(LoadError(Replace(with_dead_letter, "\"dl.jsonl\"", "\"out.jsonl\"")),
            "pipeline.toml:17: dead_letter.path \"out.jsonl\" is also sink.path; use a "
            "different file");
  EXPECT_EQ(LoadError(std::string(kMinimal) + "\n[late_output]\npath = \"input.jsonl\"\n"),
            "pipeline.toml:17: late_output.path \"input.jsonl\" is also source.path; use a "
            "different file");
  EXPECT_EQ(LoadError(std::string(kMinimal) + "\n[late_output]\npath = true\n"),
            "pipeline.toml:17: late_output.path must be a string; got boolean true");
}

TEST(ConfigTest, WarningsForKeysWithNoEffect) {
  ASSERT_OK_AND_ASSIGN(
      PipelineConfig c,
      LoadConfigString(Replace(Replace(kMinimal, "\"tumbling\"", "\"session\"\ngap = \"30s\""),
                               "count_by = \"word\"", "count_by = \"word\"\nagg_field = \"x\""),
                       "pipeline.toml"));
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_EQ(c.warnings[0],
            "pipeline.toml:8: window.size has no effect for a session window (window.gap sets "
            "its length)");
  EXPECT_EQ(c.warnings[1], "pipeline.toml:12: ops.agg_field has no effect when ops.agg is count");
  std::string with_compression = Replace(kMinimal, "path = \"out.jsonl\"",
                                         "path = \"out.jsonl\"\ncompression = \"zstd\"");
  ASSERT_OK_AND_ASSIGN(PipelineConfig f, LoadConfigString(with_compression, "pipeline.toml"));
  ASSERT_EQ(f.warnings.size(), 1u);
  EXPECT_EQ(f.warnings[0], "pipeline.toml:15: sink.compression has no effect for a file sink");
}

TEST(ConfigTest, BuildRejectsWhatTheFileSourceRejects) {
  std::string follow_stdin =
      Replace(kMinimal, "path = \"input.jsonl\"", "path = \"-\"\nfollow = true");
  std::string message = BuildError(follow_stdin);
  EXPECT_EQ(message.rfind("pipeline.toml:1: ", 0), 0u) << message;
  EXPECT_NE(message.find("follow"), std::string::npos) << message;
}

TEST(ConfigTest, DescribePlan) {
  std::string text = Replace(Replace(kMinimal, "[window]",
                                     "[time]\nallowed_lateness = \"10s\"\n"
                                     "max_out_of_orderness = \"5s\"\n\n[window]"),
                             "count_by = \"word\"", "count_by = \"word\"\nagg = \"sum\"\n"
                                                    "agg_field = \"x\"") +
                     "\n[dead_letter]\npath = \"dl.jsonl\"\n";
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(text, "pipeline.toml"));
  EXPECT_EQ(DescribePlan(c),
            "source:      file \"input.jsonl\" (jsonl), event time from field \"event_time\"\n"
            "bad input:   skip and count\n"
            "watermark:   after each record, W = max(W, event time - 5s); the end of input "
            "flushes every window\n"
            "window:      tumbling 1m\n"
            "key:         field \"word\"\n"
            "aggregation: sum of field \"x\"\n"
            "lateness:    10s (a window [s, e) is emitted when the watermark reaches e + 10s)\n"
            "sink:        file \"out.jsonl\" (JSON lines)\n"
            "dead letter: \"dl.jsonl\"\n"
            "late output: none (late records are only counted)\n"
            "checkpoints: none (set [checkpoint] dir to survive crashes)\n");
}

// Issue 4: the parquet keys reach the sink; the plan shows them; a bad partition_format is an
// error at its line.
TEST(ConfigTest, ParquetSinkKeys) {
  std::string text = std::string(kFixture) +
                     "schema = \"columns\"\ncompression = \"zstd\"\nmax_rows = 10\n"
                     "max_bytes = 4096\nmax_age = \"90s\"\n";
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(text, "pipeline.toml"));
  EXPECT_EQ(DescribePlan(c).substr(DescribePlan(c).find("sink:")),
            "sink:        parquet under \"pulse-tests/fixtures/simple/out\" (columns schema, "
            "compression zstd), partitions dt=<%Y-%m-%d>/ with _SUCCESS markers, a file rolls "
            "at 10 rows, 4096 bytes, 1m30s\n"
            "dead letter: none (bad records are only counted)\n"
            "late output: none (late records are only counted)\n"
            "checkpoints: none (set [checkpoint] dir to survive crashes)\n");
  EXPECT_EQ(BuildError(text), ParquetBuildResult(17));

  std::string by_field = std::string(kFixture) + "partition_field = \"word\"\n";
  ASSERT_OK_AND_ASSIGN(PipelineConfig f, LoadConfigString(by_field, "pipeline.toml"));
  EXPECT_NE(DescribePlan(f).find("partitions word=<value>/, a file rolls at 1000000 rows, 5m\n"),
            std::string::npos)
      << DescribePlan(f);

  if (PULSE_HAVE_PARQUET) {
    EXPECT_EQ(BuildError(std::string(kFixture) + "partition_format = \"%Y-%Q\"\n"),
              "pipeline.toml:19: parquet sink: partition_format \"%Y-%Q\" has the conversion "
              "%Q; use strftime conversions of the date and time such as %Y %m %d %H %M %S %j "
              "%F (see docs/parquet.md)");
  }
}

}  // namespace
}  // namespace pulse::cli

namespace pulse::cli {
namespace {

// Issue 5: [checkpoint] and [state], their defaults, errors at their lines, and what the
// fingerprint names.
TEST(ConfigTest, CheckpointAndStateTables) {
  ASSERT_OK_AND_ASSIGN(PipelineConfig defaults, LoadConfigString(kMinimal, "pipeline.toml"));
  EXPECT_EQ(defaults.checkpoint.dir.value, "");
  EXPECT_EQ(defaults.checkpoint.interval.value, 10'000);
  EXPECT_EQ(defaults.checkpoint.keep.value, 3);
  EXPECT_EQ(defaults.state.backend.value, StateBackendKind::kMemory);
  EXPECT_TRUE(MakeCheckpointOptions(defaults).dir.empty());

  std::string text = std::string(kMinimal) +
                     "\n[checkpoint]\ndir = \"ck\"\ninterval = \"500ms\"\nkeep = 5\n"
                     "\n[state]\nbackend = \"rocksdb\"\npath = \"work\"\n";
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(text, "pipeline.toml"));
  EXPECT_EQ(c.checkpoint.dir.value, "ck");
  EXPECT_EQ(c.checkpoint.interval.value, 500);
  EXPECT_EQ(c.checkpoint.keep.value, 5);
  EXPECT_EQ(c.state.backend.value, StateBackendKind::kRocksDb);
  EXPECT_EQ(c.state.path.value, "work");
  CheckpointOptions options = MakeCheckpointOptions(c);
  EXPECT_EQ(options.dir, "ck");
  EXPECT_EQ(options.interval_ms, 500);
  EXPECT_EQ(options.keep, 5u);
  std::vector<std::string> names;
  for (const auto& [name, value] : options.fingerprint) names.push_back(name + "=" + value);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "source=file input.jsonl jsonl", "time field=event_time", "key=word",
                       "window=tumbling 1m", "aggregation=count", "allowed lateness=0s",
                       "max out of orderness=none", "sink=file out.jsonl", "dead letter=",
                       "late output=", "state backend=rocksdb"}));
  EXPECT_NE(DescribePlan(c).find("checkpoints: every 500ms in \"ck\" (keep 5), state in "
                                 "rocksdb; a rerun resumes\n"),
            std::string::npos)
      << DescribePlan(c);

  const std::string base = std::string(kMinimal) + "\n";
  EXPECT_EQ(LoadError(base + "[checkpoint]\ndir = 3\n"),
            "pipeline.toml:" + std::to_string(std::count(base.begin(), base.end(), '\n') + 2) +
                ": checkpoint.dir must be a string; got integer 3");
  EXPECT_EQ(LoadError(base + "[checkpoint]\ninterval = \"0s\"\n"),
            "pipeline.toml:" + std::to_string(std::count(base.begin(), base.end(), '\n') + 2) +
                ": checkpoint.interval must be > 0; got \"0s\"");
  EXPECT_EQ(LoadError(base + "[checkpoint]\nkeep = 0\n"),
            "pipeline.toml:" + std::to_string(std::count(base.begin(), base.end(), '\n') + 2) +
                ": checkpoint.keep must be > 0; got 0");
  EXPECT_EQ(LoadError(base + "[checkpoint]\nintervall = \"1s\"\n"),
            "pipeline.toml:" + std::to_string(std::count(base.begin(), base.end(), '\n') + 2) +
                ": unknown key 'intervall' in [checkpoint] (did you mean 'interval'?); allowed: "
                "dir, interval, keep");
  EXPECT_EQ(LoadError(base + "[state]\nbackend = \"rocks\"\n"),
            "pipeline.toml:" + std::to_string(std::count(base.begin(), base.end(), '\n') + 2) +
                ": state.backend must be one of memory, rocksdb; got \"rocks\" (did you mean "
                "\"rocksdb\"?)");
  if (PULSE_HAVE_ROCKSDB) {
    EXPECT_EQ(BuildError(base + "[state]\nbackend = \"rocksdb\"\n"),
              "pipeline.toml:" +
                  std::to_string(std::count(base.begin(), base.end(), '\n') + 2) +
                  ": state.backend = \"rocksdb\" needs a working directory: set state.path (or "
                  "[checkpoint] dir, whose rocksdb-work/ subdirectory is then used)");
    EXPECT_EQ(BuildError(base + "[state]\nbackend = \"rocksdb\"\npath = \"w\"\n"), "OK");
  }
}

}  // namespace
}  // namespace pulse::cli
