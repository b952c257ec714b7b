// SPDX-License-Identifier: MIT
// Helpers shared by the TOML readers of the CLI (pipeline configs, `pulse test` files): parsing
// with errors as Status, node descriptions, and "did you mean" suggestions.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "pulse/core/status.h"

namespace pulse::cli::internal {

using Keys = std::span<const std::string_view>;

/// Parse TOML `text`; `display_name` names it in messages. Errors: InvalidArgument
/// "<name>:<line>:<column>: TOML parse error: <reason>" on one line.
Result<toml::table> ParseToml(std::string_view text, const std::string& display_name);

/// Read the file at `path` whole. Errors: InvalidArgument "cannot read <what> '<path>': <reason>".
Result<std::string> ReadTextFile(const std::string& path, std::string_view what);

/// Return the candidate closest to `word` within a small edit distance (names shorter than 6
/// characters allow one edit, longer ones two), the first on ties, or "" when none is close.
std::string_view Suggest(std::string_view word, Keys candidates);

/// "a, b, c", each item wrapped in `before` and `after`.
std::string Join(Keys items, std::string_view before = "", std::string_view after = "");

bool Contains(Keys items, std::string_view s);

/// `s` as a JSON-style quoted string, as messages show user text.
std::string Quote(std::string_view s);

/// The 1-based line where `region` starts.
int LineOf(const toml::source_region& region);

/// What a value is, for messages: "string \"x\"", "integer 5", "array", "table", ...
std::string DescribeNode(const toml::node& node);

}  // namespace pulse::cli::internal
