// SPDX-License-Identifier: MIT
// The text of the run summary and of the live progress line that `pulse run` shows on stderr.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <vector>

#include "pulse/core/executor.h"
#include "pulse/plan/plan.h"

namespace pulse::cli {

/// "812 B", "62.1 KB", "3.4 MB", "1.2 GB" (powers of 1000).
std::string FormatBytes(uint64_t bytes);

/// The one-line summary printed at the end of every run (no trailing newline), e.g.
/// "pulse: read 1000 records (62.1 KB) in 0.04 s; wrote 9 results; bad 2 (bad_event_time 1,
/// invalid_json 1); late 3". Bad reasons are listed in BadReason order, only when non-zero;
/// records dropped by the channel bound and a cancelled run are noted when they happen.
std::string FormatSummary(const RunProgress& progress);

/// For a run stopped by a signal (progress.cancelled; empty otherwise), one line (no trailing
/// newline) on what the stop did with the open windows and the outputs, by progress.end, e.g.
/// "pulse: stopped by SIGTERM: the final checkpoint keeps 9 open windows; the output stays in
/// progress and the next run continues it". `signal` names the signal ("SIGINT").
std::string FormatStop(const RunProgress& progress, std::string_view signal);

/// What the summary adds for fields the pipeline reads but the data never had: "" when none,
/// else e.g. "; missing field 'stauts' (ops.where; did you mean 'status'?)".
std::string FormatMissingFields(const std::vector<plan::FieldCheck::Missing>& missing);

/// The progress line (no carriage return or newline), e.g.
/// "pulse: 1200000 records, 45.3 MB/s, 12 results, watermark 2024-01-01T00:00:40.000Z".
std::string FormatProgress(const RunProgress& progress);

}  // namespace pulse::cli
