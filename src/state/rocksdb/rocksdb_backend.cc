// SPDX-License-Identifier: MIT
// The RocksDB state backend: one column family per namespace, keys prefixed by their key
// group, RocksDB checkpoints as snapshots. The only file that includes RocksDB; its Status
// becomes a Pulse Status in FromRocks().
#include "pulse/state/rocksdb_backend.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdarg>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string_view>

#include <fmt/format.h>

#include "state/kvs_file.h"

namespace pulse::state {
namespace fs = std::filesystem;
namespace {

using internal::KvsReader;

// Marks a directory as a RocksDB backend's working directory, which Open may empty.
constexpr std::string_view kMarkerName = "PULSE_STATE";
constexpr std::string_view kDbDirName = "db";
// Column family of namespace "x": "ns:x" ("default" is RocksDB's own).
constexpr std::string_view kFamilyPrefix = "ns:";
constexpr size_t kKeyGroupBytes = 2;
constexpr size_t kBatchBytes = 4u << 20;  // restore writes in batches of about this size
constexpr int kBloomBitsPerKey = 10;
constexpr size_t kMinBufferBytes = 1u << 20;

/// The one conversion of RocksDB errors.
Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  std::string message = fmt::format("rocksdb: {}: {}", what, s.ToString());
  if (s.IsNotFound()) return Status::NotFound(std::move(message));
  if (s.IsCorruption()) return Status::Corruption(std::move(message));
  if (s.IsInvalidArgument() || s.IsNotSupported()) {
    return Status::InvalidArgument(std::move(message));
  }
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) {
    return Status::Unavailable(std::move(message));
  }
  return Status::IOError(std::move(message));
}

void AppendGroup(KeyGroup group, std::string* out) {
  out->push_back(static_cast<char>((group >> 8) & 0xff));
  out->push_back(static_cast<char>(group & 0xff));
}

KeyGroup DecodeGroup(const rocksdb::Slice& key) {
  return (static_cast<KeyGroup>(static_cast<unsigned char>(key[0])) << 8) |
         static_cast<unsigned char>(key[1]);
}

std::string GroupBound(KeyGroup group) {
  std::string s;
  AppendGroup(group, &s);
  return s;
}

std::string FamilyName(std::string_view ns) {
  return std::string(kFamilyPrefix) + std::string(ns);
}

/// Discards RocksDB's informational log (for read-only opens of snapshots, which must not
/// gain files).
class NullLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
  void Logv(const rocksdb::InfoLogLevel /*level*/, const char* /*format*/,
            va_list /*ap*/) override {}
};

/// Destroys a column family handle through its database.
struct FamilyDeleter {
  rocksdb::DB* db = nullptr;
  void operator()(rocksdb::ColumnFamilyHandle* h) const {
    (void)db->DestroyColumnFamilyHandle(h);
  }
};
using FamilyHandle = std::unique_ptr<rocksdb::ColumnFamilyHandle, FamilyDeleter>;

/// A snapshot opened read-only, with all its column families.
struct ReadOnlyDb {
  std::unique_ptr<rocksdb::DB> db;  // declared first: destroyed after the handles
  std::vector<FamilyHandle> families;
  std::vector<std::string> names;

  static Result<ReadOnlyDb> Open(const std::string& dir) {
    rocksdb::DBOptions options;
    options.info_log = std::make_shared<NullLogger>();
    std::vector<std::string> names;
    PULSE_RETURN_IF_ERROR(FromRocks(rocksdb::DB::ListColumnFamilies(options, dir, &names),
                                    fmt::format("list column families of '{}'", dir)));
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& n : names) {
      descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    PULSE_RETURN_IF_ERROR(
        FromRocks(rocksdb::DB::OpenForReadOnly(options, dir, descriptors, &handles, &raw),
                  fmt::format("open snapshot '{}'", dir)));
    ReadOnlyDb out;
    out.db.reset(raw);
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      out.families.emplace_back(h, FamilyDeleter{raw});
    }
    out.names = std::move(names);
    return out;
  }

  rocksdb::ColumnFamilyHandle* Find(std::string_view name) const {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return families[i].get();
    }
    return nullptr;
  }
};

class RocksDbBackend final : public StateBackend {
 public:
  RocksDbBackend(RocksDbBackendOptions options, std::unique_ptr<rocksdb::DB> db,
                 rocksdb::ColumnFamilyOptions family_options)
      : StateBackend("rocksdb", options.key_groups, options.env),
        options_(std::move(options)),
        db_(std::move(db)),
        family_options_(std::move(family_options)) {
    write_options_.disableWAL = true;  // durability comes from checkpoints
  }

  ~RocksDbBackend() override {
    families_.clear();  // handles before the database
    if (db_) (void)db_->Close();
  }

  uint64_t ApproximateEntries() const override {
    uint64_t total = 0;
    for (const FamilyHandle& f : families_) {
      uint64_t n = 0;
      if (db_->GetIntProperty(f.get(), "rocksdb.estimate-num-keys", &n)) total += n;
    }
    return total;
  }

 protected:
  Result<uint32_t> DoOpenNamespace(std::string_view name) override {
    PULSE_RETURN_IF_ERROR(AddFamily(FamilyName(name)));
    return static_cast<uint32_t>(families_.size() - 1);
  }

  Result<std::optional<std::string>> DoGet(uint32_t ns, KeyGroup group,
                                           std::string_view key) override {
    rocksdb::PinnableSlice value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), families_[ns].get(), Encode(group, key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    PULSE_RETURN_IF_ERROR(FromRocks(s, "get"));
    return std::optional<std::string>(value.ToString());
  }

  Status DoPut(uint32_t ns, KeyGroup group, std::string_view key,
               std::string_view value) override {
    return FromRocks(db_->Put(write_options_, families_[ns].get(), Encode(group, key),
                              rocksdb::Slice(value.data(), value.size())),
                     "put");
  }

  Status DoDelete(uint32_t ns, KeyGroup group, std::string_view key) override {
    return FromRocks(db_->Delete(write_options_, families_[ns].get(), Encode(group, key)),
                     "delete");
  }

  Status DoScan(uint32_t ns, KeyGroupRange groups, std::string_view prefix,
                const ScanVisitor& visit) override {
    return ScanFamily(*db_, families_[ns].get(), groups, prefix, visit);
  }

  Result<std::vector<std::string>> DoSnapshot(const std::string& dir) override {
    rocksdb::Checkpoint* raw = nullptr;
    PULSE_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "checkpoint"));
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    // log_size_for_flush = 0: always flush, so the table files hold everything (no WAL).
    PULSE_RETURN_IF_ERROR(FromRocks(checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0),
                                    fmt::format("checkpoint to '{}'", dir)));
    return std::vector<std::string>();
  }

  Status DoRestore(std::span<const SnapshotSource> sources) override {
    // Drop and recreate every family: cheaper than deleting keys, and ids stay the same.
    for (size_t i = 0; i < families_.size(); ++i) {
      PULSE_RETURN_IF_ERROR(FromRocks(db_->DropColumnFamily(families_[i].get()), "drop state"));
      rocksdb::ColumnFamilyHandle* h = nullptr;
      PULSE_RETURN_IF_ERROR(FromRocks(
          db_->CreateColumnFamily(family_options_, FamilyName(namespace_names()[i]), &h),
          "recreate state"));
      families_[i].reset(h);
    }
    for (const SnapshotSource& source : sources) {
      if (source.backend == "memory") {
        PULSE_RETURN_IF_ERROR(RestoreMemoryFormat(source));
      } else {
        PULSE_RETURN_IF_ERROR(RestoreRocksDbFormat(source));
      }
    }
    return Status::OK();
  }

 private:
  /// Accumulates restored entries and writes them in batches.
  class BatchWriter {
   public:
    BatchWriter(rocksdb::DB& db, const rocksdb::WriteOptions& options)
        : db_(db), options_(options) {}
    Status Put(rocksdb::ColumnFamilyHandle* family, const rocksdb::Slice& key,
               const rocksdb::Slice& value) {
      PULSE_RETURN_IF_ERROR(FromRocks(batch_.Put(family, key, value), "restore"));
      if (batch_.GetDataSize() >= kBatchBytes) return Flush();
      return Status::OK();
    }
    Status Flush() {
      if (batch_.Count() == 0) return Status::OK();
      Status st = FromRocks(db_.Write(options_, &batch_), "restore");
      batch_.Clear();
      return st;
    }

   private:
    rocksdb::DB& db_;
    const rocksdb::WriteOptions& options_;
    rocksdb::WriteBatch batch_;
  };

  static Status ScanFamily(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family,
                           KeyGroupRange groups, std::string_view prefix,
                           const ScanVisitor& visit) {
    // Without a prefix the range is one contiguous scan; with one, one seek per group.
    const std::string upper = GroupBound(groups.end);
    const rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions read;
    read.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read, family));
    std::string start;
    for (KeyGroup g = groups.begin; g < groups.end; ++g) {
      start.clear();
      AppendGroup(g, &start);
      start.append(prefix);
      for (it->Seek(start); it->Valid(); it->Next()) {
        const rocksdb::Slice key = it->key();
        if (key.size() < kKeyGroupBytes) {
          return Status::Corruption("rocksdb state holds a key without a key group");
        }
        if (!prefix.empty() && !key.starts_with(start)) break;
        const rocksdb::Slice value = it->value();
        if (visit(DecodeGroup(key),
                  std::string_view(key.data() + kKeyGroupBytes, key.size() - kKeyGroupBytes),
                  std::string_view(value.data(), value.size())) == ScanNext::kStop) {
          return Status::OK();
        }
      }
      PULSE_RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
      if (prefix.empty()) break;  // the one scan covered every group
    }
    return Status::OK();
  }

  Status AddFamily(const std::string& name) {
    rocksdb::ColumnFamilyHandle* h = nullptr;
    PULSE_RETURN_IF_ERROR(FromRocks(db_->CreateColumnFamily(family_options_, name, &h),
                                    fmt::format("create column family '{}'", name)));
    families_.emplace_back(h, FamilyDeleter{db_.get()});
    return Status::OK();
  }

  rocksdb::Slice Encode(KeyGroup group, std::string_view key) {
    key_buffer_.clear();
    AppendGroup(group, &key_buffer_);
    key_buffer_.append(key);
    return rocksdb::Slice(key_buffer_);
  }

  Status RestoreMemoryFormat(const SnapshotSource& source) {
    const KeyGroupRange wanted = source.key_groups.Intersect(key_groups());
    BatchWriter writer(*db_, write_options_);
    std::string key;
    for (size_t i = 0; i < source.namespaces.size(); ++i) {
      rocksdb::ColumnFamilyHandle* family = families_[*FindNamespace(source.namespaces[i])].get();
      const std::string path = (fs::path(source.dir) / source.namespace_files[i]).string();
      PULSE_ASSIGN_OR_RETURN(std::unique_ptr<KvsReader> reader, KvsReader::Open(env(), path));
      while (true) {
        PULSE_ASSIGN_OR_RETURN(std::optional<internal::KvsEntryView> e, reader->Next());
        if (!e) break;
        if (!source.key_groups.Contains(e->group)) {
          return Status::Corruption(fmt::format(
              "state snapshot file '{}' holds key group {}, outside its range", path, e->group));
        }
        if (!wanted.Contains(e->group)) continue;
        key.clear();
        AppendGroup(e->group, &key);
        key.append(e->key);
        PULSE_RETURN_IF_ERROR(writer.Put(family, key, rocksdb::Slice(e->value.data(),
                                                                     e->value.size())));
      }
    }
    return writer.Flush();
  }

  Status RestoreRocksDbFormat(const SnapshotSource& source) {
    const KeyGroupRange wanted = source.key_groups.Intersect(key_groups());
    PULSE_ASSIGN_OR_RETURN(ReadOnlyDb snapshot, ReadOnlyDb::Open(source.dir));
    BatchWriter writer(*db_, write_options_);
    for (const std::string& ns : source.namespaces) {
      rocksdb::ColumnFamilyHandle* from = snapshot.Find(FamilyName(ns));
      if (from == nullptr) {
        return Status::Corruption(fmt::format(
            "state snapshot '{}' lacks the column family of namespace '{}'", source.dir, ns));
      }
      rocksdb::ColumnFamilyHandle* to = families_[*FindNamespace(ns)].get();
      Status inner;
      PULSE_RETURN_IF_ERROR(ScanFamily(
          *snapshot.db, from, wanted, "",
          [&](KeyGroup group, std::string_view key, std::string_view value) {
            std::string full;
            full.reserve(kKeyGroupBytes + key.size());
            AppendGroup(group, &full);
            full.append(key);
            inner = writer.Put(to, full, rocksdb::Slice(value.data(), value.size()));
            return inner.ok() ? ScanNext::kContinue : ScanNext::kStop;
          }));
      PULSE_RETURN_IF_ERROR(inner);
    }
    return writer.Flush();
  }

  RocksDbBackendOptions options_;
  std::unique_ptr<rocksdb::DB> db_;  // declared before families_: destroyed after them
  rocksdb::ColumnFamilyOptions family_options_;
  rocksdb::WriteOptions write_options_;
  std::vector<FamilyHandle> families_;  // index: namespace id
  std::string key_buffer_;
};

// Make `path` an empty working directory with our marker, refusing foreign content.
Status PrepareWorkingDir(Env& env, const std::string& path) {
  if (Result<FileInfo> info = env.Stat(path); info.ok()) {
    if (info->type != FileType::kDirectory) {
      return Status::InvalidArgument(
          fmt::format("state path '{}' exists and is not a directory", path));
    }
    Result<std::vector<std::string>> names = env.ListDir(path);
    const bool ours = names.ok() && std::find(names->begin(), names->end(),
                                              kMarkerName) != names->end();
    if (names.ok() && !names->empty() && !ours) {
      return Status::InvalidArgument(fmt::format(
          "state path '{}' is not empty and was not created by Pulse (no {} file); refusing "
          "to delete its contents",
          path, kMarkerName));
    }
    // The marker stays: a crash while emptying must not leave a directory that the next
    // start refuses as foreign.
    Status emptied = names.status();
    if (names.ok()) {
      for (const std::string& name : *names) {
        if (name == kMarkerName) continue;
        emptied = env.Remove((fs::path(path) / name).string());
        if (!emptied.ok()) break;
      }
    }
    if (!emptied.ok()) {
      return Status::IOError(
          fmt::format("cannot empty state path '{}': {}", path, emptied.message()));
    }
  }
  if (Status st = CreateDirs(env, path); !st.ok()) {
    return Status::IOError(fmt::format("cannot create state path '{}': {}", path, st.message()));
  }
  // 0644 whatever the umask (fopen would create it 0666 before the umask).
  const std::string marker = (fs::path(path) / kMarkerName).string();
  constexpr std::string_view kText =
      "Pulse RocksDB state backend working directory; emptied on every start.\n";
  if (!WriteStringToFile(env, marker, kText, WriteMode::kTruncate, Fsync::kNo).ok()) {
    return Status::IOError(fmt::format("cannot write '{}'", marker));
  }
  return Status::OK();
}

}  // namespace

Status RocksDbBackendOptions::Validate() const {
  if (path.empty()) return Status::InvalidArgument("rocksdb state path is empty");
  if (key_groups.empty() || key_groups.end > kMaxKeyGroups) {
    return Status::InvalidArgument(fmt::format(
        "state key group range [{}, {}) must be non-empty and within [0, {})", key_groups.begin,
        key_groups.end, kMaxKeyGroups));
  }
  if (write_buffer_bytes < kMinBufferBytes || block_cache_bytes < kMinBufferBytes) {
    return Status::InvalidArgument("rocksdb write buffer and block cache must be at least 1 MiB");
  }
  return Status::OK();
}

Result<std::unique_ptr<StateBackend>> OpenRocksDbBackend(RocksDbBackendOptions options) {
  PULSE_RETURN_IF_ERROR(options.Validate());
  // Workers open their databases concurrently. RocksDB builds process-wide objects (its default
  // Env and thread pools, option registries) on first use behind function-local statics; opening
  // one database at a time orders those constructions before every later use in a way
  // ThreadSanitizer can see (the library is not instrumented, so its own guards are invisible).
  // Opening is rare, so the lock costs nothing measurable.
  static std::mutex open_mutex;
  std::lock_guard<std::mutex> open_lock(open_mutex);
  Env& env = options.env != nullptr ? *options.env : Env::Default();
  PULSE_RETURN_IF_ERROR(PrepareWorkingDir(env, options.path));

  // Index and filter blocks live in the block cache, so memory stays bounded however large the
  // state. They are partitioned (4 KiB pieces under a small pinned top level): a whole-file
  // filter of a large table is megabytes, and with a cache smaller than the filters every Get
  // would read and checksum one from disk again (3M open windows in 64 MiB: 5k records/s).
  rocksdb::LRUCacheOptions cache;
  cache.capacity = options.block_cache_bytes;
  cache.high_pri_pool_ratio = 0.5;  // index and filter partitions first
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(cache);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(kBloomBitsPerKey));
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.pin_top_level_index_and_filter = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;

  rocksdb::ColumnFamilyOptions family;
  family.write_buffer_size = options.write_buffer_bytes;
  family.max_write_buffer_number = 2;
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::Options db_options(rocksdb::DBOptions(), family);
  db_options.create_if_missing = true;
  db_options.avoid_flush_during_shutdown = true;  // the working copy is discarded anyway
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 2;

  rocksdb::DB* raw = nullptr;
  const std::string db_path = (fs::path(options.path) / kDbDirName).string();
  PULSE_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(db_options, db_path, &raw),
                                  fmt::format("open '{}'", db_path)));
  std::unique_ptr<rocksdb::DB> db(raw);
  return std::unique_ptr<StateBackend>(
      new RocksDbBackend(std::move(options), std::move(db), std::move(family)));
}

}  // namespace pulse::state
