// SPDX-License-Identifier: MIT
// The Kafka source and sink factories of the connector registry: options from a config,
// validated, errors at the config's lines.
#include <memory>
#include <string>
#include <utility>

#include "io/kafka/kafka_config.h"
#include "pulse/core/connector_registry.h"
#include "pulse/io/kafka.h"

namespace pulse::io {

Result<std::unique_ptr<Source>> MakeKafkaSource(const ConnectorConfig& config,
                                                const ConnectorBuildContext& context) {
  KafkaSourceOptions options;
  options.bootstrap_servers = config.String("bootstrap_servers");
  options.topics = internal::KafkaTopicsOf(config);
  options.group_id = config.String("group_id");
  if (config.IsSet("auto_offset_reset")) {
    options.auto_offset_reset = config.String("auto_offset_reset");
  }
  options.commit_interval_ms = config.Int("commit_interval_ms");
  options.checkpointed_run = context.checkpoints;
  options.time_source = config.String("time_source") == "message" ? KafkaTimeSource::kTimestamp
                                                                  : KafkaTimeSource::kField;
  options.time_field = config.String("time_field");
  options.idle_timeout_ms = config.Duration("idle_timeout");
  const std::string& stop_at = config.String("stop_at");
  if (stop_at == "end") {
    options.stop_at = KafkaStopAt::kEnd;
  } else if (!stop_at.empty()) {
    options.stop_at = KafkaStopAt::kTime;
    // The key's check accepted it when the config was read.
    options.stop_at_time = ParseRfc3339(stop_at).value_or(0);
  }
  options.properties = config.Properties("properties");
  if (Status st = options.Validate(); !st.ok()) return config.ErrorAt(config.line(), st.message());
  return KafkaSource(std::move(options));
}

Result<std::unique_ptr<Sink>> MakeKafkaSink(const ConnectorConfig& config,
                                            const ConnectorBuildContext& context) {
  KafkaSinkOptions options;
  options.bootstrap_servers = config.String("bootstrap_servers");
  options.topic = config.String("topic");
  const std::string& acks = config.String("acks");
  options.acks = acks == "-1" ? "all" : acks;
  options.key_field = config.String("key_field");
  options.delivery = config.String("delivery") == "exactly-once" ? KafkaDelivery::kExactlyOnce
                                                                 : KafkaDelivery::kAtLeastOnce;
  options.transactional_id = config.String("transactional_id");
  options.properties = config.Properties("properties");
  if (context.checkpoints) options.checkpoint_interval_ms = context.checkpoint_interval_ms;
  if (Status st = options.Validate(); !st.ok()) return config.KeyError("delivery", st.message());
  if (options.delivery == KafkaDelivery::kExactlyOnce && !context.checkpoints) {
    return config.KeyError("delivery",
                           "sink.delivery = \"exactly-once\" commits one Kafka transaction per "
                           "checkpoint, so it needs checkpoints: set [checkpoint] dir or "
                           "--checkpoint-dir (or use delivery = \"at-least-once\")");
  }
  return KafkaSink(std::move(options));
}

}  // namespace pulse::io
