// SPDX-License-Identifier: MIT
// RunProbe and the public helpers of run_metrics.h: stage names, family registration.
#include "core/run_probe.h"

#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>

namespace pulse {
namespace internal {
namespace {

using metrics::MetricType;

constexpr std::string_view kOperatorLabel = "operator";
constexpr std::string_view kStageLabel = "stage";

// Help texts; the first eight metrics keep the original Pulse's names, types and labels.
constexpr std::string_view kOperatorRecordsHelp = "Records processed by operator";
constexpr std::string_view kOperatorLatencyHelp = "Operator on_element processing latency (ms)";
constexpr std::string_view kSinkLatencyHelp = "Sink on_element processing latency (ms)";
constexpr std::string_view kWatermarkLagHelp = "Lag between now and current watermark in ms";
constexpr std::string_view kSinkBytesHelp = "Total bytes written by sink";
constexpr std::string_view kStateSizeHelp = "State size per operator";
constexpr std::string_view kQueueDepthHelp =
    "Current in-flight queue depth between source and operators";
constexpr std::string_view kDroppedHelp =
    "Total records dropped, by reason (malformed input, late, channel_full)";
constexpr std::string_view kOperatorLateHelp =
    "Records dropped by an operator because they were late for all of their windows";
constexpr std::string_view kOperatorWatermarkHelp =
    "Current event-time watermark of an operator in seconds since the epoch";
constexpr std::string_view kOpenWindowsHelp = "Windows (or sessions) open in an operator";
constexpr std::string_view kSourceRecordsHelp = "Records read by a source";
constexpr std::string_view kSourceBytesHelp = "Input bytes read by a source";
constexpr std::string_view kSourceWatermarkHelp =
    "Current event-time watermark of a source in seconds since the epoch";
constexpr std::string_view kSourceIdleHelp =
    "1 while the source's input is idle (no record for idle_timeout) and the watermark follows "
    "processing time";
constexpr std::string_view kSinkResultsHelp = "Results written by a sink";

std::string Str(std::string_view s) { return std::string(s); }

metrics::Labels OperatorLabels(const StageInfo& stage) {
  return {{Str(kOperatorLabel), stage.name}};
}

metrics::Labels RecordLabels(const StageInfo& stage, std::string_view direction) {
  return {{Str(kOperatorLabel), stage.name}, {Str(kStageLabel), Str(direction)}};
}

// A watermark in seconds (Prometheus' base unit, so that time() - watermark is a lag); the
// sentinels become ±infinity.
double WatermarkSeconds(EventTime watermark) {
  if (watermark <= kMinWatermark) return -INFINITY;
  if (watermark >= kMaxWatermark) return INFINITY;
  return static_cast<double>(watermark) / 1000.0;
}

double Milliseconds(std::chrono::nanoseconds elapsed) {
  return std::chrono::duration<double, std::milli>(elapsed).count();
}

}  // namespace

// Name (label) for a stage: the operator's own name, made unique with a _2, _3, ... suffix.
std::vector<StageInfo> StagesOf(const Pipeline::Parts& parts) {
  std::vector<StageInfo> stages;
  std::unordered_map<std::string, int> seen;
  auto add = [&](std::string name, StageKind kind, std::string description) {
    const int n = ++seen[name];
    if (n > 1) {
      name += '_';
      name += std::to_string(n);
    }
    stages.push_back(StageInfo{std::move(name), kind, std::move(description)});
  };
  add("source", StageKind::kSource, parts.source ? parts.source->Describe() : "");
  for (const auto& op : parts.before_key) add(op->name(), StageKind::kOperator, op->name());
  if (parts.key_field) {
    add("key_by", StageKind::kKeyBy, "field '" + *parts.key_field + "'");
  } else if (parts.key_selector) {
    add("key_by", StageKind::kKeyBy, "function");
  }
  if (parts.keyed) {
    add(parts.keyed->name(), StageKind::kKeyed, parts.keyed->Describe());
  }
  for (const auto& op : parts.after_key) add(op->name(), StageKind::kOperator, op->name());
  add("sink", StageKind::kSink, parts.sink ? parts.sink->Describe() : "");
  return stages;
}

RunProbe::RunProbe(metrics::Registry& registry, std::vector<StageInfo> stages,
                   const Clock& clock)
    : registry_(registry), clock_(clock), stages_(std::move(stages)) {
  // Families with labels are declared so that they are rendered even without children.
  registry.Declare(MetricType::kCounter, kOperatorRecordsMetric, kOperatorRecordsHelp,
                   {Str(kOperatorLabel), Str(kStageLabel)});
  registry.Declare(MetricType::kCounter, kOperatorLateMetric, kOperatorLateHelp,
                   {Str(kOperatorLabel)});
  registry.Declare(MetricType::kGauge, kOperatorWatermarkMetric, kOperatorWatermarkHelp,
                   {Str(kOperatorLabel)});
  registry.Declare(MetricType::kGauge, kOperatorOpenWindowsMetric, kOpenWindowsHelp,
                   {Str(kOperatorLabel)});
  registry.Declare(MetricType::kGauge, kStateSizeMetric, kStateSizeHelp, {Str(kOperatorLabel)});
  registry.Declare(MetricType::kCounter, kSourceRecordsMetric, kSourceRecordsHelp, {"source"});
  registry.Declare(MetricType::kCounter, kSourceBytesMetric, kSourceBytesHelp, {"source"});
  registry.Declare(MetricType::kGauge, kSourceWatermarkMetric, kSourceWatermarkHelp, {"source"});
  registry.Declare(MetricType::kGauge, kSourceIdleMetric, kSourceIdleHelp, {"source"});
  registry.Declare(MetricType::kCounter, kSinkResultsMetric, kSinkResultsHelp, {"sink"});
  registry.Declare(MetricType::kCounter, kSinkBytesMetric, kSinkBytesHelp, {"sink"});

  operator_latency_ = &registry.GetHistogram(kOperatorLatencyMetric, kOperatorLatencyHelp,
                                             metrics::kLatencyBucketsMs);
  sink_latency_ =
      &registry.GetHistogram(kSinkLatencyMetric, kSinkLatencyHelp, metrics::kLatencyBucketsMs);
  queue_depth_ = &registry.GetGauge(kQueueDepthMetric, kQueueDepthHelp);
  watermark_lag_ = &registry.GetGauge(kWatermarkLagMetric, kWatermarkLagHelp);
  for (int i = 0; i < kNumBadReasons; ++i) {
    dropped_[i] = &registry.GetCounter(
        kDroppedMetric, kDroppedHelp,
        {{"reason", Str(BadReasonName(static_cast<BadReason>(i)))}});
  }

  cells_.resize(stages_.size());
  for (size_t i = 0; i < stages_.size(); ++i) AddStageCells(i);
}

// The cells of stage i, and the run-wide cells that belong to its kind.
void RunProbe::AddStageCells(size_t i) {
  metrics::Registry& registry = registry_;
  const StageInfo& stage = stages_[i];
  StageCells& c = cells_[i];
  if (stage.kind != StageKind::kSource) {
    c.received = &registry.GetCounter(kOperatorRecordsMetric, kOperatorRecordsHelp,
                                      RecordLabels(stage, "receive"));
  }
  if (stage.kind != StageKind::kSink) {
    c.emitted = &registry.GetCounter(kOperatorRecordsMetric, kOperatorRecordsHelp,
                                     RecordLabels(stage, "emit"));
  }
  c.watermark =
      &registry.GetGauge(kOperatorWatermarkMetric, kOperatorWatermarkHelp, OperatorLabels(stage));
  c.watermark->Set(-INFINITY);
  switch (stage.kind) {
    case StageKind::kSource: {
      const metrics::Labels labels = {{"source", stage.name}};
      records_read_ = &registry.GetCounter(kSourceRecordsMetric, kSourceRecordsHelp, labels);
      bytes_read_ = &registry.GetCounter(kSourceBytesMetric, kSourceBytesHelp, labels);
      source_watermark_ =
          &registry.GetGauge(kSourceWatermarkMetric, kSourceWatermarkHelp, labels);
      source_watermark_->Set(-INFINITY);
      source_idle_ = &registry.GetGauge(kSourceIdleMetric, kSourceIdleHelp, labels);
      break;
    }
    case StageKind::kKeyBy:
      key_by_ = i;
      break;
    case StageKind::kKeyed:
      keyed_ = i;
      first_after_ = i + 1;
      c.late =
          &registry.GetCounter(kOperatorLateMetric, kOperatorLateHelp, OperatorLabels(stage));
      c.open_windows = &registry.GetGauge(kOperatorOpenWindowsMetric, kOpenWindowsHelp,
                                          OperatorLabels(stage));
      c.state_size =
          &registry.GetGauge(kStateSizeMetric, kStateSizeHelp, OperatorLabels(stage));
      break;
    case StageKind::kSink: {
      const metrics::Labels labels = {{"sink", stage.name}};
      results_written_ = &registry.GetCounter(kSinkResultsMetric, kSinkResultsHelp, labels);
      bytes_written_ = &registry.GetCounter(kSinkBytesMetric, kSinkBytesHelp, labels);
      break;
    }
    case StageKind::kOperator:
      break;
  }
}

RunProbe::~RunProbe() { StopSampling(); }

void RunProbe::RecordStageBatch(size_t stage, uint64_t received, uint64_t emitted) {
  if (stage >= cells_.size()) return;
  StageCells& c = cells_[stage];
  if (c.received != nullptr) c.received->Increment(static_cast<double>(received));
  if (c.emitted != nullptr) c.emitted->Increment(static_cast<double>(emitted));
}

void RunProbe::RecordLateRecords(uint64_t count) {
  if (keyed_ == kNone || count == 0) return;
  cells_[keyed_].late->Increment(static_cast<double>(count));
}

void RunProbe::RecordOperatorBatchTime(std::chrono::nanoseconds elapsed, uint64_t records) {
  if (records == 0) return;
  operator_latency_->Observe(Milliseconds(elapsed) / static_cast<double>(records), records);
}

void RunProbe::RecordSinkBatchTime(std::chrono::nanoseconds elapsed, uint64_t records) {
  if (records == 0) return;
  sink_latency_->Observe(Milliseconds(elapsed) / static_cast<double>(records), records);
}

void RunProbe::StartSampling(std::function<Sample()> sampler) {
  sampler_ = std::move(sampler);
  hook_ = registry_.AddCollectHook([this] { Apply(sampler_()); });
}

void RunProbe::StopSampling() { hook_.RunAndRemove(); }

void RunProbe::Apply(const Sample& s) {
  auto advance = [](metrics::Counter* counter, uint64_t now, uint64_t before) {
    if (counter != nullptr && now > before) counter->Increment(static_cast<double>(now - before));
  };
  advance(records_read_, s.records_read, last_.records_read);
  advance(bytes_read_, s.bytes_read, last_.bytes_read);
  advance(results_written_, s.results_written, last_.results_written);
  advance(bytes_written_, s.bytes_written, last_.bytes_written);
  for (int i = 0; i < kNumBadReasons; ++i) advance(dropped_[i], s.dropped[i], last_.dropped[i]);
  last_ = s;

  queue_depth_->Set(static_cast<double>(s.in_flight));
  if (source_watermark_ != nullptr) source_watermark_->Set(WatermarkSeconds(s.source_watermark));
  if (source_idle_ != nullptr) source_idle_->Set(s.source_idle ? 1 : 0);
  // Stages on the source thread (up to the key) have the source's watermark; the keyed stage
  // its workers' lowest; the stages on the sink thread the watermark the sink has seen.
  for (size_t i = 0; i < stages_.size(); ++i) {
    EventTime w = s.source_watermark;
    if (i == keyed_) {
      w = s.keyed_watermark;
    } else if (first_after_ != kNone && i >= first_after_) {
      w = s.sink_watermark;
    } else if (i == sink()) {
      w = s.sink_watermark;
    }
    cells_[i].watermark->Set(WatermarkSeconds(w));
  }
  if (keyed_ != kNone) {
    cells_[keyed_].open_windows->Set(static_cast<double>(s.open_windows));
    cells_[keyed_].state_size->Set(static_cast<double>(s.state_entries));
  }
  // Lag of the output: how far the watermark the sink has reached trails the wall clock;
  // 0 while there is no finite watermark (none yet, or the end of the input).
  double lag = 0;
  if (s.sink_watermark > kMinWatermark && s.sink_watermark < kMaxWatermark) {
    lag = static_cast<double>(clock_.UnixMillis() - s.sink_watermark);
  }
  watermark_lag_->Set(lag);
}

}  // namespace internal

std::string_view StageKindName(StageKind kind) {
  switch (kind) {
    case StageKind::kSource:
      return "source";
    case StageKind::kOperator:
      return "operator";
    case StageKind::kKeyBy:
      return "key_by";
    case StageKind::kKeyed:
      return "keyed";
    case StageKind::kSink:
      return "sink";
  }
  return "operator";
}

std::vector<StageInfo> PipelineStages(const Pipeline& pipeline) {
  return internal::StagesOf(pipeline.parts());
}

void RegisterRunMetrics(metrics::Registry& registry, std::span<const StageInfo> stages) {
  internal::RunProbe probe(registry, std::vector<StageInfo>(stages.begin(), stages.end()));
}

}  // namespace pulse
