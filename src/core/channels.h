// SPDX-License-Identifier: MIT
// What flows between the stages of a run (batches with their watermark and an optional
// checkpoint barrier) and the bounded queues that carry it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/blocking_queue.h"
#include "pulse/core/operator.h"
#include "pulse/core/record.h"
#include "pulse/core/time.h"

namespace pulse::internal {

struct Barrier;  // checkpoint_coordinator.h

/// One batch from the source stage to keyed worker i: the records routed to the worker (maybe
/// none: every batch goes to every worker) and the watermark after the batch.
struct WorkerTask {
  std::vector<KeyedRecord> records;
  EventTime watermark = kMinWatermark;  // W after the batch
  bool last = false;                    // nothing follows
  std::shared_ptr<Barrier> barrier;     // a checkpoint after this batch (shared by all workers)
};

/// What keyed worker i made of its WorkerTask, for the sink stage.
struct WorkerOutput {
  KeyedOutput output;
  EventTime watermark = kMinWatermark;
  bool last = false;
  std::shared_ptr<Barrier> barrier;
};

/// One batch from the source stage straight to the sink stage (a pipeline without a key).
struct PlainBatch {
  std::vector<Record> records;
  EventTime watermark = kMinWatermark;
  bool last = false;
  std::shared_ptr<Barrier> barrier;
};

/// The queues of one run. A plain pipeline (workers == 0) has one queue from the source stage
/// to the sink stage; a keyed one has, per worker, one queue from the source stage and one to
/// the sink stage. Every queue holds `capacity` batches (RunOptions::queue_capacity; 0 counts as
/// 1): a full queue blocks its producer, which is how a slow sink slows the source.
/// Thread-safe (the queues are); the set of queues is fixed at construction.
class Channels {
 public:
  Channels(uint32_t workers, size_t capacity) : plain_(capacity) {
    for (uint32_t i = 0; i < workers; ++i) {
      to_worker_.push_back(std::make_unique<BlockingQueue<WorkerTask>>(capacity));
      from_worker_.push_back(std::make_unique<BlockingQueue<WorkerOutput>>(capacity));
    }
  }
  Channels(const Channels&) = delete;
  Channels& operator=(const Channels&) = delete;

  /// The number of keyed workers; 0 for a plain pipeline.
  uint32_t workers() const { return static_cast<uint32_t>(to_worker_.size()); }

  BlockingQueue<PlainBatch>& plain() { return plain_; }
  BlockingQueue<WorkerTask>& to_worker(uint32_t i) { return *to_worker_[i]; }
  BlockingQueue<WorkerOutput>& from_worker(uint32_t i) { return *from_worker_[i]; }

  /// Close every queue: producers stop, consumers drain what is left (after a failure).
  void CloseAll() {
    plain_.Close();
    for (auto& q : to_worker_) q->Close();
    for (auto& q : from_worker_) q->Close();
  }

 private:
  BlockingQueue<PlainBatch> plain_;
  std::vector<std::unique_ptr<BlockingQueue<WorkerTask>>> to_worker_;
  std::vector<std::unique_ptr<BlockingQueue<WorkerOutput>>> from_worker_;
};

}  // namespace pulse::internal
