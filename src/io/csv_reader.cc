// SPDX-License-Identifier: MIT
// CSV cell splitting and header-to-object mapping.
#include "io/csv_reader.h"

#include <algorithm>
#include <utility>

namespace pulse::io::internal {

size_t SplitCsvRecord(std::string_view record, std::vector<std::string>* cells) {
  size_t n = 0;
  auto next_cell = [&]() -> std::string& {
    if (n == cells->size()) cells->emplace_back();
    std::string& cell = (*cells)[n++];
    cell.clear();
    return cell;
  };
  size_t i = 0;
  const size_t size = record.size();
  for (;;) {
    std::string& cell = next_cell();
    if (i < size && record[i] == '"') {
      ++i;
      // Quoted: up to a quote that is not doubled.
      for (;;) {
        const size_t quote = record.find('"', i);
        if (quote == std::string_view::npos) {  // unterminated: take the rest
          cell.append(record.substr(i));
          i = size;
          break;
        }
        cell.append(record.substr(i, quote - i));
        i = quote + 1;
        if (i < size && record[i] == '"') {
          cell.push_back('"');
          ++i;
          continue;
        }
        break;
      }
    }
    // Unquoted text (or text after a closing quote) up to the next comma.
    const size_t comma = record.find(',', i);
    const size_t stop = comma == std::string_view::npos ? size : comma;
    cell.append(record.substr(i, stop - i));
    if (comma == std::string_view::npos) return n;
    i = comma + 1;
  }
}

CsvSchema::CsvSchema(const std::vector<std::string>& header, size_t n,
                     std::string_view time_field, const std::vector<std::string>& keep_fields)
    : num_columns_(n) {
  for (size_t col = 0; col < n; ++col) {
    const std::string& name = header[col];
    if (name == time_field) time_column_ = static_cast<int>(col);
    if (!keep_fields.empty() &&
        std::find(keep_fields.begin(), keep_fields.end(), name) == keep_fields.end()) {
      continue;
    }
    auto it = std::find(names_.begin(), names_.end(), name);
    if (it != names_.end()) {
      source_column_[static_cast<size_t>(it - names_.begin())] = col;  // later column wins
    } else {
      names_.push_back(name);
      source_column_.push_back(col);
    }
  }
}

Value CsvSchema::MakeObject(std::vector<std::string>* cells) const {
  Object members;
  members.reserve(names_.size());
  for (size_t i = 0; i < names_.size(); ++i) {
    members.emplace_back(names_[i], Value(std::move((*cells)[source_column_[i]])));
  }
  return Value(std::move(members));
}

}  // namespace pulse::io::internal
