// SPDX-License-Identifier: MIT
// Kafka sink: an idempotent producer (at-least-once) or a transactional one whose transaction
// commits with each checkpoint (exactly-once). See docs/kafka.md for the recovery protocol.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/kafka/kafka_client.h"

#include "pulse/core/json.h"
#include "pulse/core/json_reader.h"
#include "pulse/io/kafka.h"
#include "pulse/metrics/registry.h"

namespace pulse::io {
namespace {

using internal::KafkaErrorStatus;
using internal::KafkaHandle;
using internal::KafkaStatus;

constexpr int kMetadataTimeoutMs = 10'000;
constexpr int kAbortTimeoutMs = 10'000;
// A transaction stays open for a checkpoint interval plus the time the checkpoint takes; the
// transaction timeout must leave at least this much (and at least one more interval) of room.
constexpr DurationMs kTransactionSlackMs = 10'000;
constexpr DurationMs kDefaultTransactionTimeoutMs = 60'000;  // librdkafka's default
// How long Recover waits to read the probe message of the checkpoint's transaction.
constexpr int kProbeTimeoutMs = 30'000;
// How often the sink serves delivery reports while messages are in flight (the producer's
// linger.ms is 5 ms).
constexpr std::chrono::milliseconds kInFlightTickInterval{5};

// Exactly-once messages carry this header, whose value is the transactional.id, so that
// Recover can tell this pipeline's messages from others' in the output topic.
constexpr char kTxnHeader[] = "pulse-txn";

// One result: its key (absent: none), its value, and (once delivered, exactly-once) the
// partition it went to.
struct Message {
  std::optional<std::string> key;
  std::string value;
  int32_t partition = RD_KAFKA_PARTITION_UA;
};

// Where the first delivered message of a transaction landed: enough to tell, later, whether
// the transaction committed (a read_committed consumer sees that message) or not.
struct Probe {
  int32_t partition = 0;
  int64_t offset = 0;
};

// Not thread-safe: all calls, and librdkafka's delivery callbacks (served by rd_kafka_poll and
// rd_kafka_flush from those calls), run on the executor's sink thread.
class KafkaSinkImpl final : public Sink, public CheckpointedSink {
 public:
  explicit KafkaSinkImpl(KafkaSinkOptions options) : options_(std::move(options)) {
    if (options_.transactional_id.empty()) options_.transactional_id = "pulse-" + options_.topic;
  }
  KafkaSinkImpl(const KafkaSinkImpl&) = delete;
  KafkaSinkImpl& operator=(const KafkaSinkImpl&) = delete;
  ~KafkaSinkImpl() override = default;

  Status Open(const SinkContext& ctx) override {
    counters_ = ctx.counters;
    on_warning_ = ctx.on_warning;
    clock_ = ctx.env != nullptr ? &ctx.env->clock() : &Env::Default().clock();
    RegisterMetrics(ctx.metrics);
    Status st = OpenProducer();
    if (!st.ok()) producer_.reset();
    return st.WithContext(Context());
  }

  Status Write(std::span<const Record> records) override {
    if (exactly_once() && !recovered_) {
      return Status::InvalidArgument(Context() +
                                     ": delivery = \"exactly-once\" commits a transaction per "
                                     "checkpoint, so the run needs checkpoints "
                                     "(--checkpoint-dir); or use delivery = \"at-least-once\"");
    }
    for (const Record& record : records) {
      Message m;
      m.value = record.value.ToJson();
      if (!options_.key_field.empty()) {
        const Value* key = record.value.Find(options_.key_field);
        if (key != nullptr && !key->is_null()) {
          m.key = key->is_string() ? key->as_string() : key->ToJson();
        }
      }
      // The delivery report of pending_[i] carries i + 1 (0: not tracked).
      const size_t tag = exactly_once() ? pending_.size() + 1 : 0;
      PULSE_RETURN_IF_ERROR(Produce(m, tag));
      counters_->records.fetch_add(1, std::memory_order_relaxed);
      counters_->bytes.fetch_add(m.value.size(), std::memory_order_relaxed);
      if (exactly_once()) pending_.push_back(std::move(m));
    }
    rd_kafka_poll(producer_.get(), 0);
    UpdateInFlight();
    return CheckErrors();
  }

  Status Tick() override {
    if (producer_ == nullptr) return Status::OK();
    rd_kafka_poll(producer_.get(), 0);
    UpdateInFlight();
    return CheckErrors();
  }

  // Delivery reports are served by rd_kafka_poll: while messages are in flight, poll often so
  // that the delivered count (and what waits on it) is current within a few milliseconds.
  std::chrono::milliseconds TickInterval() const override {
    if (producer_ != nullptr && rd_kafka_outq_len(producer_.get()) > 0) {
      return kInFlightTickInterval;
    }
    return std::chrono::seconds(1);
  }

  Status Close() override {
    if (producer_ == nullptr) return Status::OK();
    Status st = Flush();
    if (st.ok() && exactly_once() && in_transaction_) st = CommitTransaction();
    producer_.reset();
    return st.WithContext(Context());
  }

  void Abort() override {
    if (producer_ == nullptr) return;
    if (exactly_once() && in_transaction_) {
      AbortTransaction();
    } else {
      // At least once: what was delivered stays delivered; drop what was not sent yet.
      (void)rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE);
    }
    producer_.reset();
  }

  std::string Describe() const override {
    return fmt::format("kafka topic {} at {} ({})", options_.topic, options_.bootstrap_servers,
                       exactly_once() ? "exactly-once" : "at-least-once");
  }

  CheckpointedSink* AsCheckpointed() override { return this; }

  Status Recover(const Value* info) override {
    Status st = RecoverImpl(info);
    return st.WithContext(Context());
  }

  Result<Value> PrepareCommit(uint64_t checkpoint_id) override {
    Status st = Flush();
    if (!st.ok()) return st.WithContext(Context());
    if (!exactly_once()) {
      // Delivered with acks=all: durable and visible already.
      return Value(Object{{"delivery", Value("at-least-once")}});
    }
    Array records;
    records.reserve(pending_.size());
    for (const Message& m : pending_) {
      records.push_back(Value(Array{m.key ? Value(*m.key) : Value(), Value(m.value),
                                    Value(static_cast<int64_t>(m.partition))}));
    }
    Value probe;
    if (probe_) {
      probe = Value(Object{{"partition", Value(static_cast<int64_t>(probe_->partition))},
                           {"offset", Value(probe_->offset)}});
    }
    prepared_ = checkpoint_id;
    return Value(Object{{"delivery", Value("exactly-once")},
                        {"transactional_id", Value(options_.transactional_id)},
                        {"topic", Value(options_.topic)},
                        {"checkpoint", Value(static_cast<int64_t>(checkpoint_id))},
                        {"probe", std::move(probe)},
                        {"records", Value(std::move(records))}});
  }

  Status Commit(uint64_t checkpoint_id) override {
    if (!exactly_once() || prepared_ != checkpoint_id || !in_transaction_) return Status::OK();
    PULSE_RETURN_IF_ERROR(CommitTransaction().WithContext(Context()));
    prepared_.reset();
    return BeginTransaction().WithContext(Context());
  }

  Status Suspend() override {
    if (producer_ == nullptr) return Status::OK();
    Status st = Flush();
    // The open transaction holds only output after the final checkpoint (none when the run
    // stopped cleanly); the next run recovers from the checkpoint.
    if (exactly_once() && in_transaction_) AbortTransaction();
    producer_.reset();
    return st.WithContext(Context());
  }

 private:
  bool exactly_once() const { return options_.delivery == KafkaDelivery::kExactlyOnce; }
  int FlushTimeout() const { return static_cast<int>(options_.flush_timeout_ms); }
  std::string Context() const { return fmt::format("kafka sink '{}'", options_.topic); }

  // Per topic: deliveries acknowledged, messages waiting for their acknowledgement, and (exactly
  // once) transactions committed or aborted.
  void RegisterMetrics(metrics::Registry* registry) {
    if (registry == nullptr) return;
    const metrics::Labels topic = {{"topic", options_.topic}};
    delivered_ = &registry->GetCounter(
        "pulse_kafka_sink_delivered_total",
        "Results the Kafka broker acknowledged (with the sink's acks setting)", topic);
    in_flight_ = &registry->GetGauge(
        "pulse_kafka_sink_in_flight",
        "Results handed to the Kafka producer and not acknowledged yet", topic);
    if (exactly_once()) {
      auto transactions = [&](const char* outcome) {
        return &registry->GetCounter(
            "pulse_kafka_sink_transactions_total",
            "Kafka transactions of the exactly-once sink, by outcome (committed with a "
            "checkpoint; aborted: the run stopped or failed before the next checkpoint; redone: "
            "at recovery, a checkpoint's transaction found aborted and written again)",
            {{"topic", options_.topic}, {"outcome", outcome}});
      };
      committed_ = transactions("committed");
      aborted_ = transactions("aborted");
      redone_ = transactions("redone");
    }
  }

  void UpdateInFlight() {
    if (in_flight_ != nullptr) in_flight_->Set(rd_kafka_outq_len(producer_.get()));
  }

  // Abort the open transaction (best effort: recovery handles one left open).
  void AbortTransaction() {
    rd_kafka_error_destroy(rd_kafka_abort_transaction(producer_.get(), kAbortTimeoutMs));
    in_transaction_ = false;
    if (aborted_ != nullptr) aborted_->Increment();
  }

  Status OpenProducer() {
    KafkaProperties settings = {
        {"bootstrap.servers", options_.bootstrap_servers},
        {"client.id", "pulse"},
        {"acks", options_.acks},
        {"linger.ms", "5"},
    };
    if (exactly_once()) {
      settings.emplace_back("transactional.id", options_.transactional_id);
    } else if (options_.acks == "all" || options_.acks == "-1") {
      settings.emplace_back("enable.idempotence", "true");
    }
    PULSE_ASSIGN_OR_RETURN(internal::KafkaConf conf,
                           internal::MakeKafkaConf(settings, options_.properties));
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaSinkImpl::OnDelivery);
    PULSE_ASSIGN_OR_RETURN(producer_,
                           internal::MakeKafkaClient(RD_KAFKA_PRODUCER, std::move(conf)));
    // Fail now, not at the first result, if the topic does not exist.
    PULSE_ASSIGN_OR_RETURN(
        std::vector<int32_t> partitions,
        internal::TopicPartitions(*clock_, producer_.get(), options_.topic, kMetadataTimeoutMs));
    (void)partitions;
    return Status::OK();
  }

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<KafkaSinkImpl*>(opaque);
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++self->failed_;
      if (self->first_error_.ok()) {
        self->first_error_ = KafkaStatus(
            m->err, fmt::format("delivery of a result to topic '{}' failed", self->options_.topic));
      }
      return;
    }
    if (self->delivered_ != nullptr) self->delivered_->Increment();
    if (!self->probe_) self->probe_ = Probe{m->partition, m->offset};
    const auto tag = reinterpret_cast<uintptr_t>(m->_private);
    if (tag != 0 && tag <= self->pending_.size()) self->pending_[tag - 1].partition = m->partition;
  }

  Status Produce(const Message& m, size_t tag) {
    const Clock::TimePoint deadline =
        clock_->Now() + std::chrono::milliseconds(options_.flush_timeout_ms);
    void* opaque = reinterpret_cast<void*>(static_cast<uintptr_t>(tag));
    const void* key = m.key ? m.key->data() : nullptr;
    const size_t key_size = m.key ? m.key->size() : 0;
    void* value = const_cast<char*>(m.value.data());
    while (true) {
      const rd_kafka_resp_err_t err =
          exactly_once()
              ? rd_kafka_producev(
                    producer_.get(), RD_KAFKA_V_TOPIC(options_.topic.c_str()),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_VALUE(value, m.value.size()), RD_KAFKA_V_KEY(key, key_size),
                    RD_KAFKA_V_PARTITION(m.partition),
                    RD_KAFKA_V_HEADER(kTxnHeader, options_.transactional_id.data(),
                                      static_cast<ssize_t>(options_.transactional_id.size())),
                    RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END)
              : rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(options_.topic.c_str()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_VALUE(value, m.value.size()),
                                  RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_OPAQUE(opaque),
                                  RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || clock_->Now() > deadline) {
        return KafkaStatus(err, fmt::format("producing a result to topic '{}'", options_.topic));
      }
      rd_kafka_poll(producer_.get(), 100);  // a full queue: wait for deliveries
      PULSE_RETURN_IF_ERROR(CheckErrors());
    }
  }

  // The first delivery failure, or a fatal producer error (e.g. fenced by another producer
  // with the same transactional.id).
  Status CheckErrors() {
    if (!first_error_.ok()) return first_error_.WithContext(Context());
    char text[512];
    if (rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(producer_.get(), text, sizeof(text))) {
      return Status::IOError(fmt::format("{}: fatal producer error: {} ({})", Context(), text,
                                         rd_kafka_err2name(fatal)));
    }
    return Status::OK();
  }

  // Wait until every produced message is delivered or failed.
  Status Flush() {
    const rd_kafka_resp_err_t err = rd_kafka_flush(producer_.get(), FlushTimeout());
    UpdateInFlight();
    PULSE_RETURN_IF_ERROR(CheckErrors());
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      return Status::Unavailable(
          fmt::format("{} messages not delivered within {} ms (is the broker reachable?)",
                      rd_kafka_outq_len(producer_.get()), options_.flush_timeout_ms));
    }
    return KafkaStatus(err, "flush");
  }

  Status BeginTransaction() {
    PULSE_RETURN_IF_ERROR(
        KafkaErrorStatus(rd_kafka_begin_transaction(producer_.get()), "begin transaction"));
    in_transaction_ = true;
    pending_.clear();
    probe_.reset();
    return Status::OK();
  }

  // librdkafka allows calling commit again after a retriable error (a coordinator moving);
  // an abortable error aborts the transaction and fails the checkpoint.
  Status CommitTransaction() {
    bool requires_abort = false;
    auto commit = [&](int remaining_ms) {
      rd_kafka_error_t* error = rd_kafka_commit_transaction(producer_.get(), remaining_ms);
      if (error != nullptr && rd_kafka_error_txn_requires_abort(error)) {
        requires_abort = true;
        return Status::IOError(KafkaErrorStatus(error, "commit transaction").message());
      }
      return KafkaErrorStatus(error, "commit transaction");
    };
    Status status = internal::RetryWhileUnavailable(*clock_, FlushTimeout(), commit);
    in_transaction_ = false;
    if (requires_abort) {
      AbortTransaction();
    } else if (status.ok() && committed_ != nullptr) {
      committed_->Increment();
    }
    PULSE_RETURN_IF_ERROR(status);
    return CheckErrors();
  }

  Status RecoverImpl(const Value* info) {
    recovered_ = true;
    if (!exactly_once()) return Status::OK();
    // Fences any earlier producer with this transactional.id and aborts its open transaction
    // (output after the checkpoint, which the resumed run produces again).
    // Like commit, init may be called again after a retriable error.
    auto init = [&](int remaining_ms) {
      rd_kafka_error_t* error = rd_kafka_init_transactions(producer_.get(), remaining_ms);
      if (error != nullptr &&
          rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT) {
        rd_kafka_error_destroy(error);
        return Status::InvalidArgument(
            "init transactions: transaction.timeout.ms is above the broker's "
            "transaction.max.timeout.ms; lower it in [sink.properties]");
      }
      return KafkaErrorStatus(error, "init transactions");
    };
    PULSE_RETURN_IF_ERROR(internal::RetryWhileUnavailable(*clock_, FlushTimeout(), init));
    if (info != nullptr) PULSE_RETURN_IF_ERROR(RedoCheckpoint(*info));
    return BeginTransaction();
  }

  // The checkpoint `info` describes is durable, but its transaction may have been aborted
  // (a crash between the checkpoint and Commit; init_transactions aborted it). If so, produce
  // its results again, each to the partition it had gone to, in a new transaction and commit
  // that. Whether the results are visible: see Committed().
  Status RedoCheckpoint(const Value& info) {
    PULSE_ASSIGN_OR_RETURN(JsonObjectReader r,
                           JsonObjectReader::Make(info, "Kafka sink checkpoint entry",
                                                  StatusCode::kInvalidArgument));
    PULSE_ASSIGN_OR_RETURN(std::optional<std::string> delivery, r.OptionalString("delivery"));
    if (delivery != "exactly-once") {
      return Status::InvalidArgument(
          "the checkpoint was taken with delivery = \"at-least-once\"; an exactly-once run "
          "cannot continue from it (use --fresh)");
    }
    PULSE_ASSIGN_OR_RETURN(const Array* records, r.List("records"));
    PULSE_ASSIGN_OR_RETURN(const Value* probe, r.Member("probe"));
    PULSE_ASSIGN_OR_RETURN(std::optional<int64_t> checkpoint, r.OptionalInt("checkpoint"));
    if (records->empty() || probe->is_null()) return Status::OK();
    PULSE_ASSIGN_OR_RETURN(JsonObjectReader probe_reader, r.Child("probe"));
    PULSE_ASSIGN_OR_RETURN(int64_t partition, probe_reader.Int("partition"));
    PULSE_ASSIGN_OR_RETURN(int64_t offset, probe_reader.Int("offset"));
    // Each result as PrepareCommit wrote it: [key or null, value, partition].
    std::vector<Message> messages;
    messages.reserve(records->size());
    for (const Value& record : *records) {
      if (!record.is_array() || record.as_array().size() != 3 ||
          !record.as_array()[1].is_string() || !record.as_array()[2].is_int()) {
        return r.Invalid("records", "has an entry that is not [key, value, partition]");
      }
      const Array& fields = record.as_array();
      Message m;
      if (fields[0].is_string()) m.key = fields[0].as_string();
      m.value = fields[1].as_string();
      m.partition = static_cast<int32_t>(fields[2].as_int());
      messages.push_back(std::move(m));
    }
    PULSE_ASSIGN_OR_RETURN(bool committed, Committed(static_cast<int32_t>(partition), offset));
    if (committed) return Status::OK();
    PULSE_RETURN_IF_ERROR(BeginTransaction());
    for (const Message& m : messages) PULSE_RETURN_IF_ERROR(Produce(m, 0));
    PULSE_RETURN_IF_ERROR(Flush());
    if (redone_ != nullptr) redone_->Increment();
    if (on_warning_) {
      on_warning_(fmt::format(
          "kafka sink '{}': the transaction of checkpoint {} had been aborted (the previous run "
          "stopped between the checkpoint and its commit); its {} results were written again",
          options_.topic, checkpoint ? std::to_string(*checkpoint) : "?", messages.size()));
    }
    return CommitTransaction();
  }

  // Whether the results of the transaction whose first message in `partition` is at `offset`
  // are visible: a read_committed consumer reading `partition` from `offset` meets a message
  // of this transactional.id before its end. The first such message is either that one (the
  // transaction committed), one of a redo (same partitions), or one of a later transaction,
  // which can only exist after the redo committed. Seeing none means it was aborted.
  Result<bool> Committed(int32_t partition, int64_t offset) {
    KafkaProperties settings = {
        {"bootstrap.servers", options_.bootstrap_servers},
        {"group.id", "pulse-transaction-check"},
        {"client.id", "pulse"},
        {"enable.auto.commit", "false"},
        {"enable.partition.eof", "true"},
        {"isolation.level", "read_committed"},
    };
    // Security settings apply to this consumer too; producer-only ones are dropped.
    KafkaProperties shared;
    for (const auto& [name, value] : options_.properties) {
      if (name.starts_with("security.") || name.starts_with("sasl.") || name.starts_with("ssl.")) {
        shared.emplace_back(name, value);
      }
    }
    PULSE_ASSIGN_OR_RETURN(internal::KafkaConf conf, internal::MakeKafkaConf(settings, shared));
    PULSE_ASSIGN_OR_RETURN(KafkaHandle consumer,
                           internal::MakeKafkaClient(RD_KAFKA_CONSUMER, std::move(conf)));
    internal::KafkaPartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), partition)->offset =
        offset;
    PULSE_RETURN_IF_ERROR(KafkaStatus(rd_kafka_assign(consumer.get(), list.get()), "assign"));
    const Clock::TimePoint deadline = clock_->Now() + std::chrono::milliseconds(kProbeTimeoutMs);
    std::optional<bool> visible;
    while (!visible && clock_->Now() < deadline) {
      internal::KafkaMessage m(rd_kafka_consumer_poll(consumer.get(), 200));
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        visible = false;
      } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && IsOurs(*m)) {
        visible = true;
      } else if (m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        return Status::IOError(fmt::format(
            "the checkpoint's transaction probe {}/{}@{} is no longer in the topic (retention); "
            "cannot tell whether its results were committed",
            options_.topic, partition, offset));
      }
    }
    (void)rd_kafka_consumer_close(consumer.get());
    if (!visible) {
      return Status::Unavailable(
          fmt::format("could not read {}/{} within {} ms to check the checkpoint's transaction",
                      options_.topic, partition, kProbeTimeoutMs));
    }
    return *visible;
  }

  bool IsOurs(const rd_kafka_message_t& m) const {
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(&m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    const void* value = nullptr;
    size_t size = 0;
    if (rd_kafka_header_get_last(headers, kTxnHeader, &value, &size) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return false;
    }
    return std::string_view(static_cast<const char*>(value), size) == options_.transactional_id;
  }

  KafkaSinkOptions options_;
  SinkCounters* counters_ = nullptr;
  Clock* clock_ = &Env::Default().clock();  // the run's (flush and probe deadlines); set by Open
  metrics::Counter* delivered_ = nullptr;  // these: null without a registry
  metrics::Gauge* in_flight_ = nullptr;
  metrics::Counter* committed_ = nullptr;
  metrics::Counter* aborted_ = nullptr;
  metrics::Counter* redone_ = nullptr;
  KafkaHandle producer_;
  Status first_error_;
  uint64_t failed_ = 0;
  bool recovered_ = false;
  bool in_transaction_ = false;
  std::optional<uint64_t> prepared_;
  std::vector<Message> pending_;  // exactly-once: the results of the open transaction
  std::optional<Probe> probe_;
  std::function<void(std::string_view)> on_warning_;
};

}  // namespace

Status KafkaSinkOptions::Validate() const {
  if (bootstrap_servers.empty()) return Status::InvalidArgument("kafka sink: no bootstrap_servers");
  if (topic.empty()) return Status::InvalidArgument("kafka sink: no topic");
  if (acks != "all" && acks != "-1" && acks != "1" && acks != "0") {
    return Status::InvalidArgument(
        fmt::format("kafka sink: acks must be all, 1 or 0; got \"{}\"", acks));
  }
  if (delivery == KafkaDelivery::kExactlyOnce && acks != "all" && acks != "-1") {
    return Status::InvalidArgument(fmt::format(
        "kafka sink: delivery = \"exactly-once\" needs acks = \"all\"; got \"{}\"", acks));
  }
  if (delivery == KafkaDelivery::kExactlyOnce && checkpoint_interval_ms > 0) {
    const std::string text = internal::PropertyOr(properties, "transaction.timeout.ms", "");
    DurationMs timeout_ms = kDefaultTransactionTimeoutMs;
    if (!text.empty()) {
      char* end = nullptr;
      timeout_ms = std::strtoll(text.c_str(), &end, 10);
      if (end == text.c_str() || *end != '\0' || timeout_ms <= 0) {
        return Status::InvalidArgument(fmt::format(
            "kafka sink: transaction.timeout.ms must be a positive integer; got \"{}\"", text));
      }
    }
    const DurationMs needed =
        std::max(2 * checkpoint_interval_ms, checkpoint_interval_ms + kTransactionSlackMs);
    if (timeout_ms < needed) {
      return Status::InvalidArgument(fmt::format(
          "kafka sink: the checkpoint interval ({}) does not fit the transaction timeout "
          "(transaction.timeout.ms = {}{}): each transaction stays open from one checkpoint to "
          "the next. Set [sink.properties] transaction.timeout.ms to at least {} (the broker "
          "allows up to its transaction.max.timeout.ms, 15 minutes by default), or checkpoint "
          "at least every {}",
          FormatDuration(checkpoint_interval_ms), timeout_ms, text.empty() ? ", the default" : "",
          needed, FormatDuration(std::min(timeout_ms / 2, timeout_ms - kTransactionSlackMs))));
    }
  }
  if (flush_timeout_ms <= 0)
    return Status::InvalidArgument("kafka sink: flush_timeout_ms must be > 0");
  return Status::OK();
}

std::unique_ptr<Sink> KafkaSink(KafkaSinkOptions options) {
  return std::make_unique<KafkaSinkImpl>(std::move(options));
}

}  // namespace pulse::io
