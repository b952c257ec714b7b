// SPDX-License-Identifier: MIT
// ParquetSink: routes each result to its partition's open file, rolls files by rows, bytes and
// age, commits files when partitions complete (with _SUCCESS markers) and at the end; with
// checkpoints, spools the open files' rows and publishes rolled files at checkpoint commits.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "io/parquet/parquet_file.h"

#include "core/file_util.h"
#include "io/parquet/partition.h"
#include "io/parquet/spool.h"

#include "pulse/io/parquet.h"

namespace pulse::io {
namespace {

namespace fs = std::filesystem;
using internal::ParquetFile;

// Files open at once (one per partition being written); past this the least recently written
// one is closed, which bounds memory and file descriptors when partitioning by a busy field.
constexpr size_t kMaxOpenFiles = 64;

constexpr std::string_view kSuccessMarker = "_SUCCESS";

// Checkpoint information (PrepareCommit's value): its format name and version.
constexpr std::string_view kInfoFormat = "pulse-parquet-sink";
constexpr int64_t kInfoVersion = 1;

// The hidden files of the sink: a file being written, and its spool (with checkpoints).
constexpr std::string_view kFilePrefix = "part-";
constexpr std::string_view kFileSuffix = ".parquet";
constexpr std::string_view kTempSuffix = ".parquet.inprogress";
constexpr std::string_view kSpoolSuffix = ".parquet.spool";

std::string SpoolFileName(std::string_view name) { return fmt::format(".{}.spool", name); }

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Status BadInfo(std::string_view what) {
  return Status::Corruption(
      fmt::format("the checkpoint's parquet sink entry is malformed: {}", what));
}

// A partition value in the checkpoint information: as a string when it is printable ASCII,
// otherwise hex (the manifest must stay valid UTF-8 whatever the bytes of a field value).
void PutPartition(const std::string& value, Object* out) {
  const bool printable = std::all_of(value.begin(), value.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (printable) {
    out->emplace_back("partition", Value(value));
    return;
  }
  std::string hex;
  for (char c : value) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
  out->emplace_back("partition_hex", Value(std::move(hex)));
}

Result<std::string> GetPartition(const Value& entry) {
  if (const Value* v = entry.Find("partition"); v != nullptr && v->is_string()) {
    return v->as_string();
  }
  const Value* hex = entry.Find("partition_hex");
  if (hex == nullptr || !hex->is_string() || hex->as_string().size() % 2 != 0) {
    return BadInfo("an entry has no partition");
  }
  std::string value;
  const std::string& h = hex->as_string();
  for (size_t i = 0; i < h.size(); i += 2) {
    unsigned int byte = 0;
    if (std::sscanf(h.c_str() + i, "%2x", &byte) != 1) return BadInfo("bad partition_hex");
    value.push_back(static_cast<char>(byte));
  }
  return value;
}

Result<int64_t> GetInt(const Value& entry, std::string_view name) {
  const Value* v = entry.Find(name);
  if (v == nullptr || !v->is_int()) return BadInfo(fmt::format("no integer '{}'", name));
  return v->as_int();
}

const Array* GetArray(const Value& entry, std::string_view name) {
  const Value* v = entry.Find(name);
  return v != nullptr && v->is_array() ? &v->as_array() : nullptr;
}

// A file name recorded in the checkpoint information: one of ours, in one folder.
Result<std::string> GetFileName(const Value& entry) {
  const Value* v = entry.Find("file");
  if (v == nullptr || !v->is_string() || !StartsWith(v->as_string(), kFilePrefix) ||
      !EndsWith(v->as_string(), kFileSuffix) || v->as_string().find('/') != std::string::npos) {
    return BadInfo("an entry has no valid file name");
  }
  return v->as_string();
}

std::string_view CompressionName(ParquetCompression c) {
  switch (c) {
    case ParquetCompression::kZstd:
      return "zstd";
    case ParquetCompression::kNone:
      return "none";
    case ParquetCompression::kSnappy:
      break;
  }
  return "snappy";
}

uint32_t RandomTag() {
  uint32_t r = 0;
  if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != static_cast<ssize_t>(sizeof(r))) {
    r = static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        static_cast<uint32_t>(::getpid());
  }
  return r;
}

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The Sink. Lifecycle and threading as Sink: Open → (Write | OnWatermark | Tick)… → Close or
// Abort, all on the executor's sink thread; not thread-safe.
class ParquetSinkImpl final : public Sink {
 public:
  explicit ParquetSinkImpl(ParquetSinkOptions options)
      : options_(std::move(options)),
        by_date_(options_.partition_field.empty()),
        dates_(options_.partition_format),
        settings_{options_.compression, options_.row_group_rows} {
    if (!options_.clock_ms) options_.clock_ms = SteadyNowMs;
    if (options_.schema == ParquetSchema::kPayload) layout_ = internal::RowLayout::Payload();
  }

  ~ParquetSinkImpl() override { Abort(); }
  ParquetSinkImpl(const ParquetSinkImpl&) = delete;
  ParquetSinkImpl& operator=(const ParquetSinkImpl&) = delete;

  Status Open(SinkCounters* counters) override {
    counters_ = counters;
    std::error_code ec;
    ec = ::pulse::internal::CreateDirectories(options_.out_dir);
    if (ec) {
      return Status::IOError(
          fmt::format("cannot create out_dir '{}': {}", options_.out_dir, ec.message()));
    }
    run_start_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    run_tag_ = RandomTag();
    return Status::OK();
  }

  Status Write(std::span<const Record> records) override {
    if (counters_ == nullptr) return Status::Internal("parquet sink is not open");
    for (const Record& record : records) {
      if (!layout_) {
        PULSE_ASSIGN_OR_RETURN(layout_, internal::RowLayout::FromFirstRecord(record));
      }
      PartitionMap::iterator it = PartitionOf(record);
      Partition& p = it->second;
      if (p.file && options_.clock_ms() - p.opened_ms >= options_.max_age_ms) {
        PULSE_RETURN_IF_ERROR(CloseFile(p));
      }
      if (!p.file) PULSE_RETURN_IF_ERROR(OpenFile(p));
      PULSE_RETURN_IF_ERROR(p.file->Append(record));
      p.max_time = std::max(p.max_time, record.time);
      p.last_write = ++write_clock_;
      // A full file is closed at once, so that it is visible without waiting for more rows.
      if (p.file->rows() >= options_.max_rows ||
          (options_.max_bytes > 0 && p.file->data_bytes() >= options_.max_bytes)) {
        PULSE_RETURN_IF_ERROR(Retire(it));
      }
    }
    counters_->records.fetch_add(records.size(), std::memory_order_relaxed);
    return Status::OK();
  }

  Status OnWatermark(EventTime watermark) override {
    if (!by_date_) return Status::OK();
    // Results may trail the watermark by the lateness; saturate at the sentinels.
    const EventTime complete_before =
        watermark >= kMaxWatermark ? kMaxWatermark : watermark - options_.lateness_ms;
    for (auto it = partitions_.begin(); it != partitions_.end();) {
      Partition& p = it->second;
      if (p.max_time >= complete_before || !dates_.PeriodEndedBefore(it->first, complete_before)) {
        ++it;
        continue;
      }
      if (p.file) PULSE_RETURN_IF_ERROR(CloseFile(p));
      if (options_.success_marker) PULSE_RETURN_IF_ERROR(WriteMarker(p.dir));
      auto next = std::next(it);
      Forget(it);
      it = next;
    }
    return Status::OK();
  }

  Status Tick() override {
    const int64_t now = options_.clock_ms();
    for (auto it = partitions_.begin(); it != partitions_.end();) {
      auto next = std::next(it);
      if (it->second.file && now - it->second.opened_ms >= options_.max_age_ms) {
        PULSE_RETURN_IF_ERROR(Retire(it));
      }
      it = next;
    }
    return Status::OK();
  }

  Status Close() override {
    Status first_error;
    for (auto& [value, p] : partitions_) {
      if (!p.file) continue;
      Status st = CloseFile(p);
      if (first_error.ok()) first_error = st;
    }
    partitions_.clear();
    last_ = partitions_.end();
    return first_error;
  }

  void Abort() override {
    for (auto& [value, p] : partitions_) {
      if (p.file) p.file->Abort();
      p.file.reset();
    }
    partitions_.clear();
    last_ = partitions_.end();
    open_files_ = 0;
  }

  std::string Describe() const override {
    std::string partitioning = by_date_ ? fmt::format("dt={}", options_.partition_format)
                                        : fmt::format("{}=<value>", options_.partition_field);
    return fmt::format("parquet sink '{}' ({}, {} schema, partitions {})", options_.out_dir,
                       CompressionName(options_.compression),
                       options_.schema == ParquetSchema::kPayload ? "payload" : "columns",
                       partitioning);
  }

 private:
  struct Partition {
    fs::path dir;
    std::unique_ptr<ParquetFile> file;
    int64_t opened_ms = 0;               // processing time the open file was created
    EventTime max_time = kMinEventTime;  // latest event time written to this partition
    uint64_t last_write = 0;             // write_clock_ at the last row, for closing the oldest
  };

  using PartitionMap = std::map<std::string, Partition, std::less<>>;

  PartitionMap::iterator PartitionOf(const Record& record) {
    const std::string* value;
    if (by_date_) {
      value = &dates_.Format(record.time);
    } else {
      field_value_ = internal::FieldPartitionValue(record.value.Find(options_.partition_field));
      value = &field_value_;
    }
    if (last_ != partitions_.end() && last_->first == *value) return last_;
    auto it = partitions_.find(*value);
    if (it == partitions_.end()) {
      Partition p;
      p.dir = fs::path(options_.out_dir) /
              internal::PartitionDirName(by_date_ ? "dt" : options_.partition_field, *value);
      it = partitions_.emplace(*value, std::move(p)).first;
    }
    last_ = it;
    return it;
  }

  // Close the partition's file. A field partition is only remembered while it has an open
  // file; a date partition stays until its period is complete.
  Status Retire(PartitionMap::iterator it) {
    Status st = CloseFile(it->second);
    if (!by_date_) Forget(it);
    return st;
  }

  void Forget(PartitionMap::iterator it) {
    if (last_ == it) last_ = partitions_.end();
    partitions_.erase(it);
  }

  Status OpenFile(Partition& p) {
    if (open_files_ >= kMaxOpenFiles) PULSE_RETURN_IF_ERROR(CloseOldestFile());
    std::string name =
        fmt::format("part-{}-{:08x}-{:06}.parquet", run_start_ms_, run_tag_, ++file_sequence_);
    PULSE_ASSIGN_OR_RETURN(p.file, ParquetFile::Create(p.dir, name, *layout_, settings_));
    p.opened_ms = options_.clock_ms();
    ++open_files_;
    return Status::OK();
  }

  Status CloseFile(Partition& p) {
    std::unique_ptr<ParquetFile> file = std::move(p.file);
    --open_files_;
    PULSE_ASSIGN_OR_RETURN(uint64_t size, file->Commit());
    counters_->bytes.fetch_add(size, std::memory_order_relaxed);
    return Status::OK();
  }

  Status CloseOldestFile() {
    auto oldest = partitions_.end();
    for (auto it = partitions_.begin(); it != partitions_.end(); ++it) {
      if (it->second.file &&
          (oldest == partitions_.end() || it->second.last_write < oldest->second.last_write)) {
        oldest = it;
      }
    }
    return oldest != partitions_.end() ? Retire(oldest) : Status::OK();
  }

  static Status WriteMarker(const fs::path& dir) {
    fs::path marker = dir / kSuccessMarker;
    int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Status::IOError(
          fmt::format("cannot write {}: {}", marker.string(), std::strerror(errno)));
    }
    ::close(fd);
    return Status::OK();
  }

  ParquetSinkOptions options_;
  const bool by_date_;
  internal::DateFormatter dates_;
  const internal::FileSettings settings_;
  std::optional<internal::RowLayout> layout_;  // set by the first record (schema = columns)
  SinkCounters* counters_ = nullptr;
  int64_t run_start_ms_ = 0;  // wall clock at Open, in every file name of this run
  uint32_t run_tag_ = 0;      // random, in every file name of this run
  uint64_t file_sequence_ = 0;
  uint64_t write_clock_ = 0;
  size_t open_files_ = 0;
  // Ordered, so that files are closed in the same order in every run.
  PartitionMap partitions_;
  PartitionMap::iterator last_ = partitions_.end();  // the partition of the last record
  std::string field_value_;                          // scratch for PartitionOf
};

}  // namespace

Status ParquetSinkOptions::Validate() const {
  if (out_dir.empty()) return Status::InvalidArgument("parquet sink: out_dir must not be empty");
  if (max_rows == 0) return Status::InvalidArgument("parquet sink: max_rows must be at least 1");
  if (row_group_rows == 0) {
    return Status::InvalidArgument("parquet sink: row_group_rows must be at least 1");
  }
  if (max_age_ms <= 0) return Status::InvalidArgument("parquet sink: max_age must be positive");
  if (lateness_ms < 0 || lateness_ms > kMaxDurationMs) {
    return Status::InvalidArgument("parquet sink: lateness must be between 0 and 100 years");
  }
  if (partition_field.empty()) {
    Status st = internal::ValidateDateFormat(partition_format);
    if (!st.ok()) return st.WithContext("parquet sink");
  }
  return Status::OK();
}

std::unique_ptr<Sink> ParquetSink(ParquetSinkOptions options) {
  return std::make_unique<ParquetSinkImpl>(std::move(options));
}

}  // namespace pulse::io
