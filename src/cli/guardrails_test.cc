// SPDX-License-Identifier: MIT
#include "cli/guardrails.h"

#include <gtest/gtest.h>

#include <string>

#include "cli/config.h"

namespace pulse::cli {
namespace {

std::string LoadError(const std::string& text) {
  Result<PipelineConfig> config = LoadConfigString(text, "pipeline.toml");
  return config.ok() ? std::string("OK") : config.status().message();
}

// A sliding-window config with `time` lines (line 5) and `window` lines (line 8 on).
std::string Config(const std::string& time, const std::string& window) {
  return "[source]\nkind = \"file\"\npath = \"in.jsonl\"\n[time]\n" + time +
         "\n[window]\ntype = \"sliding\"\n" + window +
         "\n[ops]\ncount_by = \"k\"\n[sink]\nkind = \"file\"\npath = \"out.jsonl\"\n";
}

TEST(SpelledDurationTest, LargestUnitFirst) {
  EXPECT_EQ(SpelledDuration(300'000), "5m");
  EXPECT_EQ(SpelledDuration(300'000'000), "3d 11h 20m");
  EXPECT_EQ(SpelledDuration(1'500), "1s 500ms");
  EXPECT_EQ(SpelledDuration(0), "0ms");
  EXPECT_EQ(SpelledDuration(-60'000), "-1m");
}

TEST(BareDurationMessageTest, SuggestsBothReadings) {
  EXPECT_EQ(BareDurationMessage("300000"),
            "300000: add a unit: 300000ms = 5m, or 300000s = 3d 11h 20m?");
  EXPECT_EQ(BareDurationMessage("500"), "500: add a unit: 500ms, or 500s = 8m 20s?");
  EXPECT_EQ(BareDurationMessage(" 60 "), "60: add a unit: 60ms, or 60s = 1m?");
  EXPECT_EQ(BareDurationMessage("0"), "0: add a unit: 0ms, or 0s = 0ms?");
  EXPECT_EQ(BareDurationMessage("60s"), "");
  EXPECT_EQ(BareDurationMessage("1h30m"), "");
  EXPECT_EQ(BareDurationMessage("-5"), "");
  EXPECT_EQ(BareDurationMessage(""), "");
}

TEST(BareDurationTest, EveryDurationKeyNeedsAUnit) {
  EXPECT_EQ(LoadError(Config("allowed_lateness = \"300000\"", "size = \"10m\"\nslide = \"1m\"")),
            "pipeline.toml:5: time.allowed_lateness: 300000: add a unit: 300000ms = 5m, or "
            "300000s = 3d 11h 20m?");
  EXPECT_EQ(LoadError(Config("", "size = \"600\"\nslide = \"1m\"")),
            "pipeline.toml:8: window.size: 600: add a unit: 600ms, or 600s = 10m?");
  EXPECT_EQ(LoadError(Config("max_out_of_orderness = \"5\"", "size = \"10m\"\nslide = \"1m\"")),
            "pipeline.toml:5: time.max_out_of_orderness: 5: add a unit: 5ms, or 5s?");
  // Connector keys too (the file sink's and Kafka's durations go through the same reader).
  EXPECT_EQ(LoadError(Config("", "size = \"10m\"\nslide = \"1m\"") +
                      "[checkpoint]\ndir = \"ck\"\ninterval = \"10\"\n"),
            "pipeline.toml:17: checkpoint.interval: 10: add a unit: 10ms, or 10s?");
  EXPECT_EQ(LoadError(Config("allowed_lateness = \"5m\"", "size = \"10m\"\nslide = \"1m\"")),
            "OK");
}

TEST(WindowsPerRecordTest, Figure) {
  EXPECT_EQ(WindowsPerRecord(60'000, 60'000), 1);
  EXPECT_EQ(WindowsPerRecord(300'000, 60'000), 5);
  EXPECT_EQ(WindowsPerRecord(300'000, 70'000), 5);
  EXPECT_EQ(WindowsPerRecord(86'400'000, 1), 86'400'000);
}

TEST(WindowsPerRecordTest, LimitIsAConfigError) {
  EXPECT_EQ(LoadError(Config("", "size = \"1d\"\nslide = \"1ms\"")),
            "pipeline.toml:9: window.size 1d / window.slide 1ms puts every record in 86400000 "
            "windows, more than the limit of 10000: use a larger slide, or raise "
            "window.max_windows_per_record");
  // 10,000 exactly is allowed; 10,001 is not.
  EXPECT_EQ(LoadError(Config("", "size = \"10000s\"\nslide = \"1s\"")), "OK");
  EXPECT_EQ(LoadError(Config("", "size = \"10001s\"\nslide = \"1s\"")),
            "pipeline.toml:9: window.size 2h46m41s / window.slide 1s puts every record in "
            "10001 windows, more than the limit of 10000: use a larger slide, or raise "
            "window.max_windows_per_record");
  const std::string one_day_by_seconds = "size = \"1d\"\nslide = \"1s\"\n";
  EXPECT_EQ(LoadError(Config("", one_day_by_seconds + "max_windows_per_record = 86400")), "OK");
  EXPECT_EQ(LoadError(Config("", one_day_by_seconds + "max_windows_per_record = 0")),
            "pipeline.toml:10: window.max_windows_per_record must be > 0; got 0");
}

}  // namespace
}  // namespace pulse::cli
