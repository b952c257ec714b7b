// SPDX-License-Identifier: MIT
// Kafka → tumbling count → Kafka through the `pulse` binary against a real broker: stopped and
// restarted mid-stream (at-least-once), killed with SIGKILL again and again (exactly-once: a
// read_committed consumer sees every result once), a broker restart in the middle of a run, and
// a bounded read (stop_at) of a large backlog with idle_timeout, which must drop nothing as late.
// The expected results are those of the same events read from a file by the same binary.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "io/kafka/kafka_testing.h"

#include "pulse/core/json.h"

namespace {

namespace fs = std::filesystem;
namespace kt = pulse::io::kafka_testing;
using namespace std::chrono_literals;

constexpr int kPartitions = 3;
constexpr int64_t kBoundMs = 2000;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

int64_t WindowEnd(const std::string& result) {
  pulse::Result<pulse::Value> v = pulse::ParseJson(result);
  return v.ok() && v->Find("window_end_ms") ? v->Find("window_end_ms")->as_int() : -1;
}

// `n` events of users u0..u6 over n * 100 ms of event time, out of order by up to 1.5 s within
// each partition (event i goes to partition i % kPartitions).
std::vector<std::string> Events(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> events;
  for (int i = 0; i < n; ++i) {
    events.push_back(fmt::format(R"({{"event_time":{},"user":"u{}"}})",
                                 int64_t{i} * 100 + rng() % 1500, rng() % 7));
  }
  return events;
}

class KafkaE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pulse::Result<std::string> brokers = kt::TestBrokers();
    ASSERT_TRUE(brokers.ok()) << brokers.status().ToString();
    brokers_ = *brokers;
    std::string tmpl = (fs::temp_directory_path() / "pulse-kafka-e2e-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    static std::mt19937_64 rng{std::random_device{}()};
    suffix_ = fmt::format("{:08x}", rng() & 0xffffffff);
    in_ = "e2e-in-" + suffix_;
    out_ = "e2e-out-" + suffix_;
  }
  void TearDown() override {
    if (!HasFailure()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  // The pipeline config: Kafka in, tumbling 10 s count by user, Kafka out.
  void WriteConfig(const std::string& brokers, const std::string& delivery, bool checkpoints) {
    std::ofstream cfg(dir_ / "p.toml");
    cfg << fmt::format(R"([source]
kind = "kafka"
bootstrap_servers = "{0}"
topic = "{1}"
group_id = "g-{1}"
auto_offset_reset = "earliest"

[source.properties]
"fetch.wait.max.ms" = 50

[time]
max_out_of_orderness = "{3}ms"

[window]
type = "tumbling"
size = "10s"

[ops]
count_by = "user"

[sink]
kind = "kafka"
bootstrap_servers = "{0}"
topic = "{2}"
key_field = "key"
delivery = "{4}"
)",
                       brokers, in_, out_, kBoundMs, delivery);
    if (checkpoints) cfg << "\n[checkpoint]\ndir = \"ck\"\ninterval = \"300ms\"\n";
  }

  // The results of `events` read from a file by the same pipeline, for the windows a Kafka run
  // closes: those ending at or before min over partitions of (largest time) - bound.
  std::vector<std::string> Expected(const std::vector<std::string>& events) {
    std::vector<int64_t> max_time(kPartitions, 0);
    for (size_t i = 0; i < events.size(); ++i) {
      int64_t t = pulse::ParseJson(events[i])->Find("event_time")->as_int();
      max_time[i % kPartitions] = std::max(max_time[i % kPartitions], t);
    }
    const int64_t watermark = *std::min_element(max_time.begin(), max_time.end()) - kBoundMs;
    std::vector<std::string> expected;
    for (const std::string& line : FileResults(events)) {
      if (WindowEnd(line) <= watermark) expected.push_back(line);
    }
    std::sort(expected.begin(), expected.end());
    return expected;
  }

  // Every result of `events` read from a file by the same pipeline, in output order.
  std::vector<std::string> FileResults(const std::vector<std::string>& events) {
    std::string text;
    for (const std::string& e : events) text += e + "\n";
    std::ofstream(dir_ / "events.jsonl") << text;
    std::ofstream(dir_ / "file.toml")
        << "[source]\nkind = \"file\"\npath = \"events.jsonl\"\n"
        << "[time]\nmax_out_of_orderness = \"" << kBoundMs << "ms\"\n"
        << "[window]\ntype = \"tumbling\"\nsize = \"10s\"\n[ops]\ncount_by = \"user\"\n"
        << "[sink]\nkind = \"file\"\npath = \"file-out.jsonl\"\n";
    const std::string command =
        fmt::format("cd '{}' && '{}' run -c file.toml 2>file.err", dir_.string(), PULSE_BINARY);
    EXPECT_EQ(std::system(command.c_str()), 0) << ReadFile(dir_ / "file.err");
    return Lines(ReadFile(dir_ / "file-out.jsonl"));
  }

  pid_t Start() {
    pid_t pid = fork();
    if (pid == 0) {
      if (chdir(dir_.c_str()) != 0) _exit(99);
      if (freopen("stderr.txt", "a", stderr) == nullptr) _exit(97);
      execl(PULSE_BINARY, PULSE_BINARY, "run", "-c", "p.toml", "--workers", "2",
            static_cast<char*>(nullptr));
      _exit(98);
    }
    return pid;
  }

  // Send `signal` and return the exit status (-1 if it did not end within 20 s). A run stopped
  // by SIGINT or SIGTERM exits 128 + the signal (StoppedBy).
  int Stop(pid_t pid, int signal) {
    kill(pid, signal);
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid, &status, WNOHANG) == pid) return status;
      std::this_thread::sleep_for(100ms);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }

  // Produce `events` in `chunks` parts, one every `pause`, event i to partition i % kPartitions.
  std::thread ProduceSlowly(const std::string& brokers, std::vector<std::string> events, int chunks,
                            std::chrono::milliseconds pause, std::atomic<bool>* done) {
    return std::thread([=, this] {
      const size_t per = (events.size() + chunks - 1) / chunks;
      for (size_t start = 0; start < events.size(); start += per) {
        std::vector<kt::OutMessage> batch;
        for (size_t i = start; i < std::min(events.size(), start + per); ++i) {
          batch.push_back({static_cast<int32_t>(i % kPartitions), std::nullopt, events[i]});
        }
        pulse::Status st = kt::Produce(brokers, in_, batch);
        EXPECT_TRUE(st.ok()) << st.ToString();
        std::this_thread::sleep_for(pause);
      }
      done->store(true);
    });
  }

  // Whether `status` is the exit of a run stopped by `signal` (130 for SIGINT, 143 for SIGTERM).
  static bool StoppedBy(int status, int signal) {
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 128 + signal;
  }

  std::vector<std::string> Output(const std::string& brokers, bool committed, size_t min = 0) {
    pulse::Result<std::vector<kt::InMessage>> read =
        kt::ReadTopic(brokers, out_, committed, min, 60'000);
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    std::vector<std::string> values;
    if (read.ok()) {
      for (const kt::InMessage& m : *read) values.push_back(m.value);
    }
    std::sort(values.begin(), values.end());
    return values;
  }

  std::string brokers_;
  fs::path dir_;
  std::string suffix_;
  std::string in_;
  std::string out_;
};

TEST_F(KafkaE2eTest, StopAndRestartMidStreamEqualsAnUninterruptedRun) {
  const std::vector<std::string> events = Events(1500, 7);
  const std::vector<std::string> expected = Expected(events);
  ASSERT_GE(expected.size(), 50u);
  ASSERT_TRUE(kt::CreateTopic(brokers_, in_, kPartitions).ok());
  ASSERT_TRUE(kt::CreateTopic(brokers_, out_, 2).ok());
  WriteConfig(brokers_, "at-least-once", true);
  std::atomic<bool> produced{false};
  std::thread producer = ProduceSlowly(brokers_, events, 12, 250ms, &produced);
  int stops = 0;
  while (!produced.load()) {
    pid_t pid = Start();
    std::this_thread::sleep_for(900ms);
    const int signal = stops % 2 == 0 ? SIGTERM : SIGINT;
    ASSERT_TRUE(StoppedBy(Stop(pid, signal), signal)) << ReadFile(dir_ / "stderr.txt");
    ++stops;
  }
  producer.join();
  pid_t pid = Start();
  std::vector<std::string> seen = Output(brokers_, true, expected.size());
  EXPECT_TRUE(StoppedBy(Stop(pid, SIGTERM), SIGTERM)) << ReadFile(dir_ / "stderr.txt");
  EXPECT_GE(stops, 3);
  // Each stop took a final checkpoint, so not even at-least-once delivery repeated anything.
  EXPECT_EQ(Output(brokers_, true), expected) << ReadFile(dir_ / "stderr.txt");
  std::cout << "[ figures  ] " << stops << " stops, " << expected.size() << " results\n";
}

TEST_F(KafkaE2eTest, ExactlyOnceThroughRepeatedKill9) {
  const std::vector<std::string> events = Events(2400, 11);
  const std::vector<std::string> expected = Expected(events);
  ASSERT_GE(expected.size(), 100u);
  ASSERT_TRUE(kt::CreateTopic(brokers_, in_, kPartitions).ok());
  ASSERT_TRUE(kt::CreateTopic(brokers_, out_, 2).ok());
  WriteConfig(brokers_, "exactly-once", true);
  std::atomic<bool> produced{false};
  std::thread producer = ProduceSlowly(brokers_, events, 16, 300ms, &produced);
  std::mt19937 rng(3);
  int kills = 0;
  while (!produced.load() || kills < 6) {
    pid_t pid = Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + rng() % 900));
    const int status = Stop(pid, SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
        << ReadFile(dir_ / "stderr.txt");
    ++kills;
  }
  producer.join();
  pid_t pid = Start();
  Output(brokers_, true, expected.size());
  EXPECT_TRUE(StoppedBy(Stop(pid, SIGTERM), SIGTERM)) << ReadFile(dir_ / "stderr.txt");
  // Every result exactly once for a read_committed consumer, though aborted transactions left
  // more in the log.
  EXPECT_EQ(Output(brokers_, true), expected) << ReadFile(dir_ / "stderr.txt");
  const size_t uncommitted = Output(brokers_, false).size();
  EXPECT_GE(uncommitted, expected.size());
  std::cout << "[ figures  ] " << kills << " kills, " << expected.size() << " results, "
            << uncommitted << " messages in the log (read_uncommitted)\n";
}

TEST_F(KafkaE2eTest, BrokerRestartDuringARunIsSurvived) {
  // A broker of its own, so that restarting it does not disturb the other tests.
  const fs::path broker_dir = dir_ / "broker";
  const std::string script = std::string(PULSE_SOURCE_DIR) + "/scripts/kafka.sh";
  const std::string start = fmt::format("bash '{}' start '{}' >'{}/start.log' 2>&1", script,
                                        broker_dir.string(), dir_.string());
  ASSERT_EQ(std::system(start.c_str()), 0) << ReadFile(dir_ / "start.log");
  const std::string brokers = Lines(ReadFile(broker_dir / "bootstrap")).at(0);
  struct StopBroker {
    std::string command;
    ~StopBroker() { (void)std::system(command.c_str()); }
  } stop_broker{fmt::format("bash '{}' stop '{}' >/dev/null 2>&1", script, broker_dir.string())};

  const std::vector<std::string> events = Events(1200, 5);
  const std::vector<std::string> expected = Expected(events);
  ASSERT_TRUE(kt::CreateTopic(brokers, in_, kPartitions).ok());
  ASSERT_TRUE(kt::CreateTopic(brokers, out_, 1).ok());
  WriteConfig(brokers, "exactly-once", true);
  pid_t pid = Start();
  const size_t half = events.size() / 2;
  std::vector<kt::OutMessage> first;
  std::vector<kt::OutMessage> second;
  for (size_t i = 0; i < events.size(); ++i) {
    (i < half ? first : second)
        .push_back({static_cast<int32_t>(i % kPartitions), std::nullopt, events[i]});
  }
  ASSERT_TRUE(kt::Produce(brokers, in_, first).ok());
  std::this_thread::sleep_for(1500ms);
  const std::string restart = fmt::format("bash '{}' restart '{}' >'{}/restart.log' 2>&1", script,
                                          broker_dir.string(), dir_.string());
  ASSERT_EQ(std::system(restart.c_str()), 0) << ReadFile(dir_ / "restart.log");
  ASSERT_TRUE(kt::Produce(brokers, in_, second).ok());
  std::vector<std::string> seen = Output(brokers, true, expected.size());
  // The pipeline is still the first process: it rode out the restart by itself.
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, WNOHANG), 0) << ReadFile(dir_ / "stderr.txt");
  EXPECT_TRUE(StoppedBy(Stop(pid, SIGTERM), SIGTERM)) << ReadFile(dir_ / "stderr.txt");
  EXPECT_EQ(Output(brokers, true), expected) << ReadFile(dir_ / "stderr.txt");
}

// The repro of a data-loss bug: librdkafka hands out a burst of a large backlog, then pauses
// fetching for a moment. A partition must not turn idle then (it still has unread records), or
// the first partition to come back moves the watermark past the others' backlog and their
// records are dropped as late. With stop_at = "end" the run is bounded, so its output must equal
// the file run's, every window included, with 0 late.
TEST_F(KafkaE2eTest, BacklogWithIdleTimeoutDropsNothingAndStopAtEndEqualsTheFileRun) {
  constexpr int kEvents = 600'000;
  std::vector<std::string> events;
  events.reserve(kEvents);
  for (int i = 0; i < kEvents; ++i) {
    events.push_back(fmt::format(R"({{"event_time":{},"user":"u{}"}})",
                                 1'700'000'000'000 + int64_t{i} * 10, i % 7));
  }
  const std::vector<std::string> expected = FileResults(events);
  ASSERT_GE(expected.size(), 4000u);
  ASSERT_TRUE(kt::CreateTopic(brokers_, in_, kPartitions).ok());
  std::vector<kt::OutMessage> messages;
  messages.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    messages.push_back({static_cast<int32_t>(i % kPartitions), std::nullopt, events[i]});
  }
  ASSERT_TRUE(kt::Produce(brokers_, in_, messages).ok());
  std::ofstream(dir_ / "p.toml") << fmt::format(R"([source]
kind = "kafka"
bootstrap_servers = "{}"
topic = "{}"
group_id = "g-{}"
auto_offset_reset = "earliest"
idle_timeout = "300ms"
stop_at = "end"

[time]
max_out_of_orderness = "{}ms"

[window]
type = "tumbling"
size = "10s"

[ops]
count_by = "user"

[sink]
kind = "file"
path = "kafka-out.jsonl"
)",
                                                brokers_, in_, in_, kBoundMs);
  const std::string command = fmt::format(
      "cd '{}' && '{}' run -c p.toml --workers 2 2>kafka.err", dir_.string(),
      PULSE_BINARY);
  ASSERT_EQ(std::system(command.c_str()), 0) << ReadFile(dir_ / "kafka.err");
  const std::string summary = ReadFile(dir_ / "kafka.err");
  EXPECT_NE(summary.find(fmt::format("read {} records", kEvents)), std::string::npos) << summary;
  EXPECT_NE(summary.find("late 0"), std::string::npos) << summary;
  const std::vector<std::string> got = Lines(ReadFile(dir_ / "kafka-out.jsonl"));
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "the Kafka run's output differs from the file run's";
}

}  // namespace
