// SPDX-License-Identifier: MIT
// Helpers for the Kafka tests and the pulse-kafka tool: the test broker's address, topics,
// producing messages and reading a topic back (optionally read_committed). Not part of Pulse.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pulse/core/status.h"

namespace pulse::io::kafka_testing {

/// The test broker: $PULSE_TEST_KAFKA_BROKERS, else the `bootstrap` file that scripts/kafka.sh
/// wrote into $PULSE_TEST_KAFKA_DIR. Errors: NotFound, saying how to start one.
Result<std::string> TestBrokers();

/// Create `topic` with `partitions` partitions (replication 1) and the given topic configs.
/// Errors: the broker's (an existing topic is an error).
Status CreateTopic(const std::string& brokers, const std::string& topic, int partitions,
                   const std::map<std::string, std::string>& configs = {});

struct OutMessage {
  int32_t partition = -1;  // -1: librdkafka's partitioner
  std::optional<std::string> key;
  std::string value;
  int64_t timestamp_ms = 0;  // the message timestamp (CreateTime); 0: now
};

/// Produce `messages` in order (idempotent producer, acks=all) and wait for every delivery.
Status Produce(const std::string& brokers, const std::string& topic,
               const std::vector<OutMessage>& messages);

struct InMessage {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;
  int64_t timestamp_ms = -1;  // the message timestamp (CreateTime), -1 if none
};

/// Read `topic` from the beginning of every partition to its current end (the last stable
/// offset with `read_committed`), in partition then offset order. With `min_messages`, keep
/// polling until at least that many were read or `timeout_ms` passed.
Result<std::vector<InMessage>> ReadTopic(const std::string& brokers, const std::string& topic,
                                         bool read_committed, size_t min_messages = 0,
                                         int timeout_ms = 30'000);

/// The committed offsets of `group` for the partitions of `topic` (-1001 where none).
Result<std::map<int32_t, int64_t>> CommittedOffsets(const std::string& brokers,
                                                    const std::string& group,
                                                    const std::string& topic);

}  // namespace pulse::io::kafka_testing
