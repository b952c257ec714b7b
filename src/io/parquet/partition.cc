// SPDX-License-Identifier: MIT
// Hive-style escaping of partition folder names, field and date partition values.
#include "io/parquet/partition.h"

#include <fmt/format.h>
#include <time.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

#include "pulse/core/json.h"

namespace pulse::io::internal {
namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

// The characters Hive's FileUtils.escapePathName escapes, besides control characters.
constexpr std::string_view kEscapedPunctuation = "\"#%'*/:=?\\{[]^";

// Conversions whose output depends only on the (UTC) time and is never empty.
constexpr std::string_view kDateConversions = "YCyGgmbBhdejUWVuwaAHIpMSFTDRsnt%";

// Room kept for `~` and the hash when a folder name is shortened.
constexpr size_t kHashSuffixBytes = 17;

constexpr int64_t kMillisPerSecond = 1000;

bool NeedsEscape(unsigned char c) {
  return c < 0x20 || c == 0x7F ||
         kEscapedPunctuation.find(static_cast<char>(c)) != std::string_view::npos;
}

void AppendEscaped(unsigned char c, std::string* out) {
  out->push_back('%');
  out->push_back(kHexDigits[c >> 4]);
  out->push_back(kHexDigits[c & 0xF]);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// 64-bit FNV-1a: a hash that is the same on every platform and in every run.
uint64_t StableHash(std::string_view text) {
  constexpr uint64_t kOffsetBasis = 14695981039346656037ULL;
  constexpr uint64_t kPrime = 1099511628211ULL;
  uint64_t h = kOffsetBasis;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= kPrime;
  }
  return h;
}

}  // namespace

std::string EscapePartitionText(std::string_view text) {
  if (text == ".") return "%2E";
  if (text == "..") return "%2E%2E";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (NeedsEscape(c)) {
      AppendEscaped(c, &out);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string UnescapePartitionText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string PartitionDirName(std::string_view name, std::string_view value) {
  std::string dir = EscapePartitionText(name);
  dir += '=';
  const size_t prefix = dir.size();
  dir += EscapePartitionText(value);
  if (dir.size() <= kMaxDirNameBytes) return dir;

  size_t cut = kMaxDirNameBytes - kHashSuffixBytes;
  if (cut < prefix) cut = prefix;
  // Not inside a %XX escape...
  for (size_t back = 1; back <= 2 && cut >= back; ++back) {
    if (dir[cut - back] == '%') {
      cut -= back;
      break;
    }
  }
  // ...nor inside a UTF-8 sequence (continuation bytes are 10xxxxxx).
  while (cut > prefix && (static_cast<unsigned char>(dir[cut]) & 0xC0) == 0x80) --cut;
  dir.resize(cut);
  dir += fmt::format("~{:016x}", StableHash(value));
  return dir;
}

std::string FieldPartitionValue(const Value* field) {
  if (field == nullptr || field->is_null()) return std::string(kHiveDefaultPartition);
  if (field->is_string()) {
    if (field->as_string().empty()) return std::string(kHiveDefaultPartition);
    return field->as_string();
  }
  return field->ToJson();
}

Status ValidateDateFormat(std::string_view format) {
  if (format.empty()) return Status::InvalidArgument("partition_format must not be empty");
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    if (i + 1 == format.size()) {
      return Status::InvalidArgument(fmt::format(
          "partition_format \"{}\" ends with a lone '%' (write %% for a percent sign)", format));
    }
    char conversion = format[++i];
    if (kDateConversions.find(conversion) == std::string_view::npos) {
      return Status::InvalidArgument(fmt::format(
          "partition_format \"{}\" has the conversion %{}; use strftime conversions of the "
          "date and time such as %Y %m %d %H %M %S %j %F (see docs/parquet.md)",
          format, conversion));
    }
  }
  return Status::OK();
}

const std::string& DateFormatter::Format(EventTime t) {
  const int64_t second = FloorDiv(t, kMillisPerSecond);
  if (has_cache_ && second == cached_second_) return cached_;
  time_t seconds = static_cast<time_t>(second);
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  // strftime returns 0 both for "too small" and for an empty result; a valid format is never
  // empty, so grow until it fits.
  std::array<char, 256> small;
  size_t n = strftime(small.data(), small.size(), format_.c_str(), &tm);
  if (n > 0) {
    cached_.assign(small.data(), n);
  } else {
    std::string big(format_.size() * 64 + 256, '\0');
    n = strftime(big.data(), big.size(), format_.c_str(), &tm);
    big.resize(n);
    cached_ = std::move(big);
  }
  cached_second_ = second;
  has_cache_ = true;
  return cached_;
}

bool DateFormatter::PeriodEndedBefore(std::string_view value, EventTime watermark) {
  if (watermark > kMaxEventTime) return true;
  if (watermark < kMinEventTime) return false;
  return Format(watermark) != value;
}

}  // namespace pulse::io::internal
