// SPDX-License-Identifier: MIT
// The sketches behind approx_distinct, quantile and top_k against exact answers on large seeded
// inputs: their error bounds in every window, merges, images and memory bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "ops/distinct_sketch.h"
#include "ops/heavy_hitters.h"
#include "ops/quantile_sketch.h"
#include "testing/test_util.h"

namespace pulse::ops::internal {
namespace {

// ---- approx_distinct ----

// The distinct values of one window: `n` different integers or strings.
std::vector<Value> DistinctValues(uint64_t n, std::mt19937_64& rng, bool strings) {
  std::vector<Value> values;
  values.reserve(n);
  const uint64_t base = rng();
  for (uint64_t i = 0; i < n; ++i) {
    if (strings) {
      values.emplace_back("user-" + std::to_string(base % 1000003) + "-" + std::to_string(i));
    } else {
      values.emplace_back(static_cast<int64_t>((base & 0xffffffff) + i));  // consecutive ids
    }
  }
  return values;
}

struct ErrorStats {
  double sum_squares = 0;
  double worst = 0;
  int windows = 0;
  void Add(double relative_error) {
    sum_squares += relative_error * relative_error;
    worst = std::max(worst, std::abs(relative_error));
    ++windows;
  }
  double rms() const { return std::sqrt(sum_squares / windows); }
};

// Below kExactLimit distinct values the count is exact; above, the relative standard error is
// within 2 % (about 0.81 % for 2^14 registers) at every size from tens to 10^6, and no window is
// off by more than three times 2 %. Every window also sees each value several times.
TEST(DistinctSketch, ErrorBoundsAgainstExactCounts) {
  std::mt19937_64 rng(2024);
  uint64_t values_added = 0;
  for (uint64_t n : {10ull, 50ull, 100ull, 500ull, 1000ull, 1024ull, 1025ull, 2000ull, 5000ull,
                     20000ull, 100000ull, 1000000ull}) {
    ErrorStats stats;
    const int windows = n >= 1000000 ? 6 : (n >= 100000 ? 20 : 120);
    for (int w = 0; w < windows; ++w) {
      const std::vector<Value> values = DistinctValues(n, rng, w % 2 == 0);
      DistinctSketch sketch;
      for (int repeat = 0; repeat < 2; ++repeat) {
        for (const Value& v : values) sketch.Add(HashValueForDistinct(v));
      }
      values_added += 2 * n;
      const int64_t estimate = sketch.Estimate();
      if (n <= DistinctSketch::kExactLimit) {
        ASSERT_EQ(estimate, static_cast<int64_t>(n)) << "window " << w;
        ASSERT_TRUE(sketch.exact());
      }
      stats.Add((static_cast<double>(estimate) - static_cast<double>(n)) / static_cast<double>(n));
      EXPECT_LE(sketch.MemoryBytes(), 16384u);
    }
    EXPECT_LE(stats.rms(), 0.02) << n << " distinct values";
    if (n >= 5000 && windows >= 20) {
      // 1.04 / sqrt(2^14) = 0.81 %; allow sampling noise over the windows.
      EXPECT_LE(stats.rms(), 0.0125) << n << " distinct values";
    }
    EXPECT_LE(stats.worst, 3 * 0.02) << n << " distinct values";
    std::printf("approx_distinct: %7llu distinct, %3d windows: rms error %.3f %%, worst %.3f %%\n",
                static_cast<unsigned long long>(n), stats.windows, stats.rms() * 100,
                stats.worst * 100);
  }
  EXPECT_GE(values_added, 10'000'000u);
}

// A union through merges counts as the sketch of everything: registers take maxima, and the
// exact sets union, so any split and any merge order give the same estimate.
TEST(DistinctSketch, MergesEqualOneSketch) {
  std::mt19937_64 rng(5);
  for (uint64_t n : {300ull, 1500ull, 60000ull}) {
    const std::vector<Value> values = DistinctValues(n, rng, true);
    DistinctSketch whole;
    std::vector<DistinctSketch> parts(5);
    for (size_t i = 0; i < values.size(); ++i) {
      const uint64_t h = HashValueForDistinct(values[i]);
      whole.Add(h);
      parts[rng() % parts.size()].Add(h);
    }
    DistinctSketch merged;
    for (const DistinctSketch& p : parts) merged.Merge(p);
    DistinctSketch reversed;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) reversed.Merge(*it);
    EXPECT_EQ(merged.Estimate(), whole.Estimate()) << n;
    EXPECT_EQ(reversed.Estimate(), whole.Estimate()) << n;
    // The image reads back as the same sketch.
    std::string image;
    merged.AppendTo(&image);
    std::string_view in = image;
    DistinctSketch read;
    ASSERT_OK(read.ReadFrom(&in));
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(read.Estimate(), whole.Estimate());
    EXPECT_EQ(read.exact(), n <= DistinctSketch::kExactLimit);
  }
}

TEST(DistinctSketch, ValuesOfDifferentTypesAreDistinct) {
  DistinctSketch sketch;
  for (const Value& v : {Value(int64_t{1}), Value(1.0), Value("1"), Value(true), Value("true"),
                         Value(Array{Value(int64_t{1})}), Value(int64_t{1}), Value("1")}) {
    sketch.Add(HashValueForDistinct(v));
  }
  EXPECT_EQ(sketch.Estimate(), 6);
}

TEST(DistinctSketch, BadImagesAreCorruption) {
  DistinctSketch sketch;
  for (int i = 0; i < 2000; ++i) sketch.Add(HashValueForDistinct(Value(int64_t{i})));
  std::string image;
  sketch.AppendTo(&image);
  for (size_t cut : {size_t{0}, size_t{1}, image.size() - 1}) {
    std::string_view in(image.data(), cut);
    DistinctSketch read;
    EXPECT_EQ(read.ReadFrom(&in).code(), StatusCode::kCorruption) << cut;
  }
  std::string bad_register = image;
  bad_register[5] = 100;
  std::string_view in = bad_register;
  DistinctSketch read;
  EXPECT_EQ(read.ReadFrom(&in).code(), StatusCode::kCorruption);
}

// ---- quantile ----

// The largest distance, as a share of n, between the target rank of a query and the range of
// ranks the returned value holds in the sorted data.
double RankError(const std::vector<double>& sorted, uint64_t rank, double value) {
  const auto lo = std::lower_bound(sorted.begin(), sorted.end(), value) - sorted.begin() + 1;
  const auto hi = std::upper_bound(sorted.begin(), sorted.end(), value) - sorted.begin();
  const auto r = static_cast<int64_t>(rank);
  int64_t off = 0;
  if (hi < lo) {
    off = static_cast<int64_t>(sorted.size());  // not a value of the data at all
  } else if (r < lo) {
    off = lo - r;
  } else if (r > hi) {
    off = r - hi;
  }
  return static_cast<double>(off) / static_cast<double>(sorted.size());
}

enum class Shape { kUniform, kNormal, kAscending, kDescending, kFewValues, kHeavyTail };

std::vector<double> Values(Shape shape, size_t n, std::mt19937_64& rng) {
  std::vector<double> v(n);
  std::normal_distribution<double> normal(100, 15);
  std::exponential_distribution<double> exponential(0.01);
  for (size_t i = 0; i < n; ++i) {
    switch (shape) {
      case Shape::kUniform: v[i] = static_cast<double>(rng() % 1000000) / 7; break;
      case Shape::kNormal: v[i] = normal(rng); break;
      case Shape::kAscending: v[i] = static_cast<double>(i); break;
      case Shape::kDescending: v[i] = static_cast<double>(n - i); break;
      case Shape::kFewValues: v[i] = static_cast<double>(rng() % 17); break;
      case Shape::kHeavyTail: v[i] = std::pow(exponential(rng), 3); break;
    }
  }
  return v;
}

const std::vector<double> kQs = {0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95,
                                 0.99, 0.999, 1};

// Check every q of one window; returns the worst rank error.
double WorstRankError(const QuantileSketch& sketch, std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const uint64_t n = values.size();
  std::vector<uint64_t> ranks;
  for (double q : kQs) ranks.push_back(std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * n))));
  const std::vector<double> got = sketch.ValuesAtRanks(ranks);
  double worst = 0;
  for (size_t i = 0; i < ranks.size(); ++i) worst = std::max(worst, RankError(values, ranks[i], got[i]));
  return worst;
}

// Windows from 1 to 10^6 values of several shapes (sorted input is the classic hard case for
// compactors): every quantile of every window within 1 % of n in rank; exact up to kK values;
// the minimum and maximum exact; memory within about 3·kK items.
TEST(QuantileSketch, RankErrorBelowOnePercentInEveryWindow) {
  std::mt19937_64 rng(99);
  uint64_t values_added = 0;
  int windows = 0;
  double worst = 0;
  for (Shape shape : {Shape::kUniform, Shape::kNormal, Shape::kAscending, Shape::kDescending,
                      Shape::kFewValues, Shape::kHeavyTail}) {
    for (size_t n : {size_t{1}, size_t{7}, size_t{1000}, size_t{1024}, size_t{1025},
                     size_t{5000}, size_t{30000}, size_t{200000}, size_t{1000000}}) {
      const int repeats = n >= 200000 ? 1 : 8;
      for (int r = 0; r < repeats; ++r) {
        const std::vector<double> values = Values(shape, n, rng);
        QuantileSketch sketch;
        for (double v : values) sketch.Add(v);
        values_added += n;
        ++windows;
        EXPECT_EQ(sketch.count(), n);
        EXPECT_EQ(sketch.exact(), n <= QuantileSketch::kK);
        EXPECT_LE(sketch.items(), 3 * QuantileSketch::kK + 64);
        const double error = WorstRankError(sketch, values);
        if (n <= QuantileSketch::kK) {
          EXPECT_EQ(error, 0) << n;
        }
        EXPECT_LE(error, 0.01) << "shape " << static_cast<int>(shape) << ", n " << n;
        worst = std::max(worst, error);
        const std::vector<double> extremes = sketch.ValuesAtRanks(std::vector<uint64_t>{1, n});
        EXPECT_EQ(extremes[0], *std::min_element(values.begin(), values.end()));
        EXPECT_EQ(extremes[1], *std::max_element(values.begin(), values.end()));
      }
    }
  }
  EXPECT_GE(values_added, 6'000'000u);
  RecordProperty("windows", windows);
  RecordProperty("worst_rank_error_ppm", static_cast<int>(worst * 1e6));
  std::printf("quantile sketch: %d windows, worst rank error %.4f %% of n\n", windows,
              worst * 100);
}

// Sessions merge their sketches: a window built from many merged parts (in any grouping) keeps
// the bound, and merging is deterministic (the same parts in the same order give equal images).
TEST(QuantileSketch, MergedWindowsKeepTheBound) {
  std::mt19937_64 rng(3);
  for (int window = 0; window < 40; ++window) {
    const size_t n = 20000 + rng() % 200000;
    const std::vector<double> values = Values(static_cast<Shape>(window % 6), n, rng);
    std::vector<QuantileSketch> parts(1 + rng() % 30);
    for (double v : values) parts[rng() % parts.size()].Add(v);
    QuantileSketch merged;
    QuantileSketch again;
    for (const QuantileSketch& p : parts) {
      merged.Merge(p);
      again.Merge(p);
    }
    EXPECT_EQ(merged.count(), n);
    EXPECT_LE(WorstRankError(merged, values), 0.01) << "window " << window;
    std::string a, b;
    merged.AppendTo(&a);
    again.AppendTo(&b);
    EXPECT_EQ(a, b);
  }
}

TEST(QuantileSketch, ImagesRoundTripAndBadOnesAreCorruption) {
  std::mt19937_64 rng(8);
  QuantileSketch sketch;
  for (double v : Values(Shape::kUniform, 50000, rng)) sketch.Add(v);
  std::string image;
  sketch.AppendTo(&image);
  std::string_view in = image;
  QuantileSketch read;
  ASSERT_OK(read.ReadFrom(&in));
  EXPECT_TRUE(in.empty());
  std::string again;
  read.AppendTo(&again);
  EXPECT_EQ(again, image);
  // The restored sketch goes on exactly as the original (its coin flips too).
  for (double v : Values(Shape::kNormal, 20000, rng)) {
    sketch.Add(v);
    read.Add(v);
  }
  std::string a, b;
  sketch.AppendTo(&a);
  read.AppendTo(&b);
  EXPECT_EQ(a, b);
  for (size_t cut : {size_t{0}, size_t{30}, image.size() - 1}) {
    std::string_view short_in(image.data(), cut);
    QuantileSketch bad;
    EXPECT_EQ(bad.ReadFrom(&short_in).code(), StatusCode::kCorruption) << cut;
  }
  std::string wrong_count = image;
  wrong_count[0] ^= 1;  // n no longer matches the items' weights
  std::string_view wrong_in = wrong_count;
  QuantileSketch bad;
  EXPECT_EQ(bad.ReadFrom(&wrong_in).code(), StatusCode::kCorruption);
}

// ---- top_k ----

// Zipf-like streams: every count is low by at most n / (capacity + 1), every value seen more
// often than that is kept, counts are exact below 2·capacity distinct values, and memory stays
// within 2·capacity + 1 entries; merges keep the same bound.
TEST(HeavyHitters, MisraGriesBounds) {
  std::mt19937_64 rng(17);
  for (uint32_t k : {1u, 5u, 50u}) {
    const uint32_t capacity = HeavyHitters::CapacityFor(k);
    for (uint64_t distinct : {uint64_t{100}, uint64_t{2} * capacity, uint64_t{100000}}) {
      std::vector<double> cdf(distinct);
      double total = 0;
      for (uint64_t i = 0; i < distinct; ++i) cdf[i] = total += 1.0 / std::pow(i + 1.0, 1.1);
      const size_t n = 200000;
      std::map<std::string, uint64_t> exact;
      HeavyHitters hh(capacity);
      std::vector<HeavyHitters> parts(4, HeavyHitters(capacity));
      for (size_t i = 0; i < n; ++i) {
        const double u = std::uniform_real_distribution<double>(0, total)(rng);
        const uint64_t value = std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
        const std::string text = "\"v" + std::to_string(value) + "\"";
        ++exact[text];
        hh.Add(text);
        parts[i % parts.size()].Add(text);
        ASSERT_LE(hh.size(), 2 * size_t{capacity} + 1);
      }
      HeavyHitters merged(capacity);
      for (const HeavyHitters& p : parts) merged.Merge(p);
      const double slack = static_cast<double>(n) / (capacity + 1);
      for (const HeavyHitters* summary : {&hh, &merged}) {
        const auto top = summary->Top(2 * capacity + 1);
        std::map<std::string, uint64_t> got(top.begin(), top.end());
        for (const auto& [text, count] : exact) {
          const auto it = got.find(text);
          const uint64_t estimate = it == got.end() ? 0 : it->second;
          EXPECT_LE(estimate, count) << text;
          EXPECT_GE(static_cast<double>(estimate), static_cast<double>(count) - slack) << text;
          if (static_cast<double>(count) > slack) {
            EXPECT_NE(it, got.end()) << text;
          }
        }
        if (exact.size() <= 2 * size_t{capacity}) {
          EXPECT_TRUE(summary->exact());
          EXPECT_EQ(got, exact);
        }
      }
      // The top k by count agree with the exact ones when the counts are apart by more than the
      // slack; here the head of a Zipf distribution is.
      const auto top = hh.Top(k);
      ASSERT_EQ(top.size(), std::min<size_t>(k, exact.size()));
      EXPECT_EQ(top[0].first, "\"v0\"");
    }
  }
}

TEST(HeavyHitters, TiesByValueAndImages) {
  HeavyHitters hh(128);
  for (const char* text : {"\"b\"", "10", "9", "\"a\"", "true", "9", "null", "2.5", "\"b\""}) {
    hh.Add(text);
  }
  const auto top = hh.Top(10);
  std::vector<std::string> order;
  for (const auto& [text, count] : top) order.push_back(text + ":" + std::to_string(count));
  // Count first; then null, booleans, numbers by value, strings.
  EXPECT_EQ(order, (std::vector<std::string>{"9:2", "\"b\":2", "null:1", "true:1", "2.5:1",
                                             "10:1", "\"a\":1"}));
  std::string image;
  hh.AppendTo(&image);
  std::string_view in = image;
  HeavyHitters read;
  ASSERT_OK(read.ReadFrom(&in));
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(read.Top(10), top);
  std::string_view cut(image.data(), image.size() - 3);
  HeavyHitters bad;
  EXPECT_EQ(bad.ReadFrom(&cut).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace pulse::ops::internal
