// SPDX-License-Identifier: MIT
// OutputFile: a buffered output file that appears under its final name only when committed
// (Pulse's atomic-write path for streamed outputs); AppendUtf8Lossy for text that must be
// written as valid UTF-8.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pulse/core/env.h"
#include "pulse/core/status.h"
#include "pulse/core/value.h"

namespace pulse {

/// When the bytes appended to an OutputFile become visible under its final name.
enum class OutputVisibility : uint8_t {
  /// Written to a temporary file beside the final path and renamed into place by Commit(), so
  /// readers never see a partial file (runs whose input ends).
  kAtCommit,
  /// Appended to the final file itself, each Flush() visible at once (runs that last until
  /// they are stopped: docs/running-continuously.md). Create empties a file already there: a
  /// fresh run replaces the output.
  kAsWritten,
  /// kAsWritten for a run with checkpoints: Create leaves the file there untouched, and
  /// Recover continues it (cut back to the length a checkpoint covers) or, on a fresh start,
  /// empties it.
  kAsWrittenRecoverable,
};

/// Buffered writer for one output. With OutputVisibility::kAtCommit (the default) a file is
/// written to `<dir>/.<name>.inprogress-<pid>-<id>` (id: 16 hex digits of Env::UniqueId()) and
/// renamed to its final path by Commit(), so readers never see a partial file; Abort() (or
/// destroying an uncommitted OutputFile) removes the temporary file. With kAsWritten the final
/// file is written in place, and Commit() and Abort() keep what was flushed. Every file
/// operation goes through the Env given to Create. The stdout variant writes to file descriptor
/// 1, and Commit() only flushes.
/// Lifecycle: Create/Stdout → Append… → Commit or Abort. Not thread-safe.
class OutputFile {
 public:
  /// Bytes collected before a write.
  static constexpr size_t kBufferBytes = 1u << 20;

  /// Create the parent directories of `final_path` if needed and open the file that
  /// `visibility` writes (a temporary file beside it, or the final file itself; mode 0644 before
  /// umask). `env` must outlive the OutputFile. Errors: InvalidArgument for an empty path or one
  /// naming a directory; IOError naming the path and the system error.
  static Result<std::unique_ptr<OutputFile>> Create(
      std::string final_path, Env& env = Env::Default(),
      OutputVisibility visibility = OutputVisibility::kAtCommit);

  /// An output to standard output (never closed by this class).
  static std::unique_ptr<OutputFile> Stdout();

  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  /// Append `data` (buffered). Errors: IOError when a write fails; the file is then unusable.
  Status Append(std::string_view data);

  /// Write out buffered bytes now (e.g. so that stdout output appears promptly).
  /// Errors: IOError.
  Status Flush();

  /// Flush, fsync, close, rename into place and fsync the directory (kAtCommit; see Env,
  /// "Atomic writes"); flush, fsync and close (kAsWritten); flush only (stdout). Errors:
  /// IOError. After an error before the rename the temporary file is removed. Requires: not
  /// committed or aborted yet.
  Status Commit();

  /// Close and remove the temporary file (kAtCommit); close the final file, cut back to what
  /// whole Flush() calls wrote, dropping what is still buffered (kAsWritten: its results were
  /// visible already). Best effort; a no-op after Commit() or Abort().
  void Abort();

  // --- Checkpoints: the in-progress output (the temporary file, or with kAsWritten the final
  // file itself) is covered by length, so that a restarted run can cut it back and continue it.

  /// Flush and fsync; return {"temp": the temporary file's name, "length": bytes so far}
  /// (kAtCommit) or {"file": the final file's name, "length": bytes so far} (kAsWritten).
  /// Errors: IOError; InvalidArgument for stdout (its output cannot be taken back).
  Result<Value> PrepareCommit();

  /// Continue the output described by `info` (a PrepareCommit result of an earlier run): the
  /// file it names is cut back to its length and appended to, in place of this fresh one. If a
  /// temporary file is gone because that run already committed it (the final file exists),
  /// this output is complete: Commit does nothing and Append fails. `info` null: a fresh start
  /// (kAsWrittenRecoverable: the final file is emptied). Either way other temporary files of
  /// the same output (left by crashed runs) are removed. An output continues with the
  /// visibility of the run that began it (a temporary file taken over by kAsWritten is renamed
  /// into place first; a final file taken over by kAtCommit stays where it is), so a pipeline
  /// may resume a checkpoint across a change between a bounded and an unbounded source.
  /// Errors: Corruption if the file is missing or shorter than the length; IOError.
  /// Requires: nothing appended yet.
  Status Recover(const Value* info);

  /// Flush, fsync and close, leaving the in-progress file for a later run's Recover.
  Status Suspend();

  /// How this output becomes visible (after Recover: the visibility it continues with).
  OutputVisibility visibility() const { return visibility_; }

  /// Bytes accepted by Append() so far (buffered or written).
  uint64_t bytes_written() const { return bytes_written_; }

  /// The final path, or "-" for stdout.
  const std::string& path() const { return final_path_; }

 private:
  OutputFile(Env* env, std::string final_path, std::string temp_path,
             std::unique_ptr<WritableFile> file, OutputVisibility visibility);
  bool in_place() const { return visibility_ != OutputVisibility::kAtCommit; }
  Status WriteAll(std::string_view data);
  Status Error(std::string_view what, const Status& cause) const;
  // Close the open file (if any) and remove it from disk (best effort).
  void Discard();
  // Recover helpers: continue `name` (in the output's directory) cut back to `length`.
  Status ContinueTemp(const std::string& name, uint64_t length);
  Status ContinueFinal(uint64_t length);
  Status MarkCommitted();

  Env* env_;  // null for stdout
  std::string final_path_;
  std::string temp_path_;  // the file being written: the temporary one, or the final path
  OutputVisibility visibility_;
  std::unique_ptr<WritableFile> file_;  // null once closed
  bool done_ = false;  // committed or aborted
  bool already_committed_ = false;  // Recover found the output committed by an earlier run
  std::string buffer_;
  uint64_t bytes_written_ = 0;
  uint64_t bytes_flushed_ = 0;  // what whole WriteAll calls put into the file
  bool torn_ = false;  // a write failed: the file may end with part of its data
};

/// Append `text` to `out`, replacing each byte that is not part of a valid UTF-8 sequence by
/// U+FFFD, so that what Pulse writes is always valid UTF-8.
void AppendUtf8Lossy(std::string_view text, std::string* out);

}  // namespace pulse
