// SPDX-License-Identifier: MIT
// The `pulse` program: parses flags, runs, validates or tests a pipeline config, and is the one
// place that turns a Status into a message and an exit code (0 ok, 1 runtime failure or failed
// test, 2 bad config or test file, 130/143 a run stopped by SIGINT/SIGTERM without --drain).
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/config.h"
#include "cli/flag_hints.h"
#include "cli/observability.h"
#include "cli/reference.h"
#include "cli/summary.h"
#include "cli/test_file.h"
#include "golden/test_command.h"
#include "pulse/config.h"
#include "pulse/core/executor.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntimeError = 1;
constexpr int kExitUsage = 2;
// A run stopped by a signal exits 128 + the signal's number, as shells report a process the
// signal ended (130 for SIGINT, 143 for SIGTERM), unless --drain made it a normal finish.
constexpr int kExitSignalBase = 128;

std::atomic<bool> g_stop{false};
std::atomic<int> g_stop_signal{0};  // the first SIGINT or SIGTERM
// --log-format; set once after the flags are parsed.
pulse::cli::LogFormat g_log_format = pulse::cli::LogFormat::kText;

// The signal that wakes threads blocked in a system call once a stop is requested; its handler
// does nothing, and without SA_RESTART the call fails with EINTR and the thread sees g_stop.
constexpr int kWakeSignal = SIGUSR2;
// How often the watcher re-sends the wake signal while the run drains: a thread that checked
// the flag just before blocking is woken by the next one.
constexpr long kWakeIntervalNs = 100'000'000;

extern "C" void OnWakeSignal(int /*signo*/) {}

const char* SignalName(int signo) { return signo == SIGTERM ? "SIGTERM" : "SIGINT"; }

// Turns SIGINT/SIGTERM into g_stop. The signals are blocked in every thread (the executor's
// threads inherit the mask) and taken by sigtimedwait on the watcher thread, so no handler runs
// inside engine code. The first one sets g_stop (and g_stop_signal), says what stopping does
// (`stopping`, e.g. "taking a final checkpoint"), and wakes blocked threads; a second one exits
// at once with 128 + its number, leaving the outputs as a crash would (checkpoints: the last
// one stands; without: in-progress files unpublished).
class StopSignals {
 public:
  explicit StopSignals(std::string stopping = "") : stopping_(std::move(stopping)) {
    struct sigaction wake = {};
    wake.sa_handler = OnWakeSignal;
    sigemptyset(&wake.sa_mask);
    wake.sa_flags = 0;
    sigaction(kWakeSignal, &wake, nullptr);

    sigemptyset(&stop_set_);
    sigaddset(&stop_set_, SIGINT);
    sigaddset(&stop_set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set_, nullptr);
    watcher_ = std::thread([this] { Watch(); });
  }

  ~StopSignals() {
    done_.store(true);
    watcher_.join();
  }

  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void Watch() {
    const struct timespec interval = {0, kWakeIntervalNs};
    int signals = 0;
    while (!done_.load()) {
      int signo = sigtimedwait(&stop_set_, nullptr, &interval);
      if (signo == SIGINT || signo == SIGTERM) {
        if (++signals > 1) _exit(kExitSignalBase + signo);
        g_stop_signal.store(signo);
        g_stop.store(true);
        const std::string message =
            fmt::format("{}: stopping{}; press Ctrl-C again to quit at once", SignalName(signo),
                        stopping_.empty() ? "" : ", " + stopping_);
        if (g_log_format == pulse::cli::LogFormat::kJson) {
          spdlog::info("{}", message);
        } else {
          fmt::print(stderr, "\npulse: {}\n", message);
        }
      }
      if (g_stop.load() && !done_.load()) WakeOtherThreads();
    }
  }

  // Send kWakeSignal to every other thread of the process.
  static void WakeOtherThreads() {
    const pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
      const pid_t tid = static_cast<pid_t>(std::atoi(entry.path().filename().c_str()));
      if (tid > 0 && tid != self) syscall(SYS_tgkill, getpid(), tid, kWakeSignal);
    }
  }

  const std::string stopping_;
  sigset_t stop_set_;
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

// Logs go to stderr only; the level comes from PULSE_LOG (debug, info, warn, error).
void InitLogging() {
  auto logger = spdlog::stderr_color_mt("pulse");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);
  const char* env = std::getenv("PULSE_LOG");
  if (env == nullptr || *env == '\0') return;
  std::string level(env);
  if (level == "debug") {
    spdlog::set_level(spdlog::level::debug);
  } else if (level == "info") {
    spdlog::set_level(spdlog::level::info);
  } else if (level == "warn" || level == "warning") {
    spdlog::set_level(spdlog::level::warn);
  } else if (level == "error") {
    spdlog::set_level(spdlog::level::err);
  } else {
    spdlog::warn("ignoring PULSE_LOG={}: expected debug, info, warn or error", level);
  }
}

// CLI11 messages can span lines; the contract is one line on stderr.
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

int Fail(int code, const std::string& message) {
  if (g_log_format == pulse::cli::LogFormat::kJson) {
    spdlog::error("{}", OneLine(message));
    return code;
  }
  fmt::print(stderr, "error: {}\n", OneLine(message));
  return code;
}

// The original's opt-in lossy bound: unset, unparsable or <= 0 disables it.
uint64_t ChannelBoundFromEnv() {
  const char* env = std::getenv("PULSE_CHANNEL_BOUND");
  if (env == nullptr || *env == '\0') return 0;
  char* end = nullptr;
  long long v = std::strtoll(env, &end, 10);
  if (*end != '\0') {
    spdlog::warn("ignoring PULSE_CHANNEL_BOUND={}: not an integer", env);
    return 0;
  }
  return v > 0 ? static_cast<uint64_t>(v) : 0;
}

// Redraws the progress line at most once a second (from the executor's monitor thread).
class ProgressLine {
 public:
  void Update(const pulse::RunProgress& progress) {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    drawn_ = true;
    fmt::print(stderr, "\r\033[K{}", pulse::cli::FormatProgress(progress));
    std::fflush(stderr);
  }

  // Erase the line so that the summary takes its place.
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    if (drawn_) fmt::print(stderr, "\r\033[K");
    drawn_ = false;
  }

 private:
  std::mutex mu_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

struct RunFlags {
  std::string config_path;
  int workers = 0;
  size_t batch_size = pulse::RunOptions{}.batch_size;
  pulse::cli::HttpFlags http;  // port 0: no HTTP server
  std::string checkpoint_dir;       // overrides [checkpoint] dir
  std::string checkpoint_interval;  // overrides [checkpoint] interval
  bool fresh = false;
  bool drain = false;        // a stop closes and writes every window (StopMode::kDrain)
  std::string report_path;  // --report: the run report written at the end
};

// Bad flags are usage errors (2); an address that cannot be bound is a runtime failure (1).
int ExitCodeFor(const pulse::Status& status) {
  return status.code() == pulse::StatusCode::kInvalidArgument ? kExitUsage : kExitRuntimeError;
}

int RunCommand(const RunFlags& flags) {
  pulse::Result<pulse::cli::PipelineConfig> config = pulse::cli::LoadConfig(flags.config_path);
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  if (!flags.checkpoint_dir.empty()) config->checkpoint.dir.value = flags.checkpoint_dir;
  if (!flags.checkpoint_interval.empty()) {
    pulse::Result<pulse::DurationMs> interval = pulse::ParseDuration(flags.checkpoint_interval);
    if (!interval.ok() || *interval <= 0) {
      return Fail(kExitUsage, fmt::format("--checkpoint-interval: expected a duration greater "
                                          "than 0 such as \"10s\" or \"500ms\"; got \"{}\"",
                                          flags.checkpoint_interval));
    }
    config->checkpoint.interval.value = *interval;
  }
  if (flags.fresh && config->checkpoint.dir.value.empty()) {
    return Fail(kExitUsage, "--fresh needs checkpoints: set [checkpoint] dir or --checkpoint-dir");
  }
  if (!flags.checkpoint_interval.empty() && config->checkpoint.dir.value.empty()) {
    return Fail(kExitUsage, "--checkpoint-interval needs checkpoints: add --checkpoint-dir DIR "
                            "or set [checkpoint] dir");
  }
  pulse::Result<pulse::cli::BuiltPipeline> built = pulse::cli::BuildRun(*config);
  if (!built.ok()) return Fail(kExitUsage, built.status().message());
  pulse::Pipeline* pipeline = &built->pipeline;
  // The built source knows whether its input ends (standard input: a file or a pipe).
  for (std::string& warning :
       pulse::cli::TimeWarnings(*config, pipeline->parts().source->Unbounded())) {
    config->warnings.push_back(std::move(warning));
  }
  for (const std::string& warning : config->warnings) spdlog::warn("{}", warning);

  // Before any thread starts (the HTTP server's too), so that every thread blocks the signals.
  const bool checkpoints = !config->checkpoint.dir.value.empty();
  StopSignals stop_signals(flags.drain    ? "closing and writing every open window (--drain)"
                           : checkpoints ? "taking a final checkpoint that keeps the open windows"
                                         : "discarding the open windows (no checkpoints)");
  pulse::Result<std::unique_ptr<pulse::cli::RunObservability>> observability =
      pulse::cli::RunObservability::Start(flags.http, flags.config_path, *pipeline,
                                          flags.report_path);
  if (!observability.ok()) {
    return Fail(ExitCodeFor(observability.status()), observability.status().message());
  }
  if (pulse::metrics::HttpEndpoint* endpoint = (*observability)->endpoint()) {
    spdlog::info("serving /metrics on {}metrics (status page: {})", endpoint->url(),
                 endpoint->url());
  }

  pulse::RunOptions options;
  options.metrics = &(*observability)->registry();
  // Fields the plan reads that the data does not have: a warning each, a metric, the summary.
  const std::shared_ptr<pulse::plan::FieldCheck> field_check = built->field_check;
  if (field_check != nullptr) {
    field_check->OnWarning([](std::string_view w) { spdlog::warn("{}", w); });
    field_check->CountIn(&options.metrics->GetCounter(
        "pulse_plan_missing_fields_total",
        "Fields that the pipeline reads (where, key, aggregates) and that none of the first "
        "10000 records has"));
  }
  options.history = (*observability)->history();
  if (spdlog::should_log(spdlog::level::debug)) options.on_span = pulse::cli::LogSpan;
  options.workers = flags.workers;
  options.batch_size = flags.batch_size;
  options.channel_bound = ChannelBoundFromEnv();
  options.stop = &g_stop;
  options.on_stop = flags.drain ? pulse::StopMode::kDrain : pulse::StopMode::kLeaveOpen;
  options.checkpoint = pulse::cli::MakeCheckpointOptions(*config);
  options.checkpoint.fresh = flags.fresh;
  options.checkpoint.on_warning = [](std::string_view w) { spdlog::warn("{}", w); };
  ProgressLine progress_line;
  // The progress line is for people: not in JSON mode.
  if (isatty(STDERR_FILENO) != 0 && g_log_format == pulse::cli::LogFormat::kText) {
    options.on_progress = [&progress_line](const pulse::RunProgress& p) {
      progress_line.Update(p);
    };
  }
  spdlog::debug("running {} with {} workers, batches of {}", flags.config_path,
                flags.workers == 0 ? std::string("one per core") : std::to_string(flags.workers),
                flags.batch_size);

  pulse::Result<pulse::RunProgress> result = pulse::Run(std::move(*pipeline), options);
  progress_line.Clear();
  const pulse::Status report = (*observability)->WriteReport(result);
  if (!report.ok() && !result.ok()) spdlog::error("{}", report.message());
  if (!result.ok()) {
    // A checkpoint of another pipeline, or a stage that cannot be checkpointed, is a usage
    // error (2) found only once the run starts; anything else is a runtime failure (1).
    std::string message = result.status().message();
    int code = kExitRuntimeError;
    if (message.find("was taken by a different pipeline") != std::string::npos) {
      message += "; run with --fresh to start over (the old checkpoints are replaced)";
      code = kExitUsage;
    } else if (message.find("cannot be checkpointed") != std::string::npos) {
      code = kExitUsage;
    }
    return Fail(code, message);
  }
  // The summary, then what a stop did, then the config's warnings again (probable mistakes).
  std::string summary = pulse::cli::FormatSummary(*result);
  if (field_check != nullptr) {
    field_check->Finish();
    summary += pulse::cli::FormatMissingFields(field_check->missing());
  }
  std::vector<std::string> lines = {summary};
  const int signo = g_stop_signal.load();
  if (result->cancelled) lines.push_back(pulse::cli::FormatStop(*result, SignalName(signo)));
  for (const std::string& warning : config->warnings) {
    lines.push_back("pulse: warning: " + warning);
  }
  for (const std::string& line : lines) {
    if (g_log_format == pulse::cli::LogFormat::kJson) {
      spdlog::info("{}", line);
    } else {
      fmt::print(stderr, "{}\n", line);
    }
  }
  (*observability)->Finish();
  if (!report.ok()) return Fail(kExitRuntimeError, report.message());
  // A drained run is a normal finish (as Flink's stop --drain); any other stop reports the
  // signal.
  if (result->cancelled && result->end != pulse::RunEnd::kDrained) {
    return kExitSignalBase + (signo != 0 ? signo : SIGINT);
  }
  return kExitOk;
}

int ServeCommand(const pulse::cli::HttpFlags& flags) {
  StopSignals stop_signals;
  pulse::Status status = pulse::cli::Serve(flags, g_stop, [](const std::string& url) {
    spdlog::info("serving /metrics on {}metrics (status page: {})", url, url);
  });
  if (!status.ok()) return Fail(ExitCodeFor(status), status.message());
  return kExitOk;
}

int ValidateCommand(const std::string& path) {
  pulse::Result<pulse::cli::PipelineConfig> config = pulse::cli::LoadConfig(path);
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  for (const std::string& warning : config->warnings) spdlog::warn("{}", warning);
  // From the config alone: what a run would warn about if its input were unbounded.
  for (const std::string& warning :
       pulse::cli::TimeWarnings(*config, !pulse::cli::UnboundedSource(*config).empty())) {
    spdlog::warn("{}", warning);
  }
  pulse::Result<pulse::Pipeline> pipeline = pulse::cli::BuildPipeline(*config);
  if (!pipeline.ok()) return Fail(kExitUsage, pipeline.status().message());
  fmt::print("{}: OK\n{}", path, pulse::cli::DescribePlan(*config));
  const std::string tests = pulse::cli::TestFileFor(path);
  std::error_code ec;
  if (std::filesystem::exists(tests, ec)) {
    fmt::print("{:<13}{} (run: pulse test {})\n", "tests:", tests, tests);
  } else {
    fmt::print("{:<13}none; write golden tests in {} and run pulse test (see "
               "docs/testing-pipelines.md)\n",
               "tests:", tests);
  }
  return kExitOk;
}

// `pulse test`: the golden-test runner (src/golden) with this program's test-file reader.
int TestCommand(const pulse::golden::TestCommandOptions& options) {
  pulse::golden::TestCommandOutcome outcome = pulse::golden::RunTestCommand(
      options, pulse::cli::LoadTestFile,
      [](std::string_view text) {
        fmt::print("{}", text);
        std::fflush(stdout);
      },
      [](std::string_view message) { Fail(kExitUsage, std::string(message)); });
  if (outcome.broken_files > 0 || outcome.output_failed) return kExitUsage;
  return outcome.failed > 0 ? kExitRuntimeError : kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  InitLogging();
  // Past a file-size limit, write(2) should fail with EFBIG (reported like a full disk) rather
  // than the signal killing the process before it can say so.
  ::signal(SIGXFSZ, SIG_IGN);

  CLI::App app{"Pulse: event-time windows over JSON lines and CSV, from a pipeline.toml",
               "pulse"};
  app.set_version_flag("--version", std::string("pulse ") + PULSE_VERSION,
                       "Print the version and exit");
  app.require_subcommand(1);
  // Options of the program (--log-format) may also follow the subcommand.
  app.fallthrough();
  std::string log_format = "text";
  app.add_option("--log-format", log_format, "Log lines on stderr: text or json (JSON lines)")
      ->check(CLI::IsMember({"text", "json"}));

  RunFlags run_flags;
  CLI::App* run = app.add_subcommand("run", "Run a pipeline from a pipeline.toml");
  run->add_option("-c,--config", run_flags.config_path, "Pipeline config file (TOML)")
      ->required();
  run->add_option("--workers", run_flags.workers,
                  "Threads for keyed window work (default: one per core)")
      ->check(CLI::Range(1, 4096));
  run->add_option("--batch-size", run_flags.batch_size, "Records per batch between stages")
      ->check(CLI::Range(1, 1 << 24));
  run->add_option("--http-port", run_flags.http.port,
                  "Serve /metrics, /healthz and the status page (/) on this port while the "
                  "pipeline runs (0: off)")
      ->check(CLI::Range(0, 65535));
  run->add_option("--http-addr", run_flags.http.address,
                  "Address for --http-port (default 127.0.0.1: this machine only)");
  run->add_option("--checkpoint-dir", run_flags.checkpoint_dir,
                  "Take checkpoints in DIR and resume from its newest one ([checkpoint] dir)");
  run->add_option("--checkpoint-interval", run_flags.checkpoint_interval,
                  "Time between checkpoints, e.g. 10s ([checkpoint] interval)");
  run->add_flag("--fresh", run_flags.fresh,
                "Ignore existing checkpoints and start over (they are replaced)");
  run->add_flag("--drain", run_flags.drain,
                "On Ctrl-C/SIGTERM close every open window, write it and publish the output "
                "(exit 0), instead of keeping the windows in a final checkpoint (or discarding "
                "them without checkpoints) and exiting 130/143");
  run->add_option("--report", run_flags.report_path,
                  "When the run ends (also when it fails or is stopped), write the status page "
                  "with the run's history to FILE as one self-contained HTML file");

  pulse::cli::HttpFlags serve_flags;
  serve_flags.port = 9898;
  CLI::App* serve = app.add_subcommand(
      "serve", "Serve /metrics (all at zero), /healthz and the status page of an idle process "
               "until Ctrl-C");
  serve->add_option("--port", serve_flags.port, "TCP port (default 9898)")
      ->check(CLI::Range(1, 65535));
  serve->add_option("--http-addr", serve_flags.address, "Address (default 127.0.0.1)");

  std::string validate_path;
  CLI::App* validate =
      app.add_subcommand("validate", "Check a pipeline config and print its plan");
  validate->add_option("config,-c,--config", validate_path, "Pipeline config file (TOML)")
      ->required();

  pulse::golden::TestCommandOptions test_options;
  CLI::App* test = app.add_subcommand(
      "test", "Run golden tests of pipelines: cases with input, watermark steps and expected "
              "results (exit 0 all pass, 1 a case failed, 2 a broken test file)");
  test->add_option("files", test_options.files, "Test files (e.g. pipeline.test.toml)")
      ->required();
  test->add_option("--junit", test_options.junit_path, "Also write a JUnit XML report to FILE");
  test->add_flag("--update", test_options.update,
                 "Rewrite each failing case's expected_file from its actual results (inline "
                 "expected arrays are printed to paste)");
  test->add_flag("-v,--verbose", test_options.verbose, "Show the details of passing cases too");

  // Hidden: prints docs/configuration.md (generated from the key declarations).
  CLI::App* reference = app.add_subcommand(
      "config-reference", "Print the configuration reference (Markdown) of every key");
  reference->group("");

  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: stdout, exit 0
    // The error is a log line like any other: JSON under --log-format json.
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--log-format=json" ||
          (args[i] == "--log-format" && i + 1 < args.size() && args[i + 1] == "json")) {
        log_format = "json";
      }
    }
    if (log_format == "json") {
      g_log_format = pulse::cli::LogFormat::kJson;
      pulse::cli::SetLogFormat(g_log_format);
    }
    return Fail(kExitUsage, pulse::cli::DescribeParseError(app, args, e));
  }

  if (log_format == "json") {
    g_log_format = pulse::cli::LogFormat::kJson;
    pulse::cli::SetLogFormat(g_log_format);
  }
  if (run->parsed()) return RunCommand(run_flags);
  if (serve->parsed()) return ServeCommand(serve_flags);
  if (validate->parsed()) return ValidateCommand(validate_path);
  if (test->parsed()) return TestCommand(test_options);
  if (reference->parsed()) {
    fmt::print("{}", pulse::cli::ConfigReference());
    return kExitOk;
  }
  return Fail(kExitUsage, "no command given (see 'pulse --help')");
}
