// SPDX-License-Identifier: MIT
// Event-time parsing (RFC 3339, epoch ms), formatting and duration strings, all with plain
// civil-calendar arithmetic (no timegm, no locale).
#include "pulse/core/time.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace pulse {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;

// Days since 1970-01-01 of the proleptic Gregorian date y-m-d (H. Hinnant's days_from_civil).
constexpr int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;                                   // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           // [0, 146096]
  return era * 146097 + doe - 719468;
}

struct CivilDate {
  int64_t year;
  int month;
  int day;
};

// Inverse of DaysFromCivil.
constexpr CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;                                      // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

static_assert(DaysFromCivil(1970, 1, 1) == 0);
static_assert(DaysFromCivil(0, 1, 1) * kMsPerDay == kMinEventTime);
static_assert(DaysFromCivil(10000, 1, 1) * kMsPerDay - 1 == kMaxEventTime);

constexpr bool IsLeapYear(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr int DaysInMonth(int64_t y, int m) {
  constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Read exactly `n` digits at text[*pos] into *out and advance; false if they are not all digits.
bool ReadDigits(std::string_view text, size_t* pos, int n, int* out) {
  if (text.size() - *pos < static_cast<size_t>(n)) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = text[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

Status DurationSyntaxError(std::string_view text) {
  return Status::InvalidArgument("invalid duration \"" + std::string(text) +
                                 "\": expected an integer with a unit ms, s, m, h or d "
                                 "(e.g. \"500ms\", \"10s\", \"1h30m\")");
}

Status DurationRangeError(std::string_view text) {
  return Status::InvalidArgument("invalid duration \"" + std::string(text) +
                                 "\": out of range (at most " + FormatDuration(kMaxDurationMs) +
                                 " either way)");
}

// Append `v` in decimal with at least `width` digits (zero padded).
void AppendPadded(int64_t v, int width, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  const int len = static_cast<int>(end - buf);
  if (len < width) out->append(static_cast<size_t>(width - len), '0');
  out->append(buf, end);
}

}  // namespace

std::optional<EventTime> ParseRfc3339(std::string_view text) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, &pos, 4, &year) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &month) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &day)) {
    return std::nullopt;
  }
  if (pos >= text.size()) return std::nullopt;
  const char sep = text[pos++];
  if (sep != 'T' && sep != 't' && sep != ' ') return std::nullopt;
  if (!ReadDigits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &minute) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
  // Second 60 is a leap second; counting it as 60 makes it the first second of the next minute.
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;

  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t first = pos;
    int scale = 100;
    while (pos < text.size() && IsDigit(text[pos])) {
      millis += (text[pos] - '0') * scale;  // digits past the third add 0: truncation
      scale /= 10;
      ++pos;
    }
    if (pos == first) return std::nullopt;
  }

  if (pos >= text.size()) return std::nullopt;
  int64_t offset_ms = 0;
  const char zone = text[pos++];
  if (zone == 'Z' || zone == 'z') {
    // UTC.
  } else if (zone == '+' || zone == '-') {
    int off_hour, off_minute;
    if (!ReadDigits(text, &pos, 2, &off_hour) || !Expect(text, &pos, ':') ||
        !ReadDigits(text, &pos, 2, &off_minute) || off_hour > 23 || off_minute > 59) {
      return std::nullopt;
    }
    offset_ms = off_hour * kMsPerHour + off_minute * kMsPerMinute;
    if (zone == '-') offset_ms = -offset_ms;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  const EventTime t = DaysFromCivil(year, month, day) * kMsPerDay + hour * kMsPerHour +
                      minute * kMsPerMinute + second * kMsPerSecond + millis - offset_ms;
  if (t < kMinEventTime || t > kMaxEventTime) return std::nullopt;
  return t;
}

std::optional<EventTime> ParseEpochMillisText(std::string_view text) {
  const size_t digits_start = !text.empty() && text[0] == '-' ? 1 : 0;
  if (digits_start == text.size()) return std::nullopt;
  for (size_t i = digits_start; i < text.size(); ++i) {
    if (!IsDigit(text[i])) return std::nullopt;
  }
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (v < kMinEventTime || v > kMaxEventTime) return std::nullopt;
  return v;
}

std::optional<EventTime> ParseEventTimeText(std::string_view text) {
  if (auto t = ParseEpochMillisText(text)) return t;
  return ParseRfc3339(text);
}

std::string FormatEventTime(EventTime t) {
  if (t <= kMinWatermark) return "-inf";
  if (t >= kMaxWatermark) return "+inf";
  const int64_t days = FloorDiv(t, kMsPerDay);
  const int64_t ms_of_day = t - days * kMsPerDay;
  const CivilDate date = CivilFromDays(days);
  std::string out;
  out.reserve(24);
  if (date.year < 0) {
    out.push_back('-');
    AppendPadded(-date.year, 4, &out);
  } else {
    AppendPadded(date.year, 4, &out);
  }
  out.push_back('-');
  AppendPadded(date.month, 2, &out);
  out.push_back('-');
  AppendPadded(date.day, 2, &out);
  out.push_back('T');
  AppendPadded(ms_of_day / kMsPerHour, 2, &out);
  out.push_back(':');
  AppendPadded(ms_of_day / kMsPerMinute % 60, 2, &out);
  out.push_back(':');
  AppendPadded(ms_of_day / kMsPerSecond % 60, 2, &out);
  out.push_back('.');
  AppendPadded(ms_of_day % kMsPerSecond, 3, &out);
  out.push_back('Z');
  return out;
}

Result<DurationMs> ParseDuration(std::string_view text) {
  const std::string_view original = text;
  while (!text.empty() && IsAsciiSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsAsciiSpace(text.back())) text.remove_suffix(1);
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return DurationSyntaxError(original);

  // Every part is checked against kMaxDurationMs before it is added, so nothing overflows:
  // the running total stays <= 2 * kMaxDurationMs.
  int64_t total_ms = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t digits_start = pos;
    int64_t n = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      n = n * 10 + (text[pos] - '0');
      if (n > kMaxDurationMs) return DurationRangeError(original);
      ++pos;
    }
    if (pos == digits_start) return DurationSyntaxError(original);
    int64_t unit_ms;
    if (pos == text.size()) {
      // A bare integer means seconds, as in the original Pulse; only as the whole text.
      if (digits_start != 0) return DurationSyntaxError(original);
      unit_ms = kMsPerSecond;
    } else if (text.substr(pos, 2) == "ms") {
      unit_ms = 1;
      pos += 2;
    } else {
      switch (text[pos]) {
        case 's': unit_ms = kMsPerSecond; break;
        case 'm': unit_ms = kMsPerMinute; break;
        case 'h': unit_ms = kMsPerHour; break;
        case 'd': unit_ms = kMsPerDay; break;
        default: return DurationSyntaxError(original);
      }
      ++pos;
    }
    if (n > kMaxDurationMs / unit_ms) return DurationRangeError(original);
    total_ms += n * unit_ms;
    if (total_ms > kMaxDurationMs) return DurationRangeError(original);
  }
  return negative ? -total_ms : total_ms;
}

std::string FormatDuration(DurationMs d) {
  if (d == 0) return "0s";
  std::string out;
  // Unsigned so that the magnitude of INT64_MIN is representable.
  uint64_t rest = d < 0 ? 0 - static_cast<uint64_t>(d) : static_cast<uint64_t>(d);
  if (d < 0) out.push_back('-');
  struct Unit {
    uint64_t ms;
    const char* suffix;
  };
  constexpr Unit kUnits[] = {{static_cast<uint64_t>(kMsPerDay), "d"},
                             {static_cast<uint64_t>(kMsPerHour), "h"},
                             {static_cast<uint64_t>(kMsPerMinute), "m"},
                             {static_cast<uint64_t>(kMsPerSecond), "s"},
                             {1, "ms"}};
  for (const Unit& unit : kUnits) {
    const uint64_t n = rest / unit.ms;
    if (n == 0) continue;
    rest -= n * unit.ms;
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
    out.append(buf, end);
    out.append(unit.suffix);
  }
  return out;
}

}  // namespace pulse
