// SPDX-License-Identifier: MIT
// Loads pipeline.toml into a PipelineConfig with strict keys, types and values (TOML parsing and
// the "did you mean" helpers are shared with `pulse test` files in toml_util.h).
#include "cli/config.h"

#include <algorithm>
#include <filesystem>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

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

constexpr std::string_view kTables[] = {"source",      "time",        "window", "ops",       "sink",
                                        "dead_letter", "late_output", "state",  "checkpoint"};
constexpr std::string_view kRequiredTables[] = {"source", "window", "ops", "sink"};

constexpr std::string_view kSourceKeys[] = {
    "kind",     "path",    "time_field",          "format",           "follow",
    "max_line_bytes", "on_error", "bootstrap_servers", "topic", "group_id",
    "auto_offset_reset", "commit_interval_ms", "topics", "time_source", "idle_timeout",
    "properties", "decode_threads", "stop_at"};
constexpr std::string_view kSourceFileKeys[] = {"kind",   "path",           "time_field", "format",
                                                "follow", "max_line_bytes", "on_error",
                                                "decode_threads"};
constexpr std::string_view kSourceKafkaKeys[] = {
    "kind",     "bootstrap_servers", "topic",      "group_id",
    "auto_offset_reset", "commit_interval_ms", "time_field", "on_error",
    "topics", "time_source", "idle_timeout", "properties", "stop_at"};
constexpr std::string_view kSourceFileOnly[] = {"format", "follow", "max_line_bytes",
                                                "decode_threads"};
constexpr std::string_view kSourceKafkaOnly[] = {"bootstrap_servers", "topic", "group_id",
                                                 "auto_offset_reset", "commit_interval_ms",
                                                 "topics", "time_source", "idle_timeout",
                                                 "properties", "stop_at"};

constexpr std::string_view kTimeKeys[] = {"allowed_lateness", "max_out_of_orderness"};
constexpr std::string_view kWindowKeys[] = {"type", "size", "slide", "gap"};
constexpr std::string_view kOpsKeys[] = {"count_by", "agg", "agg_field"};

constexpr std::string_view kSinkKeys[] = {
    "kind",           "path",           "out_dir",      "compression",       "max_bytes",
    "partition_field", "partition_format", "max_rows",  "max_age",           "row_group_rows",
    "schema",         "success_marker", "bootstrap_servers", "topic",        "acks",
    "key_field",      "delivery",       "transactional_id", "properties"};
constexpr std::string_view kSinkFileKeys[] = {"kind", "path", "out_dir"};
constexpr std::string_view kSinkParquetKeys[] = {
    "kind",     "out_dir", "compression",    "max_bytes", "partition_field", "partition_format",
    "max_rows", "max_age", "row_group_rows", "schema",    "success_marker"};
constexpr std::string_view kSinkKafkaKeys[] = {"kind",     "bootstrap_servers", "topic",
                                               "acks",     "key_field",         "delivery",
                                               "transactional_id", "properties"};
constexpr std::string_view kOutputKeys[] = {"path"};
constexpr std::string_view kStateKeys[] = {"backend", "path", "memory_mb"};
constexpr std::string_view kCheckpointKeys[] = {"dir", "interval", "keep"};
constexpr std::string_view kSlideGap[] = {"slide", "gap"};
constexpr std::string_view kGap[] = {"gap"};
constexpr std::string_view kSizeSlide[] = {"size", "slide"};
constexpr std::string_view kAggField[] = {"agg_field"};
constexpr std::string_view kPath[] = {"path"};

template <typename E>
struct Choice {
  std::string_view name;
  E value;
};

constexpr Choice<SourceKind> kSourceKinds[] = {{"file", SourceKind::kFile},
                                               {"kafka", SourceKind::kKafka}};
constexpr Choice<io::FileFormat> kFormats[] = {{"jsonl", io::FileFormat::kJsonl},
                                               {"csv", io::FileFormat::kCsv}};
constexpr Choice<OnError> kOnErrors[] = {{"skip", OnError::kSkip}, {"fail", OnError::kFail}};
constexpr Choice<ops::WindowSpec::Kind> kWindowKinds[] = {
    {"tumbling", ops::WindowSpec::Kind::kTumbling},
    {"sliding", ops::WindowSpec::Kind::kSliding},
    {"session", ops::WindowSpec::Kind::kSession}};
constexpr Choice<ops::AggSpec::Kind> kAggKinds[] = {
    {"count", ops::AggSpec::Kind::kCount}, {"sum", ops::AggSpec::Kind::kSum},
    {"avg", ops::AggSpec::Kind::kAvg},     {"distinct", ops::AggSpec::Kind::kDistinct},
    {"min", ops::AggSpec::Kind::kMin},     {"max", ops::AggSpec::Kind::kMax}};
constexpr Choice<StateBackendKind> kStateBackends[] = {{"memory", StateBackendKind::kMemory},
                                                      {"rocksdb", StateBackendKind::kRocksDb}};
constexpr Choice<SinkKind> kSinkKinds[] = {{"file", SinkKind::kFile},
                                           {"parquet", SinkKind::kParquet},
                                           {"kafka", SinkKind::kKafka}};
constexpr std::string_view kOffsetResets[] = {"earliest", "latest"};
constexpr std::string_view kCompressions[] = {"snappy", "zstd", "none"};
constexpr std::string_view kSchemas[] = {"payload", "columns"};
constexpr std::string_view kAcks[] = {"all", "1", "0", "-1"};
constexpr std::string_view kTimeSources[] = {"field", "message"};
constexpr std::string_view kDeliveries[] = {"at-least-once", "exactly-once"};

template <typename E, size_t N>
std::vector<std::string_view> Names(const Choice<E> (&choices)[N]) {
  std::vector<std::string_view> names;
  for (const auto& c : choices) names.push_back(c.name);
  return names;
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
  explicit Loader(std::string name) : name_(std::move(name)) {}

  Result<PipelineConfig> Load(const toml::table& root) {
    PULSE_RETURN_IF_ERROR(CheckTopLevel(root));
    PipelineConfig config;
    config.name = name_;
    PULSE_ASSIGN_OR_RETURN(config.source, LoadSource(View(root, "source")));
    PULSE_ASSIGN_OR_RETURN(config.time, LoadTime(View(root, "time")));
    PULSE_ASSIGN_OR_RETURN(config.window, LoadWindow(View(root, "window")));
    PULSE_ASSIGN_OR_RETURN(config.ops, LoadOps(View(root, "ops")));
    PULSE_ASSIGN_OR_RETURN(config.sink, LoadSink(View(root, "sink")));
    PULSE_ASSIGN_OR_RETURN(config.dead_letter, LoadOutputFile(View(root, "dead_letter")));
    PULSE_ASSIGN_OR_RETURN(config.late_output, LoadOutputFile(View(root, "late_output")));
    PULSE_ASSIGN_OR_RETURN(config.state, LoadState(View(root, "state")));
    PULSE_ASSIGN_OR_RETURN(config.checkpoint, LoadCheckpoint(View(root, "checkpoint")));
    PULSE_RETURN_IF_ERROR(CheckDistinctFiles(config));
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
    const toml::key* first_unknown = nullptr;
    for (auto&& [key, node] : root) {
      if (Contains(kTables, key.str())) {
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
      std::string_view suggestion = Suggest(name, kTables);
      bool is_table = root.get(name)->is_table();
      std::string message =
          is_table ? fmt::format("unknown table [{}]", name)
                   : fmt::format("unknown key '{}' at the top level", name);
      if (!suggestion.empty()) message += fmt::format(" (did you mean [{}]?)", suggestion);
      message += "; allowed tables: " + Join(kTables, "[", "]");
      return Error(LineOf(first_unknown->source()), message);
    }
    for (std::string_view name : kRequiredTables) {
      if (!root.contains(name)) {
        return Error(0, fmt::format("missing table [{}]; required tables: {}", name,
                                    Join(kRequiredTables, "[", "]")));
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
                               const Choice<E> (&choices)[N]) const {
    std::vector<std::string_view> names = Names(choices);
    PULSE_ASSIGN_OR_RETURN(auto found, GetChoiceIndex(t, key, names));
    if (found.first < 0) return current;
    return Setting<E>{choices[found.first].value, found.second};
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

  Result<SourceConfig> LoadSource(const TableView& t) {
    SourceConfig c;
    c.line = t.line;
    // The kind decides which keys the message lists; read it before checking the keys.
    std::vector<std::string_view> kinds = Names(kSourceKinds);
    auto [kind_node, kind_line] = t.Find("kind");
    Keys shown = kSourceKeys;
    if (kind_node != nullptr && kind_node->is_string()) {
      if (kind_node->as_string()->get() == "file") shown = kSourceFileKeys;
      if (kind_node->as_string()->get() == "kafka") shown = kSourceKafkaKeys;
    }
    PULSE_RETURN_IF_ERROR(CheckKeys(t, kSourceKeys, shown));
    if (kind_node == nullptr) {
      return Error(t.line, fmt::format("source.kind must be set (one of {})", Join(kinds)));
    }
    PULSE_ASSIGN_OR_RETURN(c.kind, GetChoice(t, "kind", c.kind, kSourceKinds));
    PULSE_ASSIGN_OR_RETURN(c.path, GetString(t, "path", c.path));
    PULSE_ASSIGN_OR_RETURN(c.time_field, GetNonEmptyString(t, "time_field", c.time_field));
    PULSE_ASSIGN_OR_RETURN(c.format, GetChoice(t, "format", c.format, kFormats));
    PULSE_ASSIGN_OR_RETURN(c.follow, GetBool(t, "follow", c.follow));
    PULSE_ASSIGN_OR_RETURN(c.max_line_bytes, GetInt(t, "max_line_bytes", c.max_line_bytes, 1));
    // Bounded here too so that the message names the line and no value wraps on the way.
    PULSE_ASSIGN_OR_RETURN(c.decode_threads,
                           GetIntBetween(t, "decode_threads", c.decode_threads, 0,
                                         io::FileSourceOptions::kMaxDecodeThreads));
    PULSE_ASSIGN_OR_RETURN(c.on_error, GetChoice(t, "on_error", c.on_error, kOnErrors));
    PULSE_ASSIGN_OR_RETURN(c.bootstrap_servers,
                           GetString(t, "bootstrap_servers", c.bootstrap_servers));
    PULSE_ASSIGN_OR_RETURN(c.topic, GetString(t, "topic", c.topic));
    PULSE_ASSIGN_OR_RETURN(c.group_id, GetString(t, "group_id", c.group_id));
    PULSE_ASSIGN_OR_RETURN(c.auto_offset_reset, GetStringChoice(t, "auto_offset_reset",
                                                                c.auto_offset_reset,
                                                                kOffsetResets));
    PULSE_ASSIGN_OR_RETURN(c.commit_interval_ms,
                           GetInt(t, "commit_interval_ms", c.commit_interval_ms, 0));
    PULSE_ASSIGN_OR_RETURN(c.topics, GetStringList(t, "topics"));
    PULSE_ASSIGN_OR_RETURN(c.time_source,
                           GetStringChoice(t, "time_source", c.time_source, kTimeSources));
    PULSE_ASSIGN_OR_RETURN(c.idle_timeout,
                           GetDuration(t, "idle_timeout", c.idle_timeout, Sign::kNonNegative));
    PULSE_ASSIGN_OR_RETURN(c.properties, GetProperties(t, "properties"));
    PULSE_ASSIGN_OR_RETURN(c.stop_at, GetString(t, "stop_at", c.stop_at));
    if (c.stop_at.is_set() && c.stop_at.value != "end" && !ParseRfc3339(c.stop_at.value)) {
      return Error(c.stop_at.line,
                   fmt::format("source.stop_at = \"{}\": expected \"end\" or an RFC 3339 time "
                               "such as \"2024-01-01T00:00:00Z\"",
                               c.stop_at.value));
    }
    if (c.kind.value == SourceKind::kFile) {
      PULSE_RETURN_IF_ERROR(Require(t, c.path, "source.path must be set for file source"));
      WarnIgnored(t, kSourceKafkaOnly, "for a file source");
    } else {
      PULSE_RETURN_IF_ERROR(Require(t, c.bootstrap_servers,
                                    "source.bootstrap_servers must be set for kafka source"));
      if (c.topics.value.empty()) {
        PULSE_RETURN_IF_ERROR(
            Require(t, c.topic, "source.topic (or source.topics) must be set for kafka source"));
      }
      PULSE_RETURN_IF_ERROR(
          Require(t, c.group_id, "source.group_id must be set for kafka source"));
      WarnIgnored(t, kSourceFileOnly, "for a kafka source");
    }
    return c;
  }

  Result<TimeConfig> LoadTime(const TableView& t) {
    TimeConfig c;
    c.line = t.line;
    PULSE_RETURN_IF_ERROR(CheckKeys(t, kTimeKeys, kTimeKeys));
    PULSE_ASSIGN_OR_RETURN(
        c.allowed_lateness,
        GetDuration(t, "allowed_lateness", c.allowed_lateness, Sign::kNonNegative));
    PULSE_ASSIGN_OR_RETURN(
        Setting<DurationMs> bound,
        GetDuration(t, "max_out_of_orderness", Setting<DurationMs>{}, Sign::kNonNegative));
    if (bound.is_set()) c.max_out_of_orderness = {bound.value, bound.line};
    return c;
  }

  Result<WindowConfig> LoadWindow(const TableView& t) {
    WindowConfig c;
    c.line = t.line;
    PULSE_RETURN_IF_ERROR(CheckKeys(t, kWindowKeys, kWindowKeys));
    std::vector<std::string_view> kinds = Names(kWindowKinds);
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
        WarnIgnored(t, kGap, "for a sliding window");
        break;
      case ops::WindowSpec::Kind::kSession:
        if (!c.gap.is_set()) return Error(t.line, "window.gap must be set for session window");
        WarnIgnored(t, kSizeSlide, "for a session window (window.gap sets its length)");
        break;
    }
    return c;
  }

  Result<OpsConfig> LoadOps(const TableView& t) {
    OpsConfig c;
    c.line = t.line;
    PULSE_RETURN_IF_ERROR(CheckKeys(t, kOpsKeys, kOpsKeys));
    PULSE_ASSIGN_OR_RETURN(c.count_by, GetString(t, "count_by", c.count_by));
    PULSE_RETURN_IF_ERROR(Require(t, c.count_by, "ops.count_by must be set (e.g., word field)"));
    PULSE_ASSIGN_OR_RETURN(c.agg, GetChoice(t, "agg", c.agg, kAggKinds));
    PULSE_ASSIGN_OR_RETURN(c.agg_field, GetString(t, "agg_field", c.agg_field));
    if (c.agg.value != ops::AggSpec::Kind::kCount) {
      PULSE_RETURN_IF_ERROR(Require(
          t, c.agg_field, "ops.agg_field must be set when ops.agg is sum|avg|distinct|min|max"));
    } else {
      WarnIgnored(t, kAggField, "when ops.agg is count");
    }
    return c;
  }

  Result<SinkConfig> LoadSink(const TableView& t) {
    SinkConfig c;
    c.line = t.line;
    auto [kind_node, kind_line] = t.Find("kind");
    Keys shown = kSinkKeys;
    if (kind_node != nullptr && kind_node->is_string()) {
      const std::string& kind = kind_node->as_string()->get();
      if (kind == "file") shown = kSinkFileKeys;
      if (kind == "parquet") shown = kSinkParquetKeys;
      if (kind == "kafka") shown = kSinkKafkaKeys;
    }
    PULSE_RETURN_IF_ERROR(CheckKeys(t, kSinkKeys, shown));
    if (kind_node == nullptr) {
      return Error(t.line,
                   fmt::format("sink.kind must be set (one of {})", Join(Names(kSinkKinds))));
    }
    PULSE_ASSIGN_OR_RETURN(c.kind, GetChoice(t, "kind", c.kind, kSinkKinds));
    PULSE_ASSIGN_OR_RETURN(c.path, GetString(t, "path", c.path));
    PULSE_ASSIGN_OR_RETURN(c.out_dir, GetString(t, "out_dir", c.out_dir));
    PULSE_ASSIGN_OR_RETURN(c.compression, GetStringChoice(t, "compression", c.compression,
                                                          kCompressions));
    PULSE_ASSIGN_OR_RETURN(c.max_bytes, GetInt(t, "max_bytes", c.max_bytes, 1));
    PULSE_ASSIGN_OR_RETURN(c.partition_field,
                           GetNonEmptyString(t, "partition_field", c.partition_field));
    PULSE_ASSIGN_OR_RETURN(c.partition_format,
                           GetNonEmptyString(t, "partition_format", c.partition_format));
    PULSE_ASSIGN_OR_RETURN(c.max_rows, GetInt(t, "max_rows", c.max_rows, 1));
    PULSE_ASSIGN_OR_RETURN(c.max_age, GetDuration(t, "max_age", c.max_age, Sign::kPositive));
    PULSE_ASSIGN_OR_RETURN(c.row_group_rows, GetInt(t, "row_group_rows", c.row_group_rows, 1));
    PULSE_ASSIGN_OR_RETURN(c.schema, GetStringChoice(t, "schema", c.schema, kSchemas));
    PULSE_ASSIGN_OR_RETURN(c.success_marker, GetBool(t, "success_marker", c.success_marker));
    PULSE_ASSIGN_OR_RETURN(c.bootstrap_servers,
                           GetString(t, "bootstrap_servers", c.bootstrap_servers));
    PULSE_ASSIGN_OR_RETURN(c.topic, GetString(t, "topic", c.topic));
    PULSE_ASSIGN_OR_RETURN(c.acks, GetStringChoice(t, "acks", c.acks, kAcks));
    PULSE_ASSIGN_OR_RETURN(c.key_field, GetNonEmptyString(t, "key_field", c.key_field));
    PULSE_ASSIGN_OR_RETURN(c.delivery, GetStringChoice(t, "delivery", c.delivery, kDeliveries));
    PULSE_ASSIGN_OR_RETURN(c.transactional_id,
                           GetNonEmptyString(t, "transactional_id", c.transactional_id));
    PULSE_ASSIGN_OR_RETURN(c.properties, GetProperties(t, "properties"));

    auto ignored_for = [&](Keys own) {
      std::vector<std::string_view> others;
      for (std::string_view key : kSinkKeys) {
        if (!Contains(own, key) && key != "path") others.push_back(key);
      }
      return others;
    };
    switch (c.kind.value) {
      case SinkKind::kFile:
        if (c.path.is_set() && c.out_dir.is_set()) {
          return Error(std::max(c.path.line, c.out_dir.line),
                       "sink.path and sink.out_dir both name the output file; set only one");
        }
        if (c.out_dir.is_set()) c.path = c.out_dir;
        WarnIgnored(t, ignored_for(kSinkFileKeys), "for a file sink");
        break;
      case SinkKind::kParquet:
        WarnIgnored(t, ignored_for(kSinkParquetKeys), "for a parquet sink");
        WarnIgnored(t, kPath, "for a parquet sink (use sink.out_dir)");
        break;
      case SinkKind::kKafka:
        PULSE_RETURN_IF_ERROR(Require(t, c.bootstrap_servers,
                                      "sink.bootstrap_servers must be set for kafka sink"));
        PULSE_RETURN_IF_ERROR(Require(t, c.topic, "sink.topic must be set for kafka sink"));
        WarnIgnored(t, ignored_for(kSinkKafkaKeys), "for a kafka sink");
        WarnIgnored(t, kPath, "for a kafka sink");
        break;
    }
    return c;
  }

  Result<OutputFileConfig> LoadOutputFile(const TableView& t) {
    OutputFileConfig c;
    if (t.table == nullptr) return c;
    c.line = t.line;
    PULSE_RETURN_IF_ERROR(CheckKeys(t, kOutputKeys, kOutputKeys));
    PULSE_ASSIGN_OR_RETURN(c.path, GetString(t, "path", c.path));
    PULSE_RETURN_IF_ERROR(Require(t, c.path, fmt::format("{}.path must be set", t.name)));
    return c;
  }

  Result<StateConfig> LoadState(const TableView& t) {
    StateConfig c;
    if (t.table == nullptr) return c;
    c.line = t.line;
    PULSE_RETURN_IF_ERROR(CheckKeys(t, kStateKeys, kStateKeys));
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
    PULSE_RETURN_IF_ERROR(CheckKeys(t, kCheckpointKeys, kCheckpointKeys));
    PULSE_ASSIGN_OR_RETURN(c.dir, GetNonEmptyString(t, "dir", c.dir));
    PULSE_ASSIGN_OR_RETURN(c.interval, GetDuration(t, "interval", c.interval, Sign::kPositive));
    PULSE_ASSIGN_OR_RETURN(c.keep, GetInt(t, "keep", c.keep, 1));
    return c;
  }

  // Two outputs (or an output and the input) in one file would corrupt each other.
  Status CheckDistinctFiles(const PipelineConfig& c) const {
    struct Named {
      std::string_view key;
      const Setting<std::string>* path;
    };
    std::vector<Named> files;
    if (c.source.kind.value == SourceKind::kFile && c.source.path.value != "-") {
      files.push_back({"source.path", &c.source.path});
    }
    if (c.sink.kind.value == SinkKind::kFile && !c.sink.path.value.empty()) {
      files.push_back({c.sink.out_dir.is_set() ? "sink.out_dir" : "sink.path", &c.sink.path});
    }
    if (!c.dead_letter.path.value.empty()) {
      files.push_back({"dead_letter.path", &c.dead_letter.path});
    }
    if (!c.late_output.path.value.empty()) {
      files.push_back({"late_output.path", &c.late_output.path});
    }
    for (size_t i = 0; i < files.size(); ++i) {
      for (size_t j = i + 1; j < files.size(); ++j) {
        if (SameFile(files[i].path->value, files[j].path->value)) {
          return Error(files[j].path->line,
                       fmt::format("{} {} is also {}; use a different file", files[j].key,
                                   Quote(files[j].path->value), files[i].key));
        }
      }
    }
    return Status::OK();
  }

  std::string name_;
  std::vector<std::string> warnings_;
};

}  // namespace

Result<PipelineConfig> LoadConfigString(std::string_view text, const std::string& display_name) {
  PULSE_ASSIGN_OR_RETURN(toml::table root, internal::ParseToml(text, display_name));
  return Loader(display_name).Load(root);
}

Result<PipelineConfig> LoadConfig(const std::string& path) {
  PULSE_ASSIGN_OR_RETURN(std::string text, internal::ReadTextFile(path, "config"));
  PULSE_ASSIGN_OR_RETURN(PipelineConfig config, LoadConfigString(text, path));
  // A run must not replace its own config with its output.
  const std::pair<std::string_view, const Setting<std::string>*> outputs[] = {
      {config.sink.out_dir.is_set() ? "sink.out_dir" : "sink.path", &config.sink.path},
      {"dead_letter.path", &config.dead_letter.path},
      {"late_output.path", &config.late_output.path}};
  for (const auto& [key, setting] : outputs) {
    if (setting == &config.sink.path && config.sink.kind.value != SinkKind::kFile) continue;
    if (!setting->value.empty() && SameFile(setting->value, path)) {
      return Status::InvalidArgument(fmt::format("{}:{}: {} {} is the config file itself; use a "
                                                 "different file",
                                                 path, setting->line, key,
                                                 Quote(setting->value)));
    }
  }
  return config;
}

}  // namespace pulse::cli
