// SPDX-License-Identifier: MIT
// Tests for the JSON-lines file sink and the OutputFile it writes through.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "pulse/core/output_file.h"
#include "pulse/io/file.h"
#include "testing/fault_env.h"
#include "testing/test_util.h"

namespace pulse::io {
namespace {

using pulse::OutputFile;
using pulse::testing::ReadFile;
using pulse::testing::TempDir;

std::vector<std::string> DirEntries(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<Record> SomeRecords() {
  std::vector<Record> records(3);
  records[0].value = Value(Object{{"a", Value(1)}});
  records[1].value = Value(Object{{"b", Value(2.0)}, {"s", Value("x\"y")}});
  records[2].value = Value(Array{Value(), Value(true)});
  return records;
}

TEST(FileSinkTest, WritesLinesAndRenamesOnClose) {
  TempDir dir;
  const std::string path = dir.file("out/results.jsonl");
  std::unique_ptr<Sink> sink = FileSink({path});
  EXPECT_EQ(sink->Describe(), "file sink '" + path + "'");
  SinkCounters counters;
  ASSERT_OK(sink->Open({&counters}));
  std::vector<Record> records = SomeRecords();
  ASSERT_OK(sink->Write(records));
  ASSERT_OK(sink->Write(std::span<const Record>(records).subspan(0, 1)));
  ASSERT_OK(sink->OnWatermark(5));
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_EQ(DirEntries(dir.path() / "out").size(), 1u);
  EXPECT_EQ(DirEntries(dir.path() / "out")[0].rfind(".results.jsonl.inprogress-", 0), 0u);
  ASSERT_OK(sink->Close());
  const std::string expected =
      "{\"a\":1}\n{\"b\":2.0,\"s\":\"x\\\"y\"}\n[null,true]\n{\"a\":1}\n";
  EXPECT_EQ(ReadFile(path), expected);
  EXPECT_EQ(DirEntries(dir.path() / "out"), (std::vector<std::string>{"results.jsonl"}));
  EXPECT_EQ(counters.records.load(), 4u);
  EXPECT_EQ(counters.bytes.load(), expected.size());
}

TEST(FileSinkTest, ReplacesAnExistingFile) {
  TempDir dir;
  const std::string path = dir.file("results.jsonl");
  pulse::testing::WriteFile(path, "old\n");
  std::unique_ptr<Sink> sink = FileSink({path});
  SinkCounters counters;
  ASSERT_OK(sink->Open({&counters}));
  ASSERT_OK(sink->Write(SomeRecords()));
  EXPECT_EQ(ReadFile(path), "old\n");
  ASSERT_OK(sink->Close());
  EXPECT_EQ(ReadFile(path), "{\"a\":1}\n{\"b\":2.0,\"s\":\"x\\\"y\"}\n[null,true]\n");
}

TEST(FileSinkTest, AbortLeavesNothing) {
  TempDir dir;
  std::unique_ptr<Sink> sink = FileSink({dir.file("results.jsonl")});
  SinkCounters counters;
  ASSERT_OK(sink->Open({&counters}));
  ASSERT_OK(sink->Write(SomeRecords()));
  sink->Abort();
  EXPECT_TRUE(DirEntries(dir.path()).empty());
}

TEST(FileSinkTest, DestroyedWithoutCloseLeavesNothing) {
  TempDir dir;
  {
    std::unique_ptr<Sink> sink = FileSink({dir.file("results.jsonl")});
    SinkCounters counters;
    ASSERT_OK(sink->Open({&counters}));
    ASSERT_OK(sink->Write(SomeRecords()));
  }
  EXPECT_TRUE(DirEntries(dir.path()).empty());
}

TEST(FileSinkTest, EmptyOutputGivesEmptyFile) {
  TempDir dir;
  std::unique_ptr<Sink> sink = FileSink({dir.file("results.jsonl")});
  SinkCounters counters;
  ASSERT_OK(sink->Open({&counters}));
  ASSERT_OK(sink->Close());
  EXPECT_EQ(ReadFile(dir.file("results.jsonl")), "");
}

TEST(FileSinkTest, UnwritablePathFailsOpen) {
  TempDir dir;
  pulse::testing::WriteFile(dir.file("file"), "x");
  std::unique_ptr<Sink> sink = FileSink({dir.file("file/results.jsonl")});
  SinkCounters counters;
  Status st = sink->Open({&counters});
  EXPECT_EQ(st.code(), StatusCode::kIOError);
}

TEST(FileSinkTest, StdoutWhenNoPath) {
  TempDir dir;
  const std::string captured = dir.file("stdout.txt");
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  std::FILE* f = std::fopen(captured.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ::dup2(::fileno(f), STDOUT_FILENO);
  Status write_status;
  Status close_status;
  SinkCounters counters;
  {
    std::unique_ptr<Sink> sink = FileSink({});
    EXPECT_EQ(sink->Describe(), "file sink stdout");
    Status open_status = sink->Open({&counters});
    write_status = open_status.ok() ? sink->Write(SomeRecords()) : open_status;
    close_status = sink->Close();
  }
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  std::fclose(f);
  ASSERT_OK(write_status);
  ASSERT_OK(close_status);
  EXPECT_EQ(ReadFile(captured), "{\"a\":1}\n{\"b\":2.0,\"s\":\"x\\\"y\"}\n[null,true]\n");
  EXPECT_EQ(counters.records.load(), 3u);
  EXPECT_EQ(DirEntries(dir.path()), (std::vector<std::string>{"stdout.txt"}));
}

// The sink writes through the run's Env (SinkContext::env): a failing rename there fails Close
// and publishes nothing.
TEST(FileSinkTest, WritesThroughTheRunsEnv) {
  TempDir dir;
  const std::string path = dir.file("results.jsonl");
  pulse::testing::FaultEnv env;
  env.Fail(pulse::testing::FaultOp::kRename, "results.jsonl");
  std::unique_ptr<Sink> sink = FileSink({path});
  SinkCounters counters;
  SinkContext ctx;
  ctx.counters = &counters;
  ctx.env = &env;
  ASSERT_OK(sink->Open(ctx));
  ASSERT_OK(sink->Write(SomeRecords()));
  EXPECT_EQ(sink->Close().ToString(), "IO error: cannot rename into '" + path +
                                          "': Input/output error (injected)");
  EXPECT_TRUE(DirEntries(dir.path()).empty());
  EXPECT_EQ(env.calls(pulse::testing::FaultOp::kOpenWritable), 1);
  EXPECT_EQ(env.calls(pulse::testing::FaultOp::kSync), 1);
}

// An unbounded run's sink context (issue 22): the source never ends by itself.
SinkContext UnboundedContext(SinkCounters* counters, bool checkpoints) {
  SinkContext ctx;
  ctx.counters = counters;
  ctx.unbounded = true;
  ctx.checkpoints = checkpoints;
  return ctx;
}

// In an unbounded run each batch is in the final file as soon as Write returns; a fresh run
// replaces an older file; Close leaves no other file behind.
TEST(FileSinkUnboundedTest, EachBatchIsVisibleInTheFinalFileAtOnce) {
  TempDir dir;
  const std::string path = dir.file("out/results.jsonl");
  std::filesystem::create_directories(dir.path() / "out");
  pulse::testing::WriteFile(path, "{\"old\":true}\n");
  std::unique_ptr<Sink> sink = FileSink({path});
  SinkCounters counters;
  ASSERT_OK(sink->Open(UnboundedContext(&counters, false)));
  EXPECT_EQ(ReadFile(path), "");  // replaced at once
  std::vector<Record> records = SomeRecords();
  ASSERT_OK(sink->Write(std::span<const Record>(records).subspan(0, 1)));
  EXPECT_EQ(ReadFile(path), "{\"a\":1}\n");
  ASSERT_OK(sink->Write(std::span<const Record>(records).subspan(1, 2)));
  EXPECT_EQ(ReadFile(path), "{\"a\":1}\n{\"b\":2.0,\"s\":\"x\\\"y\"}\n[null,true]\n");
  ASSERT_OK(sink->Tick());
  ASSERT_OK(sink->Close());
  EXPECT_EQ(ReadFile(path), "{\"a\":1}\n{\"b\":2.0,\"s\":\"x\\\"y\"}\n[null,true]\n");
  EXPECT_EQ(DirEntries(dir.path() / "out"), (std::vector<std::string>{"results.jsonl"}));
  EXPECT_EQ(counters.records.load(), 3u);
}

// A failure of an unbounded run without checkpoints keeps the results already shown.
TEST(FileSinkUnboundedTest, AbortKeepsWhatWasWritten) {
  TempDir dir;
  const std::string path = dir.file("results.jsonl");
  std::unique_ptr<Sink> sink = FileSink({path});
  SinkCounters counters;
  ASSERT_OK(sink->Open(UnboundedContext(&counters, false)));
  ASSERT_OK(sink->Write(SomeRecords()));
  sink->Abort();
  EXPECT_EQ(ReadFile(path), "{\"a\":1}\n{\"b\":2.0,\"s\":\"x\\\"y\"}\n[null,true]\n");
  EXPECT_EQ(DirEntries(dir.path()), (std::vector<std::string>{"results.jsonl"}));
}

// With checkpoints the committed length is part of the checkpoint: a run killed after writing
// more than its last checkpoint covered is cut back to it by the next run, which continues
// exactly there; Open alone leaves the file for Recover.
TEST(FileSinkUnboundedTest, RecoverCutsTheFinalFileBackToTheCheckpoint) {
  TempDir dir;
  const std::string path = dir.file("results.jsonl");
  std::vector<Record> records = SomeRecords();
  Value info;
  {
    std::unique_ptr<Sink> sink = FileSink({path});
    SinkCounters counters;
    ASSERT_OK(sink->Open(UnboundedContext(&counters, true)));
    ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
    ASSERT_OK(sink->Write(std::span<const Record>(records).subspan(0, 1)));
    ASSERT_OK_AND_ASSIGN(info, sink->AsCheckpointed()->PrepareCommit(1));
    ASSERT_OK(sink->AsCheckpointed()->Commit(1));
    ASSERT_OK(sink->Write(std::span<const Record>(records).subspan(1, 1)));  // not covered
    EXPECT_EQ(ReadFile(path), "{\"a\":1}\n{\"b\":2.0,\"s\":\"x\\\"y\"}\n");
    ASSERT_OK(sink->AsCheckpointed()->Suspend());  // what a kill -9 leaves, flushed
  }
  EXPECT_EQ(info.ToJson(), "{\"file\":\"results.jsonl\",\"length\":8}");
  std::unique_ptr<Sink> sink = FileSink({path});
  SinkCounters counters;
  ASSERT_OK(sink->Open(UnboundedContext(&counters, true)));
  EXPECT_EQ(ReadFile(path), "{\"a\":1}\n{\"b\":2.0,\"s\":\"x\\\"y\"}\n");  // kept for Recover
  ASSERT_OK(sink->AsCheckpointed()->Recover(&info));
  EXPECT_EQ(ReadFile(path), "{\"a\":1}\n");
  ASSERT_OK(sink->Write(std::span<const Record>(records).subspan(1, 2)));
  ASSERT_OK(sink->Close());
  EXPECT_EQ(ReadFile(path), "{\"a\":1}\n{\"b\":2.0,\"s\":\"x\\\"y\"}\n[null,true]\n");
  EXPECT_EQ(DirEntries(dir.path()), (std::vector<std::string>{"results.jsonl"}));
}

TEST(FileSinkUnboundedTest, FreshStartWithCheckpointsReplacesTheFile) {
  TempDir dir;
  const std::string path = dir.file("results.jsonl");
  pulse::testing::WriteFile(path, "{\"old\":true}\n");
  pulse::testing::WriteFile(dir.file(".results.jsonl.inprogress-1-00"), "left by a crash");
  std::unique_ptr<Sink> sink = FileSink({path});
  SinkCounters counters;
  ASSERT_OK(sink->Open(UnboundedContext(&counters, true)));
  ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
  EXPECT_EQ(ReadFile(path), "");
  EXPECT_EQ(DirEntries(dir.path()), (std::vector<std::string>{"results.jsonl"}));
  ASSERT_OK(sink->Close());
}

TEST(FileSinkUnboundedTest, RecoverRefusesAFileShorterThanTheCheckpoint) {
  TempDir dir;
  const std::string path = dir.file("results.jsonl");
  pulse::testing::WriteFile(path, "{\"a\":1}\n");
  std::unique_ptr<Sink> sink = FileSink({path});
  SinkCounters counters;
  ASSERT_OK(sink->Open(UnboundedContext(&counters, true)));
  const Value info(Object{{"file", Value("results.jsonl")}, {"length", Value(100)}});
  Status st = sink->AsCheckpointed()->Recover(&info);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_EQ(st.message(), "cannot continue output '" + path +
                              "': it is shorter than the 100 bytes the checkpoint covers (was "
                              "it truncated or replaced?)");
  ASSERT_OK(sink->AsCheckpointed()->Suspend());
  EXPECT_EQ(ReadFile(path), "{\"a\":1}\n");  // left as it was
}

// A checkpoint of a bounded run resumed by an unbounded one (follow turned on): the temporary
// file is cut back and renamed into place; and the other way round, the final file continues
// in place.
TEST(FileSinkUnboundedTest, CheckpointsCarryAcrossBoundedAndUnboundedRuns) {
  TempDir dir;
  const std::string path = dir.file("results.jsonl");
  std::vector<Record> records = SomeRecords();
  Value info;
  {
    std::unique_ptr<Sink> sink = FileSink({path});
    SinkCounters counters;
    SinkContext ctx;
    ctx.counters = &counters;
    ctx.checkpoints = true;
    ASSERT_OK(sink->Open(ctx));
    ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
    ASSERT_OK(sink->Write(std::span<const Record>(records).subspan(0, 1)));
    ASSERT_OK_AND_ASSIGN(info, sink->AsCheckpointed()->PrepareCommit(1));
    ASSERT_OK(sink->Write(std::span<const Record>(records).subspan(1, 1)));
    ASSERT_OK(sink->AsCheckpointed()->Suspend());
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  {
    std::unique_ptr<Sink> sink = FileSink({path});
    SinkCounters counters;
    ASSERT_OK(sink->Open(UnboundedContext(&counters, true)));
    ASSERT_OK(sink->AsCheckpointed()->Recover(&info));
    EXPECT_EQ(ReadFile(path), "{\"a\":1}\n");
    EXPECT_EQ(DirEntries(dir.path()), (std::vector<std::string>{"results.jsonl"}));
    ASSERT_OK(sink->Write(std::span<const Record>(records).subspan(1, 1)));
    ASSERT_OK_AND_ASSIGN(info, sink->AsCheckpointed()->PrepareCommit(2));
    ASSERT_OK(sink->AsCheckpointed()->Suspend());
  }
  std::unique_ptr<Sink> sink = FileSink({path});
  SinkCounters counters;
  SinkContext ctx;
  ctx.counters = &counters;
  ctx.checkpoints = true;
  ASSERT_OK(sink->Open(ctx));
  ASSERT_OK(sink->AsCheckpointed()->Recover(&info));
  ASSERT_OK(sink->Write(std::span<const Record>(records).subspan(2, 1)));
  ASSERT_OK(sink->Close());
  EXPECT_EQ(ReadFile(path), "{\"a\":1}\n{\"b\":2.0,\"s\":\"x\\\"y\"}\n[null,true]\n");
  EXPECT_EQ(DirEntries(dir.path()), (std::vector<std::string>{"results.jsonl"}));
}

TEST(OutputFileTest, LargeAppendsAreWrittenInOrder) {
  TempDir dir;
  const std::string path = dir.file("big.txt");
  ASSERT_OK_AND_ASSIGN(auto file, OutputFile::Create(path));
  EXPECT_EQ(file->path(), path);
  std::string expected;
  const std::string big(OutputFile::kBufferBytes + 17, 'b');
  for (int i = 0; i < 3; ++i) {
    const std::string small = "line " + std::to_string(i) + "\n";
    ASSERT_OK(file->Append(small));
    ASSERT_OK(file->Append(big));
    expected += small + big;
  }
  const std::string almost(OutputFile::kBufferBytes - 3, 'c');
  ASSERT_OK(file->Append(almost));
  ASSERT_OK(file->Append("0123456789"));
  expected += almost + "0123456789";
  EXPECT_EQ(file->bytes_written(), expected.size());
  ASSERT_OK(file->Commit());
  EXPECT_EQ(ReadFile(path), expected);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::owner_read,
            std::filesystem::perms::owner_read);
  file->Abort();  // no-op after commit
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(OutputFileTest, CommitIntoADirectoryFailsAndCleansUp) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "target" / "inner");
  ASSERT_OK_AND_ASSIGN(auto file, OutputFile::Create(dir.file("target")));
  ASSERT_OK(file->Append("x"));
  Status st = file->Commit();
  EXPECT_EQ(st.code(), StatusCode::kIOError);
  EXPECT_EQ(DirEntries(dir.path()), (std::vector<std::string>{"target"}));
}

}  // namespace
}  // namespace pulse::io
