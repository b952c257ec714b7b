// SPDX-License-Identifier: MIT
// The Parquet sink's spool: the rows of an open Parquet file, in a compact binary encoding, in an
// appendable file that a checkpoint covers by length, so that a restarted run can rebuild it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "pulse/core/env.h"
#include "pulse/core/record.h"
#include "pulse/core/status.h"

namespace pulse::io::internal {

/// Append the binary image of `record` to `out`: a 4-byte little-endian body length, then the
/// event time (zigzag varint) and the value (a tag byte per value; ints zigzag varints, doubles
/// their IEEE bits, strings and keys length-prefixed bytes, arrays and objects a count). Exact:
/// NaN, -0.0, any bytes in strings and duplicate object keys read back as they were written.
void EncodeSpoolRecord(const Record& record, std::string* out);

/// Decode one record body (without its length prefix). Errors: Corruption if `body` is not
/// exactly one record.
Result<Record> DecodeSpoolRecord(std::string_view body);

/// One spool file, read and written through an Env. Lifecycle: Create (new, empty) or Reopen
/// (cut back to a checkpoint's length) → Append… → Sync… → destruction (closes the file; never
/// removes it). Not thread-safe.
class Spool {
 public:
  /// Bytes collected before a write.
  static constexpr size_t kBufferBytes = 256u << 10;

  /// Create (or truncate) the spool at `path` and write its header. Errors: IOError.
  static Result<std::unique_ptr<Spool>> Create(Env& env, const std::filesystem::path& path);

  /// Open the spool at `path`, cut it back to `length` bytes, call `row` with each of its
  /// records in order and position it for appending. Errors: Corruption if the file is
  /// missing, shorter than `length`, or its first `length` bytes are not whole records;
  /// IOError; any error `row` returns.
  static Result<std::unique_ptr<Spool>> Reopen(Env& env, const std::filesystem::path& path,
                                               uint64_t length,
                                               const std::function<Status(const Record&)>& row);

  struct PrivateToken {};  // only Create and Reopen construct
  Spool(PrivateToken, std::filesystem::path path, std::unique_ptr<WritableFile> file,
        uint64_t length);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  /// Append one record (buffered). Errors: IOError from writing the buffer.
  Status Append(const Record& record);

  /// Write the buffer and fsync if anything changed since the last Sync. Errors: IOError.
  Status Sync();

  /// Bytes of the file including the buffer (what a checkpoint records after Sync).
  uint64_t length() const { return length_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  Status WriteBuffer();

  std::filesystem::path path_;
  std::unique_ptr<WritableFile> file_;
  uint64_t length_ = 0;
  bool synced_ = true;
  std::string buffer_;
};

}  // namespace pulse::io::internal
