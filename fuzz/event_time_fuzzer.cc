// SPDX-License-Identifier: MIT
// Fuzz target: the event-time parsers (RFC 3339, epoch ms, either) and FormatEventTime. Whatever
// parses is in range and formats to text that parses back to the same time.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "fuzz/fuzz_util.h"
#include "pulse/core/time.h"

namespace {

using pulse::EventTime;

void CheckParsed(std::optional<EventTime> t, std::string_view text) {
  if (!t.has_value()) return;
  PULSE_FUZZ_CHECK(*t >= pulse::kMinEventTime && *t <= pulse::kMaxEventTime, *t);
  const std::string formatted = pulse::FormatEventTime(*t);
  const std::optional<EventTime> back = pulse::ParseRfc3339(formatted);
  PULSE_FUZZ_CHECK(back == t, std::string(text) << " -> " << *t << " -> " << formatted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = pulse::fuzz::AsText(data, size);
  const std::optional<EventTime> rfc = pulse::ParseRfc3339(text);
  const std::optional<EventTime> epoch = pulse::ParseEpochMillisText(text);
  const std::optional<EventTime> either = pulse::ParseEventTimeText(text);
  CheckParsed(rfc, text);
  CheckParsed(epoch, text);
  PULSE_FUZZ_CHECK(either == (epoch.has_value() ? epoch : rfc), text);
  // No text is both: epoch ms is digits only, RFC 3339 needs '-', ':' and a zone.
  PULSE_FUZZ_CHECK(!(rfc.has_value() && epoch.has_value()), text);

  // Any int64 formats without failing; times in range read back exactly.
  if (size >= sizeof(int64_t)) {
    int64_t t;
    std::memcpy(&t, data, sizeof(t));
    const std::string formatted = pulse::FormatEventTime(t);
    PULSE_FUZZ_CHECK(!formatted.empty(), t);
    if (t >= pulse::kMinEventTime && t <= pulse::kMaxEventTime) {
      PULSE_FUZZ_CHECK(pulse::ParseRfc3339(formatted) == std::optional<EventTime>(t),
                       t << " -> " << formatted);
      PULSE_FUZZ_CHECK(pulse::ParseEpochMillisText(std::to_string(t)) ==
                           std::optional<EventTime>(t),
                       t);
    }
  }
  return 0;
}
