// SPDX-License-Identifier: MIT
// VectorSource: an in-memory source for tests.
#pragma once

#include <algorithm>
#include <vector>

#include "pulse/core/connector.h"

namespace pulse::testing {

/// Yields the given records, at most `max_per_read` per Read call.
class VectorSource : public Source {
 public:
  explicit VectorSource(std::vector<Record> records, size_t max_per_read = SIZE_MAX)
      : records_(std::move(records)), max_per_read_(max_per_read) {}
  Status Open(const SourceContext& ctx) override {
    ctx_ = ctx;
    return Status::OK();
  }
  Result<bool> Read(size_t max_records, std::vector<Record>* out) override {
    size_t n = std::min({max_records, max_per_read_, records_.size() - next_});
    for (size_t i = 0; i < n; ++i) out->push_back(records_[next_++]);
    ctx_.counters->records += n;
    return next_ < records_.size();
  }
  Status Close() override { return Status::OK(); }
  std::string Describe() const override { return "vector source"; }

 private:
  std::vector<Record> records_;
  size_t max_per_read_;
  size_t next_ = 0;
  SourceContext ctx_;
};

}  // namespace pulse::testing
