// SPDX-License-Identifier: MIT
// Determinism through the real `pulse` binary: a generated out-of-order data set with late and
// bad records gives byte-identical results, late output and dead letters for --workers 1, 2, 4
// and several batch sizes; tumbling counts also match an independent brute-force model.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr int64_t kBase = 1700000000000;     // 2023-11-14T22:13:20Z
constexpr int64_t kBound = 2000;             // max_out_of_orderness
constexpr int64_t kLateness = 500;           // allowed_lateness
constexpr int64_t kWindow = 10000;           // tumbling size

struct Event {
  int64_t ts;
  int key;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && (a < 0)); }

class DeterminismTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "pulse-determinism-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    std::mt19937_64 rng(20261123);
    std::ofstream out(dir_ / "in.jsonl", std::ios::binary);
    for (int i = 0; i < 30000; ++i) {
      if (i % 997 == 0) {  // a bad line now and then
        out << (i % 2 ? "{not json\n" : "{\"event_time\":1.5,\"user\":\"u1\"}\n");
        continue;
      }
      // Mostly in order with up to 3 s of disorder, so some records are later than the bound
      // plus the lateness allows.
      Event e{kBase + i * 20 - static_cast<int64_t>(rng() % 3000), static_cast<int>(rng() % 50)};
      events_.push_back(e);
      if (i % 3 == 0) {
        out << "{\"event_time\":" << e.ts << ",\"user\":\"u" << e.key << "\",\"v\":" << i % 7
            << "}\n";
      } else {  // the same instant as RFC 3339 (all times are after 2023, no sign issues)
        time_t secs = static_cast<time_t>(e.ts / 1000);
        char buf[32];
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", gmtime(&secs));
        out << "{\"user\":\"u" << e.key << "\",\"event_time\":\"" << buf << "."
            << std::to_string(1000 + e.ts % 1000).substr(1) << "Z\",\"v\":" << i % 7 << "}\n";
      }
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Run pulse with `window` settings; return out + late + dead-letter text.
  std::string RunPulse(const std::string& window, const std::string& agg, int workers,
                       int batch) {
    std::ofstream cfg(dir_ / "p.toml");
    cfg << "[source]\nkind = \"file\"\npath = \"in.jsonl\"\n"
        << "[time]\nmax_out_of_orderness = \"" << kBound << "ms\"\nallowed_lateness = \""
        << kLateness << "ms\"\n"
        << "[window]\n" << window << "\n[ops]\ncount_by = \"user\"\n" << agg << "\n"
        << "[sink]\nkind = \"file\"\npath = \"out.jsonl\"\n"
        << "[late_output]\npath = \"late.jsonl\"\n[dead_letter]\npath = \"dead.jsonl\"\n";
    cfg.close();
    std::string cmd = "cd '" + dir_.string() + "' && '" PULSE_BINARY "' run -c p.toml --workers " +
                      std::to_string(workers) + " --batch-size " + std::to_string(batch) +
                      " 2> stderr.txt";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadFile(dir_ / "stderr.txt");
    return ReadFile(dir_ / "out.jsonl") + "--late--\n" + ReadFile(dir_ / "late.jsonl") +
           "--dead--\n" + ReadFile(dir_ / "dead.jsonl");
  }

  // `late_expected`: the data set has records late for all their windows (not so for 10s
  // sliding windows, whose newest window stays open 7 s past any record).
  void ExpectSameForAllSettings(const std::string& window, const std::string& agg,
                                bool late_expected = true) {
    const std::string base = RunPulse(window, agg, 1, 4096);
    EXPECT_EQ(base.find("--late--\n{") != std::string::npos, late_expected);
    EXPECT_NE(base.find("--dead--\n{"), std::string::npos);
    for (int workers : {1, 2, 4}) {
      for (int batch : {1, 100, 4096}) {
        if (workers == 1 && batch == 4096) continue;
        EXPECT_TRUE(RunPulse(window, agg, workers, batch) == base)
            << window << " workers " << workers << " batch " << batch;
      }
    }
  }

  fs::path dir_;
  std::vector<Event> events_;
};

TEST_F(DeterminismTest, TumblingMatchesBruteForceModel) {
  // The model: W before each record; a record counts in its window unless end + L <= W.
  std::map<std::tuple<int64_t, int64_t, std::string>, int64_t> counts;  // (end, start, key text)
  int64_t watermark = INT64_MIN / 4;
  size_t late = 0;
  for (const Event& e : events_) {
    const int64_t start = FloorDiv(e.ts, kWindow) * kWindow;
    if (start + kWindow + kLateness <= watermark) {
      ++late;
    } else {
      counts[{start + kWindow, start, "\"u" + std::to_string(e.key) + "\""}]++;
    }
    watermark = std::max(watermark, e.ts - kBound);
  }
  std::string expected;
  for (const auto& [k, n] : counts) {
    expected += "{\"window_start_ms\":" + std::to_string(std::get<1>(k)) +
                ",\"window_end_ms\":" + std::to_string(std::get<0>(k)) +
                ",\"key\":" + std::get<2>(k) + ",\"count\":" + std::to_string(n) + "}\n";
  }
  ASSERT_GT(late, 10u);
  const std::string got = RunPulse("type = \"tumbling\"\nsize = \"10s\"", "", 2, 333);
  EXPECT_EQ(got.substr(0, got.find("--late--\n")), expected);
  const std::string late_text = got.substr(got.find("--late--\n") + 9);
  EXPECT_EQ(static_cast<size_t>(std::count(late_text.begin(), late_text.begin() +
                                           static_cast<long>(late_text.find("--dead--")), '\n')),
            late);
}

TEST_F(DeterminismTest, Tumbling) {
  ExpectSameForAllSettings("type = \"tumbling\"\nsize = \"10s\"", "agg = \"sum\"\nagg_field = \"v\"");
}

TEST_F(DeterminismTest, Sliding) {
  ExpectSameForAllSettings("type = \"sliding\"\nsize = \"10s\"\nslide = \"3s\"",
                           "agg = \"avg\"\nagg_field = \"v\"", false);
}

TEST_F(DeterminismTest, Session) {
  ExpectSameForAllSettings("type = \"session\"\ngap = \"300ms\"",
                           "agg = \"distinct\"\nagg_field = \"v\"");
}

}  // namespace
