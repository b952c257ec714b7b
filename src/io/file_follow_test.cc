// SPDX-License-Identifier: MIT
// Tests for following files by name (issue 22): log rotation by rename and create and by
// copytruncate, globs that gain files, resuming across rotation. The run's clock is a
// ManualClock whose sleeps advance it, so poll intervals and rotate_wait pass without waiting.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "io/file_source_test_util.h"
#include "pulse/io/file.h"
#include "testing/manual_clock.h"
#include "testing/test_util.h"

namespace pulse::io {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pulse::testing::ManualClock;
using pulse::testing::TempDir;
using testing::JsonlOptions;
using Times = std::vector<int64_t>;

std::string Line(int64_t t) { return "{\"event_time\":" + std::to_string(t) + "}\n"; }

std::string Lines(std::initializer_list<int64_t> times) {
  std::string s;
  for (int64_t t : times) s += Line(t);
  return s;
}

void Append(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::app);
  f << text;
}

// copytruncate as logrotate does it: copy, then empty the file in place.
void CopyTruncate(const std::string& path, const std::string& copy) {
  fs::copy_file(path, copy);
  fs::resize_file(path, 0);
}

class FollowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.SetSleep(ManualClock::Sleep::kAdvance);
    ASSERT_OK_AND_ASSIGN(handler_, BadRecordHandler::Open({}));
  }
  void TearDown() override {
    if (source_ != nullptr) EXPECT_OK(source_->Close());
  }

  FileSourceOptions Options(const std::string& path) {
    FileSourceOptions o = JsonlOptions(path);
    o.follow = true;
    o.poll_interval_ms = 100;
    o.rotate_wait_ms = 1000;
    return o;
  }

  // Open a following source on `options`, resuming `position` if given.
  void Start(const FileSourceOptions& options, const Value* position = nullptr) {
    if (source_ != nullptr) ASSERT_OK(source_->Close());
    ASSERT_OK(options.Validate());
    source_ = FileSource(options);
    ASSERT_TRUE(source_->Unbounded());
    if (position != nullptr) ASSERT_OK(source_->AsCheckpointed()->Seek(*position));
    SourceContext ctx;
    ctx.bad_records = handler_.get();
    ctx.counters = &counters_;
    ctx.stop = &stop_;
    ctx.env = &env_;
    ASSERT_OK(source_->Open(ctx));
  }

  // The event times of the records read until `want` more arrived (or 2000 reads, 200 s of
  // the run's clock, gave no more).
  Times Read(size_t want) {
    Times got;
    std::vector<Record> batch;
    for (int i = 0; i < 2000 && got.size() < want; ++i) {
      batch.clear();
      Result<bool> more = source_->Read(std::min<size_t>(3, want - got.size()), &batch);
      EXPECT_OK(more.status());
      if (!more.ok()) break;
      for (const Record& r : batch) got.push_back(r.time);
      if (!*more) break;
    }
    return got;
  }

  // Read for `d` of the run's clock; the event times that came.
  Times ReadFor(std::chrono::milliseconds d) {
    Times got;
    std::vector<Record> batch;
    const Clock::TimePoint end = clock_.Now() + d;
    while (clock_.Now() < end) {
      batch.clear();
      Result<bool> more = source_->Read(3, &batch);
      EXPECT_OK(more.status());
      if (!more.ok() || !*more) break;
      for (const Record& r : batch) got.push_back(r.time);
    }
    return got;
  }

  // The files of the source's position.
  std::vector<std::string> PositionFiles() {
    std::vector<std::string> files;
    Result<Value> position = source_->AsCheckpointed()->Position();
    EXPECT_OK(position.status());
    if (!position.ok()) return files;
    for (const Value& f : position->Find("files")->as_array()) {
      files.push_back(fs::path(f.Find("file")->as_string()).filename().string());
    }
    return files;
  }

  TempDir dir_;
  ManualClock clock_;
  EnvWithClock env_{clock_};
  std::unique_ptr<BadRecordHandler> handler_;
  SourceCounters counters_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<Source> source_;
};

// A line appended to a followed file is read within one growth check (10 ms), long before the
// next look at the names (poll_interval): here without the run's clock moving at all.
TEST_F(FollowTest, AppendedLinesAreReadWithoutWaitingForAPoll) {
  const std::string path = dir_.file("app.log");
  pulse::testing::WriteFile(path, Line(1));
  clock_.SetSleep(ManualClock::Sleep::kWaitForTest);
  FileSourceOptions options = Options(path);
  options.poll_interval_ms = 3'600'000;
  Start(options);
  EXPECT_EQ(Read(1), Times{1});
  std::vector<Record> batch;
  Result<bool> more = false;
  std::thread reader([&] { more = source_->Read(10, &batch); });
  std::this_thread::sleep_for(20ms);
  Append(path, Line(2));
  reader.join();
  ASSERT_OK(more.status());
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].time, 2);
  EXPECT_EQ(clock_.elapsed(), 0ms);
}

// logrotate's default: rename the file, create a new one. The renamed file is read to its end
// (including what the writer adds before it reopens its log), before the new file; once quiet
// for rotate_wait it is closed, its partial last line becoming its final record.
TEST_F(FollowTest, RenameAndCreate) {
  const std::string path = dir_.file("app.log");
  pulse::testing::WriteFile(path, Lines({1, 2}));
  Start(Options(path));
  EXPECT_EQ(Read(2), (Times{1, 2}));
  fs::rename(path, dir_.file("app.log.1"));
  Append(dir_.file("app.log.1"), Line(3));  // the writer has not reopened yet
  pulse::testing::WriteFile(path, Lines({4, 5}));
  EXPECT_EQ(Read(3), (Times{3, 4, 5}));
  EXPECT_EQ(PositionFiles(), (std::vector<std::string>{"app.log.1", "app.log"}));
  Append(dir_.file("app.log.1"), Line(6) + "{\"event_time\":7}");  // a late write, unfinished
  Append(path, Line(8));
  EXPECT_EQ(Read(2), (Times{6, 8}));
  EXPECT_EQ(ReadFor(1500ms), Times{7});  // rotate_wait passed: the partial line is final
  EXPECT_EQ(PositionFiles(), (std::vector<std::string>{"app.log"}));
  EXPECT_EQ(handler_->total(), 0u);
}

// copytruncate: the file is copied and emptied in place. What was not read yet is read from
// the copy (found by its first bytes), then the file again from its start: no line lost or
// repeated.
TEST_F(FollowTest, CopyTruncate) {
  const std::string path = dir_.file("app.log");
  pulse::testing::WriteFile(path, Lines({1, 2, 3}));
  Start(Options(path));
  EXPECT_EQ(Read(2), (Times{1, 2}));  // 3 is read into the buffer, not handed out
  Append(path, Line(4));              // not read before the rotation
  CopyTruncate(path, dir_.file("app.log.1"));
  Append(path, Line(5));
  EXPECT_EQ(Read(3), (Times{3, 4, 5}));
  Append(path, Line(6));
  EXPECT_EQ(Read(1), Times{6});
  EXPECT_EQ(ReadFor(1500ms), Times{});
  EXPECT_EQ(PositionFiles(), (std::vector<std::string>{"app.log"}));
}

// copytruncate before anything of the file was read: all of it comes from the copy.
TEST_F(FollowTest, CopyTruncateBeforeAnythingWasRead) {
  const std::string path = dir_.file("app.log");
  pulse::testing::WriteFile(path, Lines({1, 2, 3}));
  Start(Options(path));
  CopyTruncate(path, dir_.file("app.log.1"));
  Append(path, Line(4));
  EXPECT_EQ(Read(4), (Times{1, 2, 3, 4}));
}

// A truncated file that has grown past the old offset again before the next look is still
// recognised (by its first bytes) and read from its start.
TEST_F(FollowTest, TruncatedAndRewrittenLongerThanBefore) {
  const std::string path = dir_.file("app.log");
  pulse::testing::WriteFile(path, Line(1));
  Start(Options(path));
  EXPECT_EQ(Read(1), Times{1});
  pulse::testing::WriteFile(path, Lines({20, 30, 40}));  // truncated, rewritten in place
  EXPECT_EQ(Read(3), (Times{20, 30, 40}));
}

// A glob gains files while followed; a file that only matches under its new name after a
// rename is the same file (not read again); a copy of a followed file is not read.
TEST_F(FollowTest, GlobPicksUpNewFiles) {
  std::string first;
  for (int i = 1; i <= 60; ++i) first += Line(i);  // over 1 KiB: a full fingerprint
  pulse::testing::WriteFile(dir_.file("a.log"), first);
  Start(Options(dir_.file("*.log")));
  EXPECT_EQ(Read(60).size(), 60u);
  pulse::testing::WriteFile(dir_.file("b.log"), Line(100));
  pulse::testing::WriteFile(dir_.file("b.txt"), Line(200));  // does not match
  fs::copy_file(dir_.file("a.log"), dir_.file("copy.log"));
  EXPECT_EQ(Read(1), Times{100});
  fs::rename(dir_.file("a.log"), dir_.file("z.log"));
  Append(dir_.file("z.log"), Line(61));
  Append(dir_.file("b.log"), Line(101));
  Times both = Read(2);  // z.log and b.log, each once (in an order that depends on the poll)
  std::sort(both.begin(), both.end());
  EXPECT_EQ(both, (Times{61, 101}));
  EXPECT_EQ(ReadFor(1500ms), Times{});
  std::vector<std::string> files = PositionFiles();
  std::sort(files.begin(), files.end());
  // copy.log is followed from its end (so that a later run does not read it as new).
  EXPECT_EQ(files, (std::vector<std::string>{"b.log", "copy.log", "z.log"}));
}

// The position names each file by identity: a run resumed after rename-and-create happened
// while it was down reads the rest of the renamed file, then the new one.
TEST_F(FollowTest, ResumeAcrossRenameAndCreate) {
  const std::string path = dir_.file("app.log");
  pulse::testing::WriteFile(path, Lines({1, 2, 3}));
  Start(Options(path));
  EXPECT_EQ(Read(2), (Times{1, 2}));
  ASSERT_OK_AND_ASSIGN(Value position, source_->AsCheckpointed()->Position());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  const Value& file = position.Find("files")->as_array().at(0);
  EXPECT_EQ(file.Find("file")->as_string(), path);
  EXPECT_EQ(file.Find("inode")->as_int(), static_cast<int64_t>(st.st_ino));
  EXPECT_EQ(file.Find("device")->as_int(), static_cast<int64_t>(st.st_dev));
  EXPECT_EQ(file.Find("fingerprint_bytes")->as_int(), 51);
  EXPECT_EQ(file.Find("offset")->as_int(), 34);
  EXPECT_EQ(file.Find("line")->as_int(), 3);
  ASSERT_OK(source_->Close());
  source_.reset();
  fs::rename(path, dir_.file("app.log.1"));
  Append(dir_.file("app.log.1"), Line(4));
  pulse::testing::WriteFile(path, Lines({5}));
  Start(Options(path), &position);
  EXPECT_EQ(Read(3), (Times{3, 4, 5}));
}

// copytruncate while the run was down: the rest comes from the copy, then the emptied file is
// read from its start.
TEST_F(FollowTest, ResumeAcrossCopyTruncate) {
  const std::string path = dir_.file("app.log");
  pulse::testing::WriteFile(path, Lines({1, 2}));
  Start(Options(path));
  EXPECT_EQ(Read(2), (Times{1, 2}));
  ASSERT_OK_AND_ASSIGN(Value position, source_->AsCheckpointed()->Position());
  ASSERT_OK(source_->Close());
  source_.reset();
  Append(path, Line(3));
  CopyTruncate(path, dir_.file("app.log.1"));
  Append(path, Lines({4, 5, 6}));  // longer than before: only its first bytes tell
  Start(Options(path), &position);
  EXPECT_EQ(Read(4), (Times{3, 4, 5, 6}));
}

// Several files with lines to read: the least recently modified first, whatever the names
// (logrotate numbers app.log.1 as older than app.log).
TEST_F(FollowTest, OlderFilesFirst) {
  pulse::testing::WriteFile(dir_.file("app.log.1"), Lines({1, 2}));
  const auto old_time = fs::last_write_time(dir_.file("app.log.1")) - 1h;
  fs::last_write_time(dir_.file("app.log.1"), old_time);
  pulse::testing::WriteFile(dir_.file("app.log"), Lines({3, 4}));
  Start(Options(dir_.file("app.log*")));
  EXPECT_EQ(Read(4), (Times{1, 2, 3, 4}));
}

// With a glob that matches the rotated generations, a run resumed after several rotations
// reads each generation once: the rest of the one it was in, the ones made meanwhile, then
// the current file.
TEST_F(FollowTest, ResumeAcrossSeveralRotationsWithAGlob) {
  const std::string path = dir_.file("app.log");
  pulse::testing::WriteFile(path, Lines({1, 2}));
  Start(Options(dir_.file("app.log*")));
  EXPECT_EQ(Read(2), (Times{1, 2}));
  ASSERT_OK_AND_ASSIGN(Value position, source_->AsCheckpointed()->Position());
  ASSERT_OK(source_->Close());
  source_.reset();
  Append(path, Line(3));
  fs::rename(path, dir_.file("app.log.1"));
  pulse::testing::WriteFile(path, Lines({4, 5}));
  const auto earlier = fs::last_write_time(path) - 1min;
  fs::last_write_time(dir_.file("app.log.1"), earlier - 1min);
  fs::last_write_time(path, earlier);
  CopyTruncate(path, dir_.file("app.log.2"));
  fs::last_write_time(dir_.file("app.log.2"), earlier);
  Append(path, Line(6));
  Start(Options(dir_.file("app.log*")), &position);
  EXPECT_EQ(Read(4), (Times{3, 4, 5, 6}));
  EXPECT_EQ(ReadFor(500ms), Times{});
}

// CSV: each file has its header; the copy of a truncated file and a resumed file keep theirs.
TEST_F(FollowTest, CsvFilesKeepTheirHeaders) {
  const std::string path = dir_.file("app.csv");
  pulse::testing::WriteFile(path, "t,v\n1,a\n2,b\n");
  FileSourceOptions options = Options(path);
  options.format = FileFormat::kCsv;
  options.time_field = "t";
  Start(options);
  EXPECT_EQ(Read(2), (Times{1, 2}));
  ASSERT_OK_AND_ASSIGN(Value position, source_->AsCheckpointed()->Position());
  Append(path, "3,c\n");
  CopyTruncate(path, dir_.file("app.csv.1"));
  Append(path, "v,t\nd,4\n");  // a new header, columns swapped
  EXPECT_EQ(Read(2), (Times{3, 4}));
  // Resumed from the earlier position: the copy (with the old header), then the new file.
  Start(options, &position);
  EXPECT_EQ(Read(2), (Times{3, 4}));
  EXPECT_EQ(handler_->total(), 0u);
}

// A checkpoint of the source reading without follow resumes with follow turned on; the other
// way round is refused, naming the fix.
TEST_F(FollowTest, PositionsAcrossFollowOnAndOff) {
  const std::string path = dir_.file("app.log");
  pulse::testing::WriteFile(path, Lines({1, 2, 3}));
  const Value bounded(Object{{"file", Value(path)},
                             {"file_index", Value(0)},
                             {"offset", Value(17)},
                             {"line", Value(2)}});
  Start(Options(path), &bounded);
  EXPECT_EQ(Read(2), (Times{2, 3}));
  ASSERT_OK_AND_ASSIGN(Value position, source_->AsCheckpointed()->Position());
  std::unique_ptr<Source> plain = FileSource(JsonlOptions(path));
  Status st = plain->AsCheckpointed()->Seek(position);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "cannot resume the file source: the checkpoint was taken while following its files "
            "(follow = true); set follow = true again, or start over with --fresh");
  Value bad = position;
  const Value bad_files(Array{Value(Object{{"file", Value(path)}})});
  bad = Value(Object{{"files", bad_files}});
  std::unique_ptr<Source> following = FileSource(Options(path));
  EXPECT_EQ(following->AsCheckpointed()->Seek(bad).ToString(),
            "Invalid argument: file source position \"files\"[0] has no \"device\"");
}

// On stop every followed file hands over its buffered lines and its partial last line.
TEST_F(FollowTest, StopDrainsEveryFile) {
  pulse::testing::WriteFile(dir_.file("a.log"), Line(1) + "{\"event_time\":2}");
  pulse::testing::WriteFile(dir_.file("b.log"), "{\"event_time\":3}");
  Start(Options(dir_.file("*.log")));
  EXPECT_EQ(Read(1), Times{1});
  stop_ = true;
  EXPECT_EQ(Read(10), (Times{2, 3}));
  std::vector<Record> batch;
  ASSERT_OK_AND_ASSIGN(bool more, source_->Read(3, &batch));
  EXPECT_FALSE(more);
}

}  // namespace
}  // namespace pulse::io
