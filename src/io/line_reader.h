// SPDX-License-Identifier: MIT
// LineReader: splits a file descriptor's bytes into lines (JSONL) or CSV records, in large
// blocks, with bounded memory for over-long lines.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pulse/core/status.h"

namespace pulse::io::internal {

/// How records are delimited.
enum class Framing : uint8_t {
  kLines,  // every '\n' ends a record
  kCsv,    // '\n' ends a record except inside a double-quoted field (RFC 4180)
};

/// What Next() does when the input has no more bytes right now.
enum class AtEnd : uint8_t {
  kEmit,   // end of input: return a final line that has no '\n'
  kHold,   // the input may grow (follow mode): keep a partial line buffered and return false
  kDrain,  // stop reading: return what is buffered (complete lines, then the partial one)
  // A stream (pipe, terminal, socket): read only bytes that are ready now (poll(2)), so that
  // Next never blocks; when none are, keep a partial line and return false (at_eof() is
  // false). At the end of the input (read(2) returns 0) as kEmit.
  kAvailable,
  // Return the complete lines already buffered, without reading; false when there are none
  // (a caller checks the input before letting the reader read more, e.g. for truncation).
  kBuffered,
};

/// One line (or CSV record). Views stay valid until the next call to Next() or Reset().
struct Line {
  /// The text without its line end ("\n" or "\r\n"). For a too-long line, only its first
  /// kRawPrefixBytes bytes (cut at a UTF-8 character boundary).
  std::string_view text;
  uint64_t number = 0;              // 1-based number of the line where the record starts
  uint64_t next_number = 0;         // the number the line after this one gets
  uint64_t end_offset = 0;          // input offset just past this line and its line end
  bool too_long = false;            // longer than max_line_bytes
  bool unterminated_quote = false;  // kCsv: the input ended inside a quoted field
};

/// Reads a file descriptor (not owned) in blocks and returns its lines. A UTF-8 byte-order mark
/// at the start of the input is skipped. Memory stays below about
/// max(block_bytes, max_line_bytes) + kPaddingBytes whatever the line lengths.
/// Every returned text that is not too_long is followed in memory by at least kPaddingBytes
/// readable bytes, so it can be parsed in place by simdjson. Not thread-safe.
class LineReader {
 public:
  static constexpr size_t kDefaultBlockBytes = 4u << 20;
  static constexpr size_t kPaddingBytes = 64;
  static constexpr size_t kRawPrefixBytes = 1024;

  LineReader(Framing framing, size_t max_line_bytes, size_t block_bytes = kDefaultBlockBytes);
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  /// Start reading `fd` from its current offset, which is `start_offset` bytes into the input
  /// whose first line there is numbered `first_line` (resuming mid-file: no byte-order mark is
  /// looked for unless start_offset is 0). `stop` (may be null) ends a read(2) interrupted by a
  /// signal; `bytes_read` (may be null) is advanced by every byte read. Both are borrowed until
  /// the next Reset().
  void Reset(int fd, const std::atomic<bool>* stop, std::atomic<uint64_t>* bytes_read,
             uint64_t start_offset = 0, uint64_t first_line = 1);

  /// Return true with the next line in `*line`, or false when there is none (see AtEnd).
  /// Once read(2) reported the end of the input with kEmit or kAvailable, the input is not
  /// read again until Reset (a terminal's Ctrl-D is needed once). Errors: IOError from read(2)
  /// or poll(2).
  Result<bool> Next(AtEnd at_end, Line* line);

  /// True once read(2) reported the end of the input with kEmit or kAvailable (see Next).
  bool at_eof() const { return eof_; }

  /// The input offset just past the last line returned (where a reader that continues after
  /// it would start).
  uint64_t consumed_offset() const { return base_ + offset_ - (end_ - begin_); }

  /// The input offset read up to: start_offset plus the bytes read since Reset().
  uint64_t offset() const { return base_ + offset_; }

  /// Bytes of line buffer allocated now (for tests of the memory bound).
  size_t buffer_capacity() const { return capacity_; }

 private:
  enum class CsvState : uint8_t { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };

  // Scan [scan_, end_) for the end of the current record; on success set *newline.
  bool FindEnd(size_t* newline);
  // Read more bytes (compacting or growing the buffer first). Returns bytes read; 0 at EOF
  // (then eof_ is set, except with kHold) or, with kAvailable, when no byte is ready.
  Result<size_t> Fill(AtEnd at_end);
  void SkipByteOrderMark();
  // Produce a line from [begin_, end) and move past `consumed` bytes.
  void TakeLine(size_t end, size_t next_begin, Line* line);
  void TakeSkippedLine(Line* line);
  // Add the bytes of a too-long line that are still needed for its raw prefix.
  void AppendSkipped(std::string_view data);
  static std::string_view RawPrefix(std::string_view text);

  const Framing framing_;
  const size_t max_line_bytes_;
  const size_t block_bytes_;
  const size_t max_capacity_;

  int fd_ = -1;
  const std::atomic<bool>* stop_ = nullptr;
  std::atomic<uint64_t>* bytes_read_ = nullptr;
  uint64_t base_ = 0;    // start_offset of the last Reset()
  uint64_t offset_ = 0;  // bytes read since Reset()

  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;  // usable bytes; kPaddingBytes more are allocated
  size_t begin_ = 0;     // start of the current record
  size_t scan_ = 0;      // scanned up to here without finding the record's end
  size_t end_ = 0;       // end of valid data
  uint64_t next_line_ = 1;
  uint64_t inner_newlines_ = 0;  // kCsv: newlines inside quotes in the current record
  CsvState csv_state_ = CsvState::kFieldStart;
  bool at_input_start_ = true;
  bool eof_ = false;  // read(2) returned 0 with kEmit or kAvailable

  bool skipping_ = false;  // discarding the rest of a too-long line
  std::string skipped_prefix_;  // start of the too-long line being skipped
  uint64_t skipped_line_ = 0;
};

}  // namespace pulse::io::internal
