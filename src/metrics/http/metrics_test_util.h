// SPDX-License-Identifier: MIT
// Test helpers for the HTTP endpoint tests: parse an exposition, poll until a condition holds.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>

namespace pulse::metrics::testing {

/// Samples of a text exposition by their full name with labels, e.g.
/// `pulse_operator_records_total{operator="window",stage="emit"}` → "4" (the value as written).
inline std::map<std::string, std::string> ParseSamples(const std::string& text) {
  std::map<std::string, std::string> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    samples[line.substr(0, space)] = line.substr(space + 1);
  }
  return samples;
}

/// Call `done` every few milliseconds until it returns true or `limit` passes (a bound for a
/// broken build, not a timing assertion). Returns the last result.
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace pulse::metrics::testing
