// SPDX-License-Identifier: MIT
#include "io/json_record.h"

#include <fmt/format.h>

#include "core/json_dom.h"
#include "pulse/core/time.h"

namespace pulse::io::internal {
namespace {

// The event time of the time field's value, or nullopt and a description.
std::optional<EventTime> FieldTime(const std::optional<simdjson::dom::element>& value,
                                   std::string_view name, std::string* error) {
  using simdjson::dom::element_type;
  if (!value.has_value()) {
    *error = fmt::format("missing time field '{}'", name);
    return std::nullopt;
  }
  switch (value->type()) {
    case element_type::INT64: {
      const int64_t ms = value->get_int64().value_unsafe();
      if (ms >= kMinEventTime && ms <= kMaxEventTime) return ms;
      break;
    }
    case element_type::UINT64:
      break;
    case element_type::STRING: {
      std::optional<EventTime> t = ParseRfc3339(value->get_string().value_unsafe());
      if (!t.has_value()) *error = fmt::format("time field '{}' is not an RFC 3339 time", name);
      return t;
    }
    default:
      *error = fmt::format("time field '{}' is {}, not an RFC 3339 string or integer epoch ms",
                           name, JsonTypePhrase(value->type()));
      return std::nullopt;
  }
  *error = fmt::format("time field '{}' is out of range", name);
  return std::nullopt;
}

}  // namespace

std::optional<RecordProblem> RecordFromJson(simdjson::error_code parse_error,
                                            simdjson::dom::element root,
                                            const JsonRecordRules& rules,
                                            std::vector<Record>* out) {
  if (parse_error != simdjson::SUCCESS) {
    return RecordProblem{
        parse_error == simdjson::UTF8_ERROR ? BadReason::kInvalidUtf8 : BadReason::kInvalidJson,
        simdjson::error_message(parse_error)};
  }
  if (root.type() != simdjson::dom::element_type::OBJECT) {
    return RecordProblem{BadReason::kNotAnObject, fmt::format("expected a JSON object, got {}",
                                                              JsonTypePhrase(root.type()))};
  }
  const simdjson::dom::object object = root.get_object().value_unsafe();
  std::optional<EventTime> time;
  std::string error;
  if (rules.use_given_time) {
    time = rules.given_time;
    if (!time.has_value()) error = "the message has no valid timestamp";
  } else {
    std::optional<simdjson::dom::element> value;
    for (simdjson::dom::key_value_pair field : object) {
      if (field.key == rules.time_field) value = field.value;  // a later duplicate wins
    }
    time = FieldTime(value, rules.time_field, &error);
  }
  if (!time.has_value()) return RecordProblem{BadReason::kBadEventTime, std::move(error)};
  const bool project = rules.projection != nullptr && !rules.projection->empty();
  out->push_back(Record{*time, FromSimdjsonObject(object, project ? rules.projection : nullptr)});
  return std::nullopt;
}

std::optional<RecordProblem> JsonMessageDecoder::Decode(std::string_view payload,
                                                        const JsonRecordRules& rules,
                                                        std::vector<Record>* out) {
  if (payload.empty()) return RecordProblem{BadReason::kInvalidJson, "empty message"};
  padded_.assign(payload.data(), payload.size());
  padded_.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::dom::element root;
  const simdjson::error_code parse_error =
      parser_.parse(padded_.data(), payload.size(), false).get(root);
  return RecordFromJson(parse_error, root, rules, out);
}

}  // namespace pulse::io::internal
