// SPDX-License-Identifier: MIT
// The pipeline config file (TOML): its checked, plain-data form, the loader that validates it
// strictly, and the mapping from a config to a runnable Pipeline.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/core/connector_registry.h"
#include "pulse/core/executor.h"
#include "pulse/core/pipeline.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/ops/window.h"
#include "pulse/plan/plan.h"

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

/// [time] (optional).
struct TimeConfig {
  int line = 0;  // 0 when the table is absent
  Setting<DurationMs> allowed_lateness;  // >= 0, default 0
  /// nullopt: no watermark until the end of input (the original's behaviour).
  Setting<std::optional<DurationMs>> max_out_of_orderness;
  /// > 0; nullopt: the watermark moves only with records (Pipeline::Idleness). Requires
  /// max_out_of_orderness; applied only to an unbounded source (UnboundedSource).
  Setting<std::optional<DurationMs>> idle_timeout;
};

/// [window].
struct WindowConfig {
  int line = 0;
  Setting<ops::WindowSpec::Kind> type;
  Setting<DurationMs> size;   // tumbling and sliding (accepted and ignored for session)
  Setting<DurationMs> slide;  // sliding
  Setting<DurationMs> gap;    // session
};

/// [ops]: the original one-key form (count_by, agg, agg_field) or the plan form (key,
/// [ops.aggregates]); where, [ops.fields] and (plan form) having work with both
/// (docs/expressions.md). Each expression keeps where its text starts in the file.
struct OpsConfig {
  int line = 0;
  Setting<std::string> count_by;
  Setting<ops::AggSpec::Kind> agg{ops::AggSpec::Kind::kCount};
  Setting<std::string> agg_field;  // required for every agg but count
  std::optional<plan::ExprSource> where;
  std::optional<plan::ExprSource> having;
  /// `key`, in order; key_line != 0 when set (an empty array means one group).
  std::vector<plan::ExprSource> key;
  int key_line = 0;
  /// [ops.fields] and [ops.aggregates], in the order written in the file.
  std::vector<plan::LogicalPlan::NamedSource> fields;
  std::vector<plan::LogicalPlan::NamedSource> aggregates;
  int aggregates_line = 0;

  /// The plan form: `key` or [ops.aggregates] is set (count_by is not).
  bool plan_form() const { return key_line != 0 || aggregates_line != 0; }
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
  /// [source] and [sink]: the keys of the chosen kind (connector_registry.h; the kinds are
  /// those of Connectors(), connectors.h).
  ConnectorConfig source;
  TimeConfig time;
  WindowConfig window;
  OpsConfig ops;
  ConnectorConfig sink;
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

/// The logical plan of a config's [window], [time] lateness, [state] and [ops] (the original
/// form as a plan with the original output). Errors: InvalidArgument as BuildPipeline.
Result<plan::LogicalPlan> MakeLogicalPlan(const PipelineConfig& config);

/// MakeLogicalPlan, checked: every expression parsed and type-checked. Errors: InvalidArgument
/// "<file>:<line>:<column>: <key>: <what>" for expressions, "<file>:<line>: ..." otherwise.
Result<plan::CompiledPlan> MakeCompiledPlan(const PipelineConfig& config);

/// The expressions of a config's plan checked (without opening anything): what LoadConfig
/// checks. Errors as MakeCompiledPlan.
Status CheckExpressions(const PipelineConfig& config);

/// A pipeline built from a config, with its plan's unknown-field check (item 7 of issue 17),
/// which the caller wires to its log and metrics before the run and finishes after it.
struct BuiltPipeline {
  Pipeline pipeline;
  std::shared_ptr<plan::FieldCheck> field_check;
};

/// Build the pipeline a config describes:
/// source → [where, computed fields] → key → WindowedAggregate → [names, having] → sink, with
/// its watermark strategy (and time.idle_timeout when the built source is unbounded),
/// bad-record policy and late output; the source and sink come from the connector registry's
/// factories.
/// Errors: InvalidArgument for parts that are configured correctly but not built into this
/// Pulse (Kafka, Parquet, RocksDB), or that a component rejects (naming the key and its line).
Result<BuiltPipeline> BuildRun(const PipelineConfig& config);

/// BuildRun without the field check.
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
/// where, computed fields, key, window, aggregates, having, lateness, output, sink, dead letter
/// and late output (the original form: window, key, aggregation, as the original Pulse).
std::string DescribePlan(const PipelineConfig& config);

/// A table of the config file that the CLI reads itself or, for [source] and [sink], through
/// the connector registry. For messages and the configuration reference.
struct ConfigTable {
  std::string_view name{};  // "window"
  bool required = false;
  /// Set for [source] and [sink]: their keys are those of the kinds in Connectors().
  std::optional<ConnectorRole> connector{};
  std::string_view summary{};         // one sentence for the reference
  std::span<const ConfigKey> keys{};  // the CLI's own tables
};

/// Every table, in the order messages list them ([source], [time], [window], ...).
std::span<const ConfigTable> ConfigTables();

/// The source's bad-record policy (its `on_error`; "skip" for kinds without one).
OnError SourceOnError(const PipelineConfig& config);

/// Why the configured source is unbounded (its declaration's `unbounded`, e.g.
/// "follow = true"), or "" when its input ends by itself. From the config alone: `pulse
/// validate`'s view (a run asks the built source, Source::Unbounded).
std::string UnboundedSource(const PipelineConfig& config);

/// The probable mistakes of [time] for a source that is `unbounded` or not, as messages like
/// the config's warnings ("<name>:<line>: ..."): an unbounded source without
/// time.max_out_of_orderness closes no window before its input ends or a --drain stop;
/// time.idle_timeout has no effect on a source whose input ends by itself.
std::vector<std::string> TimeWarnings(const PipelineConfig& config, bool unbounded);

/// Names used in messages and plans.
std::string_view WindowKindName(ops::WindowSpec::Kind kind);
std::string_view AggKindName(ops::AggSpec::Kind kind);

}  // namespace pulse::cli
