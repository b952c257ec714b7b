// SPDX-License-Identifier: MIT
// Kafka source (JSON messages, per-partition watermarks, offsets in checkpoints) and Kafka sink
// (idempotent or transactional producer). Built when PULSE_HAVE_KAFKA (librdkafka).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pulse/core/connector.h"
#include "pulse/core/connector_registry.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"

namespace pulse::io {

/// librdkafka configuration properties ("security.protocol", "sasl.username", ...), passed
/// through as they are, in order; a later one replaces an earlier one of the same name.
using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

/// Where a Kafka record's event time comes from.
enum class KafkaTimeSource : uint8_t {
  kField,      // the payload's top-level `time_field` (RFC 3339 string or integer epoch ms)
  kTimestamp,  // the message timestamp (CreateTime or LogAppendTime, epoch ms)
};

/// Where a bounded Kafka read ends (as Flink's bounded KafkaSource).
enum class KafkaStopAt : uint8_t {
  kNever,  // unbounded: read until the run is stopped
  kEnd,    // each partition's end offset when the source opens
  kTime,   // each partition's first message with a timestamp >= stop_at_time (else its end)
};

struct KafkaSourceOptions {
  std::string bootstrap_servers;
  /// Topics to read; every partition of each is read by this one consumer (assigned, not
  /// subscribed: no rebalancing). Partitions added while the source runs are not picked up.
  std::vector<std::string> topics;
  /// The consumer group: where offsets are committed (after each checkpoint, or every
  /// `commit_interval_ms` without checkpoints) and where a fresh start begins.
  std::string group_id;
  /// Where a partition without a committed offset (and not in a checkpoint) starts:
  /// "earliest" or "latest".
  std::string auto_offset_reset = "latest";
  /// Without checkpoints: commit the offsets of the records returned so far this often (0:
  /// only when the source closes).
  DurationMs commit_interval_ms = 5000;
  /// The run takes checkpoints: offsets are committed to the group only after each committed
  /// checkpoint (OnCheckpointCommitted), never periodically or on Close, so that a run that
  /// crashes before its first checkpoint starts over from where the group was. (Also implied
  /// once Seek() or Position() is called.)
  bool checkpointed_run = false;
  KafkaTimeSource time_source = KafkaTimeSource::kField;
  std::string time_field = "event_time";
  /// A partition that is caught up (librdkafka reached its end: nothing left to read up to the
  /// high watermark, or for read_committed the last stable offset) and delivers nothing for
  /// this long (processing time, counted from its last message or from the first Read) stops
  /// holding the watermark back until its next record. 0: partitions never become idle.
  DurationMs idle_timeout_ms = 0;
  /// A bounded read: each partition ends before its stop offset (resolved at Open; messages
  /// there and after are not read), and once every partition has, Read() returns false, so the
  /// run ends as on a file (every window closes). The message timestamp (CreateTime or
  /// LogAppendTime) decides kTime, not the event time. Default: unbounded.
  KafkaStopAt stop_at = KafkaStopAt::kNever;
  EventTime stop_at_time = 0;  // kTime: epoch ms
  /// The longest one Read() waits for messages.
  DurationMs poll_timeout_ms = 100;
  /// Passed to the consumer after Pulse's own settings (so they can override them).
  KafkaProperties properties;

  Status Validate() const;
};

/// Reads JSON-object messages. Watermarks are per partition: each partition's is its largest
/// event time so far minus SourceContext::max_out_of_orderness (the pipeline's
/// [time] max_out_of_orderness; 0 if unset), and the source's is the minimum over the
/// partitions that are not idle, declared through TakeWatermarks. A message that is not a JSON
/// object, or lacks a valid event time, is a bad record whose origin is "topic/partition" and
/// position its offset. Position() is {"kafka_offsets": [{"topic", "partition", "offset",
/// "max_time"}...]}: per partition the next offset to read and the largest event time read
/// (absent if none), from which its watermark continues after Seek(). Requires:
/// options.Validate() is OK.
std::unique_ptr<Source> KafkaSource(KafkaSourceOptions options);

/// How the Kafka sink delivers.
enum class KafkaDelivery : uint8_t {
  /// Idempotent producer, no transactions: every result is written at least once (a restart
  /// from a checkpoint writes the results after it again).
  kAtLeastOnce,
  /// Transactional producer: one transaction per checkpoint, committed when the checkpoint is
  /// durable, so a read_committed consumer sees each result exactly once (needs checkpoints).
  kExactlyOnce,
};

struct KafkaSinkOptions {
  std::string bootstrap_servers;
  std::string topic;
  /// "all" (-1), "1" or "0". Exactly-once and the idempotent producer need "all".
  std::string acks = "all";
  /// Top-level field whose value is the message key (strings as they are, other values as
  /// compact JSON; absent or null: no key). Empty: no keys (the default partitioner spreads
  /// messages).
  std::string key_field;
  KafkaDelivery delivery = KafkaDelivery::kAtLeastOnce;
  /// Exactly-once: the transactional.id; it must stay the same across restarts of one
  /// pipeline and differ between pipelines. Empty: "pulse-" + topic.
  std::string transactional_id;
  /// Exactly-once: the run's checkpoint interval, checked against the transaction timeout
  /// (a transaction stays open from one checkpoint to the next). 0: not checked.
  DurationMs checkpoint_interval_ms = 0;
  /// How long Close() and PrepareCommit() wait for outstanding deliveries.
  DurationMs flush_timeout_ms = 60'000;
  /// Passed to the producer after Pulse's own settings.
  KafkaProperties properties;

  /// Errors: InvalidArgument for an empty topic or servers, a bad acks value, acks other than
  /// "all" with exactly-once, and a checkpoint interval that does not fit
  /// transaction.timeout.ms (the message says how to fix it).
  Status Validate() const;
};

/// Writes each record's value as one JSON message. A delivery failure (after librdkafka's
/// retries) fails the run: Write, Tick, PrepareCommit or Close return it. Requires:
/// options.Validate() is OK.
std::unique_ptr<Sink> KafkaSink(KafkaSinkOptions options);

/// The Kafka source and sink as registry connectors (connector_registry.h): kind "kafka" and
/// their config keys (docs/configuration.md). The declarations are in pulse::io and exist in
/// every build; the factories, which build the options from a config, validate them and name
/// the config's line in errors, only with PULSE_HAVE_KAFKA.
const ConnectorDeclaration& KafkaSourceDeclaration();
const ConnectorDeclaration& KafkaSinkDeclaration();
Result<std::unique_ptr<Source>> MakeKafkaSource(const ConnectorConfig& config,
                                                const ConnectorBuildContext& context);
Result<std::unique_ptr<Sink>> MakeKafkaSink(const ConnectorConfig& config,
                                            const ConnectorBuildContext& context);

}  // namespace pulse::io
