// SPDX-License-Identifier: MIT
// Metrics registry and HTTP endpoint of the CLI commands; JSON log lines; debug spans.
#include "cli/observability.h"

#include <chrono>
#include <ctime>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include "pulse/core/env.h"
#include "pulse/core/json.h"
#include "pulse/core/output_file.h"
#include "pulse/metrics/http/status_report.h"

namespace pulse::cli {
namespace {

// How often `pulse serve` checks its stop flag.
constexpr std::chrono::milliseconds kServePollInterval{100};

// Extra JSON fields ("key":value,...) for the line being logged on this thread; set by
// LogSpan around its call, read by JsonFormatter, which spdlog runs on the logging thread.
thread_local const std::string* t_json_fields = nullptr;

// {"ts":"2024-01-01T00:00:00.000Z","level":"info","msg":"..."[,fields]}
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto since_epoch = msg.time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    const std::time_t t = static_cast<std::time_t>(seconds.count());
    std::tm utc{};
    gmtime_r(&t, &utc);
    line_.clear();
    fmt::format_to(std::back_inserter(line_),
                   "{{\"ts\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"level\":",
                   utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                   utc.tm_sec, ms);
    const auto level = spdlog::level::to_string_view(msg.level);
    AppendJsonString(std::string_view(level.data(), level.size()), &line_);
    line_.append(",\"msg\":");
    AppendJsonString(std::string_view(msg.payload.data(), msg.payload.size()), &line_);
    if (t_json_fields != nullptr && !t_json_fields->empty()) {
      line_.push_back(',');
      line_.append(*t_json_fields);
    }
    line_.append("}\n");
    dest.append(line_.data(), line_.data() + line_.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }

 private:
  std::string line_;
};

std::atomic<LogFormat> g_log_format{LogFormat::kText};

metrics::HttpEndpointOptions EndpointOptions(const HttpFlags& http, std::string title,
                                             std::vector<StageInfo> stages,
                                             const RunHistory* history = nullptr) {
  metrics::HttpEndpointOptions options;
  options.address = http.address;
  options.port = http.port;
  options.title = std::move(title);
  options.stages = std::move(stages);
  options.history = history;
  return options;
}

// Write `contents` to `path` under a temporary name and rename it into place.
Status WriteAtomically(const std::string& path, std::string_view contents) {
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<OutputFile> file, OutputFile::Create(path));
  PULSE_RETURN_IF_ERROR(file->Append(contents));
  return file->Commit();
}

}  // namespace

Result<std::unique_ptr<RunObservability>> RunObservability::Start(const HttpFlags& http,
                                                                  std::string title,
                                                                  const Pipeline& pipeline,
                                                                  std::string report_path) {
  std::unique_ptr<RunObservability> o(new RunObservability());
  o->title_ = std::move(title);
  o->stages_ = PipelineStages(pipeline);
  o->report_path_ = std::move(report_path);
  if (!o->report_path_.empty()) {
    // Fail now, not after the run, when the report cannot be written there.
    Result<FileInfo> existing = Env::Default().Stat(o->report_path_);
    if (existing.ok() && existing->type == FileType::kDirectory) {
      return Status::InvalidArgument(
          fmt::format("--report: '{}' is a directory; name the HTML file to write",
                      o->report_path_));
    }
    Result<std::unique_ptr<OutputFile>> probe = OutputFile::Create(o->report_path_);
    if (!probe.ok()) return probe.status().WithContext("--report");
    (*probe)->Abort();
  }
  metrics::RegisterProcessMetrics(o->registry_);
  RegisterRunMetrics(o->registry_, o->stages_);
  if (http.port != 0 || !o->report_path_.empty()) o->history_ = std::make_unique<RunHistory>();
  if (http.port != 0) {
    PULSE_ASSIGN_OR_RETURN(o->endpoint_, metrics::HttpEndpoint::Start(
                                             o->registry_, EndpointOptions(http, o->title_,
                                                                           o->stages_,
                                                                           o->history_.get())));
  }
  return o;
}

Status RunObservability::WriteReport(const Result<RunProgress>& result) {
  if (report_path_.empty()) return Status::OK();
  metrics::StatusReportOptions options;
  options.title = title_;
  options.stages = stages_;
  options.history = history_.get();
  if (!result.ok()) {
    options.outcome = metrics::RunOutcome::kFailed;
    options.error = result.status().message();
  } else if (result->cancelled) {
    options.outcome = metrics::RunOutcome::kStopped;
  }
  Status written =
      WriteAtomically(report_path_, metrics::RenderStatusReport(registry_, options));
  if (!written.ok()) return written.WithContext("--report");
  spdlog::info("wrote the run report {}", report_path_);
  return Status::OK();
}

RunObservability::~RunObservability() { Finish(); }

void RunObservability::Finish() {
  if (endpoint_ == nullptr) return;
  endpoint_->SetRunning(false);
  endpoint_->Stop();
}

Status Serve(const HttpFlags& http, const std::atomic<bool>& stop,
             const std::function<void(const std::string& url)>& on_listening) {
  metrics::Registry registry;
  metrics::RegisterProcessMetrics(registry);
  RegisterRunMetrics(registry);
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<metrics::HttpEndpoint> endpoint,
                         metrics::HttpEndpoint::Start(registry, EndpointOptions(http, "idle", {})));
  on_listening(endpoint->url());
  while (!stop.load()) std::this_thread::sleep_for(kServePollInterval);
  endpoint->SetRunning(false);
  endpoint->Stop();
  return Status::OK();
}

void SetLogFormat(LogFormat format) {
  g_log_format.store(format);
  if (format == LogFormat::kJson) {
    spdlog::default_logger()->set_formatter(std::make_unique<JsonFormatter>());
  }
}

void LogSpan(const StageSpan& span) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  const std::string worker = span.worker >= 0 ? fmt::format("[{}]", span.worker) : "";
  if (g_log_format.load() == LogFormat::kJson) {
    std::string fields = "\"stage\":";
    AppendJsonString(span.stage, &fields);
    fmt::format_to(std::back_inserter(fields),
                   ",\"worker\":{},\"batch\":{},\"received\":{},\"emitted\":{},\"elapsed_ms\":{:.3f}",
                   span.worker, span.batch, span.received, span.emitted, span.elapsed_ms);
    t_json_fields = &fields;
    spdlog::debug("span {}{}", span.stage, worker);
    t_json_fields = nullptr;
    return;
  }
  spdlog::debug("span {}{} batch {}: received {}, emitted {} in {:.3f} ms", span.stage, worker,
                span.batch, span.received, span.emitted, span.elapsed_ms);
}

}  // namespace pulse::cli
