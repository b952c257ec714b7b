// SPDX-License-Identifier: MIT
// RenderStatusReport: the status page with its data embedded, for `pulse run --report`.
#include "pulse/metrics/http/status_report.h"

#include <chrono>

#include "metrics/http/status_json.h"
#include "metrics/http/status_page.h"

namespace pulse::metrics {
namespace {

// The page's empty data block, which the report fills, and the tag the policy follows.
constexpr std::string_view kDataBlock = "<script id=\"pulse-data\" type=\"application/json\">";
constexpr std::string_view kCharset = "<meta charset=\"utf-8\">";
// No fetch, no external script, style, font or image: everything is in the file.
constexpr std::string_view kReportPolicy =
    "\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src "
    "'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">";

std::string_view StateName(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::kFinished:
      return "finished";
    case RunOutcome::kStopped:
      return "stopped";
    case RunOutcome::kFailed:
      return "failed";
  }
  return "finished";
}

// JSON inside <script>: "<" only occurs in strings, where \u003c means the same, so that no
// "</script>" or "<!--" can end or change the block.
std::string ForScriptBlock(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    if (c == '<') {
      out.append("\\u003c");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string RenderStatusReport(const Registry& registry, const StatusReportOptions& options) {
  internal::StatusContext context;
  context.title = options.title;
  context.stages = options.stages;
  context.running = false;
  context.state = StateName(options.outcome);
  context.error = options.error;
  context.now_ms = options.now_ms != 0 ? options.now_ms : SystemNowMs();
  context.history = options.history;
  const std::string data = ForScriptBlock(internal::StatusJson(registry.Collect(), context));

  std::string page(internal::kStatusPageHtml);
  const size_t charset = page.find(kCharset);
  if (charset != std::string::npos) page.insert(charset + kCharset.size(), kReportPolicy);
  const size_t block = page.find(kDataBlock);
  if (block != std::string::npos) page.insert(block + kDataBlock.size(), data);
  return page;
}

}  // namespace pulse::metrics
