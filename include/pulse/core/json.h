// SPDX-License-Identifier: MIT
// JSON text: compact writing of Values and parsing of single documents.
#pragma once

#include <string>
#include <string_view>

#include "pulse/core/status.h"
#include "pulse/core/value.h"

namespace pulse {

/// Append the compact JSON text of `v` to `out`.
/// Strings: `"` `\` and control characters are escaped (\n \t \r \b \f, others \u00XX);
/// other characters, non-ASCII included, are written raw.
/// Doubles: shortest text that reads back exactly. A whole number keeps ".0" (`3.0`); decimal
/// notation while the decimal exponent lies in [-5, 16) (`0.0001`, `1234567890123456.0`),
/// otherwise scientific with a bare exponent (`1e16`, `1e-6`, `1.5e-7`); NaN and ±inf as `null`.
void AppendJson(const Value& v, std::string* out);

/// Append `s` as a quoted, escaped JSON string.
void AppendJsonString(std::string_view s, std::string* out);

/// Append a double formatted as described for AppendJson.
void AppendJsonDouble(double d, std::string* out);

/// Parse one JSON document (used for configs, tests and inline data; the record readers use
/// their own fast path). Errors: InvalidArgument with the parser's reason.
Result<Value> ParseJson(std::string_view text);

}  // namespace pulse
