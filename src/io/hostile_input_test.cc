// SPDX-License-Identifier: MIT
// Hostile input for the file source (issue 8): each case with its exact expected records, dead
// letters and errors. Cases already covered by file_source_test.cc and csv_reader_test.cc are
// not repeated here (see docs/hardening.md for the full list and where each case is tested).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "io/file_source_test_util.h"
#include "io/line_reader.h"
#include "pulse/io/file.h"
#include "testing/manual_clock.h"
#include "testing/test_util.h"

namespace pulse::io {
namespace {

using pulse::testing::TempDir;
using pulse::testing::WriteFile;
using testing::JsonlOptions;
using testing::RunConfig;
using testing::RunFileSource;
using testing::SourceRun;

using Lines = std::vector<std::string>;
using namespace std::string_literals;

// One dead-letter line as the source writes it.
std::string DeadLetter(std::string_view reason, const std::string& origin, int position,
                       std::string_view error, std::string_view raw_json) {
  return std::string(R"({"reason":")") + std::string(reason) + R"(","origin":")" + origin +
         R"(","position":)" + std::to_string(position) + R"(,"error":")" + std::string(error) +
         R"(","raw":)" + std::string(raw_json) + "}\n";
}

constexpr std::string_view kImproperStructure =
    "The JSON document has an improper structure: missing or superfluous commas, braces, "
    "missing keys, etc.";

// ---------------------------------------------------------------------------------------------
// JSON lines

TEST(HostileJsonlTest, NulBytes) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path,
            "{\"event_time\":1,\"s\":\"\\u0000\"}\n"s  // escaped: valid
            "\0\0\0\n"s                                  // raw NULs
            "{\"event_time\":2,\"s\":\"a\0b\"}\n"s       // raw NUL in a string
            "{\"event_time\":3}\0\n"s);                  // NUL after the object
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1,\"s\":\"\\u0000\"}"}));
  EXPECT_EQ(run.dead_letter,
            DeadLetter("invalid_json", path, 2, kImproperStructure, R"("\u0000\u0000\u0000")") +
                DeadLetter("invalid_json", path, 3,
                           "Within strings, some characters must be escaped, we found unescaped "
                           "characters",
                           R"("{\"event_time\":2,\"s\":\"a\u0000b\"}")") +
                DeadLetter("invalid_json", path, 4, kImproperStructure,
                           R"("{\"event_time\":3}\u0000")"));
  EXPECT_EQ(run.bad(BadReason::kInvalidJson), 3u);
}

TEST(HostileJsonlTest, TruncatedLastLine) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path, "{\"event_time\":1}\n{\"event_time\":2,\"k\":\"abc");
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1}"}));
  EXPECT_EQ(run.dead_letter, DeadLetter("invalid_json", path, 2,
                                        "A string is opened, but never closed.",
                                        R"("{\"event_time\":2,\"k\":\"abc")"));
}

TEST(HostileJsonlTest, InvalidUtf8Sequences) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path,
            "{\"event_time\":1,\"s\":\"\xC0\xAF\"}\n"          // overlong '/'
            "{\"event_time\":2,\"s\":\"\xED\xA0\x80\"}\n"      // a UTF-16 surrogate
            "{\"event_time\":3,\"s\":\"\xF4\x90\x80\x80\"}\n"  // above U+10FFFF
            "{\"event_time\":4,\"s\":\"\xE2\x82\"}\n"          // truncated sequence
            "{\"event_time\":5,\"\xFF\":1}\n"                  // in a key
            "{\"event_time\":6,\"s\":\"\xE2\x82\xAC\"}\n");    // valid: the euro sign
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"6 {\"event_time\":6,\"s\":\"\xE2\x82\xAC\"}"}));
  EXPECT_EQ(run.bad(BadReason::kInvalidUtf8), 5u);
  // The raw text in the dead letter is valid UTF-8: each bad byte became U+FFFD.
  EXPECT_EQ(run.dead_letter.substr(0, run.dead_letter.find('\n') + 1),
            DeadLetter("invalid_utf8", path, 1, "The input is not valid UTF-8",
                       "\"{\\\"event_time\\\":1,\\\"s\\\":\\\"\xEF\xBF\xBD\xEF\xBF\xBD\\\"}\""));
}

// A 100 MB line is a bad record (line_too_long) and costs at most max_line_bytes of buffer.
// The line is mostly a hole in a sparse file, so the test writes almost nothing.
TEST(HostileJsonlTest, HundredMegabyteLineKeepsMemoryBounded) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  const std::string head = "{\"event_time\":1}\n{\"event_time\":2,\"pad\":\"";
  constexpr off_t kLineBytes = 100 << 20;
  {
    WriteFile(path, head);
    ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(head.size()) + kLineBytes), 0);
    std::ofstream f(path, std::ios::binary | std::ios::app);
    f << "\"}\n{\"event_time\":3}\n";
  }
  const uint64_t file_bytes = std::filesystem::file_size(path);
  SourceRun run = RunFileSource(dir, JsonlOptions(path), RunConfig::Batch(100));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1}", "3 {\"event_time\":3}"}));
  std::string raw = R"("{\"event_time\":2,\"pad\":\")";
  for (size_t i = 0; i < 1024 - (head.size() - 17); ++i) raw += "\\u0000";
  raw += "\"";
  EXPECT_EQ(run.dead_letter,
            DeadLetter("line_too_long", path, 2, "line is longer than max_line_bytes (16777216)",
                       raw));
  EXPECT_EQ(run.bytes_counted, file_bytes);

  // The reader's buffer never grows past max_line_bytes + "\r\n" (16 MiB + 2).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  internal::LineReader reader(internal::Framing::kLines, 16u << 20);
  reader.Reset(fd, nullptr, nullptr);
  size_t lines = 0;
  size_t max_capacity = 0;
  for (;;) {
    internal::Line line;
    Result<bool> more = reader.Next(internal::AtEnd::kEmit, &line);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    max_capacity = std::max(max_capacity, reader.buffer_capacity());
    if (!*more) break;
    ++lines;
  }
  ::close(fd);
  EXPECT_EQ(lines, 3u);
  EXPECT_LE(max_capacity, (16u << 20) + 2);
}

TEST(HostileJsonlTest, TenThousandDeepNesting) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  const std::string deep_array = std::string(10000, '[') + std::string(10000, ']');
  std::string deep_object;
  for (int i = 0; i < 10000; ++i) deep_object += "{\"a\":";
  deep_object += "1" + std::string(10000, '}');
  WriteFile(path, "{\"event_time\":1,\"d\":" + deep_array + "}\n" + deep_object +
                      "\n{\"event_time\":2,\"d\":" + std::string(1000, '[') +
                      std::string(1000, ']') + "}\n");
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  // 1000 levels are fine: simdjson's limit is 1024.
  ASSERT_EQ(run.records.size(), 1u);
  EXPECT_EQ(run.records[0].substr(0, 23), "2 {\"event_time\":2,\"d\":[");
  EXPECT_EQ(run.bad(BadReason::kInvalidJson), 2u);
  EXPECT_EQ(run.dead_letter.substr(0, run.dead_letter.find(",\"raw\":")),
            R"({"reason":"invalid_json","origin":")" + path +
                R"x(","position":1,"error":"The JSON document was too deep (too many nested )x"
                R"x(objects and arrays)")x");
}

TEST(HostileJsonlTest, NanAndInfinityLiteralsAreInvalidJson) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path,
            "{\"event_time\":1,\"x\":NaN}\n"
            "{\"event_time\":1,\"x\":Infinity}\n"
            "{\"event_time\":1,\"x\":-Infinity}\n"
            "{\"event_time\":1,\"x\":1e999}\n"
            "{\"event_time\":NaN}\n"
            "{\"event_time\":1,\"x\":\"NaN\"}\n");
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1,\"x\":\"NaN\"}"}));
  constexpr std::string_view kNumber = "Problem while parsing a number";
  EXPECT_EQ(run.dead_letter,
            DeadLetter("invalid_json", path, 1, kImproperStructure,
                       R"("{\"event_time\":1,\"x\":NaN}")") +
                DeadLetter("invalid_json", path, 2, kImproperStructure,
                           R"("{\"event_time\":1,\"x\":Infinity}")") +
                DeadLetter("invalid_json", path, 3, kNumber,
                           R"("{\"event_time\":1,\"x\":-Infinity}")") +
                DeadLetter("invalid_json", path, 4, kNumber,
                           R"("{\"event_time\":1,\"x\":1e999}")") +
                DeadLetter("invalid_json", path, 5, kImproperStructure,
                           R"("{\"event_time\":NaN}")"));
}

TEST(HostileJsonlTest, DuplicateKeysLaterValueWinsInFirstPosition) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path, "{\"k\":1,\"event_time\":1,\"k\":2,\"k\":{\"a\":3}}\n");
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"k\":{\"a\":3},\"event_time\":1}"}));
}

TEST(HostileJsonlTest, NonObjectValues) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path, "42\n-1.5\nnull\ntrue\n\"s\"\n[]\n{}\n");
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  EXPECT_TRUE(run.records.empty());
  EXPECT_EQ(run.dead_letter,
            DeadLetter("not_an_object", path, 1, "expected a JSON object, got an integer",
                       R"("42")") +
                DeadLetter("not_an_object", path, 2, "expected a JSON object, got a float",
                           R"("-1.5")") +
                DeadLetter("not_an_object", path, 3, "expected a JSON object, got null",
                           R"("null")") +
                DeadLetter("not_an_object", path, 4, "expected a JSON object, got a boolean",
                           R"("true")") +
                DeadLetter("not_an_object", path, 5, "expected a JSON object, got a string",
                           R"("\"s\"")") +
                DeadLetter("not_an_object", path, 6, "expected a JSON object, got an array",
                           R"("[]")") +
                DeadLetter("bad_event_time", path, 7, "missing time field 'event_time'",
                           R"("{}")"));
}

TEST(HostileJsonlTest, FileOfBlankLines) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path, "\n\n   \n\t\r\n\r\n\n");
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  EXPECT_TRUE(run.records.empty());
  EXPECT_EQ(run.bad_total, 0u);
  EXPECT_EQ(run.dead_letter, "");
  EXPECT_EQ(run.bytes_counted, 12u);
}

TEST(HostileJsonlTest, BomThenNothing) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path, "\xEF\xBB\xBF");
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  EXPECT_TRUE(run.records.empty());
  EXPECT_EQ(run.bad_total, 0u);
}

// Event-time values at and beyond the edges, through the source.
TEST(HostileJsonlTest, TimeValuesAtTheEdges) {
  TempDir dir;
  const std::string path = dir.file("in.jsonl");
  WriteFile(path,
            "{\"event_time\":\"0000-01-01T00:00:00Z\"}\n"           // 1 year 0: the minimum
            "{\"event_time\":\"9999-12-31T23:59:59.999Z\"}\n"       // 2 the maximum
            "{\"event_time\":\"10000-01-01T00:00:00Z\"}\n"          // 3 five-digit year
            "{\"event_time\":\"-0001-01-01T00:00:00Z\"}\n"          // 4 negative year
            "{\"event_time\":-62167219200000}\n"                    // 5 epoch of year 0
            "{\"event_time\":-62167219200001}\n"                    // 6 one ms earlier
            "{\"event_time\":-9223372036854775808}\n"               // 7 INT64_MIN
            "{\"event_time\":-9223372036854775809}\n"               // 8 below INT64_MIN
            "{\"event_time\":18446744073709551615}\n"               // 9 UINT64_MAX
            "{\"event_time\":1e20}\n"                               // 10 a float
            "{\"event_time\":\"2016-12-31T23:59:60Z\"}\n"           // 11 leap second
            "{\"event_time\":\"2016-12-31T23:59:60.500+14:00\"}\n"  // 12 leap second, +14:00
            "{\"event_time\":\"2024-01-01T00:00:00+14:00\"}\n"      // 13 Kiribati
            "{\"event_time\":\"2024-01-01T00:00:00-12:00\"}\n"      // 14 Baker Island
            "{\"event_time\":\"2024-01-01T00:00:00+24:00\"}\n"      // 15 not an offset
            "{\"event_time\":\"2024-01-01T24:00:00Z\"}\n"           // 16 hour 24
            "{\"event_time\":\"2024-01-01T00:00:61Z\"}\n");         // 17 second 61
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records,
            (Lines{"-62167219200000 {\"event_time\":\"0000-01-01T00:00:00Z\"}",
                   "253402300799999 {\"event_time\":\"9999-12-31T23:59:59.999Z\"}",
                   "-62167219200000 {\"event_time\":-62167219200000}",
                   // 23:59:60 is read as the first millisecond of the next minute.
                   "1483228800000 {\"event_time\":\"2016-12-31T23:59:60Z\"}",
                   "1483178400500 {\"event_time\":\"2016-12-31T23:59:60.500+14:00\"}",
                   "1704016800000 {\"event_time\":\"2024-01-01T00:00:00+14:00\"}",
                   "1704110400000 {\"event_time\":\"2024-01-01T00:00:00-12:00\"}"}));
  constexpr std::string_view kNotRfc3339 = "time field 'event_time' is not an RFC 3339 time";
  constexpr std::string_view kOutOfRange = "time field 'event_time' is out of range";
  EXPECT_EQ(
      run.dead_letter,
      DeadLetter("bad_event_time", path, 3, kNotRfc3339,
                 R"("{\"event_time\":\"10000-01-01T00:00:00Z\"}")") +
          DeadLetter("bad_event_time", path, 4, kNotRfc3339,
                     R"("{\"event_time\":\"-0001-01-01T00:00:00Z\"}")") +
          DeadLetter("bad_event_time", path, 6, kOutOfRange,
                     R"("{\"event_time\":-62167219200001}")") +
          DeadLetter("bad_event_time", path, 7, kOutOfRange,
                     R"("{\"event_time\":-9223372036854775808}")") +
          // Below INT64_MIN simdjson itself gives up on the number.
          DeadLetter("invalid_json", path, 8, "Problem while parsing a number",
                     R"("{\"event_time\":-9223372036854775809}")") +
          DeadLetter("bad_event_time", path, 9, kOutOfRange,
                     R"("{\"event_time\":18446744073709551615}")") +
          DeadLetter("bad_event_time", path, 10,
                     "time field 'event_time' is a float, not an RFC 3339 string or integer "
                     "epoch ms",
                     R"("{\"event_time\":1e20}")") +
          DeadLetter("bad_event_time", path, 15, kNotRfc3339,
                     R"("{\"event_time\":\"2024-01-01T00:00:00+24:00\"}")") +
          DeadLetter("bad_event_time", path, 16, kNotRfc3339,
                     R"("{\"event_time\":\"2024-01-01T24:00:00Z\"}")") +
          DeadLetter("bad_event_time", path, 17, kNotRfc3339,
                     R"("{\"event_time\":\"2024-01-01T00:00:61Z\"}")"));
}

// ---------------------------------------------------------------------------------------------
// CSV

TEST(HostileCsvTest, UnbalancedQuoteSwallowsLinesUpToTheNextQuote) {
  TempDir dir;
  const std::string path = dir.file("in.csv");
  WriteFile(path,
            "event_time,k\n"
            "1,\"open\n"        // 2: the quote stays open over line 3 ...
            "2,b\n"
            "3,c\"\n"           // ... and closes here: one record of lines 2-4, 2 cells
            "4,\"x\"y\"\n"      // 5: text after a closing quote is kept, quotes and all
            "5,d\n");
  FileSourceOptions options = JsonlOptions(path);
  options.format = FileFormat::kCsv;
  SourceRun run = RunFileSource(dir, options);
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":\"1\",\"k\":\"open\\n2,b\\n3,c\"}",
                                "4 {\"event_time\":\"4\",\"k\":\"xy\\\"\"}",
                                "5 {\"event_time\":\"5\",\"k\":\"d\"}"}));
  EXPECT_EQ(run.bad_total, 0u);
}

// ---------------------------------------------------------------------------------------------
// Files

// The status of opening `path` with the file source, as a string.
std::string OpenStatus(const std::string& path) {
  auto handler = BadRecordHandler::Open({});
  if (!handler.ok()) return handler.status().ToString();
  SourceCounters counters;
  std::atomic<bool> stop{false};
  std::unique_ptr<Source> source = FileSource(JsonlOptions(path));
  return source->Open({handler->get(), &counters, &stop}).ToString();
}

// As root (as in CI) chmod 000 does not stop reads, so the check runs in a child process that
// gives up root for "nobody" first.
TEST(HostileFileTest, UnreadableFileIsIOError) {
  TempDir dir;
  const std::string path = dir.file("secret.jsonl");
  WriteFile(path, "{\"event_time\":1}\n");
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  const std::string expected = "IO error: cannot open '" + path + "': Permission denied";
  if (::geteuid() != 0) {
    EXPECT_EQ(OpenStatus(path), expected);
    return;
  }
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    constexpr uid_t kNobody = 65534;
    const std::string status = ::setgid(kNobody) == 0 && ::setuid(kNobody) == 0
                                   ? OpenStatus(path)
                                   : std::string("cannot become nobody");
    (void)!::write(fds[1], status.data(), status.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) got.append(buf, n);
  ::close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  EXPECT_EQ(got, expected);
}

// A FIFO is read like standard input: as a stream, until its writer closes it.
TEST(HostileFileTest, FifoIsReadUntilTheWriterCloses) {
  TempDir dir;
  const std::string path = dir.file("in.fifo");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  std::thread writer([&] {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);  // waits for the reader
    ASSERT_GE(fd, 0);
    const std::string lines = "{\"event_time\":1}\nnot json\n{\"event_time\":2}";
    ASSERT_EQ(::write(fd, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
    ::close(fd);
  });
  SourceRun run = RunFileSource(dir, JsonlOptions(path));
  writer.join();
  ASSERT_OK(run.status);
  EXPECT_EQ(run.records, (Lines{"1 {\"event_time\":1}", "2 {\"event_time\":2}"}));
  EXPECT_EQ(run.bad(BadReason::kInvalidJson), 1u);
}

// A followed file that is deleted keeps being read through the open descriptor: what was
// written before and after the unlink arrives, and nothing fails.
TEST(HostileFileTest, FollowedFileDeletedWhileRead) {
  TempDir dir;
  const std::string path = dir.file("grow.jsonl");
  WriteFile(path, "{\"event_time\":1}\n");
  ASSERT_OK_AND_ASSIGN(auto handler, BadRecordHandler::Open({}));
  SourceCounters counters;
  std::atomic<bool> stop{false};
  pulse::testing::ManualClock clock;  // polls take simulated time
  clock.SetSleep(pulse::testing::ManualClock::Sleep::kAdvance);
  EnvWithClock env(clock);
  FileSourceOptions options = JsonlOptions(path);
  options.follow = true;
  std::unique_ptr<Source> source = FileSource(options);
  SourceContext ctx;
  ctx.bad_records = handler.get();
  ctx.counters = &counters;
  ctx.stop = &stop;
  ctx.env = &env;
  ASSERT_OK(source->Open(ctx));
  std::vector<Record> got;
  auto read_until = [&](size_t want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
      Result<bool> more = source->Read(4, &got);
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      ASSERT_TRUE(*more);
    }
  };
  read_until(1);
  {
    std::ofstream f(path, std::ios::binary | std::ios::app);
    ASSERT_EQ(::unlink(path.c_str()), 0);
    f << "{\"event_time\":2}\n";  // written to the deleted file, still open here and there
  }
  read_until(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].time, 2);
  stop = true;
  std::vector<Record> rest;
  ASSERT_OK_AND_ASSIGN(bool more, source->Read(4, &rest));
  EXPECT_FALSE(more);
  EXPECT_TRUE(rest.empty());
  ASSERT_OK(source->Close());
  EXPECT_EQ(handler->total(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Output permissions

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

// Even with umask 0, output files are 0644 and the directories Pulse creates for them 0755:
// nothing Pulse writes is world-writable. A stricter umask is respected.
TEST(OutputPermissionsTest, FilesAre0644AndNewDirectories0755WhateverTheUmask) {
  TempDir dir;
  {
    ScopedUmask umask(0);
    std::unique_ptr<Sink> sink = FileSink({dir.file("new/sub/out.jsonl")});
    SinkCounters counters;
    ASSERT_OK(sink->Open({&counters}));
    ASSERT_OK(sink->Close());
    ASSERT_OK_AND_ASSIGN(auto handler,
                         BadRecordHandler::Open({OnError::kSkip, dir.file("dl/dead.jsonl")}));
    ASSERT_OK(handler->Close());
    // Replacing a world-writable file gives a 0644 file.
    WriteFile(dir.file("old.jsonl"), "x\n");
    ASSERT_EQ(::chmod(dir.file("old.jsonl").c_str(), 0666), 0);
    std::unique_ptr<Sink> replace = FileSink({dir.file("old.jsonl")});
    ASSERT_OK(replace->Open({&counters}));
    ASSERT_OK(replace->Close());
  }
  EXPECT_EQ(ModeOf(dir.file("new/sub/out.jsonl")), 0644u);
  EXPECT_EQ(ModeOf(dir.file("new/sub")), 0755u);
  EXPECT_EQ(ModeOf(dir.file("new")), 0755u);
  EXPECT_EQ(ModeOf(dir.file("dl/dead.jsonl")), 0644u);
  EXPECT_EQ(ModeOf(dir.file("dl")), 0755u);
  EXPECT_EQ(ModeOf(dir.file("old.jsonl")), 0644u);
  {
    ScopedUmask umask(077);
    std::unique_ptr<Sink> sink = FileSink({dir.file("private/out.jsonl")});
    SinkCounters counters;
    ASSERT_OK(sink->Open({&counters}));
    ASSERT_OK(sink->Close());
  }
  EXPECT_EQ(ModeOf(dir.file("private/out.jsonl")), 0600u);
  EXPECT_EQ(ModeOf(dir.file("private")), 0700u);
}

}  // namespace
}  // namespace pulse::io
