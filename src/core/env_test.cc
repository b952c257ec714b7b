// SPDX-License-Identifier: MIT
// Tests for the Env: the one write loop, the default Env's file operations and modes, unique
// ids, the atomic-write path (RenameDurably, OutputFile) under injected faults, ManualClock.
#include "pulse/core/env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/file_util.h"
#include "pulse/core/output_file.h"
#include "testing/fault_env.h"
#include "testing/manual_clock.h"
#include "testing/test_util.h"

namespace pulse {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FaultEnv;
using testing::FaultOp;
using testing::ManualClock;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

std::vector<std::string> Names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// --- The write loop ----------------------------------------------------------------------------

// A write(2) that takes at most 3 bytes per call, is interrupted by a signal every other call,
// and collects what it was given.
std::string g_written;
int g_calls = 0;
ssize_t ShortAndInterruptedWrite(int, const void* data, size_t size) {
  if (++g_calls % 2 == 0) {
    errno = EINTR;
    return -1;
  }
  const size_t n = std::min<size_t>(size, 3);
  g_written.append(static_cast<const char*>(data), n);
  return static_cast<ssize_t>(n);
}

ssize_t FullDiskWrite(int, const void*, size_t) {
  errno = ENOSPC;
  return -1;
}

TEST(WriteFullyTest, ContinuesShortWritesAndRetriesInterruptedOnes) {
  g_written.clear();
  g_calls = 0;
  const std::string data = "the quick brown fox jumps over the lazy dog";
  EXPECT_EQ(internal::WriteFully(-1, data, ShortAndInterruptedWrite), 0);
  EXPECT_EQ(g_written, data);
  EXPECT_EQ(g_calls, 2 * ((static_cast<int>(data.size()) + 2) / 3) - 1);
}

TEST(WriteFullyTest, ReturnsTheErrnoOfAFailedWrite) {
  EXPECT_EQ(internal::WriteFully(-1, "x", FullDiskWrite), ENOSPC);
  EXPECT_EQ(internal::WriteFully(-1, "", FullDiskWrite), 0);  // nothing to write: no call
}

// --- The default Env's files -------------------------------------------------------------------

// Sets the process umask for one test, restoring it afterwards.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(DefaultEnvTest, WriteModesAndReading) {
  TempDir dir;
  Env& env = Env::Default();
  const std::string path = dir.file("f");
  ASSERT_OK(WriteStringToFile(env, path, "hello world", WriteMode::kCreateNew, Fsync::kYes));
  // kCreateNew refuses an existing file; kExisting continues at its end.
  Result<std::unique_ptr<WritableFile>> again = env.OpenWritable(path, WriteMode::kCreateNew);
  EXPECT_EQ(again.status().code(), StatusCode::kIOError);
  EXPECT_EQ(again.status().message(), std::strerror(EEXIST));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> file,
                       env.OpenWritable(path, WriteMode::kExisting));
  ASSERT_OK(file->Append("!"));
  ASSERT_OK(file->Sync());
  ASSERT_OK(file->Close());
  EXPECT_EQ(file->Close().code(), StatusCode::kIOError);  // closed already
  ASSERT_OK_AND_ASSIGN(std::string text, ReadFileToString(env, path));
  EXPECT_EQ(text, "hello world!");
  // Truncate cuts back and continues there.
  ASSERT_OK_AND_ASSIGN(file, env.OpenWritable(path, WriteMode::kExisting));
  ASSERT_OK(file->Truncate(5));
  ASSERT_OK(file->Append(", Env"));
  ASSERT_OK(file->Close());
  EXPECT_EQ(ReadFile(path), "hello, Env");
  // kTruncate empties.
  ASSERT_OK(WriteStringToFile(env, path, "x", WriteMode::kTruncate, Fsync::kNo));
  EXPECT_EQ(ReadFile(path), "x");
  // Missing files are NotFound, with the system's text only.
  Result<std::string> missing = ReadFileToString(env, dir.file("nope"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), std::strerror(ENOENT));
  EXPECT_EQ(env.OpenWritable(dir.file("nope"), WriteMode::kExisting).status().code(),
            StatusCode::kNotFound);
  // Reading a directory fails at the read.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReadableFile> d, env.OpenReadable(dir.path().string()));
  std::vector<char> buffer(16);
  EXPECT_EQ(d->Read(buffer).status().message(), std::strerror(EISDIR));
}

TEST(DefaultEnvTest, ReadToEndReadsPastItsChunkSize) {
  TempDir dir;
  const std::string big(300'000, 'z');
  WriteFile(dir.file("big"), big + "end");
  ASSERT_OK_AND_ASSIGN(std::string text, ReadFileToString(Env::Default(), dir.file("big")));
  EXPECT_EQ(text, big + "end");
}

TEST(DefaultEnvTest, FilesAre0644AndDirectories0755WhateverTheUmask) {
  TempDir dir;
  ScopedUmask umask(0);
  Env& env = Env::Default();
  ASSERT_OK(CreateDirs(env, dir.file("a/b/c")));
  ASSERT_OK(WriteStringToFile(env, dir.file("a/b/c/f"), "x", WriteMode::kCreateNew, Fsync::kNo));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileLock> lock, env.OpenLock(dir.file("a/lock")));
  EXPECT_EQ(ModeOf(dir.file("a")), 0755u);
  EXPECT_EQ(ModeOf(dir.file("a/b/c")), 0755u);
  EXPECT_EQ(ModeOf(dir.file("a/b/c/f")), 0644u);
  EXPECT_EQ(ModeOf(dir.file("a/lock")), 0644u);
}

TEST(DefaultEnvTest, DirectoriesListingStatAndRemoval) {
  TempDir dir;
  Env& env = Env::Default();
  ASSERT_OK(CreateDirs(env, dir.file("x/y")));
  ASSERT_OK(CreateDirs(env, dir.file("x/y")));  // exists: fine
  WriteFile(dir.file("x/y/f"), "12345");
  WriteFile(dir.file("x/g"), "");
  EXPECT_EQ(env.CreateDir(dir.file("x")).code(), StatusCode::kIOError);  // exists
  EXPECT_EQ(env.CreateDir(dir.file("no/such")).code(), StatusCode::kNotFound);
  Status through_file = CreateDirs(env, dir.file("x/g/h"));
  EXPECT_EQ(through_file.message(), "Not a directory");
  ASSERT_OK_AND_ASSIGN(FileInfo info, env.Stat(dir.file("x/y/f")));
  EXPECT_EQ(info.type, FileType::kRegular);
  EXPECT_EQ(info.size, 5u);
  ASSERT_OK_AND_ASSIGN(info, env.Stat(dir.file("x")));
  EXPECT_EQ(info.type, FileType::kDirectory);
  EXPECT_EQ(env.Stat(dir.file("nope")).status().code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, env.ListDir(dir.file("x")));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"g", "y"}));
  ASSERT_OK_AND_ASSIGN(std::vector<TreeEntry> tree, ListTree(env, dir.file("x")));
  ASSERT_EQ(tree.size(), 3u);
  EXPECT_EQ(tree[0].path, "g");
  EXPECT_EQ(tree[1].path, "y");
  EXPECT_EQ(tree[1].type, FileType::kDirectory);
  EXPECT_EQ(tree[2].path, "y/f");  // a directory before its contents
  ASSERT_OK(env.SyncPath(dir.file("x")));
  ASSERT_OK(env.SyncPath(dir.file("x/y/f")));
  EXPECT_EQ(env.SyncPath(dir.file("nope")).code(), StatusCode::kNotFound);
  ASSERT_OK(env.Remove(dir.file("x")));
  ASSERT_OK(env.Remove(dir.file("x")));  // nothing there: fine
  EXPECT_TRUE(Names(dir.path()).empty());
}

TEST(DefaultEnvTest, ALockIsHeldUntilItsOwnerGoes) {
  TempDir dir;
  Env& env = Env::Default();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileLock> first, env.OpenLock(dir.file("lock")));
  ASSERT_OK(first->TryLock());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileLock> second, env.OpenLock(dir.file("lock")));
  EXPECT_EQ(second->TryLock().code(), StatusCode::kUnavailable);
  first.reset();
  EXPECT_OK(second->TryLock());
}

TEST(DefaultEnvTest, UniqueIdsDiffer) {
  std::set<uint64_t> ids;
  for (int i = 0; i < 10'000; ++i) ids.insert(Env::Default().UniqueId());
  EXPECT_EQ(ids.size(), 10'000u);
}

TEST(DefaultEnvTest, EnvWithClockKeepsTheDefaultFiles) {
  ManualClock clock;
  EnvWithClock env(clock);
  EXPECT_EQ(&env.clock(), &clock);
  EXPECT_EQ(&Env::Default().clock(), &Clock::Real());
  TempDir dir;
  ASSERT_OK(WriteStringToFile(env, dir.file("f"), "via the wrapper", WriteMode::kCreateNew,
                              Fsync::kNo));
  EXPECT_EQ(ReadFile(dir.file("f")), "via the wrapper");
}

// --- The atomic-write path --------------------------------------------------------------------

TEST(RenameDurablyTest, RenamesAndSyncsTheDirectory) {
  TempDir dir;
  FaultEnv env;
  WriteFile(dir.file("tmp"), "new");
  ASSERT_OK(RenameDurably(env, dir.file("tmp"), dir.file("final"), "cannot publish"));
  EXPECT_EQ(ReadFile(dir.file("final")), "new");
  EXPECT_EQ(env.calls(FaultOp::kSyncPath), 1);

  Status missing = RenameDurably(env, dir.file("tmp"), dir.file("final"), "cannot publish");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), std::string("cannot publish: ") + std::strerror(ENOENT));

  WriteFile(dir.file("tmp"), "newer");
  env.Fail(FaultOp::kSyncPath);
  Status unsynced = RenameDurably(env, dir.file("tmp"), dir.file("final"), "cannot publish");
  EXPECT_EQ(unsynced.ToString(), "IO error: cannot fsync '" + dir.path().string() +
                                     "': Input/output error (injected)");
  EXPECT_EQ(ReadFile(dir.file("final")), "newer");  // renamed, just not known to be durable
}

// Every failure on the way leaves the old output whole and no temporary file behind; only a
// Commit that succeeds replaces it.
TEST(AtomicWriteTest, AnOutputIsTheOldOrTheNewFileNeverAMix) {
  TempDir dir;
  const std::string path = dir.file("out.txt");
  WriteFile(path, "old\n");
  const std::string big(3 * OutputFile::kBufferBytes, 'n');
  struct Case {
    const char* what;
    std::function<void(FaultEnv&)> arm;
  };
  const std::vector<Case> cases = {
      {"disk full", [](FaultEnv& env) { env.LimitBytes(".out.txt.inprogress", 1000); }},
      {"failed fsync", [](FaultEnv& env) { env.Fail(FaultOp::kSync); }},
      {"failed close", [](FaultEnv& env) { env.Fail(FaultOp::kClose); }},
      {"failed rename", [](FaultEnv& env) { env.Fail(FaultOp::kRename); }},
      {"crash before commit", [](FaultEnv&) {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    FaultEnv env;
    c.arm(env);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputFile> file, OutputFile::Create(path, env));
    Status st = file->Append(big);
    if (st.ok() && std::string(c.what) != "crash before commit") st = file->Commit();
    EXPECT_FALSE(st.ok() && std::string(c.what) != "crash before commit");
    file.reset();  // a crash: nothing committed
    EXPECT_EQ(ReadFile(path), "old\n");
    EXPECT_EQ(Names(dir.path()), std::vector<std::string>{"out.txt"});
  }
  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputFile> file, OutputFile::Create(path, env));
  ASSERT_OK(file->Append(big));
  ASSERT_OK(file->Commit());
  EXPECT_EQ(ReadFile(path), big);
  EXPECT_EQ(Names(dir.path()), std::vector<std::string>{"out.txt"});
  EXPECT_EQ(env.calls(FaultOp::kSync), 1);      // the file
  EXPECT_EQ(env.calls(FaultOp::kSyncPath), 1);  // its directory, after the rename
}

TEST(AtomicWriteTest, ErrorsNameTheOutputAndTheSystemText) {
  TempDir dir;
  const std::string path = dir.file("out.txt");
  FaultEnv env;
  env.LimitBytes("out.txt", 10);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputFile> file, OutputFile::Create(path, env));
  ASSERT_OK(file->Append("0123456789abc"));  // buffered
  EXPECT_EQ(file->Commit().ToString(), "IO error: cannot write '" + path + "': File too large");
  env.Fail(FaultOp::kRename);
  ASSERT_OK_AND_ASSIGN(file, OutputFile::Create(path, env));
  EXPECT_EQ(file->Commit().ToString(),
            "IO error: cannot rename into '" + path + "': Input/output error (injected)");
}

// Temporary names come from Env::UniqueId(); a name that is taken is retried with another id.
TEST(AtomicWriteTest, TemporaryNamesAreUniqueAndAClashIsRetried) {
  TempDir dir;
  FaultEnv env;
  env.QueueUniqueIds({0xa, 0xa, 0xb});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputFile> first,
                       OutputFile::Create(dir.file("out"), env));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<OutputFile> second,
                       OutputFile::Create(dir.file("out"), env));
  const std::string pid = std::to_string(::getpid());
  EXPECT_EQ(Names(dir.path()),
            (std::vector<std::string>{".out.inprogress-" + pid + "-000000000000000a",
                                      ".out.inprogress-" + pid + "-000000000000000b"}));
  EXPECT_EQ(env.calls(FaultOp::kOpenWritable), 3);
}

// --- ManualClock -------------------------------------------------------------------------------

TEST(ManualClockTest, MovesOnlyWhenAdvanced) {
  ManualClock clock(1'000'000);
  const Clock::TimePoint start = clock.Now();
  EXPECT_EQ(clock.UnixMillis(), 1'000'000);
  clock.SleepFor(1h);  // yields; does not move the clock
  std::this_thread::sleep_for(2ms);
  EXPECT_EQ(clock.Now(), start);
  EXPECT_EQ(clock.sleeps(), 1u);
  EXPECT_LE(clock.WaitSlice(1h), 1ms);
  EXPECT_EQ(clock.WaitSlice(-1s), Clock::Duration::zero());
  clock.Advance(1500ms);
  EXPECT_EQ(clock.Now() - start, 1500ms);
  EXPECT_EQ(clock.UnixMillis(), 1'001'500);
  clock.Advance(-1s);  // never back
  EXPECT_EQ(clock.elapsed(), 1500ms);
}

TEST(ManualClockTest, SimulatedSleepsAdvanceIt) {
  ManualClock clock;
  clock.SetSleep(ManualClock::Sleep::kAdvance);
  const auto real_start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) clock.SleepFor(1h);
  EXPECT_EQ(clock.elapsed(), 1000h);
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, 10s);
  EXPECT_EQ(clock.sleeps(), 1000u);
}

TEST(ManualClockTest, ATestAdvancesItWhileAnotherThreadWaits) {
  ManualClock clock;
  const Clock::TimePoint deadline = clock.Now() + 100ms;
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    while (clock.Now() < deadline) clock.SleepFor(deadline - clock.Now());
    done = true;
  });
  while (clock.sleeps() == 0) std::this_thread::yield();
  EXPECT_FALSE(done.load());
  clock.Advance(100ms);
  waiter.join();
  EXPECT_TRUE(done.load());
}

}  // namespace
}  // namespace pulse
