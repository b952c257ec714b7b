// SPDX-License-Identifier: MIT
// pulse_bench_floor: the cost of the work itself. Single-threaded: parse a JSONL file with
// simdjson's document stream and count (window, key) in a hash map, then write the counts.
// Pulse's overhead on the same file is its time divided by this program's.
//
//   pulse_bench_floor FILE WINDOW_MS TIME_FIELD KEY_FIELD > counts
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_map>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: pulse_bench_floor FILE WINDOW_MS TIME_FIELD KEY_FIELD\n");
    return 2;
  }
  const long long window = std::atoll(argv[2]);
  const std::string_view time_field = argv[3];
  const std::string_view key_field = argv[4];
  simdjson::padded_string json;
  if (simdjson::padded_string::load(argv[1]).get(json)) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  struct Hash {
    size_t operator()(const std::pair<long long, std::string>& p) const {
      return std::hash<std::string>()(p.second) * 31 + std::hash<long long>()(p.first);
    }
  };
  std::unordered_map<std::pair<long long, std::string>, long long, Hash> counts;
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document_stream docs;
  if (parser.iterate_many(json).get(docs)) return 1;
  long long records = 0;
  for (auto doc : docs) {
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) continue;
    int64_t ts = 0;
    std::string_view key;
    bool have_ts = false, have_key = false;
    for (auto field : obj) {
      std::string_view name;
      if (field.unescaped_key().get(name)) break;
      if (name == time_field) {
        have_ts = !field.value().get_int64().get(ts);
      } else if (name == key_field) {
        have_key = !field.value().get_string().get(key);
      }
    }
    if (!have_ts || !have_key) continue;
    long long start = ts / window * window;
    if (ts % window < 0) start -= window;
    ++counts[{start, std::string(key)}];
    ++records;
  }
  std::fprintf(stderr, "floor: %lld records, %zu (window, key) counts\n", records, counts.size());
  std::string out;
  for (const auto& [k, n] : counts) {
    out += std::to_string(k.first) + ' ' + k.second + ' ' + std::to_string(n) + '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
