// SPDX-License-Identifier: MIT
// Whole-file reading shared by the config loader, the checkpoint store and the state backends.
#pragma once

#include <string>

namespace pulse::internal {

/// Read the whole file at `path` into `*text` (replacing its contents), retrying reads that
/// a signal interrupted. Returns 0, or the errno of the failing call; `*failed_call` is then
/// "open" or "read". Callers turn the errno into a Status in their own words.
int ReadWholeFile(const std::string& path, std::string* text, const char** failed_call);

}  // namespace pulse::internal
