// SPDX-License-Identifier: MIT
// Whole-file reading shared by the config loader, the checkpoint store and the state backends.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

namespace pulse::internal {

/// Read the whole file at `path` into `*text` (replacing its contents), retrying reads that
/// a signal interrupted. Returns 0, or the errno of the failing call; `*failed_call` is then
/// "open" or "read". Callers turn the errno into a Status in their own words.
int ReadWholeFile(const std::string& path, std::string* text, const char** failed_call);

/// Create `dir` and its missing parents with mode 0755 (before the umask), so that no
/// directory Pulse creates is world-writable whatever the umask (std::filesystem uses 0777).
/// An existing directory is fine; an existing non-directory is an error.
std::error_code CreateDirectories(const std::filesystem::path& dir);

}  // namespace pulse::internal
