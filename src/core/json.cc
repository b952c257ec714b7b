// SPDX-License-Identifier: MIT
// Compact JSON writing (strings, ryu-style doubles) and simdjson-based parsing into Values.
#include "pulse/core/json.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/json_dom.h"

namespace pulse {
namespace {

// Decimal notation is used while the decimal exponent e (value = d.ddd × 10^e) is in this range.
constexpr int kMinDecimalExponent = -5;
constexpr int kMaxDecimalExponent = 15;

// Objects up to this size check for duplicate keys by a linear scan; larger ones use a hash map.
constexpr size_t kLinearDuplicateCheckLimit = 32;

// Characters that a JSON string must escape: '"', '\\' and the control characters below 0x20.
constexpr bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void AppendEscaped(unsigned char c, std::string* out) {
  switch (c) {
    case '"': out->append("\\\""); return;
    case '\\': out->append("\\\\"); return;
    case '\n': out->append("\\n"); return;
    case '\t': out->append("\\t"); return;
    case '\r': out->append("\\r"); return;
    case '\b': out->append("\\b"); return;
    case '\f': out->append("\\f"); return;
    default: {
      constexpr char kHex[] = "0123456789abcdef";
      const char seq[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out->append(seq, sizeof(seq));
    }
  }
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end);
}

Value FromSimdjsonArray(simdjson::dom::array arr) {
  Array items;
  items.reserve(arr.size());
  for (simdjson::dom::element el : arr) items.push_back(FromSimdjson(el));
  return Value(std::move(items));
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  size_t run_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!NeedsEscape(c)) continue;
    out->append(s.data() + run_start, i - run_start);
    AppendEscaped(c, out);
    run_start = i + 1;
  }
  out->append(s.data() + run_start, s.size() - run_start);
  out->push_back('"');
}

void AppendJsonDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  // Shortest round-trip digits in scientific form: "-d.ddde±XX".
  char sci[32];
  auto [sci_end, ec] = std::to_chars(sci, sci + sizeof(sci), d, std::chars_format::scientific);
  const char* p = sci;
  if (*p == '-') {
    out->push_back('-');
    ++p;
  }
  char digits[20];
  int num_digits = 0;
  for (; *p != 'e'; ++p) {
    if (*p != '.') digits[num_digits++] = *p;
  }
  ++p;  // 'e'
  const bool exp_negative = *p == '-';
  ++p;  // sign
  int exponent = 0;
  std::from_chars(p, sci_end, exponent);
  if (exp_negative) exponent = -exponent;

  if (exponent >= kMinDecimalExponent && exponent <= kMaxDecimalExponent) {
    if (exponent >= num_digits - 1) {
      // Whole number: all digits, padding zeros, then ".0".
      out->append(digits, num_digits);
      out->append(static_cast<size_t>(exponent - (num_digits - 1)), '0');
      out->append(".0");
    } else if (exponent >= 0) {
      out->append(digits, exponent + 1);
      out->push_back('.');
      out->append(digits + exponent + 1, num_digits - exponent - 1);
    } else {
      out->append("0.");
      out->append(static_cast<size_t>(-exponent - 1), '0');
      out->append(digits, num_digits);
    }
    return;
  }
  out->push_back(digits[0]);
  if (num_digits > 1) {
    out->push_back('.');
    out->append(digits + 1, num_digits - 1);
  }
  out->push_back('e');
  AppendInt(exponent, out);
}

void AppendJson(const Value& v, std::string* out) {
  switch (v.type()) {
    case Value::Type::kNull:
      out->append("null");
      return;
    case Value::Type::kBool:
      out->append(v.as_bool() ? "true" : "false");
      return;
    case Value::Type::kInt:
      AppendInt(v.as_int(), out);
      return;
    case Value::Type::kDouble:
      AppendJsonDouble(v.as_double(), out);
      return;
    case Value::Type::kString:
      AppendJsonString(v.as_string(), out);
      return;
    case Value::Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Value& item : v.as_array()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(item, out);
      }
      out->push_back(']');
      return;
    }
    case Value::Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, item] : v.as_object()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(key, out);
        out->push_back(':');
        AppendJson(item, out);
      }
      out->push_back('}');
      return;
    }
  }
}

Value FromSimdjson(simdjson::dom::element el) {
  using simdjson::dom::element_type;
  switch (el.type()) {
    case element_type::ARRAY:
      return FromSimdjsonArray(el.get_array().value_unsafe());
    case element_type::OBJECT:
      return FromSimdjsonObject(el.get_object().value_unsafe(), nullptr);
    case element_type::INT64:
      return Value(el.get_int64().value_unsafe());
    case element_type::UINT64:
      // Only integers beyond int64 are UINT64; Pulse keeps those as doubles.
      return Value(static_cast<double>(el.get_uint64().value_unsafe()));
    case element_type::DOUBLE:
      return Value(el.get_double().value_unsafe());
    case element_type::STRING:
      return Value(el.get_string().value_unsafe());
    case element_type::BOOL:
      return Value(el.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
      return Value();
  }
  return Value();
}

Value FromSimdjsonObject(simdjson::dom::object obj, const std::vector<std::string>* keep_fields) {
  const bool filter = keep_fields != nullptr && !keep_fields->empty();
  // size() saturates for huge objects; it is only a capacity hint and a threshold.
  const size_t max_members = filter ? std::min(obj.size(), keep_fields->size()) : obj.size();
  Object members;
  members.reserve(max_members);
  // Keys index into the document's string buffer, which outlives this call.
  std::unordered_map<std::string_view, size_t> position_of_key;
  const bool use_map = max_members > kLinearDuplicateCheckLimit;
  if (use_map) position_of_key.reserve(max_members);

  for (simdjson::dom::key_value_pair field : obj) {
    const std::string_view key = field.key;
    if (filter && std::find(keep_fields->begin(), keep_fields->end(), key) == keep_fields->end()) {
      continue;
    }
    size_t existing = members.size();
    if (use_map) {
      auto [it, inserted] = position_of_key.try_emplace(key, members.size());
      if (!inserted) existing = it->second;
    } else {
      for (size_t i = 0; i < members.size(); ++i) {
        if (members[i].first == key) {
          existing = i;
          break;
        }
      }
    }
    if (existing < members.size()) {
      members[existing].second = FromSimdjson(field.value);  // later duplicate wins
    } else {
      members.emplace_back(std::string(key), FromSimdjson(field.value));
    }
  }
  return Value(std::move(members));
}

Result<Value> ParseJson(std::string_view text) {
  // Small documents (window keys, inline data) reuse one parser per thread: a parser allocates
  // its buffers on first use, which would otherwise dominate. Large ones get their own, so that
  // no thread keeps a large buffer.
  constexpr size_t kReusedParserBytes = 64 * 1024;
  thread_local simdjson::dom::parser reused;
  simdjson::dom::parser own;
  simdjson::dom::parser& parser = text.size() <= kReusedParserBytes ? reused : own;
  simdjson::dom::element root;
  // parse() copies the text into a padded buffer of its own.
  const simdjson::error_code error = parser.parse(text.data(), text.size()).get(root);
  if (error != simdjson::SUCCESS) {
    return Status::InvalidArgument(std::string("invalid JSON: ") +
                                   simdjson::error_message(error));
  }
  return FromSimdjson(root);
}

std::string_view JsonTypePhrase(simdjson::dom::element_type type) {
  using simdjson::dom::element_type;
  switch (type) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
      return "an integer";
    case element_type::DOUBLE:
      return "a float";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

}  // namespace pulse
