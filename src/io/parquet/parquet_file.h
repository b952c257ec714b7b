// SPDX-License-Identifier: MIT
// The Parquet sink's files: the row layout (schema) of a run, and one Parquet file written
// under a hidden temporary name, in row groups, and renamed into place when committed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/env.h"
#include "pulse/core/record.h"
#include "pulse/core/status.h"
#include "pulse/io/parquet.h"

namespace arrow {
class Schema;
}  // namespace arrow

namespace pulse::io::internal {

/// Buffered data (as counted by data_bytes) that forces a row group out early: bounds memory,
/// and keeps a string column far below Arrow's 2 GiB per array.
inline constexpr uint64_t kMaxRowGroupBytes = 256u << 20;

enum class ColumnType : uint8_t { kTimestamp, kInt64, kDouble, kBool, kString };

/// "timestamp", "int64", "double", "bool" or "string".
std::string_view ColumnTypeName(ColumnType type);

/// The type a ColumnTypeName names. Errors: InvalidArgument for another name.
Result<ColumnType> ParseColumnType(std::string_view name);

struct Column {
  std::string name;
  ColumnType type = ColumnType::kString;
};

/// The columns of every file of one sink run. Immutable after construction; copyable.
class RowLayout {
 public:
  /// `event_time` timestamp and `payload` string, both non-null.
  static RowLayout Payload();

  /// One nullable column per top-level field of `first`, in its order. Window results
  /// (records with integer window_start_ms and window_end_ms) get timestamps for those two,
  /// a string `key`, int64 count/distinct_count and double sum/avg/min/max. Other fields: bool,
  /// int64 or double by their value; strings, arrays, objects and null give a string column.
  /// Errors: InvalidArgument if `first` is not an object or has no fields.
  static Result<RowLayout> FromFirstRecord(const Record& first);

  /// Nullable columns as given (schema = columns, e.g. as recorded by a checkpoint).
  /// Errors: InvalidArgument if `columns` is empty.
  static Result<RowLayout> FromColumns(std::vector<Column> columns);

  bool is_payload() const { return payload_; }
  const std::vector<Column>& columns() const { return columns_; }
  const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }

 private:
  RowLayout(bool payload, std::vector<Column> columns);

  bool payload_ = true;
  std::vector<Column> columns_;
  std::shared_ptr<arrow::Schema> schema_;
};

/// What every file of a sink shares.
struct FileSettings {
  ParquetCompression compression = ParquetCompression::kSnappy;
  uint64_t row_group_rows = 131'072;
};

/// The hidden name a file `name` has while it is written: `.<name>.inprogress`.
std::string TempFileName(std::string_view name);

/// Rename the finished (synced) file `temp` to `final_path` and sync the folder
/// (RenameDurably). Errors: IOError.
Status PublishFile(Env& env, const std::filesystem::path& temp,
                   const std::filesystem::path& final_path);

/// Sync the folder `dir`, so that the files created or renamed in it are found after a crash.
/// Errors: IOError.
Status SyncFolder(Env& env, const std::filesystem::path& dir);

/// The number of rows in the footer of the Parquet file at `path`. Errors: IOError.
Result<uint64_t> ParquetFileRows(const std::filesystem::path& path);

/// One Parquet file being written. Rows are buffered in Arrow builders and written as a row
/// group every `row_group_rows` rows (or kMaxRowGroupBytes of data, whichever comes first) and
/// at Commit(). The file lives at
/// `<dir>/.<name>.inprogress` until Commit() closes it, fsyncs it and renames it to
/// `<dir>/<name>`; Abort() (or destruction before Commit or Finish) removes it. The Env creates
/// the file (so its mode is 0644 whatever the umask), syncs, renames and removes it; Arrow
/// writes its bytes.
/// Lifecycle: Create → Append… → Commit, Finish or Abort. Not thread-safe.
class ParquetFile {
 public:
  /// Create `dir` if needed and open the temporary file. `env` must outlive the file.
  /// Errors: IOError.
  static Result<std::unique_ptr<ParquetFile>> Create(Env& env, const std::filesystem::path& dir,
                                                     const std::string& name,
                                                     const RowLayout& layout,
                                                     const FileSettings& settings);
  class Impl;
  struct PrivateToken {};  // only Create() constructs
  ParquetFile(PrivateToken, Env& env, std::filesystem::path final_path,
              std::filesystem::path temp_path, uint64_t row_group_rows,
              std::unique_ptr<Impl> impl);
  ~ParquetFile();
  ParquetFile(const ParquetFile&) = delete;
  ParquetFile& operator=(const ParquetFile&) = delete;

  /// Append one record as a row. Errors: InvalidArgument (schema = columns) naming the field
  /// when the record does not fit the layout (the file is unchanged); IOError from writing a
  /// row group.
  Status Append(const Record& record);

  /// Write the buffered rows and the footer, fsync, rename into place and fsync the folder.
  /// Returns the file's size in bytes. Errors: IOError; the temporary file is then removed.
  Result<uint64_t> Commit();

  /// As Commit, but leave the finished, fsynced file under its temporary name (temp_path())
  /// for a later PublishFile (the folder is not synced). Errors: IOError; the temporary file
  /// is then removed.
  Result<uint64_t> Finish();

  /// Remove the temporary file. Best effort; a no-op after Commit or Abort.
  void Abort();

  uint64_t rows() const { return rows_; }
  /// The data size counted for max_bytes: 8 bytes per timestamp or number, 1 per bool, the
  /// length of each string (a payload row: 8 + its JSON text).
  uint64_t data_bytes() const { return data_bytes_; }
  /// The final path.
  const std::filesystem::path& path() const { return final_path_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  Status WriteRowGroup();

  Env& env_;
  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  uint64_t row_group_rows_;
  std::unique_ptr<Impl> impl_;
  uint64_t rows_ = 0;
  uint64_t buffered_rows_ = 0;   // rows not yet written as a row group
  uint64_t buffered_bytes_ = 0;  // their data_bytes
  uint64_t data_bytes_ = 0;
  bool done_ = false;
};

}  // namespace pulse::io::internal
