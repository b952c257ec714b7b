// SPDX-License-Identifier: MIT
// OperatorChain: depth-first application of stateless operators.
#include "core/operator_chain.h"

#include <algorithm>
#include <utility>

namespace pulse::internal {
namespace {

/// Collects an operator's outputs for the record being processed.
class VectorCollector final : public Collector {
 public:
  explicit VectorCollector(std::vector<Record>* out) : out_(out) {}
  void Emit(Record record) override { out_->push_back(std::move(record)); }

 private:
  std::vector<Record>* out_;
};

}  // namespace

void OperatorChain::ResetCounts() { std::fill(counts_.begin(), counts_.end(), ChainCount{}); }

Status OperatorChain::ProcessFrom(size_t first, Record record, std::vector<Record>* out) {
  if (first == ops_.size()) {
    out->push_back(std::move(record));
    return Status::OK();
  }
  std::vector<Record> produced;
  VectorCollector collector(&produced);
  PULSE_RETURN_IF_ERROR(ops_[first]->Process(std::move(record), collector));
  ++counts_[first].received;
  counts_[first].emitted += produced.size();
  for (Record& r : produced) {
    PULSE_RETURN_IF_ERROR(ProcessFrom(first + 1, std::move(r), out));
  }
  return Status::OK();
}

}  // namespace pulse::internal
