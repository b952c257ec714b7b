// SPDX-License-Identifier: MIT
// The expressions of [ops] (where, key, having, [ops.fields], [ops.aggregates]): read with the
// position of each text's first character in the file, so that expression errors point at it,
// and tables kept in the order they are written (toml++ iterates them sorted).
#include "cli/ops_config.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cli/toml_util.h"

namespace pulse::cli::internal {
namespace {

// The byte offset of (line, column) (1-based; columns count characters) in `text`, or npos.
size_t OffsetOf(std::string_view text, int line, int column) {
  size_t pos = 0;
  for (int l = 1; l < line; ++l) {
    pos = text.find('\n', pos);
    if (pos == std::string_view::npos) return pos;
    ++pos;
  }
  for (int c = 1; c < column && pos < text.size(); ++c) {
    ++pos;
    while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
  }
  return pos;
}

}  // namespace

expr::Origin OriginOf(const toml::node& node, std::string_view file_text,
                      const std::string& file, std::string key) {
  expr::Origin o;
  o.file = file;
  o.key = std::move(key);
  o.line = static_cast<int>(node.source().begin.line);
  o.column = static_cast<int>(node.source().begin.column);
  const size_t at = OffsetOf(file_text, o.line, o.column);
  if (at == std::string_view::npos || at >= file_text.size()) return o;
  const std::string_view raw = file_text.substr(at);
  if (raw.substr(0, 3) == "\"\"\"" || raw.substr(0, 3) == "'''") {
    // A multi-line string: a newline right after the delimiter is not part of it.
    o.column += 3;
    size_t next = 3;
    if (raw.substr(next, 2) == "\r\n") next += 1;
    if (raw.substr(next, 1) == "\n") {
      ++o.line;
      o.column = 1;
    }
  } else if (!raw.empty() && (raw[0] == '"' || raw[0] == '\'')) {
    o.column += 1;
  }
  return o;
}

namespace {

class OpsReader {
 public:
  OpsReader(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  Status Error(int line, std::string_view message) const {
    return Status::InvalidArgument(fmt::format("{}:{}: {}", name_, line, message));
  }

  // A string expression `key` of [ops] (or nullopt when absent).
  Result<std::optional<plan::ExprSource>> Expression(const toml::table& ops,
                                                     std::string_view key) const {
    auto it = ops.find(key);
    if (it == ops.end()) return std::optional<plan::ExprSource>();
    const toml::node& node = it->second;
    const std::string qualified = fmt::format("ops.{}", key);
    if (!node.is_string() || node.as_string()->get().empty()) {
      return Error(LineOf(it->first.source()),
                   fmt::format("{} must be a non-empty string (an expression); got {}",
                               qualified, DescribeNode(node)));
    }
    return std::optional<plan::ExprSource>(
        plan::ExprSource(node.as_string()->get(), OriginOf(node, text_, name_, qualified)));
  }

  // `key = "region"` or `key = ["region", "lower(host) as host"]`.
  Status Key(const toml::table& ops, OpsConfig* out) const {
    auto it = ops.find("key");
    if (it == ops.end()) return Status::OK();
    out->key_line = LineOf(it->first.source());
    const toml::node& node = it->second;
    auto bad = [&] {
      return Error(out->key_line,
                   fmt::format("ops.key must be a string or an array of strings (expressions, "
                               "each with `as <name>` unless it is a field); got {}",
                               DescribeNode(node)));
    };
    if (node.is_string()) {
      if (node.as_string()->get().empty()) return bad();
      out->key.emplace_back(node.as_string()->get(),
                            OriginOf(node, text_, name_, "ops.key"));
      return Status::OK();
    }
    const toml::array* array = node.as_array();
    if (array == nullptr) return bad();
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      if (!item.is_string() || item.as_string()->get().empty()) return bad();
      out->key.emplace_back(item.as_string()->get(),
                            OriginOf(item, text_, name_, fmt::format("ops.key[{}]", i + 1)));
    }
    return Status::OK();
  }

  // [ops.fields] or [ops.aggregates]: name = "expression", in file order.
  Status NamedTable(const toml::table& ops, std::string_view table, int* line,
                    std::vector<plan::LogicalPlan::NamedSource>* out) const {
    auto it = ops.find(table);
    if (it == ops.end()) return Status::OK();
    *line = LineOf(it->first.source());
    const toml::table* t = it->second.as_table();
    if (t == nullptr) {
      return Error(*line, fmt::format("ops.{} must be a table ([ops.{}]) of name = "
                                      "\"expression\"; got {}",
                                      table, table, DescribeNode(it->second)));
    }
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (auto&& [k, v] : *t) entries.emplace_back(&k, &v);
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      const auto& x = a.first->source().begin;
      const auto& y = b.first->source().begin;
      return x.line != y.line ? x.line < y.line : x.column < y.column;
    });
    for (const auto& [k, v] : entries) {
      const std::string qualified = fmt::format("ops.{}.{}", table, k->str());
      if (!v->is_string() || v->as_string()->get().empty()) {
        return Error(LineOf(k->source()),
                     fmt::format("{} must be a non-empty string (an expression); got {}",
                                 qualified, DescribeNode(*v)));
      }
      out->push_back(plan::LogicalPlan::NamedSource{
          std::string(k->str()),
          plan::ExprSource(v->as_string()->get(), OriginOf(*v, text_, name_, qualified))});
    }
    return Status::OK();
  }

 private:
  std::string_view text_;
  const std::string& name_;
};

}  // namespace

Status LoadOpsExpressions(const toml::table& ops, std::string_view file_text,
                          const std::string& name, OpsConfig* out) {
  OpsReader reader(file_text, name);
  PULSE_ASSIGN_OR_RETURN(out->where, reader.Expression(ops, "where"));
  PULSE_ASSIGN_OR_RETURN(out->having, reader.Expression(ops, "having"));
  PULSE_RETURN_IF_ERROR(reader.Key(ops, out));
  int fields_line = 0;
  PULSE_RETURN_IF_ERROR(reader.NamedTable(ops, "fields", &fields_line, &out->fields));
  PULSE_RETURN_IF_ERROR(
      reader.NamedTable(ops, "aggregates", &out->aggregates_line, &out->aggregates));
  if (out->aggregates_line != 0 && out->aggregates.empty()) {
    return reader.Error(out->aggregates_line,
                        "[ops.aggregates] is empty; add an aggregate such as requests = "
                        "\"count(*)\"");
  }
  return Status::OK();
}

}  // namespace pulse::cli::internal
