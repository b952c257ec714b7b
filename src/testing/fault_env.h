// SPDX-License-Identifier: MIT
// FaultEnv: an Env that fails chosen file operations, for tests of error paths (a full disk, a
// failing fsync or rename) without root, special file systems or real crashes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pulse/core/env.h"

namespace pulse::testing {

/// The operations a FaultEnv can fail.
enum class FaultOp : uint8_t {
  kOpenWritable,
  kAppend,     // WritableFile::Append
  kSync,       // WritableFile::Sync
  kClose,      // WritableFile::Close
  kTruncate,   // WritableFile::Truncate
  kOpenReadable,
  kRename,     // by the destination path
  kSyncPath,
  kCreateDir,
  kRemove,
};

/// Forwards every call to `target` (default: the local file system) except the faults armed
/// with Fail(), which return IOError(`text`) without calling the target; counts the calls of
/// each operation. A fault applies to paths that contain `path_part` ("" matches every path; a
/// trailing '$' anchors it at the end of the path; for a WritableFile's operations, the path it
/// was opened with). UniqueId() returns the ids
/// queued with QueueUniqueIds() first. Thread-safe. Faults of a file opened before Fail() also
/// apply to it.
class FaultEnv final : public EnvWrapper {
 public:
  explicit FaultEnv(Env& target = Env::Default()) : EnvWrapper(target) {}

  /// Fail the next `times` calls of `op` on paths containing `path_part`.
  void Fail(FaultOp op, std::string path_part = "", int times = 1,
            std::string text = "Input/output error (injected)") {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.push_back({op, std::move(path_part), times, std::move(text)});
  }

  /// Let Append write at most `bytes` more bytes to files whose path contains `path_part`: the
  /// write that would pass the limit writes what fits and fails with "File too large", as a
  /// full disk or a file-size limit would.
  void LimitBytes(std::string path_part, uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    limits_.emplace_back(std::move(path_part), bytes);
  }

  /// UniqueId() returns these first, in order.
  void QueueUniqueIds(std::vector<uint64_t> ids) {
    std::lock_guard<std::mutex> lock(mu_);
    ids_.insert(ids_.end(), ids.begin(), ids.end());
  }

  /// How many times `op` was called (failed or not).
  int calls(FaultOp op) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = calls_.find(op);
    return it == calls_.end() ? 0 : it->second;
  }

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     WriteMode mode) override {
    PULSE_RETURN_IF_ERROR(Check(FaultOp::kOpenWritable, path));
    PULSE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, target().OpenWritable(path, mode));
    return std::unique_ptr<WritableFile>(new File(*this, path, std::move(file)));
  }
  Result<std::unique_ptr<ReadableFile>> OpenReadable(const std::string& path) override {
    PULSE_RETURN_IF_ERROR(Check(FaultOp::kOpenReadable, path));
    return target().OpenReadable(path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    PULSE_RETURN_IF_ERROR(Check(FaultOp::kRename, to));
    return target().Rename(from, to);
  }
  Status SyncPath(const std::string& path) override {
    PULSE_RETURN_IF_ERROR(Check(FaultOp::kSyncPath, path));
    return target().SyncPath(path);
  }
  Status CreateDir(const std::string& dir) override {
    PULSE_RETURN_IF_ERROR(Check(FaultOp::kCreateDir, dir));
    return target().CreateDir(dir);
  }
  Status Remove(const std::string& path) override {
    PULSE_RETURN_IF_ERROR(Check(FaultOp::kRemove, path));
    return target().Remove(path);
  }
  uint64_t UniqueId() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!ids_.empty()) {
        const uint64_t id = ids_.front();
        ids_.pop_front();
        return id;
      }
    }
    return target().UniqueId();
  }

 private:
  struct Fault {
    FaultOp op;
    std::string path_part;
    int times;
    std::string text;
  };

  // A WritableFile whose calls pass through the FaultEnv's checks.
  class File final : public WritableFile {
   public:
    File(FaultEnv& env, std::string path, std::unique_ptr<WritableFile> file)
        : env_(env), path_(std::move(path)), file_(std::move(file)) {}
    Status Append(std::string_view data) override {
      PULSE_RETURN_IF_ERROR(env_.Check(FaultOp::kAppend, path_));
      const uint64_t allowed = env_.Take(path_, data.size());
      if (allowed < data.size()) {
        PULSE_RETURN_IF_ERROR(file_->Append(data.substr(0, allowed)));
        return Status::IOError("File too large");
      }
      return file_->Append(data);
    }
    Status Sync() override {
      PULSE_RETURN_IF_ERROR(env_.Check(FaultOp::kSync, path_));
      return file_->Sync();
    }
    Status Truncate(uint64_t length) override {
      PULSE_RETURN_IF_ERROR(env_.Check(FaultOp::kTruncate, path_));
      return file_->Truncate(length);
    }
    Status Close() override {
      PULSE_RETURN_IF_ERROR(env_.Check(FaultOp::kClose, path_));
      return file_->Close();
    }

   private:
    FaultEnv& env_;
    const std::string path_;
    std::unique_ptr<WritableFile> file_;
  };

  static bool Matches(std::string_view path, std::string_view part) {
    if (!part.empty() && part.back() == '$') {
      part.remove_suffix(1);
      return path.ends_with(part);
    }
    return path.find(part) != std::string_view::npos;
  }

  // Count the call; fail it if a fault is armed for it.
  Status Check(FaultOp op, const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_[op];
    for (Fault& f : faults_) {
      if (f.op != op || f.times <= 0 || !Matches(path, f.path_part)) continue;
      --f.times;
      return Status::IOError(f.text);
    }
    return Status::OK();
  }

  // How many of `want` bytes an Append to `path` may write under the limits.
  uint64_t Take(const std::string& path, uint64_t want) {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t allowed = want;
    for (auto& [part, left] : limits_) {
      if (!Matches(path, part)) continue;
      allowed = std::min(allowed, left);
      left -= std::min(left, want);
    }
    return allowed;
  }

  mutable std::mutex mu_;
  std::vector<Fault> faults_;
  std::vector<std::pair<std::string, uint64_t>> limits_;
  std::deque<uint64_t> ids_;
  std::map<FaultOp, int> calls_;
};

}  // namespace pulse::testing
