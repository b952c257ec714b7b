// SPDX-License-Identifier: MIT
// CheckpointStore: the manifest format, atomic commit (checksums, fsync, rename), pruning, and
// loading the newest checkpoint that verifies.
#include "pulse/core/checkpoint_store.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "core/crc32c.h"
#include "pulse/core/json.h"
#include "pulse/core/json_reader.h"

namespace pulse {
namespace fs = std::filesystem;
namespace {

using internal::Crc32c;
using internal::Crc32cExtend;

constexpr std::string_view kManifestName = "MANIFEST.json";
constexpr std::string_view kLockName = ".lock";
constexpr std::string_view kCommittedPrefix = "chk-";
constexpr std::string_view kTempPrefix = ".chk-";
constexpr std::string_view kFormat = "pulse-checkpoint";
constexpr int64_t kFormatVersion = 1;
// The manifest ends with this member; its CRC32C covers every byte before it.
constexpr std::string_view kCrcMember = ",\n\"manifest_crc32c\":\"";
constexpr size_t kReadBufferBytes = 1u << 20;

// "<what> '<path>': <the system's text>".
Status IOErrorFor(std::string_view what, const std::string& path, const Status& cause) {
  return Status::IOError(fmt::format("{} '{}': {}", what, path, cause.message()));
}

std::string Hex32(uint32_t v) { return fmt::format("{:08x}", v); }

// Parse a decimal uint64 that is the whole of `s` (no sign, no leading zeros unless "0").
std::optional<uint64_t> ParseId(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// The id of a committed checkpoint directory name "chk-<id>".
std::optional<uint64_t> CommittedId(std::string_view name) {
  if (!name.starts_with(kCommittedPrefix)) return std::nullopt;
  return ParseId(name.substr(kCommittedPrefix.size()));
}

Status SyncDir(Env& env, const std::string& path) {
  Status st = env.SyncPath(path);
  return st.ok() ? st : IOErrorFor("cannot fsync", path, st);
}

// Write `data` to a new file `path` and fsync it.
Status WriteFileSynced(Env& env, const std::string& path, std::string_view data) {
  Result<std::unique_ptr<WritableFile>> file = env.OpenWritable(path, WriteMode::kCreateNew);
  if (!file.ok()) return IOErrorFor("cannot create", path, file.status());
  if (Status st = (*file)->Append(data); !st.ok()) return IOErrorFor("cannot write", path, st);
  if (Status st = (*file)->Sync(); !st.ok()) return IOErrorFor("cannot fsync", path, st);
  (void)(*file)->Close();
  return Status::OK();
}

struct FileDigest {
  uint64_t bytes = 0;
  uint32_t crc32c = 0;
};

// Read `path` through, computing its size and CRC32C; fsync it too when `fsync` is set.
Result<FileDigest> DigestFile(Env& env, const std::string& path, Fsync fsync) {
  Result<std::unique_ptr<ReadableFile>> file = env.OpenReadable(path);
  if (!file.ok()) return IOErrorFor("cannot open", path, file.status());
  FileDigest d;
  std::string buffer(kReadBufferBytes, '\0');
  while (true) {
    Result<size_t> n = (*file)->Read(buffer);
    if (!n.ok()) return IOErrorFor("cannot read", path, n.status());
    if (*n == 0) break;
    d.crc32c = Crc32cExtend(d.crc32c, std::string_view(buffer.data(), *n));
    d.bytes += *n;
  }
  if (fsync == Fsync::kYes) {
    if (Status st = env.SyncPath(path); !st.ok()) return IOErrorFor("cannot fsync", path, st);
  }
  return d;
}

Result<std::string> ReadWholeFile(Env& env, const std::string& path) {
  Result<std::unique_ptr<ReadableFile>> file = env.OpenReadable(path);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kNotFound) {
      return Status::NotFound(fmt::format("'{}' does not exist", path));
    }
    return IOErrorFor("cannot open", path, file.status());
  }
  Result<std::string> text = ReadToEnd(**file);
  if (!text.ok()) return IOErrorFor("cannot read", path, text.status());
  return text;
}

// A relative '/'-separated path that stays inside its root: no empty, "." or ".." segment.
bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view segment = path.substr(start, slash - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    start = slash + 1;
  }
  return true;
}

// ---- Manifest (de)serialization -------------------------------------------------------------

Value FingerprintToValue(const PipelineFingerprint& f) {
  Object parts;
  for (const auto& [name, value] : f.parts) parts.emplace_back(name, Value(value));
  return Value(Object{{"hash", Value(f.hash)}, {"parts", Value(std::move(parts))}});
}

void AppendMember(std::string_view name, const Value& value, std::string* out) {
  AppendJsonString(name, out);
  out->push_back(':');
  AppendJson(value, out);
}

Result<uint32_t> ParseHex32(std::string_view s, std::string_view where) {
  uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (s.size() != 8 || ec != std::errc() || ptr != s.data() + s.size()) {
    return Status::Corruption(fmt::format("{}: bad checksum \"{}\"", where, s));
  }
  return v;
}

std::string DescribeFingerprintChange(const PipelineFingerprint& was,
                                      const PipelineFingerprint& now) {
  std::vector<std::string> changes;
  if (was.parts.empty() || now.parts.empty()) {  // nothing to compare but the hashes
    return fmt::format("fingerprint {} differs from the pipeline's {}", was.hash, now.hash);
  }
  for (const auto& [name, value] : now.parts) {
    auto it = std::find_if(was.parts.begin(), was.parts.end(),
                           [&](const auto& p) { return p.first == name; });
    if (it == was.parts.end()) {
      changes.push_back(fmt::format("{} is new (\"{}\")", name, value));
    } else if (it->second != value) {
      changes.push_back(fmt::format("{} changed from \"{}\" to \"{}\"", name, it->second, value));
    }
  }
  for (const auto& [name, value] : was.parts) {
    bool present = std::any_of(now.parts.begin(), now.parts.end(),
                               [&](const auto& p) { return p.first == name; });
    if (!present) changes.push_back(fmt::format("{} was removed (was \"{}\")", name, value));
  }
  if (changes.empty()) {
    return fmt::format("fingerprint {} differs from the pipeline's {}", was.hash, now.hash);
  }
  std::string out;
  for (const std::string& c : changes) {
    if (!out.empty()) out += "; ";
    out += c;
  }
  return out;
}

}  // namespace

// ---- PipelineFingerprint, CheckpointState, LoadedCheckpoint ---------------------------------

PipelineFingerprint PipelineFingerprint::Of(
    std::vector<std::pair<std::string, std::string>> parts) {
  // FNV-1a over length-prefixed names and values, so that ("ab","c") and ("a","bc") differ.
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view s) {
    std::string prefixed = fmt::format("{}:", s.size());
    prefixed.append(s);
    for (unsigned char c : prefixed) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  for (const auto& [name, value] : parts) {
    mix(name);
    mix(value);
  }
  PipelineFingerprint f;
  f.parts = std::move(parts);
  f.hash = fmt::format("{:016x}", h);
  return f;
}

std::string CheckpointState::DirFor(std::string_view operator_name, KeyGroupRange key_groups) {
  std::string name(operator_name);
  for (char& c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (name.empty() || name == "." || name == "..") name = "_" + name;
  return fmt::format("state/{}/kg-{}-{}", name, key_groups.begin, key_groups.end);
}

namespace {

const Value* FindMember(const Object& object, std::string_view name) {
  for (const auto& [key, value] : object) {
    if (key == name) return &value;
  }
  return nullptr;
}

}  // namespace

const Value* CheckpointManifest::FindSource(std::string_view name) const {
  return FindMember(sources, name);
}

const Value* CheckpointManifest::FindSink(std::string_view name) const {
  const Value* info = FindMember(sinks, name);
  return info != nullptr && !info->is_null() ? info : nullptr;
}

std::vector<std::string> LoadedCheckpoint::StateDirsFor(std::string_view operator_name,
                                                        KeyGroupRange key_groups) const {
  std::vector<std::string> dirs;
  for (const CheckpointState& s : manifest.state) {
    if (s.operator_name == operator_name && !s.key_groups.Intersect(key_groups).empty()) {
      dirs.push_back((fs::path(dir) / s.dir).string());
    }
  }
  return dirs;
}

Status CheckpointStoreOptions::Validate() const {
  if (dir.empty()) return Status::InvalidArgument("checkpoint dir is empty");
  if (keep < 1) return Status::InvalidArgument("checkpoint keep must be at least 1");
  return Status::OK();
}

// ---- Manifest text ---------------------------------------------------------------------------

std::string SerializeManifest(const CheckpointManifest& m) {
  // One top-level member per line and one file per line, so that the file reads well.
  std::string out = "{";
  auto member = [&out](std::string_view name, const Value& v) {
    if (out.size() > 1) out += ",\n";
    AppendMember(name, v, &out);
  };
  member("format", Value(kFormat));
  member("version", Value(kFormatVersion));
  member("id", Value(static_cast<int64_t>(m.id)));
  member("fingerprint", FingerprintToValue(m.fingerprint));
  member("watermark", Value(m.watermark));
  member("created_unix_ms", Value(m.created_unix_ms));
  member("sources", Value(m.sources));
  member("sinks", Value(m.sinks));
  Array state;
  for (const CheckpointState& s : m.state) {
    state.emplace_back(Object{
        {"operator", Value(s.operator_name)},
        {"key_groups", KeyGroupsToJson(s.key_groups)},
        {"dir", Value(s.dir)}});
  }
  member("state", Value(std::move(state)));
  out += ",\n\"files\":[";
  for (size_t i = 0; i < m.files.size(); ++i) {
    const CheckpointFile& f = m.files[i];
    out += i == 0 ? "\n" : ",\n";
    AppendJson(Value(Object{{"path", Value(f.path)},
                            {"bytes", Value(static_cast<int64_t>(f.bytes))},
                            {"crc32c", Value(Hex32(f.crc32c))}}),
               &out);
  }
  out += "]";
  const uint32_t crc = Crc32c(out);
  out += kCrcMember;
  out += Hex32(crc);
  out += "\"}\n";
  return out;
}

Result<CheckpointManifest> ParseManifest(std::string_view text) {
  const size_t crc_at = text.rfind(kCrcMember);
  constexpr std::string_view kEnd = "\"}\n";
  if (crc_at == std::string_view::npos || !text.ends_with(kEnd) ||
      text.size() != crc_at + kCrcMember.size() + 8 + kEnd.size()) {
    return Status::Corruption("manifest is truncated (no trailing checksum)");
  }
  PULSE_ASSIGN_OR_RETURN(uint32_t stored,
                         ParseHex32(text.substr(crc_at + kCrcMember.size(), 8), "manifest"));
  const uint32_t actual = Crc32c(text.substr(0, crc_at));
  if (stored != actual) {
    return Status::Corruption(
        fmt::format("manifest checksum mismatch (stored {}, computed {})", Hex32(stored),
                    Hex32(actual)));
  }
  Result<Value> parsed = ParseJson(text);
  if (!parsed.ok()) {
    return Status::Corruption("manifest is not valid JSON: " + parsed.status().message());
  }
  PULSE_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Make(*parsed, "manifest"));
  PULSE_RETURN_IF_ERROR(r.CheckFormat(kFormat, kFormatVersion));
  CheckpointManifest m;
  PULSE_ASSIGN_OR_RETURN(m.id, r.Uint("id"));
  PULSE_ASSIGN_OR_RETURN(m.watermark, r.Int("watermark"));
  PULSE_ASSIGN_OR_RETURN(m.created_unix_ms, r.Int("created_unix_ms"));

  PULSE_ASSIGN_OR_RETURN(JsonObjectReader fingerprint, r.Child("fingerprint"));
  PULSE_ASSIGN_OR_RETURN(m.fingerprint.hash, fingerprint.String("hash"));
  PULSE_ASSIGN_OR_RETURN(const Object* parts, fingerprint.Members("parts"));
  for (const auto& [name, value] : *parts) {
    if (!value.is_string()) return fingerprint.Invalid("parts", "has a part that is not a string");
    m.fingerprint.parts.emplace_back(name, value.as_string());
  }

  PULSE_ASSIGN_OR_RETURN(const Object* sources, r.Members("sources"));
  m.sources = *sources;
  PULSE_ASSIGN_OR_RETURN(const Object* sinks, r.Members("sinks"));
  m.sinks = *sinks;

  PULSE_ASSIGN_OR_RETURN(std::vector<JsonObjectReader> states, r.Children("state"));
  for (const JsonObjectReader& entry : states) {
    CheckpointState cs;
    PULSE_ASSIGN_OR_RETURN(cs.operator_name, entry.String("operator"));
    PULSE_ASSIGN_OR_RETURN(cs.key_groups, entry.KeyGroups("key_groups"));
    PULSE_ASSIGN_OR_RETURN(cs.dir, entry.String("dir"));
    if (!IsSafeRelativePath(cs.dir)) {
      return Status::Corruption(fmt::format("manifest state dir \"{}\" is not relative", cs.dir));
    }
    m.state.push_back(std::move(cs));
  }

  PULSE_ASSIGN_OR_RETURN(std::vector<JsonObjectReader> files, r.Children("files"));
  for (const JsonObjectReader& entry : files) {
    CheckpointFile cf;
    PULSE_ASSIGN_OR_RETURN(cf.path, entry.String("path"));
    if (!IsSafeRelativePath(cf.path) || cf.path == kManifestName) {
      return Status::Corruption(fmt::format("manifest file path \"{}\" is not allowed", cf.path));
    }
    PULSE_ASSIGN_OR_RETURN(cf.bytes, entry.Uint("bytes"));
    PULSE_ASSIGN_OR_RETURN(std::string crc, entry.String("crc32c"));
    PULSE_ASSIGN_OR_RETURN(cf.crc32c, ParseHex32(crc, entry.document()));
    m.files.push_back(std::move(cf));
  }
  return m;
}

// ---- PendingCheckpoint -----------------------------------------------------------------------

PendingCheckpoint::PendingCheckpoint(CheckpointStore* store, uint64_t id, std::string temp_dir)
    : store_(store), id_(id), temp_dir_(std::move(temp_dir)) {}

PendingCheckpoint::~PendingCheckpoint() {
  if (!done_) Abort();
}

void PendingCheckpoint::Abort() {
  if (done_) return;
  done_ = true;
  (void)store_->env_.Remove(temp_dir_);
}

Result<CheckpointManifest> PendingCheckpoint::Commit(CheckpointManifest manifest) {
  if (done_) return Status::Internal("checkpoint committed or aborted twice");
  manifest.id = id_;
  manifest.files.clear();
  for (const CheckpointState& s : manifest.state) {
    if (!IsSafeRelativePath(s.dir)) {
      Abort();
      return Status::InvalidArgument(
          fmt::format("checkpoint state dir \"{}\" is not a relative path", s.dir));
    }
  }
  // Checksum and fsync every file; collect directories to fsync afterwards.
  Env& env = store_->env_;
  auto run = [&]() -> Status {
    Result<std::vector<TreeEntry>> tree = ListTree(env, temp_dir_);
    if (!tree.ok()) return IOErrorFor("cannot list", temp_dir_, tree.status());
    std::vector<std::string> dirs{temp_dir_};
    for (TreeEntry& entry : *tree) {
      std::string path = (fs::path(temp_dir_) / entry.path).string();
      if (entry.type == FileType::kDirectory) {
        dirs.push_back(std::move(path));
        continue;
      }
      if (entry.type != FileType::kRegular) {
        return Status::InvalidArgument(
            fmt::format("checkpoint contains '{}', which is not a regular file", path));
      }
      if (entry.path == kManifestName) {
        return Status::InvalidArgument("checkpoint writers must not create " +
                                       std::string(kManifestName));
      }
      PULSE_ASSIGN_OR_RETURN(FileDigest d, DigestFile(env, path, Fsync::kYes));
      manifest.files.push_back(CheckpointFile{std::move(entry.path), d.bytes, d.crc32c});
    }
    std::sort(manifest.files.begin(), manifest.files.end(),
              [](const CheckpointFile& a, const CheckpointFile& b) { return a.path < b.path; });
    const std::string manifest_path = (fs::path(temp_dir_) / kManifestName).string();
    PULSE_RETURN_IF_ERROR(WriteFileSynced(env, manifest_path, SerializeManifest(manifest)));
    for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) PULSE_RETURN_IF_ERROR(SyncDir(env, *d));
    const std::string final_dir = (fs::path(store_->dir_) / fmt::format("chk-{}", id_)).string();
    return RenameDurably(env, temp_dir_, final_dir,
                         fmt::format("cannot rename checkpoint to '{}'", final_dir));
  };
  Status st = run();
  if (!st.ok()) {
    Abort();
    return st.WithContext(fmt::format("checkpoint {}", id_));
  }
  done_ = true;
  // The checkpoint is durable; failing to prune only leaves extra old checkpoints behind.
  Status pruned = store_->Prune();
  if (!pruned.ok()) return pruned.WithContext(fmt::format("checkpoint {} committed, but", id_));
  return manifest;
}

// ---- CheckpointStore -------------------------------------------------------------------------

CheckpointStore::CheckpointStore(CheckpointStoreOptions options, Env& env, std::string dir,
                                 std::unique_ptr<FileLock> lock, uint64_t max_id)
    : options_(std::move(options)),
      env_(env),
      dir_(std::move(dir)),
      lock_(std::move(lock)),
      max_id_(max_id) {}

CheckpointStore::~CheckpointStore() = default;  // destroying lock_ releases the lock

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::Open(CheckpointStoreOptions options) {
  PULSE_RETURN_IF_ERROR(options.Validate());
  Env& env = options.env != nullptr ? *options.env : Env::Default();
  if (Status st = CreateDirs(env, options.dir); !st.ok()) {
    return Status::IOError(
        fmt::format("cannot create checkpoint dir '{}': {}", options.dir, st.message()));
  }
  std::error_code ec;
  std::string dir = fs::absolute(options.dir, ec).lexically_normal().string();
  if (ec) return Status::IOError(fmt::format("bad checkpoint dir '{}'", options.dir));
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const std::string lock_path = (fs::path(dir) / kLockName).string();
  Result<std::unique_ptr<FileLock>> lock = env.OpenLock(lock_path);
  if (!lock.ok()) return IOErrorFor("cannot create", lock_path, lock.status());
  if (Status st = (*lock)->TryLock(); !st.ok()) {
    if (st.code() == StatusCode::kUnavailable) {
      return Status::Unavailable(
          fmt::format("checkpoint dir '{}' is in use by another run", dir));
    }
    return IOErrorFor("cannot lock", lock_path, st);
  }
  // Nobody else writes here while we hold the lock: temporary directories are leftovers.
  Result<std::vector<std::string>> names = env.ListDir(dir);
  if (!names.ok()) {
    return Status::IOError(fmt::format("cannot list '{}': {}", dir, names.status().message()));
  }
  uint64_t max_id = 0;
  for (const std::string& name : *names) {
    if (std::optional<uint64_t> id = CommittedId(name)) {
      max_id = std::max(max_id, *id);
    } else if (name.starts_with(kTempPrefix)) {
      (void)env.Remove((fs::path(dir) / name).string());
    }
  }
  return std::unique_ptr<CheckpointStore>(new CheckpointStore(
      std::move(options), env, std::move(dir), std::move(lock).value(), max_id));
}

Result<std::vector<uint64_t>> CheckpointStore::List() const {
  Result<std::vector<std::string>> names = env_.ListDir(dir_);
  if (!names.ok()) {
    return Status::IOError(fmt::format("cannot list '{}': {}", dir_, names.status().message()));
  }
  std::vector<uint64_t> ids;
  for (const std::string& name : *names) {
    if (std::optional<uint64_t> id = CommittedId(name)) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<LoadedCheckpoint> CheckpointStore::Load(uint64_t id) const {
  LoadedCheckpoint loaded;
  loaded.dir = (fs::path(dir_) / fmt::format("chk-{}", id)).string();
  Result<std::string> text =
      ReadWholeFile(env_, (fs::path(loaded.dir) / kManifestName).string());
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      Result<FileInfo> found = env_.Stat(loaded.dir);
      if (!found.ok() || found->type != FileType::kDirectory) {
        return Status::NotFound(fmt::format("no checkpoint {} in '{}'", id, dir_));
      }
      return Status::Corruption("MANIFEST.json is missing");
    }
    return text.status();
  }
  PULSE_ASSIGN_OR_RETURN(loaded.manifest, ParseManifest(*text));
  if (loaded.manifest.id != id) {
    return Status::Corruption(
        fmt::format("manifest says checkpoint {}, directory says {}", loaded.manifest.id, id));
  }
  for (const CheckpointFile& f : loaded.manifest.files) {
    const std::string path = (fs::path(loaded.dir) / f.path).string();
    Result<FileInfo> st = env_.Stat(path);
    if (!st.ok()) {
      if (st.status().code() == StatusCode::kNotFound) {
        return Status::Corruption(fmt::format("file {} is missing", f.path));
      }
      return IOErrorFor("cannot stat", path, st.status());
    }
    if (st->size != f.bytes) {
      return Status::Corruption(fmt::format("file {} has {} bytes, the manifest says {}", f.path,
                                            st->size, f.bytes));
    }
    PULSE_ASSIGN_OR_RETURN(FileDigest d, DigestFile(env_, path, Fsync::kNo));
    if (d.crc32c != f.crc32c) {
      return Status::Corruption(fmt::format("file {}: checksum mismatch (manifest {}, file {})",
                                            f.path, Hex32(f.crc32c), Hex32(d.crc32c)));
    }
  }
  return loaded;
}

Result<CheckpointLoad> CheckpointStore::LoadLatest(const PipelineFingerprint& expected) {
  PULSE_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, List());
  CheckpointLoad out;
  std::vector<std::string> failures;
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    Result<LoadedCheckpoint> loaded = Load(*it);
    if (loaded.ok()) {
      out.checkpoint = std::move(loaded).value();
      break;
    }
    if (loaded.status().code() != StatusCode::kCorruption) return loaded.status();
    known_corrupt_.push_back(*it);
    failures.push_back(fmt::format("checkpoint {} ({}) is unusable: {}", *it,
                                   (fs::path(dir_) / fmt::format("chk-{}", *it)).string(),
                                   loaded.status().message()));
  }
  if (!out.checkpoint) {
    if (failures.empty()) return out;  // no checkpoint at all
    std::string all;
    for (const std::string& f : failures) all += (all.empty() ? "" : "; ") + f;
    return Status::Corruption(fmt::format("no usable checkpoint in '{}': {}", dir_, all));
  }
  for (std::string& f : failures) {
    out.warnings.push_back(
        fmt::format("{}; using checkpoint {} instead", f, out.checkpoint->manifest.id));
  }
  const PipelineFingerprint& found = out.checkpoint->manifest.fingerprint;
  if (found.hash != expected.hash) {
    return Status::InvalidArgument(fmt::format(
        "checkpoint {} in '{}' was taken by a different pipeline, so it cannot be resumed: {}",
        out.checkpoint->manifest.id, dir_, DescribeFingerprintChange(found, expected)));
  }
  return out;
}

Result<std::unique_ptr<PendingCheckpoint>> CheckpointStore::Begin(uint64_t id) {
  if (id <= max_id_) {
    return Status::InvalidArgument(fmt::format(
        "checkpoint id {} is not above {}, the largest one seen in '{}'", id, max_id_, dir_));
  }
  const std::string temp =
      (fs::path(dir_) / fmt::format("{}{}.tmp-{:016x}", kTempPrefix, id, env_.UniqueId()))
          .string();
  if (Status st = env_.CreateDir(temp); !st.ok()) return IOErrorFor("cannot create", temp, st);
  max_id_ = id;
  return std::unique_ptr<PendingCheckpoint>(new PendingCheckpoint(this, id, temp));
}

Status CheckpointStore::Prune() {
  PULSE_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, List());
  std::vector<uint64_t> remove;
  uint32_t kept = 0;
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    bool corrupt =
        std::find(known_corrupt_.begin(), known_corrupt_.end(), *it) != known_corrupt_.end();
    if (!corrupt && kept < options_.keep) {
      ++kept;
    } else {
      remove.push_back(*it);
    }
  }
  for (uint64_t id : remove) {
    // Rename first, so that a crash during the removal leaves a temporary directory (removed
    // by the next Open) rather than a damaged checkpoint.
    const std::string from = (fs::path(dir_) / fmt::format("chk-{}", id)).string();
    const std::string to =
        (fs::path(dir_) / fmt::format("{}{}.tmp-{:016x}", kTempPrefix, id, env_.UniqueId()))
            .string();
    if (Status st = env_.Rename(from, to); !st.ok()) return IOErrorFor("cannot rename", from, st);
    (void)env_.Remove(to);
  }
  if (!remove.empty()) PULSE_RETURN_IF_ERROR(SyncDir(env_, dir_));
  return Status::OK();
}

}  // namespace pulse
