// SPDX-License-Identifier: MIT
#include "ops/window_parts.h"

#include <fmt/format.h>

#include <charconv>
#include <string>
#include <utility>

#include "pulse/core/json.h"

namespace pulse::ops::internal {

Status CorruptWindowState(std::string_view what) {
  return Status::Corruption(fmt::format("window state: {}", what));
}

KeyedResult WindowResult(int64_t start, int64_t end, std::string_view key_text, Object obj) {
  KeyedResult r;
  r.order_a = end;
  r.order_b = start;
  r.order_key = std::string(key_text);
  r.record.time = end - 1;
  r.record.value = Value(std::move(obj));
  return r;
}

Value KeyValueFromText(std::string_view text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"' &&
      text.find('\\') == std::string_view::npos) {
    return Value(std::string(text.substr(1, text.size() - 2)));
  }
  if (!text.empty() && (text.front() == '-' || (text.front() >= '0' && text.front() <= '9'))) {
    int64_t v = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec == std::errc() && ptr == end) return Value(v);
  }
  Result<Value> parsed = ParseJson(text);
  return parsed.ok() ? std::move(parsed).value() : Value(std::string(text));
}

void AppendOrderedInt64(int64_t v, std::string* out) {
  const uint64_t u = static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(u >> (56 - 8 * i));
  out->append(bytes, sizeof(bytes));  // one append: state keys are built per record and window
}

bool ReadOrderedInt64(std::string_view* in, int64_t* v) {
  if (in->size() < 8) return false;
  uint64_t u = 0;
  for (size_t i = 0; i < 8; ++i) u = (u << 8) | static_cast<unsigned char>((*in)[i]);
  in->remove_prefix(8);
  *v = static_cast<int64_t>(u ^ (uint64_t{1} << 63));
  return true;
}
}  // namespace pulse::ops::internal
