// SPDX-License-Identifier: MIT
// Fuzz target: ParseDuration and FormatDuration. A parsed duration is within ±kMaxDurationMs and
// formats to text that parses back to it; an error is InvalidArgument quoting the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz/fuzz_util.h"
#include "pulse/core/time.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = pulse::fuzz::AsText(data, size);
  pulse::Result<pulse::DurationMs> d = pulse::ParseDuration(text);
  if (d.ok()) {
    PULSE_FUZZ_CHECK(*d >= -pulse::kMaxDurationMs && *d <= pulse::kMaxDurationMs, *d);
    const std::string formatted = pulse::FormatDuration(*d);
    pulse::Result<pulse::DurationMs> back = pulse::ParseDuration(formatted);
    PULSE_FUZZ_CHECK(back.ok() && *back == *d, std::string(text) << " -> " << *d << " -> "
                                                                 << formatted);
  } else {
    PULSE_FUZZ_CHECK(d.status().code() == pulse::StatusCode::kInvalidArgument,
                     d.status().ToString());
    PULSE_FUZZ_CHECK(d.status().message().rfind("invalid duration \"", 0) == 0,
                     d.status().message());
  }
  // Any int64 formats without failing (INT64_MIN included).
  if (size >= sizeof(int64_t)) {
    int64_t ms;
    std::memcpy(&ms, data, sizeof(ms));
    const std::string formatted = pulse::FormatDuration(ms);
    PULSE_FUZZ_CHECK(!formatted.empty(), ms);
    if (ms >= -pulse::kMaxDurationMs && ms <= pulse::kMaxDurationMs) {
      pulse::Result<pulse::DurationMs> back = pulse::ParseDuration(formatted);
      PULSE_FUZZ_CHECK(back.ok() && *back == ms, ms << " -> " << formatted);
    }
  }
  return 0;
}
