// SPDX-License-Identifier: MIT
// Tests for LineReader: framing, line numbers, over-long lines with bounded memory, follow-style
// holding of partial lines.
#include "io/line_reader.h"

#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/test_util.h"

namespace pulse::io::internal {
namespace {

using pulse::testing::TempDir;
using pulse::testing::WriteFile;

// "<number>:<text>" with "!" appended for too-long lines and "?" for unterminated quotes.
std::vector<std::string> ReadAll(LineReader* reader, AtEnd at_end = AtEnd::kEmit) {
  std::vector<std::string> out;
  Line line;
  for (;;) {
    Result<bool> got = reader->Next(at_end, &line);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok() || !*got) break;
    out.push_back(std::to_string(line.number) + ":" + std::string(line.text) +
                  (line.too_long ? "!" : "") + (line.unterminated_quote ? "?" : ""));
  }
  return out;
}

class LineReaderTest : public ::testing::Test {
 protected:
  int Open(const std::string& contents) {
    WriteFile(dir_.file("in"), contents);
    fd_ = ::open(dir_.file("in").c_str(), O_RDONLY);
    return fd_;
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
  }
  TempDir dir_;
  int fd_ = -1;
};

TEST_F(LineReaderTest, LinesAcrossTinyBlocks) {
  LineReader reader(Framing::kLines, 100, /*block_bytes=*/4);
  std::atomic<uint64_t> bytes{0};
  reader.Reset(Open("\xEF\xBB\xBF" "abc\r\n\ndefghij\nk"), nullptr, &bytes);
  EXPECT_EQ(ReadAll(&reader), (std::vector<std::string>{"1:abc", "2:", "3:defghij", "4:k"}));
  EXPECT_EQ(bytes.load(), 18u);
  EXPECT_EQ(reader.offset(), 18u);
}

TEST_F(LineReaderTest, TooLongLinesKeepMemoryBounded) {
  constexpr size_t kBlock = 64;
  constexpr size_t kMax = 100;
  LineReader reader(Framing::kLines, kMax, kBlock);
  std::string input = "short\n" + std::string(2000000, 'x') + "\nafter\n" +
                      std::string(kMax, 'y') + "\r\n" + std::string(kMax + 1, 'z');
  reader.Reset(Open(input), nullptr, nullptr);
  Line line;
  std::vector<std::string> got;
  size_t max_capacity = 0;
  for (;;) {
    ASSERT_OK_AND_ASSIGN(bool more, reader.Next(AtEnd::kEmit, &line));
    max_capacity = std::max(max_capacity, reader.buffer_capacity());
    if (!more) break;
    got.push_back(std::to_string(line.number) + ":" + std::to_string(line.text.size()) +
                  (line.too_long ? "!" : ""));
  }
  // Too-long lines give their first 1024 bytes.
  EXPECT_EQ(got, (std::vector<std::string>{"1:5", "2:1024!", "3:5", "4:100", "5:101!"}));
  EXPECT_LE(max_capacity, kMax + 2 + kBlock);
}

TEST_F(LineReaderTest, RawPrefixDoesNotSplitUtf8) {
  LineReader reader(Framing::kLines, 10);
  // 1023 ASCII bytes, then a 2-byte character across the 1024-byte cut.
  reader.Reset(Open(std::string(1023, 'a') + "\xc3\xa9" + "tail\n"), nullptr, nullptr);
  Line line;
  ASSERT_OK_AND_ASSIGN(bool more, reader.Next(AtEnd::kEmit, &line));
  ASSERT_TRUE(more);
  EXPECT_TRUE(line.too_long);
  EXPECT_EQ(line.text, std::string(1023, 'a'));
}

TEST_F(LineReaderTest, CsvRecordsSpanQuotedNewlines) {
  LineReader reader(Framing::kCsv, 1000, /*block_bytes=*/3);
  reader.Reset(Open("h1,h2\r\n\"a\nb\",\"c\"\"\r\nd\"\nx,y\n\n\"q\"z,\"open\nend"), nullptr,
               nullptr);
  EXPECT_EQ(ReadAll(&reader),
            (std::vector<std::string>{"1:h1,h2", "2:\"a\nb\",\"c\"\"\r\nd\"", "5:x,y", "6:",
                                      "7:\"q\"z,\"open\nend?"}));
}

TEST_F(LineReaderTest, CsvTooLongRecordSkipsToItsEnd) {
  LineReader reader(Framing::kCsv, 8, /*block_bytes=*/4);
  reader.Reset(Open("a,b\n\"long\n,,,\n\"\"still\",more\nc,d\n"), nullptr, nullptr);
  EXPECT_EQ(ReadAll(&reader), (std::vector<std::string>{
                                  "1:a,b", "2:\"long\n,,,\n\"\"still\",more!", "5:c,d"}));
}

TEST_F(LineReaderTest, HoldKeepsPartialLineUntilDrain) {
  LineReader reader(Framing::kLines, 100, 16);
  const int fd = Open("one\ntw");
  reader.Reset(fd, nullptr, nullptr);
  EXPECT_EQ(ReadAll(&reader, AtEnd::kHold), (std::vector<std::string>{"1:one"}));
  // The file grows.
  {
    std::FILE* f = std::fopen(dir_.file("in").c_str(), "ab");
    std::fputs("o\nthr", f);
    std::fclose(f);
  }
  EXPECT_EQ(ReadAll(&reader, AtEnd::kHold), (std::vector<std::string>{"2:two"}));
  EXPECT_EQ(ReadAll(&reader, AtEnd::kDrain), (std::vector<std::string>{"3:thr"}));
  EXPECT_EQ(ReadAll(&reader, AtEnd::kDrain), (std::vector<std::string>{}));
}

TEST_F(LineReaderTest, BomSplitAcrossReadsInHoldMode) {
  LineReader reader(Framing::kLines, 100, 16);
  reader.Reset(Open("\xEF\xBB"), nullptr, nullptr);
  EXPECT_EQ(ReadAll(&reader, AtEnd::kHold), (std::vector<std::string>{}));
  {
    std::FILE* f = std::fopen(dir_.file("in").c_str(), "ab");
    std::fputs("\xBFx\n", f);
    std::fclose(f);
  }
  EXPECT_EQ(ReadAll(&reader, AtEnd::kHold), (std::vector<std::string>{"1:x"}));
}

// A pipe (issue 22): kAvailable hands over each complete line as soon as it is there, holds a
// partial one without blocking, and at the end emits the final partial line.
TEST(LineReaderStreamTest, AvailableNeverBlocksOnAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  LineReader reader(Framing::kLines, 100);
  reader.Reset(fds[0], nullptr, nullptr);
  Line line;
  auto write = [&](std::string_view s) {
    ASSERT_EQ(::write(fds[1], s.data(), s.size()), static_cast<ssize_t>(s.size()));
  };
  ASSERT_OK_AND_ASSIGN(bool got, reader.Next(AtEnd::kAvailable, &line));
  EXPECT_FALSE(got);  // nothing written yet: no wait
  EXPECT_FALSE(reader.at_eof());
  write("one\ntw");
  ASSERT_OK_AND_ASSIGN(got, reader.Next(AtEnd::kAvailable, &line));
  ASSERT_TRUE(got);
  EXPECT_EQ(line.text, "one");
  EXPECT_EQ(reader.consumed_offset(), 4u);
  ASSERT_OK_AND_ASSIGN(got, reader.Next(AtEnd::kAvailable, &line));
  EXPECT_FALSE(got);  // "tw" is held
  write("o\nthree");
  ASSERT_OK_AND_ASSIGN(got, reader.Next(AtEnd::kAvailable, &line));
  ASSERT_TRUE(got);
  EXPECT_EQ(line.text, "two");
  EXPECT_EQ(line.number, 2u);
  ::close(fds[1]);
  ASSERT_OK_AND_ASSIGN(got, reader.Next(AtEnd::kAvailable, &line));
  ASSERT_TRUE(got);
  EXPECT_EQ(line.text, "three");
  EXPECT_TRUE(reader.at_eof());
  ASSERT_OK_AND_ASSIGN(got, reader.Next(AtEnd::kAvailable, &line));
  EXPECT_FALSE(got);
  ::close(fds[0]);
}

// On a terminal one Ctrl-D ends the input: once read(2) returned 0 the reader does not read
// again (a second read would wait for another Ctrl-D, or take what was typed after it).
TEST(LineReaderStreamTest, OneCtrlDEndsATerminal) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const int terminal = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  ASSERT_GE(terminal, 0);
  termios mode{};
  ASSERT_EQ(::tcgetattr(terminal, &mode), 0);
  mode.c_lflag |= ICANON;
  mode.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ASSERT_EQ(::tcsetattr(terminal, TCSANOW, &mode), 0);
  const std::string typed = std::string("a\n") + static_cast<char>(mode.c_cc[VEOF]) + "b\n";
  for (const AtEnd at_end : {AtEnd::kEmit, AtEnd::kAvailable}) {
    SCOPED_TRACE(static_cast<int>(at_end));
    ASSERT_EQ(::write(master, typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
    LineReader reader(Framing::kLines, 100);
    reader.Reset(terminal, nullptr, nullptr);
    Line line;
    Result<bool> got = false;
    // kAvailable: the terminal may need a moment to pass the typed text on.
    for (int i = 0; i < 1000; ++i) {
      got = reader.Next(at_end, &line);
      if (!got.ok() || *got) break;
      ::usleep(1000);
    }
    ASSERT_OK(got.status());
    ASSERT_TRUE(*got);
    EXPECT_EQ(line.text, "a");
    ASSERT_OK_AND_ASSIGN(const bool more, reader.Next(at_end, &line));  // the Ctrl-D
    EXPECT_FALSE(more);
    EXPECT_TRUE(reader.at_eof());
    ASSERT_OK_AND_ASSIGN(const bool again, reader.Next(at_end, &line));  // not read again
    EXPECT_FALSE(again);
    // "b" is still there for whoever reads the terminal next.
    char rest[8];
    EXPECT_EQ(::read(terminal, rest, sizeof rest), 2);
  }
  ::close(terminal);
  ::close(master);
}

}  // namespace
}  // namespace pulse::io::internal
