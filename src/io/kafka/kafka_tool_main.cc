// SPDX-License-Identifier: MIT
// pulse-kafka: a small Kafka client for the end-to-end tests and `make kafka-demo` (topics,
// producing JSON lines, reading a topic back, generating demo events).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "io/kafka/kafka_client.h"
#include "io/kafka/kafka_testing.h"

namespace {

namespace kt = pulse::io::kafka_testing;

constexpr char kUsage[] =
    "usage: pulse-kafka create-topic BROKERS TOPIC PARTITIONS\n"
    "       pulse-kafka produce BROKERS TOPIC [ROUND_ROBIN_PARTITIONS] < lines\n"
    "       pulse-kafka read BROKERS TOPIC [--committed] [--timestamps] [--min N] [--timeout-ms "
    "MS]\n"
    "       pulse-kafka generate BROKERS TOPIC PARTITIONS EVENTS_PER_SECOND [SECONDS]\n";

int Fail(const pulse::Status& st) {
  std::fprintf(stderr, "pulse-kafka: %s\n", st.ToString().c_str());
  return 1;
}

int Produce(const std::string& brokers, const std::string& topic, int round_robin) {
  std::vector<kt::OutMessage> messages;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    kt::OutMessage m;
    m.partition = round_robin > 0 ? static_cast<int32_t>(messages.size() % round_robin) : -1;
    m.value = line;
    messages.push_back(std::move(m));
  }
  pulse::Status st = kt::Produce(brokers, topic, messages);
  return st.ok() ? 0 : Fail(st);
}

// Demo events: users u0..u9 with a value, event time = the wall clock when produced, spread
// over the partitions, in ticks of 10 ms by one long-lived producer (so that the event time is
// also when the event reaches the broker, give or take a few ms: the latency benchmark relies
// on it).
int Generate(const std::string& brokers, const std::string& topic, int partitions, int rate,
             int seconds) {
  pulse::Clock& clock = pulse::Clock::Real();
  pulse::Result<pulse::io::internal::KafkaConf> conf = pulse::io::internal::MakeKafkaConf(
      {{"bootstrap.servers", brokers}, {"enable.idempotence", "true"}, {"linger.ms", "1"}}, {});
  if (!conf.ok()) return Fail(conf.status());
  pulse::Result<pulse::io::internal::KafkaHandle> producer =
      pulse::io::internal::MakeKafkaClient(RD_KAFKA_PRODUCER, std::move(conf).value());
  if (!producer.ok()) return Fail(producer.status());
  rd_kafka_t* rk = producer->get();
  constexpr auto kTick = std::chrono::milliseconds(10);
  const pulse::Clock::TimePoint start = clock.Now();
  auto next = start;
  uint64_t n = 0;
  double owed = 0;
  while (seconds <= 0 || clock.Now() - start < std::chrono::seconds(seconds)) {
    owed += rate / 100.0;
    const int64_t now_ms = clock.UnixMillis();
    for (; owed >= 1; owed -= 1, ++n) {
      const std::string value = fmt::format(R"({{"event_time":{},"user":"u{}","value":{}}})",
                                            now_ms, n * 7 % 10, n % 100);
      const int32_t partition = static_cast<int32_t>(n % static_cast<uint64_t>(partitions));
      while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 10);
      }
    }
    rd_kafka_poll(rk, 0);
    next += kTick;
    clock.SleepFor(next - clock.Now());
  }
  if (rd_kafka_flush(rk, 30'000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Fail(pulse::Status::Unavailable("generate: not every event was delivered"));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 3) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string& command = args[0];
  const std::string& brokers = args[1];
  const std::string& topic = args[2];
  if (command == "create-topic" && args.size() == 4) {
    pulse::Status st = kt::CreateTopic(brokers, topic, std::atoi(args[3].c_str()));
    return st.ok() ? 0 : Fail(st);
  }
  if (command == "produce" && args.size() <= 4) {
    return Produce(brokers, topic, args.size() == 4 ? std::atoi(args[3].c_str()) : 0);
  }
  if (command == "generate" && (args.size() == 5 || args.size() == 6)) {
    return Generate(brokers, topic, std::atoi(args[3].c_str()), std::atoi(args[4].c_str()),
                    args.size() == 6 ? std::atoi(args[5].c_str()) : 0);
  }
  if (command == "read") {
    bool committed = false;
    bool timestamps = false;
    size_t min = 0;
    int timeout_ms = 30'000;
    for (size_t i = 3; i < args.size(); ++i) {
      if (args[i] == "--committed") {
        committed = true;
      } else if (args[i] == "--timestamps") {
        timestamps = true;
      } else if (args[i] == "--min" && i + 1 < args.size()) {
        min = static_cast<size_t>(std::atoll(args[++i].c_str()));
      } else if (args[i] == "--timeout-ms" && i + 1 < args.size()) {
        timeout_ms = std::atoi(args[++i].c_str());
      } else {
        std::fputs(kUsage, stderr);
        return 2;
      }
    }
    pulse::Result<std::vector<kt::InMessage>> messages =
        kt::ReadTopic(brokers, topic, committed, min, timeout_ms);
    if (!messages.ok()) return Fail(messages.status());
    for (const kt::InMessage& m : *messages) {
      if (timestamps) std::cout << m.timestamp_ms << '\t';
      std::cout << m.value << '\n';
    }
    return 0;
  }
  std::fputs(kUsage, stderr);
  return 2;
}
