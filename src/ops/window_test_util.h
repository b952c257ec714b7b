// SPDX-License-Identifier: MIT
// Test helpers for the window stores: run the same window test against each place open windows
// can be kept (the heap; a state backend, in memory or RocksDB).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "pulse/config.h"
#include "pulse/ops/window.h"
#include "pulse/state/memory_backend.h"
#if PULSE_HAVE_ROCKSDB
#include "pulse/state/rocksdb_backend.h"
#endif

namespace pulse::ops {

/// gtest prints a window parameter by its description ("tumbling 1s").
inline void PrintTo(const WindowSpec& spec, std::ostream* os) { *os << spec.Describe(); }

namespace testing {

/// Where a test keeps the open windows.
enum class WindowStoreKind { kHeap, kMemoryBackend, kRocksDbBackend };

/// Every store this build has (RocksDB only with PULSE_WITH_ROCKSDB).
inline std::vector<WindowStoreKind> AllWindowStores() {
  std::vector<WindowStoreKind> kinds = {WindowStoreKind::kHeap, WindowStoreKind::kMemoryBackend};
#if PULSE_HAVE_ROCKSDB
  kinds.push_back(WindowStoreKind::kRocksDbBackend);
#endif
  return kinds;
}

/// A test-name part: "Heap", "MemoryBackend" or "RocksDbBackend".
inline std::string StoreName(WindowStoreKind kind) {
  switch (kind) {
    case WindowStoreKind::kHeap: return "Heap";
    case WindowStoreKind::kMemoryBackend: return "MemoryBackend";
    case WindowStoreKind::kRocksDbBackend: return "RocksDbBackend";
  }
  return "Unknown";
}

/// A RocksDB backend per worker, in `dir`/worker-<n>.
inline StateBackendFactory RocksDbIn(const std::string& dir) {
#if PULSE_HAVE_ROCKSDB
  return [dir](const KeyedOperatorContext& ctx) {
    state::RocksDbBackendOptions o;
    o.path = dir + "/worker-" + std::to_string(ctx.worker);
    o.key_groups = ctx.key_groups;
    return state::OpenRocksDbBackend(std::move(o));
  };
#else
  (void)dir;
  return nullptr;
#endif
}

/// `options` with its open windows kept in `kind`; RocksDB under `dir`, which a run must not
/// share with another.
inline WindowOptions InStore(WindowOptions options, WindowStoreKind kind, const std::string& dir) {
  switch (kind) {
    case WindowStoreKind::kHeap:
      options.state_in_backend = false;
      break;
    case WindowStoreKind::kMemoryBackend:
      options.state_backend = [](const KeyedOperatorContext& ctx) {
        return state::OpenMemoryBackend({ctx.key_groups});
      };
      options.state_in_backend = true;
      break;
    case WindowStoreKind::kRocksDbBackend:
      options.state_backend = RocksDbIn(dir);
      options.state_in_backend = true;
      break;
  }
  return options;
}

/// WindowOptions from its three leading members (brace-initializing the struct would leave the
/// others unnamed, which -Wextra reports).
inline WindowOptions Options(WindowSpec window, AggSpec agg, DurationMs allowed_lateness_ms) {
  WindowOptions options;
  options.window = window;
  options.agg = std::move(agg);
  options.allowed_lateness_ms = allowed_lateness_ms;
  return options;
}

/// gtest prints a store parameter by its name.
inline void PrintTo(WindowStoreKind kind, std::ostream* os) { *os << StoreName(kind); }

}  // namespace testing
}  // namespace pulse::ops
