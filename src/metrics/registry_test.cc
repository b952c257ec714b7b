// SPDX-License-Identifier: MIT
// Tests for the metric cells, the registry and the Prometheus text rendering.
#include "pulse/metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "pulse/config.h"

namespace pulse::metrics {
namespace {

TEST(Counter, OnlyGoesUp) {
  Registry registry;
  Counter& c = registry.GetCounter("pulse_test_total", "A test counter");
  EXPECT_EQ(c.value(), 0);
  c.Increment();
  c.Increment(41);
  c.Increment(-5);
  c.Increment(NAN);
  EXPECT_EQ(c.value(), 42);
}

TEST(Gauge, SetAndAdd) {
  Registry registry;
  Gauge& g = registry.GetGauge("pulse_test_gauge", "A test gauge");
  g.Set(10);
  g.Add(-3);
  EXPECT_EQ(g.value(), 7);
}

TEST(Registry, SameNameAndLabelsGiveTheSameCell) {
  Registry registry;
  Counter& a = registry.GetCounter("pulse_x_total", "x", {{"op", "a"}});
  Counter& b = registry.GetCounter("pulse_x_total", "x", {{"op", "b"}});
  Counter& a2 = registry.GetCounter("pulse_x_total", "x", {{"op", "a"}});
  EXPECT_EQ(&a, &a2);
  EXPECT_NE(&a, &b);
}

TEST(Registry, RendersPrometheusTextSortedByName) {
  Registry registry;
  registry.GetGauge("pulse_b", "Second").Set(-2.5);
  registry.GetCounter("pulse_a_total", "First", {{"operator", "map"}, {"stage", "emit"}})
      .Increment(3);
  registry.GetCounter("pulse_a_total", "First", {{"operator", "map"}, {"stage", "receive"}})
      .Increment(4);
  EXPECT_EQ(registry.RenderText(),
            "# HELP pulse_a_total First\n"
            "# TYPE pulse_a_total counter\n"
            "pulse_a_total{operator=\"map\",stage=\"emit\"} 3\n"
            "pulse_a_total{operator=\"map\",stage=\"receive\"} 4\n"
            "# HELP pulse_b Second\n"
            "# TYPE pulse_b gauge\n"
            "pulse_b -2.5\n");
}

TEST(Registry, DeclaredFamiliesRenderBeforeTheirFirstChild) {
  Registry registry;
  registry.Declare(MetricType::kCounter, "pulse_labelled_total", "With labels", {"op"});
  registry.Declare(MetricType::kGauge, "pulse_plain", "Without labels", {});
  EXPECT_EQ(registry.RenderText(),
            "# HELP pulse_labelled_total With labels\n"
            "# TYPE pulse_labelled_total counter\n"
            "# HELP pulse_plain Without labels\n"
            "# TYPE pulse_plain gauge\n"
            "pulse_plain 0\n");
}

TEST(Registry, EscapesHelpAndLabelValues) {
  Registry registry;
  registry.GetGauge("pulse_esc", "Back\\slash\nnew line", {{"v", "a\"b\\c\nd"}}).Set(1);
  EXPECT_EQ(registry.RenderText(),
            "# HELP pulse_esc Back\\\\slash\\nnew line\n"
            "# TYPE pulse_esc gauge\n"
            "pulse_esc{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Histogram, CumulativeBucketsSumAndCount) {
  Registry registry;
  const double bounds[] = {1, 5, 10};
  Histogram& h = registry.GetHistogram("pulse_lat_ms", "Latency", bounds);
  h.Observe(0.5);
  h.Observe(1);       // bucket bounds are inclusive
  h.Observe(7, 3);    // three observations at once
  h.Observe(100);
  h.Observe(NAN);     // ignored
  EXPECT_EQ(registry.RenderText(),
            "# HELP pulse_lat_ms Latency\n"
            "# TYPE pulse_lat_ms histogram\n"
            "pulse_lat_ms_bucket{le=\"1\"} 2\n"
            "pulse_lat_ms_bucket{le=\"5\"} 2\n"
            "pulse_lat_ms_bucket{le=\"10\"} 5\n"
            "pulse_lat_ms_bucket{le=\"+Inf\"} 6\n"
            "pulse_lat_ms_sum 122.5\n"
            "pulse_lat_ms_count 6\n");
}

TEST(Histogram, LatencyBucketsOfTheOriginal) {
  Registry registry;
  registry.GetHistogram("pulse_l_ms", "L", kLatencyBucketsMs, {{"op", "x"}});
  const std::string text = registry.RenderText();
  EXPECT_NE(text.find("pulse_l_ms_bucket{op=\"x\",le=\"0.1\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("pulse_l_ms_bucket{op=\"x\",le=\"1000\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("pulse_l_ms_bucket{op=\"x\",le=\"+Inf\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("pulse_l_ms_count{op=\"x\"} 0\n"), std::string::npos);
}

TEST(FormatValue, IntegersInfinitiesAndFractions) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(1704067200000), "1704067200000");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatValue(-INFINITY), "-Inf");
  EXPECT_EQ(FormatValue(NAN), "NaN");
  EXPECT_EQ(FormatValue(1e20), "1e+20");
}

TEST(Registry, HooksRunBeforeEachCollectionUntilRemoved) {
  Registry registry;
  Gauge& g = registry.GetGauge("pulse_sampled", "Sampled");
  int calls = 0;
  {
    CollectHook hook = registry.AddCollectHook([&] { g.Set(++calls); });
    EXPECT_EQ(registry.Collect()[0].samples[0].value, 1);
    EXPECT_EQ(registry.Collect()[0].samples[0].value, 2);
  }
  EXPECT_EQ(registry.Collect()[0].samples[0].value, 2);
  EXPECT_EQ(calls, 2);
}

TEST(Registry, RunAndRemoveTakesAFinalSample) {
  Registry registry;
  Gauge& g = registry.GetGauge("pulse_sampled", "Sampled");
  int calls = 0;
  CollectHook hook = registry.AddCollectHook([&] { g.Set(++calls); });
  hook.RunAndRemove();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(g.value(), 1);
  hook.RunAndRemove();  // no-op
  EXPECT_EQ(registry.Collect()[0].samples[0].value, 1);
  EXPECT_EQ(calls, 1);
}

TEST(Registry, ConcurrentIncrementsAndCollectionsLoseNothing) {
  Registry registry;
  Counter& c = registry.GetCounter("pulse_concurrent_total", "C");
  Histogram& h = registry.GetHistogram("pulse_concurrent_ms", "H", kLatencyBucketsMs);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        c.Increment();
        h.Observe(2);
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 200; ++i) (void)registry.RenderText();
  });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(c.value(), kThreads * kPerThread);
  EXPECT_EQ(h.snapshot().count, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(h.snapshot().sum, 2.0 * kThreads * kPerThread);
}

TEST(ProcessMetrics, PresentAtOnceWithPlausibleValues) {
  Registry registry;
  RegisterProcessMetrics(registry);
  RegisterProcessMetrics(registry);  // idempotent
  std::vector<FamilySnapshot> families = registry.Collect();
  ASSERT_EQ(families.size(), 4u);
  EXPECT_EQ(families[0].name, "pulse_build_info");
  ASSERT_EQ(families[0].samples.size(), 1u);
  EXPECT_EQ(families[0].samples[0].label_values, std::vector<std::string>{PULSE_VERSION});
  EXPECT_EQ(families[0].samples[0].value, 1);
  EXPECT_EQ(families[1].name, "pulse_process_cpu_seconds_total");
  EXPECT_EQ(families[1].type, MetricType::kCounter);
  EXPECT_GE(families[1].samples[0].value, 0);
  EXPECT_EQ(families[2].name, "pulse_process_resident_memory_bytes");
  EXPECT_GT(families[2].samples[0].value, 1e5);  // a running test binary uses > 100 kB
  EXPECT_EQ(families[3].name, "pulse_process_start_time_seconds");
  EXPECT_GT(families[3].samples[0].value, 1.5e9);  // after 2017
}

}  // namespace
}  // namespace pulse::metrics
