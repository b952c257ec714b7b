// SPDX-License-Identifier: MIT
// JSON → record, by the rules every source shares (the file source's JSONL lines, Kafka
// message payloads): the value must be an object; its event time is the time field, an
// integer epoch ms or an RFC 3339 string within [kMinEventTime, kMaxEventTime] (a later
// duplicate field wins), or a time the caller gives (a Kafka message timestamp).
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/core/record.h"

namespace pulse::io::internal {

/// Why a JSON text gave no record, and a short description for the dead letter.
struct RecordProblem {
  BadReason reason;
  std::string error;
};

/// Where a record's event time comes from.
struct JsonRecordRules {
  std::string_view time_field;
  /// Fields kept in the record (empty: all).
  const std::vector<std::string>* projection = nullptr;
  /// When true, the event time is `given_time` (nullopt: the message has none, a
  /// bad_event_time) and `time_field` is not read.
  bool use_given_time = false;
  std::optional<EventTime> given_time;
};

/// Append the record of a parsed JSON text to `out` and return nullopt, or return the
/// problem (invalid_json or invalid_utf8 from `parse_error`, not_an_object, bad_event_time).
/// Requires: `root` is valid when parse_error is SUCCESS; its document outlives the call.
std::optional<RecordProblem> RecordFromJson(simdjson::error_code parse_error,
                                            simdjson::dom::element root,
                                            const JsonRecordRules& rules,
                                            std::vector<Record>* out);

/// Decodes whole JSON messages (Kafka payloads: no padding, any size) into records.
/// Not thread-safe: one per source.
class JsonMessageDecoder {
 public:
  /// Append the record of `payload` to `out` and return nullopt, or return the problem (an
  /// empty payload is invalid_json "empty message").
  std::optional<RecordProblem> Decode(std::string_view payload, const JsonRecordRules& rules,
                                      std::vector<Record>* out);

 private:
  simdjson::dom::parser parser_;
  std::string padded_;  // the payload followed by simdjson's padding
};

}  // namespace pulse::io::internal
