// SPDX-License-Identifier: MIT
// CRC32C (Castagnoli), the checksum of checkpoint files: hardware (SSE4.2) when the CPU has it,
// a table-driven fallback otherwise.
#pragma once

#include <cstdint>
#include <string_view>

namespace pulse::internal {

/// Extend `crc` (the CRC32C of earlier bytes, 0 for none) with `data`.
/// Crc32cExtend(Crc32cExtend(0, a), b) == Crc32c(a + b). Thread-safe.
uint32_t Crc32cExtend(uint32_t crc, std::string_view data);

/// The CRC32C of `data` (of "123456789": 0xe3069283).
inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data); }

/// The table-driven implementation that Crc32cExtend falls back to (exposed for tests).
uint32_t Crc32cExtendPortable(uint32_t crc, std::string_view data);

}  // namespace pulse::internal
