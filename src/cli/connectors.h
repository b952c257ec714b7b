// SPDX-License-Identifier: MIT
// What is built into this `pulse`: the source and sink kinds of the connector registry, and
// the optional RocksDB state backend. connectors.cc is the one file with `#if PULSE_HAVE_*`.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "pulse/core/connector_registry.h"
#include "pulse/ops/window.h"

namespace pulse::cli {

/// The registry of every source and sink kind ("file", "kafka"; "file", "parquet", "kafka").
/// A kind whose connector is not built into this pulse is still registered (its configs load),
/// with a factory whose error names the build option that adds it. Built on first use; then
/// read-only, so thread-safe.
const ConnectorRegistry& Connectors();

/// The window state backend of `state.backend = "rocksdb"`: worker w opens RocksDB in
/// `<base_dir>/worker-<w>` with a quarter of `memory_bytes` each for its block cache and its
/// memtables. nullopt when this pulse was built without RocksDB.
std::optional<ops::StateBackendFactory> RocksDbStateBackend(std::string base_dir,
                                                            size_t memory_bytes);

}  // namespace pulse::cli
