// SPDX-License-Identifier: MIT
// Keyed state: KvState (one operator's key/value namespace, organised in key groups) and the
// StateBackend that holds it (in memory or in RocksDB) and snapshots it to files.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pulse/core/env.h"
#include "pulse/core/key_group.h"
#include "pulse/core/status.h"

namespace pulse::state {

/// A key group number, < kMaxKeyGroups (see pulse/core/key_group.h).
using KeyGroup = uint32_t;

/// The key group of a record key (its compact JSON text): KeyGroupOf(KeyHash(key)). State
/// derived from a record (e.g. a window of that key) lives in the record key's group.
inline KeyGroup KeyGroupForKey(std::string_view key) { return KeyGroupOf(KeyHash(key)); }

/// One entry of a namespace, as IterPrefix returns it.
struct StateEntry {
  KeyGroup group = 0;
  std::string key;
  std::string value;

  friend bool operator==(const StateEntry&, const StateEntry&) = default;
};

/// Whether a scan goes on.
enum class ScanNext : uint8_t { kContinue, kStop };

/// Called for each entry of a scan. The views are valid only during the call; the visitor must
/// not modify the state being scanned.
using ScanVisitor =
    std::function<ScanNext(KeyGroup group, std::string_view key, std::string_view value)>;

/// What StateBackend::Snapshot wrote.
struct StateSnapshot {
  std::string id;          // unique: "<backend>-<random instance id>-<sequence number>"
  std::string dir;         // the directory given to Snapshot
  std::string backend;     // "memory" or "rocksdb": the format of the files
  KeyGroupRange key_groups;
  std::vector<std::string> namespaces;  // in creation order
  std::vector<std::string> files;       // relative to dir, sorted
};

class StateBackend;

/// The key/value state of one namespace (one operator) of a StateBackend: the original's
/// get, put, delete and iter_prefix, per key group. Keys and values are arbitrary bytes.
/// Snapshot and restore are StateBackend operations, so that every namespace of a backend is
/// captured at the same point.
/// A cheap handle (copyable); it borrows its backend, which must outlive it, and stays valid
/// across StateBackend::Restore. Thread-compatible, like its backend.
class KvState {
 public:
  /// The namespace's name.
  const std::string& name() const { return name_; }

  /// The value of `key` in `group`, or nullopt. Errors: InvalidArgument if the backend does
  /// not own `group`; IOError (RocksDB).
  Result<std::optional<std::string>> Get(KeyGroup group, std::string_view key) const;

  /// Set `key` in `group` to `value`. Errors: as Get.
  Status Put(KeyGroup group, std::string_view key, std::string_view value);

  /// Remove `key` from `group` (no error if absent). Errors: as Get.
  Status Delete(KeyGroup group, std::string_view key);

  /// Every entry of `group` whose key starts with `prefix` (all of them for ""), in bytewise
  /// ascending key order. Errors: as Get.
  Result<std::vector<StateEntry>> IterPrefix(KeyGroup group, std::string_view prefix) const;

  /// Visit the entries whose key starts with `prefix` in the groups of `groups` that the
  /// backend owns, in ascending (group, key) order (keys compared bytewise), until the visitor
  /// returns kStop. Errors: IOError (RocksDB).
  Status Scan(KeyGroupRange groups, std::string_view prefix, const ScanVisitor& visit) const;

 private:
  friend class StateBackend;
  KvState(StateBackend* backend, uint32_t id, std::string name)
      : backend_(backend), id_(id), name_(std::move(name)) {}

  StateBackend* backend_;
  uint32_t id_;
  std::string name_;
};

/// Where keyed state lives: the state of the key groups `key_groups()` (a worker's range),
/// in namespaces (one per operator; RocksDB column families), written to and read from files
/// by Snapshot and Restore.
///
/// Implementations provide the protected Do* methods; the public methods check arguments
/// first (key group ownership, snapshot coverage), so implementations may assume valid ones.
/// Snapshot and Restore read and write files through the backend's Env (env()).
/// Lifecycle: Open (a backend's factory) → OpenNamespace… → reads, writes, Snapshot, Restore
/// → destroy. Thread-compatible: one thread at a time (a worker owns its backend).
class StateBackend {
 public:
  virtual ~StateBackend() = default;
  StateBackend(const StateBackend&) = delete;
  StateBackend& operator=(const StateBackend&) = delete;

  /// "memory" or "rocksdb".
  const std::string& kind() const { return kind_; }
  /// The key groups this backend holds; other groups are rejected.
  KeyGroupRange key_groups() const { return key_groups_; }

  /// Return the namespace `name`, creating it if needed (the same name gives the same
  /// namespace). Errors: InvalidArgument for an empty name; IOError (RocksDB).
  Result<KvState> OpenNamespace(std::string_view name);

  /// Write every namespace to files in `dir`, which must not exist yet (its parent is created
  /// if needed), plus a SNAPSHOT.json that describes them. Files are written but not fsynced
  /// (the checkpoint store syncs and checksums them). The backend is unchanged.
  /// Errors: InvalidArgument if `dir` exists; IOError.
  Result<StateSnapshot> Snapshot(const std::string& dir);

  /// Replace the whole state by the entries of `snapshot_dirs` (directories written by
  /// Snapshot, of this or another backend, with any key group split) that lie in
  /// key_groups(). Namespaces found in the snapshots are created; the others become empty.
  /// KvState handles stay valid. Errors: NotFound if a directory holds no snapshot;
  /// InvalidArgument if the snapshots' ranges overlap within key_groups() or do not cover it,
  /// or if this backend cannot read a snapshot's format (memory cannot read rocksdb);
  /// Corruption if a snapshot file is damaged; IOError. After an error the state is
  /// unspecified (restore again or start over).
  Status Restore(std::span<const std::string> snapshot_dirs);

  /// The number of entries over all namespaces (an estimate for RocksDB), for metrics.
  virtual uint64_t ApproximateEntries() const = 0;

 protected:
  /// `env` (null: Env::Default()) must outlive the backend.
  StateBackend(std::string kind, KeyGroupRange key_groups, Env* env = nullptr)
      : kind_(std::move(kind)),
        key_groups_(key_groups),
        env_(env != nullptr ? *env : Env::Default()) {}

  /// Where snapshots are written and read.
  Env& env() const { return env_; }

  /// The parsed SNAPSHOT.json of a snapshot being restored.
  struct SnapshotSource {
    std::string dir;
    std::string backend;
    KeyGroupRange key_groups;
    std::vector<std::string> namespaces;
    /// namespaces[i]'s data file for the memory format ("" otherwise), relative to dir.
    std::vector<std::string> namespace_files;
  };

  /// The namespace id for `name` (0, 1, ... in creation order), creating it if needed.
  virtual Result<uint32_t> DoOpenNamespace(std::string_view name) = 0;
  virtual Result<std::optional<std::string>> DoGet(uint32_t ns, KeyGroup group,
                                                   std::string_view key) = 0;
  virtual Status DoPut(uint32_t ns, KeyGroup group, std::string_view key,
                       std::string_view value) = 0;
  virtual Status DoDelete(uint32_t ns, KeyGroup group, std::string_view key) = 0;
  /// `groups` is within key_groups() and not empty.
  virtual Status DoScan(uint32_t ns, KeyGroupRange groups, std::string_view prefix,
                        const ScanVisitor& visit) = 0;
  /// Create `dir` and write the namespaces' data into it. For the memory format, return the
  /// data file of each namespace (in namespace order, relative to dir); otherwise return {}.
  virtual Result<std::vector<std::string>> DoSnapshot(const std::string& dir) = 0;
  /// Clear every namespace, then load the entries of `sources` within key_groups(). Sources
  /// are checked: they cover key_groups() without overlap.
  virtual Status DoRestore(std::span<const SnapshotSource> sources) = 0;

  /// The namespaces' names in id order.
  const std::vector<std::string>& namespace_names() const { return namespace_names_; }
  /// The id of namespace `name`, if it exists. (Restore opens every namespace of its sources
  /// before DoRestore.)
  std::optional<uint32_t> FindNamespace(std::string_view name) const;

 private:
  friend class KvState;

  std::string kind_;
  KeyGroupRange key_groups_;
  Env& env_;
  std::vector<std::string> namespace_names_;
  uint64_t instance_id_ = 0;  // random, set on first snapshot
  uint64_t snapshots_taken_ = 0;
};

}  // namespace pulse::state
