// SPDX-License-Identifier: MIT
// Formatting of the run summary and progress line.
#include "cli/summary.h"

#include <fmt/format.h>

#include "pulse/core/bad_record.h"
#include "pulse/core/time.h"

namespace pulse::cli {

std::string FormatBytes(uint64_t bytes) {
  constexpr double kUnit = 1000.0;
  if (bytes < 1000) return fmt::format("{} B", bytes);
  double v = static_cast<double>(bytes) / kUnit;
  for (const char* unit : {"KB", "MB", "GB"}) {
    if (v < kUnit) return fmt::format("{:.1f} {}", v, unit);
    v /= kUnit;
  }
  return fmt::format("{:.1f} TB", v);
}

std::string FormatSummary(const RunProgress& p) {
  uint64_t bad_total = 0;
  std::string reasons;
  for (int i = 0; i < kNumBadReasons; ++i) {
    auto reason = static_cast<BadReason>(i);
    if (reason == BadReason::kLate || reason == BadReason::kChannelFull) continue;
    uint64_t n = p.bad[i];
    if (n == 0) continue;
    bad_total += n;
    if (!reasons.empty()) reasons += ", ";
    reasons += fmt::format("{} {}", BadReasonName(reason), n);
  }
  std::string out = fmt::format("pulse: read {} records ({}) in {:.2f} s; wrote {} results; bad {}",
                                p.records_read, FormatBytes(p.bytes_read), p.seconds,
                                p.results_written, bad_total);
  if (bad_total > 0) out += fmt::format(" ({})", reasons);
  out += fmt::format("; late {}", p.bad[static_cast<int>(BadReason::kLate)]);
  if (uint64_t dropped = p.bad[static_cast<int>(BadReason::kChannelFull)]; dropped > 0) {
    out += fmt::format("; dropped {} (channel_full)", dropped);
  }
  if (p.cancelled) out += "; cancelled";
  if (p.resumed_from) out += fmt::format("; resumed from checkpoint {}", *p.resumed_from);
  if (p.checkpoints > 0) out += fmt::format("; {} checkpoints", p.checkpoints);
  return out;
}

std::string FormatStop(const RunProgress& p, std::string_view signal) {
  if (!p.cancelled) return "";
  const std::string windows =
      fmt::format("{} open window{}", p.open_windows, p.open_windows == 1 ? "" : "s");
  switch (p.end) {
    case RunEnd::kSuspended:
      return fmt::format("pulse: stopped by {}: the final checkpoint keeps {}; the output stays "
                         "in progress and the next run continues it",
                         signal, windows);
    case RunEnd::kDrained:
      return fmt::format("pulse: stopped by {} and drained: every window closed and written; "
                         "the output is published",
                         signal);
    case RunEnd::kStopped:
      return fmt::format("pulse: stopped by {} without checkpoints: {} discarded; the output "
                         "holds the {} result{} of the windows closed before the stop (--drain "
                         "closes and writes the open ones too, checkpoints keep them for the "
                         "next run)",
                         signal, windows, p.results_written, p.results_written == 1 ? "" : "s");
    case RunEnd::kDiscarded:
      return fmt::format("pulse: stopped by {} before the end of the input, without "
                         "checkpoints: {} discarded and the output not published, as it would "
                         "be partial (a file sink leaves no file; {} result{} written before "
                         "the stop); --drain closes and publishes every window, checkpoints let "
                         "the next run continue",
                         signal, windows, p.results_written,
                         p.results_written == 1 ? " was" : "s were");
    default:
      return fmt::format("pulse: stopped by {}", signal);
  }
}

std::string FormatProgress(const RunProgress& p) {
  double mb_per_s = p.seconds > 0 ? static_cast<double>(p.bytes_read) / 1e6 / p.seconds : 0.0;
  return fmt::format("pulse: {} records, {:.1f} MB/s, {} results, watermark {}{}", p.records_read,
                     mb_per_s, p.results_written, FormatEventTime(p.watermark),
                     p.idle ? " (input idle)" : "");
}

std::string FormatMissingFields(const std::vector<plan::FieldCheck::Missing>& missing) {
  if (missing.empty()) return "";
  std::string out = missing.size() == 1 ? "; missing field " : "; missing fields ";
  for (size_t i = 0; i < missing.size(); ++i) {
    const plan::FieldCheck::Missing& m = missing[i];
    if (i > 0) out += ", ";
    out += fmt::format("'{}' ({}", m.field, m.used_in);
    if (!m.suggestion.empty()) out += fmt::format("; did you mean '{}'?", m.suggestion);
    out += ")";
  }
  return out;
}

}  // namespace pulse::cli
