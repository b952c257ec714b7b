// SPDX-License-Identifier: MIT
// File sink: compact JSON lines into an OutputFile (renamed into place on Close, or appended
// to in place in an unbounded run) or stdout.
#include <utility>

#include <fmt/format.h>

#include "pulse/core/json.h"
#include "pulse/core/output_file.h"
#include "pulse/io/file.h"

namespace pulse::io {
namespace {

// Not thread-safe: every call on the executor's sink thread (Recover and Suspend on the thread
// that runs the pipeline, while no stage runs).
class FileSinkImpl final : public Sink, public CheckpointedSink {
 public:
  explicit FileSinkImpl(FileSinkOptions options) : options_(std::move(options)) {}

  Status Open(const SinkContext& ctx) override {
    counters_ = ctx.counters;
    if (options_.path.empty()) {
      file_ = OutputFile::Stdout();
      return Status::OK();
    }
    // A run that lasts until it is stopped writes the final file itself, so that each result
    // is visible as soon as it is written (docs/running-continuously.md).
    const OutputVisibility visibility = !ctx.unbounded ? OutputVisibility::kAtCommit
                                        : ctx.checkpoints
                                            ? OutputVisibility::kAsWrittenRecoverable
                                            : OutputVisibility::kAsWritten;
    PULSE_ASSIGN_OR_RETURN(
        file_, OutputFile::Create(options_.path, ctx.env != nullptr ? *ctx.env : Env::Default(),
                                  visibility));
    return Status::OK();
  }

  Status Write(std::span<const Record> records) override {
    if (file_ == nullptr) return Status::Internal("file sink is not open");
    buffer_.clear();
    for (const Record& record : records) {
      AppendJson(record.value, &buffer_);
      buffer_.push_back('\n');
    }
    PULSE_RETURN_IF_ERROR(file_->Append(buffer_));
    // Written in place (stdout, or a file of an unbounded run), each batch is shown at once;
    // a temporary file is only visible after Close anyway.
    if (file_->visibility() != OutputVisibility::kAtCommit) {
      PULSE_RETURN_IF_ERROR(file_->Flush());
    }
    counters_->records.fetch_add(records.size(), std::memory_order_relaxed);
    counters_->bytes.fetch_add(buffer_.size(), std::memory_order_relaxed);
    return Status::OK();
  }

  Status Close() override {
    if (file_ == nullptr) return Status::OK();
    std::unique_ptr<OutputFile> file = std::move(file_);
    return file->Commit();
  }

  // Batches are flushed as they are written; this catches anything left in the buffer.
  Status Tick() override {
    if (file_ == nullptr || file_->visibility() == OutputVisibility::kAtCommit) {
      return Status::OK();
    }
    return file_->Flush();
  }

  void Abort() override {
    if (file_ == nullptr) return;
    file_->Abort();
    file_.reset();
  }

  std::string Describe() const override {
    return options_.path.empty() ? std::string("file sink stdout")
                                 : fmt::format("file sink '{}'", options_.path);
  }

  // What standard output printed cannot be taken back after a crash.
  CheckpointedSink* AsCheckpointed() override { return options_.path.empty() ? nullptr : this; }

  // CheckpointedSink: the OutputFile's protocol ({temp, length}, or {file, length} when written
  // in place); a temporary file is published by Close, so Commit has nothing to do.
  Status Recover(const Value* info) override { return file_->Recover(info); }

  Result<Value> PrepareCommit(uint64_t checkpoint_id) override {
    (void)checkpoint_id;
    return file_->PrepareCommit();
  }

  Status Commit(uint64_t checkpoint_id) override {
    (void)checkpoint_id;
    return Status::OK();
  }

  Status Suspend() override {
    if (file_ == nullptr) return Status::OK();
    std::unique_ptr<OutputFile> file = std::move(file_);
    return file->Suspend();
  }

 private:
  const FileSinkOptions options_;
  SinkCounters* counters_ = nullptr;
  std::unique_ptr<OutputFile> file_;
  std::string buffer_;  // one batch of lines, reused
};

}  // namespace

std::unique_ptr<Sink> FileSink(FileSinkOptions options) {
  return std::make_unique<FileSinkImpl>(std::move(options));
}

}  // namespace pulse::io
