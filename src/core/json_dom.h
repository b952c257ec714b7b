// SPDX-License-Identifier: MIT
// Conversion of simdjson DOM elements to Values, shared by ParseJson and the record readers.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/value.h"

namespace pulse {

/// Return `el` as a Value: integers that fit int64 stay ints; larger integers and all other
/// numbers become doubles; a duplicate object key replaces the earlier value in its first
/// position. Requires: the document that holds `el` outlives the call.
Value FromSimdjson(simdjson::dom::element el);

/// Return `obj` as an object Value, as FromSimdjson does. When `keep_fields` is non-null and
/// non-empty, only members whose key is in it are converted; the others are skipped unread.
/// `keep_fields` is borrowed for the call only.
Value FromSimdjsonObject(simdjson::dom::object obj, const std::vector<std::string>* keep_fields);

/// "an array", "an object", "an integer", "a float", "a string", "a boolean" or "null", for
/// messages such as "expected a JSON object, got an array".
std::string_view JsonTypePhrase(simdjson::dom::element_type type);

}  // namespace pulse
