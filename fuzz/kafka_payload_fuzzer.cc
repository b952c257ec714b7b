// SPDX-License-Identifier: MIT
// Fuzz target: a Kafka message payload decoded into a record (io::internal::JsonMessageDecoder,
// what the Kafka source runs on every message, without a broker). The first byte selects the
// rules; the rest is the payload. Checks: a decoded record has a time in range and an object
// value whose JSON text reads back equal, holding only the projected fields; a problem has a
// reason a source may give and a description; the same payload decodes the same way twice.
//
// Option bits: 0 event time from the message timestamp instead of a field; 1 the message has a
// valid timestamp; 2 keep only the fields "ts" and "v"; 3 time field "event_time" (else "ts").
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "io/json_record.h"

namespace {

using pulse::BadReason;
using pulse::Record;
using pulse::io::internal::JsonMessageDecoder;
using pulse::io::internal::JsonRecordRules;
using pulse::io::internal::RecordProblem;

std::string Describe(const std::optional<RecordProblem>& problem, const std::vector<Record>& out) {
  if (problem) {
    return std::string(pulse::BadReasonName(problem->reason)) + ": " + problem->error;
  }
  std::string text = std::to_string(out.back().time) + " ";
  pulse::AppendJson(out.back().value, &text);
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t options = data[0];
  const std::string_view payload = pulse::fuzz::AsText(data + 1, size - 1);
  static const std::vector<std::string> kProjection = {"ts", "v"};
  JsonRecordRules rules;
  rules.time_field = (options & 8) != 0 ? "event_time" : "ts";
  rules.projection = (options & 4) != 0 ? &kProjection : nullptr;
  rules.use_given_time = (options & 1) != 0;
  if ((options & 2) != 0) rules.given_time = 1'700'000'000'000;

  static JsonMessageDecoder decoder;  // reused across inputs, as a source reuses it
  std::vector<Record> out;
  const std::optional<RecordProblem> problem = decoder.Decode(payload, rules, &out);
  if (problem) {
    PULSE_FUZZ_CHECK(out.empty(), "a problem and a record");
    PULSE_FUZZ_CHECK(!problem->error.empty(), pulse::BadReasonName(problem->reason));
    const BadReason r = problem->reason;
    PULSE_FUZZ_CHECK(r == BadReason::kInvalidJson || r == BadReason::kInvalidUtf8 ||
                         r == BadReason::kNotAnObject || r == BadReason::kBadEventTime,
                     pulse::BadReasonName(r));
    PULSE_FUZZ_CHECK(!(r == BadReason::kBadEventTime && rules.use_given_time && rules.given_time),
                     "a given time was refused");
    PULSE_FUZZ_CHECK(!payload.empty() || r == BadReason::kInvalidJson, "empty payload");
  } else {
    PULSE_FUZZ_CHECK(out.size() == 1, out.size());
    const Record& rec = out.back();
    PULSE_FUZZ_CHECK(rec.time >= pulse::kMinEventTime && rec.time <= pulse::kMaxEventTime,
                     rec.time);
    if (rules.use_given_time) PULSE_FUZZ_CHECK(rec.time == *rules.given_time, rec.time);
    PULSE_FUZZ_CHECK(rec.value.is_object(), "not an object");
    for (const auto& [key, value] : rec.value.as_object()) {
      PULSE_FUZZ_CHECK(rules.projection == nullptr || key == "ts" || key == "v", key);
    }
    std::string text;
    pulse::AppendJson(rec.value, &text);
    pulse::Result<pulse::Value> back = pulse::ParseJson(text);
    PULSE_FUZZ_CHECK(back.ok(), text);
    PULSE_FUZZ_CHECK(*back == rec.value, text);
  }
  // The decoder keeps no state between messages.
  std::vector<Record> again;
  const std::optional<RecordProblem> second = decoder.Decode(payload, rules, &again);
  PULSE_FUZZ_CHECK(Describe(second, again) == Describe(problem, out), Describe(problem, out));
  return 0;
}
