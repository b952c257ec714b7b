// SPDX-License-Identifier: MIT
// FileFollower: the files a following file source reads, found by name or glob and known by
// their identity (device, inode and first bytes), so that reading survives log rotation.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/csv_reader.h"
#include "io/line_reader.h"
#include "pulse/core/clock.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/core/value.h"

namespace pulse::io::internal {

/// How many first bytes of a file make its fingerprint.
inline constexpr size_t kFingerprintBytes = 1024;

/// Where a followed file was read up to, as a checkpoint records it. Value type.
struct FollowPosition {
  std::string file;  // the name it was last found under
  /// False for the position of a source that did not follow (the file is known by name only).
  bool has_identity = false;
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t fingerprint = 0;  // hash of its first fingerprint_bytes bytes
  uint64_t fingerprint_bytes = 0;
  uint64_t offset = 0;  // just past the last line read
  uint64_t next_line = 1;
};

/// The positions as a checkpoint stores them: {"files": [{"file", "device", "inode",
/// "fingerprint" (16 hex digits), "fingerprint_bytes", "offset", "line"}, ...]}.
Value FollowPositionsToJson(const std::vector<FollowPosition>& positions);

/// Read what FollowPositionsToJson wrote. Errors: InvalidArgument naming the member.
Result<std::vector<FollowPosition>> FollowPositionsFromJson(const Value& value);

/// One file being followed. Owned by the FileFollower; the source reads `name`, `csv_schema`
/// and sets `csv_schema` from the file's header.
struct FollowedFile {
  std::shared_ptr<const std::string> name;  // the name it was last found under
  uint64_t device = 0;
  uint64_t inode = 0;
  std::string head;  // its first bytes (up to kFingerprintBytes), as far as it has them
  int fd = -1;
  std::unique_ptr<LineReader> reader;
  std::shared_ptr<const CsvSchema> csv_schema;  // CSV: the schema of its header, once read
  uint64_t offset = 0;  // just past the last line handed out
  uint64_t next_line = 1;
  /// Its name no longer leads to it (renamed or removed by log rotation, or the copy that
  /// copytruncate left): read to its end, then closed once quiet for rotate_wait.
  bool rotated = false;
  Clock::TimePoint last_active{};  // when it last gave bytes, or was found rotated
  uint64_t order = 0;  // files are read in this order: when each began to be read
  /// A copy of another followed file (the same first kFingerprintBytes bytes), followed from
  /// the end it had when found, until the file it copies is truncated (copytruncate) and it
  /// continues that file instead.
  bool copy = false;
  uint64_t read_offset = 0;        // reader->offset() when last looked at
};

/// The files a following source reads: the regular files its path (a file or a glob) names,
/// and the ones it named before that log rotation moved away, each until it has been read to
/// its end. Every poll interval (of the clock given to Open) it looks at the names again:
/// - a name that leads to another file (rename and create) or to none: the file it had is
///   rotated, read to its end and closed once it has not grown for rotate_wait; the new file
///   is read from its start;
/// - a new file that matches the glob is followed from its start, unless its first
///   kFingerprintBytes bytes equal a followed file's: a copy of it, followed from its end (its
///   lines would repeat those of the file it copies).
/// Before reading more of a file it checks it: one that shrank or whose first bytes changed
/// (copytruncate, or rewritten in place) has its copy (the newest file in the same directory
/// that starts with the bytes it started with) read from where reading stopped, as a rotated
/// file, and is itself read again from its start.
/// Lines come out file by file, in the order the files began to be read (a renamed file before
/// the one created under its name, a copy before the truncated file; new files found together,
/// and the files of a fresh start, from the least recently modified, then by name; a resumed
/// run keeps the order of its position); a file is read as far as it goes before the next is
/// looked at.
/// Not thread-safe: every call on the source thread.
class FileFollower {
 public:
  struct Options {
    std::string path;  // a file or a glob
    Framing framing = Framing::kLines;
    size_t max_line_bytes = 0;
    size_t block_bytes = 0;  // of each file's LineReader
    DurationMs poll_interval_ms = 100;
    DurationMs rotate_wait_ms = 10'000;
  };

  /// Called when a file is continued mid-way (a resumed position, the copy of a truncated
  /// file) with its descriptor at offset 0, before reading moves to `offset`; CSV sources read
  /// the header here.
  using ContinueHook = std::function<Status(FollowedFile& file)>;

  explicit FileFollower(Options options) : options_(std::move(options)) {}
  ~FileFollower();
  FileFollower(const FileFollower&) = delete;
  FileFollower& operator=(const FileFollower&) = delete;

  /// Open the files the path names now, continuing `resume` (the positions of an earlier run;
  /// a file found under another name by its identity, or as a copy by its first bytes, is
  /// continued there; one that is gone is skipped). `clock`, `stop` and `bytes_read` (may be
  /// null) outlive the follower. Errors: NotFound when the path names no file; InvalidArgument
  /// when a position without identity no longer fits its file; IOError; the hook's.
  Status Open(Clock& clock, const std::atomic<bool>* stop, std::atomic<uint64_t>* bytes_read,
              const std::vector<FollowPosition>& resume, ContinueHook on_continue);

  /// Return true with the next line and its file (valid until the next call), or false when
  /// no file has a complete line now. `drain` (stop): every buffered line, then each file's
  /// partial last line, without reading more; false once all is handed out. Looks at the
  /// names (see above) when a poll interval has passed. Errors: IOError.
  Result<bool> Next(bool drain, Line* line, FollowedFile** file);

  /// Where each open file was read up to (after the last line Next returned), each with the
  /// fingerprint of as many of its first bytes as it has now (up to kFingerprintBytes).
  std::vector<FollowPosition> Positions();

  /// The files open now (for tests and the summary).
  size_t size() const { return files_.size(); }

 private:
  struct Identity {
    uint64_t device = 0;
    uint64_t inode = 0;
    auto operator<=>(const Identity&) const = default;
  };

  Result<std::unique_ptr<FollowedFile>> OpenFile(const std::string& name) const;
  Result<std::unique_ptr<FollowedFile>> Locate(const FollowPosition& pos) const;
  Status StartAt(FollowedFile& file, uint64_t offset, uint64_t next_line);
  enum class Try : uint8_t { kLine, kNone, kReordered };
  enum class Check : uint8_t { kUnchanged, kGrown, kTruncated };

  Status Scan();
  void FindNewName(FollowedFile& file);
  void Reorder();
  Status Truncated(size_t index);
  void AddFollowed(std::unique_ptr<FollowedFile> file);
  bool IsCopy(const std::string& head) const;
  Result<Try> TryFile(size_t index, bool drain, Line* line);
  Result<Check> CheckFile(FollowedFile& file, bool even_if_same_size);
  void CloseFile(size_t index);

  const Options options_;
  Clock* clock_ = nullptr;
  const std::atomic<bool>* stop_ = nullptr;
  std::atomic<uint64_t>* bytes_read_ = nullptr;
  ContinueHook on_continue_;
  // In the order they began to be read (FollowedFile::order).
  std::vector<std::unique_ptr<FollowedFile>> files_;
  size_t current_ = 0;                      // the file Next read last
  Clock::TimePoint next_scan_{};
  uint64_t next_order_ = 0;
};

}  // namespace pulse::io::internal
