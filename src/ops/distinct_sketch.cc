// SPDX-License-Identifier: MIT
#include "ops/distinct_sketch.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "ops/state_image.h"
#include "pulse/core/json.h"

namespace pulse::ops::internal {
namespace {

// The register value (leading zeros + 1) can reach kMaxRank (a hash whose bits after the index
// are all zero).
constexpr int kTailBits = 64 - DistinctSketch::kPrecision;
constexpr int kMaxRank = kTailBits + 1;

// MurmurHash3's 64-bit finalizer: a bijection in which every input bit affects every output bit.
uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb93fe53ecd63ULL;
  x ^= x >> 33;
  return x;
}

// Type tags, so that values of different JSON types hash apart.
constexpr uint64_t kIntTag = 0x1b873593a5c3e2d1ULL;
constexpr uint64_t kDoubleTag = 0x85ebca6b3c6ef372ULL;
constexpr uint64_t kStringTag = 0xc2b2ae35ee1e2a87ULL;
constexpr uint64_t kTextTag = 0x27d4eb2f165667c5ULL;

uint64_t HashBytes(std::string_view bytes, uint64_t tag) {
  uint64_t h = Mix(tag ^ (bytes.size() * 0x9E3779B97F4A7C15ULL));
  const char* p = bytes.data();
  size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word = 0;
    std::memcpy(&word, p, 8);
    h = Mix(h ^ word) + 0x9E3779B97F4A7C15ULL;
  }
  if (n > 0) {
    uint64_t word = 0;
    std::memcpy(&word, p, n);
    h = Mix(h ^ word ^ (uint64_t{n} << 59));
  }
  return Mix(h);
}

// Ertl's σ(x) = x + Σ_{k≥1} x^(2^k) · 2^(k−1), for the share x of registers that are zero.
double Sigma(double x) {
  if (x == 1) return std::numeric_limits<double>::infinity();
  double y = 1;
  double z = x;
  for (;;) {
    x *= x;
    const double before = z;
    z += x * y;
    y += y;
    if (z == before) return z;
  }
}

// Ertl's τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))² · 2^−k) / 3, for the share x of registers that
// are not at their largest value.
double Tau(double x) {
  if (x == 0 || x == 1) return 0;
  double y = 1;
  double z = 1 - x;
  for (;;) {
    x = std::sqrt(x);
    const double before = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z == before) return z / 3;
  }
}

}  // namespace

uint64_t HashValueForDistinct(const Value& v) {
  switch (v.type()) {
    case Value::Type::kInt:
      return Mix(Mix(static_cast<uint64_t>(v.as_int()) ^ kIntTag));
    case Value::Type::kDouble:
      return Mix(Mix(std::bit_cast<uint64_t>(v.as_double()) ^ kDoubleTag));
    case Value::Type::kString:
      return HashBytes(v.as_string(), kStringTag);
    default:
      return HashBytes(v.ToJson(), kTextTag);
  }
}

void DistinctSketch::Add(uint64_t hash) {
  if (!exact()) {
    Update(hash);
    return;
  }
  if (hash == 0) hash = 1;
  if (set_.empty()) set_.assign(kFirstSlots, 0);
  size_t mask = set_.size() - 1;
  size_t i = static_cast<size_t>(hash) & mask;
  for (; set_[i] != 0; i = (i + 1) & mask) {
    if (set_[i] == hash) return;
  }
  if (count_ == kExactLimit) {
    ToRegisters();  // the set is full (2048 slots, 16 KiB): as large as the registers
    Update(hash);
    return;
  }
  if ((count_ + 1) * 2 > set_.size()) {
    Grow();
    mask = set_.size() - 1;
    for (i = static_cast<size_t>(hash) & mask; set_[i] != 0; i = (i + 1) & mask) {
    }
  }
  set_[i] = hash;
  ++count_;
}

void DistinctSketch::Grow() {
  std::vector<uint64_t> old = std::move(set_);
  set_.assign(old.size() * 2, 0);
  const size_t mask = set_.size() - 1;
  for (uint64_t h : old) {
    if (h == 0) continue;
    size_t i = static_cast<size_t>(h) & mask;
    while (set_[i] != 0) i = (i + 1) & mask;
    set_[i] = h;
  }
}

void DistinctSketch::Update(uint64_t hash) {
  const size_t index = static_cast<size_t>(hash >> kTailBits);
  const uint64_t tail = hash << kPrecision;
  const int rank = tail == 0 ? kMaxRank : std::countl_zero(tail) + 1;
  uint8_t& r = registers_[index];
  if (rank > r) r = static_cast<uint8_t>(rank);
}

void DistinctSketch::ToRegisters() {
  registers_.assign(kRegisters, 0);
  for (uint64_t h : set_) {
    if (h != 0) Update(h);
  }
  std::vector<uint64_t>().swap(set_);
  count_ = 0;
}

void DistinctSketch::Merge(const DistinctSketch& other) {
  if (other.exact()) {
    for (uint64_t h : other.set_) {
      if (h != 0) Add(h);
    }
    return;
  }
  if (exact()) ToRegisters();
  for (size_t i = 0; i < kRegisters; ++i) {
    if (other.registers_[i] > registers_[i]) registers_[i] = other.registers_[i];
  }
}

int64_t DistinctSketch::Estimate() const {
  if (exact()) return static_cast<int64_t>(count_);
  // counts[r]: the registers holding r.
  int64_t counts[kMaxRank + 1] = {};
  for (uint8_t r : registers_) ++counts[r];
  const double m = static_cast<double>(kRegisters);
  double z = m * Tau(1 - static_cast<double>(counts[kMaxRank]) / m);
  for (int r = kTailBits; r >= 1; --r) z = 0.5 * (z + static_cast<double>(counts[r]));
  z += m * Sigma(static_cast<double>(counts[0]) / m);
  const double alpha = 1 / (2 * std::log(2.0));
  return static_cast<int64_t>(std::llround(alpha * m * m / z));
}

void DistinctSketch::AppendTo(std::string* out) const {
  if (exact()) {
    PutU8(0, out);
    PutVarint(count_, out);
    for (uint64_t h : set_) {
      if (h != 0) PutU64(h, out);
    }
    return;
  }
  PutU8(1, out);
  out->append(reinterpret_cast<const char*>(registers_.data()), registers_.size());
}

Status DistinctSketch::ReadFrom(std::string_view* in) {
  set_.clear();
  registers_.clear();
  count_ = 0;
  uint8_t mode = 0;
  if (!GetU8(in, &mode)) return Status::Corruption("approx_distinct state: truncated");
  if (mode == 0) {
    uint64_t n = 0;
    if (!GetVarint(in, &n) || n > kExactLimit || in->size() < n * 8) {
      return Status::Corruption("approx_distinct state: bad hash list");
    }
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t h = 0;
      GetU64(in, &h);
      Add(h);
    }
    if (count_ != n) return Status::Corruption("approx_distinct state: repeated hashes");
    return Status::OK();
  }
  if (mode != 1 || in->size() < kRegisters) {
    return Status::Corruption("approx_distinct state: bad registers");
  }
  registers_.assign(in->begin(), in->begin() + kRegisters);
  in->remove_prefix(kRegisters);
  for (uint8_t r : registers_) {
    if (r > kMaxRank) return Status::Corruption("approx_distinct state: bad register");
  }
  return Status::OK();
}

}  // namespace pulse::ops::internal
