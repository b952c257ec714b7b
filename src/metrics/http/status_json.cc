// SPDX-License-Identifier: MIT
// /api/status: the run's metrics regrouped by stage for the status page.
#include "metrics/http/status_json.h"

#include <cmath>

#include <fmt/format.h>

#include "pulse/config.h"
#include "pulse/core/bad_record.h"
#include "pulse/core/json.h"

namespace pulse::metrics::internal {
namespace {

const FamilySnapshot* FindFamily(std::span<const FamilySnapshot> families,
                                 std::string_view name) {
  for (const FamilySnapshot& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The value of `name{labels}`, or nullptr if there is no such sample.
const SampleSnapshot* FindSample(std::span<const FamilySnapshot> families, std::string_view name,
                                 const std::vector<std::string>& label_values) {
  const FamilySnapshot* f = FindFamily(families, name);
  return f == nullptr ? nullptr : f->Find(label_values);
}

void AppendNumber(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("null");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "\"+Inf\"" : "\"-Inf\"");
  } else {
    out->append(FormatValue(value));
  }
}

// `,"key":value` when the sample exists.
void AppendField(std::string_view key, const SampleSnapshot* sample, std::string* out) {
  if (sample == nullptr) return;
  out->push_back(',');
  AppendJsonString(key, out);
  out->push_back(':');
  AppendNumber(sample->value, out);
}

double ValueOr(const SampleSnapshot* sample, double fallback) {
  return sample == nullptr ? fallback : sample->value;
}

// The stage that drops records for `reason`: the source for malformed input, the key by for
// the channel bound, the keyed operator for late records.
StageKind StageOfReason(BadReason reason) {
  switch (reason) {
    case BadReason::kLate:
      return StageKind::kKeyed;
    case BadReason::kChannelFull:
      return StageKind::kKeyBy;
    default:
      return StageKind::kSource;
  }
}

}  // namespace

std::string StatusJson(std::span<const FamilySnapshot> families, const StatusContext& context) {
  std::string out = "{\"title\":";
  AppendJsonString(context.title, &out);
  out.append(",\"version\":");
  AppendJsonString(PULSE_VERSION, &out);
  out.append(fmt::format(",\"running\":{},\"now_ms\":{}", context.running ? "true" : "false",
                         context.now_ms));
  AppendField("start_time_s", FindSample(families, "pulse_process_start_time_seconds", {}),
              &out);
  out.append(",\"process\":{\"rss_bytes\":");
  AppendNumber(ValueOr(FindSample(families, "pulse_process_resident_memory_bytes", {}), 0), &out);
  out.append(",\"cpu_seconds\":");
  AppendNumber(ValueOr(FindSample(families, "pulse_process_cpu_seconds_total", {}), 0), &out);
  out.append("}");
  AppendField("queue_depth", FindSample(families, kQueueDepthMetric, {}), &out);
  AppendField("watermark_lag_ms", FindSample(families, kWatermarkLagMetric, {}), &out);

  out.append(",\"dropped\":{");
  std::array<double, kNumBadReasons> dropped{};
  for (int i = 0; i < kNumBadReasons; ++i) {
    const std::string reason(BadReasonName(static_cast<BadReason>(i)));
    dropped[i] = ValueOr(FindSample(families, kDroppedMetric, {reason}), 0);
    if (i > 0) out.push_back(',');
    AppendJsonString(reason, &out);
    out.push_back(':');
    AppendNumber(dropped[i], &out);
  }
  out.append("}");

  for (std::string_view name : {kOperatorLatencyMetric, kSinkLatencyMetric}) {
    const SampleSnapshot* s = FindSample(families, name, {});
    if (s == nullptr) continue;
    out.push_back(',');
    AppendJsonString(name == kOperatorLatencyMetric ? "operator_latency" : "sink_latency", &out);
    out.append(fmt::format(":{{\"count\":{},\"sum_ms\":", s->histogram.count));
    AppendNumber(s->histogram.sum, &out);
    out.push_back('}');
  }

  out.append(",\"stages\":[");
  for (size_t i = 0; i < context.stages.size(); ++i) {
    const StageInfo& stage = context.stages[i];
    const std::vector<std::string> op = {stage.name};
    if (i > 0) out.push_back(',');
    out.append("{\"name\":");
    AppendJsonString(stage.name, &out);
    out.append(",\"kind\":");
    AppendJsonString(StageKindName(stage.kind), &out);
    out.append(",\"description\":");
    AppendJsonString(stage.description, &out);
    AppendField("received", FindSample(families, kOperatorRecordsMetric, {stage.name, "receive"}),
                &out);
    AppendField("emitted", FindSample(families, kOperatorRecordsMetric, {stage.name, "emit"}),
                &out);
    if (const SampleSnapshot* w = FindSample(families, kOperatorWatermarkMetric, op)) {
      // Seconds in the metric, whole milliseconds here.
      out.append(",\"watermark\":");
      AppendNumber(std::isfinite(w->value) ? std::round(w->value * 1000) : w->value, &out);
    }
    AppendField("late", FindSample(families, kOperatorLateMetric, op), &out);
    AppendField("open_windows", FindSample(families, kOperatorOpenWindowsMetric, op), &out);
    AppendField("state_size", FindSample(families, kStateSizeMetric, op), &out);
    if (stage.kind == StageKind::kSource) {
      AppendField("bytes", FindSample(families, kSourceBytesMetric, op), &out);
    } else if (stage.kind == StageKind::kSink) {
      AppendField("bytes", FindSample(families, kSinkBytesMetric, op), &out);
    }
    double stage_dropped = 0;
    for (int r = 0; r < kNumBadReasons; ++r) {
      if (StageOfReason(static_cast<BadReason>(r)) == stage.kind) stage_dropped += dropped[r];
    }
    out.append(",\"dropped\":");
    AppendNumber(stage_dropped, &out);
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

}  // namespace pulse::metrics::internal
