// SPDX-License-Identifier: MIT
// VectorSource: an in-memory source for tests.
#pragma once

#include <algorithm>
#include <vector>

#include "pulse/core/connector.h"
#include "pulse/core/json_reader.h"

namespace pulse::testing {

/// Yields the given records, at most `max_per_read` per Read call, and declares `marks`
/// (whose indexes count from the first record of the whole vector). Takes part in checkpoints:
/// the position is {"next": the next record's index, "next_mark": the next mark's index}.
/// Not thread-safe (the source thread), like any Source.
class VectorSource : public Source, public CheckpointedSource {
 public:
  explicit VectorSource(std::vector<Record> records, size_t max_per_read = SIZE_MAX,
                        std::vector<SourceWatermark> marks = {})
      : records_(std::move(records)), max_per_read_(max_per_read), marks_(std::move(marks)) {}
  Status Open(const SourceContext& ctx) override {
    ctx_ = ctx;
    return Status::OK();
  }
  Result<bool> Read(size_t max_records, std::vector<Record>* out) override {
    const size_t first = next_;
    size_t n = std::min({max_records, max_per_read_, records_.size() - next_});
    for (size_t i = 0; i < n; ++i) out->push_back(records_[next_++]);
    ctx_.counters->records += n;
    const bool more = next_ < records_.size();
    // Marks before the records of this call, and (on the last call) those after the end.
    for (; next_mark_ < marks_.size() &&
           (marks_[next_mark_].index < next_ || (!more && marks_[next_mark_].index >= next_));
         ++next_mark_) {
      size_t index = std::max(marks_[next_mark_].index, first) - first;
      pending_.push_back({std::min(index, n), marks_[next_mark_].watermark});
    }
    return more;
  }
  void TakeWatermarks(std::vector<SourceWatermark>* out) override {
    out->insert(out->end(), pending_.begin(), pending_.end());
    pending_.clear();
  }
  Status Close() override { return Status::OK(); }
  std::string Describe() const override { return "vector source"; }

  CheckpointedSource* AsCheckpointed() override { return this; }

  // CheckpointedSource.
  Result<Value> Position() override {
    Object pos;
    pos.emplace_back("next", Value(static_cast<int64_t>(next_)));
    pos.emplace_back("next_mark", Value(static_cast<int64_t>(next_mark_)));
    return Value(std::move(pos));
  }
  Status Seek(const Value& position) override {
    PULSE_ASSIGN_OR_RETURN(JsonObjectReader r,
                           JsonObjectReader::Make(position, "vector source position",
                                                  StatusCode::kInvalidArgument));
    PULSE_ASSIGN_OR_RETURN(uint64_t next, r.Uint("next"));
    PULSE_ASSIGN_OR_RETURN(uint64_t next_mark, r.Uint("next_mark"));
    next_ = static_cast<size_t>(next);
    next_mark_ = static_cast<size_t>(next_mark);
    return Status::OK();
  }

 private:
  std::vector<Record> records_;
  size_t max_per_read_;
  std::vector<SourceWatermark> marks_;
  size_t next_ = 0;
  size_t next_mark_ = 0;
  std::vector<SourceWatermark> pending_;
  SourceContext ctx_;
};

}  // namespace pulse::testing
