// SPDX-License-Identifier: MIT
// CheckpointStore: checkpoints as directories `<dir>/chk-<id>/` written atomically (temporary
// name, checksums, fsync, rename), the last N kept; loading picks the newest valid one. The
// executor takes and restores checkpoints through it (RunOptions::checkpoint); state backends
// write their snapshots into a PendingCheckpoint and restore from a LoadedCheckpoint; tools and
// tests may open a checkpoint directory with it (docs/checkpoints.md).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pulse/core/env.h"
#include "pulse/core/key_group.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/core/value.h"

namespace pulse {

/// What a checkpoint must match to be resumed: a hash the caller computes from everything that
/// shapes the state (window, aggregation, key, ...), plus optionally the named parts it was
/// computed from, so that a mismatch can say what changed. Value type.
struct PipelineFingerprint {
  /// Named aspects in a fixed order, e.g. {"window", "tumbling 1m"}. May be empty.
  std::vector<std::pair<std::string, std::string>> parts;
  /// What is compared: any string the caller chooses, usually Of(parts).hash.
  std::string hash;

  /// A fingerprint of `parts` whose hash (16 hex digits) is computed from them.
  static PipelineFingerprint Of(std::vector<std::pair<std::string, std::string>> parts);
};

/// One file of a checkpoint, as its manifest lists it.
struct CheckpointFile {
  std::string path;  // relative to the checkpoint directory, '/'-separated
  uint64_t bytes = 0;
  uint32_t crc32c = 0;
};

/// The state of one operator's key groups [begin, end), written (by a state backend's
/// Snapshot) into a subdirectory of the checkpoint.
struct CheckpointState {
  std::string operator_name;  // "window"
  KeyGroupRange key_groups;
  std::string dir;  // relative to the checkpoint directory, e.g. "state/window/kg-0-64"

  /// The conventional `dir` for an operator and range: "state/<operator>/kg-<begin>-<end>"
  /// (characters other than [A-Za-z0-9._-] in the name become '_').
  static std::string DirFor(std::string_view operator_name, KeyGroupRange key_groups);
};

/// What a checkpoint records: the contents of its MANIFEST.json.
struct CheckpointManifest {
  uint64_t id = 0;
  PipelineFingerprint fingerprint;
  EventTime watermark = kMinWatermark;  // the pipeline watermark the checkpoint was taken at
  int64_t created_unix_ms = 0;          // informative; from the caller's clock
  Object sources;  // source name → opaque position (file, byte offset, line; Kafka offsets)
  Object sinks;    // sink name → opaque commit information
  std::vector<CheckpointState> state;
  /// Every file under the checkpoint directory except the manifest. Filled in by Commit().
  std::vector<CheckpointFile> files;

  /// The position recorded for source `name` ("source" for a run's source), or null.
  const Value* FindSource(std::string_view name) const;
  /// The commit information recorded for sink `name` ("sink", "dead_letters",
  /// "late_output"), or null when absent or null (an output the run did not have).
  const Value* FindSink(std::string_view name) const;
};

struct CheckpointStoreOptions {
  /// The checkpoint directory; created if missing.
  std::string dir;
  /// How many committed checkpoints to keep (the newest ones). At least 1.
  uint32_t keep = 3;
  /// Every file operation goes through it; null: Env::Default(). Must outlive the store.
  Env* env = nullptr;

  Status Validate() const;
};

class CheckpointStore;

/// A checkpoint being written. Callers write its files (state snapshots) anywhere below dir(),
/// then Commit() once. Lifecycle: CheckpointStore::Begin → writes → Commit or Abort (the
/// destructor aborts an uncommitted checkpoint). dir() and id() may be read from any thread;
/// Commit and Abort from one thread, after every writer is done. Borrows the store, which must
/// outlive it.
class PendingCheckpoint {
 public:
  ~PendingCheckpoint();
  PendingCheckpoint(const PendingCheckpoint&) = delete;
  PendingCheckpoint& operator=(const PendingCheckpoint&) = delete;

  uint64_t id() const { return id_; }
  /// The temporary directory (absolute) that becomes `chk-<id>` on commit.
  const std::string& dir() const { return temp_dir_; }

  /// Make the checkpoint durable and visible: checksum and fsync every file below dir(), write
  /// MANIFEST.json (manifest.id is set to id(), manifest.files to what was found), fsync the
  /// directories, rename dir() to `chk-<id>`, fsync the checkpoint directory, then remove
  /// checkpoints beyond the newest `keep`. Returns the manifest as written.
  /// Errors: IOError (the temporary directory is then removed); InvalidArgument if a state
  /// entry's dir is not a relative path below the checkpoint. Requires: not committed or
  /// aborted yet.
  Result<CheckpointManifest> Commit(CheckpointManifest manifest);

  /// Remove the temporary directory. Best effort; a no-op after Commit or Abort.
  void Abort();

 private:
  friend class CheckpointStore;
  PendingCheckpoint(CheckpointStore* store, uint64_t id, std::string temp_dir);

  CheckpointStore* store_;
  uint64_t id_;
  std::string temp_dir_;
  bool done_ = false;
};

/// A committed checkpoint that passed verification.
struct LoadedCheckpoint {
  CheckpointManifest manifest;
  std::string dir;  // absolute path of chk-<id>

  /// The absolute directories of `operator_name`'s state entries whose key groups overlap
  /// `key_groups`, in manifest order: what a worker owning `key_groups` restores from.
  std::vector<std::string> StateDirsFor(std::string_view operator_name,
                                        KeyGroupRange key_groups) const;
};

/// The outcome of CheckpointStore::LoadLatest.
struct CheckpointLoad {
  std::optional<LoadedCheckpoint> checkpoint;  // none: there is no checkpoint, start fresh
  std::vector<std::string> warnings;           // e.g. a corrupt newer checkpoint was skipped
};

/// The checkpoints of one pipeline in one directory:
///   <dir>/.lock                     held (flock) while the store is open
///   <dir>/chk-<id>/MANIFEST.json    a committed checkpoint and its files
///   <dir>/.chk-<id>.tmp-<random>/   a checkpoint being written, or left by a crash
/// Open removes leftover temporary directories (the lock guarantees that nobody writes them).
/// Not thread-safe: one thread at a time (PendingCheckpoint::dir() excepted).
class CheckpointStore {
 public:
  /// Create the directory if needed and lock it. Errors: InvalidArgument (options),
  /// Unavailable (another process or store has the directory open), IOError.
  static Result<std::unique_ptr<CheckpointStore>> Open(CheckpointStoreOptions options);

  ~CheckpointStore();
  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  /// Load the newest committed checkpoint that verifies: its manifest parses and its checksum
  /// matches, and every listed file exists with the listed size and CRC32C. Each newer one that
  /// fails adds a warning naming it and the reason. Then its fingerprint must equal `expected`.
  /// Errors: Corruption if checkpoints exist but none verifies; InvalidArgument if the newest
  /// valid one has a different fingerprint (the message names the parts that changed);
  /// IOError.
  Result<CheckpointLoad> LoadLatest(const PipelineFingerprint& expected);

  /// Read and verify checkpoint `id` only (no fingerprint check).
  /// Errors: NotFound, Corruption (with the reason), IOError.
  Result<LoadedCheckpoint> Load(uint64_t id) const;

  /// Start writing checkpoint `id` in a fresh temporary directory.
  /// Errors: InvalidArgument unless id > every id this store has seen; IOError.
  Result<std::unique_ptr<PendingCheckpoint>> Begin(uint64_t id);

  /// One more than the largest checkpoint id seen on disk or begun (1 for an empty store).
  uint64_t NextId() const { return max_id_ + 1; }

  /// Ids of the committed checkpoint directories, valid or not, ascending.
  Result<std::vector<uint64_t>> List() const;

  const std::string& dir() const { return dir_; }

 private:
  friend class PendingCheckpoint;
  CheckpointStore(CheckpointStoreOptions options, Env& env, std::string dir,
                  std::unique_ptr<FileLock> lock, uint64_t max_id);
  // Remove committed checkpoints beyond the newest `keep` that are not known to be corrupt,
  // and every known-corrupt one.
  Status Prune();

  CheckpointStoreOptions options_;
  Env& env_;
  std::string dir_;  // absolute
  std::unique_ptr<FileLock> lock_;  // held while the store is open
  uint64_t max_id_;
  std::vector<uint64_t> known_corrupt_;  // found by LoadLatest
};

/// The manifest text that Commit writes (for tests and tools).
std::string SerializeManifest(const CheckpointManifest& manifest);

/// Parse and check a manifest's text (as CheckpointStore::Load does, without the files).
/// Errors: Corruption with the reason.
Result<CheckpointManifest> ParseManifest(std::string_view text);

}  // namespace pulse
