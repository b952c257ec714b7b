// SPDX-License-Identifier: MIT
// JsonObjectReader: the typed member reads and their one error format.
#include "pulse/core/json_reader.h"

#include <fmt/format.h>

namespace pulse {
namespace {

// "a string", "an integer", ...: what a member should have been, for errors.
std::string_view TypeName(Value::Type type) {
  switch (type) {
    case Value::Type::kNull:
      return "null";
    case Value::Type::kBool:
      return "a boolean";
    case Value::Type::kInt:
      return "an integer";
    case Value::Type::kDouble:
      return "a number";
    case Value::Type::kString:
      return "a string";
    case Value::Type::kArray:
      return "an array";
    case Value::Type::kObject:
      return "an object";
  }
  return "of the expected type";
}

}  // namespace

Result<JsonObjectReader> JsonObjectReader::Make(const Value& value, std::string document,
                                                StatusCode code) {
  JsonObjectReader reader(value, std::move(document), code);
  if (!value.is_object()) return reader.Error("is not an object");
  return reader;
}

const Value* JsonObjectReader::Find(std::string_view name) const { return value_->Find(name); }

Status JsonObjectReader::Invalid(std::string_view name, std::string_view what) const {
  return Status(code_, fmt::format("{}: \"{}\" {}", document_, name, what));
}

Status JsonObjectReader::Error(std::string_view what) const {
  return Status(code_, fmt::format("{} {}", document_, what));
}

Result<const Value*> JsonObjectReader::Member(std::string_view name) const {
  const Value* member = Find(name);
  if (member == nullptr) return Error(fmt::format("has no \"{}\"", name));
  return member;
}

Result<const Value*> JsonObjectReader::Typed(std::string_view name, Value::Type type) const {
  PULSE_ASSIGN_OR_RETURN(const Value* member, Member(name));
  if (member->type() != type) return Invalid(name, fmt::format("is not {}", TypeName(type)));
  return member;
}

Result<const Value*> JsonObjectReader::OptionalTyped(std::string_view name,
                                                     Value::Type type) const {
  const Value* member = Find(name);
  if (member == nullptr || member->is_null()) return static_cast<const Value*>(nullptr);
  if (member->type() != type) return Invalid(name, fmt::format("is not {}", TypeName(type)));
  return member;
}

Result<std::string> JsonObjectReader::String(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(const Value* member, Typed(name, Value::Type::kString));
  return member->as_string();
}

Result<bool> JsonObjectReader::Bool(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(const Value* member, Typed(name, Value::Type::kBool));
  return member->as_bool();
}

Result<int64_t> JsonObjectReader::Int(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(const Value* member, Typed(name, Value::Type::kInt));
  return member->as_int();
}

Result<int64_t> JsonObjectReader::IntAtLeast(std::string_view name, int64_t min) const {
  PULSE_ASSIGN_OR_RETURN(int64_t v, Int(name));
  if (v < min) return Invalid(name, fmt::format("is {}, below {}", v, min));
  return v;
}

Result<uint64_t> JsonObjectReader::Uint(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(int64_t v, IntAtLeast(name, 0));
  return static_cast<uint64_t>(v);
}

Result<const Array*> JsonObjectReader::List(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(const Value* member, Typed(name, Value::Type::kArray));
  return &member->as_array();
}

Result<const Object*> JsonObjectReader::Members(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(const Value* member, Typed(name, Value::Type::kObject));
  return &member->as_object();
}

Result<JsonObjectReader> JsonObjectReader::Child(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(const Value* member, Typed(name, Value::Type::kObject));
  return JsonObjectReader(*member, fmt::format("{} \"{}\"", document_, name), code_);
}

Result<std::vector<JsonObjectReader>> JsonObjectReader::Children(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(const Array* list, List(name));
  std::vector<JsonObjectReader> children;
  children.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    PULSE_ASSIGN_OR_RETURN(
        JsonObjectReader child,
        Make((*list)[i], fmt::format("{} \"{}\"[{}]", document_, name, i), code_));
    children.push_back(std::move(child));
  }
  return children;
}

Result<KeyGroupRange> JsonObjectReader::KeyGroups(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(const Array* pair, List(name));
  if (pair->size() != 2 || !(*pair)[0].is_int() || !(*pair)[1].is_int()) {
    return Invalid(name, "is not [begin, end]");
  }
  const int64_t begin = (*pair)[0].as_int();
  const int64_t end = (*pair)[1].as_int();
  if (begin < 0 || begin >= end || end > static_cast<int64_t>(kMaxKeyGroups)) {
    return Invalid(name, fmt::format("is [{}, {}), not a key-group range within [0, {})", begin,
                                     end, kMaxKeyGroups));
  }
  return KeyGroupRange{static_cast<uint32_t>(begin), static_cast<uint32_t>(end)};
}

Result<std::optional<std::string>> JsonObjectReader::OptionalString(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(const Value* member, OptionalTyped(name, Value::Type::kString));
  if (member == nullptr) return std::optional<std::string>();
  return std::optional<std::string>(member->as_string());
}

Result<std::optional<bool>> JsonObjectReader::OptionalBool(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(const Value* member, OptionalTyped(name, Value::Type::kBool));
  if (member == nullptr) return std::optional<bool>();
  return std::optional<bool>(member->as_bool());
}

Result<std::optional<int64_t>> JsonObjectReader::OptionalInt(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(const Value* member, OptionalTyped(name, Value::Type::kInt));
  if (member == nullptr) return std::optional<int64_t>();
  return std::optional<int64_t>(member->as_int());
}

Result<const Array*> JsonObjectReader::OptionalList(std::string_view name) const {
  PULSE_ASSIGN_OR_RETURN(const Value* member, OptionalTyped(name, Value::Type::kArray));
  if (member == nullptr) return static_cast<const Array*>(nullptr);
  return &member->as_array();
}

Status JsonObjectReader::CheckFormat(std::string_view format, int64_t version) const {
  PULSE_ASSIGN_OR_RETURN(std::string found_format, String("format"));
  PULSE_ASSIGN_OR_RETURN(int64_t found_version, Int("version"));
  if (found_format != format || found_version != version) {
    return Error(fmt::format("has format \"{}\" version {}; this Pulse reads \"{}\" version {}",
                             found_format, found_version, format, version));
  }
  return Status::OK();
}

Value KeyGroupsToJson(KeyGroupRange key_groups) {
  return Value(Array{Value(static_cast<int64_t>(key_groups.begin)),
                     Value(static_cast<int64_t>(key_groups.end))});
}

}  // namespace pulse
