// SPDX-License-Identifier: MIT
// Tests for ReadInputLines and InputLineDecoder: the file source's framing and decoding rules
// for input it does not read itself.
#include "pulse/io/input_lines.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "testing/test_util.h"

namespace pulse::io {
namespace {

using ::pulse::testing::TempDir;
using ::pulse::testing::WriteFile;

std::vector<InputLine> Lines(const std::string& contents, FileFormat format,
                             size_t max_line_bytes = 1 << 20) {
  TempDir dir;
  WriteFile(dir.file("in"), contents);
  const int fd = ::open(dir.file("in").c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  Result<std::vector<InputLine>> lines = ReadInputLines(fd, format, max_line_bytes);
  ::close(fd);
  EXPECT_TRUE(lines.ok()) << lines.status().ToString();
  return lines.ok() ? *lines : std::vector<InputLine>();
}

TEST(ReadInputLines, JsonLinesSkipBlankLinesAndKeepNumbers) {
  std::vector<InputLine> lines =
      Lines("\xEF\xBB\xBF{\"a\":1}\r\n  \n\n{\"a\":2}\n{\"a\":3}", FileFormat::kJsonl);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "{\"a\":1}");  // no byte-order mark, no "\r"
  EXPECT_EQ(lines[0].number, 1u);
  EXPECT_EQ(lines[1].text, "{\"a\":2}");
  EXPECT_EQ(lines[1].number, 4u);
  EXPECT_EQ(lines[2].number, 5u);  // the last line needs no "\n"
}

TEST(ReadInputLines, CsvRecordsSpanQuotedNewlines) {
  std::vector<InputLine> lines = Lines("ts,k\n1,\"a\nb\"\n\n2,\"open", FileFormat::kCsv);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].text, "1,\"a\nb\"");
  EXPECT_EQ(lines[1].number, 2u);
  EXPECT_FALSE(lines[1].unterminated_quote);
  EXPECT_TRUE(lines[2].unterminated_quote);
}

TEST(ReadInputLines, TooLongLinesAreMarked) {
  std::vector<InputLine> lines = Lines("{\"a\":1}\n" + std::string(100, 'x') + "\n{}\n",
                                       FileFormat::kJsonl, 16);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(lines[0].too_long);
  EXPECT_TRUE(lines[1].too_long);
  EXPECT_FALSE(lines[2].too_long);
}

TEST(InputLineHelpers, BlankLinesAndOpenQuotes) {
  EXPECT_TRUE(IsBlankLine(" \t\r", FileFormat::kJsonl));
  EXPECT_FALSE(IsBlankLine(" \t\r", FileFormat::kCsv));
  EXPECT_TRUE(IsBlankLine("", FileFormat::kCsv));
  EXPECT_TRUE(EndsInsideQuotedField("1,\"abc"));
  EXPECT_FALSE(EndsInsideQuotedField("1,\"a\"\"b\""));
  EXPECT_FALSE(EndsInsideQuotedField("1,a\"b"));
}

InputLine Line(std::string text) { return InputLine{std::move(text), 1, false, false}; }

TEST(InputLineDecoder, JsonRecordsAndBadLines) {
  InputLineDecoder decoder(FileFormat::kJsonl, "t", 64);
  DecodedLine good = decoder.Decode(Line(R"({"t":1000,"k":"a"})"));
  ASSERT_EQ(good.kind, DecodedLine::Kind::kRecord);
  EXPECT_EQ(good.record.time, 1000);
  EXPECT_EQ(good.record.value.ToJson(), R"({"t":1000,"k":"a"})");

  DecodedLine array = decoder.Decode(Line("[1]"));
  EXPECT_EQ(array.kind, DecodedLine::Kind::kBad);
  EXPECT_EQ(array.bad_reason, BadReason::kNotAnObject);
  EXPECT_EQ(array.bad_error, "expected a JSON object, got an array");

  DecodedLine no_time = decoder.Decode(Line(R"({"k":1})"));
  EXPECT_EQ(no_time.bad_reason, BadReason::kBadEventTime);
  EXPECT_EQ(no_time.bad_error, "missing time field 't'");

  EXPECT_EQ(decoder.Decode(Line("{")).bad_reason, BadReason::kInvalidJson);
  EXPECT_EQ(decoder.Decode(Line("{\"t\":\"\xFF\"}")).bad_reason, BadReason::kInvalidUtf8);

  InputLine long_line = Line("x");
  long_line.too_long = true;
  DecodedLine too_long = decoder.Decode(long_line);
  EXPECT_EQ(too_long.bad_reason, BadReason::kLineTooLong);
  EXPECT_EQ(too_long.bad_error, "line is longer than max_line_bytes (64)");
}

TEST(InputLineDecoder, CsvHeaderPerInput) {
  InputLineDecoder decoder(FileFormat::kCsv, "ts", 64);
  EXPECT_EQ(decoder.Decode(Line("ts,k")).kind, DecodedLine::Kind::kHeader);
  DecodedLine row = decoder.Decode(Line("5,a"));
  ASSERT_EQ(row.kind, DecodedLine::Kind::kRecord);
  EXPECT_EQ(row.record.time, 5);
  EXPECT_EQ(row.record.value.ToJson(), R"({"ts":"5","k":"a"})");

  DecodedLine ragged = decoder.Decode(Line("5"));
  EXPECT_EQ(ragged.bad_reason, BadReason::kRaggedRow);
  EXPECT_EQ(ragged.bad_error, "expected 2 cells, got 1");

  // A new input starts with its own header.
  decoder.StartInput();
  EXPECT_EQ(decoder.Decode(Line("k,ts")).kind, DecodedLine::Kind::kHeader);
  DecodedLine swapped = decoder.Decode(Line("b,7"));
  ASSERT_EQ(swapped.kind, DecodedLine::Kind::kRecord);
  EXPECT_EQ(swapped.record.time, 7);
}

}  // namespace
}  // namespace pulse::io
