// SPDX-License-Identifier: MIT
// approx_distinct's state: exact while small, then a HyperLogLog with Ertl's estimator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/status.h"
#include "pulse/core/value.h"

namespace pulse::ops::internal {

/// A 64-bit hash of a JSON value for distinct counting, the same on every run and machine:
/// values that differ as JSON text (1, 1.0 and "1" all differ) hash apart, but for collisions.
uint64_t HashValueForDistinct(const Value& v);

/// The number of distinct 64-bit hashes added, estimated in bounded memory. Up to
/// kExactLimit distinct hashes it keeps them (a hash set of at most 16 KiB) and counts
/// exactly; beyond, a HyperLogLog of 2^kPrecision one-byte registers (16 KiB), whose
/// estimate (Ertl 2017, "New cardinality estimation algorithms for HyperLogLog sketches": the
/// improved raw estimator, no empirical bias tables) has a relative standard error of
/// 1.04 / 2^(kPrecision/2) = 0.81 % over the whole range. Order-independent: the same hashes
/// give the same count whatever order and merges they came in. Not thread-safe.
class DistinctSketch {
 public:
  static constexpr int kPrecision = 14;
  static constexpr size_t kRegisters = size_t{1} << kPrecision;
  static constexpr size_t kExactLimit = 1024;
  static constexpr size_t kFirstSlots = 16;  // the exact set's first size

  void Add(uint64_t hash);
  /// Fold `other` in (a union).
  void Merge(const DistinctSketch& other);
  /// The number of distinct hashes: exact while at most kExactLimit, then estimated.
  int64_t Estimate() const;
  /// Whether it still counts exactly.
  bool exact() const { return registers_.empty(); }
  /// Heap bytes held.
  size_t MemoryBytes() const { return set_.capacity() * 8 + registers_.capacity(); }

  /// Append the image: u8 mode (0 exact, 1 registers), then the hashes (varint count, u64
  /// each) or the kRegisters register bytes.
  void AppendTo(std::string* out) const;
  /// Read an image AppendTo wrote from the front of `*in`. Errors: Corruption.
  Status ReadFrom(std::string_view* in);

 private:
  void Grow();                 // double the exact set
  void ToRegisters();          // leave the exact mode
  void Update(uint64_t hash);  // one hash into the registers

  // Exact mode: an open-addressing set of the hashes (0 marks a free slot; a hash of 0 is kept
  // as 1), a power-of-two size at most twice its count.
  std::vector<uint64_t> set_;
  size_t count_ = 0;
  // Estimating mode: per register, the largest (leading zeros + 1) of the hashes' bits after
  // the index (at most 64 − kPrecision + 1).
  std::vector<uint8_t> registers_;
};

}  // namespace pulse::ops::internal
