// SPDX-License-Identifier: MIT
// Env: what Pulse needs from its surroundings (processing time and files), in one injectable
// place, as in LevelDB and RocksDB; the file helpers built on it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/clock.h"
#include "pulse/core/status.h"

namespace pulse {

// How the file operations below fail: with a Status whose code is kNotFound when the path (or
// a directory on it) does not exist and kIOError otherwise, and whose message is the system's
// text alone ("No space left on device"). The caller says what it was doing and on which path,
// in its own words ("cannot write 'out.jsonl': No space left on device"). The few helpers that
// word their errors themselves say so.

/// A file open for writing, written front to back from its write position. Owned by one
/// thread at a time (not thread-safe). Destroying it closes it, ignoring errors.
class WritableFile {
 public:
  virtual ~WritableFile() = default;

  /// Write all of `data` at the write position. The one write loop of Pulse: a write that a
  /// signal interrupts is retried and a short write continued. Errors: IOError; the file may
  /// then hold part of `data`.
  virtual Status Append(std::string_view data) = 0;

  /// Make everything appended durable (fsync). Errors: IOError.
  virtual Status Sync() = 0;

  /// Cut the file to `length` bytes (at most its size) and continue writing there (resuming an
  /// output a checkpoint covers up to `length`). Errors: IOError.
  virtual Status Truncate(uint64_t length) = 0;

  /// Close the file; later calls fail. Errors: IOError (e.g. a write error reported late).
  virtual Status Close() = 0;
};

/// A file open for reading front to back. Owned by one thread at a time (not thread-safe).
/// Destroying it closes it.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;

  /// Read up to buffer.size() bytes at the read position into `buffer`; returns how many were
  /// read, 0 at the end of the file. A read that a signal interrupts is retried.
  /// Errors: IOError (also for a directory).
  virtual Result<size_t> Read(std::span<char> buffer) = 0;

  /// The file's size now, in bytes. Errors: IOError.
  virtual Result<uint64_t> Size() = 0;
};

/// An exclusive advisory lock on a file (flock), shared with other processes: what keeps two
/// runs out of one checkpoint directory. Released when destroyed. Not thread-safe.
class FileLock {
 public:
  virtual ~FileLock() = default;

  /// Take the lock without waiting. Errors: Unavailable while another FileLock (of this or
  /// another process) holds it; IOError.
  virtual Status TryLock() = 0;
};

enum class FileType : uint8_t { kRegular, kDirectory, kOther };

/// What Env::Stat reports. Value type.
struct FileInfo {
  FileType type = FileType::kOther;
  uint64_t size = 0;  // bytes, for a regular file
};

/// How Env::OpenWritable opens a file.
enum class WriteMode : uint8_t {
  kCreateNew,  // create it; fails if the path exists
  kTruncate,   // create it, or empty the file that is there
  kExisting,   // the file that is there (NotFound if none), written from its end
};

/// The environment a run uses: its clock and its file operations. Env::Default() is the real
/// clock and the local file system; tests pass an Env whose clock is a ManualClock
/// (EnvWithClock, src/testing/manual_clock.h) or wrap the default one to inject faults
/// (EnvWrapper, src/testing/fault_env.h).
///
/// Like LevelDB's Env it has more virtuals than Pulse's other extension points, because it is
/// the one seam for all of them; EnvWrapper lets a test override only what it changes.
///
/// Files: paths are used as given (relative to the working directory, or absolute). A new file
/// gets mode 0644 and a new directory 0755 before the umask, so that nothing Pulse creates is
/// group- or world-writable whatever the umask. Sync policy, the only one in Pulse: a file's
/// data or a directory's entries are made durable with fsync, and an fsync error is an error,
/// except EINVAL on a directory (file systems that cannot sync directories; their renames are
/// as durable as they get).
///
/// Atomic writes (an output appears complete under its final name, or not at all; after a
/// crash the old file or nothing is there): write under a temporary name made unique with
/// UniqueId(), Sync, Close, then RenameDurably (rename, sync the directory). OutputFile
/// (pulse/core/output_file.h) does this for streamed outputs; the checkpoint store and the
/// Parquet sink use the same steps.
///
/// Thread-safe: any method may be called from any thread. An Env outlives every run,
/// connector and file that uses it.
class Env {
 public:
  virtual ~Env() = default;

  /// The process-wide default: the real clock and the local file system. Lives forever.
  static Env& Default();

  /// Processing time.
  virtual Clock& clock() = 0;

  /// Open `path` for writing as `mode` says. Errors: as above (kCreateNew: IOError if the path
  /// exists; kExisting: NotFound if it does not).
  virtual Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                             WriteMode mode) = 0;

  /// Open the file at `path` for reading. Errors: NotFound, IOError.
  virtual Result<std::unique_ptr<ReadableFile>> OpenReadable(const std::string& path) = 0;

  /// Open (creating it if needed) the file `path` that a FileLock locks; it is not locked yet.
  /// Errors: NotFound (no such directory), IOError.
  virtual Result<std::unique_ptr<FileLock>> OpenLock(const std::string& path) = 0;

  /// What is at `path` (symbolic links followed). Errors: NotFound, IOError.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;

  /// The names in directory `dir` (without "." and ".."), in no particular order.
  /// Errors: NotFound, IOError.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;

  /// Create the directory `dir` (not its parents). Errors: IOError if something is at `dir`
  /// already; NotFound if its parent does not exist.
  virtual Status CreateDir(const std::string& dir) = 0;

  /// Rename the file or directory `from` to `to`, replacing a file there. Not durable until
  /// the directory of `to` is synced (RenameDurably does both). Errors: NotFound, IOError.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;

  /// Remove the file or the whole directory tree at `path`; nothing there is fine.
  /// Errors: IOError (part of a tree may be gone).
  virtual Status Remove(const std::string& path) = 0;

  /// Make the file or directory at `path` durable (fsync), by the policy above.
  /// Errors: NotFound, IOError.
  virtual Status SyncPath(const std::string& path) = 0;

  /// A random number for unique names (temporary files, run tags): different in every call
  /// and every process with overwhelming probability.
  virtual uint64_t UniqueId() = 0;
};

/// An Env that forwards every call to `target`; a subclass overrides what it changes (a
/// clock, a write that fails). `target` must outlive it. Thread-safe if the overrides are.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env& target) : target_(target) {}

  Env& target() const { return target_; }

  Clock& clock() override { return target_.clock(); }
  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     WriteMode mode) override {
    return target_.OpenWritable(path, mode);
  }
  Result<std::unique_ptr<ReadableFile>> OpenReadable(const std::string& path) override {
    return target_.OpenReadable(path);
  }
  Result<std::unique_ptr<FileLock>> OpenLock(const std::string& path) override {
    return target_.OpenLock(path);
  }
  Result<FileInfo> Stat(const std::string& path) override { return target_.Stat(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return target_.ListDir(dir);
  }
  Status CreateDir(const std::string& dir) override { return target_.CreateDir(dir); }
  Status Rename(const std::string& from, const std::string& to) override {
    return target_.Rename(from, to);
  }
  Status Remove(const std::string& path) override { return target_.Remove(path); }
  Status SyncPath(const std::string& path) override { return target_.SyncPath(path); }
  uint64_t UniqueId() override { return target_.UniqueId(); }

 private:
  Env& target_;
};

/// An Env with the given clock (e.g. a ManualClock) and the file operations of `files`
/// (default: the local file system). Both must outlive it. Thread-safe.
class EnvWithClock : public EnvWrapper {
 public:
  explicit EnvWithClock(Clock& clock, Env& files = Env::Default())
      : EnvWrapper(files), clock_(clock) {}
  Clock& clock() override { return clock_; }

 private:
  Clock& clock_;
};

// --- Helpers on top of an Env. Errors as the file operations (the system's text) unless said.

/// Create `dir` and its missing parents. A directory that exists (or that another thread
/// creates meanwhile) is fine. Errors: IOError "Not a directory" when something else is on
/// the path; as the file operations.
Status CreateDirs(Env& env, const std::string& dir);

/// Read `file` from its read position to its end.
Result<std::string> ReadToEnd(ReadableFile& file);

/// The whole contents of the file at `path`. Errors: NotFound, IOError.
Result<std::string> ReadFileToString(Env& env, const std::string& path);

/// For messages about a path the user wrote: " (absolute path: /dir/of/run/x.jsonl)" when
/// `path` is relative (resolved against the working directory), "" when it is absolute, empty
/// or "-" (standard input or output).
std::string AbsolutePathNote(std::string_view path);

/// Write `data` as the whole contents of `path` (created or emptied as `mode` says) and close
/// it; fsync it first when `fsync` is kYes. Not atomic (see OutputFile for that). Errors: as
/// the file operations, from any step.
enum class Fsync : uint8_t { kNo, kYes };
Status WriteStringToFile(Env& env, const std::string& path, std::string_view data,
                         WriteMode mode, Fsync fsync);

/// One entry of ListTree.
struct TreeEntry {
  std::string path;  // relative to the listed directory, '/'-separated
  FileType type = FileType::kOther;
};

/// Every file and directory below `dir`, recursively, each directory before its contents.
/// Symbolic links are followed (Stat); a tree with a link cycle is not supported.
Result<std::vector<TreeEntry>> ListTree(Env& env, const std::string& dir);

/// The last steps of the one atomic-write path, for a file or directory `from` whose contents
/// the caller has synced: rename it to `to`, then sync the directory holding `to` so that the
/// rename survives a crash. Errors (worded here): a failed rename is "<rename_error>: <system
/// text>" (e.g. rename_error = "cannot rename into 'out.jsonl'"), with the rename's code, and
/// `from` is left in place; a failed directory sync is IOError "cannot fsync '<dir>': <system
/// text>", after the rename.
Status RenameDurably(Env& env, const std::string& from, const std::string& to,
                     std::string_view rename_error);

}  // namespace pulse
