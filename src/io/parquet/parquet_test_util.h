// SPDX-License-Identifier: MIT
// Helpers of the Parquet tests: records, file listings, and reading files back with the Arrow
// Parquet reader (rows as text).
#pragma once

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/json.h"
#include "pulse/core/record.h"

namespace pulse::io::parquet_testing {

namespace fs = std::filesystem;

inline constexpr EventTime kDay1 = 1704067200000;  // 2024-01-01T00:00:00Z
inline constexpr EventTime kDay2 = 1704153600000;  // 2024-01-02T00:00:00Z

inline Record MakeRecord(EventTime time, std::string_view json) {
  Result<Value> v = ParseJson(json);
  EXPECT_TRUE(v.ok()) << json;
  return Record{time, v.ok() ? *v : Value()};
}

// A window result at event time end − 1, as WindowedAggregate emits it.
inline Record Window(EventTime start, EventTime end, std::string_view key_json,
                     std::string_view agg) {
  return MakeRecord(
      end - 1, fmt::format(R"({{"window_start_ms":{},"window_end_ms":{},"key":{},{}}})", start, end,
                           key_json, agg));
}

// Every file under `dir` (recursively), as paths relative to it, sorted.
inline std::vector<std::string> ListFiles(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::vector<std::string> ParquetFiles(const fs::path& dir) {
  std::vector<std::string> out;
  for (const std::string& f : ListFiles(dir)) {
    if (f.size() > 8 && f.substr(f.size() - 8) == ".parquet") out.push_back(f);
  }
  return out;
}

inline std::unique_ptr<parquet::ParquetFileReader> OpenReader(const fs::path& path) {
  auto file = arrow::io::ReadableFile::Open(path.string());
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  return parquet::ParquetFileReader::Open(*file);
}

inline std::shared_ptr<arrow::Table> ReadTable(const fs::path& path) {
  auto file = arrow::io::ReadableFile::Open(path.string());
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  auto reader = parquet::arrow::OpenFile(*file, arrow::default_memory_pool());
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  auto table = (*reader)->ReadTable();
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return *table;
}

// One cell as text: null, integers (timestamps as their ms), doubles, bools, strings.
inline std::string Cell(const arrow::Array& a, int64_t i) {
  if (a.IsNull(i)) return "null";
  switch (a.type_id()) {
    case arrow::Type::TIMESTAMP:
      return std::to_string(static_cast<const arrow::TimestampArray&>(a).Value(i));
    case arrow::Type::INT64:
      return std::to_string(static_cast<const arrow::Int64Array&>(a).Value(i));
    case arrow::Type::DOUBLE: {
      std::string out;
      AppendJsonDouble(static_cast<const arrow::DoubleArray&>(a).Value(i), &out);
      return out;
    }
    case arrow::Type::BOOL:
      return static_cast<const arrow::BooleanArray&>(a).Value(i) ? "true" : "false";
    case arrow::Type::STRING:
      return std::string(static_cast<const arrow::StringArray&>(a).GetView(i));
    default:
      return "?";
  }
}

// The rows of a file, cells joined by '|'.
inline std::vector<std::string> Rows(const fs::path& path) {
  std::shared_ptr<arrow::Table> table = ReadTable(path);
  auto combined = table->CombineChunks();
  EXPECT_TRUE(combined.ok());
  std::vector<std::string> rows(static_cast<size_t>(table->num_rows()));
  for (int c = 0; c < table->num_columns(); ++c) {
    const auto& column = (*combined)->column(c);
    if (column->num_chunks() == 0) continue;
    for (int64_t i = 0; i < table->num_rows(); ++i) {
      std::string& row = rows[static_cast<size_t>(i)];
      if (c > 0) row += '|';
      row += Cell(*column->chunk(0), i);
    }
  }
  return rows;
}

}  // namespace pulse::io::parquet_testing
