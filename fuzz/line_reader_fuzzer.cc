// SPDX-License-Identifier: MIT
// Fuzz target: LineReader framing with tiny blocks and limits, against a plain reference
// splitter (lines or quote-aware CSV records, BOM, "\r\n", too-long lines and their raw
// prefix, line numbers), in one pass (AtEnd::kEmit) or as a followed file (kHold, then kDrain),
// with its memory bound. The first input byte selects the options; the rest is the input.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "io/line_reader.h"

namespace {

using pulse::io::internal::AtEnd;
using pulse::io::internal::Framing;
using pulse::io::internal::Line;
using pulse::io::internal::LineReader;

struct Expected {
  std::string text;
  uint64_t number;
  bool too_long;
  bool unterminated_quote;
};

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// LineReader's documented raw prefix of a too-long line: at most kRawPrefixBytes, not cutting a
// UTF-8 sequence.
std::string RawPrefix(std::string_view text) {
  constexpr size_t kMax = LineReader::kRawPrefixBytes;
  if (text.size() <= kMax) return std::string(text);
  size_t cut = kMax;
  while (cut > kMax - 3 && IsContinuation(text[cut])) --cut;
  if (IsContinuation(text[cut])) cut = kMax;
  return std::string(text.substr(0, cut));
}

// The reference splitter, written as a recursive-descent reading of the format rather than as
// LineReader's byte state machine: a CSV field that starts with '"' is quoted up to a '"' not
// followed by another (`""` is data); the rest of a field runs to ',' or '\n'.
std::vector<Expected> Split(std::string_view input, Framing framing, size_t max_line_bytes) {
  if (input.substr(0, 3) == "\xEF\xBB\xBF") input.remove_prefix(3);
  std::vector<Expected> out;
  const size_t n = input.size();
  uint64_t line = 1;
  size_t i = 0;
  while (i < n) {
    const size_t start = i;
    const uint64_t start_line = line;
    bool unterminated = false;
    size_t end = n;  // end of the record's text; n when it runs to the end of input
    bool more_fields = true;
    while (more_fields) {
      more_fields = false;
      if (framing == Framing::kCsv && i < n && input[i] == '"') {
        ++i;
        for (;;) {
          if (i >= n) {
            unterminated = true;
            break;
          }
          if (input[i] == '"') {
            if (i + 1 < n && input[i + 1] == '"') {
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (input[i] == '\n') ++line;
          ++i;
        }
      }
      while (i < n && input[i] != '\n' && (framing != Framing::kCsv || input[i] != ',')) ++i;
      if (i < n && input[i] == ',') {
        ++i;
        more_fields = true;
      }
    }
    if (i < n) {  // at '\n'
      end = i;
      ++i;
      ++line;
    }
    std::string_view text = input.substr(start, end - start);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    const bool too_long = text.size() > max_line_bytes;
    out.push_back({too_long ? RawPrefix(text) : std::string(text), start_line, too_long,
                   unterminated && !too_long});
  }
  return out;
}

// Read everything `reader` returns for `fd` from offset 0: with kEmit, or kHold until it
// returns false and then kDrain.
std::vector<Expected> ReadAll(LineReader* reader, int fd, bool follow) {
  PULSE_FUZZ_CHECK(::lseek(fd, 0, SEEK_SET) == 0, "lseek");
  reader->Reset(fd, nullptr, nullptr);
  std::vector<Expected> got;
  AtEnd mode = follow ? AtEnd::kHold : AtEnd::kEmit;
  for (;;) {
    Line line;
    pulse::Result<bool> more = reader->Next(mode, &line);
    PULSE_FUZZ_CHECK(more.ok(), more.status().ToString());
    if (!*more) {
      if (mode != AtEnd::kHold) break;
      mode = AtEnd::kDrain;
      continue;
    }
    got.push_back({std::string(line.text), line.number, line.too_long, line.unterminated_quote});
  }
  return got;
}

}  // namespace

// Selector byte: bit 0 CSV framing; bits 1-3 block bytes {1, 2, 3, 4, 7, 16, 64, 4096};
// bits 4-6 max_line_bytes {1, 2, 3, 8, 64, 1023, 1025, 1 MiB}; bit 7 follow (kHold, kDrain).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  constexpr size_t kBlocks[] = {1, 2, 3, 4, 7, 16, 64, 4096};
  constexpr size_t kLimits[] = {1, 2, 3, 8, 64, 1023, 1025, 1u << 20};
  const uint8_t selector = data[0];
  const Framing framing = (selector & 1) != 0 ? Framing::kCsv : Framing::kLines;
  const size_t block_bytes = kBlocks[(selector >> 1) & 7];
  const size_t max_line_bytes = kLimits[(selector >> 4) & 7];
  const bool follow = (selector & 128) != 0;
  const std::string_view input = pulse::fuzz::AsText(data + 1, size - 1);

  pulse::fuzz::MemFile file(input);
  const int fd = ::open(file.path().c_str(), O_RDONLY | O_CLOEXEC);
  PULSE_FUZZ_CHECK(fd >= 0, "open " << file.path());
  LineReader reader(framing, max_line_bytes, block_bytes);
  const std::vector<Expected> got = ReadAll(&reader, fd, follow);
  ::close(fd);
  const std::vector<Expected> want = Split(input, framing, max_line_bytes);
  PULSE_FUZZ_CHECK(got.size() == want.size(), got.size() << " lines, expected " << want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const Expected& g = got[i];
    const Expected& w = want[i];
    // For a too-long line, unterminated_quote is unspecified (the line is bad either way).
    PULSE_FUZZ_CHECK(g.text == w.text && g.number == w.number && g.too_long == w.too_long &&
                         (g.too_long || g.unterminated_quote == w.unterminated_quote),
                     "line " << i << ": got #" << g.number << (g.too_long ? " too long" : "")
                             << (g.unterminated_quote ? " unterminated" : "") << " '" << g.text
                             << "', expected #" << w.number << (w.too_long ? " too long" : "")
                             << (w.unterminated_quote ? " unterminated" : "") << " '" << w.text
                             << "'");
  }
  // The documented memory bound: max(block, max_line_bytes + "\r\n").
  PULSE_FUZZ_CHECK(reader.buffer_capacity() <= std::max(block_bytes, max_line_bytes + 2),
                   reader.buffer_capacity());
  return 0;
}
