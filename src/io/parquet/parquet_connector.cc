// SPDX-License-Identifier: MIT
// The Parquet sink factory of the connector registry: options from a config, validated, errors
// at the config's lines.
#include <memory>
#include <string>
#include <utility>

#include "pulse/core/connector_registry.h"
#include "pulse/io/parquet.h"

namespace pulse::io {

Result<std::unique_ptr<Sink>> MakeParquetSink(const ConnectorConfig& config,
                                              const ConnectorBuildContext& context) {
  ParquetSinkOptions options;
  const std::string& out_dir = config.String("out_dir");
  options.out_dir = out_dir.empty() ? "." : out_dir;
  const std::string& compression = config.String("compression");
  options.compression = compression == "zstd"   ? ParquetCompression::kZstd
                        : compression == "none" ? ParquetCompression::kNone
                                                : ParquetCompression::kSnappy;
  options.schema = config.String("schema") == "columns" ? ParquetSchema::kColumns
                                                        : ParquetSchema::kPayload;
  options.partition_field = config.String("partition_field");
  options.partition_format = config.String("partition_format");
  options.max_rows = static_cast<uint64_t>(config.Int("max_rows"));
  options.max_bytes = static_cast<uint64_t>(config.Int("max_bytes"));
  options.max_age_ms = config.Duration("max_age");
  if (config.Int("row_group_rows") > 0) {
    options.row_group_rows = static_cast<uint64_t>(config.Int("row_group_rows"));
  }
  options.success_marker = config.Bool("success_marker");
  options.lateness_ms = context.allowed_lateness_ms;
  if (Status st = options.Validate(); !st.ok()) {
    return config.KeyError("partition_format", st.message());
  }
  return ParquetSink(std::move(options));
}

}  // namespace pulse::io
