// SPDX-License-Identifier: MIT
// The window rules alone: which windows an event time belongs to, when a window closes, where a
// record falls among a key's sessions and how sessions merge.
#include "ops/window_rules.h"

#include <gtest/gtest.h>

#include <vector>

#include "ops/aggregate.h"
#include "ops/window_test_util.h"

namespace pulse::ops::internal {
namespace {

using ::pulse::ops::testing::Options;

// The (start, end) of every window a cursor yields, newest first.
std::vector<std::pair<EventTime, EventTime>> Windows(const WindowRules& rules, EventTime ts,
                                                     EventTime watermark) {
  std::vector<std::pair<EventTime, EventTime>> windows;
  for (FixedWindowCursor w = rules.WindowsOf(ts, watermark); w.Valid(); w.Next()) {
    EXPECT_EQ(w.start(), rules.WindowStart(w.index()));
    windows.emplace_back(w.start(), w.end());
  }
  return windows;
}

using Spans = std::vector<std::pair<EventTime, EventTime>>;

TEST(WindowRules, TumblingWindowOfATimeFloorsNegativeTimes) {
  const WindowRules rules(Options(WindowSpec::Tumbling(60), AggSpec::Count(), 0));
  EXPECT_EQ(Windows(rules, 0, kMinWatermark), (Spans{{0, 60}}));
  EXPECT_EQ(Windows(rules, 59, kMinWatermark), (Spans{{0, 60}}));
  EXPECT_EQ(Windows(rules, 60, kMinWatermark), (Spans{{60, 120}}));
  EXPECT_EQ(Windows(rules, -1, kMinWatermark), (Spans{{-60, 0}}));
  EXPECT_EQ(Windows(rules, -60, kMinWatermark), (Spans{{-60, 0}}));
  EXPECT_EQ(Windows(rules, -61, kMinWatermark), (Spans{{-120, -60}}));
}

TEST(WindowRules, SlidingWindowsOfATime) {
  // size 50, slide 20: [k·20, k·20 + 50) holding 45 for k = 2, 1, 0.
  const WindowRules rules(Options(WindowSpec::Sliding(50, 20), AggSpec::Count(), 0));
  EXPECT_EQ(Windows(rules, 45, kMinWatermark), (Spans{{40, 90}, {20, 70}, {0, 50}}));
  // 40 starts a window, and is in the two before it too.
  EXPECT_EQ(Windows(rules, 40, kMinWatermark), (Spans{{40, 90}, {20, 70}, {0, 50}}));
  // 59 is in [40, 90) and [20, 70); [0, 50) ends before it.
  EXPECT_EQ(Windows(rules, 59, kMinWatermark), (Spans{{40, 90}, {20, 70}}));
  EXPECT_EQ(Windows(rules, -1, kMinWatermark), (Spans{{-20, 30}, {-40, 10}}));
}

TEST(WindowRules, AWindowClosesAtItsEndPlusLateness) {
  const WindowRules rules(Options(WindowSpec::Sliding(60, 30), AggSpec::Count(), 10));
  EXPECT_FALSE(rules.IsClosed(60, 69));
  EXPECT_TRUE(rules.IsClosed(60, 70));
  EXPECT_EQ(rules.ClosesAt(60), 70);
  EXPECT_EQ(rules.ClosesAt(kMaxWatermark), kMaxWatermark);  // no open window: never
  // A record at 65 is in [30, 90) and [60, 120): at W = 99 both are open (90 + 10 > 99), at
  // W = 100 only [60, 120), at W = 130 neither (it is late for all of its windows).
  EXPECT_EQ(Windows(rules, 65, 99), (Spans{{60, 120}, {30, 90}}));
  EXPECT_EQ(Windows(rules, 65, 100), (Spans{{60, 120}}));
  EXPECT_EQ(Windows(rules, 65, 129), (Spans{{60, 120}}));
  EXPECT_TRUE(Windows(rules, 65, 130).empty());
}

struct S {
  EventTime start;
  EventTime last;
  Accumulator acc;
};

std::vector<S> Sessions(std::vector<std::pair<EventTime, EventTime>> spans) {
  std::vector<S> sessions;
  for (auto [start, last] : spans) {
    S s{start, last, Accumulator()};
    s.acc.Add(AggInput());
    sessions.push_back(std::move(s));
  }
  return sessions;
}

TEST(WindowRules, ARecordTouchesTheSessionsItOverlapsOrAdjoins) {
  // gap 10: sessions [0, 15) (last 5) and [30, 40) (last 30).
  const WindowRules rules(Options(WindowSpec::Session(10), AggSpec::Count(), 0));
  const std::vector<S> sessions = Sessions({{0, 5}, {30, 30}});
  auto place = [&](EventTime ts, EventTime watermark) {
    const SessionPlacement p = rules.PlaceSession(std::span<const S>(sessions), ts, watermark);
    return std::vector<size_t>{p.lo, p.hi, p.late ? 1u : 0u};
  };
  EXPECT_EQ(place(15, kMinWatermark), (std::vector<size_t>{0, 1, 0}));  // adjoins [0, 15)
  EXPECT_EQ(place(16, kMinWatermark), (std::vector<size_t>{1, 1, 0}));  // between: its own
  EXPECT_EQ(place(20, kMinWatermark), (std::vector<size_t>{1, 2, 0}));  // [20, 30) adjoins
  EXPECT_EQ(place(14, kMinWatermark), (std::vector<size_t>{0, 1, 0}));
  EXPECT_EQ(place(-10, kMinWatermark), (std::vector<size_t>{0, 1, 0}));  // [−10, 0) adjoins
  EXPECT_EQ(place(-11, kMinWatermark), (std::vector<size_t>{0, 0, 0}));
  EXPECT_EQ(place(41, kMinWatermark), (std::vector<size_t>{2, 2, 0}));
  // Late: touching nothing open while its own window is closed.
  EXPECT_EQ(place(16, 26), (std::vector<size_t>{1, 1, 1}));
  EXPECT_EQ(place(16, 25), (std::vector<size_t>{1, 1, 0}));
  EXPECT_EQ(place(15, 1000), (std::vector<size_t>{0, 1, 0}));  // joins an open session
}

TEST(WindowRules, MergingFoldsEveryTouchedSessionIntoOne) {
  const WindowRules rules(Options(WindowSpec::Session(10), AggSpec::Count(), 0));
  std::vector<S> sessions = Sessions({{0, 5}, {20, 22}, {40, 40}, {70, 75}});
  // A record at 30 bridges [20, 32) and [40, 50).
  const SessionPlacement p =
      rules.PlaceSession(std::span<const S>(sessions), 30, kMinWatermark);
  ASSERT_EQ(p.lo, 1u);
  ASSERT_EQ(p.hi, 3u);
  S fresh{30, 30, Accumulator()};
  fresh.acc.Add(AggInput());
  std::vector<EventTime> parts;
  const S& merged = rules.MergeSession(&sessions, p, std::move(fresh),
                                       [&](const S& part) { parts.push_back(part.start); });
  EXPECT_EQ(parts, (std::vector<EventTime>{20, 40}));
  EXPECT_EQ(merged.start, 20);
  EXPECT_EQ(merged.last, 40);
  EXPECT_EQ(rules.SessionEnd(merged.last), 50);
  EXPECT_EQ(merged.acc.Result(AggSpec::Kind::kCount).ToJson(), "3");
  ASSERT_EQ(sessions.size(), 3u);
  EXPECT_EQ(sessions[0].start, 0);
  EXPECT_EQ(sessions[1].start, 20);
  EXPECT_EQ(sessions[2].start, 70);
  // A record touching nothing ([56, 66)) is inserted in start order.
  const SessionPlacement alone =
      rules.PlaceSession(std::span<const S>(sessions), 56, kMinWatermark);
  rules.MergeSession(&sessions, alone, S{56, 56, Accumulator()}, [](const S&) {});
  ASSERT_EQ(sessions.size(), 4u);
  EXPECT_EQ(sessions[2].start, 56);
  EXPECT_EQ(sessions[3].start, 70);
}

}  // namespace
}  // namespace pulse::ops::internal
