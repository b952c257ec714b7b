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
  /// Keep reading a growing file until stopped (Ctrl-C), polling every `poll_interval_ms`.
  bool follow = false;
  DurationMs poll_interval_ms = 100;
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
  /// Output file; empty means standard output. The file is written under a temporary name in
  /// the same directory and renamed into place by Close(); a failed run leaves no file.
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
