// SPDX-License-Identifier: MIT
// LineReader: block reads, line/CSV-record framing, bounded skipping of over-long lines.
#include "io/line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace pulse::io::internal {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

bool IsUtf8Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

LineReader::LineReader(Framing framing, size_t max_line_bytes, size_t block_bytes)
    : framing_(framing),
      max_line_bytes_(max_line_bytes),
      block_bytes_(std::max<size_t>(block_bytes, 1)),
      // Room for a whole line of max_line_bytes plus "\r\n", so that a line of allowed length
      // always fits before it is judged too long.
      max_capacity_(std::max(block_bytes_, max_line_bytes + 2)) {}

void LineReader::Reset(int fd, const std::atomic<bool>* stop, std::atomic<uint64_t>* bytes_read,
                       uint64_t start_offset, uint64_t first_line) {
  fd_ = fd;
  stop_ = stop;
  bytes_read_ = bytes_read;
  base_ = start_offset;
  offset_ = 0;
  begin_ = scan_ = end_ = 0;
  next_line_ = first_line;
  inner_newlines_ = 0;
  csv_state_ = CsvState::kFieldStart;
  at_input_start_ = start_offset == 0;
  eof_ = false;
  skipping_ = false;
  skipped_prefix_.clear();
  skipped_line_ = 0;
}

std::string_view LineReader::RawPrefix(std::string_view text) {
  if (text.size() <= kRawPrefixBytes) return text;
  size_t cut = kRawPrefixBytes;
  // Do not split a UTF-8 sequence (at most 3 continuation bytes follow a lead byte).
  while (cut > kRawPrefixBytes - 3 && IsUtf8Continuation(text[cut])) --cut;
  if (IsUtf8Continuation(text[cut])) cut = kRawPrefixBytes;  // not UTF-8 anyway
  return text.substr(0, cut);
}

bool LineReader::FindEnd(size_t* newline) {
  const char* base = buf_.get();
  if (framing_ == Framing::kLines) {
    const void* hit = std::memchr(base + scan_, '\n', end_ - scan_);
    if (hit == nullptr) {
      scan_ = end_;
      return false;
    }
    *newline = static_cast<size_t>(static_cast<const char*>(hit) - base);
    return true;
  }
  CsvState state = csv_state_;
  for (size_t i = scan_; i < end_; ++i) {
    const char c = base[i];
    switch (state) {
      case CsvState::kFieldStart:
        if (c == '"') {
          state = CsvState::kQuoted;
        } else if (c == '\n') {
          *newline = i;
          csv_state_ = state;
          return true;
        } else if (c != ',') {
          state = CsvState::kUnquoted;
        }
        break;
      case CsvState::kUnquoted:
        if (c == ',') {
          state = CsvState::kFieldStart;
        } else if (c == '\n') {
          *newline = i;
          csv_state_ = state;
          return true;
        }
        break;
      case CsvState::kQuoted:
        if (c == '"') {
          state = CsvState::kQuoteInQuoted;
        } else if (c == '\n') {
          ++inner_newlines_;
        }
        break;
      case CsvState::kQuoteInQuoted:
        if (c == '"') {
          state = CsvState::kQuoted;  // "" is an escaped quote
        } else if (c == ',') {
          state = CsvState::kFieldStart;
        } else if (c == '\n') {
          *newline = i;
          csv_state_ = state;
          return true;
        } else {
          state = CsvState::kUnquoted;  // text after a closing quote is kept as is
        }
        break;
    }
  }
  csv_state_ = state;
  scan_ = end_;
  return false;
}

void LineReader::SkipByteOrderMark() {
  const uint64_t input_pos_of_begin = offset_ - (end_ - begin_);
  if (input_pos_of_begin != 0) {
    at_input_start_ = false;
    return;
  }
  if (end_ - begin_ < kByteOrderMark.size()) return;  // decide when more bytes arrive
  at_input_start_ = false;
  if (std::string_view(buf_.get() + begin_, kByteOrderMark.size()) != kByteOrderMark) return;
  begin_ += kByteOrderMark.size();
  if (scan_ < begin_) {
    scan_ = begin_;
    csv_state_ = CsvState::kFieldStart;
  }
}

Result<size_t> LineReader::Fill(AtEnd at_end) {
  if (begin_ > 0) {
    const size_t pending = end_ - begin_;
    if (pending > 0) std::memmove(buf_.get(), buf_.get() + begin_, pending);
    scan_ -= begin_;
    end_ = pending;
    begin_ = 0;
  }
  if (end_ == capacity_) {
    if (capacity_ >= max_capacity_) {
      return Status::Internal("line buffer full");  // unreachable: Next() skips long lines first
    }
    const size_t new_capacity =
        capacity_ == 0 ? std::min(block_bytes_, max_capacity_)
                       : std::min(std::max(capacity_ * 2, block_bytes_), max_capacity_);
    auto grown = std::make_unique_for_overwrite<char[]>(new_capacity + kPaddingBytes);
    if (end_ > 0) std::memcpy(grown.get(), buf_.get(), end_);
    std::memset(grown.get() + new_capacity, 0, kPaddingBytes);
    buf_ = std::move(grown);
    capacity_ = new_capacity;
  }
  if (at_end == AtEnd::kAvailable) {
    pollfd ready{fd_, POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&ready, 1, 0);
    } while (rc < 0 && errno == EINTR && !(stop_ != nullptr && stop_->load()));
    if (rc < 0 && errno != EINTR) {
      return Status::IOError(fmt::format("poll failed: {}", std::strerror(errno)));
    }
    if (rc <= 0) return size_t{0};  // nothing ready now (POLLHUP counts as ready: the end)
  }
  ssize_t n;
  for (;;) {
    n = ::read(fd_, buf_.get() + end_, capacity_ - end_);
    if (n >= 0) break;
    if (errno != EINTR) {
      return Status::IOError(fmt::format("read failed: {}", std::strerror(errno)));
    }
    if (stop_ != nullptr && stop_->load(std::memory_order_relaxed)) return size_t{0};
  }
  const size_t got = static_cast<size_t>(n);
  if (got == 0 && at_end != AtEnd::kHold) eof_ = true;
  end_ += got;
  offset_ += got;
  if (bytes_read_ != nullptr && got > 0) bytes_read_->fetch_add(got, std::memory_order_relaxed);
  if (at_input_start_) SkipByteOrderMark();
  return got;
}

void LineReader::TakeLine(size_t end, size_t next_begin, Line* line) {
  std::string_view text(buf_.get() + begin_, end - begin_);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  line->number = next_line_;
  line->too_long = text.size() > max_line_bytes_;
  line->text = line->too_long ? RawPrefix(text) : text;
  line->unterminated_quote = false;
  next_line_ += 1 + inner_newlines_;
  inner_newlines_ = 0;
  csv_state_ = CsvState::kFieldStart;
  begin_ = scan_ = next_begin;
  line->next_number = next_line_;
  line->end_offset = base_ + offset_ - (end_ - begin_);
}

void LineReader::AppendSkipped(std::string_view data) {
  // Keep a few bytes beyond the prefix so that RawPrefix can find a character boundary.
  constexpr size_t kKeep = kRawPrefixBytes + 4;
  if (skipped_prefix_.size() < kKeep) {
    skipped_prefix_.append(data.substr(0, kKeep - skipped_prefix_.size()));
  }
}

void LineReader::TakeSkippedLine(Line* line) {
  std::string_view text = skipped_prefix_;
  if (text.size() <= kRawPrefixBytes && !text.empty() && text.back() == '\r') {
    text.remove_suffix(1);  // the whole line was kept: drop the '\r' of its "\r\n"
  }
  line->text = RawPrefix(text);
  line->number = skipped_line_;
  line->too_long = true;
  line->unterminated_quote = false;
  next_line_ = skipped_line_ + 1 + inner_newlines_;
  inner_newlines_ = 0;
  csv_state_ = CsvState::kFieldStart;
  skipping_ = false;
  line->next_number = next_line_;
  line->end_offset = base_ + offset_ - (end_ - begin_);
}

Result<bool> LineReader::Next(AtEnd at_end, Line* line) {
  if (fd_ < 0) return false;
  for (;;) {
    if (buf_ != nullptr) {
      size_t newline = 0;
      if (FindEnd(&newline)) {
        if (skipping_) {
          AppendSkipped(std::string_view(buf_.get() + begin_, newline - begin_));
          begin_ = scan_ = newline + 1;
          TakeSkippedLine(line);
        } else {
          TakeLine(newline, newline + 1, line);
        }
        return true;
      }
      if (!skipping_ && end_ - begin_ > max_line_bytes_ + 1) {  // + 1: a '\r' may end it
        skipping_ = true;
        skipped_prefix_.clear();
        skipped_line_ = next_line_;
      }
      if (skipping_) {  // keep the prefix, discard the rest; the line's end is still to come
        AppendSkipped(std::string_view(buf_.get() + begin_, end_ - begin_));
        begin_ = scan_ = end_;
      }
    }
    if (at_end == AtEnd::kBuffered) return false;
    size_t got = 0;
    if (at_end != AtEnd::kDrain && !eof_) {
      PULSE_ASSIGN_OR_RETURN(got, Fill(at_end));
    }
    if (got > 0) continue;
    if (at_end == AtEnd::kHold) return false;
    if (at_end == AtEnd::kAvailable && !eof_) return false;  // more may come
    // End of input: the rest is the final line.
    if (skipping_) {
      TakeSkippedLine(line);
      return true;
    }
    if (buf_ == nullptr || begin_ == end_) return false;
    const bool unterminated = framing_ == Framing::kCsv && csv_state_ == CsvState::kQuoted;
    TakeLine(end_, end_, line);
    line->unterminated_quote = unterminated;
    return true;
  }
}

}  // namespace pulse::io::internal
