// SPDX-License-Identifier: MIT
// Binary images of the named aggregates' state (checkpoints, the state backend's values):
// little-endian fixed-width integers, doubles by their IEEE bits, and length-prefixed bytes.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace pulse::ops::internal {

inline void PutU8(uint8_t v, std::string* out) { out->push_back(static_cast<char>(v)); }

inline void PutU64(uint64_t v, std::string* out) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
  out->append(bytes, sizeof(bytes));
}

inline void PutI64(int64_t v, std::string* out) { PutU64(static_cast<uint64_t>(v), out); }
inline void PutF64(double v, std::string* out) { PutU64(std::bit_cast<uint64_t>(v), out); }

/// A length (LEB128 varint).
inline void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

/// Bytes with their length in front.
inline void PutBytes(std::string_view bytes, std::string* out) {
  PutVarint(bytes.size(), out);
  out->append(bytes);
}

// Each Get reads from the front of `*in` and consumes what it read; false when `*in` is too
// short (or a varint too long), leaving `*in` unspecified.

inline bool GetU8(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

inline bool GetU64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  uint64_t u = 0;
  for (size_t i = 0; i < 8; ++i) u |= uint64_t{static_cast<unsigned char>((*in)[i])} << (8 * i);
  in->remove_prefix(8);
  *v = u;
  return true;
}

inline bool GetI64(std::string_view* in, int64_t* v) {
  uint64_t u = 0;
  if (!GetU64(in, &u)) return false;
  *v = static_cast<int64_t>(u);
  return true;
}

inline bool GetF64(std::string_view* in, double* v) {
  uint64_t u = 0;
  if (!GetU64(in, &u)) return false;
  *v = std::bit_cast<double>(u);
  return true;
}

inline bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    uint8_t byte = 0;
    if (!GetU8(in, &byte)) return false;
    result |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

/// Bytes written by PutBytes; `*bytes` views `*in`'s buffer.
inline bool GetBytes(std::string_view* in, std::string_view* bytes) {
  uint64_t size = 0;
  if (!GetVarint(in, &size) || in->size() < size) return false;
  *bytes = in->substr(0, size);
  in->remove_prefix(size);
  return true;
}

}  // namespace pulse::ops::internal
