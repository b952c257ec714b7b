// SPDX-License-Identifier: MIT
// CountWindows: a small keyed operator for executor tests (tumbling event-time counts per key)
// that journals what each worker saw and can be checkpointed, so that tests of the executor do
// not depend on pulse::ops.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "pulse/core/key_group.h"
#include "pulse/core/operator.h"

namespace pulse::testing {

/// What the CountWindows instances of a run saw, per worker: each watermark AdvanceWatermark
/// received and each record's sequence (input position), in order. Owned by the test so that
/// it outlives the run. Thread-safe (the workers write, the test reads).
class KeyedJournal {
 public:
  std::vector<EventTime> watermarks(uint32_t worker) const {
    std::lock_guard<std::mutex> lock(mu_);
    return worker < watermarks_.size() ? watermarks_[worker] : std::vector<EventTime>{};
  }
  std::vector<uint64_t> sequences(uint32_t worker) const {
    std::lock_guard<std::mutex> lock(mu_);
    return worker < sequences_.size() ? sequences_[worker] : std::vector<uint64_t>{};
  }
  void AddWatermark(uint32_t worker, EventTime watermark) {
    std::lock_guard<std::mutex> lock(mu_);
    Grow(worker);
    watermarks_[worker].push_back(watermark);
  }
  void AddSequence(uint32_t worker, uint64_t sequence) {
    std::lock_guard<std::mutex> lock(mu_);
    Grow(worker);
    sequences_[worker].push_back(sequence);
  }

 private:
  void Grow(uint32_t worker) {
    if (watermarks_.size() <= worker) watermarks_.resize(worker + 1);
    if (sequences_.size() <= worker) sequences_.resize(worker + 1);
  }

  mutable std::mutex mu_;
  std::vector<std::vector<EventTime>> watermarks_;
  std::vector<std::vector<uint64_t>> sequences_;
};

struct CountWindowsOptions {
  DurationMs size = 100;  // tumbling window size
  /// A record with this key text (compact JSON, e.g. "\"boom\"") makes Process fail with
  /// InvalidArgument "injected keyed failure".
  std::optional<std::string> fail_on_key;
  KeyedJournal* journal = nullptr;  // may be null
};

/// Tumbling windows of options.size counting records per key. A window is released when the
/// watermark reaches its end, as {"key", "start", "end", "count"} ordered by (end, start, key);
/// a record whose window the watermark before it has passed is late. A snapshot is a text file
/// of the open windows and of the sequences processed so far, so that a test can see what a
/// checkpoint covers. One instance per worker; not thread-safe.
class CountWindows : public KeyedOperator {
 public:
  CountWindows(CountWindowsOptions options, KeyedOperatorContext ctx)
      : options_(std::move(options)), ctx_(ctx) {}

  std::string name() const override { return "count_windows"; }

  Status Process(KeyedRecord record, KeyedOutput* out) override {
    if (options_.fail_on_key && record.key == *options_.fail_on_key) {
      return Status::InvalidArgument("injected keyed failure");
    }
    Release(record.watermark, out);
    if (options_.journal != nullptr) options_.journal->AddSequence(ctx_.worker, record.sequence);
    sequences_.push_back(record.sequence);
    const EventTime start = record.record.time - Mod(record.record.time);
    if (start + options_.size <= record.watermark) {
      out->late.push_back(std::move(record));
      return Status::OK();
    }
    ++windows_[{start + options_.size, record.key}];
    return Status::OK();
  }

  Status AdvanceWatermark(EventTime watermark, KeyedOutput* out) override {
    if (options_.journal != nullptr) options_.journal->AddWatermark(ctx_.worker, watermark);
    Release(watermark, out);
    return Status::OK();
  }

  KeyedOperatorStats stats() const override { return {windows_.size(), windows_.size()}; }

  Status SnapshotState(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::ofstream f(dir + "/windows.txt");
    for (const auto& [window, count] : windows_) {
      f << "w " << window.first << ' ' << count << ' ' << window.second << '\n';
    }
    for (uint64_t s : sequences_) f << "s " << s << '\n';
    return f ? Status::OK() : Status::IOError("cannot write " + dir);
  }

  Status RestoreState(std::span<const std::string> dirs) override {
    for (const std::string& dir : dirs) {
      std::ifstream f(dir + "/windows.txt");
      std::string kind;
      while (f >> kind) {
        if (kind == "s") {
          uint64_t s = 0;
          f >> s;
          continue;  // the sequences of the earlier run are not this run's
        }
        EventTime end = 0;
        uint64_t count = 0;
        std::string key;
        f >> end >> count;
        f.get();
        std::getline(f, key);
        if (ctx_.key_groups.Contains(KeyGroupOf(KeyHash(key)))) windows_[{end, key}] += count;
      }
    }
    return Status::OK();
  }

 private:
  EventTime Mod(EventTime t) const {
    const EventTime m = t % options_.size;
    return m < 0 ? m + options_.size : m;
  }

  void Release(EventTime watermark, KeyedOutput* out) {
    while (!windows_.empty() && windows_.begin()->first.first <= watermark) {
      auto it = windows_.begin();
      const EventTime end = it->first.first;
      Object o;
      o.emplace_back("key", Value(it->first.second));
      o.emplace_back("start", Value(end - options_.size));
      o.emplace_back("end", Value(end));
      o.emplace_back("count", Value(static_cast<int64_t>(it->second)));
      out->results.push_back(KeyedResult{end, end - options_.size, it->first.second,
                                         Record{end - 1, Value(std::move(o))}});
      windows_.erase(it);
    }
  }

  CountWindowsOptions options_;
  KeyedOperatorContext ctx_;
  std::map<std::pair<EventTime, std::string>, uint64_t> windows_;  // (end, key text) → count
  std::vector<uint64_t> sequences_;
};

/// Makes a CountWindows per worker.
class CountWindowsFactory : public KeyedOperatorFactory {
 public:
  explicit CountWindowsFactory(CountWindowsOptions options = {}) : options_(std::move(options)) {}
  std::string name() const override { return "count_windows"; }
  std::string Describe() const override { return "count windows"; }
  std::vector<std::string> InputFields() const override { return {"*"}; }
  Result<std::unique_ptr<KeyedOperator>> Make(const KeyedOperatorContext& ctx) const override {
    return std::unique_ptr<KeyedOperator>(std::make_unique<CountWindows>(options_, ctx));
  }

 private:
  CountWindowsOptions options_;
};

}  // namespace pulse::testing
