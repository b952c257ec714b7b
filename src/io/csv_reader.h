// SPDX-License-Identifier: MIT
// CSV helpers for the file source: splitting one RFC 4180 record into cells, and mapping a
// header row to JSON objects.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/value.h"

namespace pulse::io::internal {

/// Split one CSV record (without its line end) into cells: comma-separated, a cell that starts
/// with '"' is quoted ("" inside is one quote, commas and line ends are data), and text after a
/// closing quote is kept as is. Cells are written to (*cells)[0..n), reusing its strings;
/// returns n (at least 1). Requires: the record is complete (LineReader's kCsv framing).
size_t SplitCsvRecord(std::string_view record, std::vector<std::string>* cells);

/// The columns of one CSV input: which cells become which object members, and which holds
/// the event time. Built from the header row. Thread-compatible.
class CsvSchema {
 public:
  /// `header` holds the n header cells. Duplicate names: the later column supplies the value,
  /// at the position of the first. `keep_fields` (empty: keep all) selects the members kept.
  CsvSchema(const std::vector<std::string>& header, size_t n, std::string_view time_field,
            const std::vector<std::string>& keep_fields);

  size_t num_columns() const { return num_columns_; }

  /// Index of the time column, or -1 when the header has none.
  int time_column() const { return time_column_; }

  /// Return the object for one row, moving strings out of `cells`.
  /// Requires: the row has num_columns() cells.
  Value MakeObject(std::vector<std::string>* cells) const;

 private:
  size_t num_columns_ = 0;
  int time_column_ = -1;
  std::vector<std::string> names_;  // member names in output order
  // For each output member, the column that supplies its value (the last of equal names).
  std::vector<size_t> source_column_;
};

}  // namespace pulse::io::internal
