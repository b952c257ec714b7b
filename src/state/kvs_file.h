// SPDX-License-Identifier: MIT
// The ".kvs" file: one namespace's entries as the memory backend snapshots them (and the
// RocksDB backend can restore them).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pulse/core/env.h"
#include "pulse/core/status.h"
#include "pulse/state/state_backend.h"

namespace pulse::state::internal {

// Layout (integers little-endian):
//   "PULSEKV1"                                       8-byte magic
//   { 0x01, group:u16, varint key size, key, varint value size, value }*   entries
//   0x00, count:u64                                  end marker and entry count
// A file without the end marker, or whose count disagrees, is truncated (Corruption).
inline constexpr std::string_view kKvsMagic = "PULSEKV1";

/// Writes a .kvs file through an Env. Lifecycle: Create → Add… → Finish. Not thread-safe. The
/// file is not fsynced (the checkpoint store does it).
class KvsWriter {
 public:
  /// Create `path` (which must not exist). Errors: IOError.
  static Result<std::unique_ptr<KvsWriter>> Create(Env& env, const std::string& path);
  ~KvsWriter();
  KvsWriter(const KvsWriter&) = delete;
  KvsWriter& operator=(const KvsWriter&) = delete;

  Status Add(KeyGroup group, std::string_view key, std::string_view value);
  /// Write the end marker and close. Errors: IOError.
  Status Finish();

 private:
  KvsWriter(std::string path, std::unique_ptr<WritableFile> file);
  Status Flush();

  std::string path_;
  std::unique_ptr<WritableFile> file_;
  std::string buffer_;
  uint64_t count_ = 0;
};

/// One entry read from a .kvs file; the views are valid until the next Next() call.
struct KvsEntryView {
  KeyGroup group = 0;
  std::string_view key;
  std::string_view value;
};

/// Reads a .kvs file front to back through an Env. Not thread-safe.
class KvsReader {
 public:
  /// Errors: NotFound, IOError, Corruption (bad magic).
  static Result<std::unique_ptr<KvsReader>> Open(Env& env, const std::string& path);
  ~KvsReader();
  KvsReader(const KvsReader&) = delete;
  KvsReader& operator=(const KvsReader&) = delete;

  /// The next entry, or nullopt at the (verified) end. Errors: Corruption (truncated or
  /// malformed, naming the file), IOError.
  Result<std::optional<KvsEntryView>> Next();

 private:
  KvsReader(std::string path, std::unique_ptr<ReadableFile> file, uint64_t file_bytes);
  // Make at least `n` unread bytes available from pos_ (bytes before pos_ may be dropped).
  // Errors: Corruption at end of file, IOError.
  Status Need(size_t n);
  Status Truncated() const;

  std::string path_;
  std::unique_ptr<ReadableFile> file_;
  uint64_t file_bytes_;
  std::string buffer_;
  size_t pos_ = 0;
  bool eof_ = false;
  uint64_t count_ = 0;
};

}  // namespace pulse::state::internal
