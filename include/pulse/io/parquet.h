// SPDX-License-Identifier: MIT
// Parquet sink: results as Parquet files under Hive-style partition folders, rolled by rows,
// bytes and age, committed by rename, with _SUCCESS markers. Built when PULSE_HAVE_PARQUET.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pulse/core/connector.h"
#include "pulse/core/connector_registry.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"

namespace pulse::io {

enum class ParquetCompression : uint8_t { kSnappy, kZstd, kNone };

/// The columns of each file.
enum class ParquetSchema : uint8_t {
  /// `event_time` timestamp(ms, UTC) (the record's event time) and `payload` string (the
  /// record's value as compact JSON, exactly as the file sink writes it). Never null.
  kPayload,
  /// One nullable column per top-level field of the records, fixed by the first record:
  /// window results give `window_start_ms`, `window_end_ms` timestamp(ms, UTC), `key` string
  /// (non-string keys as JSON text), `count`/`distinct_count` int64 and `sum`/`avg`/`min`/`max`
  /// double. See docs/parquet.md for other records.
  kColumns,
};

struct ParquetSinkOptions {
  /// The root folder; partition folders and files go below it (created as needed).
  std::string out_dir = ".";
  ParquetCompression compression = ParquetCompression::kSnappy;
  ParquetSchema schema = ParquetSchema::kPayload;

  /// Empty: partition by the UTC date of each record's event time, formatted with
  /// `partition_format` (strftime), into `dt=<value>/`. Otherwise: by the value of this
  /// top-level field into `<field>=<value>/` (strings as they are, other values as JSON text,
  /// missing/null/"" as `__HIVE_DEFAULT_PARTITION__`). Names and values are escaped as Hive
  /// does (`/` → `%2F`, ...), so no value reaches outside `out_dir`.
  std::string partition_field;
  std::string partition_format = "%Y-%m-%d";

  /// A file is closed (and a new one started for the next record) when it holds `max_rows`
  /// rows, when its data reaches `max_bytes` (uncompressed: 8 bytes per timestamp or number,
  /// the length of each string; 0 = no limit), or `max_age_ms` of processing time after it was
  /// opened (the clock of SinkContext::env; checked on every record and by Sink::Tick(), so an
  /// idle file is closed too).
  uint64_t max_rows = 1'000'000;
  uint64_t max_bytes = 0;
  DurationMs max_age_ms = 300'000;

  /// Rows per row group: rows are buffered and written as one row group when this many (or
  /// 256 MiB of data) are buffered, or the file is closed.
  uint64_t row_group_rows = 131'072;

  /// Date partitions only: write an empty `_SUCCESS` file into a partition folder once the
  /// watermark has passed the end of its period (so no more rows can come) and its files are
  /// closed.
  bool success_marker = true;
  /// How far behind the watermark results may still arrive: the window's allowed lateness
  /// (a window [s, e) is emitted at event time e − 1 once the watermark reaches e + lateness).
  /// A date partition is complete when watermark − lateness is past its end.
  DurationMs lateness_ms = 0;

  /// Errors: InvalidArgument for an empty out_dir, zero limits, a negative age or lateness, or
  /// a partition_format with a conversion other than %Y %C %y %G %g %m %b %B %h %d %e %j %U %W
  /// %V %u %w %a %A %H %I %p %M %S %F %T %D %R %s %n %t %%.
  Status Validate() const;
};

/// Return the Parquet sink. Files are written as `.part-….parquet.inprogress` and renamed to
/// `part-<run start ms>-<random>-<sequence>.parquet` when closed, so a reader never sees a
/// partial file and names never repeat across runs (the run start is the wall clock of
/// SinkContext::env, the tag Env::UniqueId()). Every file operation goes through that Env.
/// Close() closes every open file; Abort()
/// removes the open files' temporary files. Takes part in checkpoints (Recover before the
/// first Write): the open files' rows are spooled beside them, and rolled files are renamed only
/// by the Commit of the checkpoint that covers them (docs/parquet.md, "Checkpoints").
/// Requires: options.Validate() is OK.
std::unique_ptr<Sink> ParquetSink(ParquetSinkOptions options);

/// The Parquet sink as a registry connector (connector_registry.h): kind "parquet" and its
/// config keys (docs/configuration.md). The declaration is in pulse::io and exists in every
/// build; the factory, which builds the options from a config, validates them and names the
/// config's line in errors, only with PULSE_HAVE_PARQUET.
const ConnectorDeclaration& ParquetSinkDeclaration();
Result<std::unique_ptr<Sink>> MakeParquetSink(const ConnectorConfig& config,
                                              const ConnectorBuildContext& context);

}  // namespace pulse::io
