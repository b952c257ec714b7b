// SPDX-License-Identifier: MIT
// CRC32C: standard check values, incremental use, and hardware = portable.
#include "core/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace pulse::internal {
namespace {

TEST(Crc32c, StandardCheckValues) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62a8ab43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(ascending), 0x46dd794eu);
}

TEST(Crc32c, ExtendEqualsWholeAndPortableEqualsDefault) {
  std::mt19937 rng(42);
  std::string data(5000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t n : {0, 1, 7, 8, 9, 63, 64, 65, 1000, 5000}) {
    std::string_view part(data.data(), n);
    const uint32_t whole = Crc32c(part);
    EXPECT_EQ(Crc32cExtendPortable(0, part), whole) << n;
    for (size_t split : {size_t{0}, n / 3, n}) {
      EXPECT_EQ(Crc32cExtend(Crc32cExtend(0, part.substr(0, split)), part.substr(split)), whole)
          << n << " split " << split;
    }
  }
}

}  // namespace
}  // namespace pulse::internal
