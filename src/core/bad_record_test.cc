// SPDX-License-Identifier: MIT
// Tests for BadRecordHandler (counts, dead-letter lines, on_error) and AppendUtf8Lossy.
#include "pulse/core/bad_record.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "pulse/core/output_file.h"
#include "testing/test_util.h"

namespace pulse {
namespace {

using testing::ReadFile;
using testing::TempDir;

TEST(BadReasonNameTest, AllNames) {
  EXPECT_EQ(BadReasonName(BadReason::kBadEventTime), "bad_event_time");
  EXPECT_EQ(BadReasonName(BadReason::kInvalidJson), "invalid_json");
  EXPECT_EQ(BadReasonName(BadReason::kNotAnObject), "not_an_object");
  EXPECT_EQ(BadReasonName(BadReason::kRaggedRow), "ragged_row");
  EXPECT_EQ(BadReasonName(BadReason::kInvalidUtf8), "invalid_utf8");
  EXPECT_EQ(BadReasonName(BadReason::kLineTooLong), "line_too_long");
  EXPECT_EQ(BadReasonName(BadReason::kLate), "late");
  EXPECT_EQ(BadReasonName(BadReason::kChannelFull), "channel_full");
}

TEST(BadRecordHandlerTest, SkipCountsWithoutDeadLetter) {
  ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open({}));
  ASSERT_OK(handler->Report({BadReason::kInvalidJson, "a.jsonl", 3, "{", "bad"}));
  ASSERT_OK(handler->Report({BadReason::kInvalidJson, "a.jsonl", 4, "{", "bad"}));
  ASSERT_OK(handler->Report({BadReason::kRaggedRow, "a.csv", 2, "x", "bad"}));
  handler->Count(BadReason::kLate, 5);
  handler->Count(BadReason::kChannelFull);
  EXPECT_EQ(handler->count(BadReason::kInvalidJson), 2u);
  EXPECT_EQ(handler->count(BadReason::kRaggedRow), 1u);
  EXPECT_EQ(handler->count(BadReason::kLate), 5u);
  EXPECT_EQ(handler->count(BadReason::kChannelFull), 1u);
  EXPECT_EQ(handler->count(BadReason::kBadEventTime), 0u);
  EXPECT_EQ(handler->total(), 9u);
  ASSERT_OK(handler->Close());
}

TEST(BadRecordHandlerTest, DeadLetterLinesAppearOnClose) {
  TempDir dir;
  const std::string path = dir.file("sub/dead.jsonl");
  ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open({OnError::kSkip, path}));
  ASSERT_OK(handler->Report(
      {BadReason::kInvalidJson, "in.jsonl", 3, "{\"a\":", "The JSON document is bad"}));
  ASSERT_OK(handler->Report(
      {BadReason::kBadEventTime, "dir/\"q\".jsonl", 12, "{\"t\":\"x\"}\ttab", "time field"}));
  handler->Count(BadReason::kLate);  // counted, not written
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_OK(handler->Close());
  EXPECT_EQ(ReadFile(path),
            "{\"reason\":\"invalid_json\",\"origin\":\"in.jsonl\",\"position\":3,"
            "\"error\":\"The JSON document is bad\",\"raw\":\"{\\\"a\\\":\"}\n"
            "{\"reason\":\"bad_event_time\",\"origin\":\"dir/\\\"q\\\".jsonl\",\"position\":12,"
            "\"error\":\"time field\",\"raw\":\"{\\\"t\\\":\\\"x\\\"}\\ttab\"}\n");
  // Only the final file is left in the directory.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "sub")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(BadRecordHandlerTest, InvalidUtf8InRawIsReplaced) {
  TempDir dir;
  const std::string path = dir.file("dead.jsonl");
  ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open({OnError::kSkip, path}));
  ASSERT_OK(handler->Report({BadReason::kInvalidUtf8, "x", 1, "a\xff" "b\xc3\xa9\xe2\x82",
                             "The input is not valid UTF-8"}));
  ASSERT_OK(handler->Close());
  EXPECT_EQ(ReadFile(path),
            "{\"reason\":\"invalid_utf8\",\"origin\":\"x\",\"position\":1,"
            "\"error\":\"The input is not valid UTF-8\","
            "\"raw\":\"a\xef\xbf\xbd" "b\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\"}\n");
}

TEST(BadRecordHandlerTest, FailReturnsErrorNamingTheRecord) {
  TempDir dir;
  const std::string path = dir.file("dead.jsonl");
  ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open({OnError::kFail, path}));
  Status st = handler->Report({BadReason::kNotAnObject, "in.jsonl", 7, "[1]",
                               "expected a JSON object, got an array"});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "in.jsonl:7: not_an_object: expected a JSON object, got an array");
  EXPECT_EQ(handler->count(BadReason::kNotAnObject), 1u);
  ASSERT_OK(handler->Close());
  EXPECT_EQ(ReadFile(path),
            "{\"reason\":\"not_an_object\",\"origin\":\"in.jsonl\",\"position\":7,"
            "\"error\":\"expected a JSON object, got an array\",\"raw\":\"[1]\"}\n");
}

TEST(BadRecordHandlerTest, DestroyWithoutCloseLeavesNothing) {
  TempDir dir;
  const std::string path = dir.file("dead.jsonl");
  {
    ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open({OnError::kSkip, path}));
    ASSERT_OK(handler->Report({BadReason::kInvalidJson, "x", 1, "{", "e"}));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(BadRecordHandlerTest, UnwritableDeadLetterPathFailsOpen) {
  TempDir dir;
  testing::WriteFile(dir.file("file"), "x");
  auto handler = BadRecordHandler::Open({OnError::kSkip, dir.file("file/dead.jsonl")});
  ASSERT_FALSE(handler.ok());
  EXPECT_EQ(handler.status().code(), StatusCode::kIOError);
  EXPECT_EQ(handler.status().message().rfind("dead-letter output: cannot create directory", 0),
            0u)
      << handler.status().message();
}

std::string Lossy(std::string_view s) {
  std::string out;
  AppendUtf8Lossy(s, &out);
  return out;
}

TEST(AppendUtf8LossyTest, ReplacesEachInvalidByte) {
  EXPECT_EQ(Lossy("plain ascii"), "plain ascii");
  EXPECT_EQ(Lossy("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(Lossy("\x80"), "\xef\xbf\xbd");
  EXPECT_EQ(Lossy("a\xc3"), "a\xef\xbf\xbd");                      // truncated sequence
  EXPECT_EQ(Lossy("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");        // overlong
  EXPECT_EQ(Lossy("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  EXPECT_EQ(Lossy("\xf4\x90\x80\x80").size(), 12u);                // above U+10FFFF
  EXPECT_EQ(Lossy(""), "");
}

}  // namespace
}  // namespace pulse
