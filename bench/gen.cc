// SPDX-License-Identifier: MIT
// pulse_bench_gen: a deterministic event generator for the benchmark harness.
//
//   pulse_bench_gen --records N --keys K [--skew S] [--disorder-ms D] [--step-ms T]
//                   [--record-bytes B] [--format jsonl|csv] [--seed X] --out FILE
//
// Record i has event time 1700000000000 + i·T − U(0, D) ms, a key "k<j>" with j drawn uniformly
// (S = 0) or Zipf-like with exponent S over K keys, an integer "value" in [0, 1000), and a
// "pad" string that brings the record to about B bytes. Same arguments, same bytes.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Args {
  uint64_t records = 1000000;
  uint64_t keys = 1000;
  double skew = 0;
  int64_t disorder_ms = 0;
  int64_t step_ms = 10;
  size_t record_bytes = 0;
  bool csv = false;
  uint64_t seed = 1;
  const char* out = nullptr;
};

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: pulse_bench_gen --records N --keys K [--skew S] [--disorder-ms D] "
               "[--step-ms T] [--record-bytes B] [--format jsonl|csv] [--seed X] --out FILE\n");
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--records")) a.records = std::strtoull(next(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--keys")) a.keys = std::strtoull(next(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--skew")) a.skew = std::strtod(next(), nullptr);
    else if (!std::strcmp(argv[i], "--disorder-ms")) a.disorder_ms = std::strtoll(next(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--step-ms")) a.step_ms = std::strtoll(next(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--record-bytes")) a.record_bytes = std::strtoull(next(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--format")) a.csv = !std::strcmp(next(), "csv");
    else if (!std::strcmp(argv[i], "--seed")) a.seed = std::strtoull(next(), nullptr, 10);
    else if (!std::strcmp(argv[i], "--out")) a.out = next();
    else Usage();
  }
  if (a.out == nullptr || a.keys == 0) Usage();
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = Parse(argc, argv);
  std::FILE* f = std::fopen(a.out, "wb");
  if (f == nullptr) {
    std::perror(a.out);
    return 1;
  }
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  std::mt19937_64 rng(a.seed);
  // Zipf-like: precomputed cumulative weights 1/(j+1)^s, sampled by binary search.
  std::vector<double> cdf;
  if (a.skew > 0) {
    cdf.resize(a.keys);
    double sum = 0;
    for (uint64_t j = 0; j < a.keys; ++j) cdf[j] = (sum += 1.0 / std::pow(double(j + 1), a.skew));
    for (double& c : cdf) c /= sum;
  }
  std::uniform_real_distribution<double> unit(0, 1);
  if (a.csv) std::fputs("event_time,key,value,pad\n", f);
  std::string line;
  for (uint64_t i = 0; i < a.records; ++i) {
    const int64_t jitter = a.disorder_ms > 0 ? static_cast<int64_t>(rng() % (a.disorder_ms + 1)) : 0;
    const int64_t ts = 1700000000000 + static_cast<int64_t>(i) * a.step_ms - jitter;
    uint64_t key;
    if (a.skew > 0) {
      key = static_cast<uint64_t>(std::lower_bound(cdf.begin(), cdf.end(), unit(rng)) - cdf.begin());
      if (key >= a.keys) key = a.keys - 1;
    } else {
      key = rng() % a.keys;
    }
    const int value = static_cast<int>(rng() % 1000);
    char head[128];
    int n = a.csv ? std::snprintf(head, sizeof head, "%lld,k%llu,%d,", (long long)ts,
                                  (unsigned long long)key, value)
                  : std::snprintf(head, sizeof head, "{\"event_time\":%lld,\"key\":\"k%llu\",\"value\":%d,\"pad\":\"",
                                  (long long)ts, (unsigned long long)key, value);
    line.assign(head, static_cast<size_t>(n));
    const size_t tail = a.csv ? 1 : 3;  // "\n" or "\"}\n"
    while (line.size() + tail < a.record_bytes) line += static_cast<char>('a' + (line.size() % 26));
    line += a.csv ? "\n" : "\"}\n";
    std::fwrite(line.data(), 1, line.size(), f);
  }
  return std::fclose(f) == 0 ? 0 : 1;
}
