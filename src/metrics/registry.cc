// SPDX-License-Identifier: MIT
// Registry: families by name, children by label values, collect hooks.
#include "pulse/metrics/registry.h"

#include <algorithm>
#include <cassert>
#include <type_traits>

namespace pulse::metrics {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool ValidMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsNameStart(c) || IsDigit(c) || c == ':'; });
}

bool ValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsNameStart(c) || IsDigit(c); });
}

}  // namespace

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

const SampleSnapshot* FamilySnapshot::Find(const std::vector<std::string>& label_values) const {
  for (const SampleSnapshot& s : samples) {
    if (s.label_values == label_values) return &s;
  }
  return nullptr;
}

struct Registry::Family {
  MetricType type;
  std::string name;
  std::string help;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histograms
  struct Child {
    std::vector<std::string> values;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  std::vector<std::unique_ptr<Child>> children;  // creation order
  std::map<std::vector<std::string>, Child*> by_values;

  Child& GetChild(std::vector<std::string> values) {
    auto it = by_values.find(values);
    if (it != by_values.end()) return *it->second;
    auto child = std::make_unique<Child>();
    child->values = values;
    switch (type) {
      case MetricType::kCounter:
        child->counter = std::make_unique<Counter>();
        break;
      case MetricType::kGauge:
        child->gauge = std::make_unique<Gauge>();
        break;
      case MetricType::kHistogram:
        child->histogram = std::make_unique<Histogram>(bounds);
        break;
    }
    Child* raw = child.get();
    children.push_back(std::move(child));
    by_values.emplace(std::move(values), raw);
    return *raw;
  }
};

CollectHook::CollectHook(CollectHook&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)), id_(other.id_) {}

CollectHook& CollectHook::operator=(CollectHook&& other) noexcept {
  if (this != &other) {
    if (registry_ != nullptr) registry_->RemoveHook(id_, /*run_first=*/false);
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

CollectHook::~CollectHook() {
  if (registry_ != nullptr) registry_->RemoveHook(id_, /*run_first=*/false);
}

void CollectHook::RunAndRemove() {
  if (registry_ == nullptr) return;
  std::exchange(registry_, nullptr)->RemoveHook(id_, /*run_first=*/true);
}

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family* Registry::FindOrCreateFamily(MetricType type, std::string_view name,
                                               std::string_view help,
                                               std::vector<std::string> label_names,
                                               std::span<const double> bounds) {
  bool valid = ValidMetricName(name) &&
               std::all_of(label_names.begin(), label_names.end(), ValidLabelName);
  if (type == MetricType::kHistogram) {
    valid = valid && std::find(label_names.begin(), label_names.end(), "le") == label_names.end();
  }
  auto it = families_.find(name);
  if (valid && it != families_.end()) {
    Family& f = *it->second;
    if (f.type == type && f.help == help && f.label_names == label_names) return &f;
    valid = false;
  }
  auto family = std::make_unique<Family>();
  family->type = type;
  family->name = std::string(name);
  family->help = std::string(help);
  family->label_names = std::move(label_names);
  family->bounds.assign(bounds.begin(), bounds.end());
  Family* raw = family.get();
  if (valid) {
    families_.emplace(std::string(name), std::move(family));
  } else {
    assert(false && "invalid metric name or a family re-registered with another shape");
    detached_.push_back(std::move(family));
  }
  return raw;
}

template <typename Cell>
Cell& Registry::GetCell(MetricType type, std::string_view name, std::string_view help,
                        const Labels& labels, std::span<const double> bounds) {
  std::vector<std::string> label_names;
  std::vector<std::string> label_values;
  label_names.reserve(labels.size());
  label_values.reserve(labels.size());
  for (const auto& [label, value] : labels) {
    label_names.push_back(label);
    label_values.push_back(value);
  }
  std::lock_guard<std::mutex> lock(mu_);
  Family* family = FindOrCreateFamily(type, name, help, std::move(label_names), bounds);
  Family::Child& child = family->GetChild(std::move(label_values));
  if constexpr (std::is_same_v<Cell, Counter>) {
    return *child.counter;
  } else if constexpr (std::is_same_v<Cell, Gauge>) {
    return *child.gauge;
  } else {
    return *child.histogram;
  }
}

Counter& Registry::GetCounter(std::string_view name, std::string_view help,
                              const Labels& labels) {
  return GetCell<Counter>(MetricType::kCounter, name, help, labels, {});
}

Gauge& Registry::GetGauge(std::string_view name, std::string_view help, const Labels& labels) {
  return GetCell<Gauge>(MetricType::kGauge, name, help, labels, {});
}

Histogram& Registry::GetHistogram(std::string_view name, std::string_view help,
                                  std::span<const double> bounds, const Labels& labels) {
  return GetCell<Histogram>(MetricType::kHistogram, name, help, labels, bounds);
}

void Registry::Declare(MetricType type, std::string_view name, std::string_view help,
                       std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  // A histogram declared here gets the latency buckets; GetHistogram on an existing family
  // keeps the family's bounds.
  Family* family =
      FindOrCreateFamily(type, name, help, std::move(label_names),
                         type == MetricType::kHistogram ? std::span<const double>(kLatencyBucketsMs)
                                                        : std::span<const double>());
  // A family without labels has exactly one child, present from the start.
  if (family->label_names.empty()) family->GetChild({});
}

CollectHook Registry::AddCollectHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t id = next_hook_id_++;
  hooks_.emplace_back(id, std::move(hook));
  return CollectHook(this, id);
}

void Registry::RemoveHook(uint64_t id, bool run_first) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find_if(hooks_.begin(), hooks_.end(),
                         [id](const auto& entry) { return entry.first == id; });
  if (it == hooks_.end()) return;
  if (run_first) it->second();
  hooks_.erase(it);
}

std::vector<FamilySnapshot> Registry::Collect() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, hook] : hooks_) hook();
  std::vector<FamilySnapshot> out;
  out.reserve(families_.size());
  for (const auto& [name, family] : families_) {  // std::map: sorted by name
    FamilySnapshot f;
    f.name = family->name;
    f.help = family->help;
    f.type = family->type;
    f.label_names = family->label_names;
    f.samples.reserve(family->children.size());
    for (const auto& child : family->children) {
      SampleSnapshot s;
      s.label_values = child->values;
      if (child->counter) s.value = child->counter->value();
      if (child->gauge) s.value = child->gauge->value();
      if (child->histogram) s.histogram = child->histogram->snapshot();
      f.samples.push_back(std::move(s));
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string Registry::RenderText() const { return metrics::RenderText(Collect()); }

}  // namespace pulse::metrics
