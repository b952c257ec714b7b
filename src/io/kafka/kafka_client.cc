// SPDX-License-Identifier: MIT
// librdkafka handles, configuration, error conversion and metadata (see kafka_client.h).
#include "io/kafka/kafka_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace pulse::io::internal {
namespace {

// librdkafka's own log lines would go to stderr; Pulse code does not print. Errors reach the
// caller through error codes, delivery reports and fatal-error checks instead.
void DiscardLog(const rd_kafka_t*, int, const char*, const char*) {}

bool IsConfigError(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
      return true;
    default:
      return false;
  }
}

bool IsRetriable(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
      return true;
    default:
      return false;
  }
}

Status Make(rd_kafka_resp_err_t err, bool retriable, std::string message) {
  if (IsConfigError(err)) return Status::InvalidArgument(std::move(message));
  if (retriable || IsRetriable(err)) return Status::Unavailable(std::move(message));
  return Status::IOError(std::move(message));
}

}  // namespace

Status KafkaStatus(rd_kafka_resp_err_t err, std::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();
  return Make(err, false,
              fmt::format("{}: {} ({})", what, rd_kafka_err2str(err), rd_kafka_err2name(err)));
}

Status KafkaErrorStatus(rd_kafka_error_t* error, std::string_view what) {
  if (error == nullptr) return Status::OK();
  const rd_kafka_resp_err_t err = rd_kafka_error_code(error);
  std::string message =
      fmt::format("{}: {} ({})", what, rd_kafka_error_string(error), rd_kafka_error_name(error));
  const bool retriable = rd_kafka_error_is_retriable(error) != 0;
  rd_kafka_error_destroy(error);
  return Make(err, retriable, std::move(message));
}

Result<KafkaConf> MakeKafkaConf(const KafkaProperties& settings, const KafkaProperties& overrides) {
  KafkaConf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), DiscardLog);
  char error[512];
  for (const KafkaProperties* list : {&settings, &overrides}) {
    for (const auto& [name, value] : *list) {
      if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error, sizeof(error)) !=
          RD_KAFKA_CONF_OK) {
        return Status::InvalidArgument(
            fmt::format("Kafka property {} = \"{}\": {}", name, value, error));
      }
    }
  }
  return conf;
}

Result<KafkaHandle> MakeKafkaClient(rd_kafka_type_t type, KafkaConf conf) {
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), error, sizeof(error));
  if (rk == nullptr) {
    return Status::InvalidArgument(fmt::format("cannot create the Kafka client: {}", error));
  }
  (void)conf.release();  // owned by rk now
  return KafkaHandle(rk);
}

Status RetryWhileUnavailable(Clock& clock, int timeout_ms,
                             const std::function<Status(int remaining_ms)>& attempt) {
  const Clock::TimePoint deadline = clock.Now() + std::chrono::milliseconds(timeout_ms);
  std::chrono::milliseconds backoff(50);
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.Now());
    Status status = attempt(static_cast<int>(std::max<int64_t>(1, left.count())));
    if (status.code() != StatusCode::kUnavailable || clock.Now() + backoff >= deadline) {
      return status;
    }
    clock.SleepFor(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
  }
}

namespace {

Result<std::vector<int32_t>> TopicPartitionsOnce(rd_kafka_t* rk, const std::string& topic,
                                                 int timeout_ms) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (handle == nullptr) {
    return KafkaStatus(rd_kafka_last_error(), fmt::format("topic '{}'", topic));
  }
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle, &metadata, timeout_ms);
  rd_kafka_topic_destroy(handle);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaStatus(err, fmt::format("metadata of topic '{}'", topic));
  }
  std::vector<int32_t> partitions;
  Status status;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = metadata->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        t.err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
      status = Status::NotFound(fmt::format("Kafka topic '{}' does not exist", topic));
    } else if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = KafkaStatus(t.err, fmt::format("metadata of topic '{}'", topic));
    }
    for (int p = 0; p < t.partition_cnt; ++p) partitions.push_back(t.partitions[p].id);
  }
  rd_kafka_metadata_destroy(metadata);
  if (!status.ok()) return status;
  if (partitions.empty()) {
    return Status::NotFound(fmt::format("Kafka topic '{}' does not exist", topic));
  }
  std::sort(partitions.begin(), partitions.end());
  return partitions;
}

}  // namespace

Result<std::vector<int32_t>> TopicPartitions(Clock& clock, rd_kafka_t* rk,
                                             const std::string& topic, int timeout_ms) {
  std::vector<int32_t> partitions;
  PULSE_RETURN_IF_ERROR(RetryWhileUnavailable(clock, timeout_ms, [&](int remaining_ms) {
    PULSE_ASSIGN_OR_RETURN(partitions, TopicPartitionsOnce(rk, topic, remaining_ms));
    return Status::OK();
  }));
  return partitions;
}

std::string PropertyOr(const KafkaProperties& properties, std::string_view name,
                       std::string fallback) {
  for (auto it = properties.rbegin(); it != properties.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return fallback;
}

}  // namespace pulse::io::internal
