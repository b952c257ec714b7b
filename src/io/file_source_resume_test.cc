// SPDX-License-Identifier: MIT
// The file source's checkpoint positions: resuming after any batch gives exactly the records
// and dead letters that an uninterrupted read gives after it (JSONL and CSV, several files,
// sequential and parallel decoding).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "io/file_source_internal.h"
#include "pulse/core/bad_record.h"
#include "pulse/io/file.h"
#include "testing/test_util.h"

namespace pulse::io {
namespace {

using pulse::testing::TempDir;

// Everything a source delivered: records and dead letters, in order, with the position after
// each batch.
struct Delivery {
  std::vector<std::string> items;      // "r <time> <json>" or "bad <origin>:<line>"
  std::vector<size_t> items_at_batch;  // items delivered before each position
  std::vector<Value> positions;        // Position() after each batch
};

class Recorder {
 public:
  Delivery Read(const FileSourceOptions& options, const Value* resume, size_t block_bytes,
                size_t batch) {
    Delivery d;
    const std::string dead = dir_.file("dead-" + std::to_string(runs_++) + ".jsonl");
    auto handler = BadRecordHandler::Open({OnError::kSkip, dead});
    EXPECT_TRUE(handler.ok());
    SourceCounters counters;
    std::atomic<bool> stop{false};
    SourceContext ctx{handler->get(), &counters, &stop, 2};
    std::unique_ptr<Source> source = internal::FileSourceWithBlockBytes(options, block_bytes);
    EXPECT_NE(source->AsCheckpointed(), nullptr);
    if (resume != nullptr) EXPECT_OK(source->AsCheckpointed()->Seek(*resume));
    EXPECT_OK(source->Open(ctx));
    std::vector<Record> records;
    uint64_t bad_seen = 0;
    for (int guard = 0; guard < 100000; ++guard) {
      records.clear();
      Result<bool> more = source->Read(batch, &records);
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      // Dead letters of this batch come first only if they precede its records; the test
      // data puts them where interleaving does not matter for the comparison below.
      const uint64_t bad_now = (*handler)->total();
      for (; bad_seen < bad_now; ++bad_seen) d.items.push_back("bad");
      for (const Record& r : records) {
        d.items.push_back("r " + std::to_string(r.time) + " " + r.value.ToJson());
      }
      Result<Value> pos = source->AsCheckpointed()->Position();
      EXPECT_TRUE(pos.ok());
      d.positions.push_back(pos.ok() ? *pos : Value());
      d.items_at_batch.push_back(d.items.size());
      if (!more.ok() || !*more) break;
    }
    EXPECT_OK(source->Close());
    EXPECT_OK((*handler)->Close());
    return d;
  }

 private:
  TempDir dir_;
  int runs_ = 0;
};

void ExpectResumesExactly(const FileSourceOptions& options, size_t block_bytes, size_t batch) {
  Recorder recorder;
  const Delivery all = recorder.Read(options, nullptr, block_bytes, batch);
  ASSERT_GT(all.positions.size(), 3u);
  for (size_t i = 0; i < all.positions.size(); ++i) {
    SCOPED_TRACE("resuming after batch " + std::to_string(i) + " at " +
                 all.positions[i].ToJson());
    const Delivery rest = recorder.Read(options, &all.positions[i], block_bytes, batch);
    std::vector<std::string> expected(all.items.begin() + all.items_at_batch[i],
                                      all.items.end());
    ASSERT_EQ(rest.items, expected);
  }
}

std::string JsonLines(int n, int bad_every) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    if (bad_every > 0 && i % bad_every == bad_every - 1) {
      text += "{broken\n";
    } else {
      text += "{\"event_time\":" + std::to_string(1000 + i) + ",\"k\":\"" +
              std::string(static_cast<size_t>(i % 7), 'x') + "\"}\r\n";
    }
  }
  return text;
}

TEST(FileSourceResumeTest, JsonlSequentialEveryBatch) {
  TempDir dir;
  pulse::testing::WriteFile(dir.file("a.jsonl"), "\xEF\xBB\xBF" + JsonLines(40, 9));
  FileSourceOptions o;
  o.path = dir.file("a.jsonl");
  o.decode_threads = 0;
  ExpectResumesExactly(o, /*block_bytes=*/64, /*batch=*/3);
}

TEST(FileSourceResumeTest, JsonlParallelAcrossFiles) {
  TempDir dir;
  pulse::testing::WriteFile(dir.file("a.jsonl"), JsonLines(30, 8));
  pulse::testing::WriteFile(dir.file("b.jsonl"), "");
  pulse::testing::WriteFile(dir.file("c.jsonl"), JsonLines(25, 0) + "{\"event_time\":5}");
  FileSourceOptions o;
  o.path = dir.file("*.jsonl");
  o.decode_threads = 2;
  ExpectResumesExactly(o, /*block_bytes=*/100, /*batch=*/4);
}

TEST(FileSourceResumeTest, CsvReReadsItsHeader) {
  TempDir dir;
  std::string csv = "\nevent_time,name\n";
  for (int i = 0; i < 30; ++i) {
    csv += std::to_string(2000 + i) + ",\"n" + std::to_string(i) + (i % 5 == 0 ? "\nline" : "") +
           "\"\n";
    if (i % 11 == 10) csv += "1,2,3\n";  // ragged
  }
  pulse::testing::WriteFile(dir.file("a.csv"), csv);
  FileSourceOptions o;
  o.path = dir.file("a.csv");
  o.format = FileFormat::kCsv;
  ExpectResumesExactly(o, /*block_bytes=*/64, /*batch=*/2);
}

TEST(FileSourceResumeTest, PositionsNameFileOffsetAndLine) {
  TempDir dir;
  pulse::testing::WriteFile(dir.file("a.jsonl"),
                            "{\"event_time\":1}\n{\"event_time\":2}\n{\"event_time\":3}\n");
  FileSourceOptions o;
  o.path = dir.file("a.jsonl");
  Recorder recorder;
  const Delivery d = recorder.Read(o, nullptr, 1024, 2);
  ASSERT_EQ(d.positions.size(), 2u);
  EXPECT_EQ(d.positions[0].ToJson(),
            "{\"file\":\"" + o.path + "\",\"file_index\":0,\"offset\":34,\"line\":3}");
  EXPECT_EQ(d.positions[1].ToJson(),
            "{\"file\":\"" + o.path + "\",\"file_index\":0,\"offset\":51,\"line\":4}");
}

TEST(FileSourceResumeTest, RefusesPositionsThatNoLongerFit) {
  TempDir dir;
  pulse::testing::WriteFile(dir.file("a.jsonl"), "{\"event_time\":1}\n");
  FileSourceOptions o;
  o.path = dir.file("a.jsonl");
  BadRecordHandler::Options bad_options;
  auto handler = BadRecordHandler::Open(bad_options);
  ASSERT_TRUE(handler.ok());
  SourceCounters counters;
  std::atomic<bool> stop{false};
  SourceContext ctx{handler->get(), &counters, &stop};

  auto position = [&](std::string file, int64_t offset) {
    Object pos;
    pos.emplace_back("file", Value(std::move(file)));
    pos.emplace_back("file_index", Value(int64_t{0}));
    pos.emplace_back("offset", Value(offset));
    pos.emplace_back("line", Value(int64_t{2}));
    return Value(std::move(pos));
  };
  std::unique_ptr<Source> shorter = FileSource(o);
  ASSERT_OK(shorter->AsCheckpointed()->Seek(position(o.path, 999)));
  Status st = shorter->Open(ctx);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("shorter than the checkpoint's offset 999"), std::string::npos);

  std::unique_ptr<Source> renamed = FileSource(o);
  ASSERT_OK(renamed->AsCheckpointed()->Seek(position("/elsewhere.jsonl", 0)));
  EXPECT_EQ(renamed->Open(ctx).code(), StatusCode::kInvalidArgument);

  std::unique_ptr<Source> garbage = FileSource(o);
  EXPECT_EQ(garbage->AsCheckpointed()->Seek(Value("nonsense")).code(),
            StatusCode::kInvalidArgument);

  FileSourceOptions stdin_options;
  stdin_options.path = "-";
  EXPECT_EQ(FileSource(stdin_options)->AsCheckpointed(), nullptr);
}

}  // namespace
}  // namespace pulse::io
