// SPDX-License-Identifier: MIT
// Umbrella header: everything a program needs to build and run a Pulse pipeline.
#pragma once

#include "pulse/core/executor.h"
#include "pulse/core/json.h"
#include "pulse/core/pipeline.h"
#include "pulse/core/record.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/core/value.h"
#include "pulse/io/file.h"
#include "pulse/ops/map.h"
#include "pulse/ops/window.h"
