// SPDX-License-Identifier: MIT
// Bad records: reasons, the policy for them, and the dead-letter output.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/env.h"
#include "pulse/core/status.h"
#include "pulse/core/value.h"

namespace pulse {

/// Why a record was not processed. Each reason has a stable snake_case name used in metrics,
/// summaries and dead-letter lines.
enum class BadReason : uint8_t {
  kBadEventTime,   // time field missing, null, a float, or not a valid time
  kInvalidJson,    // a line that is not JSON
  kNotAnObject,    // valid JSON that is not an object
  kRaggedRow,      // a CSV row with a different number of cells than the header
  kInvalidUtf8,    // bytes that are not UTF-8
  kLineTooLong,    // a line longer than max_line_bytes
  kLate,           // late for every window it belongs to
  kChannelFull,    // dropped by the opt-in PULSE_CHANNEL_BOUND
};
inline constexpr int kNumBadReasons = 8;

/// "bad_event_time", "invalid_json", ... ("late", "channel_full").
std::string_view BadReasonName(BadReason reason);

/// What a source does with a malformed record.
enum class OnError : uint8_t {
  kSkip,        // count it and go on (written to the dead-letter file when one is configured)
  kFail,        // stop the run with an error naming the record
};

/// A malformed input record, as the source saw it. Views are valid only during Report().
struct BadRecord {
  BadReason reason;
  std::string_view origin;  // file path, "-" for stdin, or e.g. "topic/partition"
  uint64_t position = 0;    // line number (1-based) in a file, or an offset
  std::string_view raw;     // the raw text (may be truncated for huge lines)
  std::string_view error;   // a short description of the problem
};

/// A copy of a recently reported bad record (BadRecordHandler::Recent), e.g. for the status
/// page. Value type.
struct RecentBadRecord {
  uint64_t number = 0;   // 1 for the first record the handler was told about, and so on
  int64_t unix_ms = 0;   // when it was reported (the handler's Env clock)
  BadReason reason = BadReason::kInvalidJson;
  std::string origin;
  uint64_t position = 0;
  std::string error;
  /// The start of the raw text as valid UTF-8 (invalid bytes as U+FFFD), at most
  /// BadRecordHandler::kRecentRawBytes bytes of the original, cut at a character boundary.
  std::string raw;
  bool raw_truncated = false;  // the raw text was longer
};

/// Counts bad records by reason, writes them to the dead-letter file, applies the policy, and
/// keeps copies of the last few. Report() is called from one thread at a time (the source
/// thread); the counters and Recent() may be read from any thread.
class BadRecordHandler {
 public:
  struct Options {
    OnError on_error = OnError::kSkip;
    std::string dead_letter_path;  // empty: no dead-letter output
    /// Where the dead-letter file is written; null: Env::Default(). Must outlive the handler.
    Env* env = nullptr;
  };

  /// Open the dead-letter file if configured (written to a temporary name, renamed on Close).
  static Result<std::unique_ptr<BadRecordHandler>> Open(Options options);
  ~BadRecordHandler();
  BadRecordHandler(const BadRecordHandler&) = delete;
  BadRecordHandler& operator=(const BadRecordHandler&) = delete;

  /// Count `bad`, write its dead-letter line, and return OK; with on_error = fail, return an
  /// InvalidArgument error that names the origin, position and reason.
  Status Report(const BadRecord& bad);

  /// Count records that have no position (late, channel_full) without writing them.
  void Count(BadReason reason, uint64_t n = 1);

  uint64_t count(BadReason reason) const;
  uint64_t total() const;

  /// Bad records Recent() keeps, and bytes of each one's raw text.
  static constexpr size_t kRecentRecords = 20;
  static constexpr size_t kRecentRawBytes = 200;
  /// The last kRecentRecords records passed to Report(), oldest first (records that are only
  /// counted, late and channel_full, have no text and are not kept). Any thread.
  std::vector<RecentBadRecord> Recent() const;

  /// Flush and commit the dead-letter file.
  Status Close();

  /// Checkpoints of the dead-letter file (see internal::OutputFile): its in-progress state as
  /// a JSON value (null when there is no file), continuing from one after a restart, and
  /// closing without publishing. Called on the thread that calls Report().
  Result<Value> PrepareCommit();
  Status Recover(const Value* info);
  Status Suspend();

 private:
  explicit BadRecordHandler(Options options);
  void Remember(const BadRecord& bad);
  class Writer;
  Options options_;
  std::unique_ptr<Writer> writer_;
  std::array<std::atomic<uint64_t>, kNumBadReasons> counts_{};
  mutable std::mutex recent_mu_;
  std::array<RecentBadRecord, kRecentRecords> recent_;  // a ring; guarded by recent_mu_
  uint64_t reported_ = 0;  // records passed to Report(); guarded by recent_mu_
};

}  // namespace pulse
