// SPDX-License-Identifier: MIT
// The pipeline config file (TOML): its checked, plain-data form, the loader that validates it
// strictly, and the mapping from a config to a runnable Pipeline.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/core/executor.h"
#include "pulse/core/pipeline.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/io/file.h"
#include "pulse/ops/window.h"

namespace pulse::cli {

/// A config value and the line it came from.
template <typename T>
struct Setting {
  T value{};
  /// 1-based line of the key in the config file; 0 when the key was absent and `value` is the
  /// default.
  int line = 0;

  bool is_set() const { return line != 0; }
};

enum class SourceKind : uint8_t { kFile, kKafka };
enum class SinkKind : uint8_t { kFile, kParquet, kKafka };

/// [source]. The file keys apply to kind = "file", the Kafka keys to kind = "kafka".
struct SourceConfig {
  int line = 0;  // line of the [source] header
  Setting<SourceKind> kind;
  Setting<std::string> path;  // a file, a glob or "-" (stdin); required for file sources
  Setting<std::string> time_field{"event_time"};
  Setting<io::FileFormat> format{io::FileFormat::kJsonl};
  Setting<bool> follow;
  Setting<int64_t> max_line_bytes{16 << 20};
  Setting<int64_t> decode_threads;  // 0: as many as the workers when 2 or more (io/file.h)
  Setting<OnError> on_error{OnError::kSkip};
  // Kafka (docs/kafka.md).
  Setting<std::string> bootstrap_servers;
  Setting<std::string> topic;
  Setting<std::string> group_id;
  Setting<std::string> auto_offset_reset;  // "earliest" or "latest"; empty when absent
  Setting<int64_t> commit_interval_ms{5000};
  Setting<std::vector<std::string>> topics;  // `topics = [...]`; `topic` adds one more
  Setting<std::string> time_source{"field"};  // "field" (time_field) or "message" (timestamp)
  Setting<DurationMs> idle_timeout;           // 0: partitions never become idle
  Setting<std::string> stop_at;  // empty: unbounded; "end" or an RFC 3339 time (checked)
  /// [source.properties]: librdkafka settings passed through (dotted keys joined with ".").
  Setting<std::vector<std::pair<std::string, std::string>>> properties;
};

/// [time] (optional).
struct TimeConfig {
  int line = 0;  // 0 when the table is absent
  Setting<DurationMs> allowed_lateness;  // >= 0, default 0
  /// nullopt: no watermark until the end of input (the original's behaviour).
  Setting<std::optional<DurationMs>> max_out_of_orderness;
};

/// [window].
struct WindowConfig {
  int line = 0;
  Setting<ops::WindowSpec::Kind> type;
  Setting<DurationMs> size;   // tumbling and sliding (accepted and ignored for session)
  Setting<DurationMs> slide;  // sliding
  Setting<DurationMs> gap;    // session
};

/// [ops].
struct OpsConfig {
  int line = 0;
  Setting<std::string> count_by;
  Setting<ops::AggSpec::Kind> agg{ops::AggSpec::Kind::kCount};
  Setting<std::string> agg_field;  // required for every agg but count
};

/// [sink]. Only the keys of `kind` are meaningful.
struct SinkConfig {
  int line = 0;
  Setting<SinkKind> kind;
  /// File sink: the output file from `path` or the original's `out_dir`; empty means stdout.
  Setting<std::string> path;
  // Parquet (parsed and checked; the Parquet sink is not built yet).
  Setting<std::string> out_dir;
  Setting<std::string> compression{"snappy"};
  Setting<int64_t> max_bytes;  // 0: no byte limit
  Setting<std::string> partition_field;
  Setting<std::string> partition_format{"%Y-%m-%d"};
  Setting<int64_t> max_rows{1'000'000};
  Setting<DurationMs> max_age{300'000};
  Setting<int64_t> row_group_rows;  // 0: the writer's default
  Setting<std::string> schema{"payload"};
  Setting<bool> success_marker{true};
  // Kafka (docs/kafka.md).
  Setting<std::string> bootstrap_servers;
  Setting<std::string> topic;
  Setting<std::string> acks{"all"};
  Setting<std::string> key_field;
  Setting<std::string> delivery{"at-least-once"};  // or "exactly-once"
  Setting<std::string> transactional_id;           // empty: "pulse-" + topic
  /// [sink.properties]: librdkafka settings passed through (dotted keys joined with ".").
  Setting<std::vector<std::pair<std::string, std::string>>> properties;
};

/// [dead_letter] or [late_output] (optional): a JSON-lines output file.
struct OutputFileConfig {
  int line = 0;  // 0 when the table is absent
  Setting<std::string> path;
};

enum class StateBackendKind : uint8_t { kMemory, kRocksDb };

/// [state] (optional): where keyed state is mirrored for checkpoints.
struct StateConfig {
  int line = 0;  // 0 when the table is absent
  Setting<StateBackendKind> backend{StateBackendKind::kMemory};
  /// RocksDB working directory (worker w uses <path>/worker-<w>); default: <checkpoint dir>/rocksdb-work.
  Setting<std::string> path;
  /// State memory per worker in MiB (kMinStateMemoryMb..kMaxStateMemoryMb): a quarter each for
  /// the windows' write-back cache, RocksDB's block cache and its two memtables.
  Setting<int64_t> memory_mb{64};
};
inline constexpr int64_t kMinStateMemoryMb = 8;
inline constexpr int64_t kMaxStateMemoryMb = 1 << 20;

/// [checkpoint] (optional): checkpoints and recovery (docs/checkpoints.md).
struct CheckpointConfig {
  int line = 0;  // 0 when the table is absent
  Setting<std::string> dir;  // empty: no checkpoints
  Setting<DurationMs> interval{10'000};
  Setting<int64_t> keep{3};
};

/// A loaded and validated pipeline config. Plain data: copyable, thread-compatible.
struct PipelineConfig {
  std::string name;  // how messages name the config file, e.g. "pipeline.toml"
  SourceConfig source;
  TimeConfig time;
  WindowConfig window;
  OpsConfig ops;
  SinkConfig sink;
  OutputFileConfig dead_letter;
  OutputFileConfig late_output;
  StateConfig state;
  CheckpointConfig checkpoint;
  /// Keys that are valid but have no effect here (e.g. window.size for a session window),
  /// one message each, for the caller to log.
  std::vector<std::string> warnings;
};

/// Read, parse and validate the config file at `path` (named by `path` in messages).
/// Errors (all InvalidArgument, one line, "<name>:<line>: ..." where a line applies):
/// an unreadable file, TOML syntax, unknown tables or keys (with "did you mean"), wrong types,
/// bad values and missing required keys.
Result<PipelineConfig> LoadConfig(const std::string& path);

/// As LoadConfig, for config text; `display_name` names it in messages.
Result<PipelineConfig> LoadConfigString(std::string_view text, const std::string& display_name);

/// Build the pipeline a config describes:
/// FileSource → KeyBy(count_by) → WindowedAggregate → FileSink, with its watermark strategy,
/// bad-record policy and late output. Errors: InvalidArgument for parts that are configured
/// correctly but not built into this Pulse (Kafka, Parquet), or that a component rejects.
Result<Pipeline> BuildPipeline(const PipelineConfig& config);

/// Build the pipeline a config describes with `source` and `sink` in place of the configured
/// ones, and without dead-letter or late output files (for `pulse test`): the config's window,
/// aggregation, key, lateness, watermark strategy and on_error policy. The configured source and
/// sink kinds may be ones that BuildPipeline rejects. Errors: InvalidArgument, as BuildPipeline.
Result<Pipeline> BuildPipelineWith(const PipelineConfig& config, std::unique_ptr<Source> source,
                                   std::unique_ptr<Sink> sink);

/// The checkpoint options of `config` (dir empty: none), with the pipeline fingerprint: the
/// parts of the config that must match for a checkpoint to be resumed.
CheckpointOptions MakeCheckpointOptions(const PipelineConfig& config);

/// A readable plan for `pulse validate`, one aspect per line: source, watermark strategy,
/// window, aggregation, lateness, sink, dead letter and late output.
std::string DescribePlan(const PipelineConfig& config);

/// Names used in messages and plans.
std::string_view SourceKindName(SourceKind kind);
std::string_view SinkKindName(SinkKind kind);
std::string_view WindowKindName(ops::WindowSpec::Kind kind);
std::string_view AggKindName(ops::AggSpec::Kind kind);

}  // namespace pulse::cli
