// SPDX-License-Identifier: MIT
// EventTimeOf: the file source's event-time rules applied to a decoded record.
#include "pulse/io/event_time.h"

#include <fmt/format.h>

#include <optional>

namespace pulse::io {

std::string_view JsonTypePhrase(const Value& value) {
  switch (value.type()) {
    case Value::Type::kArray:
      return "an array";
    case Value::Type::kObject:
      return "an object";
    case Value::Type::kInt:
      return "an integer";
    case Value::Type::kDouble:
      return "a float";
    case Value::Type::kString:
      return "a string";
    case Value::Type::kBool:
      return "a boolean";
    case Value::Type::kNull:
      return "null";
  }
  return "a value";
}

Result<EventTime> EventTimeOf(const Value& record, std::string_view time_field, FileFormat format) {
  const Value* field = record.Find(time_field);
  if (format == FileFormat::kCsv) {
    if (field == nullptr) {
      return Status::InvalidArgument(fmt::format("no column '{}' in the header", time_field));
    }
    // Every CSV cell is a string; anything else did not come from a CSV row.
    if (field->is_string()) {
      if (std::optional<EventTime> t = ParseEventTimeText(field->as_string())) return *t;
      if (field->as_string().empty()) {
        return Status::InvalidArgument(fmt::format("time cell '{}' is empty", time_field));
      }
    }
    return Status::InvalidArgument(
        fmt::format("time cell '{}' is not epoch ms or an RFC 3339 time", time_field));
  }
  if (field == nullptr) {
    return Status::InvalidArgument(fmt::format("missing time field '{}'", time_field));
  }
  switch (field->type()) {
    case Value::Type::kInt: {
      const int64_t ms = field->as_int();
      if (ms >= kMinEventTime && ms <= kMaxEventTime) return ms;
      return Status::InvalidArgument(fmt::format("time field '{}' is out of range", time_field));
    }
    case Value::Type::kString: {
      if (std::optional<EventTime> t = ParseRfc3339(field->as_string())) return *t;
      return Status::InvalidArgument(
          fmt::format("time field '{}' is not an RFC 3339 time", time_field));
    }
    default:
      return Status::InvalidArgument(
          fmt::format("time field '{}' is {}, not an RFC 3339 string or integer epoch ms",
                      time_field, JsonTypePhrase(*field)));
  }
}

}  // namespace pulse::io
