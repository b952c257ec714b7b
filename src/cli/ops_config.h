// SPDX-License-Identifier: MIT
// Reading the expressions of [ops] with their positions in the config file.
#pragma once

#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "cli/config.h"
#include "pulse/core/status.h"
#include "pulse/expr/expr.h"

namespace pulse::cli::internal {

/// Where the text of the string `node` starts: its file, its key (`key`), and the line and
/// column of its first character (after the opening quote, or after a multi-line string's
/// delimiter and the newline that follows it). `file_text` is the whole config file.
expr::Origin OriginOf(const toml::node& node, std::string_view file_text,
                      const std::string& file, std::string key);

/// Read where, having, key, [ops.fields] and [ops.aggregates] of the [ops] table `ops` into
/// `*out`, tables in file order. `file_text`: the config file's text; `name`: how messages name
/// it. Errors: InvalidArgument "<name>:<line>: ..." for values of the wrong type, and an empty
/// [ops.aggregates]. The expressions themselves are checked later (MakeCompiledPlan).
Status LoadOpsExpressions(const toml::table& ops, std::string_view file_text,
                          const std::string& name, OpsConfig* out);

}  // namespace pulse::cli::internal
