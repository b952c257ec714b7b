// SPDX-License-Identifier: MIT
// Partition folders of the Parquet sink: Hive-style escaping, `<name>=<value>` folder names,
// date partition values and their completeness test. No Arrow here.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/core/value.h"

namespace pulse::io::internal {

/// The value Hive (and Spark, DuckDB) read as NULL: used for a missing, null or empty field.
inline constexpr std::string_view kHiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

/// A folder name longer than this (the common file-name limit) is shortened; see
/// PartitionDirName.
inline constexpr size_t kMaxDirNameBytes = 255;

/// Escape `text` for one path component as Hive's FileUtils.escapePathName does: bytes 0x00-0x1F,
/// 0x7F and `"` `#` `%` `'` `*` `/` `:` `=` `?` `\` `{` `[` `]` `^` become `%XX` (upper-case hex);
/// everything else, UTF-8 included, is kept. In addition the whole values "." and ".." become
/// "%2E" and "%2E%2E", so no escaped text names the current or parent folder.
std::string EscapePartitionText(std::string_view text);

/// Reverse EscapePartitionText (each `%XX` with two hex digits becomes its byte).
std::string UnescapePartitionText(std::string_view text);

/// The folder `<escaped name>=<escaped value>`. If that is longer than kMaxDirNameBytes, the
/// value is cut (never inside an escape or a UTF-8 sequence) and `~` plus 16 hex digits of a
/// hash of the whole value are appended, so distinct values keep distinct folders.
std::string PartitionDirName(std::string_view name, std::string_view value);

/// The partition value of a field: a string as it is, other values as compact JSON text, and
/// missing (nullptr), null or "" as kHiveDefaultPartition.
std::string FieldPartitionValue(const Value* field);

/// Errors: InvalidArgument when `format` is empty or has a conversion that is not one of
/// %Y %C %y %G %g %m %b %B %h %d %e %j %U %W %V %u %w %a %A %H %I %p %M %S %F %T %D %R %s
/// %n %t %% (so that the result depends only on the time, in UTC, and is never empty).
Status ValidateDateFormat(std::string_view format);

/// Formats event times in UTC with a strftime format. Caches the last second formatted.
/// Not thread-safe.
class DateFormatter {
 public:
  /// Requires: ValidateDateFormat(format) is OK.
  explicit DateFormatter(std::string format) : format_(std::move(format)) {}

  /// The formatted UTC time of `t`, valid until the next call.
  /// Requires: kMinEventTime <= t <= kMaxEventTime.
  const std::string& Format(EventTime t);

  /// Whether the period named `value` (a result of Format for some time before `watermark`)
  /// is over at `watermark`: no time at or after `watermark` formats as `value`. Exact for
  /// formats that name contiguous periods (%Y-%m-%d, %Y-%m-%dT%H, %Y%m, ...); a repeating
  /// format such as %H is treated as such a period too.
  bool PeriodEndedBefore(std::string_view value, EventTime watermark);

 private:
  std::string format_;
  int64_t cached_second_ = 0;
  bool has_cache_ = false;
  std::string cached_;
};

}  // namespace pulse::io::internal
