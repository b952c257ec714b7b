// SPDX-License-Identifier: MIT
// Test helper: run a file source to the end and collect its records, counters and dead letters.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/io/file.h"
#include "testing/test_util.h"

namespace pulse::io::testing {

struct SourceRun {
  Status status;                     // of Open, the first failing Read, or Close
  std::vector<std::string> records;  // "<event time ms> <compact JSON value>"
  std::string dead_letter;           // contents of the dead-letter file
  uint64_t records_counted = 0;      // SourceCounters::records
  uint64_t bytes_counted = 0;        // SourceCounters::bytes
  uint64_t bad_total = 0;
  std::vector<uint64_t> bad_by_reason = std::vector<uint64_t>(kNumBadReasons);
  uint64_t bad(BadReason r) const { return bad_by_reason[static_cast<size_t>(r)]; }
};

struct RunConfig {
  std::vector<std::string> projection;
  OnError on_error = OnError::kSkip;
  size_t batch = 3;

  static RunConfig Batch(size_t n) {
    RunConfig c;
    c.batch = n;
    return c;
  }
  static RunConfig Projection(std::vector<std::string> fields) {
    RunConfig c;
    c.projection = std::move(fields);
    return c;
  }
  static RunConfig Fail() {
    RunConfig c;
    c.on_error = OnError::kFail;
    return c;
  }
};

/// Open `options` with a dead-letter file in `dir`, read until done, close everything.
inline SourceRun RunFileSource(const pulse::testing::TempDir& dir, FileSourceOptions options,
                               RunConfig config = {}) {
  SourceRun run;
  const std::string dead_path = dir.file("dead-letter.jsonl");
  auto handler_or = BadRecordHandler::Open({config.on_error, dead_path});
  EXPECT_TRUE(handler_or.ok()) << handler_or.status().ToString();
  if (!handler_or.ok()) return run;
  std::unique_ptr<BadRecordHandler> handler = std::move(handler_or).value();
  SourceCounters counters;
  std::atomic<bool> stop{false};
  SourceContext ctx{handler.get(), &counters, &stop};
  EXPECT_TRUE(options.Validate().ok()) << options.Validate().ToString();
  std::unique_ptr<Source> source = FileSource(std::move(options));
  if (!config.projection.empty()) source->SetProjection(config.projection);
  run.status = source->Open(ctx);
  if (run.status.ok()) {
    std::vector<Record> batch;
    for (int guard = 0; guard < 1000000; ++guard) {
      batch.clear();
      Result<bool> more = source->Read(config.batch, &batch);
      // Records read before a failure are kept, to check where the source stopped.
      EXPECT_LE(batch.size(), config.batch);
      for (const Record& r : batch) {
        run.records.push_back(std::to_string(r.time) + " " + r.value.ToJson());
      }
      if (!more.ok()) {
        run.status = more.status();
        break;
      }
      if (!*more) break;
    }
    Status close = source->Close();
    if (run.status.ok()) run.status = close;
  }
  EXPECT_TRUE(handler->Close().ok());
  run.dead_letter = pulse::testing::ReadFile(dead_path);
  run.records_counted = counters.records.load();
  run.bytes_counted = counters.bytes.load();
  run.bad_total = handler->total();
  for (int i = 0; i < kNumBadReasons; ++i) {
    run.bad_by_reason[i] = handler->count(static_cast<BadReason>(i));
  }
  return run;
}

/// Options for a JSONL file at `path`.
inline FileSourceOptions JsonlOptions(std::string path, std::string time_field = "event_time") {
  FileSourceOptions o;
  o.path = std::move(path);
  o.time_field = std::move(time_field);
  return o;
}

}  // namespace pulse::io::testing
