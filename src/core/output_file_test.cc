// SPDX-License-Identifier: MIT
// OutputFile's checkpoint protocol: PrepareCommit, Recover after a crash, Suspend.
#include "pulse/core/output_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "testing/test_util.h"

namespace pulse::internal {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(OutputFileCheckpointTest, RecoverCutsBackToTheCheckpointAndContinues) {
  pulse::testing::TempDir dir;
  const std::string path = dir.file("out.jsonl");
  Value info;
  {
    ASSERT_OK_AND_ASSIGN(auto file, OutputFile::Create(path));
    ASSERT_OK(file->Append("a\nb\n"));
    ASSERT_OK_AND_ASSIGN(info, file->PrepareCommit());
    ASSERT_OK(file->Append("c-not-covered\n"));
    ASSERT_OK(file->Flush());
    ASSERT_OK(file->Suspend());  // as a crash would leave it (the bytes reached the file)
  }
  EXPECT_EQ(info.Find("length")->as_int(), 4);
  // A second crashed run left another temporary file that no checkpoint names.
  pulse::testing::WriteFile(dir.file(".out.jsonl.inprogress-1-00"), "junk");
  ASSERT_OK_AND_ASSIGN(auto file, OutputFile::Create(path));
  ASSERT_OK(file->Recover(&info));
  EXPECT_EQ(file->bytes_written(), 4u);
  ASSERT_OK(file->Append("c\n"));
  ASSERT_OK(file->Commit());
  EXPECT_EQ(pulse::testing::ReadFile(path), "a\nb\nc\n");
  EXPECT_EQ(Names(dir.path().string()), std::vector<std::string>{"out.jsonl"});
}

TEST(OutputFileCheckpointTest, RecoverOfACommittedOutputLeavesItAlone) {
  pulse::testing::TempDir dir;
  const std::string path = dir.file("out.jsonl");
  Value info;
  {
    ASSERT_OK_AND_ASSIGN(auto file, OutputFile::Create(path));
    ASSERT_OK(file->Append("done\n"));
    ASSERT_OK_AND_ASSIGN(info, file->PrepareCommit());
    ASSERT_OK(file->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto file, OutputFile::Create(path));
  ASSERT_OK(file->Recover(&info));
  Status st = file->Append("more\n");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("already completed"), std::string::npos);
  ASSERT_OK(file->Commit());
  EXPECT_EQ(pulse::testing::ReadFile(path), "done\n");
  EXPECT_EQ(Names(dir.path().string()), std::vector<std::string>{"out.jsonl"});
}

TEST(OutputFileCheckpointTest, FreshRecoverRemovesLeftoversOnly) {
  pulse::testing::TempDir dir;
  const std::string path = dir.file("out.jsonl");
  pulse::testing::WriteFile(dir.file(".out.jsonl.inprogress-9-ff"), "left by a crash");
  pulse::testing::WriteFile(dir.file(".other.jsonl.inprogress-9-ff"), "another output's");
  ASSERT_OK_AND_ASSIGN(auto file, OutputFile::Create(path));
  ASSERT_OK(file->Recover(nullptr));
  ASSERT_OK(file->Append("x\n"));
  ASSERT_OK(file->Commit());
  EXPECT_EQ(Names(dir.path().string()),
            (std::vector<std::string>{".other.jsonl.inprogress-9-ff", "out.jsonl"}));
}

TEST(OutputFileCheckpointTest, MissingOrShortFilesAreCorruption) {
  pulse::testing::TempDir dir;
  const std::string path = dir.file("out.jsonl");
  Object missing;
  missing.emplace_back("temp", Value(".out.jsonl.inprogress-1-aa"));
  missing.emplace_back("length", Value(int64_t{3}));
  const Value missing_info(missing);
  ASSERT_OK_AND_ASSIGN(auto file, OutputFile::Create(path));
  EXPECT_EQ(file->Recover(&missing_info).code(), StatusCode::kCorruption);

  pulse::testing::WriteFile(dir.file(".out.jsonl.inprogress-1-aa"), "ab");
  ASSERT_OK_AND_ASSIGN(auto again, OutputFile::Create(path));
  Status st = again->Recover(&missing_info);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("shorter than the 3 bytes"), std::string::npos) << st.message();

  Object escape;
  escape.emplace_back("temp", Value("../../etc/passwd"));
  escape.emplace_back("length", Value(int64_t{0}));
  ASSERT_OK_AND_ASSIGN(auto third, OutputFile::Create(path));
  Value bad(escape);
  EXPECT_EQ(third->Recover(&bad).code(), StatusCode::kCorruption);
}

TEST(OutputFileCheckpointTest, StdoutCannotTakePart) {
  auto out = OutputFile::Stdout();
  EXPECT_EQ(out->PrepareCommit().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out->Recover(nullptr).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pulse::internal
