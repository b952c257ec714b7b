// SPDX-License-Identifier: MIT
// ConnectorConfig (a connector table's settings, with lines for messages) and ConnectorRegistry.
#include "pulse/core/connector_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string_view>

namespace pulse {
namespace {

ConfigSetting DefaultSetting(const ConfigKey& key) {
  ConfigSetting s;
  s.text = std::string(key.default_text);
  s.number = key.default_number;
  s.flag = key.default_flag;
  return s;
}

template <typename Entry>
const Entry* FindEntry(const std::vector<Entry>& entries, std::string_view kind) {
  for (const Entry& e : entries) {
    if (e.declaration->kind == kind) return &e;
  }
  return nullptr;
}

template <typename Entry>
std::vector<const ConnectorDeclaration*> DeclarationsOf(const std::vector<Entry>& entries) {
  std::vector<const ConnectorDeclaration*> out;
  out.reserve(entries.size());
  for (const Entry& e : entries) out.push_back(e.declaration);
  return out;
}

Status UnknownKind(const ConnectorConfig& config) {
  return config.ErrorAt(config.kind_line(),
                        fmt::format("{}.kind = \"{}\" has no connector in this registry",
                                    ConnectorRoleName(config.role()), config.kind()));
}

}  // namespace

std::string_view ConnectorRoleName(ConnectorRole role) {
  return role == ConnectorRole::kSink ? "sink" : "source";
}

const ConfigKey* ConnectorDeclaration::Find(std::string_view name) const {
  for (const ConfigKey& key : keys) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

ConnectorConfig::ConnectorConfig(const ConnectorDeclaration& declaration, std::string origin,
                                 int line, int kind_line)
    : declaration_(&declaration), origin_(std::move(origin)), line_(line), kind_line_(kind_line) {
  for (const ConfigKey& key : declaration.keys) {
    settings_.emplace(std::string(key.name), DefaultSetting(key));
  }
}

std::string_view ConnectorConfig::kind() const {
  return declaration_ == nullptr ? std::string_view() : declaration_->kind;
}

ConnectorRole ConnectorConfig::role() const {
  return declaration_ == nullptr ? ConnectorRole::kSource : declaration_->role;
}

bool ConnectorConfig::Has(std::string_view key) const { return settings_.contains(key); }

const ConfigSetting& ConnectorConfig::Get(std::string_view key) const {
  static const ConfigSetting kAbsent;
  auto it = settings_.find(key);
  return it == settings_.end() ? kAbsent : it->second;
}

void ConnectorConfig::Set(std::string_view key, ConfigSetting setting) {
  auto it = settings_.find(key);
  if (it != settings_.end()) it->second = std::move(setting);
}

std::string ConnectorConfig::Qualified(std::string_view key) const {
  return fmt::format("{}.{}", ConnectorRoleName(role()), key);
}

Status ConnectorConfig::ErrorAt(int line, std::string_view message) const {
  if (line <= 0) return Status::InvalidArgument(fmt::format("{}: {}", origin_, message));
  return Status::InvalidArgument(fmt::format("{}:{}: {}", origin_, line, message));
}

Status ConnectorConfig::KeyError(std::string_view key, std::string_view message) const {
  const int line = Line(key);
  return ErrorAt(line != 0 ? line : line_, message);
}

void ConnectorRegistry::AddSource(const ConnectorDeclaration& declaration,
                                  SourceFactory factory) {
  sources_.push_back(SourceEntry{&declaration, std::move(factory)});
}

void ConnectorRegistry::AddSink(const ConnectorDeclaration& declaration, SinkFactory factory) {
  sinks_.push_back(SinkEntry{&declaration, std::move(factory)});
}

Status ConnectorRegistry::Validate() const {
  for (ConnectorRole role : {ConnectorRole::kSource, ConnectorRole::kSink}) {
    const std::string_view role_name = ConnectorRoleName(role);
    std::set<std::string_view> kinds;
    for (const ConnectorDeclaration* d : Declarations(role)) {
      if (d->role != role) {
        return Status::InvalidArgument(fmt::format("the {} kind \"{}\" is declared as a {}",
                                                   role_name, d->kind,
                                                   ConnectorRoleName(d->role)));
      }
      if (!kinds.insert(d->kind).second) {
        return Status::InvalidArgument(
            fmt::format("the {} kind \"{}\" is registered twice", role_name, d->kind));
      }
      std::set<std::string_view> names;
      for (const ConfigKey& key : d->keys) {
        if (key.name == "kind" || !names.insert(key.name).second) {
          return Status::InvalidArgument(fmt::format("the {} kind \"{}\" declares the key '{}' "
                                                     "twice (or declares 'kind')",
                                                     role_name, d->kind, key.name));
        }
      }
    }
    const std::vector<const ConfigKey*> all = AllKeys(role);
    for (const ConnectorDeclaration* d : Declarations(role)) {
      for (const ConfigKey& key : d->keys) {
        auto first = std::find_if(all.begin(), all.end(),
                                  [&](const ConfigKey* k) { return k->name == key.name; });
        if ((*first)->type != key.type) {
          return Status::InvalidArgument(
              fmt::format("the {} key '{}' has another type for kind \"{}\" than for the kind "
                          "that declares it first",
                          role_name, key.name, d->kind));
        }
      }
    }
  }
  return Status::OK();
}

std::vector<const ConnectorDeclaration*> ConnectorRegistry::Declarations(
    ConnectorRole role) const {
  return role == ConnectorRole::kSource ? DeclarationsOf(sources_) : DeclarationsOf(sinks_);
}

std::vector<std::string_view> ConnectorRegistry::Kinds(ConnectorRole role) const {
  std::vector<std::string_view> kinds;
  for (const ConnectorDeclaration* d : Declarations(role)) kinds.push_back(d->kind);
  return kinds;
}

const ConnectorDeclaration* ConnectorRegistry::Find(ConnectorRole role,
                                                    std::string_view kind) const {
  for (const ConnectorDeclaration* d : Declarations(role)) {
    if (d->kind == kind) return d;
  }
  return nullptr;
}

std::vector<const ConfigKey*> ConnectorRegistry::AllKeys(ConnectorRole role) const {
  std::vector<const ConfigKey*> keys;
  std::set<std::string_view> seen;
  for (const ConnectorDeclaration* d : Declarations(role)) {
    for (const ConfigKey& key : d->keys) {
      if (seen.insert(key.name).second) keys.push_back(&key);
    }
  }
  return keys;
}

Result<std::unique_ptr<Source>> ConnectorRegistry::MakeSource(
    const ConnectorConfig& config, const ConnectorBuildContext& context) const {
  const SourceEntry* entry = FindEntry(sources_, config.kind());
  if (entry == nullptr || config.role() != ConnectorRole::kSource) return UnknownKind(config);
  return entry->factory(config, context);
}

Result<std::unique_ptr<Sink>> ConnectorRegistry::MakeSink(
    const ConnectorConfig& config, const ConnectorBuildContext& context) const {
  const SinkEntry* entry = FindEntry(sinks_, config.kind());
  if (entry == nullptr || config.role() != ConnectorRole::kSink) return UnknownKind(config);
  return entry->factory(config, context);
}

}  // namespace pulse
