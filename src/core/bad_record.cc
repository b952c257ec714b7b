// SPDX-License-Identifier: MIT
// BadRecordHandler: per-reason counts, the dead-letter JSON lines file, the on_error policy.
#include "pulse/core/bad_record.h"

#include <simdjson.h>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "pulse/core/json.h"
#include "pulse/core/output_file.h"

namespace pulse {
namespace {

// Append `text` as a JSON string; invalid UTF-8 bytes become U+FFFD.
void AppendJsonText(std::string_view text, std::string* out, std::string* scratch) {
  if (simdjson::validate_utf8(text.data(), text.size())) {
    AppendJsonString(text, out);
    return;
  }
  scratch->clear();
  AppendUtf8Lossy(text, scratch);
  AppendJsonString(*scratch, out);
}

}  // namespace

std::string_view BadReasonName(BadReason reason) {
  switch (reason) {
    case BadReason::kBadEventTime: return "bad_event_time";
    case BadReason::kInvalidJson: return "invalid_json";
    case BadReason::kNotAnObject: return "not_an_object";
    case BadReason::kRaggedRow: return "ragged_row";
    case BadReason::kInvalidUtf8: return "invalid_utf8";
    case BadReason::kLineTooLong: return "line_too_long";
    case BadReason::kLate: return "late";
    case BadReason::kChannelFull: return "channel_full";
  }
  return "unknown";
}

// Writes one JSON line per bad record:
// {"reason":…,"origin":…,"position":…,"error":…,"raw":…}
class BadRecordHandler::Writer {
 public:
  explicit Writer(std::unique_ptr<OutputFile> file) : file_(std::move(file)) {}

  Status Write(const BadRecord& bad) {
    line_.clear();
    line_.append("{\"reason\":\"");
    line_.append(BadReasonName(bad.reason));
    line_.append("\",\"origin\":");
    AppendJsonText(bad.origin, &line_, &scratch_);
    fmt::format_to(std::back_inserter(line_), ",\"position\":{},\"error\":", bad.position);
    AppendJsonText(bad.error, &line_, &scratch_);
    line_.append(",\"raw\":");
    AppendJsonText(bad.raw, &line_, &scratch_);
    line_.append("}\n");
    return file_->Append(line_);
  }

  Status Commit() { return file_->Commit(); }
  OutputFile& file() { return *file_; }

 private:
  std::unique_ptr<OutputFile> file_;
  std::string line_;     // reused for each line
  std::string scratch_;  // reused for UTF-8 repair
};

BadRecordHandler::BadRecordHandler(Options options) : options_(std::move(options)) {}

BadRecordHandler::~BadRecordHandler() = default;

Result<std::unique_ptr<BadRecordHandler>> BadRecordHandler::Open(Options options) {
  std::unique_ptr<BadRecordHandler> handler(new BadRecordHandler(std::move(options)));
  if (!handler->options_.dead_letter_path.empty()) {
    Env& env = handler->options_.env != nullptr ? *handler->options_.env : Env::Default();
    auto file = OutputFile::Create(handler->options_.dead_letter_path, env);
    if (!file.ok()) return file.status().WithContext("dead-letter output");
    handler->writer_ = std::make_unique<Writer>(std::move(file).value());
  }
  return handler;
}

Status BadRecordHandler::Report(const BadRecord& bad) {
  counts_[static_cast<size_t>(bad.reason)].fetch_add(1, std::memory_order_relaxed);
  Remember(bad);
  if (writer_ != nullptr) {
    Status st = writer_->Write(bad);
    if (!st.ok()) return st.WithContext("dead-letter output");
  }
  if (options_.on_error == OnError::kFail) {
    return Status::InvalidArgument(fmt::format("{}:{}: {}: {}", bad.origin, bad.position,
                                               BadReasonName(bad.reason), bad.error));
  }
  return Status::OK();
}

// Copy `bad` into the ring of recent records, reusing the slot's strings (no allocation once
// they have grown). The text is made valid UTF-8 only when Recent() reads it, off the source's
// path.
void BadRecordHandler::Remember(const BadRecord& bad) {
  Env& env = options_.env != nullptr ? *options_.env : Env::Default();
  const int64_t now_ms = env.clock().UnixMillis();
  std::string_view raw = bad.raw.substr(0, kRecentRawBytes);
  if (raw.size() < bad.raw.size()) {
    // Back off to the start of a character: continuation bytes are 10xxxxxx.
    size_t cut = raw.size();
    for (int i = 0; i < 3 && cut > 0 && (static_cast<uint8_t>(bad.raw[cut]) & 0xC0) == 0x80;
         ++i) {
      --cut;
    }
    raw = raw.substr(0, cut);
  }
  std::lock_guard<std::mutex> lock(recent_mu_);
  RecentBadRecord& slot = recent_[reported_ % kRecentRecords];
  slot.number = ++reported_;
  slot.unix_ms = now_ms;
  slot.reason = bad.reason;
  slot.origin.assign(bad.origin);
  slot.position = bad.position;
  slot.error.assign(bad.error);
  slot.raw.assign(raw);
  slot.raw_truncated = raw.size() < bad.raw.size();
}

std::vector<RecentBadRecord> BadRecordHandler::Recent() const {
  std::vector<RecentBadRecord> out;
  {
    std::lock_guard<std::mutex> lock(recent_mu_);
    const uint64_t kept = std::min<uint64_t>(reported_, kRecentRecords);
    out.reserve(kept);
    for (uint64_t n = reported_ - kept; n < reported_; ++n) {
      out.push_back(recent_[n % kRecentRecords]);
    }
  }
  for (RecentBadRecord& r : out) {
    for (std::string* text : {&r.origin, &r.error, &r.raw}) {
      std::string valid;
      AppendUtf8Lossy(*text, &valid);
      *text = std::move(valid);
    }
  }
  return out;
}

void BadRecordHandler::Count(BadReason reason, uint64_t n) {
  counts_[static_cast<size_t>(reason)].fetch_add(n, std::memory_order_relaxed);
}

uint64_t BadRecordHandler::count(BadReason reason) const {
  return counts_[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
}

uint64_t BadRecordHandler::total() const {
  uint64_t sum = 0;
  for (const auto& c : counts_) sum += c.load(std::memory_order_relaxed);
  return sum;
}

Status BadRecordHandler::Close() {
  if (writer_ == nullptr) return Status::OK();
  std::unique_ptr<Writer> writer = std::move(writer_);
  Status st = writer->Commit();
  return st.ok() ? st : st.WithContext("dead-letter output");
}

Result<Value> BadRecordHandler::PrepareCommit() {
  if (writer_ == nullptr) return Value();
  Result<Value> info = writer_->file().PrepareCommit();
  if (!info.ok()) return info.status().WithContext("dead-letter output");
  return info;
}

Status BadRecordHandler::Recover(const Value* info) {
  if (writer_ == nullptr) return Status::OK();
  if (info != nullptr && info->is_null()) info = nullptr;
  Status st = writer_->file().Recover(info);
  return st.ok() ? st : st.WithContext("dead-letter output");
}

Status BadRecordHandler::Suspend() {
  if (writer_ == nullptr) return Status::OK();
  std::unique_ptr<Writer> writer = std::move(writer_);
  Status st = writer->file().Suspend();
  return st.ok() ? st : st.WithContext("dead-letter output");
}

}  // namespace pulse
