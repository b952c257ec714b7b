// SPDX-License-Identifier: MIT
// Gauge: see counter.h, which defines both lock-free cells.
#pragma once

#include "pulse/metrics/counter.h"
