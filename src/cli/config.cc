// SPDX-License-Identifier: MIT
// Loads pipeline.toml into a PipelineConfig with strict keys, types and values. [source] and
// [sink] are read by the keys their kind declares (connector registry); the other tables are the
// CLI's own, declared below. TOML parsing and the "did you mean" helpers are shared with
// `pulse test` files in toml_util.h.
#include "cli/config.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "cli/connectors.h"
#include "cli/guardrails.h"
#include "cli/ops_config.h"
#include "cli/toml_util.h"

namespace pulse::cli {
namespace {

using internal::Contains;
using internal::DescribeNode;
using internal::Join;
using internal::Keys;
using internal::LineOf;
using internal::Quote;
using internal::Suggest;

// True if `a` and `b` name the same file: equal once made absolute and normalised ("out.jsonl"
// and "./out.jsonl"), or the same existing file (a symbolic or hard link).
bool SameFile(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path abs_a = fs::absolute(a, ec).lexically_normal();
  const fs::path abs_b = fs::absolute(b, ec).lexically_normal();
  if (abs_a == abs_b) return true;
  return fs::equivalent(a, b, ec);
}

// The names a string key accepts and the value each stands for.
template <typename E, size_t N>
struct Choices {
  std::array<std::string_view, N> names;
  std::array<E, N> values;
};

constexpr Choices<ops::WindowSpec::Kind, 3> kWindowKinds{
    {"tumbling", "sliding", "session"},
    {ops::WindowSpec::Kind::kTumbling, ops::WindowSpec::Kind::kSliding,
     ops::WindowSpec::Kind::kSession}};
constexpr Choices<ops::AggSpec::Kind, 6> kAggKinds{
    {"count", "sum", "avg", "distinct", "min", "max"},
    {ops::AggSpec::Kind::kCount, ops::AggSpec::Kind::kSum, ops::AggSpec::Kind::kAvg,
     ops::AggSpec::Kind::kDistinct, ops::AggSpec::Kind::kMin, ops::AggSpec::Kind::kMax}};
constexpr Choices<StateBackendKind, 2> kStateBackends{
    {"memory", "rocksdb"}, {StateBackendKind::kMemory, StateBackendKind::kRocksDb}};

// The CLI's own tables, declared as the connectors declare theirs, for the key lists of
// messages and for the reference; the Loader reads them into the typed structs of config.h, whose
// defaults and "must be set" messages are its own (reference_test.cc checks that the defaults
// agree). [source] and [sink] keys come from the connector declarations.
constexpr int64_t kDefaultCheckpointIntervalMs = 10'000;
constexpr int64_t kDefaultCheckpointsKept = 3;
constexpr int64_t kDefaultStateMemoryMb = 64;

constexpr ConfigKey kTimeKeys[] = {
    {.name = "allowed_lateness",
     .type = ConfigType::kDuration,
     .doc = "L: how long after its end a window waits for late records",
     .min = 0},
    {.name = "max_out_of_orderness",
     .type = ConfigType::kDuration,
     .doc = "B: after each record, watermark W = max(W, ts − B); unset: no watermark until the "
            "input ends",
     .default_doc = "unset",
     .min = 0},
    {.name = "idle_timeout",
     .type = ConfigType::kDuration,
     .doc = "T (unbounded sources; needs `max_out_of_orderness`): once no record has arrived for "
            "T, W follows processing time from the largest event time − B, so that the windows "
            "of the last burst close while the input pauses "
            "([running continuously](running-continuously.md)); unset: W moves only with records",
     .default_doc = "unset",
     .min = 1},
};
constexpr ConfigKey kWindowKeys[] = {
    {.name = "type",
     .type = ConfigType::kChoice,
     .doc = "the kind of window",
     .choices = kWindowKinds.names,
     .required = true},
    {.name = "size",
     .type = ConfigType::kDuration,
     .doc = "tumbling and sliding: the window length",
     .default_doc = "—",
     .min = 1},
    {.name = "slide",
     .type = ConfigType::kDuration,
     .doc = "sliding: the distance between window starts (at most `size`)",
     .default_doc = "—",
     .min = 1},
    {.name = "gap",
     .type = ConfigType::kDuration,
     .doc = "session: the inactivity that closes a session",
     .default_doc = "—",
     .min = 1},
    {.name = "max_windows_per_record",
     .type = ConfigType::kInt,
     .doc = "sliding: the most windows one record may fall in (⌈size / slide⌉); a larger "
            "figure is an error, as each record updates that many windows",
     .default_number = kDefaultMaxWindowsPerRecord,
     .min = 1},
};
constexpr ConfigKey kOpsKeys[] = {
    {.name = "count_by",
     .doc = "the original form's key field (missing → `null`; keys keep their JSON type); "
            "results carry `key` and the aggregation's own name",
     .required = true,
     .unless_set = "key"},
    {.name = "agg",
     .type = ConfigType::kChoice,
     .doc = "the aggregation of each window and key",
     .default_text = "count",
     .choices = kAggKinds.names},
    {.name = "agg_field",
     .doc = "the aggregated field; required for all but `count`",
     .default_doc = "—"},
    {.name = "key",
     .type = ConfigType::kStringList,
     .doc = "the key: one or more expressions (a string or an array), each a field (named by "
            "its path) or `<expression> as <name>`; results carry each under its name, in this "
            "order; `[]`: one group ([expressions](expressions.md))",
     .default_doc = "—"},
    {.name = "where",
     .doc = "keep only the records for which this condition is true ([expressions](expressions.md))",
     .default_doc = "none"},
    {.name = "having",
     .doc = "keep only the results for which this condition on keys and aggregates is true "
            "(with `key`)",
     .default_doc = "none"},
    {.name = "fields",
     .type = ConfigType::kProperties,
     .doc = "`[ops.fields]`: computed fields, `name = \"expression\"`, usable by name in where, "
            "key, aggregates and the fields below them",
     .default_doc = "none"},
    {.name = "aggregates",
     .type = ConfigType::kProperties,
     .doc = "`[ops.aggregates]`: `name = \"aggregate call\"` (`count(*)`, `sum(bytes)`, "
            "`quantile(latency_s, 0.99)`, ...); results carry them in the order written "
            "(with `key`)",
     .default_doc = "none"},
};
constexpr ConfigKey kDeadLetterKeys[] = {
    {.name = "path",
     .doc = "a JSON line per malformed record: `reason`, `origin` (file), `position` (line), "
            "`error`, `raw`",
     .required = true,
     .path = ConfigPath::kOutputFile},
};
constexpr ConfigKey kLateOutputKeys[] = {
    {.name = "path",
     .doc = "a JSON line per record dropped as late",
     .required = true,
     .path = ConfigPath::kOutputFile},
};
constexpr ConfigKey kStateKeys[] = {
    {.name = "backend",
     .type = ConfigType::kChoice,
     .doc = "`\"memory\"`: windows on the heap (with checkpoints, mirrored by a second copy "
            "written at each checkpoint); `\"rocksdb\"`: the open windows live in RocksDB on "
            "disk, so they may exceed memory; a checkpoint links its table files",
     .default_text = "memory",
     .choices = kStateBackends.names},
    {.name = "path",
     .type = ConfigType::kNonEmptyString,
     .doc = "RocksDB working directory (scratch, emptied at start; one subdirectory per "
            "worker); required for `rocksdb` without checkpoints",
     .default_doc = "`<checkpoint.dir>/rocksdb-work`"},
    {.name = "memory_mb",
     .type = ConfigType::kInt,
     .doc = "state memory per worker in MiB: a quarter each for the windows' write-back cache, "
            "RocksDB's block cache and its two memtables; bounds the state's RAM however large "
            "the state",
     .default_number = kDefaultStateMemoryMb,
     .min = kMinStateMemoryMb,
     .max = kMaxStateMemoryMb},
};
constexpr ConfigKey kCheckpointKeys[] = {
    {.name = "dir",
     .type = ConfigType::kNonEmptyString,
     .doc = "checkpoints and recovery ([checkpoints](checkpoints.md)); `--checkpoint-dir` "
            "overrides it",
     .default_doc = "none"},
    {.name = "interval",
     .type = ConfigType::kDuration,
     .doc = "time between checkpoints (`--checkpoint-interval`)",
     .default_number = kDefaultCheckpointIntervalMs,
     .min = 1},
    {.name = "keep",
     .type = ConfigType::kInt,
     .doc = "committed checkpoints kept",
     .default_number = kDefaultCheckpointsKept,
     .min = 1},
};

constexpr ConfigTable kConfigTables[] = {
    {.name = "source",
     .required = true,
     .connector = ConnectorRole::kSource,
     .summary = "Where records come from."},
    {.name = "time",
     .summary = "Event-time rules: how long windows wait for late records, and the watermark.",
     .keys = kTimeKeys},
    {.name = "window",
     .required = true,
     .summary = "The windows that group records by event time.",
     .keys = kWindowKeys},
    {.name = "ops",
     .required = true,
     .summary = "What is computed: filter, computed fields, key, aggregates and having "
                "([expressions](expressions.md)), or the original one-field form (`count_by`, "
                "`agg`).",
     .keys = kOpsKeys},
    {.name = "sink",
     .required = true,
     .connector = ConnectorRole::kSink,
     .summary = "Where results go."},
    {.name = "dead_letter",
     .summary = "Malformed records, written as JSON lines.",
     .keys = kDeadLetterKeys},
    {.name = "late_output",
     .summary = "Records dropped as late, written as JSON lines.",
     .keys = kLateOutputKeys},
    {.name = "state",
     .summary = "Where keyed state lives ([checkpoints](checkpoints.md)).",
     .keys = kStateKeys},
    {.name = "checkpoint",
     .summary = "Checkpoints, so that a rerun resumes after a crash "
                "([checkpoints](checkpoints.md)).",
     .keys = kCheckpointKeys},
};

std::vector<std::string_view> KeyNames(std::span<const ConfigKey> keys) {
  std::vector<std::string_view> names;
  for (const ConfigKey& key : keys) names.push_back(key.name);
  return names;
}

std::vector<std::string_view> TableNames(bool required_only) {
  std::vector<std::string_view> names;
  for (const ConfigTable& table : kConfigTables) {
    if (table.required || !required_only) names.push_back(table.name);
  }
  return names;
}

constexpr std::string_view kSlideGap[] = {"slide", "gap"};
constexpr std::string_view kGap[] = {"gap"};
constexpr std::string_view kSizeSlide[] = {"size", "slide"};
constexpr std::string_view kAggField[] = {"agg_field"};

// A file the config names, for the checks that no two outputs (or an output and the input) are
// one file.
struct NamedFile {
  std::string key;  // "sink.path"
  std::string path;
  int line = 0;
};

// The input (kInputFile) or output (kOutputFile) files a connector's settings name: set, not
// empty, and for inputs not "-" (standard input).
std::vector<NamedFile> FilesOf(const ConnectorConfig& c, ConfigPath use) {
  std::vector<NamedFile> files;
  if (c.declaration() == nullptr) return files;
  for (const ConfigKey& key : c.declaration()->keys) {
    const ConfigSetting& s = c.Get(key.name);
    if (key.path != use || s.text.empty() || (use == ConfigPath::kInputFile && s.text == "-")) {
      continue;
    }
    files.push_back(NamedFile{c.Qualified(key.name), s.text, s.line});
  }
  return files;
}

// One [table] of the config being read.
struct TableView {
  const toml::table* table = nullptr;  // null when the table is absent
  std::string_view name;
  int line = 0;

  // The key's node and line, or {nullptr, 0}.
  std::pair<const toml::node*, int> Find(std::string_view key) const {
    if (table == nullptr) return {nullptr, 0};
    auto it = table->find(key);
    if (it == table->end()) return {nullptr, 0};
    return {&it->second, LineOf(it->first.source())};
  }
  bool Has(std::string_view key) const { return Find(key).first != nullptr; }
  std::string Qualified(std::string_view key) const { return fmt::format("{}.{}", name, key); }
};

// Reads one document; collects warnings; stops at the first error.
class Loader {
 public:
  Loader(std::string name, std::string_view text) : name_(std::move(name)), text_(text) {}

  Result<PipelineConfig> Load(const toml::table& root) {
    PULSE_RETURN_IF_ERROR(CheckTopLevel(root));
    PipelineConfig config;
    config.name = name_;
    PULSE_ASSIGN_OR_RETURN(config.source,
                           LoadConnector(View(root, "source"), ConnectorRole::kSource));
    PULSE_ASSIGN_OR_RETURN(config.time, LoadTime(View(root, "time")));
    PULSE_RETURN_IF_ERROR(CheckTimeForSource(config));
    PULSE_ASSIGN_OR_RETURN(config.window, LoadWindow(View(root, "window")));
    PULSE_ASSIGN_OR_RETURN(config.ops, LoadOps(View(root, "ops")));
    PULSE_ASSIGN_OR_RETURN(config.sink,
                           LoadConnector(View(root, "sink"), ConnectorRole::kSink));
    PULSE_ASSIGN_OR_RETURN(config.dead_letter, LoadOutputFile(View(root, "dead_letter")));
    PULSE_ASSIGN_OR_RETURN(config.late_output, LoadOutputFile(View(root, "late_output")));
    PULSE_ASSIGN_OR_RETURN(config.state, LoadState(View(root, "state")));
    PULSE_ASSIGN_OR_RETURN(config.checkpoint, LoadCheckpoint(View(root, "checkpoint")));
    PULSE_RETURN_IF_ERROR(CheckDistinctFiles(config));
    // Every expression is parsed and checked now, so that a bad one is a config error.
    PULSE_RETURN_IF_ERROR(CheckExpressions(config));
    config.warnings = std::move(warnings_);
    return config;
  }

 private:
  Status Error(int line, std::string_view message) const {
    if (line <= 0) return Status::InvalidArgument(fmt::format("{}: {}", name_, message));
    return Status::InvalidArgument(fmt::format("{}:{}: {}", name_, line, message));
  }

  void Warn(int line, std::string_view message) {
    warnings_.push_back(fmt::format("{}:{}: {}", name_, line, message));
  }

  static TableView View(const toml::table& root, std::string_view name) {
    TableView view;
    view.name = name;
    if (const toml::node* node = root.get(name)) {
      view.table = node->as_table();
      view.line = LineOf(node->source());
    }
    return view;
  }

  // Unknown top-level tables and keys, tables of the wrong type, then missing tables.
  Status CheckTopLevel(const toml::table& root) const {
    const std::vector<std::string_view> tables = TableNames(/*required_only=*/false);
    const std::vector<std::string_view> required = TableNames(/*required_only=*/true);
    const toml::key* first_unknown = nullptr;
    for (auto&& [key, node] : root) {
      if (Contains(tables, key.str())) {
        if (!node.is_table()) {
          return Error(LineOf(key.source()),
                       fmt::format("{} must be a table ([{}]); got {}", key.str(), key.str(),
                                   DescribeNode(node)));
        }
        continue;
      }
      if (first_unknown == nullptr || LineOf(key.source()) < LineOf(first_unknown->source())) {
        first_unknown = &key;
      }
    }
    if (first_unknown != nullptr) {
      std::string_view name = first_unknown->str();
      std::string_view suggestion = Suggest(name, tables);
      bool is_table = root.get(name)->is_table();
      std::string message =
          is_table ? fmt::format("unknown table [{}]", name)
                   : fmt::format("unknown key '{}' at the top level", name);
      if (!suggestion.empty()) message += fmt::format(" (did you mean [{}]?)", suggestion);
      message += "; allowed tables: " + Join(tables, "[", "]");
      return Error(LineOf(first_unknown->source()), message);
    }
    for (std::string_view name : required) {
      if (!root.contains(name)) {
        return Error(0, fmt::format("missing table [{}]; required tables: {}", name,
                                    Join(required, "[", "]")));
      }
    }
    return Status::OK();
  }

  // Every key of `t` must be in `known`; the message lists `shown`, the keys allowed here.
  Status CheckKeys(const TableView& t, Keys known, Keys shown) const {
    if (t.table == nullptr) return Status::OK();
    const toml::key* first_unknown = nullptr;
    for (auto&& [key, node] : *t.table) {
      if (Contains(known, key.str())) continue;
      if (first_unknown == nullptr || LineOf(key.source()) < LineOf(first_unknown->source())) {
        first_unknown = &key;
      }
    }
    if (first_unknown == nullptr) return Status::OK();
    std::string message = fmt::format("unknown key '{}' in [{}]", first_unknown->str(), t.name);
    std::string_view suggestion = Suggest(first_unknown->str(), known);
    if (!suggestion.empty()) message += fmt::format(" (did you mean '{}'?)", suggestion);
    message += "; allowed: " + Join(shown);
    return Error(LineOf(first_unknown->source()), message);
  }

  // Warn about each key of `keys` that is set but has no effect, e.g. "for a file source".
  void WarnIgnored(const TableView& t, Keys keys, std::string_view why) {
    for (std::string_view key : keys) {
      if (auto [node, line] = t.Find(key); node != nullptr) {
        Warn(line, fmt::format("{} has no effect {}", t.Qualified(key), why));
      }
    }
  }

  // The typed getters return `current` (the default) when the key is absent.

  Result<Setting<std::string>> GetString(const TableView& t, std::string_view key,
                                         Setting<std::string> current) const {
    auto [node, line] = t.Find(key);
    if (node == nullptr) return current;
    if (!node->is_string()) {
      return Error(line, fmt::format("{} must be a string; got {}", t.Qualified(key),
                                     DescribeNode(*node)));
    }
    return Setting<std::string>{node->as_string()->get(), line};
  }

  // An array of non-empty strings.
  Result<Setting<std::vector<std::string>>> GetStringList(const TableView& t,
                                                          std::string_view key) const {
    auto [node, line] = t.Find(key);
    if (node == nullptr) return Setting<std::vector<std::string>>{};
    const toml::array* array = node->as_array();
    std::vector<std::string> items;
    for (size_t i = 0; array != nullptr && i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      if (!item.is_string() || item.as_string()->get().empty()) { array = nullptr; break; }
      items.push_back(item.as_string()->get());
    }
    if (array == nullptr) {
      return Error(line, fmt::format("{} must be an array of non-empty strings; got {}",
                                     t.Qualified(key), DescribeNode(*node)));
    }
    return Setting<std::vector<std::string>>{std::move(items), line};
  }

  // A table of librdkafka properties: strings, integers, floats or booleans, as text. Dotted
  // keys (security.protocol = "SSL", which TOML reads as nested tables) are joined with ".".
  Result<Setting<std::vector<std::pair<std::string, std::string>>>> GetProperties(
      const TableView& t, std::string_view key) const {
    using Properties = std::vector<std::pair<std::string, std::string>>;
    auto [node, line] = t.Find(key);
    if (node == nullptr) return Setting<Properties>{};
    if (!node->is_table()) {
      return Error(line, fmt::format("{} must be a table ([{}]); got {}", t.Qualified(key),
                                     t.Qualified(key), DescribeNode(*node)));
    }
    Properties out;
    Status status;
    auto flatten = [&](auto&& self, const toml::table& table, const std::string& prefix) -> void {
      for (auto&& [name, value] : table) {
        const std::string full = prefix + std::string(name.str());
        if (!status.ok()) return;
        if (const toml::table* sub = value.as_table()) {
          self(self, *sub, full + ".");
        } else if (value.is_string()) {
          out.emplace_back(full, value.as_string()->get());
        } else if (value.is_integer()) {
          out.emplace_back(full, std::to_string(value.as_integer()->get()));
        } else if (value.is_floating_point()) {
          out.emplace_back(full, fmt::format("{}", value.as_floating_point()->get()));
        } else if (value.is_boolean()) {
          out.emplace_back(full, value.as_boolean()->get() ? "true" : "false");
        } else {
          status = Error(LineOf(name.source()),
                         fmt::format("{}.{} must be a string, number or boolean; got {}",
                                     t.Qualified(key), full, DescribeNode(value)));
        }
      }
    };
    flatten(flatten, *node->as_table(), "");
    PULSE_RETURN_IF_ERROR(status);
    return Setting<Properties>{std::move(out), line};
  }

  // A string that, when set, must not be empty.
  Result<Setting<std::string>> GetNonEmptyString(const TableView& t, std::string_view key,
                                                 Setting<std::string> current) const {
    PULSE_ASSIGN_OR_RETURN(Setting<std::string> s, GetString(t, key, std::move(current)));
    if (s.is_set() && s.value.empty()) {
      return Error(s.line, fmt::format("{} must not be empty", t.Qualified(key)));
    }
    return s;
  }

  Result<Setting<bool>> GetBool(const TableView& t, std::string_view key,
                                Setting<bool> current) const {
    auto [node, line] = t.Find(key);
    if (node == nullptr) return current;
    if (!node->is_boolean()) {
      return Error(line, fmt::format("{} must be a boolean (true or false); got {}",
                                     t.Qualified(key), DescribeNode(*node)));
    }
    return Setting<bool>{node->as_boolean()->get(), line};
  }

  // An integer >= `min`.
  Result<Setting<int64_t>> GetInt(const TableView& t, std::string_view key,
                                  Setting<int64_t> current, int64_t min) const {
    auto [node, line] = t.Find(key);
    if (node == nullptr) return current;
    if (!node->is_integer()) {
      return Error(line, fmt::format("{} must be an integer; got {}", t.Qualified(key),
                                     DescribeNode(*node)));
    }
    int64_t v = node->as_integer()->get();
    if (v < min) {
      std::string bound = min == 1 ? "> 0" : fmt::format(">= {}", min);
      return Error(line, fmt::format("{} must be {}; got {}", t.Qualified(key), bound, v));
    }
    return Setting<int64_t>{v, line};
  }

  // GetInt, and at most `max` ("must be between min and max").
  Result<Setting<int64_t>> GetIntBetween(const TableView& t, std::string_view key,
                                         Setting<int64_t> current, int64_t min,
                                         int64_t max) const {
    PULSE_ASSIGN_OR_RETURN(Setting<int64_t> v, GetInt(t, key, current, min));
    if (v.value > max) {
      return Error(v.line, fmt::format("{} must be between {} and {}; got {}", t.Qualified(key),
                                       min, max, v.value));
    }
    return v;
  }

  enum class Sign : uint8_t { kPositive, kNonNegative };

  Result<Setting<DurationMs>> GetDuration(const TableView& t, std::string_view key,
                                          Setting<DurationMs> current, Sign sign) const {
    auto [node, line] = t.Find(key);
    if (node == nullptr) return current;
    std::string qualified = t.Qualified(key);
    if (!node->is_string()) {
      return Error(line, fmt::format("{} must be a duration string such as \"60s\"; got {}",
                                     qualified, DescribeNode(*node)));
    }
    const std::string& text = node->as_string()->get();
    if (std::string bare = BareDurationMessage(text); !bare.empty()) {
      return Error(line, fmt::format("{}: {}", qualified, bare));
    }
    Result<DurationMs> d = ParseDuration(text);
    if (!d.ok()) return Error(line, fmt::format("{}: {}", qualified, d.status().message()));
    if (sign == Sign::kPositive && *d <= 0) {
      return Error(line, fmt::format("{} must be > 0; got {}", qualified, Quote(text)));
    }
    if (sign == Sign::kNonNegative && *d < 0) {
      return Error(line, fmt::format("{} must be >= 0; got {}", qualified, Quote(text)));
    }
    if (*d > kMaxDurationMs) {
      return Error(line, fmt::format("{} must be at most 100 years; got {}", qualified,
                                     Quote(text)));
    }
    return Setting<DurationMs>{*d, line};
  }

  // A string that must be one of `names`; returns its index, or -1 when absent.
  Result<std::pair<int, int>> GetChoiceIndex(const TableView& t, std::string_view key,
                                             Keys names) const {
    auto [node, line] = t.Find(key);
    if (node == nullptr) return std::pair<int, int>{-1, 0};
    std::string qualified = t.Qualified(key);
    if (!node->is_string()) {
      return Error(line, fmt::format("{} must be a string, one of {}; got {}", qualified,
                                     Join(names), DescribeNode(*node)));
    }
    const std::string& text = node->as_string()->get();
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == text) return std::pair<int, int>{static_cast<int>(i), line};
    }
    std::string message =
        fmt::format("{} must be one of {}; got {}", qualified, Join(names), Quote(text));
    std::string_view suggestion = Suggest(text, names);
    if (!suggestion.empty()) message += fmt::format(" (did you mean {}?)", Quote(suggestion));
    return Error(line, message);
  }

  template <typename E, size_t N>
  Result<Setting<E>> GetChoice(const TableView& t, std::string_view key, Setting<E> current,
                               const Choices<E, N>& choices) const {
    PULSE_ASSIGN_OR_RETURN(auto found, GetChoiceIndex(t, key, choices.names));
    if (found.first < 0) return current;
    return Setting<E>{choices.values[static_cast<size_t>(found.first)], found.second};
  }

  Result<Setting<std::string>> GetStringChoice(const TableView& t, std::string_view key,
                                               Setting<std::string> current, Keys names) const {
    PULSE_ASSIGN_OR_RETURN(auto found, GetChoiceIndex(t, key, names));
    if (found.first < 0) return current;
    return Setting<std::string>{std::string(names[found.first]), found.second};
  }

  // A required string: absent or empty gives `message` at the key's (or the table's) line.
  Status Require(const TableView& t, const Setting<std::string>& s, std::string_view message) {
    if (!s.value.empty()) return Status::OK();
    return Error(s.is_set() ? s.line : t.line, message);
  }

  // The value of `key` in `t`, checked by its declared type; its default when absent.
  Result<ConfigSetting> ReadKey(const TableView& t, const ConfigKey& key) const {
    ConfigSetting out;
    out.text = std::string(key.default_text);
    out.number = key.default_number;
    out.flag = key.default_flag;
    switch (key.type) {
      case ConfigType::kString:
      case ConfigType::kNonEmptyString: {
        Setting<std::string> current{out.text, 0};
        PULSE_ASSIGN_OR_RETURN(Setting<std::string> s,
                               key.type == ConfigType::kString
                                   ? GetString(t, key.name, current)
                                   : GetNonEmptyString(t, key.name, current));
        out.text = std::move(s.value);
        out.line = s.line;
        break;
      }
      case ConfigType::kChoice: {
        PULSE_ASSIGN_OR_RETURN(Setting<std::string> s,
                               GetStringChoice(t, key.name, {out.text, 0}, key.choices));
        out.text = std::move(s.value);
        out.line = s.line;
        break;
      }
      case ConfigType::kBool: {
        PULSE_ASSIGN_OR_RETURN(Setting<bool> s, GetBool(t, key.name, {out.flag, 0}));
        out.flag = s.value;
        out.line = s.line;
        break;
      }
      case ConfigType::kInt: {
        Setting<int64_t> current{out.number, 0};
        PULSE_ASSIGN_OR_RETURN(Setting<int64_t> s,
                               key.max == std::numeric_limits<int64_t>::max()
                                   ? GetInt(t, key.name, current, key.min)
                                   : GetIntBetween(t, key.name, current, key.min, key.max));
        out.number = s.value;
        out.line = s.line;
        break;
      }
      case ConfigType::kDuration: {
        PULSE_ASSIGN_OR_RETURN(
            Setting<DurationMs> s,
            GetDuration(t, key.name, {out.number, 0},
                        key.min >= 1 ? Sign::kPositive : Sign::kNonNegative));
        out.number = s.value;
        out.line = s.line;
        break;
      }
      case ConfigType::kStringList: {
        PULSE_ASSIGN_OR_RETURN(Setting<std::vector<std::string>> s, GetStringList(t, key.name));
        out.list = std::move(s.value);
        out.line = s.line;
        break;
      }
      case ConfigType::kProperties: {
        PULSE_ASSIGN_OR_RETURN(Setting<ConfigProperties> s, GetProperties(t, key.name));
        out.properties = std::move(s.value);
        out.line = s.line;
        break;
      }
    }
    return out;
  }

  static bool IsEmpty(const ConfigSetting& s, ConfigType type) {
    if (type == ConfigType::kStringList) return s.list.empty();
    if (type == ConfigType::kProperties) return s.properties.empty();
    return s.text.empty();
  }

  // [source] or [sink]: `kind` picks a declaration of the registry; its keys are read, the keys
  // of the other kinds are checked too but only warned about.
  Result<ConnectorConfig> LoadConnector(const TableView& t, ConnectorRole role) {
    const ConnectorRegistry& registry = Connectors();
    const std::string_view role_name = ConnectorRoleName(role);
    const std::vector<const ConnectorDeclaration*> declarations = registry.Declarations(role);
    const std::vector<std::string_view> kinds = registry.Kinds(role);
    const std::vector<const ConfigKey*> all = registry.AllKeys(role);
    std::vector<std::string_view> known = {"kind"};
    for (const ConfigKey* key : all) known.push_back(key->name);

    // The kind decides which keys the message lists; read it before checking the keys.
    auto [kind_node, kind_line] = t.Find("kind");
    std::vector<std::string_view> shown = known;
    if (kind_node != nullptr && kind_node->is_string()) {
      if (const ConnectorDeclaration* d = registry.Find(role, kind_node->as_string()->get())) {
        shown = {"kind"};
        for (const ConfigKey& key : d->keys) shown.push_back(key.name);
      }
    }
    PULSE_RETURN_IF_ERROR(CheckKeys(t, known, shown));
    if (kind_node == nullptr) {
      return Error(t.line, fmt::format("{}.kind must be set (one of {})", role_name, Join(kinds)));
    }
    PULSE_ASSIGN_OR_RETURN(auto kind, GetChoiceIndex(t, "kind", kinds));
    const ConnectorDeclaration& d = *declarations[static_cast<size_t>(kind.first)];
    ConnectorConfig c(d, name_, t.line, kind.second);

    // Every key of the role is checked, by the chosen kind's declaration when it has the key.
    for (const ConfigKey* any : all) {
      const ConfigKey* own = d.Find(any->name);
      const ConfigKey& key = own != nullptr ? *own : *any;
      PULSE_ASSIGN_OR_RETURN(ConfigSetting setting, ReadKey(t, key));
      if (setting.is_set() && key.check != nullptr) {
        const std::string message = key.check(t.Qualified(key.name), setting);
        if (!message.empty()) return Error(setting.line, message);
      }
      if (own != nullptr) c.Set(key.name, std::move(setting));
    }

    for (const ConfigKey& key : d.keys) {
      if (!key.required) continue;
      const ConfigSetting& s = c.Get(key.name);
      if (!IsEmpty(s, key.type)) continue;
      const ConfigKey* instead = key.unless_set.empty() ? nullptr : d.Find(key.unless_set);
      if (instead != nullptr && !IsEmpty(c.Get(instead->name), instead->type)) continue;
      const std::string what =
          instead == nullptr
              ? t.Qualified(key.name)
              : fmt::format("{} (or {})", t.Qualified(key.name), t.Qualified(instead->name));
      return Error(s.is_set() ? s.line : t.line,
                   fmt::format("{} must be set for {} {}", what, d.kind, role_name));
    }
    if (d.check != nullptr) PULSE_RETURN_IF_ERROR(d.check(c));

    // Keys of other kinds have no effect here.
    auto noted = [&d](std::string_view name) {
      return std::any_of(d.foreign_keys.begin(), d.foreign_keys.end(),
                         [name](const ForeignKeyNote& note) { return note.key == name; });
    };
    std::vector<std::string_view> others;
    for (const ConfigKey* key : all) {
      if (d.Find(key->name) == nullptr && !noted(key->name)) others.push_back(key->name);
    }
    WarnIgnored(t, others, fmt::format("for a {} {}", d.kind, role_name));
    for (const ForeignKeyNote& note : d.foreign_keys) {
      const std::string_view key[] = {note.key};
      if (!note.why.empty()) WarnIgnored(t, key, note.why);
    }
    return c;
  }

  Result<TimeConfig> LoadTime(const TableView& t) {
    TimeConfig c;
    c.line = t.line;
    PULSE_RETURN_IF_ERROR(CheckKeys(t, KeyNames(kTimeKeys), KeyNames(kTimeKeys)));
    PULSE_ASSIGN_OR_RETURN(
        c.allowed_lateness,
        GetDuration(t, "allowed_lateness", c.allowed_lateness, Sign::kNonNegative));
    PULSE_ASSIGN_OR_RETURN(
        Setting<DurationMs> bound,
        GetDuration(t, "max_out_of_orderness", Setting<DurationMs>{}, Sign::kNonNegative));
    if (bound.is_set()) c.max_out_of_orderness = {bound.value, bound.line};
    PULSE_ASSIGN_OR_RETURN(
        Setting<DurationMs> idle,
        GetDuration(t, "idle_timeout", Setting<DurationMs>{}, Sign::kPositive));
    if (idle.is_set()) c.idle_timeout = {idle.value, idle.line};
    return c;
  }

  // Idleness needs a bound to continue from. (What an unbounded source without a bound, or
  // idleness on a bounded one, means is for TimeWarnings: whether standard input ends is
  // known only when the run starts.)
  Status CheckTimeForSource(const PipelineConfig& c) {
    const TimeConfig& time = c.time;
    if (time.idle_timeout.is_set() && !time.max_out_of_orderness.value) {
      return Error(time.idle_timeout.line,
                   "time.idle_timeout needs time.max_out_of_orderness: the idle watermark "
                   "continues from the largest event time minus that bound; set both");
    }
    return Status::OK();
  }

  Result<WindowConfig> LoadWindow(const TableView& t) {
    WindowConfig c;
    c.line = t.line;
    PULSE_RETURN_IF_ERROR(CheckKeys(t, KeyNames(kWindowKeys), KeyNames(kWindowKeys)));
    const std::span<const std::string_view> kinds = kWindowKinds.names;
    if (!t.Has("type")) {
      return Error(t.line, fmt::format("window.type must be set (one of {})", Join(kinds)));
    }
    PULSE_ASSIGN_OR_RETURN(c.type, GetChoice(t, "type", c.type, kWindowKinds));
    PULSE_ASSIGN_OR_RETURN(c.size, GetDuration(t, "size", c.size, Sign::kPositive));
    PULSE_ASSIGN_OR_RETURN(c.slide, GetDuration(t, "slide", c.slide, Sign::kPositive));
    PULSE_ASSIGN_OR_RETURN(c.gap, GetDuration(t, "gap", c.gap, Sign::kPositive));
    switch (c.type.value) {
      case ops::WindowSpec::Kind::kTumbling:
        if (!c.size.is_set()) return Error(t.line, "window.size must be set for tumbling window");
        WarnIgnored(t, kSlideGap, "for a tumbling window");
        break;
      case ops::WindowSpec::Kind::kSliding:
        if (!c.size.is_set()) return Error(t.line, "window.size must be set for sliding window");
        if (!c.slide.is_set()) {
          return Error(t.line, "window.slide must be set for sliding window");
        }
        if (c.slide.value > c.size.value) {
          return Error(c.slide.line,
                       fmt::format("window.slide ({}) must not be greater than window.size ({})",
                                   FormatDuration(c.slide.value), FormatDuration(c.size.value)));
        }
        PULSE_RETURN_IF_ERROR(CheckWindowsPerRecord(t, c));
        WarnIgnored(t, kGap, "for a sliding window");
        break;
      case ops::WindowSpec::Kind::kSession:
        if (!c.gap.is_set()) return Error(t.line, "window.gap must be set for session window");
        WarnIgnored(t, kSizeSlide, "for a session window (window.gap sets its length)");
        break;
    }
    return c;
  }

  // ⌈size / slide⌉ windows per record, at most window.max_windows_per_record.
  Status CheckWindowsPerRecord(const TableView& t, const WindowConfig& c) const {
    PULSE_ASSIGN_OR_RETURN(
        Setting<int64_t> limit,
        GetInt(t, "max_windows_per_record", Setting<int64_t>{kDefaultMaxWindowsPerRecord, 0}, 1));
    const int64_t per_record = WindowsPerRecord(c.size.value, c.slide.value);
    if (per_record <= limit.value) return Status::OK();
    return Error(c.slide.line,
                 fmt::format("window.size {} / window.slide {} puts every record in {} windows, "
                             "more than the limit of {}: use a larger slide, or raise "
                             "window.max_windows_per_record",
                             FormatDuration(c.size.value), FormatDuration(c.slide.value),
                             per_record, limit.value));
  }

  Result<OpsConfig> LoadOps(const TableView& t) {
    OpsConfig c;
    c.line = t.line;
    PULSE_RETURN_IF_ERROR(CheckKeys(t, KeyNames(kOpsKeys), KeyNames(kOpsKeys)));
    if (t.table != nullptr) {
      PULSE_RETURN_IF_ERROR(internal::LoadOpsExpressions(*t.table, text_, name_, &c));
    }
    PULSE_ASSIGN_OR_RETURN(c.count_by, GetString(t, "count_by", c.count_by));
    PULSE_ASSIGN_OR_RETURN(c.agg, GetChoice(t, "agg", c.agg, kAggKinds));
    PULSE_ASSIGN_OR_RETURN(c.agg_field, GetString(t, "agg_field", c.agg_field));
    if (c.plan_form()) {
      // The plan form: key and [ops.aggregates] (docs/expressions.md).
      if (c.count_by.is_set()) {
        return Error(c.count_by.line,
                     "ops.count_by and ops.key are two forms of the key: use key = [...] with "
                     "[ops.aggregates], or count_by with agg");
      }
      for (const Setting<std::string>* s : {&c.agg_field}) {
        if (s->is_set()) {
          return Error(s->line, "ops.agg_field belongs to the count_by form; with ops.key, "
                                "write aggregates in [ops.aggregates], e.g. total = \"sum(x)\"");
        }
      }
      if (c.agg.is_set()) {
        return Error(c.agg.line, "ops.agg belongs to the count_by form; with ops.key, write "
                                 "aggregates in [ops.aggregates], e.g. total = \"sum(x)\"");
      }
      if (c.aggregates_line == 0) {
        return Error(c.key_line, "ops.key needs [ops.aggregates], e.g. requests = "
                                 "\"count(*)\"");
      }
      return c;
    }
    PULSE_RETURN_IF_ERROR(Require(t, c.count_by, "ops.count_by must be set (e.g., word field)"));
    if (c.having.has_value()) {
      return Error(c.having->origin.line,
                   "ops.having needs the plan form: key = [...] with [ops.aggregates]");
    }
    if (c.agg.value != ops::AggSpec::Kind::kCount) {
      PULSE_RETURN_IF_ERROR(Require(
          t, c.agg_field, "ops.agg_field must be set when ops.agg is sum|avg|distinct|min|max"));
    } else {
      WarnIgnored(t, kAggField, "when ops.agg is count");
    }
    return c;
  }

  Result<OutputFileConfig> LoadOutputFile(const TableView& t) {
    OutputFileConfig c;
    if (t.table == nullptr) return c;
    c.line = t.line;
    PULSE_RETURN_IF_ERROR(
        CheckKeys(t, KeyNames(kDeadLetterKeys), KeyNames(kDeadLetterKeys)));
    PULSE_ASSIGN_OR_RETURN(c.path, GetString(t, "path", c.path));
    PULSE_RETURN_IF_ERROR(Require(t, c.path, fmt::format("{}.path must be set", t.name)));
    return c;
  }

  Result<StateConfig> LoadState(const TableView& t) {
    StateConfig c;
    if (t.table == nullptr) return c;
    c.line = t.line;
    PULSE_RETURN_IF_ERROR(CheckKeys(t, KeyNames(kStateKeys), KeyNames(kStateKeys)));
    PULSE_ASSIGN_OR_RETURN(c.backend, GetChoice(t, "backend", c.backend, kStateBackends));
    PULSE_ASSIGN_OR_RETURN(c.path, GetNonEmptyString(t, "path", c.path));
    PULSE_ASSIGN_OR_RETURN(c.memory_mb, GetIntBetween(t, "memory_mb", c.memory_mb,
                                                      kMinStateMemoryMb, kMaxStateMemoryMb));
    if (c.path.is_set() && c.backend.value != StateBackendKind::kRocksDb) {
      Warn(c.path.line, "state.path has no effect for the memory backend");
    }
    if (c.memory_mb.is_set() && c.backend.value != StateBackendKind::kRocksDb) {
      Warn(c.memory_mb.line, "state.memory_mb has no effect for the memory backend");
    }
    return c;
  }

  Result<CheckpointConfig> LoadCheckpoint(const TableView& t) {
    CheckpointConfig c;
    if (t.table == nullptr) return c;
    c.line = t.line;
    PULSE_RETURN_IF_ERROR(
        CheckKeys(t, KeyNames(kCheckpointKeys), KeyNames(kCheckpointKeys)));
    PULSE_ASSIGN_OR_RETURN(c.dir, GetNonEmptyString(t, "dir", c.dir));
    PULSE_ASSIGN_OR_RETURN(c.interval, GetDuration(t, "interval", c.interval, Sign::kPositive));
    PULSE_ASSIGN_OR_RETURN(c.keep, GetInt(t, "keep", c.keep, 1));
    return c;
  }

  // Two outputs (or an output and the input) in one file would corrupt each other.
  Status CheckDistinctFiles(const PipelineConfig& c) const {
    std::vector<NamedFile> files = FilesOf(c.source, ConfigPath::kInputFile);
    for (NamedFile& f : FilesOf(c.sink, ConfigPath::kOutputFile)) files.push_back(std::move(f));
    for (const auto* output : {&c.dead_letter, &c.late_output}) {
      if (output->path.value.empty()) continue;
      files.push_back(NamedFile{output == &c.dead_letter ? "dead_letter.path" : "late_output.path",
                                output->path.value, output->path.line});
    }
    for (size_t i = 0; i < files.size(); ++i) {
      for (size_t j = i + 1; j < files.size(); ++j) {
        if (SameFile(files[i].path, files[j].path)) {
          return Error(files[j].line,
                       fmt::format("{} {} is also {}; use a different file", files[j].key,
                                   Quote(files[j].path), files[i].key));
        }
      }
    }
    return Status::OK();
  }

  std::string name_;
  std::string_view text_;  // the config file's text, for the positions of expressions
  std::vector<std::string> warnings_;
};

}  // namespace

std::span<const ConfigTable> ConfigTables() { return kConfigTables; }

Result<PipelineConfig> LoadConfigString(std::string_view text, const std::string& display_name) {
  PULSE_ASSIGN_OR_RETURN(toml::table root, internal::ParseToml(text, display_name));
  return Loader(display_name, text).Load(root);
}

Result<PipelineConfig> LoadConfig(const std::string& path) {
  PULSE_ASSIGN_OR_RETURN(std::string text, internal::ReadTextFile(path, "config"));
  PULSE_ASSIGN_OR_RETURN(PipelineConfig config, LoadConfigString(text, path));
  // A run must not replace its own config with its output.
  std::vector<NamedFile> outputs = FilesOf(config.sink, ConfigPath::kOutputFile);
  if (!config.dead_letter.path.value.empty()) {
    outputs.push_back(NamedFile{"dead_letter.path", config.dead_letter.path.value,
                                config.dead_letter.path.line});
  }
  if (!config.late_output.path.value.empty()) {
    outputs.push_back(NamedFile{"late_output.path", config.late_output.path.value,
                                config.late_output.path.line});
  }
  for (const NamedFile& output : outputs) {
    if (SameFile(output.path, path)) {
      return Status::InvalidArgument(fmt::format("{}:{}: {} {} is the config file itself; use a "
                                                 "different file",
                                                 path, output.line, output.key,
                                                 Quote(output.path)));
    }
  }
  return config;
}

}  // namespace pulse::cli
