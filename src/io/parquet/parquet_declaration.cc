// SPDX-License-Identifier: MIT
// The Parquet sink declaration: config keys, plan line, checkpoint fingerprint. Compiled into
// pulse::io (not pulse::io_parquet), so that a Pulse built without Parquet still reads Parquet
// configs and says what is missing.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "pulse/core/connector_registry.h"
#include "pulse/core/time.h"
#include "pulse/io/parquet.h"

namespace pulse::io {
namespace {

constexpr std::string_view kCompressions[] = {"snappy", "zstd", "none"};
constexpr std::string_view kSchemas[] = {"payload", "columns"};
constexpr int64_t kDefaultMaxRows = 1'000'000;
constexpr int64_t kDefaultMaxAgeMs = 300'000;

constexpr ConfigKey kParquetSinkKeys[] = {
    {.name = "out_dir",
     .doc = "root folder of the partition folders",
     .default_doc = "`\".\"`"},
    {.name = "compression",
     .type = ConfigType::kChoice,
     .doc = "the compression codec (recorded in the file metadata)",
     .default_text = "snappy",
     .choices = kCompressions},
    {.name = "max_bytes",
     .type = ConfigType::kInt,
     .doc = "a file is closed once its data (uncompressed) reaches this many bytes",
     .default_doc = "none",
     .min = 1},
    {.name = "partition_field",
     .type = ConfigType::kNonEmptyString,
     .doc = "partition by a result field instead of the date: `<field>=<value>/`",
     .default_doc = "none"},
    {.name = "partition_format",
     .type = ConfigType::kNonEmptyString,
     .doc = "date partitions `dt=<UTC date of the event time>/` (strftime)",
     .default_text = "%Y-%m-%d"},
    {.name = "max_rows",
     .type = ConfigType::kInt,
     .doc = "a file is closed at this many rows",
     .default_number = kDefaultMaxRows,
     .min = 1},
    {.name = "max_age",
     .type = ConfigType::kDuration,
     .doc = "a file is closed this long after it was opened (checked every second, even when "
            "idle)",
     .default_number = kDefaultMaxAgeMs,
     .min = 1},
    {.name = "row_group_rows",
     .type = ConfigType::kInt,
     .doc = "rows per row group",
     .default_doc = "`131072`",
     .min = 1},
    {.name = "schema",
     .type = ConfigType::kChoice,
     .doc = "`\"payload\"`: `event_time` timestamp + `payload` (the JSON line); `\"columns\"`: "
            "`window_start_ms`, `window_end_ms` (timestamps), `key`, and the aggregate as int64 "
            "or double",
     .default_text = "payload",
     .choices = kSchemas},
    {.name = "success_marker",
     .type = ConfigType::kBool,
     .doc = "write `_SUCCESS` into a date partition once the watermark has passed it",
     .default_flag = true},
};

constexpr ForeignKeyNote kParquetSinkForeignKeys[] = {
    {.key = "path", .why = "for a parquet sink (use sink.out_dir)"}};

std::string Quoted(std::string_view s) { return fmt::format("\"{}\"", s); }

std::vector<std::string> DescribeParquetSink(const ConnectorConfig& c) {
  const std::string& field = c.String("partition_field");
  std::string partitions = fmt::format("{}=<value>/", field);
  if (field.empty()) {
    partitions = fmt::format("dt=<{}>/", c.String("partition_format"));
    if (c.Bool("success_marker")) partitions += " with _SUCCESS markers";
  }
  std::string roll = fmt::format("{} rows", c.Int("max_rows"));
  if (c.Int("max_bytes") > 0) roll += fmt::format(", {} bytes", c.Int("max_bytes"));
  roll += ", " + FormatDuration(c.Duration("max_age"));
  const std::string& out_dir = c.String("out_dir");
  return {fmt::format("parquet under {} ({} schema, compression {}), partitions {}, a file "
                      "rolls at {}",
                      Quoted(out_dir.empty() ? "." : out_dir), c.String("schema"),
                      c.String("compression"), partitions, roll)};
}

std::string ParquetSinkFingerprint(const ConnectorConfig& c) {
  return fmt::format("parquet {} schema {} partitions {}{}", c.String("out_dir"),
                     c.String("schema"), c.String("partition_field"),
                     c.String("partition_format"));
}

}  // namespace

const ConnectorDeclaration& ParquetSinkDeclaration() {
  static constexpr ConnectorDeclaration kDeclaration{
      .role = ConnectorRole::kSink,
      .kind = "parquet",
      .summary = "Writes Parquet files under Hive-style partition folders, rolled by rows, "
                 "bytes and age ([Parquet](parquet.md)).",
      .keys = kParquetSinkKeys,
      .foreign_keys = kParquetSinkForeignKeys,
      .describe = DescribeParquetSink,
      .fingerprint = ParquetSinkFingerprint,
  };
  return kDeclaration;
}

}  // namespace pulse::io
