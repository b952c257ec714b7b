// SPDX-License-Identifier: MIT
// Tests for event-time parsing and formatting and for duration strings.
#include "pulse/core/time.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "testing/test_util.h"

namespace pulse {
namespace {

constexpr EventTime k2024 = 1704067200000;  // 2024-01-01T00:00:00Z

TEST(TimeTest, FloorDivRoundsTowardNegativeInfinity) {
  EXPECT_EQ(FloorDiv(7, 2), 3);
  EXPECT_EQ(FloorDiv(6, 2), 3);
  EXPECT_EQ(FloorDiv(-1, 1000), -1);
  EXPECT_EQ(FloorDiv(-1000, 1000), -1);
  EXPECT_EQ(FloorDiv(-1001, 1000), -2);
  EXPECT_EQ(FloorDiv(0, 1000), 0);
}

TEST(Rfc3339Test, UtcAndOffsets) {
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00Z"), k2024);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00+00:00"), k2024);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00-00:00"), k2024);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00+05:30"), 1704047400000);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00-08:00"), 1704096000000);
  EXPECT_EQ(ParseRfc3339("2024-01-01T05:30:00+05:30"), k2024);
  EXPECT_EQ(ParseRfc3339("2023-06-15T08:30:00Z"), 1686817800000);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00+23:59"), k2024 - (23 * 60 + 59) * 60000);
}

TEST(Rfc3339Test, SeparatorsAndCase) {
  EXPECT_EQ(ParseRfc3339("2024-01-01 00:00:00Z"), k2024);
  EXPECT_EQ(ParseRfc3339("2024-01-01t00:00:00z"), k2024);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00z"), k2024);
  EXPECT_EQ(ParseRfc3339("2024-01-01t00:00:00Z"), k2024);
}

TEST(Rfc3339Test, FractionsAreTruncatedToMilliseconds) {
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00.5Z"), k2024 + 500);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00.123Z"), k2024 + 123);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00.999Z"), k2024 + 999);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00.123999999Z"), k2024 + 123);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00.999999999999Z"), k2024 + 999);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00.000000000001Z"), k2024);
  EXPECT_EQ(ParseRfc3339("2024-02-29T12:34:56.789+00:00"), 1709210096789);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:00:00.25+01:00"), k2024 - 3600000 + 250);
}

TEST(Rfc3339Test, LeapSecondIsFirstMillisecondOfNextMinute) {
  EXPECT_EQ(ParseRfc3339("2016-12-31T23:59:60Z"), 1483228800000);
  EXPECT_EQ(ParseRfc3339("2016-12-31T23:59:60Z"), ParseRfc3339("2017-01-01T00:00:00Z"));
  EXPECT_EQ(ParseRfc3339("2016-12-31T23:59:60.500Z"), 1483228800500);
  EXPECT_EQ(ParseRfc3339("2016-12-31T23:59:61Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("9999-12-31T23:59:60Z"), std::nullopt);  // past the range
}

TEST(Rfc3339Test, CalendarValidation) {
  EXPECT_EQ(ParseRfc3339("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(ParseRfc3339("2000-02-29T00:00:00Z"), 951782400000);
  EXPECT_EQ(ParseRfc3339("2023-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("1900-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-02-30T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-04-31T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-04-30T00:00:00Z"), 1714435200000);
  EXPECT_EQ(ParseRfc3339("2024-12-31T00:00:00Z"), 1735603200000);
  EXPECT_EQ(ParseRfc3339("2024-13-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-00-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-01-00T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-01-32T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-01-01T24:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-01-01T00:60:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-01-01T23:59:59Z"), k2024 + 86399000);
}

TEST(Rfc3339Test, RangeBounds) {
  EXPECT_EQ(ParseRfc3339("0000-01-01T00:00:00Z"), kMinEventTime);
  EXPECT_EQ(ParseRfc3339("0000-02-29T00:00:00Z"), kMinEventTime + 59LL * 86400000);  // leap
  EXPECT_EQ(ParseRfc3339("0001-01-01T00:00:00Z"), -62135596800000);
  EXPECT_EQ(ParseRfc3339("9999-12-31T23:59:59.999Z"), kMaxEventTime);
  EXPECT_EQ(ParseRfc3339("9999-12-31T23:59:59.999999Z"), kMaxEventTime);
  // An offset can push a representable wall-clock time out of the range.
  EXPECT_EQ(ParseRfc3339("0000-01-01T00:00:00+00:01"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("0000-01-01T00:00:00-00:01"), kMinEventTime + 60000);
  EXPECT_EQ(ParseRfc3339("9999-12-31T23:59:59-00:01"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("9999-12-31T23:59:59+00:01"), kMaxEventTime - 999 - 60000);
}

TEST(Rfc3339Test, TimesBefore1970AreNegative) {
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:59:59Z"), -1000);
  EXPECT_EQ(ParseRfc3339("1969-07-20T20:17:40Z"), -14182940000);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00+01:00"), -3600000);
}

TEST(Rfc3339Test, RejectsEverythingElse) {
  for (const char* text : {
           "",
           "2024-01-01",
           "2024-01-01T00:00:00",
           "2024-01-01T00:00:00+05:3",
           "2024-01-01T00:00:00+05",
           "2024-01-01T00:00:00+0530",
           "2024-01-01T00:00:00+24:00",
           "2024-01-01T00:00:00+05:60",
           "2024-01-01T00:00:00Z ",
           " 2024-01-01T00:00:00Z",
           "2024-01-01T00:00:00ZZ",
           "2024-01-01T00:00:00.Z",
           "2024-01-01T00:00:00,5Z",
           "2024-01-01  00:00:00Z",
           "2024-01-01X00:00:00Z",
           "2024-01-01T0:00:00Z",
           "2024-1-01T00:00:00Z",
           "24-01-01T00:00:00Z",
           "+2024-01-01T00:00:00Z",
           "12024-01-01T00:00:00Z",
           "2024-01-01T00:00Z",
           "2024-01-01T00:00:00UTC",
           "2024/01/01T00:00:00Z",
           "1704067200000",
       }) {
    EXPECT_EQ(ParseRfc3339(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(EpochMillisTest, DigitsWithOptionalMinus) {
  EXPECT_EQ(ParseEpochMillisText("0"), 0);
  EXPECT_EQ(ParseEpochMillisText("-1"), -1);
  EXPECT_EQ(ParseEpochMillisText("1704067200000"), k2024);
  EXPECT_EQ(ParseEpochMillisText("007"), 7);
  EXPECT_EQ(ParseEpochMillisText("-62167219200000"), kMinEventTime);
  EXPECT_EQ(ParseEpochMillisText("253402300799999"), kMaxEventTime);
}

TEST(EpochMillisTest, RejectsOtherText) {
  for (const char* text : {"", "-", "+1", "1.0", "1e3", " 1", "1 ", "0x10", "--1", "1-",
                           "-62167219200001", "253402300800000", "9223372036854775807",
                           "12345678901234567890", "-12345678901234567890"}) {
    EXPECT_EQ(ParseEpochMillisText(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(EventTimeTextTest, DigitsFirstThenRfc3339) {
  EXPECT_EQ(ParseEventTimeText("1704067200000"), k2024);
  EXPECT_EQ(ParseEventTimeText("-1"), -1);
  EXPECT_EQ(ParseEventTimeText("2024-01-01T00:00:00Z"), k2024);
  EXPECT_EQ(ParseEventTimeText("2024-01-01 00:00:00+01:00"), k2024 - 3600000);
  EXPECT_EQ(ParseEventTimeText(""), std::nullopt);
  EXPECT_EQ(ParseEventTimeText("yesterday"), std::nullopt);
  EXPECT_EQ(ParseEventTimeText("1704067200000.0"), std::nullopt);
}

TEST(FormatEventTimeTest, Rfc3339WithMilliseconds) {
  EXPECT_EQ(FormatEventTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatEventTime(k2024), "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatEventTime(1709210096789), "2024-02-29T12:34:56.789Z");
  EXPECT_EQ(FormatEventTime(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatEventTime(-1000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(FormatEventTime(-14182940000), "1969-07-20T20:17:40.000Z");
  EXPECT_EQ(FormatEventTime(kMinEventTime), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatEventTime(kMaxEventTime), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatEventTime(kMinWatermark), "-inf");
  EXPECT_EQ(FormatEventTime(kMaxWatermark), "+inf");
  EXPECT_EQ(FormatEventTime(std::numeric_limits<int64_t>::min()), "-inf");
  EXPECT_EQ(FormatEventTime(std::numeric_limits<int64_t>::max()), "+inf");
}

TEST(FormatEventTimeTest, RoundTripsThroughParse) {
  for (EventTime t : {EventTime{0}, EventTime{-1}, k2024 + 123, EventTime{951782400000},
                      kMinEventTime, kMaxEventTime, EventTime{-14182940001},
                      EventTime{4857667240000}}) {
    EXPECT_EQ(ParseRfc3339(FormatEventTime(t)), t) << FormatEventTime(t);
  }
  // Every day over four centuries (leap-year rules included) round-trips.
  for (EventTime t = kMinEventTime; t <= kMaxEventTime; t += 86400000LL * 37 + 3723004) {
    ASSERT_EQ(ParseRfc3339(FormatEventTime(t)), t) << FormatEventTime(t);
  }
}

TEST(DurationTest, OriginalCases) {
  EXPECT_EQ(ParseDuration("500ms").value(), 500);
  EXPECT_EQ(ParseDuration("10s").value(), 10000);
  EXPECT_EQ(ParseDuration("2m").value(), 120000);
  EXPECT_EQ(ParseDuration("1h").value(), 3600000);
  EXPECT_EQ(ParseDuration("42").value(), 42000);
}

TEST(DurationTest, CompoundDaysSignsAndWhitespace) {
  EXPECT_EQ(ParseDuration("1h30m").value(), 5400000);
  EXPECT_EQ(ParseDuration("1d").value(), 86400000);
  EXPECT_EQ(ParseDuration("2d").value(), 172800000);
  EXPECT_EQ(ParseDuration("1m30s500ms").value(), 90500);
  EXPECT_EQ(ParseDuration("1d1h1m1s1ms").value(), 90061001);
  EXPECT_EQ(ParseDuration("30m1h").value(), 5400000);  // any order
  EXPECT_EQ(ParseDuration("0s").value(), 0);
  EXPECT_EQ(ParseDuration("0").value(), 0);
  EXPECT_EQ(ParseDuration("0ms").value(), 0);
  EXPECT_EQ(ParseDuration("-5s").value(), -5000);
  EXPECT_EQ(ParseDuration("-1h30m").value(), -5400000);
  EXPECT_EQ(ParseDuration("+5s").value(), 5000);
  EXPECT_EQ(ParseDuration("-42").value(), -42000);
  EXPECT_EQ(ParseDuration("  10s\t\n").value(), 10000);
  EXPECT_EQ(ParseDuration("007s").value(), 7000);
  EXPECT_EQ(ParseDuration("36600d").value(), kMaxDurationMs);
  EXPECT_EQ(ParseDuration("-36600d").value(), -kMaxDurationMs);
}

TEST(DurationTest, ErrorsSayWhatIsAllowed) {
  for (const char* text : {"1.5s", "10 s", "10S", "", "   ", "ms", "1x", "-", "+", "--5s", "s5",
                           "1h30", "1h 30m", "1H", "5sec", "1w", "1e3", "0x10", "1,5s", "Ms"}) {
    Result<DurationMs> r = ParseDuration(text);
    ASSERT_FALSE(r.ok()) << '"' << text << '"';
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(),
              "invalid duration \"" + std::string(text) +
                  "\": expected an integer with a unit ms, s, m, h or d "
                  "(e.g. \"500ms\", \"10s\", \"1h30m\")");
  }
}

TEST(DurationTest, OutOfRange) {
  for (const char* text : {"36600d1ms", "-36600d1ms", "36601d", "9223372036854775807",
                           "9223372036854775807ms", "99999999999999999999999s",
                           "2562047788015216h", "18446744073709551616ms", "20000d20000d"}) {
    Result<DurationMs> r = ParseDuration(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "invalid duration \"" + std::string(text) +
                                        "\": out of range (at most 36600d either way)");
  }
  EXPECT_EQ(ParseDuration("3162240000000ms").value(), kMaxDurationMs);
  EXPECT_FALSE(ParseDuration("3162240000001ms").ok());
}

TEST(DurationTest, Format) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(500), "500ms");
  EXPECT_EQ(FormatDuration(1000), "1s");
  EXPECT_EQ(FormatDuration(10000), "10s");
  EXPECT_EQ(FormatDuration(60000), "1m");
  EXPECT_EQ(FormatDuration(5400000), "1h30m");
  EXPECT_EQ(FormatDuration(86400000), "1d");
  EXPECT_EQ(FormatDuration(90061001), "1d1h1m1s1ms");
  EXPECT_EQ(FormatDuration(90500), "1m30s500ms");
  EXPECT_EQ(FormatDuration(-5000), "-5s");
  EXPECT_EQ(FormatDuration(-5400000), "-1h30m");
  EXPECT_EQ(FormatDuration(kMaxDurationMs), "36600d");
  EXPECT_EQ(FormatDuration(std::numeric_limits<int64_t>::min()),
            "-106751991167d7h12m55s808ms");
}

TEST(DurationTest, FormatRoundTripsThroughParse) {
  for (DurationMs d : {DurationMs{0}, DurationMs{1}, DurationMs{-1}, DurationMs{999},
                       DurationMs{1001}, DurationMs{5400000}, DurationMs{90061001},
                       DurationMs{-90061001}, DurationMs{86399999}, kMaxDurationMs,
                       -kMaxDurationMs}) {
    ASSERT_OK_AND_ASSIGN(DurationMs parsed, ParseDuration(FormatDuration(d)));
    EXPECT_EQ(parsed, d) << FormatDuration(d);
  }
}

}  // namespace
}  // namespace pulse
