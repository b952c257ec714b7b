// SPDX-License-Identifier: MIT
// Connectors for executor tests: a source and a sink that follow a script (fail on the Nth
// call, block until released, run a hook) and record what happened, and a pass-through operator
// that fails on the Nth record.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pulse/core/connector.h"
#include "pulse/core/json_reader.h"
#include "pulse/core/operator.h"
#include "testing/vector_source.h"

namespace pulse::testing {

/// Wait until `done()` holds, polling in real time; false if `limit` passes first (a bound for
/// a broken build, not a timing assertion).
inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

/// `n` records for executor tests: record i has event time i·10 ms and the value
/// {"k": "k<i mod keys>", "i": i}.
inline std::vector<Record> Input(int n, int keys) {
  std::vector<Record> in;
  for (int i = 0; i < n; ++i) {
    std::string key = "k";  // appended, not "k" + …: GCC 12 misreads that (-Wrestrict)
    key += std::to_string(i % keys);
    Object o;
    o.emplace_back("k", Value(std::move(key)));
    o.emplace_back("i", Value(i));
    in.push_back(Record{i * 10, Value(std::move(o))});
  }
  return in;
}

/// The key text (compact JSON) of record i of Input(n, keys) keyed by "k".
inline std::string KeyText(uint64_t i, int keys) {
  std::string text = "\"k";
  text += std::to_string(i % keys);
  text += '"';
  return text;
}

/// What a ScriptedSource does besides yielding its records.
struct SourceScript {
  /// Called at the start of each Read with its number (from 1), on the source thread.
  std::function<void(uint64_t read)> before_read;
  /// The Read with this number (from 1) fails with IOError "injected read failure"; 0: none.
  uint64_t fail_on_read = 0;
};

/// A VectorSource that counts its reads, runs SourceScript::before_read, fails when told, and
/// ends its input early when SourceContext::stop is set (as a file source does on Ctrl-C).
/// The read count outlives the source (it is the caller's). Not thread-safe, except that
/// `reads` may be read from any thread.
class ScriptedSource : public VectorSource {
 public:
  ScriptedSource(std::vector<Record> records, size_t max_per_read, std::atomic<uint64_t>* reads,
                 SourceScript script, std::vector<SourceWatermark> marks = {})
      : VectorSource(std::move(records), max_per_read, std::move(marks)),
        reads_(reads),
        script_(std::move(script)) {}

  Status Open(const SourceContext& ctx) override {
    stop_ = ctx.stop;
    return VectorSource::Open(ctx);
  }
  Result<bool> Read(size_t max_records, std::vector<Record>* out) override {
    const uint64_t n = reads_->fetch_add(1) + 1;
    if (script_.before_read) script_.before_read(n);
    if (n == script_.fail_on_read) return Status::IOError("injected read failure");
    if (stop_ != nullptr && stop_->load()) return false;
    return VectorSource::Read(max_records, out);
  }
  std::string Describe() const override { return "scripted source"; }

 private:
  std::atomic<uint64_t>* reads_;
  SourceScript script_;
  const std::atomic<bool>* stop_ = nullptr;
};

/// What a TracingSink does besides recording.
struct SinkScript {
  uint64_t fail_on_write = 0;   // the Write with this number (from 1) fails (IOError)
  uint64_t block_on_write = 0;  // the Write with this number waits for SinkTrace::Release()
  uint64_t fail_on_commit = 0;  // Commit of the checkpoint with this id fails (IOError)
  bool fail_on_close = false;   // Close fails (IOError)
  std::chrono::milliseconds tick_interval{1000};  // what TickInterval() returns
  /// Called in PrepareCommit and in Close, on the sink thread (e.g. to advance a ManualClock).
  std::function<void(uint64_t checkpoint_id)> on_prepare_commit;
  std::function<void()> on_close;
};

/// What a TracingSink saw, owned by the test so that it outlives the run. Thread-safe: the
/// sink thread records, the test thread reads (and releases a blocked write).
class SinkTrace {
 public:
  /// Every call as one word ("open", "write", "watermark", "tick", "prepare", "commit",
  /// "recover", "close", "abort", "suspend"), in order.
  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  /// The records written, as compact JSON lines (cut back by Recover like a file).
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  std::vector<EventTime> watermarks() const {
    std::lock_guard<std::mutex> lock(mu_);
    return watermarks_;
  }
  size_t count(const std::string& event) const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const std::string& e : events_) n += e == event ? 1 : 0;
    return n;
  }
  /// Whether a Write is blocked (SinkScript::block_on_write) and not yet released.
  bool blocked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return blocked_;
  }
  /// Let a blocked Write (and every later one) go on.
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  bool released() const {
    std::lock_guard<std::mutex> lock(mu_);
    return released_;
  }

 private:
  friend class TracingSink;
  void Add(std::string event) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(event));
  }
  void Block() {
    std::unique_lock<std::mutex> lock(mu_);
    blocked_ = true;
    cv_.wait(lock, [this] { return released_; });
    blocked_ = false;
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
  std::vector<std::string> lines_;
  std::vector<EventTime> watermarks_;
  bool blocked_ = false;
  bool released_ = false;
};

/// A sink that records every call in a SinkTrace and follows a SinkScript. Takes part in
/// checkpoints: PrepareCommit covers the lines written so far, Recover cuts back to them.
/// Not thread-safe (the sink thread); the trace is.
class TracingSink : public Sink, public CheckpointedSink {
 public:
  explicit TracingSink(SinkTrace* trace, SinkScript script = {})
      : trace_(trace), script_(std::move(script)) {}

  Status Open(const SinkContext& ctx) override {
    counters_ = ctx.counters;
    trace_->Add("open");
    return Status::OK();
  }
  Status Write(std::span<const Record> records) override {
    const uint64_t n = ++writes_;
    trace_->Add("write");
    if (n == script_.block_on_write) trace_->Block();
    if (n == script_.fail_on_write) return Status::IOError("injected write failure");
    std::lock_guard<std::mutex> lock(trace_->mu_);
    for (const Record& r : records) trace_->lines_.push_back(r.value.ToJson());
    counters_->records += records.size();
    return Status::OK();
  }
  Status OnWatermark(EventTime watermark) override {
    trace_->Add("watermark");
    std::lock_guard<std::mutex> lock(trace_->mu_);
    trace_->watermarks_.push_back(watermark);
    return Status::OK();
  }
  Status Tick() override {
    trace_->Add("tick");
    return Status::OK();
  }
  std::chrono::milliseconds TickInterval() const override { return script_.tick_interval; }
  Status Close() override {
    trace_->Add("close");
    if (script_.on_close) script_.on_close();
    return script_.fail_on_close ? Status::IOError("injected close failure") : Status::OK();
  }
  void Abort() override { trace_->Add("abort"); }
  std::string Describe() const override { return "tracing sink"; }

  CheckpointedSink* AsCheckpointed() override { return this; }

  // CheckpointedSink: the information is {"lines": the number of lines covered}.
  Status Recover(const Value* info) override {
    trace_->Add("recover");
    size_t lines = 0;
    if (info != nullptr) {
      PULSE_ASSIGN_OR_RETURN(JsonObjectReader r,
                             JsonObjectReader::Make(*info, "tracing sink checkpoint entry"));
      PULSE_ASSIGN_OR_RETURN(uint64_t n, r.Uint("lines"));
      lines = static_cast<size_t>(n);
    }
    std::lock_guard<std::mutex> lock(trace_->mu_);
    trace_->lines_.resize(lines);
    return Status::OK();
  }
  Result<Value> PrepareCommit(uint64_t checkpoint_id) override {
    trace_->Add("prepare");
    if (script_.on_prepare_commit) script_.on_prepare_commit(checkpoint_id);
    Object info;
    info.emplace_back("lines", Value(static_cast<int64_t>(trace_->lines().size())));
    return Value(std::move(info));
  }
  Status Commit(uint64_t checkpoint_id) override {
    trace_->Add("commit");
    if (checkpoint_id == script_.fail_on_commit) return Status::IOError("injected commit failure");
    return Status::OK();
  }
  Status Suspend() override {
    trace_->Add("suspend");
    return Status::OK();
  }

 private:
  SinkTrace* trace_;
  SinkScript script_;
  SinkCounters* counters_ = nullptr;
  uint64_t writes_ = 0;
};

/// Passes every record through, except that the Nth record (from 1) fails with InvalidArgument
/// "injected operator failure". Not thread-safe (one stage's thread).
class FailingOperator : public Operator {
 public:
  explicit FailingOperator(uint64_t fail_on_record) : fail_on_record_(fail_on_record) {}
  std::string name() const override { return "failing"; }
  Status Process(Record in, Collector& out) override {
    if (++records_ == fail_on_record_) return Status::InvalidArgument("injected operator failure");
    out.Emit(std::move(in));
    return Status::OK();
  }

 private:
  uint64_t fail_on_record_;
  uint64_t records_ = 0;
};

}  // namespace pulse::testing
