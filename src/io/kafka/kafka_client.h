// SPDX-License-Identifier: MIT
// librdkafka plumbing shared by the Kafka source, sink and test helpers: owning handles,
// configuration, error conversion (the one place rd_kafka_resp_err_t becomes a Status) and
// topic metadata.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/clock.h"
#include "pulse/core/status.h"
#include "pulse/io/kafka.h"

namespace pulse::io::internal {

struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct KafkaConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct KafkaListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
struct KafkaQueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
};
struct KafkaMessageDeleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaConfDeleter>;
using KafkaPartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaListDeleter>;
using KafkaQueue = std::unique_ptr<rd_kafka_queue_t, KafkaQueueDeleter>;
using KafkaMessage = std::unique_ptr<rd_kafka_message_t, KafkaMessageDeleter>;

/// Return `err` as a Status: kUnavailable for errors librdkafka calls retriable (timeouts,
/// transport, a broker down), kInvalidArgument for configuration and authorization errors,
/// kIOError otherwise. The message is "<what>: <librdkafka's text> (<error name>)".
Status KafkaStatus(rd_kafka_resp_err_t err, std::string_view what);

/// As KafkaStatus for an rd_kafka_error_t, which it destroys. Null gives OK.
Status KafkaErrorStatus(rd_kafka_error_t* error, std::string_view what);

/// Call `attempt` with the milliseconds left of `timeout_ms` until it returns anything but
/// kUnavailable or the time is up, waiting 50 ms, doubling to 1 s, between attempts; time and
/// waits are `clock`'s. For the requests a coordinator or partition leader that is moving or
/// still loading refuses for a while (NOT_COORDINATOR, LEADER_NOT_AVAILABLE, ...). Returns the
/// last attempt's status.
Status RetryWhileUnavailable(Clock& clock, int timeout_ms,
                             const std::function<Status(int remaining_ms)>& attempt);

/// A configuration with `settings`, then `overrides`, applied in order. Errors:
/// InvalidArgument naming the property librdkafka rejected.
Result<KafkaConf> MakeKafkaConf(const KafkaProperties& settings, const KafkaProperties& overrides);

/// Create a client of `type` from `conf` (consumed, also on failure).
Result<KafkaHandle> MakeKafkaClient(rd_kafka_type_t type, KafkaConf conf);

/// The partition ids of `topic`, ascending, retrying (RetryWhileUnavailable, on `clock`) while
/// the metadata is unavailable. Errors: NotFound if the topic does not exist, Unavailable if
/// no broker answered within `timeout_ms`.
Result<std::vector<int32_t>> TopicPartitions(Clock& clock, rd_kafka_t* rk,
                                             const std::string& topic, int timeout_ms);

/// The value of `name` in `properties` (the last one wins), or `fallback`.
std::string PropertyOr(const KafkaProperties& properties, std::string_view name,
                       std::string fallback);

}  // namespace pulse::io::internal
