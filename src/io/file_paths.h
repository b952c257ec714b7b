// SPDX-License-Identifier: MIT
// Input path resolution for the file source: single files, globs and stdin.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/status.h"

namespace pulse::io::internal {

/// True if `path` contains a glob metacharacter (* ? or [).
bool IsGlob(std::string_view path);

/// Return the inputs named by `path`: {"-"} for stdin, {path} for a plain path (not checked
/// here), or the regular files matching a glob in sorted (bytewise) order.
/// Errors: NotFound "no input file matches '<path>'"; IOError if the glob cannot be read.
Result<std::vector<std::string>> ResolveInputPaths(const std::string& path);

/// The regular files `path` (a plain path or a glob) names now, in sorted (bytewise) order;
/// empty when there are none. Errors: IOError if the glob cannot be read.
Result<std::vector<std::string>> MatchingFiles(const std::string& path);

}  // namespace pulse::io::internal
