// SPDX-License-Identifier: MIT
// The in-memory state backend: per namespace, one sorted map per owned key group.
#include "pulse/state/memory_backend.h"

#include <filesystem>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "state/kvs_file.h"

namespace pulse::state {
namespace {

using internal::KvsReader;
using internal::KvsWriter;

// std::less<> lets lookups take string_view keys without building a std::string.
using GroupMap = std::map<std::string, std::string, std::less<>>;

class MemoryBackend final : public StateBackend {
 public:
  MemoryBackend(KeyGroupRange key_groups, Env* env) : StateBackend("memory", key_groups, env) {}

  uint64_t ApproximateEntries() const override {
    uint64_t n = 0;
    for (const Namespace& ns : namespaces_) {
      for (const GroupMap& m : ns.groups) n += m.size();
    }
    return n;
  }

 protected:
  Result<uint32_t> DoOpenNamespace(std::string_view name) override {
    namespaces_.push_back(Namespace{std::vector<GroupMap>(key_groups().size())});
    return static_cast<uint32_t>(namespaces_.size() - 1);
  }

  Result<std::optional<std::string>> DoGet(uint32_t ns, KeyGroup group,
                                           std::string_view key) override {
    const GroupMap& m = Map(ns, group);
    auto it = m.find(key);
    if (it == m.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Status DoPut(uint32_t ns, KeyGroup group, std::string_view key,
               std::string_view value) override {
    GroupMap& m = Map(ns, group);
    auto it = m.lower_bound(key);
    if (it != m.end() && it->first == key) {
      it->second.assign(value);
    } else {
      m.emplace_hint(it, std::string(key), std::string(value));
    }
    return Status::OK();
  }

  Status DoDelete(uint32_t ns, KeyGroup group, std::string_view key) override {
    GroupMap& m = Map(ns, group);
    auto it = m.find(key);
    if (it != m.end()) m.erase(it);
    return Status::OK();
  }

  Status DoScan(uint32_t ns, KeyGroupRange groups, std::string_view prefix,
                const ScanVisitor& visit) override {
    for (KeyGroup g = groups.begin; g < groups.end; ++g) {
      const GroupMap& m = Map(ns, g);
      for (auto it = m.lower_bound(prefix); it != m.end() && it->first.starts_with(prefix);
           ++it) {
        if (visit(g, it->first, it->second) == ScanNext::kStop) return Status::OK();
      }
    }
    return Status::OK();
  }

  Result<std::vector<std::string>> DoSnapshot(const std::string& dir) override {
    if (Status st = env().CreateDir(dir); !st.ok()) {
      return Status::IOError(fmt::format("cannot create '{}': {}", dir, st.message()));
    }
    std::vector<std::string> files;
    for (size_t i = 0; i < namespaces_.size(); ++i) {
      std::string name = fmt::format("ns-{}.kvs", i);
      PULSE_ASSIGN_OR_RETURN(
          std::unique_ptr<KvsWriter> writer,
          KvsWriter::Create(env(), (std::filesystem::path(dir) / name).string()));
      for (size_t g = 0; g < namespaces_[i].groups.size(); ++g) {
        const auto group = static_cast<KeyGroup>(key_groups().begin + g);
        for (const auto& [key, value] : namespaces_[i].groups[g]) {
          PULSE_RETURN_IF_ERROR(writer->Add(group, key, value));
        }
      }
      PULSE_RETURN_IF_ERROR(writer->Finish());
      files.push_back(std::move(name));
    }
    return files;
  }

  Status DoRestore(std::span<const SnapshotSource> sources) override {
    for (Namespace& ns : namespaces_) {
      for (GroupMap& m : ns.groups) m.clear();
    }
    for (const SnapshotSource& source : sources) {
      const KeyGroupRange wanted = source.key_groups.Intersect(key_groups());
      for (size_t i = 0; i < source.namespaces.size(); ++i) {
        const uint32_t ns = *FindNamespace(source.namespaces[i]);
        const std::string path =
            (std::filesystem::path(source.dir) / source.namespace_files[i]).string();
        PULSE_ASSIGN_OR_RETURN(std::unique_ptr<KvsReader> reader, KvsReader::Open(env(), path));
        while (true) {
          PULSE_ASSIGN_OR_RETURN(std::optional<internal::KvsEntryView> e, reader->Next());
          if (!e) break;
          if (!source.key_groups.Contains(e->group)) {
            return Status::Corruption(fmt::format(
                "state snapshot file '{}' holds key group {}, outside its range [{}, {})", path,
                e->group, source.key_groups.begin, source.key_groups.end));
          }
          if (!wanted.Contains(e->group)) continue;
          Map(ns, e->group).emplace(std::string(e->key), std::string(e->value));
        }
      }
    }
    return Status::OK();
  }

 private:
  struct Namespace {
    std::vector<GroupMap> groups;  // index: group − key_groups().begin
  };

  GroupMap& Map(uint32_t ns, KeyGroup group) {
    return namespaces_[ns].groups[group - key_groups().begin];
  }

  std::vector<Namespace> namespaces_;
};

}  // namespace

Status MemoryBackendOptions::Validate() const {
  if (key_groups.empty() || key_groups.end > kMaxKeyGroups) {
    return Status::InvalidArgument(fmt::format(
        "state key group range [{}, {}) must be non-empty and within [0, {})", key_groups.begin,
        key_groups.end, kMaxKeyGroups));
  }
  return Status::OK();
}

Result<std::unique_ptr<StateBackend>> OpenMemoryBackend(MemoryBackendOptions options) {
  PULSE_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<StateBackend>(new MemoryBackend(options.key_groups, options.env));
}

}  // namespace pulse::state
