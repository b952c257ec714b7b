// SPDX-License-Identifier: MIT
// The Prometheus text exposition format 0.0.4: HELP/TYPE lines, escaping, sample values.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

#include "pulse/metrics/registry.h"

namespace pulse::metrics {
namespace {

// Largest magnitude below which every integral double is printed without an exponent.
constexpr double kMaxPlainInteger = 9007199254740992.0;  // 2^53

// HELP text: backslash and newline are escaped.
void AppendHelp(std::string_view text, std::string* out) {
  for (char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

// Label values: backslash, double quote and newline are escaped.
void AppendLabelValue(std::string_view text, std::string* out) {
  for (char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

// `{a="x",b="y"}` with an optional extra label (the histogram's `le`); nothing if empty.
void AppendLabels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                  std::string_view extra_name, std::string_view extra_value, std::string* out) {
  if (names.empty() && extra_name.empty()) return;
  out->push_back('{');
  bool first = true;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!first) out->push_back(',');
    first = false;
    out->append(names[i]);
    out->append("=\"");
    AppendLabelValue(values[i], out);
    out->push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out->push_back(',');
    out->append(extra_name);
    out->append("=\"");
    AppendLabelValue(extra_value, out);
    out->push_back('"');
  }
  out->push_back('}');
}

void AppendSample(std::string_view name, std::string_view suffix,
                  const std::vector<std::string>& names, const std::vector<std::string>& values,
                  std::string_view extra_name, std::string_view extra_value, double value,
                  std::string* out) {
  out->append(name);
  out->append(suffix);
  AppendLabels(names, values, extra_name, extra_value, out);
  out->push_back(' ');
  out->append(FormatValue(value));
  out->push_back('\n');
}

}  // namespace

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (std::fabs(value) < kMaxPlainInteger && value == std::trunc(value)) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(value));
    return std::string(buf, end);
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, end);
}

std::string RenderText(std::span<const FamilySnapshot> families) {
  std::string out;
  for (const FamilySnapshot& f : families) {
    out.append("# HELP ");
    out.append(f.name);
    out.push_back(' ');
    AppendHelp(f.help, &out);
    out.append("\n# TYPE ");
    out.append(f.name);
    out.push_back(' ');
    out.append(MetricTypeName(f.type));
    out.push_back('\n');
    for (const SampleSnapshot& s : f.samples) {
      if (f.type != MetricType::kHistogram) {
        AppendSample(f.name, "", f.label_names, s.label_values, "", "", s.value, &out);
        continue;
      }
      const Histogram::Snapshot& h = s.histogram;
      for (size_t i = 0; i < h.bounds.size(); ++i) {
        AppendSample(f.name, "_bucket", f.label_names, s.label_values, "le",
                     FormatValue(h.bounds[i]), static_cast<double>(h.cumulative[i]), &out);
      }
      AppendSample(f.name, "_bucket", f.label_names, s.label_values, "le", "+Inf",
                   static_cast<double>(h.count), &out);
      AppendSample(f.name, "_sum", f.label_names, s.label_values, "", "", h.sum, &out);
      AppendSample(f.name, "_count", f.label_names, s.label_values, "", "",
                   static_cast<double>(h.count), &out);
    }
  }
  return out;
}

}  // namespace pulse::metrics
