// SPDX-License-Identifier: MIT
// Hostile configs (issue 8): every key of every kind with a value of the wrong type, tables in
// the wrong shape, empty and binary files, and outputs that would overwrite the config itself or
// each other under another spelling. Each error is one line naming the config, line and key.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli/config.h"
#include "testing/test_util.h"

namespace pulse::cli {
namespace {

using ::pulse::testing::TempDir;
using ::pulse::testing::WriteFile;

std::string LoadError(std::string_view text) {
  Result<PipelineConfig> config = LoadConfigString(text, "pipeline.toml");
  return config.ok() ? std::string("OK") : config.status().message();
}

std::string BuildError(std::string_view text) {
  Result<PipelineConfig> config = LoadConfigString(text, "pipeline.toml");
  if (!config.ok()) return "load failed: " + config.status().message();
  Result<Pipeline> pipeline = BuildPipeline(*config);
  return pipeline.ok() ? std::string("OK") : pipeline.status().message();
}

// Configs that set every key of each kind, one key per line.
constexpr std::string_view kFileEverything = R"([source]
kind = "file"
path = "in.csv"
time_field = "ts"
format = "csv"
follow = false
max_line_bytes = 1024
on_error = "skip"

[time]
allowed_lateness = "5s"
max_out_of_orderness = "1s"

[window]
type = "sliding"
size = "60s"
slide = "10s"

[ops]
count_by = "word"
agg = "sum"
agg_field = "x"

[sink]
kind = "file"
path = "out.jsonl"

[dead_letter]
path = "dl.jsonl"

[late_output]
path = "late.jsonl"
)";

constexpr std::string_view kKafkaEverything = R"([source]
kind = "kafka"
bootstrap_servers = "localhost:9092"
topic = "events"
group_id = "pulse"
auto_offset_reset = "earliest"
commit_interval_ms = 1000
time_field = "event_time"
on_error = "skip"

[window]
type = "session"
gap = "30s"

[ops]
count_by = "word"

[sink]
kind = "kafka"
bootstrap_servers = "localhost:9092"
topic = "results"
acks = "all"
key_field = "key"
)";

constexpr std::string_view kParquetEverything = R"([source]
kind = "file"
path = "in.jsonl"

[window]
type = "tumbling"
size = "60s"

[ops]
count_by = "word"

[sink]
kind = "parquet"
out_dir = "out"
compression = "zstd"
max_bytes = 1048576
partition_field = "word"
partition_format = "%Y-%m-%d"
max_rows = 1000
max_age = "5m"
row_group_rows = 100
schema = "payload"
success_marker = true
)";

struct KeyLine {
  std::string table;
  std::string key;
  int line;
};

// Every `key = value` line of `text`, with its table and 1-based line number.
std::vector<KeyLine> KeysOf(std::string_view text) {
  std::vector<KeyLine> keys;
  std::istringstream in{std::string(text)};
  std::string table;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.starts_with("[")) {
      table = line.substr(1, line.size() - 2);
    } else if (const size_t eq = line.find(" = "); eq != std::string::npos) {
      keys.push_back({table, line.substr(0, eq), number});
    }
  }
  return keys;
}

// `text` with the value on line `number` replaced by `value`.
std::string WithValue(std::string_view text, int number, std::string_view value) {
  std::istringstream in{std::string(text)};
  std::string out;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (++n == number) line = line.substr(0, line.find(" = ") + 3) + std::string(value);
    out += line + "\n";
  }
  return out;
}

TEST(ConfigHostileTest, TheEverythingConfigsLoad) {
  EXPECT_EQ(LoadError(kFileEverything), "OK");
  EXPECT_EQ(LoadError(kKafkaEverything), "OK");
  EXPECT_EQ(LoadError(kParquetEverything), "OK");
}

// No key accepts an array, an inline table or a date: each is a one-line error naming the key.
TEST(ConfigHostileTest, EveryKeyWithAValueOfTheWrongType) {
  int checked = 0;
  for (std::string_view config : {kFileEverything, kKafkaEverything, kParquetEverything}) {
    for (const KeyLine& k : KeysOf(config)) {
      for (std::string_view bad : {"[1, 2]", "{ a = 1 }", "1979-05-27"}) {
        const std::string error = LoadError(WithValue(config, k.line, bad));
        const std::string prefix = "pipeline.toml:" + std::to_string(k.line) + ": " + k.table +
                                   "." + k.key + " must be ";
        EXPECT_EQ(error.rfind(prefix, 0), 0u) << k.table << "." << k.key << " = " << bad
                                              << ": " << error;
        EXPECT_EQ(error.find('\n'), std::string::npos) << error;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 3 * (22 + 15 + 14));
}

// Scalars of the wrong kind: a number where text is expected and text where a number or a
// boolean is expected.
TEST(ConfigHostileTest, ScalarsOfTheWrongKind) {
  const std::string f(kFileEverything);
  EXPECT_EQ(LoadError(WithValue(f, 2, "1")),
            "pipeline.toml:2: source.kind must be a string, one of file, kafka; got integer 1");
  EXPECT_EQ(LoadError(WithValue(f, 3, "3.5")),
            "pipeline.toml:3: source.path must be a string; got float 3.5");
  EXPECT_EQ(LoadError(WithValue(f, 6, "\"false\"")),
            "pipeline.toml:6: source.follow must be a boolean (true or false); got string "
            "\"false\"");
  EXPECT_EQ(LoadError(WithValue(f, 7, "-1")),
            "pipeline.toml:7: source.max_line_bytes must be > 0; got -1");
  // Loads (it is a positive integer); the file source rejects it when the pipeline is built.
  EXPECT_EQ(BuildError(WithValue(f, 7, "9223372036854775807")),
            "pipeline.toml:1: file source: max_line_bytes must be between 1 and 1073741824, got "
            "9223372036854775807");
  EXPECT_EQ(LoadError(WithValue(f, 8, "true")),
            "pipeline.toml:8: source.on_error must be a string, one of skip, fail; got boolean "
            "true");
  EXPECT_EQ(LoadError(WithValue(f, 11, "5")),
            "pipeline.toml:11: time.allowed_lateness must be a duration string such as \"60s\"; "
            "got integer 5");
  EXPECT_EQ(LoadError(WithValue(f, 16, "\"\"")),
            "pipeline.toml:16: window.size: invalid duration \"\": expected an integer with a "
            "unit ms, s, m, h or d (e.g. \"500ms\", \"10s\", \"1h30m\")");
  EXPECT_EQ(LoadError(WithValue(f, 21, "\"SUM\"")),
            "pipeline.toml:21: ops.agg must be one of count, sum, avg, distinct, min, max; got "
            "\"SUM\"");
}

TEST(ConfigHostileTest, TablesOfTheWrongShape) {
  EXPECT_EQ(LoadError("[[source]]\nkind = \"file\"\n"),
            "pipeline.toml:1: source must be a table ([source]); got array");
  EXPECT_EQ(LoadError("source = 1\n"),
            "pipeline.toml:1: source must be a table ([source]); got integer 1");
  EXPECT_EQ(LoadError(std::string(kFileEverything) + "\n[source]\nkind = \"file\"\n"),
            "pipeline.toml:34:1: TOML parse error: Error while parsing table header: cannot "
            "redefine existing table 'source'");
  EXPECT_EQ(LoadError("[source]\nkind = \"file\"\nkind = \"kafka\"\n"),
            "pipeline.toml:3:8: TOML parse error: Error while parsing key-value pair: cannot "
            "redefine existing string 'kind'");
  const std::string unknown =
      LoadError(std::string(kFileEverything) + "\n[bogus_section]\nx = 1\n");
  EXPECT_EQ(unknown.rfind("pipeline.toml:34: unknown table [bogus_section]; allowed tables: "
                          "[source], ",
                          0),
            0u)
      << unknown;
  EXPECT_EQ(LoadError(std::string(kFileEverything) + "\n[ops.extra]\nx = 1\n"),
            "pipeline.toml:34: unknown key 'extra' in [ops]; allowed: count_by, agg, agg_field, key, "
            "where, having, fields, aggregates");
}

TEST(ConfigHostileTest, EmptyAndBinaryFiles) {
  EXPECT_EQ(LoadError(""),
            "pipeline.toml: missing table [source]; required tables: [source], [window], [ops], "
            "[sink]");
  EXPECT_EQ(LoadError("\n\n# only a comment\n"),
            "pipeline.toml: missing table [source]; required tables: [source], [window], [ops], "
            "[sink]");
  for (std::string_view garbage :
       {std::string_view("\0\0\0\0", 4), std::string_view("\xff\xfe\x00[", 4),
        std::string_view("\x7f" "ELF\x02\x01\x01", 7), std::string_view("[source\x00]", 9)}) {
    const std::string error = LoadError(garbage);
    EXPECT_EQ(error.rfind("pipeline.toml:1:", 0), 0u) << error;
    EXPECT_NE(error.find(": TOML parse error: "), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

// A config whose output names the config file would replace it with results.
TEST(ConfigHostileTest, OutputsMustNotBeTheConfigFileItself) {
  TempDir dir;
  const std::string path = dir.file("pipeline.toml");
  auto load = [&](std::string_view text) {
    WriteFile(path, std::string(text));
    Result<PipelineConfig> config = LoadConfig(path);
    return config.ok() ? std::string("OK") : config.status().message();
  };
  const std::string base(kFileEverything);
  EXPECT_EQ(load(base), "OK");
  EXPECT_EQ(load(WithValue(base, 26, "\"" + path + "\"")),
            path + ":26: sink.path \"" + path + "\" is the config file itself; use a different "
                                                "file");
  EXPECT_EQ(load(WithValue(base, 29, "\"" + dir.file("x/../pipeline.toml") + "\"")),
            path + ":29: dead_letter.path \"" + dir.file("x/../pipeline.toml") +
                "\" is the config file itself; use a different file");
  std::filesystem::create_symlink(path, dir.file("link.toml"));
  EXPECT_EQ(load(WithValue(base, 32, "\"" + dir.file("link.toml") + "\"")),
            path + ":32: late_output.path \"" + dir.file("link.toml") +
                "\" is the config file itself; use a different file");
}

// Two outputs in one file under different spellings are caught like equal spellings.
TEST(ConfigHostileTest, OutputsThatAreTheSameFileUnderAnotherName) {
  const std::string base(kFileEverything);
  EXPECT_EQ(LoadError(WithValue(base, 29, "\"./out.jsonl\"")),
            "pipeline.toml:29: dead_letter.path \"./out.jsonl\" is also sink.path; use a "
            "different file");
  EXPECT_EQ(LoadError(WithValue(base, 32, "\"logs/../in.csv\"")),
            "pipeline.toml:32: late_output.path \"logs/../in.csv\" is also source.path; use a "
            "different file");
}

}  // namespace
}  // namespace pulse::cli
