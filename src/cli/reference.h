// SPDX-License-Identifier: MIT
// The configuration reference (docs/configuration.md), generated from the key declarations: the
// CLI's own tables (config.cc) and every connector kind of the registry (connectors.h).
#pragma once

#include <string>

namespace pulse::cli {

/// Return the configuration reference as Markdown: an introduction, then per table its keys
/// (type, default, one line of meaning), and for [source] and [sink] one section per kind.
/// What `pulse config-reference` prints; docs/configuration.md is its output, and a test keeps
/// the two equal.
std::string ConfigReference();

}  // namespace pulse::cli
