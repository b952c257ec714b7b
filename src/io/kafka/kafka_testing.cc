// SPDX-License-Identifier: MIT
// Kafka test helpers (see kafka_testing.h).
#include "io/kafka/kafka_testing.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <utility>

#include "io/kafka/kafka_client.h"

namespace pulse::io::kafka_testing {
namespace {

using internal::KafkaHandle;
using internal::KafkaStatus;

constexpr int kTimeoutMs = 30'000;

Result<KafkaHandle> Client(rd_kafka_type_t type, KafkaProperties settings) {
  PULSE_ASSIGN_OR_RETURN(internal::KafkaConf conf, internal::MakeKafkaConf(settings, {}));
  return internal::MakeKafkaClient(type, std::move(conf));
}

}  // namespace

Result<std::string> TestBrokers() {
  if (const char* brokers = std::getenv("PULSE_TEST_KAFKA_BROKERS"); brokers && *brokers) {
    return std::string(brokers);
  }
  const char* dir = std::getenv("PULSE_TEST_KAFKA_DIR");
  if (dir != nullptr && *dir) {
    std::ifstream in(std::string(dir) + "/bootstrap");
    std::string line;
    if (in && std::getline(in, line) && !line.empty()) return line;
  }
  return Status::NotFound(
      "no Kafka broker for the tests: run them through ctest (which starts one with "
      "scripts/kafka.sh), or start one with `scripts/kafka.sh start DIR` and set "
      "PULSE_TEST_KAFKA_DIR=DIR or PULSE_TEST_KAFKA_BROKERS=host:port");
}

Status CreateTopic(const std::string& brokers, const std::string& topic, int partitions,
                   const std::map<std::string, std::string>& configs) {
  PULSE_ASSIGN_OR_RETURN(KafkaHandle admin,
                         Client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", brokers}}));
  char error[512];
  rd_kafka_NewTopic_t* new_topic =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, error, sizeof(error));
  if (new_topic == nullptr) return Status::InvalidArgument(error);
  for (const auto& [name, value] : configs) {
    (void)rd_kafka_NewTopic_set_config(new_topic, name.c_str(), value.c_str());
  }
  internal::KafkaQueue queue(rd_kafka_queue_new(admin.get()));
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(admin.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  (void)rd_kafka_AdminOptions_set_operation_timeout(options, kTimeoutMs, error, sizeof(error));
  rd_kafka_CreateTopics(admin.get(), &new_topic, 1, options, queue.get());
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_NewTopic_destroy(new_topic);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue.get(), kTimeoutMs + 5000);
  if (event == nullptr) return Status::Unavailable("create topic: no answer");
  Status st = KafkaStatus(rd_kafka_event_error(event), "create topic " + topic);
  if (st.ok()) {
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
    for (size_t i = 0; i < n && st.ok(); ++i) {
      st = KafkaStatus(rd_kafka_topic_result_error(results[i]), "create topic " + topic);
    }
  }
  rd_kafka_event_destroy(event);
  PULSE_RETURN_IF_ERROR(st);
  // Wait until the new topic's partitions have leaders.
  const auto deadline = Clock::Real().Now() + std::chrono::seconds(30);
  while (true) {
    Result<std::vector<int32_t>> ids =
        internal::TopicPartitions(Clock::Real(), admin.get(), topic, 5000);
    if (ids.ok() && static_cast<int>(ids->size()) == partitions) return Status::OK();
    if (Clock::Real().Now() > deadline) {
      return Status::Unavailable("topic " + topic + " did not become available");
    }
    rd_kafka_poll(admin.get(), 100);
  }
}

Status Produce(const std::string& brokers, const std::string& topic,
               const std::vector<OutMessage>& messages) {
  PULSE_ASSIGN_OR_RETURN(
      KafkaHandle producer,
      Client(RD_KAFKA_PRODUCER,
             {{"bootstrap.servers", brokers}, {"enable.idempotence", "true"}, {"linger.ms", "5"}}));
  for (const OutMessage& m : messages) {
    // Locals: librdkafka's RD_KAFKA_V_* macros do not parenthesize their arguments.
    const void* key = m.key ? m.key->data() : nullptr;
    const size_t key_size = m.key ? m.key->size() : 0;
    const int32_t partition = m.partition < 0 ? RD_KAFKA_PARTITION_UA : m.partition;
    const int64_t timestamp = m.timestamp_ms;
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<char*>(m.value.data()), m.value.size()),
          RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) return KafkaStatus(err, "produce");
      rd_kafka_poll(producer.get(), 100);
    }
  }
  PULSE_RETURN_IF_ERROR(KafkaStatus(rd_kafka_flush(producer.get(), kTimeoutMs), "flush"));
  return Status::OK();
}

Result<std::vector<InMessage>> ReadTopic(const std::string& brokers, const std::string& topic,
                                         bool read_committed, size_t min_messages, int timeout_ms) {
  const auto deadline = Clock::Real().Now() + std::chrono::milliseconds(timeout_ms);
  std::vector<InMessage> all;
  while (true) {
    PULSE_ASSIGN_OR_RETURN(
        KafkaHandle consumer,
        Client(RD_KAFKA_CONSUMER,
               {{"bootstrap.servers", brokers},
                {"group.id", "pulse-test-reader"},
                {"enable.auto.commit", "false"},
                {"enable.partition.eof", "true"},
                {"isolation.level", read_committed ? "read_committed" : "read_uncommitted"}}));
    PULSE_ASSIGN_OR_RETURN(std::vector<int32_t> ids,
                           internal::TopicPartitions(Clock::Real(), consumer.get(), topic,
                                                     kTimeoutMs));
    internal::KafkaPartitionList list(rd_kafka_topic_partition_list_new(16));
    for (int32_t id : ids) {
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), id)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
    PULSE_RETURN_IF_ERROR(KafkaStatus(rd_kafka_assign(consumer.get(), list.get()), "assign"));
    all.clear();
    std::set<int32_t> at_end;
    while (at_end.size() < ids.size() && Clock::Real().Now() < deadline) {
      internal::KafkaMessage m(rd_kafka_consumer_poll(consumer.get(), 200));
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        at_end.insert(m->partition);
        continue;
      }
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      InMessage in;
      in.partition = m->partition;
      in.offset = m->offset;
      if (m->key != nullptr) in.key = std::string(static_cast<const char*>(m->key), m->key_len);
      in.value.assign(static_cast<const char*>(m->payload), m->len);
      in.timestamp_ms = rd_kafka_message_timestamp(m.get(), nullptr);
      all.push_back(std::move(in));
    }
    (void)rd_kafka_consumer_close(consumer.get());
    if (at_end.size() < ids.size()) {
      return Status::Unavailable(fmt::format("could not read topic {} to its end", topic));
    }
    std::sort(all.begin(), all.end(), [](const InMessage& a, const InMessage& b) {
      return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
    });
    if (all.size() >= min_messages || Clock::Real().Now() >= deadline) return all;
    Clock::Real().SleepFor(std::chrono::milliseconds(200));
  }
}

Result<std::map<int32_t, int64_t>> CommittedOffsets(const std::string& brokers,
                                                    const std::string& group,
                                                    const std::string& topic) {
  PULSE_ASSIGN_OR_RETURN(KafkaHandle consumer,
                         Client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", brokers},
                                                    {"group.id", group},
                                                    {"enable.auto.commit", "false"}}));
  PULSE_ASSIGN_OR_RETURN(std::vector<int32_t> ids,
                         internal::TopicPartitions(Clock::Real(), consumer.get(), topic,
                                                   kTimeoutMs));
  internal::KafkaPartitionList list(rd_kafka_topic_partition_list_new(16));
  for (int32_t id : ids) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), id);
  PULSE_RETURN_IF_ERROR(
      KafkaStatus(rd_kafka_committed(consumer.get(), list.get(), kTimeoutMs), "committed"));
  std::map<int32_t, int64_t> offsets;
  for (int i = 0; i < list->cnt; ++i) offsets[list->elems[i].partition] = list->elems[i].offset;
  (void)rd_kafka_consumer_close(consumer.get());
  return offsets;
}

}  // namespace pulse::io::kafka_testing
