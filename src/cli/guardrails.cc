// SPDX-License-Identifier: MIT
#include "cli/guardrails.h"

#include <fmt/format.h>

namespace pulse::cli {
namespace {

constexpr int64_t kMsPerSecond = 1000;
// Beyond this, "<n>s" would overflow milliseconds; the seconds reading is then left out.
constexpr int64_t kMaxSecondsReading = INT64_MAX / kMsPerSecond;

bool IsBareNumber(std::string_view text) {
  if (text.empty() || text.size() > 18) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "300000ms = 5m", or just "500ms" when spelling it out says nothing new.
std::string Reading(std::string_view text, std::string_view unit, DurationMs ms) {
  const std::string spelled = SpelledDuration(ms);
  const std::string written = fmt::format("{}{}", text, unit);
  return spelled == written ? written : fmt::format("{} = {}", written, spelled);
}

}  // namespace

std::string SpelledDuration(DurationMs d) {
  struct Unit {
    int64_t ms;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  if (d == 0) return "0ms";
  std::string out;
  if (d < 0) {
    out = "-";
    d = -d;
  }
  bool first = true;
  for (const Unit& unit : kUnits) {
    const int64_t n = d / unit.ms;
    if (n == 0) continue;
    d -= n * unit.ms;
    fmt::format_to(std::back_inserter(out), "{}{}{}", first ? "" : " ", n, unit.name);
    first = false;
  }
  return out;
}

std::string BareDurationMessage(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (!IsBareNumber(text)) return "";
  const int64_t n = std::stoll(std::string(text));
  std::string message =
      fmt::format("{}: add a unit: {}", text, Reading(text, "ms", DurationMs{n}));
  if (n <= kMaxSecondsReading) {
    fmt::format_to(std::back_inserter(message), ", or {}", Reading(text, "s", n * kMsPerSecond));
  }
  message += "?";
  return message;
}

int64_t WindowsPerRecord(DurationMs size, DurationMs slide) {
  return size / slide + (size % slide == 0 ? 0 : 1);
}

}  // namespace pulse::cli
