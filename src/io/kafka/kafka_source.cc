// SPDX-License-Identifier: MIT
// Kafka source: assigns every partition of its topics, decodes JSON messages with simdjson,
// keeps per-partition watermarks with idle detection, and reports offsets for checkpoints; may
// stop each partition at an end offset (bounded reads).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/json_record.h"
#include "io/kafka/kafka_client.h"

#include "pulse/core/json_reader.h"
#include "pulse/io/kafka.h"
#include "pulse/metrics/registry.h"

namespace pulse::io {
namespace {

using internal::KafkaErrorStatus;
using internal::KafkaHandle;
using internal::KafkaPartitionList;
using internal::KafkaQueue;
using internal::KafkaStatus;

constexpr int kMetadataTimeoutMs = 10'000;
constexpr int kOffsetsTimeoutMs = 10'000;
constexpr int kCloseCommitTimeoutMs = 5'000;
// Messages taken from librdkafka per Read() at most (Read's max_records may be larger).
constexpr size_t kMaxBatch = 4096;
// The prefetch budget of a source, over all its partitions (PrefetchSettings).
constexpr int64_t kPrefetchMessages = 2'000'000;
constexpr int64_t kPrefetchKBytes = 256 * 1024;
// Dead-letter lines keep at most this much of a bad payload.
constexpr size_t kMaxRawBytes = 64 * 1024;

using PartitionKey = std::pair<std::string, int32_t>;

// One assigned partition: where it is and what its watermark is.
struct PartitionState {
  std::string topic;
  int32_t partition = 0;
  std::string origin;                  // "topic/partition", for bad records
  int64_t next_offset = 0;             // the offset after the last record returned (or the start)
  EventTime max_time = kMinWatermark;  // the largest event time seen; kMinWatermark: none yet
  // Caught up: librdkafka reported the end of the partition (everything up to the high
  // watermark, or for read_committed the last stable offset, was handed out) and no message
  // came since. Only a caught-up partition can turn idle.
  bool at_end = false;
  bool idle = false;
  Clock::TimePoint last_activity;  // its last message, or when reading began
  // A bounded read (stop_at) ends the partition before this offset; -1: never.
  int64_t stop_offset = -1;
  bool done = false;  // a bounded read reached stop_offset: it holds nothing back any more
  // Its metrics (null without a registry): see RegisterPartitionMetrics.
  metrics::Gauge* lag = nullptr;
  metrics::Gauge* watermark = nullptr;
  metrics::Gauge* idle_gauge = nullptr;
};

// One partition of a position: the next offset and the largest event time seen so far
// (kMinWatermark: none), which the partition's watermark continues from after a restart.
struct SavedPartition {
  int64_t offset = 0;
  EventTime max_time = kMinWatermark;
};

// A position parsed from Position()'s JSON. Errors: InvalidArgument naming the member.
Result<std::map<PartitionKey, SavedPartition>> ParsePosition(const Value& position) {
  PULSE_ASSIGN_OR_RETURN(
      JsonObjectReader r,
      JsonObjectReader::Make(position, "Kafka source position", StatusCode::kInvalidArgument));
  PULSE_ASSIGN_OR_RETURN(std::vector<JsonObjectReader> entries, r.Children("kafka_offsets"));
  std::map<PartitionKey, SavedPartition> offsets;
  for (const JsonObjectReader& entry : entries) {
    PULSE_ASSIGN_OR_RETURN(std::string topic, entry.String("topic"));
    PULSE_ASSIGN_OR_RETURN(int64_t partition, entry.Int("partition"));
    SavedPartition saved;
    PULSE_ASSIGN_OR_RETURN(saved.offset, entry.IntAtLeast("offset", 0));
    PULSE_ASSIGN_OR_RETURN(std::optional<int64_t> max_time, entry.OptionalInt("max_time"));
    saved.max_time = max_time.value_or(kMinWatermark);
    offsets[{std::move(topic), static_cast<int32_t>(partition)}] = saved;
  }
  return offsets;
}

// Not thread-safe, except OnCheckpointCommitted (which only uses the thread-safe client).
class KafkaSourceImpl final : public Source, public CheckpointedSource {
 public:
  explicit KafkaSourceImpl(KafkaSourceOptions options)
      : options_(std::move(options)), checkpointed_(options_.checkpointed_run) {}
  KafkaSourceImpl(const KafkaSourceImpl&) = delete;
  KafkaSourceImpl& operator=(const KafkaSourceImpl&) = delete;
  ~KafkaSourceImpl() override { (void)Close(); }

  void SetProjection(std::vector<std::string> fields) override { projection_ = std::move(fields); }

  Status Open(const SourceContext& ctx) override {
    ctx_ = ctx;
    clock_ = ctx.env != nullptr ? &ctx.env->clock() : &Env::Default().clock();
    bound_ms_ = ctx.max_out_of_orderness.value_or(0);
    rules_.time_field = options_.time_field;
    rules_.projection = &projection_;
    rules_.use_given_time = options_.time_source == KafkaTimeSource::kTimestamp;
    Status st = OpenConsumer();
    if (!st.ok()) {
      consumer_.reset();
      return st.WithContext("kafka source");
    }
    return Status::OK();
  }

  Result<bool> Read(size_t max_records, std::vector<Record>* out) override {
    marks_.clear();
    if (ctx_.stop != nullptr && ctx_.stop->load()) return false;
    if (consumer_ == nullptr) return Status::Internal("kafka source: Read before Open");
    char fatal_text[512];
    if (rd_kafka_resp_err_t fatal =
            rd_kafka_fatal_error(consumer_.get(), fatal_text, sizeof(fatal_text))) {
      return Status::IOError(fmt::format("kafka source: fatal consumer error: {} ({})", fatal_text,
                                         rd_kafka_err2name(fatal)));
    }
    if (!reading_) {
      // The idle clock starts when reading does, not at Open: restoring state in between
      // (which may take long) is not idleness. A resumed run's watermark is known at once.
      reading_ = true;
      for (PartitionState& p : partitions_) p.last_activity = clock_->Now();
      DeclareWatermark(0);
    }
    if (AllDone()) return false;
    const size_t want = std::clamp<size_t>(max_records, 1, kMaxBatch);
    batch_.resize(want);
    const ssize_t n = rd_kafka_consume_batch_queue(
        queue_.get(), static_cast<int>(options_.poll_timeout_ms), batch_.data(), want);
    if (n < 0) return KafkaStatus(rd_kafka_last_error(), "kafka source: consume");
    const Clock::TimePoint now = clock_->Now();
    Status status;
    for (ssize_t i = 0; i < n; ++i) {
      internal::KafkaMessage message(batch_[static_cast<size_t>(i)]);
      if (status.ok()) status = Handle(*message, now, out);
    }
    PULSE_RETURN_IF_ERROR(status);
    if (options_.idle_timeout_ms > 0) {
      const auto timeout = std::chrono::milliseconds(options_.idle_timeout_ms);
      bool changed = false;
      for (PartitionState& p : partitions_) {
        if (!p.idle && p.at_end && now - p.last_activity >= timeout) {
          p.idle = true;
          changed = true;
        }
      }
      if (changed) DeclareWatermark(out->size());
    }
    AdvanceIdle(now, out->size());
    UpdatePartitionMetrics();
    if (!checkpointed_ && options_.commit_interval_ms > 0 &&
        now - last_commit_ >= std::chrono::milliseconds(options_.commit_interval_ms)) {
      last_commit_ = now;
      CommitDelivered(/*async=*/true);
    }
    return !AllDone();
  }

  void TakeWatermarks(std::vector<SourceWatermark>* out) override {
    out->insert(out->end(), marks_.begin(), marks_.end());
    marks_.clear();
  }

  bool GeneratesWatermarks() const override { return true; }

  // Without stop_at a topic has no end: the run lasts until it is stopped.
  bool Unbounded() const override { return options_.stop_at == KafkaStopAt::kNever; }

  Status Close() override {
    if (consumer_ == nullptr) return Status::OK();
    // Without checkpoints the group's offsets are all that remembers progress.
    if (!checkpointed_) CommitDelivered(/*async=*/false);
    queue_.reset();
    (void)rd_kafka_consumer_close(consumer_.get());
    consumer_.reset();
    return Status::OK();
  }

  std::string Describe() const override {
    std::string topics;
    for (const std::string& t : options_.topics) topics += (topics.empty() ? "" : ",") + t;
    return fmt::format("kafka {} at {} (group {})", topics, options_.bootstrap_servers,
                       options_.group_id);
  }

  CheckpointedSource* AsCheckpointed() override { return this; }

  Result<Value> Position() override {
    checkpointed_ = true;
    Array list;
    for (const PartitionState& p : partitions_) {
      Object entry{{"topic", Value(p.topic)},
                   {"partition", Value(static_cast<int64_t>(p.partition))},
                   {"offset", Value(p.next_offset)}};
      // The partition's watermark state: without it a resumed run's partitions that get no
      // more data would hold the watermark at -inf, and windows the data already read would
      // close never would.
      if (p.max_time != kMinWatermark) entry.emplace_back("max_time", Value(p.max_time));
      list.push_back(Value(std::move(entry)));
    }
    return Value(Object{{"kafka_offsets", Value(std::move(list))}});
  }

  Status Seek(const Value& position) override {
    PULSE_ASSIGN_OR_RETURN(seek_, ParsePosition(position));
    checkpointed_ = true;
    return Status::OK();
  }

  Status OnCheckpointCommitted(const Value& position) override {
    if (consumer_ == nullptr) return Status::OK();
    PULSE_ASSIGN_OR_RETURN(auto offsets, ParsePosition(position));
    KafkaPartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
    for (const auto& [key, saved] : offsets) {
      rd_kafka_topic_partition_list_add(list.get(), key.first.c_str(), key.second)->offset =
          saved.offset;
    }
    // Asynchronous: the group's offsets only inform lag tools (recovery uses the checkpoint),
    // so a slow or failed commit must not hold up the sink thread.
    if (!offsets.empty()) (void)rd_kafka_commit(consumer_.get(), list.get(), 1);
    return Status::OK();
  }

 private:
  // librdkafka 2.0 stops fetching a partition once its local queue holds queued.min.messages
  // (default 100,000) or queued.max.messages.kbytes, and looks at it again only when its broker
  // thread next wakes, up to a second later: with the defaults, a source reading a backlog
  // spent most of its time waiting. The prefetch is sized from a budget for the whole source
  // (kPrefetchMessages, kPrefetchKBytes) shared by its partitions, never below librdkafka's
  // defaults per partition. [source.properties] overrides both (docs/kafka.md).
  static KafkaProperties PrefetchSettings(size_t partitions) {
    const int64_t n = static_cast<int64_t>(std::max<size_t>(partitions, 1));
    const int64_t messages = std::clamp<int64_t>(kPrefetchMessages / n, 100'000, 1'000'000);
    const int64_t kbytes = std::clamp<int64_t>(kPrefetchKBytes / n, 16 * 1024, 64 * 1024);
    return {{"queued.min.messages", std::to_string(messages)},
            {"queued.max.messages.kbytes", std::to_string(kbytes)}};
  }

  Status OpenConsumer() {
    const KafkaProperties settings = {
        {"bootstrap.servers", options_.bootstrap_servers},
        {"group.id", options_.group_id},
        {"client.id", "pulse"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        // The end-of-partition events tell when a partition is caught up (idleness, stop_at).
        {"enable.partition.eof", "true"},
        {"isolation.level", "read_committed"},
        {"auto.offset.reset", options_.auto_offset_reset},
    };
    // The partitions first, from a client without prefetch settings: they size the prefetch.
    KafkaPartitionList list(rd_kafka_topic_partition_list_new(16));
    {
      PULSE_ASSIGN_OR_RETURN(internal::KafkaConf conf,
                             internal::MakeKafkaConf(settings, options_.properties));
      PULSE_ASSIGN_OR_RETURN(internal::KafkaHandle metadata,
                             internal::MakeKafkaClient(RD_KAFKA_CONSUMER, std::move(conf)));
      for (const std::string& topic : options_.topics) {
        PULSE_ASSIGN_OR_RETURN(std::vector<int32_t> ids,
                               internal::TopicPartitions(*clock_, metadata.get(), topic,
                                                         kMetadataTimeoutMs));
        for (int32_t id : ids) {
          rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), id)->offset =
              RD_KAFKA_OFFSET_INVALID;
        }
      }
    }
    KafkaProperties tuned = settings;
    for (auto& setting : PrefetchSettings(static_cast<size_t>(list->cnt))) {
      tuned.push_back(std::move(setting));
    }
    PULSE_ASSIGN_OR_RETURN(internal::KafkaConf conf,
                           internal::MakeKafkaConf(tuned, options_.properties));
    PULSE_ASSIGN_OR_RETURN(consumer_,
                           internal::MakeKafkaClient(RD_KAFKA_CONSUMER, std::move(conf)));
    PULSE_RETURN_IF_ERROR(KafkaStatus(rd_kafka_poll_set_consumer(consumer_.get()), "poll set"));
    // Start offsets: the checkpoint's, else the group's committed ones, else auto_offset_reset.
    // They are resolved here (not left to librdkafka) so that Position() is exact from the
    // start, also for partitions that deliver nothing.
    PULSE_RETURN_IF_ERROR(Retry(kOffsetsTimeoutMs, [&](int remaining_ms) {
      PULSE_RETURN_IF_ERROR(KafkaStatus(
          rd_kafka_committed(consumer_.get(), list.get(), remaining_ms), "committed offsets"));
      // A partition whose committed offset could not be read must not fall back to
      // auto_offset_reset as if the group had none.
      for (int i = 0; i < list->cnt; ++i) {
        const rd_kafka_topic_partition_t& tp = list->elems[i];
        PULSE_RETURN_IF_ERROR(KafkaStatus(
            tp.err, fmt::format("committed offset of {}/{}", tp.topic, tp.partition)));
      }
      return Status::OK();
    }));
    const Clock::TimePoint now = clock_->Now();
    for (int i = 0; i < list->cnt; ++i) {
      rd_kafka_topic_partition_t& tp = list->elems[i];
      auto seek = seek_.find({tp.topic, tp.partition});
      if (seek != seek_.end()) {
        tp.offset = seek->second.offset;
      } else if (tp.offset < 0) {
        int64_t low = 0;
        int64_t high = 0;
        auto query = [&](int remaining_ms) {
          return KafkaStatus(rd_kafka_query_watermark_offsets(consumer_.get(), tp.topic,
                                                              tp.partition, &low, &high,
                                                              remaining_ms),
                             fmt::format("offsets of {}/{}", tp.topic, tp.partition));
        };
        PULSE_RETURN_IF_ERROR(Retry(kOffsetsTimeoutMs, query));
        tp.offset = options_.auto_offset_reset == "earliest" ? low : high;
      }
      PartitionState p;
      p.topic = tp.topic;
      p.partition = tp.partition;
      p.origin = fmt::format("{}/{}", tp.topic, tp.partition);
      p.next_offset = tp.offset;
      if (seek != seek_.end()) p.max_time = seek->second.max_time;
      p.last_activity = now;
      index_[{p.topic, p.partition}] = partitions_.size();
      partitions_.push_back(std::move(p));
    }
    PULSE_RETURN_IF_ERROR(ResolveStopOffsets());
    RegisterPartitionMetrics();
    PULSE_RETURN_IF_ERROR(KafkaStatus(rd_kafka_assign(consumer_.get(), list.get()), "assign"));
    queue_.reset(rd_kafka_queue_get_consumer(consumer_.get()));
    for (PartitionState& p : partitions_) {
      if (p.stop_offset >= 0 && p.next_offset >= p.stop_offset) Finish(p);
    }
    last_commit_ = now;
    return Status::OK();
  }

  // RetryWhileUnavailable on the run's clock.
  Status Retry(int timeout_ms, const std::function<Status(int remaining_ms)>& attempt) {
    return internal::RetryWhileUnavailable(*clock_, timeout_ms, attempt);
  }

  // A bounded read's end offset per partition, as Flink's bounded KafkaSource: stop_at = end:
  // the end offset when the run starts (for read_committed, the last stable offset);
  // stop_at = a time: the first offset whose message timestamp is at or after it, else the end.
  Status ResolveStopOffsets() {
    if (options_.stop_at == KafkaStopAt::kNever) return Status::OK();
    for (PartitionState& p : partitions_) {
      int64_t low = 0;
      int64_t high = 0;
      PULSE_RETURN_IF_ERROR(Retry(kOffsetsTimeoutMs, [&](int remaining) {
        return KafkaStatus(rd_kafka_query_watermark_offsets(consumer_.get(), p.topic.c_str(),
                                                            p.partition, &low, &high, remaining),
                           fmt::format("end offset of {}", p.origin));
      }));
      p.stop_offset = high;
    }
    if (options_.stop_at != KafkaStopAt::kTime) return Status::OK();
    KafkaPartitionList list(
        rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
    for (const PartitionState& p : partitions_) {
      rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset =
          options_.stop_at_time;
    }
    PULSE_RETURN_IF_ERROR(Retry(kOffsetsTimeoutMs, [&](int remaining) {
      return KafkaStatus(rd_kafka_offsets_for_times(consumer_.get(), list.get(), remaining),
                         "offsets for stop_at");
    }));
    for (int i = 0; i < list->cnt; ++i) {
      const rd_kafka_topic_partition_t& tp = list->elems[i];
      PULSE_RETURN_IF_ERROR(
          KafkaStatus(tp.err, fmt::format("offset for stop_at in {}/{}", tp.topic, tp.partition)));
      PartitionState& p = partitions_[index_.at({tp.topic, tp.partition})];
      if (tp.offset >= 0) p.stop_offset = std::min(p.stop_offset, tp.offset);
    }
    return Status::OK();
  }

  // A bounded partition reached its end: stop fetching it and let it hold nothing back.
  void Finish(PartitionState& p) {
    if (p.done) return;
    p.done = true;
    KafkaPartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition);
    (void)rd_kafka_pause_partitions(consumer_.get(), list.get());
  }

  bool AllDone() const {
    return options_.stop_at != KafkaStopAt::kNever &&
           std::all_of(partitions_.begin(), partitions_.end(),
                       [](const PartitionState& p) { return p.done; });
  }

  // Per partition (labels topic, partition), for lag tools and for finding the partition that
  // holds the watermark back: its lag, its watermark and whether it is idle.
  void RegisterPartitionMetrics() {
    if (ctx_.metrics == nullptr) return;
    for (PartitionState& p : partitions_) {
      const metrics::Labels labels = {{"topic", p.topic},
                                      {"partition", std::to_string(p.partition)}};
      p.lag = &ctx_.metrics->GetGauge(
          "pulse_kafka_partition_lag",
          "Messages in a Kafka partition after the source's position (the high watermark of the "
          "consumer's latest fetch minus the next offset to read)",
          labels);
      p.watermark = &ctx_.metrics->GetGauge(
          "pulse_kafka_partition_watermark_seconds",
          "A Kafka partition's watermark (its largest event time minus max_out_of_orderness) in "
          "seconds since the epoch; -Inf before its first record",
          labels);
      p.idle_gauge = &ctx_.metrics->GetGauge(
          "pulse_kafka_partition_idle",
          "1 while a Kafka partition is idle (no message for idle_timeout), so that it does not "
          "hold the watermark back",
          labels);
    }
    transient_errors_total_ = &ctx_.metrics->GetCounter(
        "pulse_kafka_transient_errors_total",
        "Kafka consumer errors that librdkafka retries by itself (broker down, transport)");
    UpdatePartitionMetrics();
  }

  void UpdatePartitionMetrics() {
    if (ctx_.metrics == nullptr) return;
    for (PartitionState& p : partitions_) {
      int64_t low = 0;
      int64_t high = 0;
      // Cached from fetch responses; no request to the broker.
      if (rd_kafka_get_watermark_offsets(consumer_.get(), p.topic.c_str(), p.partition, &low,
                                         &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          high >= 0) {
        p.lag->Set(static_cast<double>(std::max<int64_t>(0, high - p.next_offset)));
      }
      p.watermark->Set(p.max_time == kMinWatermark
                           ? -std::numeric_limits<double>::infinity()
                           : static_cast<double>(p.max_time - bound_ms_) / 1000);
      p.idle_gauge->Set(p.idle ? 1 : 0);
    }
  }

  // One message from the consumer: a record, a bad record, an error to return or to ignore.
  Status Handle(const rd_kafka_message_t& m, Clock::TimePoint now,
                std::vector<Record>* out) {
    if (m.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      switch (m.err) {
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
          OnPartitionEnd(m, out->size());
          return Status::OK();
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        case RD_KAFKA_RESP_ERR__FATAL:
          return KafkaStatus(m.err, fmt::format("kafka source: {}", rd_kafka_message_errstr(&m)));
        default:
          // Transport errors, a broker restarting, ...: librdkafka reconnects and retries.
          if (transient_errors_total_ != nullptr) transient_errors_total_->Increment();
          return Status::OK();
      }
    }
    PartitionState* found = Find(m);
    if (found == nullptr) return Status::OK();  // not assigned (cannot happen)
    PartitionState& p = *found;
    if (p.done) return Status::OK();  // fetched before the pause took effect: beyond its end
    if (p.stop_offset >= 0 && m.offset >= p.stop_offset) {
      Finish(p);
      DeclareWatermark(out->size());
      return Status::OK();
    }
    p.next_offset = m.offset + 1;
    p.last_activity = now;
    p.at_end = false;
    p.idle = false;  // rejoins; the source watermark never goes back
    if (p.stop_offset >= 0 && p.next_offset >= p.stop_offset) Finish(p);
    ctx_.counters->bytes.fetch_add(m.len, std::memory_order_relaxed);

    std::string_view payload(static_cast<const char*>(m.payload), m.payload == nullptr ? 0 : m.len);
    if (rules_.use_given_time) {
      rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
      const int64_t ts = rd_kafka_message_timestamp(&m, &type);
      const bool valid =
          type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && ts >= kMinEventTime && ts <= kMaxEventTime;
      rules_.given_time = valid ? std::optional<EventTime>(ts) : std::nullopt;
    }
    const size_t before = out->size();
    std::optional<internal::RecordProblem> problem = decoder_.Decode(payload, rules_, out);
    if (!problem) {
      ctx_.counters->records.fetch_add(1, std::memory_order_relaxed);
      const EventTime t = out->back().time;
      if (t > p.max_time) {
        p.max_time = t;
        DeclareWatermark(out->size());
      }
      return Status::OK();
    }
    out->resize(before);
    return ctx_.bad_records->Report(BadRecord{problem->reason, p.origin,
                                              static_cast<uint64_t>(m.offset),
                                              payload.substr(0, kMaxRawBytes), problem->error});
  }

  PartitionState* Find(const rd_kafka_message_t& m) {
    if (m.rkt == nullptr) return nullptr;
    auto it = index_.find({rd_kafka_topic_name(m.rkt), m.partition});
    return it == index_.end() ? nullptr : &partitions_[it->second];
  }

  // librdkafka handed out everything up to the partition's end (`m.offset`; for
  // read_committed past any transaction markers): the partition is caught up.
  void OnPartitionEnd(const rd_kafka_message_t& m, size_t index) {
    PartitionState* p = Find(m);
    if (p == nullptr || p->done) return;
    p->at_end = true;
    p->next_offset = std::max(p->next_offset, m.offset);
    if (p->stop_offset >= 0 && p->next_offset >= p->stop_offset) {
      Finish(*p);
      DeclareWatermark(index);
    }
  }

  // The source's watermark: the minimum over partitions that are neither idle nor done of
  // (largest event time − bound). A partition without data holds it at −∞ until it becomes
  // idle. When every partition is idle the watermark stays where it is.
  std::optional<EventTime> CurrentWatermark() const {
    std::optional<EventTime> min;
    for (const PartitionState& p : partitions_) {
      if (p.idle || p.done) continue;
      const EventTime w = p.max_time == kMinWatermark ? kMinWatermark : p.max_time - bound_ms_;
      if (!min || w < *min) min = w;
    }
    return min;
  }

  // Declare the watermark before the record at `index`, if it rose.
  void DeclareWatermark(size_t index) {
    std::optional<EventTime> w = CurrentWatermark();
    if (w) Declare(index, *w);
  }

  // The pipeline's idleness (SourceContext::idle_timeout; not for a bounded read): once every
  // partition is caught up and no message has arrived for the timeout, the watermark follows
  // processing time from the largest event time of all partitions minus the bound. A partition
  // with unread backlog keeps it off, however long librdkafka pauses between fetches.
  void AdvanceIdle(Clock::TimePoint now, size_t index) {
    if (!ctx_.idle_timeout || options_.stop_at != KafkaStopAt::kNever) return;
    Clock::TimePoint last{};
    EventTime max_time = kMinWatermark;
    for (const PartitionState& p : partitions_) {
      if (!p.at_end && !p.done) return;
      last = std::max(last, p.last_activity);
      max_time = std::max(max_time, p.max_time);
    }
    if (max_time == kMinWatermark) return;
    const Clock::Duration quiet = now - last;
    if (quiet < std::chrono::milliseconds(*ctx_.idle_timeout)) return;
    const int64_t quiet_ms = std::chrono::duration_cast<std::chrono::milliseconds>(quiet).count();
    const EventTime from = max_time - bound_ms_;
    // Saturating: only the end of the input reaches +∞.
    Declare(index, quiet_ms >= kMaxWatermark - 1 - from ? kMaxWatermark - 1 : from + quiet_ms);
  }

  // Declare `w` before the record at `index`, if it is above the watermark so far.
  void Declare(size_t index, EventTime w) {
    if (w <= watermark_) return;
    watermark_ = w;
    if (!marks_.empty() && marks_.back().index == index) {
      marks_.back().watermark = watermark_;
    } else {
      marks_.push_back(SourceWatermark{index, watermark_});
    }
  }

  void CommitDelivered(bool async) {
    if (consumer_ == nullptr || partitions_.empty()) return;
    KafkaPartitionList list(
        rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
    for (const PartitionState& p : partitions_) {
      rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset =
          p.next_offset;
    }
    (void)rd_kafka_commit(consumer_.get(), list.get(), async ? 1 : 0);
  }

  KafkaSourceOptions options_;
  std::vector<std::string> projection_;
  SourceContext ctx_;
  DurationMs bound_ms_ = 0;
  KafkaHandle consumer_;
  KafkaQueue queue_;
  std::vector<PartitionState> partitions_;
  std::map<PartitionKey, size_t> index_;
  std::map<PartitionKey, SavedPartition> seek_;
  EventTime watermark_ = kMinWatermark;
  std::vector<SourceWatermark> marks_;
  std::vector<rd_kafka_message_t*> batch_;
  // Set once a checkpoint was taken or resumed: offsets are then committed after checkpoints.
  bool checkpointed_ = false;
  bool reading_ = false;  // Read() was called
  Clock::TimePoint last_commit_;
  Clock* clock_ = &Env::Default().clock();  // the run's (idle_timeout, commit_interval_ms)
  metrics::Counter* transient_errors_total_ = nullptr;  // null without a registry
  internal::JsonRecordRules rules_;  // set at Open; given_time per message
  internal::JsonMessageDecoder decoder_;
};

}  // namespace

Status KafkaSourceOptions::Validate() const {
  if (bootstrap_servers.empty())
    return Status::InvalidArgument("kafka source: no bootstrap_servers");
  if (topics.empty()) return Status::InvalidArgument("kafka source: no topic");
  for (const std::string& t : topics) {
    if (t.empty()) return Status::InvalidArgument("kafka source: an empty topic name");
  }
  if (group_id.empty()) return Status::InvalidArgument("kafka source: no group_id");
  if (auto_offset_reset != "earliest" && auto_offset_reset != "latest") {
    return Status::InvalidArgument(
        fmt::format("kafka source: auto_offset_reset must be earliest or latest; got \"{}\"",
                    auto_offset_reset));
  }
  if (time_source == KafkaTimeSource::kField && time_field.empty()) {
    return Status::InvalidArgument("kafka source: time_field must not be empty");
  }
  if (idle_timeout_ms < 0 || commit_interval_ms < 0 || poll_timeout_ms <= 0) {
    return Status::InvalidArgument(
        "kafka source: idle_timeout and commit_interval_ms must be >= 0, poll_timeout_ms > 0");
  }
  return Status::OK();
}

std::unique_ptr<Source> KafkaSource(KafkaSourceOptions options) {
  return std::make_unique<KafkaSourceImpl>(std::move(options));
}

}  // namespace pulse::io
