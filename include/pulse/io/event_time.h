// SPDX-License-Identifier: MIT
// The event time of a decoded record: the rules of the file source, for sources that hold
// records as Values (e.g. the in-memory source of `pulse test`).
#pragma once

#include <string_view>

#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/core/value.h"
#include "pulse/io/file.h"

namespace pulse::io {

/// Return the event time of `record`, read from its top-level member `time_field` as the file
/// source reads it for `format`:
///  - kJsonl: an RFC 3339 string, or an integer of epoch milliseconds;
///  - kCsv: a cell (a string) of epoch-ms digits or an RFC 3339 time.
/// Times outside [kMinEventTime, kMaxEventTime] are rejected.
/// Errors: InvalidArgument whose message is the error text the file source gives the bad record
/// (reason bad_event_time), e.g. "missing time field 'event_time'" or "time cell 'ts' is empty".
/// (An integer beyond int64, which a Value holds as a double, is reported as a float here and as
/// out of range by the file source; both make the record bad.) Requires: `record` is an object.
Result<EventTime> EventTimeOf(const Value& record, std::string_view time_field,
                              FileFormat format = FileFormat::kJsonl);

/// Return what the file source calls a JSON value's type in messages: "an object", "an array",
/// "an integer", "a float", "a string", "a boolean" or "null".
std::string_view JsonTypePhrase(const Value& value);

}  // namespace pulse::io
