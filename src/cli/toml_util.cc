// SPDX-License-Identifier: MIT
// TOML helpers for the CLI's readers; toml++'s parse exceptions become Status here.
#include "cli/toml_util.h"

#include "pulse/core/env.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace pulse::cli::internal {
namespace {

// The largest edit distance for which an unknown name gets a "did you mean"; names shorter
// than 6 characters allow only one edit, so that "name" does not suggest "time".
constexpr size_t kMaxSuggestionDistance = 2;
constexpr size_t kCharsPerEdit = 3;

// Edit distance with adjacent transpositions counted as one edit (optimal string alignment).
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

Result<toml::table> ParseToml(std::string_view text, const std::string& display_name) {
  try {
    return toml::parse(text, display_name);
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    std::string description(e.description());
    std::replace(description.begin(), description.end(), '\n', ' ');
    return Status::InvalidArgument(fmt::format("{}:{}:{}: TOML parse error: {}", display_name,
                                               at.line, at.column, description));
  }
}

Result<std::string> ReadTextFile(const std::string& path, std::string_view what) {
  Result<std::string> text = ReadFileToString(Env::Default(), path);
  if (!text.ok()) {
    return Status::InvalidArgument(
        fmt::format("cannot read {} '{}': {}{}", what, path, text.status().message(),
                    AbsolutePathNote(path)));
  }
  return text;
}

std::string_view Suggest(std::string_view word, Keys candidates) {
  std::string_view best;
  size_t best_distance = kMaxSuggestionDistance + 1;
  for (std::string_view c : candidates) {
    size_t allowed = std::clamp<size_t>(c.size() / kCharsPerEdit, 1, kMaxSuggestionDistance);
    size_t d = EditDistance(word, c);
    if (d <= allowed && d < c.size() && d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string Join(Keys items, std::string_view before, std::string_view after) {
  std::string out;
  for (std::string_view item : items) {
    if (!out.empty()) out += ", ";
    out += before;
    out += item;
    out += after;
  }
  return out;
}

bool Contains(Keys items, std::string_view s) {
  return std::find(items.begin(), items.end(), s) != items.end();
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

int LineOf(const toml::source_region& region) { return static_cast<int>(region.begin.line); }

std::string DescribeNode(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "string " + Quote(node.as_string()->get());
    case toml::node_type::integer:
      return fmt::format("integer {}", node.as_integer()->get());
    case toml::node_type::floating_point:
      return fmt::format("float {}", node.as_floating_point()->get());
    case toml::node_type::boolean:
      return node.as_boolean()->get() ? "boolean true" : "boolean false";
    case toml::node_type::array:
      return "array";
    case toml::node_type::table:
      return "table";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    default:
      return "nothing";
  }
}

}  // namespace pulse::cli::internal
