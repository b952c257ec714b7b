// SPDX-License-Identifier: MIT
// /api/status: the run's metrics regrouped by stage for the status page.
#include "metrics/http/status_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <tuple>

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

// Kafka's per-partition gauges (labels topic, partition), one row each.
constexpr std::string_view kPartitionLagMetric = "pulse_kafka_partition_lag";
constexpr std::string_view kPartitionWatermarkMetric = "pulse_kafka_partition_watermark_seconds";
constexpr std::string_view kPartitionIdleMetric = "pulse_kafka_partition_idle";
// Present when the run takes checkpoints.
constexpr std::string_view kCheckpointsMetric = "pulse_checkpoints_total";

// A watermark in seconds (the metrics' unit) as whole milliseconds; ±Inf as strings.
void AppendWatermarkSeconds(double seconds, std::string* out) {
  AppendNumber(std::isfinite(seconds) ? std::round(seconds * 1000) : seconds, out);
}

// An event time in ms; the watermark sentinels as "-Inf" and "+Inf".
void AppendEventTime(EventTime t, std::string* out) {
  if (t <= kMinWatermark) {
    out->append("\"-Inf\"");
  } else if (t >= kMaxWatermark) {
    out->append("\"+Inf\"");
  } else {
    out->append(std::to_string(t));
  }
}

// "partitions":[{"topic","partition","lag","watermark","idle"}], by topic and partition.
void AppendPartitions(std::span<const FamilySnapshot> families, std::string* out) {
  const FamilySnapshot* lag = FindFamily(families, kPartitionLagMetric);
  if (lag == nullptr) return;
  auto label = [&](const SampleSnapshot& s, std::string_view name) -> std::string {
    for (size_t i = 0; i < lag->label_names.size() && i < s.label_values.size(); ++i) {
      if (lag->label_names[i] == name) return s.label_values[i];
    }
    return "";
  };
  struct Row {
    std::string topic;
    int64_t partition = 0;
    const SampleSnapshot* sample = nullptr;
  };
  std::vector<Row> rows;
  for (const SampleSnapshot& s : lag->samples) {
    const std::string number = label(s, "partition");
    Row row{label(s, "topic"), 0, &s};
    std::from_chars(number.data(), number.data() + number.size(), row.partition);
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  out->append(",\"partitions\":[");
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    if (i > 0) out->push_back(',');
    out->append("{\"topic\":");
    AppendJsonString(row.topic, out);
    out->append(fmt::format(",\"partition\":{},\"lag\":", row.partition));
    AppendNumber(row.sample->value, out);
    const SampleSnapshot* w = FindSample(families, kPartitionWatermarkMetric,
                                         row.sample->label_values);
    if (w != nullptr) {
      out->append(",\"watermark\":");
      AppendWatermarkSeconds(w->value, out);
    }
    const SampleSnapshot* idle =
        FindSample(families, kPartitionIdleMetric, row.sample->label_values);
    if (idle != nullptr) out->append(idle->value != 0 ? ",\"idle\":true" : ",\"idle\":false");
    out->push_back('}');
  }
  out->push_back(']');
}

// "history":{"full","sequence","t":[...],"in":[...],...}: one array per series.
void AppendHistory(const RunHistory::View& view, std::string* out) {
  out->append(fmt::format(",\"history\":{{\"full\":{},\"sequence\":{}",
                          view.full ? "true" : "false", view.sequence));
  auto series = [&](std::string_view name, auto value) {
    out->append(",\"");
    out->append(name);
    out->append("\":[");
    for (size_t i = 0; i < view.samples.size(); ++i) {
      if (i > 0) out->push_back(',');
      value(view.samples[i]);
    }
    out->push_back(']');
  };
  auto number = [&](uint64_t RunSample::*field) {
    return [out, field](const RunSample& s) { out->append(std::to_string(s.*field)); };
  };
  series("t", [&](const RunSample& s) { out->append(std::to_string(s.unix_ms)); });
  series("in", number(&RunSample::records_in));
  series("out", number(&RunSample::records_out));
  series("late", number(&RunSample::late));
  series("bad", number(&RunSample::bad));
  series("watermark", [&](const RunSample& s) { AppendEventTime(s.watermark, out); });
  series("newest", [&](const RunSample& s) { AppendEventTime(s.newest_event, out); });
  series("open_windows", number(&RunSample::open_windows));
  series("state", number(&RunSample::state_entries));
  out->push_back('}');
}

// "checkpoints":{"enabled","committed","failed","recent":[...]}.
void AppendCheckpoints(const RunHistory::View& view, bool enabled, std::string* out) {
  out->append(fmt::format(
      ",\"checkpoints\":{{\"enabled\":{},\"committed\":{},\"failed\":{},\"recent\":[",
      enabled ? "true" : "false", view.checkpoints_committed, view.checkpoints_failed));
  for (size_t i = 0; i < view.checkpoints.size(); ++i) {
    const CheckpointRecord& c = view.checkpoints[i];
    if (i > 0) out->push_back(',');
    out->append(fmt::format("{{\"id\":{},\"started_ms\":{},\"duration_ms\":", c.id,
                            c.started_unix_ms));
    AppendNumber(c.duration_ms, out);
    out->append(fmt::format(",\"bytes\":{},\"failed\":{},\"error\":", c.bytes,
                            c.failed ? "true" : "false"));
    AppendJsonString(c.error, out);
    out->push_back('}');
  }
  out->append("]}");
}

// "bad_records":[{"number","time_ms","reason","origin","position","error","raw","truncated"}].
void AppendBadRecords(const RunHistory::View& view, std::string* out) {
  out->append(",\"bad_records\":[");
  for (size_t i = 0; i < view.bad_records.size(); ++i) {
    const RecentBadRecord& b = view.bad_records[i];
    if (i > 0) out->push_back(',');
    out->append(fmt::format("{{\"number\":{},\"time_ms\":{},\"reason\":", b.number,
                            b.unix_ms));
    AppendJsonString(BadReasonName(b.reason), out);
    out->append(",\"origin\":");
    AppendJsonString(b.origin, out);
    out->append(fmt::format(",\"position\":{},\"error\":", b.position));
    AppendJsonString(b.error, out);
    out->append(",\"raw\":");
    AppendJsonString(b.raw, out);
    out->append(b.raw_truncated ? ",\"truncated\":true}" : ",\"truncated\":false}");
  }
  out->push_back(']');
}

}  // namespace

std::string StatusJson(std::span<const FamilySnapshot> families, const StatusContext& context) {
  std::string out = "{\"title\":";
  AppendJsonString(context.title, &out);
  out.append(",\"version\":");
  AppendJsonString(PULSE_VERSION, &out);
  out.append(fmt::format(",\"running\":{},\"state\":", context.running ? "true" : "false"));
  AppendJsonString(context.running ? "running" : context.state, &out);
  if (!context.error.empty()) {
    out.append(",\"error\":");
    AppendJsonString(context.error, &out);
  }
  out.append(fmt::format(",\"now_ms\":{}", context.now_ms));
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
      AppendWatermarkSeconds(w->value, &out);
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
  out.push_back(']');
  AppendPartitions(families, &out);
  if (context.history != nullptr) {
    const RunHistory::View view = context.history->Read(context.history_after);
    AppendHistory(view, &out);
    AppendCheckpoints(view, FindFamily(families, kCheckpointsMetric) != nullptr, &out);
    AppendBadRecords(view, &out);
  }
  out.push_back('}');
  return out;
}

}  // namespace pulse::metrics::internal
