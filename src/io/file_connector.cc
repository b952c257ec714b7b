// SPDX-License-Identifier: MIT
// The file source and file sink as registry connectors: their config keys, plan lines and
// checkpoint fingerprints, and factories that validate the options they build.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "pulse/core/connector_registry.h"
#include "pulse/io/file.h"

namespace pulse::io {
namespace {

constexpr std::string_view kFormats[] = {"jsonl", "csv"};
constexpr std::string_view kOnErrors[] = {"skip", "fail"};
constexpr int64_t kDefaultMaxLineBytes = 16 << 20;

constexpr ConfigKey kFileSourceKeys[] = {
    {.name = "path",
     .doc = "a file, a glob (files read in sorted order) or `\"-\"` for standard input",
     .required = true,
     .path = ConfigPath::kInputFile},
    {.name = "time_field",
     .type = ConfigType::kNonEmptyString,
     .doc = "top-level field with the event time: an RFC 3339 string or integer epoch ms (in "
            "CSV: a cell of epoch-ms digits or an RFC 3339 time)",
     .default_text = "event_time"},
    {.name = "format",
     .type = ConfigType::kChoice,
     .doc = "`\"jsonl\"` (JSON lines) or `\"csv\"` (header row, RFC 4180 quoting, quoted "
            "newlines)",
     .default_text = "jsonl",
     .choices = kFormats},
    {.name = "follow",
     .type = ConfigType::kBool,
     .doc = "keep reading the file (every file of a glob) by name as it grows, across log "
            "rotation and new files, until the run is stopped (see running-continuously.md)"},
    {.name = "poll_interval",
     .type = ConfigType::kDuration,
     .doc = "with `follow`: how often the names are looked at for rotated, removed and new "
            "files (appended lines are read within 10 ms); standard input: how long a read "
            "waits for input before the run sees time pass",
     .default_number = 100,
     .min = 1},
    {.name = "rotate_wait",
     .type = ConfigType::kDuration,
     .doc = "with `follow`: a file that rotation renamed or removed is read until it has not "
            "grown for this long",
     .default_number = 10'000,
     .min = 0},
    {.name = "max_line_bytes",
     .type = ConfigType::kInt,
     .doc = "longer lines (CSV records) are bad records (`line_too_long`)",
     .default_number = kDefaultMaxLineBytes,
     .min = 1},
    {.name = "on_error",
     .type = ConfigType::kChoice,
     .doc = "a malformed record: `\"skip\"` (count it, dead-letter it) or `\"fail\"` (stop the "
            "run)",
     .default_text = "skip",
     .choices = kOnErrors},
    {.name = "decode_threads",
     .type = ConfigType::kInt,
     .doc = "threads that parse lines in parallel (records keep their input order); 0: as many "
            "as `--workers` when that is 2 or more, else parse on the reading thread; not used "
            "with `follow`",
     .min = 0,
     .max = FileSourceOptions::kMaxDecodeThreads},
};

std::string Quoted(std::string_view s) { return fmt::format("\"{}\"", s); }

std::vector<std::string> DescribeFileSource(const ConnectorConfig& c) {
  const std::string& path = c.String("path");
  const std::string where = path == "-" ? std::string("standard input") : Quoted(path);
  return {fmt::format("file {} ({}{}), event time from field {}", where, c.String("format"),
                      c.Bool("follow") ? ", follow" : "", Quoted(c.String("time_field")))};
}

std::string FileSourceFingerprint(const ConnectorConfig& c) {
  return fmt::format("file {} {}", c.String("path"), c.String("format"));
}

std::string FileSourceUnbounded(const ConnectorConfig& c) {
  if (c.Bool("follow")) return "follow = true";
  return c.String("path") == "-" ? "standard input, when a pipe or a terminal" : "";
}

constexpr ConfigKey kFileSinkKeys[] = {
    {.name = "path",
     .doc = "the output file (JSON lines): written under a temporary name and renamed when "
            "complete; in a run that does not end by itself (follow, a pipe on stdin, Kafka "
            "without `stop_at`) appended to and flushed as windows close",
     .default_doc = "standard output",
     .path = ConfigPath::kOutputFile},
    {.name = "out_dir",
     .doc = "the original Pulse's name for `path` (set one of them)",
     .default_doc = "standard output",
     .path = ConfigPath::kOutputFile},
};

// The output file: out_dir (the original's key) when set, else path; empty is stdout.
const std::string& OutputPath(const ConnectorConfig& c) {
  return c.IsSet("out_dir") ? c.String("out_dir") : c.String("path");
}

Status CheckFileSink(const ConnectorConfig& c) {
  if (c.IsSet("path") && c.IsSet("out_dir")) {
    return c.ErrorAt(std::max(c.Line("path"), c.Line("out_dir")),
                     "sink.path and sink.out_dir both name the output file; set only one");
  }
  return Status::OK();
}

std::vector<std::string> DescribeFileSink(const ConnectorConfig& c) {
  const std::string& path = OutputPath(c);
  return {path.empty() ? std::string("standard output (JSON lines)")
                       : "file " + Quoted(path) + " (JSON lines)"};
}

std::string FileSinkFingerprint(const ConnectorConfig& c) { return "file " + OutputPath(c); }

}  // namespace

const ConnectorDeclaration& FileSourceDeclaration() {
  static constexpr ConnectorDeclaration kDeclaration{
      .role = ConnectorRole::kSource,
      .kind = "file",
      .summary = "Reads JSON lines or CSV from a file, a glob of files or standard input.",
      .keys = kFileSourceKeys,
      .describe = DescribeFileSource,
      .fingerprint = FileSourceFingerprint,
      .unbounded = FileSourceUnbounded,
  };
  return kDeclaration;
}

Result<std::unique_ptr<Source>> MakeFileSource(const ConnectorConfig& config,
                                               const ConnectorBuildContext& /*context*/) {
  FileSourceOptions options;
  options.path = config.String("path");
  options.format = config.String("format") == "csv" ? FileFormat::kCsv : FileFormat::kJsonl;
  options.time_field = config.String("time_field");
  options.follow = config.Bool("follow");
  options.poll_interval_ms = config.Duration("poll_interval");
  options.rotate_wait_ms = config.Duration("rotate_wait");
  options.max_line_bytes = static_cast<size_t>(config.Int("max_line_bytes"));
  // 0..kMaxDecodeThreads: the key's declared range.
  options.decode_threads = static_cast<int>(config.Int("decode_threads"));
  if (Status st = options.Validate(); !st.ok()) return config.ErrorAt(config.line(), st.message());
  return FileSource(std::move(options));
}

const ConnectorDeclaration& FileSinkDeclaration() {
  static constexpr ConnectorDeclaration kDeclaration{
      .role = ConnectorRole::kSink,
      .kind = "file",
      .summary = "Writes each result as one JSON line to a file or standard output.",
      .keys = kFileSinkKeys,
      .check = CheckFileSink,
      .describe = DescribeFileSink,
      .fingerprint = FileSinkFingerprint,
  };
  return kDeclaration;
}

Result<std::unique_ptr<Sink>> MakeFileSink(const ConnectorConfig& config,
                                           const ConnectorBuildContext& /*context*/) {
  return std::unique_ptr<Sink>(FileSink(FileSinkOptions{OutputPath(config)}));
}

}  // namespace pulse::io
