// SPDX-License-Identifier: MIT
// RocksDB-specific behaviour: the working directory, snapshots as RocksDB checkpoints that
// restoring leaves untouched, and a large state (1M keys) in bounded memory. The operations
// themselves are tested on every backend in src/state/state_backend_test.cc.
#include "pulse/state/rocksdb_backend.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "pulse/state/memory_backend.h"
#include "testing/test_util.h"

namespace pulse::state {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

Result<std::unique_ptr<StateBackend>> OpenAt(const std::string& path,
                                             KeyGroupRange range = KeyGroupRange::All()) {
  RocksDbBackendOptions options;
  options.path = path;
  options.key_groups = range;
  return OpenRocksDbBackend(std::move(options));
}

// Sanitizers keep freed memory in quarantine and slow RocksDB down: smaller state, no RSS bound.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// Resident set size of this process in KiB (0 if unknown).
uint64_t RssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6));
  }
  return 0;
}

// name → contents of every file below `dir`.
std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      files[fs::relative(e.path(), dir).string()] = ReadFile(e.path().string());
    }
  }
  return files;
}

TEST(RocksDbBackend, WorkingDirectoryIsScratchButForeignDataIsRefused) {
  TempDir tmp;
  const std::string path = tmp.file("state");
  {
    ASSERT_OK_AND_ASSIGN(auto backend, OpenAt(path));
    ASSERT_OK_AND_ASSIGN(KvState s, backend->OpenNamespace("w"));
    ASSERT_OK(s.Put(3, "k", "v"));
  }
  EXPECT_TRUE(fs::exists(path + "/PULSE_STATE"));
  {
    // Reopening starts empty: state survives restarts only through snapshots.
    ASSERT_OK_AND_ASSIGN(auto backend, OpenAt(path));
    ASSERT_OK_AND_ASSIGN(KvState s, backend->OpenNamespace("w"));
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> v, s.Get(3, "k"));
    EXPECT_FALSE(v.has_value());
  }
  const std::string foreign = tmp.file("home");
  fs::create_directories(foreign);
  WriteFile(foreign + "/precious.txt", "do not delete");
  EXPECT_EQ(OpenAt(foreign).status().ToString(),
            "Invalid argument: state path '" + foreign +
                "' is not empty and was not created by Pulse (no PULSE_STATE file); refusing "
                "to delete its contents");
  EXPECT_EQ(ReadFile(foreign + "/precious.txt"), "do not delete");
  EXPECT_EQ(OpenAt(foreign + "/precious.txt").status().ToString(),
            "Invalid argument: state path '" + foreign +
                "/precious.txt' exists and is not a directory");
}

TEST(RocksDbBackend, OptionsAreValidated) {
  EXPECT_EQ(OpenAt("").status().ToString(), "Invalid argument: rocksdb state path is empty");
  TempDir tmp;
  EXPECT_EQ(OpenAt(tmp.file("x"), KeyGroupRange{5, 5}).status().ToString(),
            "Invalid argument: state key group range [5, 5) must be non-empty and within "
            "[0, 128)");
  RocksDbBackendOptions options;
  options.path = tmp.file("y");
  options.block_cache_bytes = 1000;
  EXPECT_EQ(OpenRocksDbBackend(options).status().ToString(),
            "Invalid argument: rocksdb write buffer and block cache must be at least 1 MiB");
}

TEST(RocksDbBackend, SnapshotIsACheckpointThatRestoreLeavesUntouched) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto backend, OpenAt(tmp.file("live")));
  ASSERT_OK_AND_ASSIGN(KvState a, backend->OpenNamespace("a"));
  ASSERT_OK_AND_ASSIGN(KvState b, backend->OpenNamespace("b"));
  for (int i = 0; i < 1000; ++i) {
    ASSERT_OK(a.Put(static_cast<KeyGroup>(i % 128), "k" + std::to_string(i), "a"));
    ASSERT_OK(b.Put(static_cast<KeyGroup>(i % 128), "k" + std::to_string(i), "b"));
  }
  ASSERT_OK_AND_ASSIGN(StateSnapshot snap, backend->Snapshot(tmp.file("snap")));
  EXPECT_EQ(snap.backend, "rocksdb");
  EXPECT_EQ(snap.namespaces, (std::vector<std::string>{"a", "b"}));
  int sst = 0;
  bool current = false, manifest = false, options = false, meta = false;
  for (const std::string& f : snap.files) {
    sst += f.ends_with(".sst");
    current |= f == "CURRENT";
    manifest |= f.starts_with("MANIFEST-");
    options |= f.starts_with("OPTIONS-");
    meta |= f == "SNAPSHOT.json";
  }
  EXPECT_GE(sst, 2);  // each column family was flushed into at least one table file
  EXPECT_TRUE(current && manifest && options && meta);

  const std::map<std::string, std::string> before = Files(tmp.file("snap"));
  ASSERT_OK(a.Put(0, "later", "x"));
  ASSERT_OK_AND_ASSIGN(auto other, OpenAt(tmp.file("other"), KeyGroupRange{0, 64}));
  const std::vector<std::string> dirs{tmp.file("snap")};
  ASSERT_OK(other->Restore(dirs));
  ASSERT_OK(backend->Restore(dirs));
  EXPECT_EQ(Files(tmp.file("snap")), before);  // no LOG, LOCK or other new files

  ASSERT_OK_AND_ASSIGN(std::optional<std::string> later, a.Get(0, "later"));
  EXPECT_FALSE(later.has_value());
  ASSERT_OK_AND_ASSIGN(KvState other_b, other->OpenNamespace("b"));
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> v, other_b.Get(63, "k63"));
  EXPECT_EQ(v, std::optional<std::string>("b"));
  ASSERT_OK_AND_ASSIGN(std::vector<StateEntry> group1, other_b.IterPrefix(1, ""));
  EXPECT_EQ(group1.size(), 8u);  // k1, k129, ..., k897
}

TEST(RocksDbBackend, MemoryBackendCannotReadItsSnapshots) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto backend, OpenAt(tmp.file("live")));
  ASSERT_OK(backend->OpenNamespace("a").status());
  ASSERT_OK(backend->Snapshot(tmp.file("snap")).status());
  ASSERT_OK_AND_ASSIGN(auto memory, OpenMemoryBackend(MemoryBackendOptions{}));
  const std::vector<std::string> dirs{tmp.file("snap")};
  EXPECT_EQ(memory->Restore(dirs).ToString(),
            "Invalid argument: state snapshot '" + tmp.file("snap") +
                "' was written by the rocksdb backend; the memory backend cannot read it (use "
                "the rocksdb backend)");
}

// 1M keys with 100-byte values (about 120 MB of state): the backend keeps it on disk, so the
// process grows by far less than the state; snapshot and restore (into half the key groups)
// handle it.
TEST(RocksDbBackend, LargeStateStaysOnDisk) {
  constexpr int kKeys = kSanitized ? 200'000 : 1'000'000;
  constexpr size_t kValueBytes = 100;
  TempDir tmp;
  RocksDbBackendOptions options;
  options.path = tmp.file("live");
  options.write_buffer_bytes = 8u << 20;
  options.block_cache_bytes = 8u << 20;
  ASSERT_OK_AND_ASSIGN(auto backend, OpenRocksDbBackend(options));
  ASSERT_OK_AND_ASSIGN(KvState s, backend->OpenNamespace("window"));
  const uint64_t rss_before = RssKiB();
  std::string value(kValueBytes, 'v');
  uint64_t low_half = 0;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = "{\"user\":" + std::to_string(i) + "}";
    const KeyGroup g = KeyGroupForKey(key);
    low_half += g < 64;
    std::snprintf(value.data(), 12, "%011d", i);  // a distinct value per key
    ASSERT_OK(s.Put(g, key, value));
  }
  const uint64_t rss_after = RssKiB();
  ASSERT_OK(backend->Snapshot(tmp.file("snap")).status());
  // Memory grows by the memtables, cache and index, not by the state (> 100 MB).
  if (!kSanitized) {
    EXPECT_LT(rss_after - rss_before, 80u * 1024)
        << "RSS grew from " << rss_before << " KiB to " << rss_after << " KiB";
  }
  backend.reset();

  options.path = tmp.file("restored");
  options.key_groups = KeyGroupRange{0, 64};
  ASSERT_OK_AND_ASSIGN(auto restored, OpenRocksDbBackend(options));
  const std::vector<std::string> dirs{tmp.file("snap")};
  ASSERT_OK(restored->Restore(dirs));
  ASSERT_OK_AND_ASSIGN(KvState r, restored->OpenNamespace("window"));
  uint64_t count = 0;
  ASSERT_OK(r.Scan(KeyGroupRange::All(), "", [&count](KeyGroup, std::string_view,
                                                       std::string_view v) {
    count += v.size() == kValueBytes;
    return ScanNext::kContinue;
  }));
  EXPECT_EQ(count, low_half);
  for (int i : {0, 1, 4242, kKeys - 1}) {
    const std::string key = "{\"user\":" + std::to_string(i) + "}";
    const KeyGroup g = KeyGroupForKey(key);
    if (g >= 64) continue;
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> v, r.Get(g, key));
    ASSERT_TRUE(v.has_value()) << key;
    char expected[12];
    std::snprintf(expected, sizeof expected, "%011d", i);
    EXPECT_EQ(v->substr(0, 11), expected);
  }
}

}  // namespace
}  // namespace pulse::state
