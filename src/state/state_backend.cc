// SPDX-License-Identifier: MIT
// KvState and the checks every StateBackend shares: key group ownership, SNAPSHOT.json, and
// the coverage of the snapshots a backend restores from.
#include "pulse/state/state_backend.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "pulse/core/env.h"
#include "pulse/core/json.h"
#include "pulse/core/json_reader.h"
#include "pulse/core/value.h"

namespace pulse::state {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kMetaName = "SNAPSHOT.json";
constexpr std::string_view kMetaFormat = "pulse-state";
constexpr int64_t kMetaVersion = 1;

Status CheckGroup(const StateBackend& backend, KeyGroup group) {
  if (!backend.key_groups().Contains(group)) {
    return Status::InvalidArgument(
        fmt::format("key group {} is not in this state backend's range [{}, {})", group,
                    backend.key_groups().begin, backend.key_groups().end));
  }
  return Status::OK();
}

Status WriteNewFile(Env& env, const std::string& path, std::string_view data) {
  Result<std::unique_ptr<WritableFile>> file = env.OpenWritable(path, WriteMode::kCreateNew);
  if (!file.ok()) {
    return Status::IOError(fmt::format("cannot create '{}': {}", path, file.status().message()));
  }
  if (Status st = (*file)->Append(data); !st.ok()) {
    return Status::IOError(fmt::format("cannot write '{}': {}", path, st.message()));
  }
  if (Status st = (*file)->Close(); !st.ok()) {
    return Status::IOError(fmt::format("cannot close '{}': {}", path, st.message()));
  }
  return Status::OK();
}

Result<std::string> ReadSmallFile(Env& env, const std::string& path) {
  Result<std::unique_ptr<ReadableFile>> file = env.OpenReadable(path);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kNotFound) return Status::NotFound(path);
    return Status::IOError(fmt::format("cannot open '{}': {}", path, file.status().message()));
  }
  Result<std::string> text = ReadToEnd(**file);
  if (!text.ok()) {
    return Status::IOError(fmt::format("cannot read '{}': {}", path, text.status().message()));
  }
  return text;
}

struct ParsedMeta {
  std::string backend;
  KeyGroupRange key_groups;
  std::vector<std::string> namespaces;
  std::vector<std::string> files;  // per namespace; "" when the format has none
};

Result<ParsedMeta> ReadMeta(Env& env, const std::string& dir) {
  const std::string path = (fs::path(dir) / kMetaName).string();
  Result<std::string> text = ReadSmallFile(env, path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return Status::NotFound(fmt::format("no state snapshot in '{}' ({} is missing)", dir,
                                          kMetaName));
    }
    return text.status();
  }
  const std::string document = fmt::format("state snapshot description '{}'", path);
  Result<Value> parsed = ParseJson(*text);
  if (!parsed.ok()) return Status::Corruption(document + " is not valid JSON");
  PULSE_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Make(*parsed, document));
  PULSE_RETURN_IF_ERROR(r.CheckFormat(kMetaFormat, kMetaVersion));
  ParsedMeta meta;
  PULSE_ASSIGN_OR_RETURN(meta.backend, r.String("backend"));
  PULSE_ASSIGN_OR_RETURN(meta.key_groups, r.KeyGroups("key_groups"));
  PULSE_ASSIGN_OR_RETURN(std::vector<JsonObjectReader> namespaces, r.Children("namespaces"));
  for (const JsonObjectReader& ns : namespaces) {
    PULSE_ASSIGN_OR_RETURN(std::string name, ns.String("name"));
    if (name.empty()) return ns.Invalid("name", "is empty");
    PULSE_ASSIGN_OR_RETURN(std::optional<std::string> file, ns.OptionalString("file"));
    if (file && (file->empty() || file->starts_with('.') || file->find('/') != std::string::npos)) {
      return ns.Invalid("file", "is not a file name");
    }
    meta.namespaces.push_back(std::move(name));
    meta.files.push_back(file.value_or(""));
  }
  return meta;
}

}  // namespace

// ---- KvState ---------------------------------------------------------------------------------

Result<std::optional<std::string>> KvState::Get(KeyGroup group, std::string_view key) const {
  PULSE_RETURN_IF_ERROR(CheckGroup(*backend_, group));
  return backend_->DoGet(id_, group, key);
}

Status KvState::Put(KeyGroup group, std::string_view key, std::string_view value) {
  PULSE_RETURN_IF_ERROR(CheckGroup(*backend_, group));
  return backend_->DoPut(id_, group, key, value);
}

Status KvState::Delete(KeyGroup group, std::string_view key) {
  PULSE_RETURN_IF_ERROR(CheckGroup(*backend_, group));
  return backend_->DoDelete(id_, group, key);
}

Result<std::vector<StateEntry>> KvState::IterPrefix(KeyGroup group,
                                                    std::string_view prefix) const {
  PULSE_RETURN_IF_ERROR(CheckGroup(*backend_, group));
  std::vector<StateEntry> entries;
  PULSE_RETURN_IF_ERROR(backend_->DoScan(
      id_, KeyGroupRange{group, group + 1}, prefix,
      [&entries](KeyGroup g, std::string_view key, std::string_view value) {
        entries.push_back(StateEntry{g, std::string(key), std::string(value)});
        return ScanNext::kContinue;
      }));
  return entries;
}

Status KvState::Scan(KeyGroupRange groups, std::string_view prefix,
                     const ScanVisitor& visit) const {
  KeyGroupRange owned = groups.Intersect(backend_->key_groups());
  if (owned.empty()) return Status::OK();
  return backend_->DoScan(id_, owned, prefix, visit);
}

// ---- StateBackend ----------------------------------------------------------------------------

std::optional<uint32_t> StateBackend::FindNamespace(std::string_view name) const {
  for (size_t i = 0; i < namespace_names_.size(); ++i) {
    if (namespace_names_[i] == name) return static_cast<uint32_t>(i);
  }
  return std::nullopt;
}

Result<KvState> StateBackend::OpenNamespace(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("state namespace name is empty");
  if (std::optional<uint32_t> id = FindNamespace(name)) {
    return KvState(this, *id, std::string(name));
  }
  PULSE_ASSIGN_OR_RETURN(uint32_t id, DoOpenNamespace(name));
  if (id != namespace_names_.size()) {
    return Status::Internal(fmt::format("state backend gave namespace '{}' id {}, expected {}",
                                        name, id, namespace_names_.size()));
  }
  namespace_names_.emplace_back(name);
  return KvState(this, id, std::string(name));
}

Result<StateSnapshot> StateBackend::Snapshot(const std::string& dir) {
  if (env_.Stat(dir).ok()) {
    return Status::InvalidArgument(
        fmt::format("state snapshot directory '{}' already exists", dir));
  }
  fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty()) {
    if (Status st = CreateDirs(env_, parent.string()); !st.ok()) {
      return Status::IOError(
          fmt::format("cannot create directory '{}': {}", parent.string(), st.message()));
    }
  }
  if (instance_id_ == 0) instance_id_ = env_.UniqueId() | 1;
  StateSnapshot snap;
  snap.id = fmt::format("{}-{:016x}-{}", kind_, instance_id_, ++snapshots_taken_);
  snap.dir = dir;
  snap.backend = kind_;
  snap.key_groups = key_groups_;
  snap.namespaces = namespace_names_;
  PULSE_ASSIGN_OR_RETURN(std::vector<std::string> ns_files, DoSnapshot(dir));

  Array namespaces;
  for (size_t i = 0; i < namespace_names_.size(); ++i) {
    Object ns{{"name", Value(namespace_names_[i])}};
    if (i < ns_files.size() && !ns_files[i].empty()) ns.emplace_back("file", Value(ns_files[i]));
    namespaces.emplace_back(std::move(ns));
  }
  Value meta(Object{
      {"format", Value(kMetaFormat)},
      {"version", Value(kMetaVersion)},
      {"id", Value(snap.id)},
      {"backend", Value(kind_)},
      {"key_groups", KeyGroupsToJson(key_groups_)},
      {"namespaces", Value(std::move(namespaces))},
  });
  std::string text = meta.ToJson();
  text += '\n';
  PULSE_RETURN_IF_ERROR(WriteNewFile(env_, (fs::path(dir) / kMetaName).string(), text));

  Result<std::vector<TreeEntry>> tree = ListTree(env_, dir);
  if (!tree.ok()) {
    return Status::IOError(fmt::format("cannot list '{}': {}", dir, tree.status().message()));
  }
  for (TreeEntry& entry : *tree) {
    if (entry.type == FileType::kRegular) snap.files.push_back(std::move(entry.path));
  }
  std::sort(snap.files.begin(), snap.files.end());
  return snap;
}

Status StateBackend::Restore(std::span<const std::string> snapshot_dirs) {
  std::vector<SnapshotSource> sources;
  for (const std::string& dir : snapshot_dirs) {
    PULSE_ASSIGN_OR_RETURN(ParsedMeta meta, ReadMeta(env_, dir));
    if (meta.backend != "memory" && meta.backend != "rocksdb") {
      return Status::InvalidArgument(fmt::format(
          "state snapshot '{}' has the unknown format \"{}\"", dir, meta.backend));
    }
    if (meta.backend == "memory") {
      for (size_t i = 0; i < meta.files.size(); ++i) {
        if (meta.files[i].empty()) {
          return Status::Corruption(fmt::format(
              "state snapshot '{}': namespace '{}' has no file", dir, meta.namespaces[i]));
        }
      }
    }
    if (meta.backend == "rocksdb" && kind_ != "rocksdb") {
      return Status::InvalidArgument(fmt::format(
          "state snapshot '{}' was written by the rocksdb backend; the {} backend cannot read "
          "it (use the rocksdb backend)",
          dir, kind_));
    }
    if (meta.key_groups.Intersect(key_groups_).empty()) continue;  // nothing for us
    SnapshotSource source;
    source.dir = dir;
    source.backend = std::move(meta.backend);
    source.key_groups = meta.key_groups;
    source.namespaces = std::move(meta.namespaces);
    source.namespace_files = std::move(meta.files);
    sources.push_back(std::move(source));
  }
  // Every owned group must come from exactly one snapshot.
  std::vector<int> covered(kMaxKeyGroups, -1);
  for (size_t i = 0; i < sources.size(); ++i) {
    const KeyGroupRange r = sources[i].key_groups.Intersect(key_groups_);
    for (uint32_t g = r.begin; g < r.end; ++g) {
      if (covered[g] >= 0) {
        return Status::InvalidArgument(fmt::format(
            "state snapshots '{}' and '{}' both hold key group {}", sources[covered[g]].dir,
            sources[i].dir, g));
      }
      covered[g] = static_cast<int>(i);
    }
  }
  for (uint32_t g = key_groups_.begin; g < key_groups_.end; ++g) {
    if (covered[g] < 0) {
      uint32_t end = g;
      while (end < key_groups_.end && covered[end] < 0) ++end;
      return Status::InvalidArgument(fmt::format(
          "the state snapshots do not cover key groups [{}, {}) of this backend's [{}, {})", g,
          end, key_groups_.begin, key_groups_.end));
    }
  }
  for (const SnapshotSource& s : sources) {
    for (const std::string& name : s.namespaces) {
      PULSE_RETURN_IF_ERROR(OpenNamespace(name).status());
    }
  }
  return DoRestore(sources);
}

}  // namespace pulse::state
