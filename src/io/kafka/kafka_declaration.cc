// SPDX-License-Identifier: MIT
// The Kafka source and sink declarations: config keys, plan lines, checkpoint fingerprints.
// Compiled into pulse::io (not pulse::io_kafka), so that a Pulse built without Kafka still
// reads Kafka configs and says what is missing.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "io/kafka/kafka_config.h"
#include "pulse/core/connector_registry.h"
#include "pulse/core/time.h"
#include "pulse/io/kafka.h"

namespace pulse::io {
namespace internal {

std::vector<std::string> KafkaTopicsOf(const ConnectorConfig& config) {
  std::vector<std::string> topics = config.List("topics");
  const std::string& topic = config.String("topic");
  if (!topic.empty() && std::find(topics.begin(), topics.end(), topic) == topics.end()) {
    topics.push_back(topic);
  }
  return topics;
}

}  // namespace internal
namespace {

constexpr std::string_view kOffsetResets[] = {"earliest", "latest"};
constexpr std::string_view kOnErrors[] = {"skip", "fail"};
constexpr std::string_view kTimeSources[] = {"field", "message"};
constexpr std::string_view kAcks[] = {"all", "1", "0", "-1"};
constexpr std::string_view kDeliveries[] = {"at-least-once", "exactly-once"};
constexpr int64_t kDefaultCommitIntervalMs = 5000;

std::string CheckStopAt(std::string_view qualified_key, const ConfigSetting& value) {
  if (value.text == "end" || ParseRfc3339(value.text).has_value()) return "";
  return fmt::format("{} = \"{}\": expected \"end\" or an RFC 3339 time such as "
                     "\"2024-01-01T00:00:00Z\"",
                     qualified_key, value.text);
}

constexpr ConfigKey kKafkaSourceKeys[] = {
    {.name = "bootstrap_servers",
     .doc = "the brokers, e.g. `\"127.0.0.1:9092\"`",
     .required = true},
    {.name = "topic",
     .doc = "a topic to read (with `topics`: one more); every partition of it is read",
     .required = true,
     .unless_set = "topics"},
    {.name = "group_id",
     .doc = "the consumer group: where offsets are committed and a fresh start begins",
     .required = true},
    {.name = "auto_offset_reset",
     .type = ConfigType::kChoice,
     .doc = "where a partition with no committed offset starts: `\"earliest\"` or `\"latest\"`",
     .default_doc = "`\"latest\"`",
     .choices = kOffsetResets},
    {.name = "commit_interval_ms",
     .type = ConfigType::kInt,
     .doc = "without checkpoints: commit the offsets of the records read this often (0: only at "
            "the end); with checkpoints offsets are committed after each checkpoint instead",
     .default_number = kDefaultCommitIntervalMs,
     .min = 0},
    {.name = "time_field",
     .type = ConfigType::kNonEmptyString,
     .doc = "the event-time field (RFC 3339 or epoch ms, as for files) when `time_source` is "
            "`\"field\"`",
     .default_text = "event_time"},
    {.name = "on_error",
     .type = ConfigType::kChoice,
     .doc = "bad messages: `\"skip\"` (count, dead-letter) or `\"fail\"` (stop the run)",
     .default_text = "skip",
     .choices = kOnErrors},
    {.name = "topics",
     .type = ConfigType::kStringList,
     .doc = "the topics to read; every partition of each is read",
     .default_doc = "none"},
    {.name = "time_source",
     .type = ConfigType::kChoice,
     .doc = "`\"field\"`: the event time is `time_field`; `\"message\"`: the Kafka message "
            "timestamp",
     .default_text = "field",
     .choices = kTimeSources},
    {.name = "idle_timeout",
     .type = ConfigType::kDuration,
     .doc = "a partition that is caught up (nothing left to read) and sends nothing for this "
            "long stops holding the watermark back",
     .default_doc = "`\"0s\"` (never)",
     .min = 0},
    {.name = "properties",
     .type = ConfigType::kProperties,
     .doc = "`[source.properties]`: librdkafka consumer properties (security, fetch tuning, "
            "...), passed through",
     .default_doc = "none"},
    {.name = "stop_at",
     .doc = "a bounded read: `\"end\"` (each partition's end offset when the run starts) or an "
            "RFC 3339 time (each partition's first message whose Kafka timestamp is at or after "
            "it); the run then ends as on a file, closing every window",
     .default_doc = "none (unbounded)",
     .check = CheckStopAt},
};

// A Kafka source has no `path`; it has never warned about one.
constexpr ForeignKeyNote kKafkaSourceForeignKeys[] = {{.key = "path", .why = ""}};

std::string Quoted(std::string_view s) { return fmt::format("\"{}\"", s); }

std::vector<std::string> DescribeKafkaSource(const ConnectorConfig& c) {
  const std::vector<std::string> topics = internal::KafkaTopicsOf(c);
  std::string quoted;
  for (const std::string& t : topics) quoted += (quoted.empty() ? "" : ", ") + Quoted(t);
  const DurationMs idle = c.Duration("idle_timeout");
  std::vector<std::string> lines;
  lines.push_back(fmt::format(
      "kafka topic{} {} at {}, group {}, event time from {}{}", topics.size() > 1 ? "s" : "",
      quoted, Quoted(c.String("bootstrap_servers")), Quoted(c.String("group_id")),
      c.String("time_source") == "message" ? std::string("the message timestamp")
                                           : "field " + Quoted(c.String("time_field")),
      idle > 0 ? ", a partition idle for " + FormatDuration(idle) +
                     " stops holding the watermark back"
               : std::string()));
  const std::string& stop_at = c.String("stop_at");
  if (stop_at == "end") {
    lines.emplace_back("bounded: stops at each partition's end offset at start");
  } else if (!stop_at.empty()) {
    lines.push_back(
        "bounded: stops at each partition's first message timestamped at or after " + stop_at);
  }
  return lines;
}

std::string DescribeKafkaWatermarks(const ConnectorConfig& /*config*/,
                                    std::optional<DurationMs> max_out_of_orderness) {
  return fmt::format("per partition, its largest event time - {}; W = the minimum over the "
                     "partitions that are not idle (the stream has no end)",
                     FormatDuration(max_out_of_orderness.value_or(0)));
}

std::string KafkaSourceUnbounded(const ConnectorConfig& c) {
  return c.String("stop_at").empty() ? "a Kafka topic without stop_at" : "";
}

std::string KafkaSourceFingerprint(const ConnectorConfig& c) {
  std::string joined;
  for (const std::string& t : internal::KafkaTopicsOf(c)) {
    joined += (joined.empty() ? "" : ",") + t;
  }
  return fmt::format("kafka {} at {}", joined, c.String("bootstrap_servers"));
}

constexpr ConfigKey kKafkaSinkKeys[] = {
    {.name = "bootstrap_servers", .doc = "the brokers", .required = true},
    {.name = "topic", .doc = "where results go (the topic must exist)", .required = true},
    {.name = "acks",
     .type = ConfigType::kChoice,
     .doc = "`\"all\"` (or `\"-1\"`), `\"1\"` or `\"0\"`; exactly-once and the idempotent "
            "producer need `\"all\"`",
     .default_text = "all",
     .choices = kAcks},
    {.name = "key_field",
     .type = ConfigType::kNonEmptyString,
     .doc = "field of each result used as message key (strings as they are, other values as "
            "JSON)",
     .default_doc = "none"},
    {.name = "delivery",
     .type = ConfigType::kChoice,
     .doc = "`\"at-least-once\"` (idempotent producer) or `\"exactly-once\"` (one transaction per "
            "checkpoint; needs checkpoints)",
     .default_text = "at-least-once",
     .choices = kDeliveries},
    {.name = "transactional_id",
     .type = ConfigType::kNonEmptyString,
     .doc = "exactly-once: must stay the same across restarts of a pipeline and differ between "
            "pipelines",
     .default_doc = "`\"pulse-<topic>\"`"},
    {.name = "properties",
     .type = ConfigType::kProperties,
     .doc = "`[sink.properties]`: librdkafka producer properties, passed through",
     .default_doc = "none"},
};

constexpr ForeignKeyNote kKafkaSinkForeignKeys[] = {{.key = "path", .why = "for a kafka sink"}};

std::vector<std::string> DescribeKafkaSink(const ConnectorConfig& c) {
  const std::string& key_field = c.String("key_field");
  return {fmt::format("kafka topic {} at {} ({}, acks {}{})", Quoted(c.String("topic")),
                      Quoted(c.String("bootstrap_servers")), c.String("delivery"),
                      c.String("acks"),
                      key_field.empty() ? std::string() : ", key from field " + Quoted(key_field))};
}

std::string KafkaSinkFingerprint(const ConnectorConfig& c) {
  return fmt::format("kafka {} at {}", c.String("topic"), c.String("bootstrap_servers"));
}

}  // namespace

const ConnectorDeclaration& KafkaSourceDeclaration() {
  static constexpr ConnectorDeclaration kDeclaration{
      .role = ConnectorRole::kSource,
      .kind = "kafka",
      .summary = "Reads JSON messages from Kafka topics, with watermarks per partition "
                 "([Kafka](kafka.md)).",
      .keys = kKafkaSourceKeys,
      .foreign_keys = kKafkaSourceForeignKeys,
      .describe = DescribeKafkaSource,
      .describe_watermarks = DescribeKafkaWatermarks,
      .fingerprint = KafkaSourceFingerprint,
      .unbounded = KafkaSourceUnbounded,
  };
  return kDeclaration;
}

const ConnectorDeclaration& KafkaSinkDeclaration() {
  static constexpr ConnectorDeclaration kDeclaration{
      .role = ConnectorRole::kSink,
      .kind = "kafka",
      .summary = "Writes each result as one JSON message to a Kafka topic, at least once or "
                 "exactly once ([Kafka](kafka.md)).",
      .keys = kKafkaSinkKeys,
      .foreign_keys = kKafkaSinkForeignKeys,
      .describe = DescribeKafkaSink,
      .fingerprint = KafkaSinkFingerprint,
  };
  return kDeclaration;
}

}  // namespace pulse::io
