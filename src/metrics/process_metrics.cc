// SPDX-License-Identifier: MIT
// Process metrics read from /proc/self at each collection, and the build info gauge.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "pulse/config.h"
#include "pulse/metrics/registry.h"

namespace pulse::metrics {
namespace {

struct ProcStat {
  double cpu_seconds = 0;        // user + system
  double start_time_seconds = 0;  // since the epoch; 0 if unknown
  bool ok = false;
};

// Seconds since the epoch at which the machine booted ("btime" in /proc/stat), or 0.
double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double btime = 0;
      in >> btime;
      return btime;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

// Fields 14 (utime), 15 (stime) and 22 (starttime) of /proc/self/stat, in clock ticks. The
// command name (field 2) may hold spaces and parentheses, so fields are counted after the last ')'.
ProcStat ReadProcStat() {
  ProcStat stat;
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return stat;
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return stat;
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  double utime = 0, stime = 0, starttime = 0;
  for (int index = 3; fields >> field; ++index) {  // the state letter is field 3
    if (index == 14) utime = std::strtod(field.c_str(), nullptr);
    if (index == 15) stime = std::strtod(field.c_str(), nullptr);
    if (index == 22) {
      starttime = std::strtod(field.c_str(), nullptr);
      break;
    }
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (ticks <= 0) return stat;
  stat.cpu_seconds = (utime + stime) / ticks;
  const double boot = BootTimeSeconds();
  if (boot > 0) stat.start_time_seconds = boot + starttime / ticks;
  stat.ok = true;
  return stat;
}

// Resident set size from /proc/self/statm (second field, in pages), or -1.
double ResidentBytes() {
  std::ifstream in("/proc/self/statm");
  double size_pages = 0, resident_pages = 0;
  if (!(in >> size_pages >> resident_pages)) return -1;
  return resident_pages * static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace

void RegisterProcessMetrics(Registry& registry) {
  Gauge& resident = registry.GetGauge("pulse_process_resident_memory_bytes",
                                      "Resident memory size of the process in bytes");
  Counter& cpu = registry.GetCounter("pulse_process_cpu_seconds_total",
                                     "User and system CPU time of the process in seconds");
  Gauge& start = registry.GetGauge("pulse_process_start_time_seconds",
                                   "Start time of the process since the Unix epoch in seconds");
  registry
      .GetGauge("pulse_build_info", "Pulse build information; the value is always 1",
                {{"version", PULSE_VERSION}})
      .Set(1);

  auto sample = [&resident, &cpu, &start] {
    const double rss = ResidentBytes();
    if (rss >= 0) resident.Set(rss);
    const ProcStat stat = ReadProcStat();
    if (stat.ok) {
      // Only this hook advances the counter, so the difference is the CPU time since the last
      // collection (a second registration adds nothing).
      cpu.Increment(stat.cpu_seconds - cpu.value());
      if (stat.start_time_seconds > 0) start.Set(stat.start_time_seconds);
    }
  };
  sample();
  registry.AddCollectHook(std::move(sample)).Release();
}

}  // namespace pulse::metrics
