// SPDX-License-Identifier: MIT
// Tests for the Parquet sink's two-phase commit: files hidden until their checkpoint commits,
// crashes at every point recovered to exactly an uninterrupted run's files, and file sizes that
// do not depend on the checkpoint interval.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "io/parquet/parquet_test_util.h"
#include "io/parquet/spool.h"
#include "testing/manual_clock.h"
#include "testing/test_util.h"

#include "pulse/core/json.h"
#include "pulse/io/parquet.h"

namespace pulse::io {
namespace {

namespace fs = std::filesystem;
using ::pulse::testing::ReadFile;
using ::pulse::testing::TempDir;
using ::pulse::testing::WriteFile;
using namespace ::pulse::io::parquet_testing;  // NOLINT(google-build-using-namespace)
using namespace std::chrono_literals;

constexpr int64_t kHourMs = 3'600'000;
constexpr size_t kRecords = 40;
constexpr size_t kBatchRecords = 4;
constexpr size_t kBatches = kRecords / kBatchRecords;

// Record j: every 3 hours from 2024-01-01 (8 a day, 5 days), keys k0..k2, one non-ASCII key.
Record Input(size_t j) {
  std::string key = j % 7 == 6 ? "\xc3\xa9t\xc3\xa9" : fmt::format("k{}", j % 3);
  return MakeRecord(
      kDay1 + static_cast<int64_t>(j) * 3 * kHourMs,
      fmt::format(R"({{"j":{},"key":"{}","x":{:.2f}}})", j, key, static_cast<double>(j) / 4));
}

std::vector<Record> Batch(size_t b) {
  std::vector<Record> out;
  for (size_t j = b * kBatchRecords; j < (b + 1) * kBatchRecords; ++j) out.push_back(Input(j));
  return out;
}

// After batch b: results up to one hour before its last record are complete.
EventTime WatermarkAfter(size_t b) {
  return b + 1 == kBatches ? kMaxWatermark : Batch(b).back().time - kHourMs;
}

// A checkpoint the way the executor stores it: the info goes through JSON text.
struct Checkpoint {
  uint64_t id = 0;
  size_t batches = 0;  // batches [0, batches) are covered
  Value info;
};

class ParquetCheckpointTest : public ::testing::TestWithParam<ParquetSchema> {
 protected:
  ParquetSinkOptions Options() {
    ParquetSinkOptions o;
    o.out_dir = out().string();
    o.max_rows = 3;
    o.schema = GetParam();
    return o;
  }

  std::unique_ptr<Sink> Open(const ParquetSinkOptions& options) {
    EXPECT_OK(options.Validate());
    std::unique_ptr<Sink> sink = ParquetSink(options);
    SinkContext ctx;
    ctx.counters = &counters_;
    ctx.env = &env_;
    EXPECT_OK(sink->Open(ctx));
    return sink;
  }

  // Write batches [from, to), each followed by its watermark and, where `checkpoint_after`
  // says so, PrepareCommit and (if `commit`) Commit. Returns the last checkpoint taken.
  std::optional<Checkpoint> Feed(Sink& sink, size_t from, size_t to,
                                 const std::function<bool(size_t)>& checkpoint_after,
                                 bool commit = true) {
    std::optional<Checkpoint> last;
    for (size_t b = from; b < to; ++b) {
      EXPECT_OK(sink.Write(Batch(b)));
      EXPECT_OK(sink.OnWatermark(WatermarkAfter(b)));
      if (!checkpoint_after(b)) continue;
      Result<Value> info = sink.AsCheckpointed()->PrepareCommit(++next_id_);
      EXPECT_OK(info.status());
      if (!info.ok()) return last;
      Result<Value> stored = ParseJson(info->ToJson());
      EXPECT_OK(stored.status());
      last = Checkpoint{next_id_, b + 1, std::move(stored).value()};
      if (commit) EXPECT_OK(sink.AsCheckpointed()->Commit(next_id_));
    }
    return last;
  }

  // Every file under out/ with the rows of each Parquet file, run names replaced by `R`.
  std::vector<std::string> Snapshot() {
    std::vector<std::string> out_files;
    const std::regex run(R"(part-\d{13}-[0-9a-f]{8}-)");
    for (const std::string& f : ListFiles(out())) {
      std::string line = std::regex_replace(f, run, "part-R-");
      if (line.size() > 8 && line.substr(line.size() - 8) == ".parquet") {
        for (const std::string& row : Rows(out() / f)) line += "\n  " + row;
      }
      out_files.push_back(std::move(line));
    }
    return out_files;
  }

  // The files of a run without checkpoints, in a separate folder.
  std::vector<std::string> Uninterrupted() {
    ParquetSinkOptions o = Options();
    const fs::path saved = out_override_;
    out_override_ = dir_.path() / "reference";
    o.out_dir = out().string();
    std::unique_ptr<Sink> sink = Open(o);
    (void)Feed(*sink, 0, kBatches, [](size_t) { return false; });
    EXPECT_OK(sink->Close());
    std::vector<std::string> files = Snapshot();
    out_override_ = saved;
    return files;
  }

  fs::path out() const { return out_override_.empty() ? dir_.path() / "out" : out_override_; }

  TempDir dir_;
  fs::path out_override_;
  pulse::testing::ManualClock clock_;
  EnvWithClock env_{clock_};
  uint64_t next_id_ = 0;
  SinkCounters counters_;
};

INSTANTIATE_TEST_SUITE_P(Schemas, ParquetCheckpointTest,
                         ::testing::Values(ParquetSchema::kPayload, ParquetSchema::kColumns),
                         [](const auto& info) {
                           return info.param == ParquetSchema::kPayload ? "Payload" : "Columns";
                         });

TEST_P(ParquetCheckpointTest, ReferenceRunHasTheExpectedFiles) {
  std::vector<std::string> files = Uninterrupted();
  // 8 rows a day in 5 dates, max_rows = 3: files of 3, 3, 2 rows, and a marker per day.
  std::vector<std::string> names;
  for (const std::string& f : files) names.push_back(f.substr(0, f.find('\n')));
  EXPECT_EQ(names, (std::vector<std::string>{"dt=2024-01-01/_SUCCESS",
                                             "dt=2024-01-01/part-R-000001.parquet",
                                             "dt=2024-01-01/part-R-000002.parquet",
                                             "dt=2024-01-01/part-R-000003.parquet",
                                             "dt=2024-01-02/_SUCCESS",
                                             "dt=2024-01-02/part-R-000004.parquet",
                                             "dt=2024-01-02/part-R-000005.parquet",
                                             "dt=2024-01-02/part-R-000006.parquet",
                                             "dt=2024-01-03/_SUCCESS",
                                             "dt=2024-01-03/part-R-000007.parquet",
                                             "dt=2024-01-03/part-R-000008.parquet",
                                             "dt=2024-01-03/part-R-000009.parquet",
                                             "dt=2024-01-04/_SUCCESS",
                                             "dt=2024-01-04/part-R-000010.parquet",
                                             "dt=2024-01-04/part-R-000011.parquet",
                                             "dt=2024-01-04/part-R-000012.parquet",
                                             "dt=2024-01-05/_SUCCESS",
                                             "dt=2024-01-05/part-R-000013.parquet",
                                             "dt=2024-01-05/part-R-000014.parquet",
                                             "dt=2024-01-05/part-R-000015.parquet"}));
  const std::string first_row = GetParam() == ParquetSchema::kPayload
                                    ? R"(1704067200000|{"j":0,"key":"k0","x":0.0})"
                                    : "0|k0|0.0";
  EXPECT_EQ(files[1], "dt=2024-01-01/part-R-000001.parquet\n  " + first_row +
                          (GetParam() == ParquetSchema::kPayload
                               ? "\n  1704078000000|{\"j\":1,\"key\":\"k1\",\"x\":0.25}\n  "
                                 "1704088800000|{\"j\":2,\"key\":\"k2\",\"x\":0.5}"
                               : "\n  1|k1|0.25\n  2|k2|0.5"));
}

// Checkpoints after every batch, every third batch or never: the same files, row for row, as a
// run without checkpoints (the files roll by max_rows, not by checkpoint).
TEST_P(ParquetCheckpointTest, CheckpointIntervalDoesNotChangeTheFiles) {
  const std::vector<std::string> expected = Uninterrupted();
  for (size_t every : {1, 3, 1000}) {
    SCOPED_TRACE(every);
    fs::remove_all(out());
    std::unique_ptr<Sink> sink = Open(Options());
    ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
    (void)Feed(*sink, 0, kBatches, [&](size_t b) { return (b + 1) % every == 0; });
    ASSERT_OK(sink->Close());
    EXPECT_EQ(Snapshot(), expected);
  }
}

TEST_P(ParquetCheckpointTest, RolledFilesAreHiddenUntilTheirCheckpointCommits) {
  std::unique_ptr<Sink> sink = Open(Options());
  ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
  ASSERT_OK(sink->Write(Batch(0)));  // 4 rows of 2024-01-01: one file rolled, one open
  EXPECT_EQ(ParquetFiles(out()), std::vector<std::string>{});
  std::vector<std::string> hidden = ListFiles(out());
  ASSERT_EQ(hidden.size(), 4u);
  const std::regex names(
      R"(dt=2024-01-01/\.part-\d{13}-[0-9a-f]{8}-00000[12]\.parquet\.(inprogress|spool))");
  for (const std::string& f : hidden) EXPECT_TRUE(std::regex_match(f, names)) << f;

  ASSERT_OK_AND_ASSIGN(Value info, sink->AsCheckpointed()->PrepareCommit(7));
  EXPECT_EQ(ParquetFiles(out()), std::vector<std::string>{});
  const Value* commit = info.Find("commit");
  ASSERT_NE(commit, nullptr);
  ASSERT_EQ(commit->as_array().size(), 1u);
  EXPECT_EQ(commit->as_array()[0].Find("partition")->as_string(), "2024-01-01");
  EXPECT_TRUE(std::regex_match(commit->as_array()[0].Find("file")->as_string(),
                               std::regex(R"(part-\d{13}-[0-9a-f]{8}-000001\.parquet)")));
  const Value& open = info.Find("partitions")->as_array().at(0);
  EXPECT_EQ(open.Find("rows")->as_int(), 1);
  EXPECT_EQ(open.Find("max_time")->as_int(), kDay1 + 9 * kHourMs);
  EXPECT_EQ(info.Find("sequence")->as_int(), 2);

  ASSERT_OK(sink->AsCheckpointed()->Commit(7));
  std::vector<std::string> visible = ParquetFiles(out());
  ASSERT_EQ(visible.size(), 1u);
  EXPECT_EQ(Rows(out() / visible[0]).size(), 3u);
  ASSERT_OK(sink->AsCheckpointed()->Commit(7));  // idempotent
  ASSERT_OK(sink->AsCheckpointed()->Commit(3));  // an older id: nothing left to do
  EXPECT_EQ(ParquetFiles(out()).size(), 1u);

  // The marker waits for the checkpoint too, and comes with the day's last file.
  ASSERT_OK(sink->OnWatermark(kDay2));
  EXPECT_EQ(ParquetFiles(out()).size(), 1u);
  EXPECT_FALSE(fs::exists(out() / "dt=2024-01-01" / "_SUCCESS"));
  ASSERT_OK_AND_ASSIGN(info, sink->AsCheckpointed()->PrepareCommit(8));
  EXPECT_EQ(info.Find("markers")->ToJson(), R"([{"partition":"2024-01-01"}])");
  EXPECT_EQ(info.Find("partitions")->ToJson(), "[]");
  ASSERT_OK(sink->AsCheckpointed()->Commit(8));
  EXPECT_EQ(ParquetFiles(out()).size(), 2u);
  EXPECT_TRUE(fs::exists(out() / "dt=2024-01-01" / "_SUCCESS"));
  // A spool is removed one commit after its file's (file 1's by Commit(8)); Close removes all.
  std::vector<std::string> spools;
  for (const std::string& f : ListFiles(out())) {
    if (f.find(".spool") != std::string::npos) spools.push_back(f);
  }
  ASSERT_EQ(spools.size(), 1u);
  EXPECT_NE(spools[0].find("-000002.parquet.spool"), std::string::npos) << spools[0];
  ASSERT_OK(sink->Close());
  std::vector<std::string> published;
  for (const std::string& f : Snapshot()) published.push_back(f.substr(0, f.find('\n')));
  EXPECT_EQ(published, (std::vector<std::string>{"dt=2024-01-01/_SUCCESS",
                                                 "dt=2024-01-01/part-R-000001.parquet",
                                                 "dt=2024-01-01/part-R-000002.parquet"}));
}

// A crash after each batch (the sink destroyed without Close: its open files are gone, the
// spools and finished files stay), with the checkpoint before it committed or only durable; a
// new sink recovers from the checkpoint and the rest is replayed.
TEST_P(ParquetCheckpointTest, RecoversFromACrashAfterEveryBatch) {
  const std::vector<std::string> expected = Uninterrupted();
  for (size_t crash_after = 1; crash_after <= kBatches; ++crash_after) {
    for (bool committed : {true, false}) {
      SCOPED_TRACE(fmt::format("crash after batch {}, last checkpoint committed: {}", crash_after,
                               committed));
      fs::remove_all(out());
      // Checkpoints after every other batch, committed; the crash comes after batch
      // crash_after − 1, or (not committed) right after a checkpoint of that batch that became
      // durable but was not committed.
      std::optional<Checkpoint> last;
      {
        std::unique_ptr<Sink> sink = Open(Options());
        ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
        if (committed) {
          last = Feed(*sink, 0, crash_after, [](size_t b) { return b % 2 == 1; });
        } else {
          (void)Feed(*sink, 0, crash_after - 1, [](size_t b) { return b % 2 == 1; });
          last = Feed(
              *sink, crash_after - 1, crash_after, [](size_t) { return true; },
              /*commit=*/false);
        }
      }  // crash
      std::unique_ptr<Sink> sink = Open(Options());
      ASSERT_OK(sink->AsCheckpointed()->Recover(last ? &last->info : nullptr));
      (void)Feed(*sink, last ? last->batches : 0, kBatches, [](size_t b) { return b % 3 == 0; });
      ASSERT_OK(sink->Close());
      EXPECT_EQ(Snapshot(), expected);
    }
  }
}

// A crash between a checkpoint becoming durable and the sink's Commit: Recover finishes the
// commit (renames the files, writes the markers) before anything else.
TEST_P(ParquetCheckpointTest, RecoverFinishesACommitThatDidNotHappen) {
  std::optional<Checkpoint> last;
  {
    std::unique_ptr<Sink> sink = Open(Options());
    ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
    last = Feed(
        *sink, 0, 4, [](size_t b) { return b == 3; }, /*commit=*/false);
  }
  ASSERT_TRUE(last);
  EXPECT_EQ(ParquetFiles(out()), std::vector<std::string>{});
  std::unique_ptr<Sink> sink = Open(Options());
  ASSERT_OK(sink->AsCheckpointed()->Recover(&last->info));
  // 16 rows: days 1 (8 rows, complete) and 2 (8 rows, not yet): 5 files committed, one open.
  std::vector<std::string> files = Snapshot();
  std::vector<std::string> names;
  for (const std::string& f : files) names.push_back(f.substr(0, f.find('\n')));
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "dt=2024-01-01/_SUCCESS", "dt=2024-01-01/part-R-000001.parquet",
                "dt=2024-01-01/part-R-000002.parquet", "dt=2024-01-01/part-R-000003.parquet",
                "dt=2024-01-02/.part-R-000006.parquet.inprogress",
                "dt=2024-01-02/.part-R-000006.parquet.spool", "dt=2024-01-02/part-R-000004.parquet",
                "dt=2024-01-02/part-R-000005.parquet"}));
  // Recovering again from the same checkpoint changes nothing.
  sink = Open(Options());
  ASSERT_OK(sink->AsCheckpointed()->Recover(&last->info));
  (void)Feed(*sink, 4, kBatches, [](size_t) { return false; });
  ASSERT_OK(sink->Close());
  EXPECT_EQ(Snapshot(), Uninterrupted());
}

// An open file keeps its age across a restart: the resumed run closes it max_age after the
// first run opened it, by the run's clock, without counting the time the pipeline was down.
TEST_P(ParquetCheckpointTest, FileAgeContinuesAfterARestart) {
  ParquetSinkOptions o = Options();
  o.max_age_ms = 1000;
  o.max_rows = 1000;
  Value info;
  {
    std::unique_ptr<Sink> sink = Open(o);
    ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
    ASSERT_OK(sink->Write(Batch(0)));  // one day: one partition, one open file
    clock_.Advance(600ms);
    ASSERT_OK_AND_ASSIGN(Value prepared, sink->AsCheckpointed()->PrepareCommit(1));
    ASSERT_OK(sink->AsCheckpointed()->Commit(1));
    ASSERT_OK_AND_ASSIGN(info, ParseJson(prepared.ToJson()));
    // The process dies here.
  }
  EXPECT_NE(info.ToJson().find(R"("age_ms":600)"), std::string::npos) << info.ToJson();
  clock_.Advance(std::chrono::hours(1));  // down for an hour
  std::unique_ptr<Sink> sink = Open(o);
  ASSERT_OK(sink->AsCheckpointed()->Recover(&info));
  // Published files after a Tick at `advance` more, and a checkpoint.
  auto published_after = [&](Clock::Duration advance, uint64_t checkpoint_id) {
    clock_.Advance(advance);
    EXPECT_OK(sink->Tick());
    EXPECT_OK(sink->AsCheckpointed()->PrepareCommit(checkpoint_id).status());
    EXPECT_OK(sink->AsCheckpointed()->Commit(checkpoint_id));
    return ParquetFiles(out()).size();
  };
  EXPECT_EQ(published_after(399ms, 2), 0u);  // 999 ms old
  EXPECT_EQ(published_after(1ms, 3), 1u);    // 1000 ms: closed by Tick, published by Commit
  ASSERT_OK(sink->Close());
  const std::vector<std::string> files = ParquetFiles(out());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(Rows(out() / files[0]).size(), kBatchRecords);
}

// A real crash: a child process writes, checkpoints, writes on (rolling files) and _exits
// without any cleanup; the parent recovers from the child's last checkpoint.
TEST_P(ParquetCheckpointTest, RecoversAfterAProcessDiesWithoutCleanup) {
  const std::vector<std::string> expected = Uninterrupted();
  const fs::path info_path = dir_.path() / "info.json";
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::unique_ptr<Sink> sink = ParquetSink(Options());
    SinkCounters counters;
    bool ok = sink->Open({&counters}).ok() && sink->AsCheckpointed()->Recover(nullptr).ok();
    for (size_t b = 0; ok && b < 7; ++b) {
      ok = sink->Write(Batch(b)).ok() && sink->OnWatermark(WatermarkAfter(b)).ok();
      if (ok && b == 4) {
        Result<Value> info = sink->AsCheckpointed()->PrepareCommit(1);
        ok = info.ok() && sink->AsCheckpointed()->Commit(1).ok();
        if (ok) WriteFile(info_path.string(), info->ToJson());
      }
    }
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_OK_AND_ASSIGN(Value info, ParseJson(ReadFile(info_path.string())));
  std::unique_ptr<Sink> sink = Open(Options());
  ASSERT_OK(sink->AsCheckpointed()->Recover(&info));
  (void)Feed(*sink, 5, kBatches, [](size_t) { return false; });
  ASSERT_OK(sink->Close());
  EXPECT_EQ(Snapshot(), expected);
}

// The newest checkpoint is lost (corrupt) after its Commit published files: resuming from the
// one before removes what only the lost one covered, and the replay writes it again.
TEST_P(ParquetCheckpointTest, FallsBackToAnOlderCheckpoint) {
  std::optional<Checkpoint> older;
  {
    std::unique_ptr<Sink> sink = Open(Options());
    ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
    older = Feed(*sink, 0, 3, [](size_t b) { return b == 2; });
    (void)Feed(*sink, 3, 8, [](size_t b) { return b == 7; });  // published, then lost
  }
  ASSERT_TRUE(older);
  // Days 1-3 (3 files each) and 2 files of day 4 were published; the older checkpoint
  // covered the files of day 1 and the first of day 2.
  EXPECT_EQ(ParquetFiles(out()).size(), 11u);
  std::unique_ptr<Sink> sink = Open(Options());
  ASSERT_OK(sink->AsCheckpointed()->Recover(&older->info));
  EXPECT_EQ(ParquetFiles(out()).size(), 4u);
  (void)Feed(*sink, 3, kBatches, [](size_t) { return false; });
  ASSERT_OK(sink->Close());
  EXPECT_EQ(Snapshot(), Uninterrupted());
}

// A rerun from the final checkpoint of a finished run (Close published the open files after
// it) leaves the output as it is.
TEST_P(ParquetCheckpointTest, RerunAfterTheEndChangesNothing) {
  ParquetSinkOptions o = Options();
  o.partition_field = "key";  // field partitions stay open until Close
  std::optional<Checkpoint> last;
  {
    std::unique_ptr<Sink> sink = Open(o);
    ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
    last = Feed(*sink, 0, kBatches, [](size_t b) { return b + 1 == kBatches; });
    ASSERT_OK(sink->Close());
  }
  const std::vector<std::string> done = Snapshot();
  // k0: 12 rows, k1: 11, k2: 12, été: 5, in files of 3: 4 + 4 + 4 + 2; été opened the 4th
  // file (at j = 6) and the 11th (at j = 27).
  ASSERT_EQ(done.size(), 14u);
  EXPECT_EQ(done[0].substr(0, done[0].find('\n')), "key=k0/part-R-000001.parquet");
  EXPECT_EQ(done.back().substr(0, done.back().find('\n')),
            "key=\xc3\xa9t\xc3\xa9/part-R-000011.parquet");
  ASSERT_TRUE(last);
  EXPECT_NE(last->info.Find("partitions")->ToJson().find("partition_hex"), std::string::npos);
  for (int rerun = 0; rerun < 2; ++rerun) {
    std::unique_ptr<Sink> sink = Open(o);
    ASSERT_OK(sink->AsCheckpointed()->Recover(&last->info));
    Result<Value> info = sink->AsCheckpointed()->PrepareCommit(++next_id_);
    ASSERT_OK(info.status());
    ASSERT_OK(sink->AsCheckpointed()->Commit(next_id_));
    ASSERT_OK(sink->Close());
    EXPECT_EQ(Snapshot(), done);
    ASSERT_OK_AND_ASSIGN(last->info, ParseJson(info->ToJson()));
  }
}

// Field partitions, including a non-ASCII value, and the columns layout come back from the
// checkpoint: a crash in the middle gives the uninterrupted run's files.
TEST_P(ParquetCheckpointTest, FieldPartitionsRecover) {
  ParquetSinkOptions o = Options();
  o.partition_field = "key";
  std::vector<std::string> expected;
  {
    std::unique_ptr<Sink> sink = Open(o);
    (void)Feed(*sink, 0, kBatches, [](size_t) { return false; });
    ASSERT_OK(sink->Close());
    expected = Snapshot();
    fs::remove_all(out());
  }
  std::optional<Checkpoint> last;
  {
    std::unique_ptr<Sink> sink = Open(o);
    ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
    last = Feed(*sink, 0, 6, [](size_t b) { return b == 4; });
  }
  ASSERT_TRUE(last);
  std::unique_ptr<Sink> sink = Open(o);
  ASSERT_OK(sink->AsCheckpointed()->Recover(&last->info));
  (void)Feed(*sink, 5, kBatches, [](size_t) { return false; });
  ASSERT_OK(sink->Close());
  EXPECT_EQ(Snapshot(), expected);
}

TEST_P(ParquetCheckpointTest, FreshRecoverRemovesLeftoversOnly) {
  fs::create_directories(out() / "dt=2024-01-01");
  WriteFile((out() / "dt=2024-01-01" / ".part-1-0000000a-000001.parquet.inprogress").string(), "x");
  WriteFile((out() / "dt=2024-01-01" / ".part-1-0000000a-000002.parquet.spool").string(), "x");
  WriteFile((out() / "dt=2024-01-01" / "part-1-0000000a-000003.parquet").string(), "x");
  WriteFile((out() / "dt=2024-01-01" / ".other.inprogress").string(), "x");
  WriteFile((out() / "notes.txt").string(), "x");
  std::unique_ptr<Sink> sink = Open(Options());
  ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
  EXPECT_EQ(ListFiles(out()), (std::vector<std::string>{
                                  "dt=2024-01-01/.other.inprogress",
                                  "dt=2024-01-01/part-1-0000000a-000003.parquet", "notes.txt"}));
}

TEST_P(ParquetCheckpointTest, DamagedCheckpointsAreCorruption) {
  std::optional<Checkpoint> last;
  {
    std::unique_ptr<Sink> sink = Open(Options());
    ASSERT_OK(sink->AsCheckpointed()->Recover(nullptr));
    last = Feed(*sink, 0, 1, [](size_t) { return true; });
  }
  ASSERT_TRUE(last);
  Result<Value> bad = ParseJson(R"({"format":"pulse-parquet-sink","version":9})");
  std::unique_ptr<Sink> sink = Open(Options());
  EXPECT_EQ(sink->AsCheckpointed()->Recover(&*bad).code(), StatusCode::kCorruption);
  // The open file's spool is gone.
  for (const std::string& f : ListFiles(out())) {
    if (f.find(".spool") != std::string::npos) fs::remove(out() / f);
  }
  sink = Open(Options());
  Status st = sink->AsCheckpointed()->Recover(&last->info);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("is missing"), std::string::npos) << st.ToString();
  sink = Open(Options());
  EXPECT_EQ(sink->AsCheckpointed()->PrepareCommit(1).status().code(),
            StatusCode::kInternal);  // no Recover
}

TEST(SpoolRecordTest, EncodingIsExact) {
  Object o;
  o.emplace_back("a", Value(std::nan("")));
  o.emplace_back("a", Value(-0.0));
  o.emplace_back(std::string("\xff\x00s", 3), Value(std::string("b\0\xfe", 3)));
  o.emplace_back("n", Value(Array{Value(), Value(true), Value(false), Value(int64_t{-1}),
                                  Value(INT64_MIN), Value(INT64_MAX), Value(Object{})}));
  Record r{-5, Value(std::move(o))};
  std::string bytes;
  internal::EncodeSpoolRecord(r, &bytes);
  ASSERT_OK_AND_ASSIGN(Record back, internal::DecodeSpoolRecord(std::string_view(bytes).substr(4)));
  EXPECT_EQ(back.time, -5);
  std::string again;
  internal::EncodeSpoolRecord(back, &again);
  EXPECT_EQ(again, bytes);
  EXPECT_TRUE(std::isnan(back.value.as_object()[0].second.as_double()));
  EXPECT_TRUE(std::signbit(back.value.as_object()[1].second.as_double()));
  EXPECT_EQ(back.value.as_object()[2].first, std::string("\xff\x00s", 3));
  EXPECT_EQ(internal::DecodeSpoolRecord(std::string_view(bytes).substr(4, 10)).status().code(),
            StatusCode::kCorruption);
}

}  // namespace
}  // namespace pulse::io
