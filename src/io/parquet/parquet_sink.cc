// SPDX-License-Identifier: MIT
// ParquetSink: routes each result to its partition's open file, rolls files by rows, bytes and
// age, commits files when partitions complete (with _SUCCESS markers) and at the end; with
// checkpoints, spools the open files' rows and publishes rolled files at checkpoint commits.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "io/parquet/parquet_file.h"
#include "io/parquet/partition.h"
#include "io/parquet/spool.h"

#include "pulse/core/json_reader.h"
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

// The checkpoint information as errors name it.
constexpr std::string_view kInfoDocument = "parquet sink checkpoint entry";

// An error about the checkpoint information as a whole.
Status BadInfo(std::string_view what) {
  return Status::Corruption(fmt::format("{} {}", kInfoDocument, what));
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

// The partition value of an entry (PutPartition's "partition" or "partition_hex").
Result<std::string> GetPartition(const JsonObjectReader& entry) {
  PULSE_ASSIGN_OR_RETURN(std::optional<std::string> printable, entry.OptionalString("partition"));
  if (printable) return std::move(*printable);
  PULSE_ASSIGN_OR_RETURN(std::string hex, entry.String("partition_hex"));
  if (hex.size() % 2 != 0) return entry.Invalid("partition_hex", "is not hex");
  std::string value;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned int byte = 0;
    if (std::sscanf(hex.c_str() + i, "%2x", &byte) != 1) {
      return entry.Invalid("partition_hex", "is not hex");
    }
    value.push_back(static_cast<char>(byte));
  }
  return value;
}

// A file name recorded in the checkpoint information: one of ours, in one folder.
Result<std::string> GetFileName(const JsonObjectReader& entry) {
  PULSE_ASSIGN_OR_RETURN(std::string name, entry.String("file"));
  if (!StartsWith(name, kFilePrefix) || !EndsWith(name, kFileSuffix) ||
      name.find('/') != std::string::npos) {
    return entry.Invalid("file", "is not a file name of this sink");
  }
  return name;
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

// The Sink and its checkpoint side. Lifecycle and threading as Sink and CheckpointedSink:
// Open → Recover? → (Write | OnWatermark | Tick | PrepareCommit | Commit)… → Close, Suspend or
// Abort, all on the executor's sink thread (Recover and Suspend on the thread that runs the
// pipeline while no stage runs); not thread-safe.
//
// With checkpoints (Recover was called) every open file has a spool beside it holding its rows,
// and a rolled file is finished under its hidden name and only renamed by the Commit of the
// first checkpoint that covers the roll, followed by the _SUCCESS markers decided meanwhile; a
// rolled file's spool is removed one commit later. See docs/parquet.md#checkpoints.
class ParquetSinkImpl final : public Sink, public CheckpointedSink {
 public:
  explicit ParquetSinkImpl(ParquetSinkOptions options)
      : options_(std::move(options)),
        by_date_(options_.partition_field.empty()),
        dates_(options_.partition_format),
        settings_{options_.compression, options_.row_group_rows} {
    if (options_.schema == ParquetSchema::kPayload) layout_ = internal::RowLayout::Payload();
  }

  ~ParquetSinkImpl() override { Abort(); }
  ParquetSinkImpl(const ParquetSinkImpl&) = delete;
  ParquetSinkImpl& operator=(const ParquetSinkImpl&) = delete;

  Status Open(const SinkContext& ctx) override {
    counters_ = ctx.counters;
    env_ = ctx.env != nullptr ? ctx.env : &Env::Default();
    if (Status st = CreateDirs(*env_, options_.out_dir); !st.ok()) {
      return Status::IOError(
          fmt::format("cannot create out_dir '{}': {}", options_.out_dir, st.message()));
    }
    run_id_ = fmt::format("{}-{:08x}", env_->clock().UnixMillis(),
                          static_cast<uint32_t>(env_->UniqueId()));
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
      if (p.file && NowMs() - p.opened_ms >= options_.max_age_ms) {
        PULSE_RETURN_IF_ERROR(CloseFile(it->first, p));
      }
      if (!p.file) PULSE_RETURN_IF_ERROR(OpenFile(p));
      PULSE_RETURN_IF_ERROR(p.file->Append(record));
      if (p.spool) PULSE_RETURN_IF_ERROR(p.spool->Append(record));
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
      if (p.file) PULSE_RETURN_IF_ERROR(CloseFile(it->first, p));
      if (options_.success_marker) {
        if (checkpointing_) {
          pending_.markers.push_back(it->first);
        } else {
          PULSE_RETURN_IF_ERROR(WriteMarker(p.dir));
        }
      }
      auto next = std::next(it);
      Forget(it);
      it = next;
    }
    return Status::OK();
  }

  Status Tick() override {
    const int64_t now = NowMs();
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
      Status st = CloseFile(value, p);
      if (first_error.ok()) first_error = st;
    }
    partitions_.clear();
    last_ = partitions_.end();
    if (checkpointing_ && first_error.ok()) {
      // The end: publish everything, whether a checkpoint covers it or not.
      prepared_[kEverything] = std::move(pending_);
      pending_ = {};
      first_error = CommitUpTo(kEverything);
    }
    return first_error;
  }

  void Abort() override {
    for (auto& [value, p] : partitions_) {
      if (p.file) p.file->Abort();
      p.file.reset();
      p.spool.reset();  // kept on disk: a checkpoint may name it
    }
    partitions_.clear();
    last_ = partitions_.end();
    open_files_ = 0;
    // With checkpoints, finished files and spools stay for the next run's Recover.
    pending_ = {};
    prepared_.clear();
    retired_spools_.clear();
  }

  std::string Describe() const override {
    std::string partitioning = by_date_ ? fmt::format("dt={}", options_.partition_format)
                                        : fmt::format("{}=<value>", options_.partition_field);
    return fmt::format("parquet sink '{}' ({}, {} schema, partitions {})", options_.out_dir,
                       CompressionName(options_.compression),
                       options_.schema == ParquetSchema::kPayload ? "payload" : "columns",
                       partitioning);
  }

  // --- Checkpoints.

  CheckpointedSink* AsCheckpointed() override { return this; }

  Status Recover(const Value* info) override {
    if (counters_ == nullptr) return Status::Internal("parquet sink is not open");
    if (write_clock_ != 0 || !partitions_.empty() || checkpointing_) {
      return Status::Internal("parquet sink recovered after use");
    }
    checkpointing_ = true;
    if (info == nullptr) return RemoveLeftovers({}, /*after_sequence=*/std::nullopt);
    return RecoverFrom(*info).WithContext(Describe());
  }

  Result<Value> PrepareCommit(uint64_t checkpoint_id) override {
    if (!checkpointing_) {
      return Status::Internal("parquet sink: PrepareCommit without Recover");
    }
    const int64_t now = NowMs();
    Array partitions;
    for (auto& [value, p] : partitions_) {
      Object entry;
      PutPartition(value, &entry);
      entry.emplace_back("max_time", Value(p.max_time));
      entry.emplace_back("last_write", Value(static_cast<int64_t>(p.last_write)));
      if (p.file) {
        PULSE_RETURN_IF_ERROR(p.spool->Sync());
        entry.emplace_back("file", Value(p.file->path().filename().string()));
        entry.emplace_back("rows", Value(static_cast<int64_t>(p.file->rows())));
        entry.emplace_back("spool_bytes", Value(static_cast<int64_t>(p.spool->length())));
        entry.emplace_back("age_ms", Value(static_cast<int64_t>(now - p.opened_ms)));
      }
      partitions.emplace_back(std::move(entry));
    }
    // New spools and finished files must be found by name after a crash.
    for (const fs::path& dir : dirs_to_sync_) {
      PULSE_RETURN_IF_ERROR(internal::SyncFolder(*env_, dir));
    }
    dirs_to_sync_.clear();
    prepared_[checkpoint_id] = std::move(pending_);
    pending_ = {};
    // Everything not yet committed, in case an earlier Commit did not happen.
    Array commit;
    Array markers;
    for (const auto& [id, publication] : prepared_) {
      for (const PendingFile& f : publication.files) {
        Object entry;
        PutPartition(f.partition, &entry);
        entry.emplace_back("file", Value(f.name));
        commit.emplace_back(std::move(entry));
      }
      for (const std::string& m : publication.markers) {
        Object entry;
        PutPartition(m, &entry);
        markers.emplace_back(std::move(entry));
      }
    }
    Object info;
    info.emplace_back("format", Value(kInfoFormat));
    info.emplace_back("version", Value(kInfoVersion));
    info.emplace_back("run", Value(run_id_));
    info.emplace_back("sequence", Value(static_cast<int64_t>(file_sequence_)));
    info.emplace_back("write_clock", Value(static_cast<int64_t>(write_clock_)));
    if (layout_ && !layout_->is_payload()) {
      Array columns;
      for (const internal::Column& c : layout_->columns()) {
        columns.emplace_back(Array{Value(c.name), Value(internal::ColumnTypeName(c.type))});
      }
      info.emplace_back("columns", Value(std::move(columns)));
    }
    info.emplace_back("commit", Value(std::move(commit)));
    info.emplace_back("markers", Value(std::move(markers)));
    info.emplace_back("partitions", Value(std::move(partitions)));
    return Value(std::move(info));
  }

  Status Commit(uint64_t checkpoint_id) override { return CommitUpTo(checkpoint_id); }

  Status Suspend() override {
    Abort();
    return Status::OK();
  }

 private:
  struct Partition {
    fs::path dir;
    std::unique_ptr<ParquetFile> file;
    std::unique_ptr<internal::Spool> spool;  // with checkpoints: the open file's rows
    int64_t opened_ms = 0;                   // processing time the open file was created
    EventTime max_time = kMinEventTime;      // latest event time written to this partition
    uint64_t last_write = 0;                 // write_clock_ at the last row, for closing the oldest
  };

  using PartitionMap = std::map<std::string, Partition, std::less<>>;

  // A finished file waiting under its hidden name for a checkpoint's commit.
  struct PendingFile {
    std::string partition;
    fs::path dir;
    std::string name;
  };

  // What a checkpoint's Commit publishes.
  struct Publication {
    std::vector<PendingFile> files;
    std::vector<std::string> markers;  // date partitions whose _SUCCESS follows the files
    std::vector<fs::path> spools;      // of the files, removed one commit after theirs
  };

  // Close() publishes under this id, after every checkpoint's.
  static constexpr uint64_t kEverything = UINT64_MAX;

  // Processing time in ms on the run's clock (max_age).
  int64_t NowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               env_->clock().Now().time_since_epoch())
        .count();
  }

  fs::path DirOf(std::string_view value) const {
    return fs::path(options_.out_dir) /
           internal::PartitionDirName(by_date_ ? "dt" : options_.partition_field, value);
  }

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
      p.dir = DirOf(*value);
      it = partitions_.emplace(*value, std::move(p)).first;
    }
    last_ = it;
    return it;
  }

  // Close the partition's file. A field partition is only remembered while it has an open
  // file; a date partition stays until its period is complete.
  Status Retire(PartitionMap::iterator it) {
    Status st = CloseFile(it->first, it->second);
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
        fmt::format("{}{}-{:06}{}", kFilePrefix, run_id_, ++file_sequence_, kFileSuffix);
    PULSE_ASSIGN_OR_RETURN(p.file, ParquetFile::Create(*env_, p.dir, name, *layout_, settings_));
    if (checkpointing_) {
      Result<std::unique_ptr<internal::Spool>> spool =
          internal::Spool::Create(*env_, p.dir / SpoolFileName(name));
      if (!spool.ok()) {
        p.file.reset();
        return spool.status();
      }
      p.spool = std::move(spool).value();
      dirs_to_sync_.insert(p.dir);
      dirs_to_sync_.insert(fs::path(options_.out_dir));  // the partition folder may be new
    }
    p.opened_ms = NowMs();
    ++open_files_;
    return Status::OK();
  }

  Status CloseFile(const std::string& value, Partition& p) {
    std::unique_ptr<ParquetFile> file = std::move(p.file);
    --open_files_;
    if (!checkpointing_) {
      PULSE_ASSIGN_OR_RETURN(uint64_t size, file->Commit());
      counters_->bytes.fetch_add(size, std::memory_order_relaxed);
      return Status::OK();
    }
    // Published by the Commit of the next checkpoint; the spool is kept until then, since
    // the previous checkpoint still names it.
    PULSE_ASSIGN_OR_RETURN(uint64_t size, file->Finish());
    counters_->bytes.fetch_add(size, std::memory_order_relaxed);
    pending_.files.push_back({value, p.dir, file->path().filename().string()});
    pending_.spools.push_back(p.spool->path());
    p.spool.reset();
    dirs_to_sync_.insert(p.dir);
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

  // Publish what the checkpoints up to `checkpoint_id` covered: rename the files, then write
  // the markers, then remove the spools. Idempotent.
  Status CommitUpTo(uint64_t checkpoint_id) {
    while (!prepared_.empty() && prepared_.begin()->first <= checkpoint_id) {
      Publication& publication = prepared_.begin()->second;
      for (const PendingFile& f : publication.files) {
        PULSE_RETURN_IF_ERROR(Publish(f.dir, f.name));
      }
      for (const std::string& m : publication.markers) {
        PULSE_RETURN_IF_ERROR(WriteMarker(DirOf(m)));
      }
      // A spool outlives its file's publication by one commit, so that a run can still
      // resume from the checkpoint before (when the newest one turns out to be unusable).
      for (const fs::path& spool : retired_spools_) (void)env_->Remove(spool.string());
      retired_spools_ = std::move(publication.spools);
      prepared_.erase(prepared_.begin());
    }
    if (checkpoint_id == kEverything) {
      for (const fs::path& spool : retired_spools_) (void)env_->Remove(spool.string());
      retired_spools_.clear();
    }
    return Status::OK();
  }

  // Rename a finished file into place; done already if only the final name exists.
  Status Publish(const fs::path& dir, const std::string& name) {
    const fs::path temp = dir / internal::TempFileName(name);
    if (env_->Stat(temp.string()).ok()) return internal::PublishFile(*env_, temp, dir / name);
    if (env_->Stat((dir / name).string()).ok()) return Status::OK();
    return Status::Corruption(
        fmt::format("cannot commit {}: the finished file is missing", (dir / name).string()));
  }

  Status RecoverFrom(const Value& info) {
    PULSE_ASSIGN_OR_RETURN(JsonObjectReader r,
                           JsonObjectReader::Make(info, std::string(kInfoDocument)));
    PULSE_RETURN_IF_ERROR(r.CheckFormat(kInfoFormat, kInfoVersion));
    PULSE_ASSIGN_OR_RETURN(std::string run, r.String("run"));
    if (run.empty() || run.find_first_not_of("0123456789abcdef-") != std::string::npos) {
      return r.Invalid("run", "is not a run id");
    }
    PULSE_ASSIGN_OR_RETURN(uint64_t sequence, r.Uint("sequence"));
    PULSE_ASSIGN_OR_RETURN(uint64_t write_clock, r.Uint("write_clock"));
    PULSE_ASSIGN_OR_RETURN(std::vector<JsonObjectReader> commit, r.Children("commit"));
    PULSE_ASSIGN_OR_RETURN(std::vector<JsonObjectReader> markers, r.Children("markers"));
    PULSE_ASSIGN_OR_RETURN(std::vector<JsonObjectReader> partitions, r.Children("partitions"));
    PULSE_ASSIGN_OR_RETURN(const Array* columns, r.OptionalList("columns"));
    // Continue the run's names, so that files replayed after the checkpoint get the names
    // they had (see RemoveLeftovers).
    run_id_ = std::move(run);
    file_sequence_ = sequence;
    write_clock_ = write_clock;
    if (columns != nullptr && options_.schema == ParquetSchema::kColumns) {
      std::vector<internal::Column> cols;
      for (const Value& c : *columns) {
        if (!c.is_array() || c.as_array().size() != 2 || !c.as_array()[0].is_string() ||
            !c.as_array()[1].is_string()) {
          return r.Invalid("columns", "has an entry that is not [name, type]");
        }
        PULSE_ASSIGN_OR_RETURN(internal::ColumnType type,
                               internal::ParseColumnType(c.as_array()[1].as_string()));
        cols.push_back({c.as_array()[0].as_string(), type});
      }
      PULSE_ASSIGN_OR_RETURN(layout_, internal::RowLayout::FromColumns(std::move(cols)));
    }

    // 1. Finish the commit the checkpoint describes (a crash may have come before it).
    for (const JsonObjectReader& entry : commit) {
      PULSE_ASSIGN_OR_RETURN(std::string value, GetPartition(entry));
      PULSE_ASSIGN_OR_RETURN(std::string name, GetFileName(entry));
      PULSE_RETURN_IF_ERROR(Publish(DirOf(value), name));
    }
    for (const JsonObjectReader& entry : markers) {
      PULSE_ASSIGN_OR_RETURN(std::string value, GetPartition(entry));
      if (options_.success_marker) PULSE_RETURN_IF_ERROR(WriteMarker(DirOf(value)));
    }

    // 2. Remove everything else in progress, keeping the spools of the open files.
    struct OpenEntry {
      std::string value;
      std::string name;
      uint64_t rows = 0;
      uint64_t spool_bytes = 0;
      int64_t age_ms = 0;
      EventTime max_time = kMinEventTime;
      uint64_t last_write = 0;
    };
    std::vector<OpenEntry> entries;
    std::set<fs::path> keep;
    for (const JsonObjectReader& entry : partitions) {
      OpenEntry e;
      PULSE_ASSIGN_OR_RETURN(e.value, GetPartition(entry));
      PULSE_ASSIGN_OR_RETURN(e.max_time, entry.Int("max_time"));
      PULSE_ASSIGN_OR_RETURN(e.last_write, entry.Uint("last_write"));
      if (entry.Find("file") != nullptr) {
        PULSE_ASSIGN_OR_RETURN(e.name, GetFileName(entry));
        PULSE_ASSIGN_OR_RETURN(e.rows, entry.Uint("rows"));
        PULSE_ASSIGN_OR_RETURN(int64_t spool_bytes, entry.IntAtLeast("spool_bytes", 1));
        e.spool_bytes = static_cast<uint64_t>(spool_bytes);
        PULSE_ASSIGN_OR_RETURN(e.age_ms, entry.Int("age_ms"));
        keep.insert(DirOf(e.value) / SpoolFileName(e.name));
      }
      entries.push_back(std::move(e));
    }
    PULSE_RETURN_IF_ERROR(RemoveLeftovers(keep, file_sequence_));

    // 3. Rebuild the open files from their spools.
    const int64_t now = NowMs();
    for (OpenEntry& e : entries) {
      Partition p;
      p.dir = DirOf(e.value);
      p.max_time = e.max_time;
      p.last_write = e.last_write;
      if (!e.name.empty()) PULSE_RETURN_IF_ERROR(Reopen(e.name, e.rows, e.spool_bytes, p));
      if (p.file) {
        p.opened_ms = now - e.age_ms;
        ++open_files_;
      } else if (!by_date_) {
        continue;  // a field partition is only remembered while it has an open file
      }
      partitions_.emplace(std::move(e.value), std::move(p));
    }
    return Status::OK();
  }

  // Rebuild the open file `name` of `p` from its spool. If the file was already published
  // (Close ran after the final checkpoint), leave it.
  Status Reopen(const std::string& name, uint64_t rows, uint64_t spool_bytes, Partition& p) {
    const fs::path final_path = p.dir / name;
    const fs::path spool_path = p.dir / SpoolFileName(name);
    if (env_->Stat(final_path.string()).ok()) {
      PULSE_ASSIGN_OR_RETURN(uint64_t published_rows, internal::ParquetFileRows(final_path));
      if (published_rows == rows) {
        (void)env_->Remove(spool_path.string());
        return Status::OK();
      }
      // Published by a later checkpoint that is lost (this one is older): written again below.
      (void)env_->Remove(final_path.string());
    }
    if (!layout_) return BadInfo("has an open file but no columns");
    PULSE_ASSIGN_OR_RETURN(p.file, ParquetFile::Create(*env_, p.dir, name, *layout_, settings_));
    ParquetFile& file = *p.file;
    Result<std::unique_ptr<internal::Spool>> spool = internal::Spool::Reopen(
        *env_, spool_path, spool_bytes, [&](const Record& r) { return file.Append(r); });
    if (!spool.ok()) {
      p.file.reset();
      return spool.status();
    }
    p.spool = std::move(spool).value();
    if (file.rows() != rows) {
      p.file.reset();
      p.spool.reset();
      return Status::Corruption(fmt::format("spool {} holds {} rows, the checkpoint says {}",
                                            spool_path.string(), file.rows(), rows));
    }
    return Status::OK();
  }

  // Remove the sink's hidden in-progress files and spools in every partition folder, except
  // `keep`. After a checkpoint (`after_sequence` set), also remove this run's files numbered
  // after it: only a later checkpoint, since lost (corrupt), can have published them, and the
  // replay writes them again.
  Status RemoveLeftovers(const std::set<fs::path>& keep, std::optional<uint64_t> after_sequence) {
    const std::string lineage = fmt::format("{}{}-", kFilePrefix, run_id_);
    Result<std::vector<std::string>> folders = env_->ListDir(options_.out_dir);
    if (!folders.ok()) {
      return Status::IOError(fmt::format("cannot list out_dir '{}': {}", options_.out_dir,
                                         folders.status().message()));
    }
    for (const std::string& folder_name : *folders) {
      const fs::path folder = fs::path(options_.out_dir) / folder_name;
      Result<FileInfo> info = env_->Stat(folder.string());
      if (!info.ok() || info->type != FileType::kDirectory) continue;
      Result<std::vector<std::string>> names = env_->ListDir(folder.string());
      if (!names.ok()) continue;
      for (const std::string& name : *names) {
        const fs::path path = folder / name;
        bool remove = false;
        if (StartsWith(name, ".") && StartsWith(name.substr(1), kFilePrefix) &&
            (EndsWith(name, kTempSuffix) || EndsWith(name, kSpoolSuffix))) {
          remove = keep.count(path) == 0;
        } else if (after_sequence && StartsWith(name, lineage) && EndsWith(name, kFileSuffix)) {
          const std::string digits =
              name.substr(lineage.size(), name.size() - lineage.size() - kFileSuffix.size());
          remove = !digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos &&
                   digits.size() < 20 && std::stoull(digits) > *after_sequence;
        }
        if (remove) (void)env_->Remove(path.string());
      }
    }
    return Status::OK();
  }

  // An empty _SUCCESS file in `dir` (created with the folder if needed).
  Status WriteMarker(const fs::path& dir) {
    (void)CreateDirs(*env_, dir.string());  // a failure shows in the write below
    const fs::path marker = dir / kSuccessMarker;
    Status st = WriteStringToFile(*env_, marker.string(), "", WriteMode::kTruncate, Fsync::kNo);
    if (st.ok()) return st;
    return Status::IOError(fmt::format("cannot write {}: {}", marker.string(), st.message()));
  }

  ParquetSinkOptions options_;
  const bool by_date_;
  internal::DateFormatter dates_;
  const internal::FileSettings settings_;
  std::optional<internal::RowLayout> layout_;  // set by the first record (schema = columns)
  SinkCounters* counters_ = nullptr;
  Env* env_ = nullptr;  // files and processing time; set by Open
  // In every file name of this run: the wall clock at Open (ms) and a random tag; a resumed
  // run continues the names of the run it resumes.
  std::string run_id_;
  uint64_t file_sequence_ = 0;
  uint64_t write_clock_ = 0;
  size_t open_files_ = 0;
  // Ordered, so that files are closed in the same order in every run.
  PartitionMap partitions_;
  PartitionMap::iterator last_ = partitions_.end();  // the partition of the last record
  std::string field_value_;                          // scratch for PartitionOf

  // With checkpoints (set by Recover).
  bool checkpointing_ = false;
  Publication pending_;                       // since the last PrepareCommit
  std::map<uint64_t, Publication> prepared_;  // by checkpoint id, until its Commit
  std::set<fs::path> dirs_to_sync_;           // before the next checkpoint
  std::vector<fs::path> retired_spools_;      // of the files the last Commit published
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
