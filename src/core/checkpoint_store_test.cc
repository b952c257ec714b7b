// SPDX-License-Identifier: MIT
// CheckpointStore: manifest round trip and exact text, atomic commit (leftover temporary
// directories are ignored and removed), keep-last-N, corrupt newest → previous with a warning,
// fingerprint mismatch, locking.
#include "pulse/core/checkpoint_store.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/crc32c.h"
#include "testing/fault_env.h"
#include "testing/test_util.h"

namespace pulse::internal {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

PipelineFingerprint Fingerprint(std::string window = "tumbling 1m") {
  return PipelineFingerprint::Of({{"window", std::move(window)}, {"key", "user"}});
}

// A manifest with one state entry per worker range and a source position.
CheckpointManifest Manifest(EventTime watermark, std::string window = "tumbling 1m") {
  CheckpointManifest m;
  m.fingerprint = Fingerprint(std::move(window));
  m.watermark = watermark;
  m.created_unix_ms = 1700000000000;
  m.sources = Object{{"source", Value(Object{{"file", Value("in.jsonl")},
                                             {"offset", Value(int64_t{1234})},
                                             {"line", Value(int64_t{56})}})}};
  m.sinks = Object{{"sink", Value(Object{{"pending", Value(Array{Value(".out.jsonl.tmp")})}})}};
  m.state.push_back({"window", KeyGroupRange{0, 64}, "state/window/kg-0-64"});
  m.state.push_back({"window", KeyGroupRange{64, 128}, "state/window/kg-64-128"});
  return m;
}

// Begin checkpoint `id`, write one file per state entry, commit.
Result<CheckpointManifest> WriteCheckpoint(CheckpointStore& store, uint64_t id,
                                           EventTime watermark,
                                           std::string window = "tumbling 1m") {
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<PendingCheckpoint> pending, store.Begin(id));
  CheckpointManifest m = Manifest(watermark, std::move(window));
  for (const CheckpointState& s : m.state) {
    fs::create_directories(fs::path(pending->dir()) / s.dir);
    WriteFile((fs::path(pending->dir()) / s.dir / "ns-0.kvs").string(),
              "state of " + s.dir + " at " + std::to_string(watermark));
  }
  return pending->Commit(std::move(m));
}

std::string ChkDir(const TempDir& tmp, uint64_t id) {
  return (tmp.path() / ("chk-" + std::to_string(id))).string();
}

TEST(PipelineFingerprint, HashesLengthPrefixedParts) {
  EXPECT_EQ(Fingerprint().hash, "7d754b1a3f3e21aa");
  EXPECT_NE(PipelineFingerprint::Of({{"ab", "c"}}).hash,
            PipelineFingerprint::Of({{"a", "bc"}}).hash);
}

TEST(CheckpointState, DirForSanitizesTheOperatorName) {
  EXPECT_EQ(CheckpointState::DirFor("window", KeyGroupRange{0, 64}), "state/window/kg-0-64");
  EXPECT_EQ(CheckpointState::DirFor("my op/1", KeyGroupRange{32, 48}),
            "state/my_op_1/kg-32-48");
  EXPECT_EQ(CheckpointState::DirFor("..", KeyGroupRange{0, 1}), "state/_../kg-0-1");
}

TEST(CheckpointManifest, ExactTextAndRoundTrip) {
  CheckpointManifest m;
  m.id = 7;
  m.fingerprint = PipelineFingerprint{{{"window", "tumbling 1m"}}, "abc"};
  m.watermark = 60000;
  m.created_unix_ms = 5;
  m.sources = Object{{"source", Value(Object{{"offset", Value(int64_t{10})}})}};
  m.state.push_back({"window", KeyGroupRange{0, 128}, "state/window/kg-0-128"});
  m.files.push_back({"state/window/kg-0-128/ns-0.kvs", 3, 0xe3069283});
  const std::string body =
      "{\"format\":\"pulse-checkpoint\",\n\"version\":1,\n\"id\":7,\n"
      "\"fingerprint\":{\"hash\":\"abc\",\"parts\":{\"window\":\"tumbling 1m\"}},\n"
      "\"watermark\":60000,\n\"created_unix_ms\":5,\n"
      "\"sources\":{\"source\":{\"offset\":10}},\n\"sinks\":{},\n"
      "\"state\":[{\"operator\":\"window\",\"key_groups\":[0,128],"
      "\"dir\":\"state/window/kg-0-128\"}],\n"
      "\"files\":[\n"
      "{\"path\":\"state/window/kg-0-128/ns-0.kvs\",\"bytes\":3,\"crc32c\":\"e3069283\"}]";
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", Crc32c(body));
  const std::string text = SerializeManifest(m);
  EXPECT_EQ(text, body + ",\n\"manifest_crc32c\":\"" + crc + "\"}\n");

  ASSERT_OK_AND_ASSIGN(CheckpointManifest back, ParseManifest(text));
  EXPECT_EQ(back.id, 7u);
  EXPECT_EQ(back.fingerprint.hash, "abc");
  EXPECT_EQ(back.fingerprint.parts, m.fingerprint.parts);
  EXPECT_EQ(back.watermark, 60000);
  EXPECT_EQ(back.created_unix_ms, 5);
  EXPECT_EQ(Value(back.sources), Value(m.sources));
  EXPECT_EQ(Value(back.sinks), Value(Object{}));
  ASSERT_EQ(back.state.size(), 1u);
  EXPECT_EQ(back.state[0].operator_name, "window");
  EXPECT_EQ(back.state[0].key_groups, (KeyGroupRange{0, 128}));
  EXPECT_EQ(back.state[0].dir, "state/window/kg-0-128");
  ASSERT_EQ(back.files.size(), 1u);
  EXPECT_EQ(back.files[0].path, "state/window/kg-0-128/ns-0.kvs");
  EXPECT_EQ(back.files[0].bytes, 3u);
  EXPECT_EQ(back.files[0].crc32c, 0xe3069283u);
}

TEST(CheckpointManifest, DetectsTruncationTamperingAndEscapingPaths) {
  CheckpointManifest m = Manifest(1);
  m.files.push_back({"a/b", 1, 2});
  const std::string text = SerializeManifest(m);
  Result<CheckpointManifest> truncated = ParseManifest(text.substr(0, text.size() / 2));
  EXPECT_EQ(truncated.status().ToString(),
            "Corruption: manifest is truncated (no trailing checksum)");

  std::string tampered = text;
  tampered.replace(tampered.find("\"watermark\":1"), 13, "\"watermark\":2");
  Result<CheckpointManifest> bad = ParseManifest(tampered);
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_NE(bad.status().message().find("manifest checksum mismatch"), std::string::npos);

  CheckpointManifest escaping = Manifest(1);
  escaping.files.push_back({"../outside", 1, 2});
  EXPECT_EQ(ParseManifest(SerializeManifest(escaping)).status().ToString(),
            "Corruption: manifest file path \"../outside\" is not allowed");
}

TEST(CheckpointStore, EmptyDirectoryHasNoCheckpoint) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({tmp.file("chk"), 3}));
  ASSERT_OK_AND_ASSIGN(CheckpointLoad load, store->LoadLatest(Fingerprint()));
  EXPECT_FALSE(load.checkpoint.has_value());
  EXPECT_TRUE(load.warnings.empty());
  EXPECT_EQ(store->NextId(), 1u);
}

TEST(CheckpointStore, CommitThenLoadRoundTrip) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({tmp.path().string(), 3}));
  ASSERT_OK_AND_ASSIGN(CheckpointManifest written, WriteCheckpoint(*store, 1, 1000));
  EXPECT_EQ(written.id, 1u);
  ASSERT_EQ(written.files.size(), 2u);
  const std::string content0 = "state of state/window/kg-0-64 at 1000";
  EXPECT_EQ(written.files[0].path, "state/window/kg-0-64/ns-0.kvs");
  EXPECT_EQ(written.files[0].bytes, content0.size());
  EXPECT_EQ(written.files[0].crc32c, Crc32c(content0));
  EXPECT_EQ(written.files[1].path, "state/window/kg-64-128/ns-0.kvs");

  // Only the committed directory and the lock remain.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{".lock", "chk-1"}));
  EXPECT_TRUE(fs::exists(fs::path(ChkDir(tmp, 1)) / "MANIFEST.json"));

  ASSERT_OK_AND_ASSIGN(CheckpointLoad load, store->LoadLatest(Fingerprint()));
  ASSERT_TRUE(load.checkpoint.has_value());
  EXPECT_TRUE(load.warnings.empty());
  const LoadedCheckpoint& c = *load.checkpoint;
  EXPECT_EQ(c.dir, ChkDir(tmp, 1));
  EXPECT_EQ(c.manifest.id, 1u);
  EXPECT_EQ(c.manifest.watermark, 1000);
  EXPECT_EQ(c.manifest.created_unix_ms, 1700000000000);
  EXPECT_EQ(c.manifest.fingerprint.hash, Fingerprint().hash);
  EXPECT_EQ(Value(c.manifest.sources), Value(Manifest(0).sources));
  EXPECT_EQ(Value(c.manifest.sinks), Value(Manifest(0).sinks));
  EXPECT_EQ(c.manifest.files.size(), 2u);
  EXPECT_EQ(c.StateDirsFor("window", KeyGroupRange{32, 96}),
            (std::vector<std::string>{ChkDir(tmp, 1) + "/state/window/kg-0-64",
                                      ChkDir(tmp, 1) + "/state/window/kg-64-128"}));
  EXPECT_EQ(c.StateDirsFor("window", KeyGroupRange{96, 128}),
            (std::vector<std::string>{ChkDir(tmp, 1) + "/state/window/kg-64-128"}));
  EXPECT_TRUE(c.StateDirsFor("other", KeyGroupRange::All()).empty());
}

TEST(CheckpointStore, LeftoverTemporaryDirectoryIsIgnoredThenRemoved) {
  TempDir tmp;
  {
    ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({tmp.path().string(), 3}));
    ASSERT_OK(WriteCheckpoint(*store, 1, 1000).status());
    ASSERT_OK(WriteCheckpoint(*store, 2, 2000).status());
    // A crash while checkpoint 3 was being written leaves its temporary directory behind,
    // complete with a manifest (simulated by a copy that outlives the pending checkpoint).
    ASSERT_OK_AND_ASSIGN(auto pending, store->Begin(3));
    WriteFile((fs::path(pending->dir()) / "MANIFEST.json").string(),
              SerializeManifest(Manifest(3000)));
    fs::copy(pending->dir(), pending->dir() + "-crashed");
    ASSERT_OK_AND_ASSIGN(CheckpointLoad load, store->LoadLatest(Fingerprint()));
    ASSERT_TRUE(load.checkpoint.has_value());
    EXPECT_EQ(load.checkpoint->manifest.id, 2u);
    EXPECT_EQ(load.checkpoint->manifest.watermark, 2000);
    EXPECT_TRUE(load.warnings.empty());
  }
  EXPECT_EQ(std::count_if(fs::directory_iterator(tmp.path()), fs::directory_iterator(),
                          [](const fs::directory_entry& e) {
                            return e.path().filename().string().starts_with(".chk-");
                          }),
            1);
  ASSERT_OK_AND_ASSIGN(auto reopened, CheckpointStore::Open({tmp.path().string(), 3}));
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{".lock", "chk-1", "chk-2"}));
  EXPECT_EQ(reopened->NextId(), 3u);
}

TEST(CheckpointStore, AbortAndDestroyLeaveNothing) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({tmp.path().string(), 3}));
  {
    ASSERT_OK_AND_ASSIGN(auto pending, store->Begin(1));
    WriteFile((fs::path(pending->dir()) / "x").string(), "x");
  }
  {
    ASSERT_OK_AND_ASSIGN(auto pending, store->Begin(2));
    pending->Abort();
  }
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> ids, store->List());
  EXPECT_TRUE(ids.empty());
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
  EXPECT_EQ(store->NextId(), 3u);  // ids are never reused
}

// A failure at any step of a commit leaves no checkpoint and no temporary directory; the
// store stays usable and the next commit works.
TEST(CheckpointStore, AFailedCommitLeavesNothingBehind) {
  TempDir tmp;
  testing::FaultEnv env;
  CheckpointStoreOptions options{tmp.path().string(), 3};
  options.env = &env;
  ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open(options));
  const std::vector<std::pair<testing::FaultOp, std::string>> faults = {
      {testing::FaultOp::kSyncPath, "ns-0.kvs"},      // a state file
      {testing::FaultOp::kOpenWritable, "MANIFEST"},  // the manifest
      {testing::FaultOp::kAppend, "MANIFEST"},
      {testing::FaultOp::kSync, "MANIFEST"},
      {testing::FaultOp::kSyncPath, "kg-0-64$"},      // a directory
      {testing::FaultOp::kRename, "/chk-"},           // the commit itself
  };
  uint64_t id = 0;
  for (const auto& [op, path] : faults) {
    SCOPED_TRACE(path);
    env.Fail(op, path);
    Result<CheckpointManifest> failed = WriteCheckpoint(*store, ++id, 1000);
    EXPECT_EQ(failed.status().code(), StatusCode::kIOError);
    EXPECT_NE(failed.status().message().find("Input/output error (injected)"), std::string::npos)
        << failed.status().ToString();
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
  }
  ASSERT_OK(WriteCheckpoint(*store, ++id, 1000).status());
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> ids, store->List());
  EXPECT_EQ(ids, std::vector<uint64_t>{id});
  // A failed sync of the checkpoint directory after the rename fails the commit too: the
  // checkpoint might not survive a crash.
  env.Fail(testing::FaultOp::kSyncPath, tmp.path().string() + "$");
  Status st = WriteCheckpoint(*store, ++id, 2000).status();
  EXPECT_EQ(st.ToString(), fmt::format("IO error: checkpoint {}: cannot fsync '{}': "
                                       "Input/output error (injected)",
                                       id, tmp.path().string()));
}

TEST(CheckpointStore, KeepsTheLastN) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({tmp.path().string(), 2}));
  for (uint64_t id = 1; id <= 5; ++id) ASSERT_OK(WriteCheckpoint(*store, id, id * 10).status());
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> ids, store->List());
  EXPECT_EQ(ids, (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 3);
  ASSERT_OK_AND_ASSIGN(CheckpointLoad load, store->LoadLatest(Fingerprint()));
  ASSERT_TRUE(load.checkpoint.has_value());
  const EventTime watermark = load.checkpoint->manifest.watermark;
  EXPECT_EQ(watermark, 50);
}

TEST(CheckpointStore, BeginRequiresAnIdAboveAllSeen) {
  TempDir tmp;
  {
    ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({tmp.path().string(), 3}));
    ASSERT_OK(WriteCheckpoint(*store, 4, 1).status());
  }
  ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({tmp.path().string(), 3}));
  EXPECT_EQ(store->NextId(), 5u);
  Result<std::unique_ptr<PendingCheckpoint>> again = store->Begin(4);
  EXPECT_EQ(again.status().ToString(),
            "Invalid argument: checkpoint id 4 is not above 4, the largest one seen in '" +
                tmp.path().string() + "'");
}

TEST(CheckpointStore, CorruptNewestFallsBackToPreviousWithWarning) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({tmp.path().string(), 5}));
  ASSERT_OK(WriteCheckpoint(*store, 1, 1000).status());
  ASSERT_OK(WriteCheckpoint(*store, 2, 2000).status());
  ASSERT_OK_AND_ASSIGN(CheckpointManifest third, WriteCheckpoint(*store, 3, 3000));
  // Flip one byte of a state file of the newest checkpoint (same size).
  const std::string victim = ChkDir(tmp, 3) + "/state/window/kg-64-128/ns-0.kvs";
  std::string bytes = ReadFile(victim);
  bytes[0] ^= 0x20;
  WriteFile(victim, bytes);

  ASSERT_OK_AND_ASSIGN(CheckpointLoad load, store->LoadLatest(Fingerprint()));
  ASSERT_TRUE(load.checkpoint.has_value());
  EXPECT_EQ(load.checkpoint->manifest.id, 2u);
  EXPECT_EQ(load.checkpoint->manifest.watermark, 2000);
  char expected[9], actual[9];
  std::snprintf(expected, sizeof expected, "%08x", third.files[1].crc32c);
  std::snprintf(actual, sizeof actual, "%08x", Crc32c(bytes));
  EXPECT_EQ(load.warnings, (std::vector<std::string>{
                               "checkpoint 3 (" + ChkDir(tmp, 3) +
                               ") is unusable: file state/window/kg-64-128/ns-0.kvs: checksum "
                               "mismatch (manifest " + expected + ", file " + actual +
                               "); using checkpoint 2 instead"}));

  // The corrupt checkpoint is pruned first once a new one is committed, whatever `keep` says.
  ASSERT_OK(WriteCheckpoint(*store, store->NextId(), 4000).status());
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> ids, store->List());
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2, 4}));
}

TEST(CheckpointStore, TruncatedManifestMissingAndResizedFilesAreDetected) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({tmp.path().string(), 5}));
  for (uint64_t id = 1; id <= 4; ++id) ASSERT_OK(WriteCheckpoint(*store, id, id).status());
  const std::string manifest4 = ChkDir(tmp, 4) + "/MANIFEST.json";
  const std::string text = ReadFile(manifest4);
  WriteFile(manifest4, text.substr(0, text.size() - 10));
  fs::remove(ChkDir(tmp, 3) + "/state/window/kg-0-64/ns-0.kvs");
  WriteFile(ChkDir(tmp, 2) + "/state/window/kg-0-64/ns-0.kvs", "longer than before, surely");

  ASSERT_OK_AND_ASSIGN(CheckpointLoad load, store->LoadLatest(Fingerprint()));
  ASSERT_TRUE(load.checkpoint.has_value());
  EXPECT_EQ(load.checkpoint->manifest.id, 1u);
  const std::string d = tmp.path().string();
  EXPECT_EQ(load.warnings,
            (std::vector<std::string>{
                "checkpoint 4 (" + d + "/chk-4) is unusable: manifest is truncated (no trailing "
                "checksum); using checkpoint 1 instead",
                "checkpoint 3 (" + d + "/chk-3) is unusable: file state/window/kg-0-64/ns-0.kvs "
                "is missing; using checkpoint 1 instead",
                "checkpoint 2 (" + d + "/chk-2) is unusable: file state/window/kg-0-64/ns-0.kvs "
                "has 26 bytes, the manifest says 34; using checkpoint 1 instead"}));
}

TEST(CheckpointStore, NoUsableCheckpointIsAnError) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({tmp.path().string(), 3}));
  ASSERT_OK(WriteCheckpoint(*store, 1, 1).status());
  fs::remove(ChkDir(tmp, 1) + "/MANIFEST.json");
  Result<CheckpointLoad> load = store->LoadLatest(Fingerprint());
  EXPECT_EQ(load.status().ToString(), "Corruption: no usable checkpoint in '" +
                                          tmp.path().string() + "': checkpoint 1 (" +
                                          ChkDir(tmp, 1) +
                                          ") is unusable: MANIFEST.json is missing");
}

TEST(CheckpointStore, FingerprintMismatchNamesWhatChanged) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({tmp.path().string(), 3}));
  ASSERT_OK(WriteCheckpoint(*store, 1, 1, "tumbling 1m").status());
  Result<CheckpointLoad> load = store->LoadLatest(Fingerprint("tumbling 2m"));
  EXPECT_EQ(load.status().ToString(),
            "Invalid argument: checkpoint 1 in '" + tmp.path().string() +
                "' was taken by a different pipeline, so it cannot be resumed: window changed "
                "from \"tumbling 1m\" to \"tumbling 2m\"");

  PipelineFingerprint other =
      PipelineFingerprint::Of({{"window", "tumbling 1m"}, {"aggregation", "count"}});
  EXPECT_EQ(store->LoadLatest(other).status().message(),
            "checkpoint 1 in '" + tmp.path().string() +
                "' was taken by a different pipeline, so it cannot be resumed: aggregation is "
                "new (\"count\"); key was removed (was \"user\")");

  PipelineFingerprint bare{{}, "feed"};
  EXPECT_EQ(store->LoadLatest(bare).status().message(),
            "checkpoint 1 in '" + tmp.path().string() +
                "' was taken by a different pipeline, so it cannot be resumed: fingerprint " +
                Fingerprint().hash + " differs from the pipeline's feed");
}

TEST(CheckpointStore, DirectoryIsLocked) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto store, CheckpointStore::Open({tmp.path().string(), 3}));
  Result<std::unique_ptr<CheckpointStore>> second =
      CheckpointStore::Open({tmp.path().string(), 3});
  EXPECT_EQ(second.status().ToString(), "Unavailable: checkpoint dir '" + tmp.path().string() +
                                            "' is in use by another run");
  store.reset();
  EXPECT_OK(CheckpointStore::Open({tmp.path().string(), 3}).status());
}

TEST(CheckpointStore, OptionsAreValidated) {
  EXPECT_EQ(CheckpointStore::Open({"", 3}).status().ToString(),
            "Invalid argument: checkpoint dir is empty");
  TempDir tmp;
  EXPECT_EQ(CheckpointStore::Open({tmp.path().string(), 0}).status().ToString(),
            "Invalid argument: checkpoint keep must be at least 1");
}

}  // namespace
}  // namespace pulse::internal
