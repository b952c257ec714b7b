// SPDX-License-Identifier: MIT
// FeedSource: an unbounded in-memory source that a test feeds while the run goes (the idle
// watermark, stopping a run that never ends by itself).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "pulse/core/connector.h"
#include "pulse/core/json_reader.h"

namespace pulse::testing {

/// What a test feeds a FeedSource, and what it can see of the source's reads. Owned by the
/// test so that it outlives the run (and can be fed again to a resumed run's source).
/// Thread-safe: the test feeds and reads the counters, the source thread takes.
class Feed {
 public:
  /// Make `records` available to the source, after those fed before.
  void Push(std::vector<Record> records) {
    std::lock_guard<std::mutex> lock(mu_);
    for (Record& r : records) records_.push_back(std::move(r));
  }
  /// No more records: the source ends its input once it has delivered all of them.
  void End() { ended_.store(true); }

  /// Records the source has delivered (this run's source: counted from its Seek position).
  uint64_t delivered() const { return delivered_.load(); }
  /// Reads that found nothing to deliver since the last record was delivered. Once it is at
  /// least 1 after a delivery, the source stage has processed that batch (it reads again only
  /// after processing and handing on the previous one).
  uint64_t empty_reads() const { return empty_reads_.load(); }

 private:
  friend class FeedSource;

  // Append up to `max` records from `next` to `out`; returns how many.
  size_t Take(size_t next, size_t max, std::vector<Record>* out) {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t n = next < records_.size() ? std::min(max, records_.size() - next) : 0;
    for (size_t i = 0; i < n; ++i) out->push_back(records_[next + i]);
    return n;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return records_.size();
  }

  mutable std::mutex mu_;
  std::vector<Record> records_;  // guarded by mu_
  std::atomic<bool> ended_{false};
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> empty_reads_{0};
};

/// An unbounded source over a Feed: each Read returns what was fed and not yet read (up to
/// max_records), or, when there is nothing, nothing after a wait of one millisecond of the
/// run's clock (SleepFor: a ManualClock does not move), as a followed file does when it is at
/// its end. It ends when the feed has ended and everything was read, or at a stop
/// (SourceContext::stop). Takes part in checkpoints: the position is {"next": the index of the
/// next record in the feed}; a resumed run's source is given a feed with the same records from
/// the first. Not thread-safe (the source thread), like any Source; the feed is.
class FeedSource : public Source, public CheckpointedSource {
 public:
  /// `unbounded`: what Unbounded() says (whether a stop is the normal end of this input).
  explicit FeedSource(Feed* feed, bool unbounded = true) : feed_(feed), unbounded_(unbounded) {}

  bool Unbounded() const override { return unbounded_; }

  Status Open(const SourceContext& ctx) override {
    ctx_ = ctx;
    return Status::OK();
  }
  Result<bool> Read(size_t max_records, std::vector<Record>* out) override {
    if (ctx_.stop != nullptr && ctx_.stop->load()) return false;
    const size_t n = feed_->Take(next_, max_records, out);
    next_ += n;
    ctx_.counters->records += n;
    if (n > 0) {
      feed_->empty_reads_.store(0);
      feed_->delivered_.fetch_add(n);
      return true;
    }
    if (feed_->ended_.load() && next_ >= feed_->size()) return false;
    Clock& clock = ctx_.env != nullptr ? ctx_.env->clock() : Env::Default().clock();
    clock.SleepFor(std::chrono::milliseconds(1));
    feed_->empty_reads_.fetch_add(1);
    return true;
  }
  Status Close() override { return Status::OK(); }
  std::string Describe() const override { return "feed source"; }

  CheckpointedSource* AsCheckpointed() override { return this; }

  // CheckpointedSource.
  Result<Value> Position() override {
    Object pos;
    pos.emplace_back("next", Value(static_cast<int64_t>(next_)));
    return Value(std::move(pos));
  }
  Status Seek(const Value& position) override {
    PULSE_ASSIGN_OR_RETURN(JsonObjectReader r,
                           JsonObjectReader::Make(position, "feed source position",
                                                  StatusCode::kInvalidArgument));
    PULSE_ASSIGN_OR_RETURN(uint64_t next, r.Uint("next"));
    next_ = static_cast<size_t>(next);
    return Status::OK();
  }

 private:
  Feed* feed_;
  const bool unbounded_;
  size_t next_ = 0;
  SourceContext ctx_;
};

}  // namespace pulse::testing
