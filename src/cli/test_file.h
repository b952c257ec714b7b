// SPDX-License-Identifier: MIT
// Reading a `pulse test` file (TOML) into golden::TestFile: its cases checked strictly (as
// configs are), every input and expected line read and parsed, and the pipeline config it names
// loaded and wrapped as the pipeline under test.
#pragma once

#include <string>

#include "golden/test_file.h"
#include "pulse/core/status.h"

namespace pulse::cli {

/// Read and check the test file at `path`, the pipeline config it names (LoadConfig) and every
/// input file and expected_file.
/// Paths in the file are relative to its directory. Errors (all InvalidArgument, one line):
/// "<file>:<line>: <message>" for TOML syntax, unknown keys (with "did you mean"), wrong types
/// and values, missing keys, duplicate case names, unreadable input files and lines of an
/// expected file that are not JSON; the pipeline config's own errors as LoadConfig gives them.
/// A missing expected_file is not an error (see golden::TestCase::expected_file_missing).
Result<golden::TestFile> LoadTestFile(const std::string& path);

/// The conventional test file of a pipeline config: "dir/x.toml" → "dir/x.test.toml".
std::string TestFileFor(const std::string& pipeline_path);

}  // namespace pulse::cli
