// SPDX-License-Identifier: MIT
// Record: one event (an event time and a JSON value) as it flows through a pipeline.
#pragma once

#include "pulse/core/time.h"
#include "pulse/core/value.h"

namespace pulse {

/// One event. `time` is the event time taken from the data (never the wall clock).
struct Record {
  EventTime time = 0;
  Value value;
};

}  // namespace pulse
