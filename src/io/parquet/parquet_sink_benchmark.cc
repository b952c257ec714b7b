// SPDX-License-Identifier: MIT
// The sinks alone: rows/s of the Parquet sink (each schema and codec) and of the JSON-lines file
// sink on the same window results, written in batches as the executor's sink thread does.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "pulse/io/file.h"
#include "pulse/io/parquet.h"

namespace pulse::io {
namespace {

namespace fs = std::filesystem;

constexpr size_t kRows = 200'000;
constexpr size_t kBatchRows = 4096;  // the executor's default batch size
constexpr int64_t kStartMs = 1704067200000;

// Tumbling 1-minute counts over 10 minutes, 20,000 keys per minute (seeded).
const std::vector<Record>& Results() {
  static const std::vector<Record> results = [] {
    std::mt19937_64 rng(42);
    std::vector<Record> out;
    out.reserve(kRows);
    for (size_t i = 0; i < kRows; ++i) {
      int64_t start = kStartMs + static_cast<int64_t>(i / (kRows / 10)) * 60'000;
      Object o;
      o.emplace_back("window_start_ms", Value(start));
      o.emplace_back("window_end_ms", Value(start + 60'000));
      o.emplace_back("key", Value(fmt::format("u{:06}", i % (kRows / 10))));
      o.emplace_back("count", Value(static_cast<int64_t>(1 + rng() % 20)));
      out.push_back(Record{start + 59'999, Value(std::move(o))});
    }
    return out;
  }();
  return results;
}

// `checkpoint_every`: 0 = no checkpoints; n = PrepareCommit and Commit after every n batches
// (the sink spools its open files' rows).
void WriteAll(benchmark::State& state, const std::function<std::unique_ptr<Sink>()>& make,
              size_t checkpoint_every = 0) {
  const std::vector<Record>& results = Results();
  for (auto _ : state) {
    std::unique_ptr<Sink> sink = make();
    CheckpointedSink* checkpoints = sink->AsCheckpointed();
    SinkCounters counters;
    if (!sink->Open({&counters}).ok()) state.SkipWithError("open failed");
    if (checkpoint_every > 0 && !checkpoints->Recover(nullptr).ok()) state.SkipWithError("recover");
    std::span<const Record> all(results);
    uint64_t id = 0;
    for (size_t i = 0; i < all.size(); i += kBatchRows) {
      if (!sink->Write(all.subspan(i, std::min(kBatchRows, all.size() - i))).ok()) {
        state.SkipWithError("write failed");
      }
      if (checkpoint_every > 0 && (i / kBatchRows + 1) % checkpoint_every == 0) {
        ++id;
        if (!checkpoints->PrepareCommit(id).ok() || !checkpoints->Commit(id).ok()) {
          state.SkipWithError("checkpoint failed");
        }
      }
    }
    if (!sink->OnWatermark(kMaxWatermark).ok() || !sink->Close().ok()) {
      state.SkipWithError("close failed");
    }
    state.counters["MB"] = static_cast<double>(counters.bytes.load()) / 1e6;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * results.size()));
}

fs::path Scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("pulse-parquet-bench-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void BM_FileSink(benchmark::State& state) {
  fs::path dir = Scratch("jsonl");
  WriteAll(state, [&] { return FileSink({.path = (dir / "out.jsonl").string()}); });
  fs::remove_all(dir);
}

void BM_ParquetSink(benchmark::State& state, ParquetSchema schema, ParquetCompression codec,
                    size_t checkpoint_every = 0) {
  fs::path dir = Scratch("parquet");
  WriteAll(
      state,
      [&] {
        fs::remove_all(dir);
        ParquetSinkOptions o;
        o.out_dir = dir.string();
        o.schema = schema;
        o.compression = codec;
        return ParquetSink(o);
      },
      checkpoint_every);
  fs::remove_all(dir);
}

BENCHMARK(BM_FileSink)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ParquetSink, payload_snappy, ParquetSchema::kPayload,
                  ParquetCompression::kSnappy)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ParquetSink, payload_zstd, ParquetSchema::kPayload, ParquetCompression::kZstd)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ParquetSink, columns_snappy, ParquetSchema::kColumns,
                  ParquetCompression::kSnappy)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ParquetSink, columns_zstd, ParquetSchema::kColumns, ParquetCompression::kZstd)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ParquetSink, columns_none, ParquetSchema::kColumns, ParquetCompression::kNone)
    ->Unit(benchmark::kMillisecond);
// With checkpoints (docs/parquet.md, "Checkpoints"): after every batch of 4,096 rows, and after
// every 10 batches.
BENCHMARK_CAPTURE(BM_ParquetSink, payload_snappy_checkpoint_every_batch, ParquetSchema::kPayload,
                  ParquetCompression::kSnappy, 1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ParquetSink, payload_snappy_checkpoint_every_10, ParquetSchema::kPayload,
                  ParquetCompression::kSnappy, 10)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ParquetSink, columns_snappy_checkpoint_every_batch, ParquetSchema::kColumns,
                  ParquetCompression::kSnappy, 1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ParquetSink, columns_snappy_checkpoint_every_10, ParquetSchema::kColumns,
                  ParquetCompression::kSnappy, 10)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pulse::io
