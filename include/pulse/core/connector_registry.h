// SPDX-License-Identifier: MIT
// Connector declarations and their registry: each source or sink kind ("file", "kafka") declares
// its config keys once (name, type, default, one doc line) next to its factory. Config front ends
// (the CLI's TOML reader), their error messages, `pulse validate` and the configuration reference
// are all derived from the declarations.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pulse/core/connector.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"

namespace pulse {

/// Whether a connector reads records or writes them.
enum class ConnectorRole : uint8_t { kSource, kSink };

/// Return "source" or "sink": the name of the config table of `role`.
std::string_view ConnectorRoleName(ConnectorRole role);

/// How a config value is written and what it may be.
enum class ConfigType : uint8_t {
  kString,          ///< a string
  kNonEmptyString,  ///< a string that, when set, is not empty
  kBool,            ///< true or false
  kInt,             ///< an integer in [ConfigKey::min, ConfigKey::max]
  kDuration,        ///< a duration string ("30s"), in ms: >= ConfigKey::min (0 or 1), <= 100 years
  kChoice,          ///< a string, one of ConfigKey::choices
  kStringList,      ///< an array of non-empty strings
  kProperties,      ///< a table of names to strings, numbers or booleans (kept as text, in order)
};

/// What a string key names, for the checks a front end makes across a pipeline's files (two
/// outputs in one file, an output that is the config itself).
enum class ConfigPath : uint8_t {
  kNone,
  kInputFile,   ///< a file the pipeline reads; "-" is standard input
  kOutputFile,  ///< a file the pipeline writes; empty is standard output
};

/// Name → value pairs of a kProperties key (e.g. librdkafka settings), in order.
using ConfigProperties = std::vector<std::pair<std::string, std::string>>;

/// The value of one key: the member of its ConfigType, and the line it was written on.
/// Plain data.
struct ConfigSetting {
  std::string text{};  // kString, kNonEmptyString, kChoice
  bool flag = false;   // kBool
  int64_t number = 0;  // kInt; kDuration in milliseconds
  std::vector<std::string> list{};  // kStringList
  ConfigProperties properties{};    // kProperties
  /// 1-based line of the key in the config; 0 when it is absent and this is the default.
  int line = 0;

  bool is_set() const { return line != 0; }
};

class ConnectorConfig;

/// One config key of a connector kind, as a static table entry (so every member has a
/// constant default and entries are written with designated initializers).
struct ConfigKey {
  std::string_view name{};
  ConfigType type = ConfigType::kString;
  /// One line for the configuration reference (Markdown).
  std::string_view doc{};
  /// The value when the key is absent: `default_text` for the string types and kChoice,
  /// `default_number` for kInt and kDuration (ms), `default_flag` for kBool. Lists and
  /// properties default to empty.
  std::string_view default_text{};
  int64_t default_number = 0;
  bool default_flag = false;
  /// How the reference shows the default when it is not simply the default value ("none",
  /// "standard output", "`\"latest\"`"); empty: the default value. Required keys show
  /// "required".
  std::string_view default_doc{};
  std::span<const std::string_view> choices{};  // kChoice, in the order messages list them
  int64_t min = 0;                              // kInt; kDuration: 0 (>= 0) or 1 (> 0)
  int64_t max = std::numeric_limits<int64_t>::max();  // kInt
  /// The kind needs the key set and not empty, unless the key `unless_set` is (e.g. Kafka's
  /// `topic` unless `topics`).
  bool required = false;
  std::string_view unless_set{};
  ConfigPath path = ConfigPath::kNone;
  /// A further check of a value that has the right type, made when the config is read; returns
  /// "" or the message, which names the key as `qualified_key` (e.g. "source.stop_at").
  std::string (*check)(std::string_view qualified_key, const ConfigSetting& value) = nullptr;
};

/// A key of another kind of the same role that a kind accepts with its own warning instead of
/// the generic "has no effect for a <kind> <role>"; an empty `why` means no warning at all.
struct ForeignKeyNote {
  std::string_view key{};
  std::string_view why{};
};

/// What a source or sink kind is: its keys and how to describe a config of it. Declarations are
/// static objects, always compiled (also when the connector itself is not built into this
/// Pulse, so that its configs are still read and the error says what is missing).
struct ConnectorDeclaration {
  ConnectorRole role = ConnectorRole::kSource;
  std::string_view kind{};     // the value of `kind` that selects it, e.g. "file"
  std::string_view summary{};  // one line for the reference
  /// Every key but `kind`, in the order messages list them ("allowed: kind, path, ...").
  std::span<const ConfigKey> keys{};
  std::span<const ForeignKeyNote> foreign_keys{};
  /// Checks across keys, made when the config is read (after the required keys); errors come
  /// from ConnectorConfig::ErrorAt. Null: none.
  Status (*check)(const ConnectorConfig& config) = nullptr;
  /// The plan lines `pulse validate` prints for a config of this kind (the first is labelled
  /// "source:" or "sink:", the others continue it).
  std::vector<std::string> (*describe)(const ConnectorConfig& config) = nullptr;
  /// Sources: the plan's watermark line when the source makes its own watermarks (e.g. per
  /// Kafka partition), given the pipeline's max_out_of_orderness; "" for the pipeline's rule.
  /// Null: the pipeline's rule.
  std::string (*describe_watermarks)(const ConnectorConfig& config,
                                     std::optional<DurationMs> max_out_of_orderness) = nullptr;
  /// What of the config must stay the same for a checkpoint to be resumed, e.g.
  /// "file events.jsonl jsonl".
  std::string (*fingerprint)(const ConnectorConfig& config) = nullptr;
  /// Sources: why a config of this kind is unbounded (its input may never end, so that a stop
  /// is its normal end), as a phrase for messages, e.g. "follow = true"; "" when its input ends
  /// by itself (a file, a bounded Kafka read). Null: its input always ends.
  std::string (*unbounded)(const ConnectorConfig& config) = nullptr;

  /// The key named `name`, or null when this kind has none.
  const ConfigKey* Find(std::string_view name) const;
};

/// The values of one [source] or [sink] table as a front end read them: the kind, a setting per
/// key the kind declares (its default when absent), and where each was written, so that
/// factories can name the key and its line in errors. Plain data: copyable, thread-compatible.
class ConnectorConfig {
 public:
  /// No connector (kind() is "").
  ConnectorConfig() = default;

  /// Every declared key at its default. `origin` names the config in messages (e.g.
  /// "pipeline.toml"); `line` is the table's line and `kind_line` the line of its `kind`.
  /// `declaration` must outlive this object (declarations are static).
  ConnectorConfig(const ConnectorDeclaration& declaration, std::string origin, int line,
                  int kind_line);

  /// Null for a default-constructed config.
  const ConnectorDeclaration* declaration() const { return declaration_; }
  std::string_view kind() const;
  ConnectorRole role() const;
  int line() const { return line_; }
  int kind_line() const { return kind_line_; }

  /// Whether the kind declares `key`.
  bool Has(std::string_view key) const;

  /// The setting of `key`; an empty setting when the kind does not declare it.
  const ConfigSetting& Get(std::string_view key) const;
  const std::string& String(std::string_view key) const { return Get(key).text; }
  bool Bool(std::string_view key) const { return Get(key).flag; }
  int64_t Int(std::string_view key) const { return Get(key).number; }
  DurationMs Duration(std::string_view key) const { return Get(key).number; }
  const std::vector<std::string>& List(std::string_view key) const { return Get(key).list; }
  const ConfigProperties& Properties(std::string_view key) const { return Get(key).properties; }
  bool IsSet(std::string_view key) const { return Get(key).is_set(); }
  /// The key's line, or 0 when it is absent.
  int Line(std::string_view key) const { return Get(key).line; }

  /// Replace the setting of `key` (for front ends). Ignored when the kind does not declare it.
  void Set(std::string_view key, ConfigSetting setting);

  /// "source.path": how messages name `key`.
  std::string Qualified(std::string_view key) const;

  /// InvalidArgument "<origin>:<line>: <message>" ("<origin>: <message>" when line is 0).
  Status ErrorAt(int line, std::string_view message) const;

  /// ErrorAt the line of `key` when it is set, else the table's line.
  Status KeyError(std::string_view key, std::string_view message) const;

 private:
  const ConnectorDeclaration* declaration_ = nullptr;
  std::string origin_;
  int line_ = 0;
  int kind_line_ = 0;
  std::map<std::string, ConfigSetting, std::less<>> settings_;
};

/// What a connector factory may know of the pipeline around the connector.
struct ConnectorBuildContext {
  /// The window's allowed lateness (a Parquet sink's date partitions wait for it).
  DurationMs allowed_lateness_ms = 0;
  /// The run takes checkpoints, and how often.
  bool checkpoints = false;
  DurationMs checkpoint_interval_ms = 0;
};

/// Build a source from a config of its kind. Errors: InvalidArgument from
/// ConnectorConfig::ErrorAt/KeyError, naming the key (or the table) and its line, for options the
/// connector rejects (its Options::Validate) or a connector not built into this Pulse.
using SourceFactory = std::function<Result<std::unique_ptr<Source>>(
    const ConnectorConfig& config, const ConnectorBuildContext& context)>;
using SinkFactory = std::function<Result<std::unique_ptr<Sink>>(
    const ConnectorConfig& config, const ConnectorBuildContext& context)>;

/// Maps a kind of each role to its declaration and factory. Filled once by a program's
/// registration file (the CLI's `connectors.cc`), then only read: const methods are
/// thread-safe; Add* are not.
class ConnectorRegistry {
 public:
  /// Register a kind. Requires: `declaration` has role kSource (AddSink: kSink) and outlives
  /// the registry. Validate() reports a kind registered twice.
  void AddSource(const ConnectorDeclaration& declaration, SourceFactory factory);
  void AddSink(const ConnectorDeclaration& declaration, SinkFactory factory);

  /// Errors: InvalidArgument for a kind registered twice for a role, a declaration of the
  /// wrong role, a key declared twice by a kind, or a key that two kinds of a role declare
  /// with different types (a front end reads each key once, whatever the kind).
  Status Validate() const;

  /// The declarations of `role`, in registration order.
  std::vector<const ConnectorDeclaration*> Declarations(ConnectorRole role) const;

  /// The kinds of `role`, in registration order.
  std::vector<std::string_view> Kinds(ConnectorRole role) const;

  /// The declaration of `kind`, or null.
  const ConnectorDeclaration* Find(ConnectorRole role, std::string_view kind) const;

  /// Every key of the kinds of `role`, each name once: the keys of the first kind in its
  /// order, then the new keys of the next kind, and so on.
  std::vector<const ConfigKey*> AllKeys(ConnectorRole role) const;

  /// Build the source (sink) that `config` describes with its kind's factory.
  /// Errors: as SourceFactory; InvalidArgument when the kind is not registered.
  Result<std::unique_ptr<Source>> MakeSource(const ConnectorConfig& config,
                                             const ConnectorBuildContext& context) const;
  Result<std::unique_ptr<Sink>> MakeSink(const ConnectorConfig& config,
                                         const ConnectorBuildContext& context) const;

 private:
  struct SourceEntry {
    const ConnectorDeclaration* declaration;
    SourceFactory factory;
  };
  struct SinkEntry {
    const ConnectorDeclaration* declaration;
    SinkFactory factory;
  };
  std::vector<SourceEntry> sources_;
  std::vector<SinkEntry> sinks_;
};

}  // namespace pulse
