// SPDX-License-Identifier: MIT
// Validation of the file source and sink options.
#include <string>

#include <fmt/format.h>

#include "pulse/io/file.h"

namespace pulse::io {
namespace {

// A line is held in memory whole and parsed at once; beyond this, memory use is unreasonable.
constexpr size_t kMaxLineBytesLimit = 1u << 30;

}  // namespace

Status FileSourceOptions::Validate() const {
  if (path.empty()) return Status::InvalidArgument("file source: path is empty");
  if (time_field.empty()) return Status::InvalidArgument("file source: time_field is empty");
  if (max_line_bytes < 1 || max_line_bytes > kMaxLineBytesLimit) {
    return Status::InvalidArgument(fmt::format(
        "file source: max_line_bytes must be between 1 and {}, got {}", kMaxLineBytesLimit,
        max_line_bytes));
  }
  if (poll_interval_ms <= 0) {
    return Status::InvalidArgument(
        fmt::format("file source: poll_interval_ms must be positive, got {}", poll_interval_ms));
  }
  if (decode_threads < 0 || decode_threads > kMaxDecodeThreads) {
    return Status::InvalidArgument(
        fmt::format("file source: decode_threads must be between 0 and {}, got {}",
                    kMaxDecodeThreads, decode_threads));
  }
  if (rotate_wait_ms < 0) {
    return Status::InvalidArgument(
        fmt::format("file source: rotate_wait_ms must not be negative, got {}", rotate_wait_ms));
  }
  if (follow && path == "-") {
    return Status::InvalidArgument(
        "file source: follow needs files, not stdin ('-'); standard input is read as it "
        "arrives without it");
  }
  return Status::OK();
}

}  // namespace pulse::io
