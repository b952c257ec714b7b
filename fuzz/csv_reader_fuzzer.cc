// SPDX-License-Identifier: MIT
// Fuzz target: the CSV file source (quote-aware framing, cell splitting, header mapping, event
// times) over an in-memory file, and SplitCsvRecord against a re-encoding oracle. The first input
// byte selects the source options (see Selector in fuzz_util.h); the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "io/csv_reader.h"

namespace {

// RFC 4180 text for `cells`: every cell quoted, quotes doubled.
std::string Encode(const std::vector<std::string>& cells, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : cells[i]) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  }
  return out;
}

// Splitting, re-encoding and splitting again gives the same cells; a record with no quote and
// no comma is one cell equal to itself.
void CheckSplit(std::string_view record) {
  std::vector<std::string> cells;
  const size_t n = pulse::io::internal::SplitCsvRecord(record, &cells);
  PULSE_FUZZ_CHECK(n >= 1 && n <= cells.size(), n);
  size_t commas = 0;
  for (char c : record) commas += c == ',' ? 1 : 0;
  PULSE_FUZZ_CHECK(n <= commas + 1, n << " cells from " << commas << " commas");
  if (record.find_first_of(",\"") == std::string_view::npos) {
    PULSE_FUZZ_CHECK(n == 1 && cells[0] == record, n);
  }
  std::vector<std::string> again;
  const size_t m = pulse::io::internal::SplitCsvRecord(Encode(cells, n), &again);
  PULSE_FUZZ_CHECK(m == n, m << " vs " << n);
  for (size_t i = 0; i < n; ++i) PULSE_FUZZ_CHECK(again[i] == cells[i], "cell " << i);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  CheckSplit(pulse::fuzz::AsText(data + 1, size - 1));
  pulse::fuzz::FuzzFileSource(pulse::io::FileFormat::kCsv, data, size);
  return 0;
}
