// SPDX-License-Identifier: MIT
// Internal entry point of the file source for tests and fuzzers: the read block size, which the
// public options do not expose, so that small inputs exercise block boundaries cheaply.
#pragma once

#include <cstddef>
#include <memory>

#include "pulse/core/connector.h"
#include "pulse/io/file.h"

namespace pulse::io::internal {

/// FileSource(options) reading `block_bytes` at a time (default LineReader::kDefaultBlockBytes).
/// Requires: options.Validate() is OK, block_bytes > 0.
std::unique_ptr<Source> FileSourceWithBlockBytes(FileSourceOptions options, size_t block_bytes);

}  // namespace pulse::io::internal
