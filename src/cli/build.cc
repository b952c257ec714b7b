// SPDX-License-Identifier: MIT
// From a checked PipelineConfig to a Pipeline (source → key by → window → sink), and the plan
// that `pulse validate` prints.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cli/config.h"
#include "pulse/config.h"
#include "pulse/io/parquet.h"
#if PULSE_HAVE_KAFKA
#include "pulse/io/kafka.h"
#endif
#include "pulse/ops/window.h"
#if PULSE_HAVE_ROCKSDB
#include "pulse/state/rocksdb_backend.h"
#endif

namespace pulse::cli {
namespace {

Status ErrorAt(const PipelineConfig& c, int line, std::string_view message) {
  if (line <= 0) return Status::InvalidArgument(fmt::format("{}: {}", c.name, message));
  return Status::InvalidArgument(fmt::format("{}:{}: {}", c.name, line, message));
}

ops::WindowSpec MakeWindowSpec(const WindowConfig& w) {
  switch (w.type.value) {
    case ops::WindowSpec::Kind::kSliding:
      return ops::WindowSpec::Sliding(w.size.value, w.slide.value);
    case ops::WindowSpec::Kind::kSession:
      return ops::WindowSpec::Session(w.gap.value);
    case ops::WindowSpec::Kind::kTumbling:
      break;
  }
  return ops::WindowSpec::Tumbling(w.size.value);
}

ops::AggSpec MakeAggSpec(const OpsConfig& o) {
  return ops::AggSpec{o.agg.value, o.agg.value == ops::AggSpec::Kind::kCount
                                       ? std::string()
                                       : o.agg_field.value};
}

std::string Quoted(std::string_view s) { return fmt::format("\"{}\"", s); }

// source.topics, then source.topic if it is not among them.
std::vector<std::string> KafkaTopics(const SourceConfig& s) {
  std::vector<std::string> topics = s.topics.value;
  if (!s.topic.value.empty() &&
      std::find(topics.begin(), topics.end(), s.topic.value) == topics.end()) {
    topics.push_back(s.topic.value);
  }
  return topics;
}

std::string JoinTopics(const SourceConfig& s) {
  std::string joined;
  for (const std::string& t : KafkaTopics(s)) joined += (joined.empty() ? "" : ",") + t;
  return joined;
}

// The file or Kafka source of a config (the only place that knows whether Kafka is built).
Result<std::unique_ptr<Source>> MakeSource(const PipelineConfig& c) {
  const SourceConfig& s = c.source;
  if (s.kind.value == SourceKind::kKafka) {
#if PULSE_HAVE_KAFKA
    io::KafkaSourceOptions k;
    k.bootstrap_servers = s.bootstrap_servers.value;
    k.topics = KafkaTopics(s);
    k.group_id = s.group_id.value;
    if (s.auto_offset_reset.is_set()) k.auto_offset_reset = s.auto_offset_reset.value;
    k.commit_interval_ms = s.commit_interval_ms.value;
    k.checkpointed_run = !c.checkpoint.dir.value.empty();
    k.time_source = s.time_source.value == "message" ? io::KafkaTimeSource::kTimestamp
                                                     : io::KafkaTimeSource::kField;
    k.time_field = s.time_field.value;
    k.idle_timeout_ms = s.idle_timeout.value;
    if (s.stop_at.value == "end") {
      k.stop_at = io::KafkaStopAt::kEnd;
    } else if (!s.stop_at.value.empty()) {
      k.stop_at = io::KafkaStopAt::kTime;
      k.stop_at_time = *ParseRfc3339(s.stop_at.value);  // checked by the config loader
    }
    k.properties = s.properties.value;
    if (Status st = k.Validate(); !st.ok()) return ErrorAt(c, s.line, st.message());
    return io::KafkaSource(std::move(k));
#else
    return ErrorAt(c, s.kind.line,
                   "source.kind = \"kafka\": this pulse was built without Kafka support "
                   "(PULSE_WITH_KAFKA=OFF); rebuild with it ON or use kind = \"file\"");
#endif
  }
  io::FileSourceOptions source;
  source.path = s.path.value;
  source.format = s.format.value;
  source.time_field = s.time_field.value;
  source.follow = s.follow.value;
  source.max_line_bytes = static_cast<size_t>(s.max_line_bytes.value);
  source.decode_threads = static_cast<int>(s.decode_threads.value);  // 0..256 (config.cc)
  if (Status st = source.Validate(); !st.ok()) return ErrorAt(c, s.line, st.message());
  return io::FileSource(std::move(source));
}

// The Kafka sink of a config.
Result<std::unique_ptr<Sink>> MakeKafkaSink(const PipelineConfig& c) {
  const SinkConfig& k = c.sink;
#if PULSE_HAVE_KAFKA
  io::KafkaSinkOptions o;
  o.bootstrap_servers = k.bootstrap_servers.value;
  o.topic = k.topic.value;
  o.acks = k.acks.value == "-1" ? "all" : k.acks.value;
  o.key_field = k.key_field.value;
  o.delivery = k.delivery.value == "exactly-once" ? io::KafkaDelivery::kExactlyOnce
                                                  : io::KafkaDelivery::kAtLeastOnce;
  o.transactional_id = k.transactional_id.value;
  o.properties = k.properties.value;
  if (!c.checkpoint.dir.value.empty()) o.checkpoint_interval_ms = c.checkpoint.interval.value;
  if (Status st = o.Validate(); !st.ok()) {
    return ErrorAt(c, k.delivery.is_set() ? k.delivery.line : k.line, st.message());
  }
  if (o.delivery == io::KafkaDelivery::kExactlyOnce && c.checkpoint.dir.value.empty()) {
    return ErrorAt(c, k.delivery.line,
                   "sink.delivery = \"exactly-once\" commits one Kafka transaction per "
                   "checkpoint, so it needs checkpoints: set [checkpoint] dir or "
                   "--checkpoint-dir (or use delivery = \"at-least-once\")");
  }
  return io::KafkaSink(std::move(o));
#else
  return ErrorAt(c, k.kind.line,
                 "sink.kind = \"kafka\": this pulse was built without Kafka support "
                 "(PULSE_WITH_KAFKA=OFF); rebuild with it ON or use kind = \"file\"");
#endif
}

// The file, Parquet or Kafka sink of a config (the only place that knows whether Parquet is
// built).
Result<std::unique_ptr<Sink>> MakeSink(const PipelineConfig& c) {
  const SinkConfig& k = c.sink;
  if (k.kind.value == SinkKind::kKafka) return MakeKafkaSink(c);
  if (k.kind.value != SinkKind::kParquet) {
    return std::unique_ptr<Sink>(io::FileSink(io::FileSinkOptions{k.path.value}));
  }
#if PULSE_HAVE_PARQUET
  io::ParquetSinkOptions p;
  p.out_dir = k.out_dir.value.empty() ? "." : k.out_dir.value;
  p.compression = k.compression.value == "zstd"   ? io::ParquetCompression::kZstd
                  : k.compression.value == "none" ? io::ParquetCompression::kNone
                                                  : io::ParquetCompression::kSnappy;
  p.schema =
      k.schema.value == "columns" ? io::ParquetSchema::kColumns : io::ParquetSchema::kPayload;
  p.partition_field = k.partition_field.value;
  p.partition_format = k.partition_format.value;
  p.max_rows = static_cast<uint64_t>(k.max_rows.value);
  p.max_bytes = static_cast<uint64_t>(k.max_bytes.value);
  p.max_age_ms = k.max_age.value;
  if (k.row_group_rows.value > 0) p.row_group_rows = static_cast<uint64_t>(k.row_group_rows.value);
  p.success_marker = k.success_marker.value;
  p.lateness_ms = c.time.allowed_lateness.value;
  if (Status st = p.Validate(); !st.ok()) {
    int line = k.partition_format.is_set() ? k.partition_format.line : k.line;
    return ErrorAt(c, line, st.message());
  }
  return io::ParquetSink(std::move(p));
#else
  return ErrorAt(c, k.kind.line,
                 "sink.kind = \"parquet\": this pulse was built without Parquet support "
                 "(PULSE_WITH_PARQUET=OFF); rebuild with it ON or use kind = \"file\"");
#endif
}

Result<ops::WindowOptions> MakeWindowOptions(const PipelineConfig& c) {
  ops::WindowOptions window;
  window.window = MakeWindowSpec(c.window);
  window.agg = MakeAggSpec(c.ops);
  window.allowed_lateness_ms = c.time.allowed_lateness.value;
  if (Status st = window.Validate(); !st.ok()) return ErrorAt(c, c.window.line, st.message());
  // With RocksDB, the open windows (tumbling, sliding and sessions) live in it, so that they
  // may exceed memory.
  if (c.state.backend.value == StateBackendKind::kRocksDb) {
#if PULSE_HAVE_ROCKSDB
    if (c.state.path.value.empty() && c.checkpoint.dir.value.empty()) {
      return ErrorAt(c, c.state.backend.line,
                     "state.backend = \"rocksdb\" needs a working directory: set state.path "
                     "(or [checkpoint] dir, whose rocksdb-work/ subdirectory is then used)");
    }
    const std::string base = c.state.path.value.empty()
                                 ? c.checkpoint.dir.value + "/rocksdb-work"
                                 : c.state.path.value;
    const size_t memory_bytes = static_cast<size_t>(c.state.memory_mb.value) << 20;
    window.state_in_backend = true;
    // A quarter each: the windows' write-back cache, RocksDB's block cache and its two
    // memtables.
    window.state_cache_bytes = memory_bytes / 4;
    window.state_backend = [base, memory_bytes](const KeyedOperatorContext& ctx) {
      state::RocksDbBackendOptions options;
      options.path = fmt::format("{}/worker-{}", base, ctx.worker);
      options.key_groups = ctx.key_groups;
      options.block_cache_bytes = memory_bytes / 4;
      options.write_buffer_bytes = memory_bytes / 4;
      return state::OpenRocksDbBackend(std::move(options));
    };
#else
    return ErrorAt(c, c.state.backend.line,
                   "state.backend = \"rocksdb\": this Pulse was built without RocksDB "
                   "(configure with -DPULSE_WITH_ROCKSDB=ON); use \"memory\"");
#endif
  }
  return window;
}

}  // namespace

std::string_view SourceKindName(SourceKind kind) {
  return kind == SourceKind::kKafka ? "kafka" : "file";
}

std::string_view SinkKindName(SinkKind kind) {
  switch (kind) {
    case SinkKind::kParquet:
      return "parquet";
    case SinkKind::kKafka:
      return "kafka";
    case SinkKind::kFile:
      break;
  }
  return "file";
}

std::string_view WindowKindName(ops::WindowSpec::Kind kind) {
  switch (kind) {
    case ops::WindowSpec::Kind::kSliding:
      return "sliding";
    case ops::WindowSpec::Kind::kSession:
      return "session";
    case ops::WindowSpec::Kind::kTumbling:
      break;
  }
  return "tumbling";
}

std::string_view AggKindName(ops::AggSpec::Kind kind) {
  switch (kind) {
    case ops::AggSpec::Kind::kSum:
      return "sum";
    case ops::AggSpec::Kind::kAvg:
      return "avg";
    case ops::AggSpec::Kind::kDistinct:
      return "distinct";
    case ops::AggSpec::Kind::kMin:
      return "min";
    case ops::AggSpec::Kind::kMax:
      return "max";
    case ops::AggSpec::Kind::kCount:
      break;
  }
  return "count";
}

Result<Pipeline> BuildPipeline(const PipelineConfig& c) {
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<Source> source, MakeSource(c));
  PULSE_ASSIGN_OR_RETURN(ops::WindowOptions window, MakeWindowOptions(c));
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, MakeSink(c));

  Pipeline pipeline;
  pipeline.From(std::move(source))
      .KeyBy(c.ops.count_by.value)
      .Apply(ops::WindowedAggregate(std::move(window)))
      .To(std::move(sink));
  pipeline.Watermarks(WatermarkOptions{c.time.max_out_of_orderness.value});
  pipeline.BadRecords(BadRecordHandler::Options{c.source.on_error.value, c.dead_letter.path.value});
  if (!c.late_output.path.value.empty()) pipeline.LateOutput(c.late_output.path.value);
  if (Status st = pipeline.Validate(); !st.ok()) return ErrorAt(c, 0, st.message());
  return Result<Pipeline>(std::move(pipeline));
}

Result<Pipeline> BuildPipelineWith(const PipelineConfig& c, std::unique_ptr<Source> source,
                                   std::unique_ptr<Sink> sink) {
  PULSE_ASSIGN_OR_RETURN(ops::WindowOptions window, MakeWindowOptions(c));
  Pipeline pipeline;
  pipeline.From(std::move(source))
      .KeyBy(c.ops.count_by.value)
      .Apply(ops::WindowedAggregate(std::move(window)))
      .To(std::move(sink));
  pipeline.Watermarks(WatermarkOptions{c.time.max_out_of_orderness.value});
  pipeline.BadRecords(BadRecordHandler::Options{c.source.on_error.value, ""});
  if (Status st = pipeline.Validate(); !st.ok()) return ErrorAt(c, 0, st.message());
  return Result<Pipeline>(std::move(pipeline));
}

CheckpointOptions MakeCheckpointOptions(const PipelineConfig& c) {
  CheckpointOptions options;
  options.dir = c.checkpoint.dir.value;
  options.interval_ms = c.checkpoint.interval.value;
  options.keep = static_cast<uint32_t>(c.checkpoint.keep.value);
  const SourceConfig& s = c.source;
  const SinkConfig& k = c.sink;
  auto& parts = options.fingerprint;
  if (s.kind.value == SourceKind::kKafka) {
    parts.emplace_back("source", fmt::format("kafka {} at {}", JoinTopics(s),
                                             s.bootstrap_servers.value));
  } else {
    parts.emplace_back("source", fmt::format("file {} {}", s.path.value,
                                             s.format.value == io::FileFormat::kCsv ? "csv"
                                                                                    : "jsonl"));
  }
  parts.emplace_back("time field", s.time_field.value);
  parts.emplace_back("key", c.ops.count_by.value);
  parts.emplace_back("window", MakeWindowSpec(c.window).Describe());
  const ops::AggSpec agg = MakeAggSpec(c.ops);
  parts.emplace_back("aggregation",
                     agg.kind == ops::AggSpec::Kind::kCount
                         ? std::string("count")
                         : fmt::format("{} of {}", AggKindName(agg.kind), agg.field));
  parts.emplace_back("allowed lateness", FormatDuration(c.time.allowed_lateness.value));
  parts.emplace_back("max out of orderness",
                     c.time.max_out_of_orderness.value
                         ? FormatDuration(*c.time.max_out_of_orderness.value)
                         : std::string("none"));
  switch (k.kind.value) {
    case SinkKind::kFile:
      parts.emplace_back("sink", "file " + k.path.value);
      break;
    case SinkKind::kParquet:
      parts.emplace_back("sink", fmt::format("parquet {} schema {} partitions {}{}",
                                             k.out_dir.value, k.schema.value,
                                             k.partition_field.value, k.partition_format.value));
      break;
    case SinkKind::kKafka:
      parts.emplace_back("sink", fmt::format("kafka {} at {}", k.topic.value,
                                             k.bootstrap_servers.value));
      break;
  }
  parts.emplace_back("dead letter", c.dead_letter.path.value);
  parts.emplace_back("late output", c.late_output.path.value);
  // The backends store fixed windows in different layouts.
  parts.emplace_back("state backend",
                     c.state.backend.value == StateBackendKind::kRocksDb ? "rocksdb" : "memory");
  return options;
}

std::string DescribePlan(const PipelineConfig& c) {
  std::string out;
  auto line = [&out](std::string_view label, const std::string& text) {
    out += fmt::format("{:<13}{}\n", label, text);
  };

  const SourceConfig& s = c.source;
  if (s.kind.value == SourceKind::kKafka) {
    std::string topics;
    for (const std::string& t : KafkaTopics(s)) topics += (topics.empty() ? "" : ", ") + Quoted(t);
    line("source:",
         fmt::format("kafka topic{} {} at {}, group {}, event time from {}{}",
                     KafkaTopics(s).size() > 1 ? "s" : "", topics,
                     Quoted(s.bootstrap_servers.value), Quoted(s.group_id.value),
                     s.time_source.value == "message" ? std::string("the message timestamp")
                                                      : "field " + Quoted(s.time_field.value),
                     s.idle_timeout.value > 0
                         ? ", a partition idle for " + FormatDuration(s.idle_timeout.value) +
                               " stops holding the watermark back"
                         : std::string()));
    if (!s.stop_at.value.empty()) {
      line("", s.stop_at.value == "end"
                   ? std::string("bounded: stops at each partition's end offset at start")
                   : "bounded: stops at each partition's first message timestamped at or after " +
                         s.stop_at.value);
    }
  } else {
    std::string where = s.path.value == "-" ? "standard input" : Quoted(s.path.value);
    line("source:", fmt::format("file {} ({}{}), event time from field {}", where,
                                s.format.value == io::FileFormat::kCsv ? "csv" : "jsonl",
                                s.follow.value ? ", follow" : "", Quoted(s.time_field.value)));
  }
  line("bad input:", s.on_error.value == OnError::kFail
                         ? std::string("fail the run on the first bad record")
                         : std::string("skip and count"));

  if (s.kind.value == SourceKind::kKafka) {
    line("watermark:",
         fmt::format("per partition, its largest event time - {}; W = the minimum over the "
                     "partitions that are not idle (the stream has no end)",
                     FormatDuration(c.time.max_out_of_orderness.value.value_or(0))));
  } else if (c.time.max_out_of_orderness.value) {
    line("watermark:", fmt::format("after each record, W = max(W, event time - {}); the end of "
                                   "input flushes every window",
                                   FormatDuration(*c.time.max_out_of_orderness.value)));
  } else {
    line("watermark:", "none until the end of input, which flushes every window");
  }

  const WindowConfig& w = c.window;
  switch (w.type.value) {
    case ops::WindowSpec::Kind::kTumbling:
      line("window:", "tumbling " + FormatDuration(w.size.value));
      break;
    case ops::WindowSpec::Kind::kSliding:
      line("window:", fmt::format("sliding {} every {}", FormatDuration(w.size.value),
                                  FormatDuration(w.slide.value)));
      break;
    case ops::WindowSpec::Kind::kSession:
      line("window:", "session with gap " + FormatDuration(w.gap.value));
      break;
  }
  line("key:", "field " + Quoted(c.ops.count_by.value));
  ops::AggSpec agg = MakeAggSpec(c.ops);
  if (agg.kind == ops::AggSpec::Kind::kCount) {
    line("aggregation:", "count");
  } else {
    line("aggregation:", fmt::format("{} of field {}", AggKindName(agg.kind), Quoted(agg.field)));
  }
  std::string lateness = FormatDuration(c.time.allowed_lateness.value);
  line("lateness:", fmt::format("{} (a window [s, e) is emitted when the watermark reaches e + {})",
                                lateness, lateness));

  const SinkConfig& k = c.sink;
  switch (k.kind.value) {
    case SinkKind::kFile:
      line("sink:", k.path.value.empty() ? std::string("standard output (JSON lines)")
                                         : "file " + Quoted(k.path.value) + " (JSON lines)");
      break;
    case SinkKind::kParquet: {
      std::string partitions = fmt::format("{}=<value>/", k.partition_field.value);
      if (k.partition_field.value.empty()) {
        partitions = fmt::format("dt=<{}>/", k.partition_format.value);
        if (k.success_marker.value) partitions += " with _SUCCESS markers";
      }
      std::string roll = fmt::format("{} rows", k.max_rows.value);
      if (k.max_bytes.value > 0) roll += fmt::format(", {} bytes", k.max_bytes.value);
      roll += ", " + FormatDuration(k.max_age.value);
      line("sink:", fmt::format("parquet under {} ({} schema, compression {}), partitions {}, "
                                "a file rolls at {}",
                                Quoted(k.out_dir.value.empty() ? "." : k.out_dir.value),
                                k.schema.value, k.compression.value, partitions, roll));
      break;
    }
    case SinkKind::kKafka:
      line("sink:", fmt::format("kafka topic {} at {} ({}, acks {}{})", Quoted(k.topic.value),
                                Quoted(k.bootstrap_servers.value), k.delivery.value,
                                k.acks.value,
                                k.key_field.value.empty()
                                    ? std::string()
                                    : ", key from field " + Quoted(k.key_field.value)));
      break;
  }
  line("dead letter:", c.dead_letter.path.value.empty()
                           ? std::string("none (bad records are only counted)")
                           : Quoted(c.dead_letter.path.value));
  line("late output:", c.late_output.path.value.empty()
                           ? std::string("none (late records are only counted)")
                           : Quoted(c.late_output.path.value));
  if (!c.checkpoint.dir.value.empty()) {
    line("checkpoints:",
         fmt::format("every {} in {} (keep {}), state in {}; a rerun resumes",
                     FormatDuration(c.checkpoint.interval.value), Quoted(c.checkpoint.dir.value),
                     c.checkpoint.keep.value,
                     c.state.backend.value == StateBackendKind::kRocksDb ? "rocksdb" : "memory"));
  } else {
    line("checkpoints:", "none (set [checkpoint] dir to survive crashes)");
  }
  return out;
}

}  // namespace pulse::cli
