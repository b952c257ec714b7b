// SPDX-License-Identifier: MIT
// Every KvState operation on every backend (parameterised): get/put/delete, bytewise
// iter_prefix order, namespaces, snapshot/restore round trips, key-group rescaling (2 → 4 and
// 4 → 1 workers), snapshots across backends, and a checkpoint through the CheckpointStore.
#include "pulse/state/state_backend.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "pulse/core/checkpoint_store.h"
#include "pulse/config.h"
#include "pulse/state/memory_backend.h"
#include "testing/test_util.h"
#if PULSE_HAVE_ROCKSDB
#include "pulse/state/rocksdb_backend.h"
#endif

namespace pulse::state {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

std::vector<std::string> BackendKinds() {
  std::vector<std::string> kinds{"memory"};
#if PULSE_HAVE_ROCKSDB
  kinds.push_back("rocksdb");
#endif
  return kinds;
}

// Open a backend of `kind` for `range`; RocksDB works in `dir`.
Result<std::unique_ptr<StateBackend>> OpenBackend(const std::string& kind, KeyGroupRange range,
                                                  const std::string& dir) {
#if PULSE_HAVE_ROCKSDB
  if (kind == "rocksdb") {
    RocksDbBackendOptions options;
    options.path = dir;
    options.key_groups = range;
    return OpenRocksDbBackend(std::move(options));
  }
#endif
  (void)dir;
  return OpenMemoryBackend(MemoryBackendOptions{range});
}

// Every entry of `state`, in scan order.
std::vector<StateEntry> Dump(const KvState& state) {
  std::vector<StateEntry> out;
  Status st = state.Scan(KeyGroupRange::All(), "",
                         [&out](KeyGroup g, std::string_view k, std::string_view v) {
                           out.push_back({g, std::string(k), std::string(v)});
                           return ScanNext::kContinue;
                         });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::vector<std::string> Keys(const std::vector<StateEntry>& entries) {
  std::vector<std::string> keys;
  for (const StateEntry& e : entries) keys.push_back(e.key);
  return keys;
}

std::string KeyOf(int i) { return "{\"user\":" + std::to_string(i) + "}"; }

class StateBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  Result<std::unique_ptr<StateBackend>> Open(KeyGroupRange range = KeyGroupRange::All()) {
    return OpenBackend(GetParam(), range, tmp_.file("db-" + std::to_string(next_db_++)));
  }
  std::string Dir(const std::string& name) const { return tmp_.file(name); }

  TempDir tmp_;
  int next_db_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, StateBackendTest, ::testing::ValuesIn(BackendKinds()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST_P(StateBackendTest, GetPutDelete) {
  ASSERT_OK_AND_ASSIGN(auto backend, Open());
  EXPECT_EQ(backend->kind(), GetParam());
  ASSERT_OK_AND_ASSIGN(KvState state, backend->OpenNamespace("window"));
  EXPECT_EQ(state.name(), "window");

  ASSERT_OK_AND_ASSIGN(std::optional<std::string> missing, state.Get(5, "a"));
  EXPECT_FALSE(missing.has_value());
  ASSERT_OK(state.Put(5, "a", "1"));
  ASSERT_OK(state.Put(6, "a", "other group"));
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> a, state.Get(5, "a"));
  EXPECT_EQ(a, std::optional<std::string>("1"));
  ASSERT_OK(state.Put(5, "a", "2"));
  ASSERT_OK_AND_ASSIGN(a, state.Get(5, "a"));
  EXPECT_EQ(a, std::optional<std::string>("2"));

  // Keys and values are bytes: empty, NUL, 0xff.
  const std::string binary_key("\0k\xff", 3);
  const std::string binary_value("\xff\0v", 3);
  ASSERT_OK(state.Put(5, "", "empty key"));
  ASSERT_OK(state.Put(5, binary_key, binary_value));
  ASSERT_OK(state.Put(5, "empty value", ""));
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> v, state.Get(5, binary_key));
  EXPECT_EQ(v, std::optional<std::string>(binary_value));
  ASSERT_OK_AND_ASSIGN(v, state.Get(5, ""));
  EXPECT_EQ(v, std::optional<std::string>("empty key"));
  ASSERT_OK_AND_ASSIGN(v, state.Get(5, "empty value"));
  EXPECT_EQ(v, std::optional<std::string>(""));

  ASSERT_OK(state.Delete(5, "a"));
  ASSERT_OK(state.Delete(5, "never there"));
  ASSERT_OK_AND_ASSIGN(a, state.Get(5, "a"));
  EXPECT_FALSE(a.has_value());
  ASSERT_OK_AND_ASSIGN(a, state.Get(6, "a"));
  EXPECT_EQ(a, std::optional<std::string>("other group"));
}

TEST_P(StateBackendTest, RejectsKeyGroupsOutsideItsRange) {
  ASSERT_OK_AND_ASSIGN(auto backend, Open(KeyGroupRange{32, 64}));
  EXPECT_EQ(backend->key_groups(), (KeyGroupRange{32, 64}));
  ASSERT_OK_AND_ASSIGN(KvState state, backend->OpenNamespace("w"));
  const std::string message =
      "Invalid argument: key group 64 is not in this state backend's range [32, 64)";
  EXPECT_EQ(state.Put(64, "k", "v").ToString(), message);
  EXPECT_EQ(state.Get(64, "k").status().ToString(), message);
  EXPECT_EQ(state.Delete(64, "k").ToString(), message);
  EXPECT_EQ(state.IterPrefix(64, "").status().ToString(), message);
  EXPECT_EQ(state.Put(31, "k", "v").ToString(),
            "Invalid argument: key group 31 is not in this state backend's range [32, 64)");
  EXPECT_EQ(backend->OpenNamespace("").status().ToString(),
            "Invalid argument: state namespace name is empty");
}

TEST_P(StateBackendTest, IterPrefixIsBytewiseAscendingWithinOneGroup) {
  ASSERT_OK_AND_ASSIGN(auto backend, Open());
  ASSERT_OK_AND_ASSIGN(KvState state, backend->OpenNamespace("w"));
  const std::vector<std::string> keys{"b", std::string("a\xff", 2), "ab", std::string("a\0", 2),
                                      "a", "", "B", "aa"};
  for (const std::string& k : keys) ASSERT_OK(state.Put(9, k, "v" + k));
  ASSERT_OK(state.Put(8, "a-in-8", "x"));
  ASSERT_OK(state.Put(10, "a-in-10", "x"));

  ASSERT_OK_AND_ASSIGN(std::vector<StateEntry> a, state.IterPrefix(9, "a"));
  EXPECT_EQ(Keys(a), (std::vector<std::string>{"a", std::string("a\0", 2), "aa", "ab",
                                               std::string("a\xff", 2)}));
  EXPECT_EQ(a[3], (StateEntry{9, "ab", "vab"}));
  ASSERT_OK_AND_ASSIGN(std::vector<StateEntry> all, state.IterPrefix(9, ""));
  EXPECT_EQ(Keys(all), (std::vector<std::string>{"", "B", "a", std::string("a\0", 2), "aa",
                                                 "ab", std::string("a\xff", 2), "b"}));
  ASSERT_OK_AND_ASSIGN(std::vector<StateEntry> none, state.IterPrefix(9, "c"));
  EXPECT_TRUE(none.empty());
  ASSERT_OK_AND_ASSIGN(std::vector<StateEntry> ff, state.IterPrefix(9, std::string("a\xff", 2)));
  EXPECT_EQ(Keys(ff), (std::vector<std::string>{std::string("a\xff", 2)}));
}

TEST_P(StateBackendTest, ScanVisitsGroupsThenKeysAndStops) {
  ASSERT_OK_AND_ASSIGN(auto backend, Open(KeyGroupRange{10, 20}));
  ASSERT_OK_AND_ASSIGN(KvState state, backend->OpenNamespace("w"));
  ASSERT_OK(state.Put(19, "p1", "a"));
  ASSERT_OK(state.Put(10, "p2", "b"));
  ASSERT_OK(state.Put(10, "p1", "c"));
  ASSERT_OK(state.Put(12, "q", "d"));
  ASSERT_OK(state.Put(15, "p", "e"));

  std::vector<std::string> seen;
  auto collect = [&seen](KeyGroup g, std::string_view k, std::string_view v) {
    seen.push_back(std::to_string(g) + "/" + std::string(k) + "=" + std::string(v));
    return ScanNext::kContinue;
  };
  // The range may exceed the backend's: only owned groups are visited.
  ASSERT_OK(state.Scan(KeyGroupRange{0, 128}, "p", collect));
  EXPECT_EQ(seen, (std::vector<std::string>{"10/p1=c", "10/p2=b", "15/p=e", "19/p1=a"}));
  seen.clear();
  ASSERT_OK(state.Scan(KeyGroupRange{11, 16}, "", collect));
  EXPECT_EQ(seen, (std::vector<std::string>{"12/q=d", "15/p=e"}));
  seen.clear();
  ASSERT_OK(state.Scan(KeyGroupRange{20, 30}, "", collect));
  EXPECT_TRUE(seen.empty());

  int visited = 0;
  ASSERT_OK(state.Scan(KeyGroupRange::All(), "", [&visited](KeyGroup, std::string_view,
                                                             std::string_view) {
    return ++visited == 2 ? ScanNext::kStop : ScanNext::kContinue;
  }));
  EXPECT_EQ(visited, 2);
}

TEST_P(StateBackendTest, NamespacesAreSeparate) {
  ASSERT_OK_AND_ASSIGN(auto backend, Open());
  ASSERT_OK_AND_ASSIGN(KvState windows, backend->OpenNamespace("windows"));
  ASSERT_OK_AND_ASSIGN(KvState sessions, backend->OpenNamespace("sessions"));
  ASSERT_OK(windows.Put(1, "k", "w"));
  ASSERT_OK(sessions.Put(1, "k", "s"));
  ASSERT_OK_AND_ASSIGN(KvState again, backend->OpenNamespace("windows"));
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> v, again.Get(1, "k"));
  EXPECT_EQ(v, std::optional<std::string>("w"));
  ASSERT_OK(again.Delete(1, "k"));
  ASSERT_OK_AND_ASSIGN(v, sessions.Get(1, "k"));
  EXPECT_EQ(v, std::optional<std::string>("s"));
  EXPECT_EQ(Dump(windows).size(), 0u);
  EXPECT_EQ(backend->ApproximateEntries(), 1u);
}

TEST_P(StateBackendTest, SnapshotRestoreRoundTrip) {
  ASSERT_OK_AND_ASSIGN(auto backend, Open());
  ASSERT_OK_AND_ASSIGN(KvState windows, backend->OpenNamespace("windows"));
  ASSERT_OK_AND_ASSIGN(KvState sessions, backend->OpenNamespace("sessions"));
  for (int i = 0; i < 500; ++i) {
    const std::string key = KeyOf(i);
    ASSERT_OK(windows.Put(KeyGroupForKey(key), key, "count=" + std::to_string(i)));
    if (i % 3 == 0) ASSERT_OK(sessions.Put(KeyGroupForKey(key), key, std::string(i, 'x')));
  }
  const std::vector<StateEntry> windows_before = Dump(windows);
  const std::vector<StateEntry> sessions_before = Dump(sessions);
  ASSERT_EQ(windows_before.size(), 500u);
  ASSERT_EQ(sessions_before.size(), 167u);

  ASSERT_OK_AND_ASSIGN(StateSnapshot snap, backend->Snapshot(Dir("snaps/one")));
  EXPECT_EQ(snap.dir, Dir("snaps/one"));
  EXPECT_EQ(snap.backend, GetParam());
  EXPECT_EQ(snap.key_groups, KeyGroupRange::All());
  EXPECT_EQ(snap.namespaces, (std::vector<std::string>{"windows", "sessions"}));
  EXPECT_TRUE(snap.id.starts_with(GetParam() + "-")) << snap.id;
  EXPECT_TRUE(std::find(snap.files.begin(), snap.files.end(), "SNAPSHOT.json") !=
              snap.files.end());
  for (const std::string& f : snap.files) EXPECT_TRUE(fs::is_regular_file(Dir("snaps/one/" + f)));

  // Change everything, including a new namespace, then restore.
  ASSERT_OK(windows.Put(KeyGroupForKey(KeyOf(1)), KeyOf(1), "changed"));
  ASSERT_OK(windows.Delete(KeyGroupForKey(KeyOf(2)), KeyOf(2)));
  ASSERT_OK(windows.Put(0, "new", "entry"));
  ASSERT_OK_AND_ASSIGN(KvState extra, backend->OpenNamespace("extra"));
  ASSERT_OK(extra.Put(0, "k", "v"));
  ASSERT_OK_AND_ASSIGN(StateSnapshot second, backend->Snapshot(Dir("snaps/two")));
  EXPECT_NE(second.id, snap.id);

  const std::vector<std::string> dirs{Dir("snaps/one")};
  ASSERT_OK(backend->Restore(dirs));
  // The handles taken before the restore still work.
  EXPECT_EQ(Dump(windows), windows_before);
  EXPECT_EQ(Dump(sessions), sessions_before);
  EXPECT_TRUE(Dump(extra).empty());
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> v, windows.Get(KeyGroupForKey(KeyOf(1)),
                                                                 KeyOf(1)));
  EXPECT_EQ(v, std::optional<std::string>("count=1"));
  ASSERT_OK(windows.Put(0, "after", "restore"));
  ASSERT_OK_AND_ASSIGN(v, windows.Get(0, "after"));
  EXPECT_EQ(v, std::optional<std::string>("restore"));

  // Restoring the later snapshot brings the changes back.
  const std::vector<std::string> dirs2{Dir("snaps/two")};
  ASSERT_OK(backend->Restore(dirs2));
  ASSERT_OK_AND_ASSIGN(v, windows.Get(KeyGroupForKey(KeyOf(1)), KeyOf(1)));
  EXPECT_EQ(v, std::optional<std::string>("changed"));
  EXPECT_EQ(Dump(extra), (std::vector<StateEntry>{{0, "k", "v"}}));
  EXPECT_EQ(Dump(windows).size(), 500u);  // one deleted, one added

  // A fresh backend restores the same state.
  ASSERT_OK_AND_ASSIGN(auto fresh, Open());
  ASSERT_OK(fresh->Restore(dirs));
  ASSERT_OK_AND_ASSIGN(KvState fresh_windows, fresh->OpenNamespace("windows"));
  ASSERT_OK_AND_ASSIGN(KvState fresh_sessions, fresh->OpenNamespace("sessions"));
  EXPECT_EQ(Dump(fresh_windows), windows_before);
  EXPECT_EQ(Dump(fresh_sessions), sessions_before);
}

TEST_P(StateBackendTest, SnapshotAndRestoreErrors) {
  ASSERT_OK_AND_ASSIGN(auto backend, Open(KeyGroupRange{0, 64}));
  ASSERT_OK_AND_ASSIGN(KvState state, backend->OpenNamespace("w"));
  ASSERT_OK(state.Put(1, "k", "v"));
  fs::create_directories(Dir("exists"));
  EXPECT_EQ(backend->Snapshot(Dir("exists")).status().ToString(),
            "Invalid argument: state snapshot directory '" + Dir("exists") + "' already exists");

  const std::vector<std::string> unknown{Dir("nowhere")};
  EXPECT_EQ(backend->Restore(unknown).ToString(),
            "Not found: no state snapshot in '" + Dir("nowhere") + "' (SNAPSHOT.json is missing)");
  EXPECT_EQ(backend->Restore({}).ToString(),
            "Invalid argument: the state snapshots do not cover key groups [0, 64) of this "
            "backend's [0, 64)");

  // Snapshots of [0, 32) and [16, 64) overlap; [0, 32) alone leaves a gap.
  ASSERT_OK_AND_ASSIGN(auto low, Open(KeyGroupRange{0, 32}));
  ASSERT_OK(low->Snapshot(Dir("low")).status());
  ASSERT_OK_AND_ASSIGN(auto high, Open(KeyGroupRange{16, 64}));
  ASSERT_OK(high->Snapshot(Dir("high")).status());
  const std::vector<std::string> overlapping{Dir("low"), Dir("high")};
  EXPECT_EQ(backend->Restore(overlapping).ToString(),
            "Invalid argument: state snapshots '" + Dir("low") + "' and '" + Dir("high") +
                "' both hold key group 16");
  const std::vector<std::string> partial{Dir("low")};
  EXPECT_EQ(backend->Restore(partial).ToString(),
            "Invalid argument: the state snapshots do not cover key groups [32, 64) of this "
            "backend's [0, 64)");
}

TEST_P(StateBackendTest, RescaleTwoWorkersToFourAndFourToOne) {
  constexpr int kKeys = 2000;
  // Two workers, each owning its range, hold every key's state in its key group.
  std::vector<std::unique_ptr<StateBackend>> two;
  for (uint32_t w = 0; w < 2; ++w) {
    ASSERT_OK_AND_ASSIGN(auto b, Open(KeyGroupRange::ForWorker(w, 2)));
    two.push_back(std::move(b));
  }
  EXPECT_EQ(two[0]->key_groups(), (KeyGroupRange{0, 64}));
  EXPECT_EQ(two[1]->key_groups(), (KeyGroupRange{64, 128}));
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = KeyOf(i);
    const KeyGroup g = KeyGroupForKey(key);
    ASSERT_OK_AND_ASSIGN(KvState s, two[WorkerOfKeyGroup(g, 2)]->OpenNamespace("window"));
    ASSERT_OK(s.Put(g, key + "|w0", "v" + std::to_string(i)));
    ASSERT_OK(s.Put(g, key + "|w1", "u" + std::to_string(i)));
  }
  std::vector<std::string> two_dirs;
  for (uint32_t w = 0; w < 2; ++w) {
    two_dirs.push_back(Dir("two/" + std::to_string(w)));
    ASSERT_OK(two[w]->Snapshot(two_dirs.back()).status());
  }

  // Four workers: each restores from every snapshot (those outside its range are skipped).
  std::vector<std::unique_ptr<StateBackend>> four;
  std::vector<std::string> four_dirs;
  size_t total = 0;
  for (uint32_t w = 0; w < 4; ++w) {
    ASSERT_OK_AND_ASSIGN(auto b, Open(KeyGroupRange::ForWorker(w, 4)));
    EXPECT_EQ(b->key_groups(), (KeyGroupRange{32 * w, 32 * (w + 1)}));
    ASSERT_OK(b->Restore(two_dirs));
    ASSERT_OK_AND_ASSIGN(KvState s, b->OpenNamespace("window"));
    for (const StateEntry& e : Dump(s)) {
      EXPECT_TRUE(b->key_groups().Contains(e.group));
      EXPECT_EQ(e.group, KeyGroupForKey(e.key.substr(0, e.key.find('|'))));
    }
    total += Dump(s).size();
    four_dirs.push_back(Dir("four/" + std::to_string(w)));
    ASSERT_OK(b->Snapshot(four_dirs.back()).status());
    four.push_back(std::move(b));
  }
  EXPECT_EQ(total, 2u * kKeys);
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = KeyOf(i);
    const KeyGroup g = KeyGroupForKey(key);
    ASSERT_OK_AND_ASSIGN(KvState s, four[WorkerOfKeyGroup(g, 4)]->OpenNamespace("window"));
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> v, s.Get(g, key + "|w1"));
    ASSERT_EQ(v, std::optional<std::string>("u" + std::to_string(i)));
  }

  // And back to one worker from the four snapshots: the original state, entry for entry.
  ASSERT_OK_AND_ASSIGN(auto one, Open());
  ASSERT_OK(one->Restore(four_dirs));
  ASSERT_OK_AND_ASSIGN(KvState merged, one->OpenNamespace("window"));
  std::vector<StateEntry> expected;
  for (auto& b : two) {
    ASSERT_OK_AND_ASSIGN(KvState s, b->OpenNamespace("window"));
    for (StateEntry& e : Dump(s)) expected.push_back(std::move(e));
  }
  EXPECT_EQ(Dump(merged), expected);
}

TEST_P(StateBackendTest, MemorySnapshotsRestoreIntoThisBackend) {
  ASSERT_OK_AND_ASSIGN(auto memory, OpenMemoryBackend(MemoryBackendOptions{{0, 128}}));
  ASSERT_OK_AND_ASSIGN(KvState s, memory->OpenNamespace("window"));
  for (int i = 0; i < 300; ++i) ASSERT_OK(s.Put(KeyGroupForKey(KeyOf(i)), KeyOf(i), "x"));
  ASSERT_OK(memory->Snapshot(Dir("mem")).status());
  ASSERT_OK_AND_ASSIGN(auto backend, Open(KeyGroupRange{0, 64}));
  const std::vector<std::string> dirs{Dir("mem")};
  ASSERT_OK(backend->Restore(dirs));
  ASSERT_OK_AND_ASSIGN(KvState restored, backend->OpenNamespace("window"));
  std::vector<StateEntry> expected;
  for (const StateEntry& e : Dump(s)) {
    if (e.group < 64) expected.push_back(e);
  }
  EXPECT_EQ(Dump(restored), expected);
  EXPECT_GT(expected.size(), 100u);
}

TEST_P(StateBackendTest, DamagedMemorySnapshotIsCorruption) {
  ASSERT_OK_AND_ASSIGN(auto memory, OpenMemoryBackend(MemoryBackendOptions{}));
  ASSERT_OK_AND_ASSIGN(KvState s, memory->OpenNamespace("window"));
  for (int i = 0; i < 100; ++i) ASSERT_OK(s.Put(KeyGroupForKey(KeyOf(i)), KeyOf(i), "value"));
  ASSERT_OK(memory->Snapshot(Dir("mem")).status());
  const std::string file = Dir("mem/ns-0.kvs");
  const std::string bytes = ReadFile(file);
  WriteFile(file, bytes.substr(0, bytes.size() - 5));
  ASSERT_OK_AND_ASSIGN(auto backend, Open());
  const std::vector<std::string> dirs{Dir("mem")};
  EXPECT_EQ(backend->Restore(dirs).ToString(),
            "Corruption: state snapshot file '" + file + "' is truncated");
  WriteFile(file, "not a snapshot");
  EXPECT_EQ(backend->Restore(dirs).ToString(),
            "Corruption: '" + file + "' is not a state snapshot file");
}

// A checkpoint as the executor will take it: each worker snapshots its range into the pending
// checkpoint, the store commits, and a new set of workers restores from the loaded manifest.
TEST_P(StateBackendTest, CheckpointThroughTheStoreAndRescale) {
  const PipelineFingerprint fingerprint = PipelineFingerprint::Of({{"window", "tumbling 1m"}});
  ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({Dir("checkpoints"), 2}));
  std::vector<std::unique_ptr<StateBackend>> workers;
  for (uint32_t w = 0; w < 2; ++w) {
    ASSERT_OK_AND_ASSIGN(auto b, Open(KeyGroupRange::ForWorker(w, 2)));
    workers.push_back(std::move(b));
  }
  for (uint64_t round = 1; round <= 3; ++round) {
    for (int i = 0; i < 200; ++i) {
      const std::string key = KeyOf(i);
      const KeyGroup g = KeyGroupForKey(key);
      ASSERT_OK_AND_ASSIGN(KvState s, workers[WorkerOfKeyGroup(g, 2)]->OpenNamespace("window"));
      const std::string value = std::to_string(round * 1000 + i);
      ASSERT_OK(s.Put(g, key, value));
    }
    if (round == 3) break;  // round 3 is after the last checkpoint: lost in the "crash"
    ASSERT_OK_AND_ASSIGN(auto pending, store->Begin(store->NextId()));
    CheckpointManifest manifest;
    manifest.fingerprint = fingerprint;
    manifest.watermark = static_cast<EventTime>(round * 60000);
    for (auto& b : workers) {
      const std::string dir = CheckpointState::DirFor("window", b->key_groups());
      ASSERT_OK(b->Snapshot((fs::path(pending->dir()) / dir).string()).status());
      manifest.state.push_back({"window", b->key_groups(), dir});
    }
    ASSERT_OK(pending->Commit(std::move(manifest)).status());
  }
  workers.clear();

  ASSERT_OK_AND_ASSIGN(CheckpointLoad load, store->LoadLatest(fingerprint));
  ASSERT_TRUE(load.checkpoint.has_value());
  EXPECT_EQ(load.checkpoint->manifest.id, 2u);
  EXPECT_EQ(load.checkpoint->manifest.watermark, 120000);
  size_t restored = 0;
  for (uint32_t w = 0; w < 4; ++w) {
    ASSERT_OK_AND_ASSIGN(auto b, Open(KeyGroupRange::ForWorker(w, 4)));
    ASSERT_OK(b->Restore(load.checkpoint->StateDirsFor("window", b->key_groups())));
    ASSERT_OK_AND_ASSIGN(KvState s, b->OpenNamespace("window"));
    for (const StateEntry& e : Dump(s)) {
      ++restored;
      const int i = std::stoi(e.key.substr(8));
      EXPECT_EQ(e.value, std::to_string(2000 + i)) << e.key;
    }
  }
  EXPECT_EQ(restored, 200u);
}

TEST(MemoryBackend, OptionsAreValidated) {
  EXPECT_EQ(OpenMemoryBackend(MemoryBackendOptions{{64, 64}}).status().ToString(),
            "Invalid argument: state key group range [64, 64) must be non-empty and within "
            "[0, 128)");
  EXPECT_EQ(OpenMemoryBackend(MemoryBackendOptions{{0, 129}}).status().ToString(),
            "Invalid argument: state key group range [0, 129) must be non-empty and within "
            "[0, 128)");
}

TEST(KeyGroupRange, ForWorkerMatchesWorkerOfKeyGroup) {
  for (uint32_t workers = 1; workers <= kMaxKeyGroups; ++workers) {
    uint32_t next = 0;
    for (uint32_t w = 0; w < workers; ++w) {
      const KeyGroupRange r = KeyGroupRange::ForWorker(w, workers);
      ASSERT_EQ(r.begin, next) << workers << " " << w;
      for (uint32_t g = r.begin; g < r.end; ++g) ASSERT_EQ(WorkerOfKeyGroup(g, workers), w);
      next = r.end;
    }
    ASSERT_EQ(next, kMaxKeyGroups);
  }
  EXPECT_EQ(KeyGroupRange::ForWorker(1, 3), (KeyGroupRange{43, 86}));
  EXPECT_EQ((KeyGroupRange{0, 64}).Intersect({32, 96}), (KeyGroupRange{32, 64}));
  EXPECT_TRUE((KeyGroupRange{0, 64}).Intersect({64, 96}).empty());
  EXPECT_EQ(KeyGroupForKey("\"alice\""), KeyGroupOf(KeyHash("\"alice\"")));
}

}  // namespace
}  // namespace pulse::state
