// SPDX-License-Identifier: MIT
// The RocksDB state backend (target pulse::state_rocksdb, built when PULSE_HAVE_ROCKSDB):
// state on local disk, so it may exceed RAM.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "pulse/core/key_group.h"
#include "pulse/core/status.h"
#include "pulse/state/state_backend.h"

namespace pulse::state {

struct RocksDbBackendOptions {
  /// The working directory of the live database. It is scratch space: state survives a restart
  /// only through snapshots (checkpoints), so Open empties it. It must be absent, empty, or a
  /// directory that an earlier RocksDB backend created (it holds a PULSE_STATE marker);
  /// anything else is refused rather than deleted.
  std::string path;
  /// The key groups the backend holds (a worker's range).
  KeyGroupRange key_groups = KeyGroupRange::All();
  /// Memory for each column family's memtable (RocksDB write_buffer_size; two per family).
  size_t write_buffer_bytes = 16u << 20;
  /// The shared LRU block cache (data, index and filter blocks).
  size_t block_cache_bytes = 32u << 20;
  /// Pulse's own files (the working directory and its marker, snapshots of the memory format);
  /// null: Env::Default(). RocksDB writes its database through its own Env. Must outlive the
  /// backend.
  Env* env = nullptr;

  /// path is set, the range is non-empty and within [0, kMaxKeyGroups), sizes ≥ 1 MiB.
  Status Validate() const;
};

/// A backend backed by RocksDB: one column family per namespace, keys prefixed by their key
/// group (2 bytes, big-endian), writes without a write-ahead log (checkpoints give
/// durability). Snapshots are RocksDB checkpoints (hard links to the immutable table files
/// where possible). Restore reads snapshots of either backend.
/// Errors: InvalidArgument (options, a foreign non-empty path), IOError (RocksDB).
Result<std::unique_ptr<StateBackend>> OpenRocksDbBackend(RocksDbBackendOptions options);

}  // namespace pulse::state
