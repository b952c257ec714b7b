// SPDX-License-Identifier: MIT
// File source (JSON lines or CSV) and file sink (JSON lines).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "pulse/core/connector.h"
#include "pulse/core/connector_registry.h"
#include "pulse/core/status.h"

namespace pulse::io {

enum class FileFormat : uint8_t { kJsonl, kCsv };

struct FileSourceOptions {
  /// A file path, a glob (`data/*.jsonl`; matching files are read in sorted order), or "-"
  /// for standard input.
  std::string path;
  FileFormat format = FileFormat::kJsonl;
  /// The top-level field holding the event time: an RFC 3339 string or integer epoch ms
  /// (in CSV: a cell of epoch-ms digits or an RFC 3339 string).
  std::string time_field = "event_time";
  /// Follow the file (or every file matching the glob) by name until the run is stopped, as
  /// `tail -F` does: appended lines are read within about 10 ms; every `poll_interval_ms` the
  /// names are looked at again for log rotation (rename and create, copytruncate), removed
  /// files and, with a glob, new files (docs/running-continuously.md, "Log rotation").
  bool follow = false;
  /// Follow: how often the names are looked at. Standard input and other streams: how long a
  /// Read waits for input before it returns with nothing (so the run sees time pass).
  DurationMs poll_interval_ms = 100;
  /// Follow: a file that rotation moved away (or removed) is read until it has not grown for
  /// this long, then closed (a writer may write to it until it reopens its log).
  DurationMs rotate_wait_ms = 10'000;
  /// Lines (JSONL) or records (CSV) longer than this are bad records (`line_too_long`).
  size_t max_line_bytes = 16u << 20;
  /// Threads that decode lines in parallel (records still come out in input order).
  /// 0: as many as the run's workers when that is 2 or more, else decode on the reading
  /// thread. Follow mode always decodes on the reading thread. At most kMaxDecodeThreads.
  int decode_threads = 0;
  static constexpr int kMaxDecodeThreads = 256;

  Status Validate() const;
};

/// Requires: options.Validate() is OK. Missing files are reported by Open().
std::unique_ptr<Source> FileSource(FileSourceOptions options);

struct FileSinkOptions {
  /// Output file; empty means standard output. When the run's input ends (a bounded run), the
  /// file is written under a temporary name in the same directory and renamed into place by
  /// Close(), so a failed run leaves no file. When it does not (SinkContext::unbounded: follow,
  /// a pipe on stdin, Kafka without stop_at), results are appended to the file itself and
  /// flushed with every batch, visible as their windows close; a fresh run replaces the file,
  /// and with checkpoints a restarted run cuts it back to what the checkpoint covers.
  std::string path;
};

/// Writes each record's value as one compact JSON line.
std::unique_ptr<Sink> FileSink(FileSinkOptions options);

/// The file source and sink as registry connectors (connector_registry.h): kind "file", their
/// config keys, and factories that build the options from a config, validate them and name the
/// config's line in errors.
const ConnectorDeclaration& FileSourceDeclaration();
Result<std::unique_ptr<Source>> MakeFileSource(const ConnectorConfig& config,
                                               const ConnectorBuildContext& context);
const ConnectorDeclaration& FileSinkDeclaration();
Result<std::unique_ptr<Sink>> MakeFileSink(const ConnectorConfig& config,
                                           const ConnectorBuildContext& context);

}  // namespace pulse::io
