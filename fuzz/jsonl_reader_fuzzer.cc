// SPDX-License-Identifier: MIT
// Fuzz target: the JSON-lines file source (LineReader framing, simdjson parsing, event times,
// projection, bad-record reporting) over an in-memory file. The first input byte selects the
// options (see Selector in fuzz_util.h); the rest is the file.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pulse::fuzz::FuzzFileSource(pulse::io::FileFormat::kJsonl, data, size);
  return 0;
}
