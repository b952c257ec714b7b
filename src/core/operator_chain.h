// SPDX-License-Identifier: MIT
// OperatorChain: the stateless operators before the key (on the source stage) or after the
// keyed operator (on the sink stage), applied record by record.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "pulse/core/operator.h"
#include "pulse/core/record.h"
#include "pulse/core/status.h"

namespace pulse::internal {

/// What one operator of a chain received and emitted in the current batch (for metrics).
struct ChainCount {
  uint64_t received = 0;
  uint64_t emitted = 0;
};

/// Runs a record through a sequence of operators, depth first (each output of operator i goes
/// through operators i+1… before the next output of i), so that outputs keep their input's
/// order. Counts what each operator received and emitted since ResetCounts().
/// Borrows the operators, which must outlive the chain. Not thread-safe: one stage's thread.
class OperatorChain {
 public:
  explicit OperatorChain(std::vector<std::unique_ptr<Operator>>& ops)
      : ops_(ops), counts_(ops.size()) {}
  OperatorChain(const OperatorChain&) = delete;
  OperatorChain& operator=(const OperatorChain&) = delete;

  /// Run `record` through every operator, appending the final outputs to `out` (the record
  /// itself when the chain is empty). Errors: the first operator error, which stops the run.
  Status Process(Record record, std::vector<Record>* out) {
    return ProcessFrom(0, std::move(record), out);
  }

  /// Start counting a new batch.
  void ResetCounts();
  /// Per operator, in chain order: what it received and emitted since ResetCounts().
  const std::vector<ChainCount>& counts() const { return counts_; }
  bool empty() const { return ops_.empty(); }

 private:
  Status ProcessFrom(size_t first, Record record, std::vector<Record>* out);

  std::vector<std::unique_ptr<Operator>>& ops_;
  std::vector<ChainCount> counts_;
};

}  // namespace pulse::internal
