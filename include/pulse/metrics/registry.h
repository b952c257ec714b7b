// SPDX-License-Identifier: MIT
// Registry: the metric families of a process (or of a test), their labelled children, collect
// hooks, and rendering in the Prometheus text exposition format 0.0.4.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pulse/metrics/counter.h"
#include "pulse/metrics/histogram.h"

namespace pulse::metrics {

enum class MetricType : uint8_t { kCounter, kGauge, kHistogram };

/// "counter", "gauge" or "histogram".
std::string_view MetricTypeName(MetricType type);

/// Label name/value pairs of one child, in the family's label order.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// A copy of one child's value.
struct SampleSnapshot {
  std::vector<std::string> label_values;  // in the order of FamilySnapshot::label_names
  double value = 0;                       // counters and gauges
  Histogram::Snapshot histogram;          // histograms
};

/// A copy of one family.
struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kCounter;
  std::vector<std::string> label_names;
  std::vector<SampleSnapshot> samples;  // in the order the children were created

  /// The sample with these label values, or nullptr.
  const SampleSnapshot* Find(const std::vector<std::string>& label_values) const;
};

class Registry;

/// A function run before each collection; removed when the handle is destroyed.
/// Move-only. See Registry::AddCollectHook.
class CollectHook {
 public:
  CollectHook() = default;
  CollectHook(CollectHook&& other) noexcept;
  CollectHook& operator=(CollectHook&& other) noexcept;
  CollectHook(const CollectHook&) = delete;
  CollectHook& operator=(const CollectHook&) = delete;
  ~CollectHook();

  /// Run the hook once more (e.g. for final values), then remove it. No-op when empty.
  void RunAndRemove();

  /// Keep the hook for the registry's lifetime; the handle becomes empty.
  void Release() { registry_ = nullptr; }

 private:
  friend class Registry;
  CollectHook(Registry* registry, uint64_t id) : registry_(registry), id_(id) {}
  Registry* registry_ = nullptr;
  uint64_t id_ = 0;
};

/// Metric families by name, each with children by label values.
///
/// Thread-safety: every method may be called from any thread. Registration (Get*, Declare)
/// and collection take an internal mutex; the cells it returns (Counter, Gauge, Histogram) are
/// updated without any lock, so a hot path looks a cell up once and then only touches atomics.
/// Names: metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*.
/// Re-registering a name with another type, help text or label names is a programming error:
/// it asserts in debug builds; in release builds the caller gets a detached cell that is never
/// rendered.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Return the counter `name{labels}`, creating the family and the child on first use (at 0).
  /// Label names must be the same, in the same order, for every child of a family.
  Counter& GetCounter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const Labels& labels = {});
  /// `bounds` only matters when the family is created.
  Histogram& GetHistogram(std::string_view name, std::string_view help,
                          std::span<const double> bounds, const Labels& labels = {});

  /// Create the family if needed without any child, so that its HELP and TYPE are rendered
  /// before the first child exists (label values not known yet).
  void Declare(MetricType type, std::string_view name, std::string_view help,
               std::vector<std::string> label_names);

  /// Run `hook` at the start of every Collect()/RenderText(), on the collecting thread and
  /// under the registry's mutex (hooks of one registry never run concurrently). A hook samples
  /// state into cells it already holds; it must not call back into the registry.
  /// Destroying the returned handle removes the hook, waiting for a collection in progress.
  [[nodiscard]] CollectHook AddCollectHook(std::function<void()> hook);

  /// Run the hooks and copy every family, sorted by name.
  std::vector<FamilySnapshot> Collect() const;

  /// Collect() rendered in the Prometheus text exposition format 0.0.4.
  std::string RenderText() const;

 private:
  friend class CollectHook;
  struct Family;
  Family* FindOrCreateFamily(MetricType type, std::string_view name, std::string_view help,
                             std::vector<std::string> label_names,
                             std::span<const double> bounds);
  template <typename Cell>
  Cell& GetCell(MetricType type, std::string_view name, std::string_view help,
                const Labels& labels, std::span<const double> bounds);
  void RemoveHook(uint64_t id, bool run_first);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;  // guarded by mu_
  std::vector<std::unique_ptr<Family>> detached_;                         // guarded by mu_
  std::vector<std::pair<uint64_t, std::function<void()>>> hooks_;         // guarded by mu_
  uint64_t next_hook_id_ = 1;                                             // guarded by mu_
};

/// Render families in the Prometheus text exposition format 0.0.4 (`# HELP`, `# TYPE`, one
/// line per sample; histograms as _bucket{le=...}, _sum and _count).
std::string RenderText(std::span<const FamilySnapshot> families);

/// Format a sample value as the text format wants it: integers without a fraction,
/// "+Inf", "-Inf", "NaN", otherwise the shortest round-trip form.
std::string FormatValue(double value);

/// Register the process metrics, all present at once: pulse_process_resident_memory_bytes,
/// pulse_process_cpu_seconds_total and pulse_process_start_time_seconds (read from /proc/self
/// at each collection), and pulse_build_info{version} = 1. Idempotent per registry.
void RegisterProcessMetrics(Registry& registry);

}  // namespace pulse::metrics
