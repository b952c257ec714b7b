// SPDX-License-Identifier: MIT
// The file source's rules for lines of input, for sources that get their lines some other way
// (the in-memory source of `pulse test`): framing an input into lines, and decoding a line into
// a record, a CSV header or a bad record, with the file source's reasons and error texts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/core/record.h"
#include "pulse/core/status.h"
#include "pulse/io/file.h"

namespace pulse::io {

/// One line of an input (JSON lines), or one record (CSV, which may span lines), as the file
/// source frames it.
struct InputLine {
  /// The text without its line end; for a too-long line only its first 1 KiB (cut at a UTF-8
  /// character boundary), as the dead letter shows it.
  std::string text;
  uint64_t number = 0;              // 1-based line where it starts
  bool too_long = false;            // longer than max_line_bytes
  bool unterminated_quote = false;  // CSV: the input ended inside a quoted field
};

/// Read the input `fd` (borrowed; read from its current offset to its end) and return its lines
/// without the blank ones the file source skips (IsBlankLine). A UTF-8 byte-order mark at the
/// start is skipped; "\r\n" ends a line as "\n" does. Errors: IOError from read(2).
Result<std::vector<InputLine>> ReadInputLines(int fd, FileFormat format, size_t max_line_bytes);

/// Whether the file source skips `text` as blank: JSON lines of only whitespace, empty CSV
/// records.
bool IsBlankLine(std::string_view text, FileFormat format);

/// Whether a complete CSV record ends inside a quoted field (RFC 4180 quoting, as the file
/// source frames records).
bool EndsInsideQuotedField(std::string_view csv_record);

/// What a line became.
struct DecodedLine {
  enum class Kind : uint8_t {
    kRecord,  // `record` holds it
    kHeader,  // a CSV header row: the columns of the lines after it
    kBad,     // a bad record: `bad_reason` and `bad_error`, as the file source reports it
  };
  Kind kind = Kind::kBad;
  Record record;
  BadReason bad_reason = BadReason::kInvalidJson;
  std::string bad_error;
};

/// Decodes lines into records as the file source does for `format`: JSON objects with their
/// event time in `time_field`; for CSV, the first line of each input that is not malformed is
/// its header. Lines are given in input order. Not thread-safe.
class InputLineDecoder {
 public:
  InputLineDecoder(FileFormat format, std::string time_field, size_t max_line_bytes);
  ~InputLineDecoder();
  InputLineDecoder(const InputLineDecoder&) = delete;
  InputLineDecoder& operator=(const InputLineDecoder&) = delete;

  /// The next line starts a new input (CSV: a new header is expected).
  void StartInput();

  /// Decode `line`. Never fails: what cannot be decoded is a kBad line.
  DecodedLine Decode(const InputLine& line);

 private:
  class CsvColumns;
  DecodedLine DecodeJson(const InputLine& line) const;
  DecodedLine DecodeCsv(const InputLine& line);

  const FileFormat format_;
  const std::string time_field_;
  const size_t max_line_bytes_;
  std::unique_ptr<CsvColumns> columns_;  // CSV: the header of the current input, once read
  std::vector<std::string> cells_;
};

}  // namespace pulse::io
