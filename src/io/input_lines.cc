// SPDX-License-Identifier: MIT
// ReadInputLines and InputLineDecoder (include/pulse/io/input_lines.h): the file source's line
// framing (LineReader) and decoding rules (CSV cells and schema, event times, bad-record
// reasons and texts) for inputs that are not read by the file source itself.
#include "pulse/io/input_lines.h"

#include <simdjson.h>

#include <optional>
#include <utility>

#include <fmt/format.h>

#include "io/csv_reader.h"
#include "io/line_reader.h"
#include "pulse/core/json.h"
#include "pulse/io/event_time.h"

namespace pulse::io {
namespace {

constexpr std::string_view kInvalidJsonPrefix = "invalid JSON: ";

bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsValidUtf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

DecodedLine Bad(BadReason reason, std::string error) {
  DecodedLine out;
  out.kind = DecodedLine::Kind::kBad;
  out.bad_reason = reason;
  out.bad_error = std::move(error);
  return out;
}

DecodedLine Good(EventTime time, Value value) {
  DecodedLine out;
  out.kind = DecodedLine::Kind::kRecord;
  out.record = Record{time, std::move(value)};
  return out;
}

}  // namespace

Result<std::vector<InputLine>> ReadInputLines(int fd, FileFormat format, size_t max_line_bytes) {
  internal::LineReader reader(
      format == FileFormat::kCsv ? internal::Framing::kCsv : internal::Framing::kLines,
      max_line_bytes);
  reader.Reset(fd, nullptr, nullptr);
  std::vector<InputLine> lines;
  while (true) {
    internal::Line l;
    PULSE_ASSIGN_OR_RETURN(bool got, reader.Next(internal::AtEnd::kEmit, &l));
    if (!got) break;
    if (!l.too_long && IsBlankLine(l.text, format)) continue;
    lines.push_back(InputLine{std::string(l.text), l.number, l.too_long, l.unterminated_quote});
  }
  return lines;
}

bool IsBlankLine(std::string_view text, FileFormat format) {
  if (format == FileFormat::kCsv) return text.empty();
  for (char c : text) {
    if (!IsJsonWhitespace(c)) return false;
  }
  return true;
}

bool EndsInsideQuotedField(std::string_view csv_record) {
  enum class State : uint8_t { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
  State state = State::kFieldStart;
  for (char c : csv_record) {
    switch (state) {
      case State::kFieldStart:
        if (c == '"') {
          state = State::kQuoted;
        } else if (c != ',') {
          state = State::kUnquoted;
        }
        break;
      case State::kUnquoted:
        if (c == ',') state = State::kFieldStart;
        break;
      case State::kQuoted:
        if (c == '"') state = State::kQuoteInQuoted;
        break;
      case State::kQuoteInQuoted:
        if (c == '"') {
          state = State::kQuoted;
        } else {
          state = c == ',' ? State::kFieldStart : State::kUnquoted;
        }
        break;
    }
  }
  return state == State::kQuoted;
}

// The header of a CSV input (a pimpl, so that the public header does not show CsvSchema).
class InputLineDecoder::CsvColumns {
 public:
  CsvColumns(const std::vector<std::string>& header, size_t n, std::string_view time_field)
      : schema_(header, n, time_field, std::vector<std::string>()) {}
  const internal::CsvSchema& schema() const { return schema_; }

 private:
  internal::CsvSchema schema_;
};

InputLineDecoder::InputLineDecoder(FileFormat format, std::string time_field,
                                   size_t max_line_bytes)
    : format_(format), time_field_(std::move(time_field)), max_line_bytes_(max_line_bytes) {}

InputLineDecoder::~InputLineDecoder() = default;

void InputLineDecoder::StartInput() { columns_.reset(); }

DecodedLine InputLineDecoder::Decode(const InputLine& line) {
  return format_ == FileFormat::kCsv ? DecodeCsv(line) : DecodeJson(line);
}

DecodedLine InputLineDecoder::DecodeJson(const InputLine& line) const {
  if (line.too_long) {
    return Bad(BadReason::kLineTooLong,
               fmt::format("line is longer than max_line_bytes ({})", max_line_bytes_));
  }
  Result<Value> value = ParseJson(line.text);
  if (!value.ok()) {
    std::string_view error = value.status().message();
    if (error.starts_with(kInvalidJsonPrefix)) error.remove_prefix(kInvalidJsonPrefix.size());
    return Bad(IsValidUtf8(line.text) ? BadReason::kInvalidJson : BadReason::kInvalidUtf8,
               std::string(error));
  }
  if (!value->is_object()) {
    return Bad(BadReason::kNotAnObject,
               fmt::format("expected a JSON object, got {}", JsonTypePhrase(*value)));
  }
  Result<EventTime> time = EventTimeOf(*value, time_field_, FileFormat::kJsonl);
  if (!time.ok()) return Bad(BadReason::kBadEventTime, time.status().message());
  return Good(*time, std::move(value).value());
}

DecodedLine InputLineDecoder::DecodeCsv(const InputLine& line) {
  if (line.too_long) {
    return Bad(BadReason::kLineTooLong,
               fmt::format("record is longer than max_line_bytes ({})", max_line_bytes_));
  }
  if (line.unterminated_quote) return Bad(BadReason::kRaggedRow, "unterminated quoted field");
  if (!IsValidUtf8(line.text)) return Bad(BadReason::kInvalidUtf8, "invalid UTF-8");
  const size_t n = internal::SplitCsvRecord(line.text, &cells_);
  if (columns_ == nullptr) {
    columns_ = std::make_unique<CsvColumns>(cells_, n, time_field_);
    DecodedLine header;
    header.kind = DecodedLine::Kind::kHeader;
    return header;
  }
  const internal::CsvSchema& schema = columns_->schema();
  if (n != schema.num_columns()) {
    return Bad(BadReason::kRaggedRow,
               fmt::format("expected {} cells, got {}", schema.num_columns(), n));
  }
  Value value = schema.MakeObject(&cells_);
  Result<EventTime> time = EventTimeOf(value, time_field_, FileFormat::kCsv);
  if (!time.ok()) return Bad(BadReason::kBadEventTime, time.status().message());
  return Good(*time, std::move(value));
}

}  // namespace pulse::io
