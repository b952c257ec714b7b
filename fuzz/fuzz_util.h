// SPDX-License-Identifier: MIT
// Shared helpers of the fuzz programs: checks that abort (so libFuzzer records a crash), an
// in-memory file with a path, and a file-source runner that checks the source's invariants.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/core/connector.h"
#include "pulse/core/json.h"
#include "pulse/core/time.h"
#include "pulse/core/value.h"
#include "io/file_source_internal.h"
#include "pulse/io/file.h"

namespace pulse::fuzz {

[[noreturn]] inline void Fail(const char* file, int line, const char* condition,
                              const std::string& message) {
  std::fprintf(stderr, "%s:%d: check failed: %s: %s\n", file, line, condition, message.c_str());
  std::abort();
}

/// Abort with a message (a crash for libFuzzer) unless `cond` holds. The message is built only
/// on failure: PULSE_FUZZ_CHECK(a == b, "a=" << a).
#define PULSE_FUZZ_CHECK(cond, stream_args)                             \
  do {                                                                  \
    if (!(cond)) {                                                      \
      std::ostringstream pulse_fuzz_msg_;                               \
      pulse_fuzz_msg_ << stream_args;                                   \
      ::pulse::fuzz::Fail(__FILE__, __LINE__, #cond, pulse_fuzz_msg_.str()); \
    }                                                                   \
  } while (false)

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// An anonymous in-memory file (memfd) holding `contents`, reachable by path() until destroyed.
class MemFile {
 public:
  explicit MemFile(std::string_view contents) {
    fd_ = ::memfd_create("pulse-fuzz", MFD_CLOEXEC);
    if (fd_ < 0) Fail(__FILE__, __LINE__, "memfd_create", "cannot create an in-memory file");
    size_t done = 0;
    while (done < contents.size()) {
      const ssize_t n = ::write(fd_, contents.data() + done, contents.size() - done);
      if (n <= 0) Fail(__FILE__, __LINE__, "write", "cannot fill the in-memory file");
      done += static_cast<size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

/// A directory for dead-letter files, made once per process and removed at exit: in $TMPDIR if
/// set, else in /dev/shm when it exists (committing an output file fsyncs it, which costs
/// nothing on tmpfs), else in /tmp.
inline const std::string& ScratchDir() {
  static const std::string dir = [] {
    std::error_code ec;
    std::filesystem::path parent = std::filesystem::temp_directory_path(ec);
    if (std::getenv("TMPDIR") == nullptr && std::filesystem::is_directory("/dev/shm", ec)) {
      parent = "/dev/shm";
    }
    std::string tmpl = (parent / "pulse-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      Fail(__FILE__, __LINE__, "mkdtemp", "cannot create a scratch directory");
    }
    static std::string to_remove;
    to_remove = tmpl;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(to_remove, ec);
    });
    return tmpl;
  }();
  return dir;
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// What one run of a file source produced.
struct SourceRun {
  Status status;
  std::vector<Record> records;
  std::string dead_letter;  // the dead-letter file's contents
  uint64_t records_counted = 0;
  uint64_t bytes_counted = 0;
  uint64_t bad_total = 0;
};

struct RunOptions {
  size_t block_bytes = 4096;  // the source's read size
  size_t batch = 64;
  OnError on_error = OnError::kSkip;
  std::vector<std::string> projection;
};

/// Run `options` to the end with a dead-letter file, checking what holds for any input: Read
/// never hands out more than it was asked for, the loop ends, counters match.
inline SourceRun RunSource(io::FileSourceOptions options, const RunOptions& run_options,
                           size_t input_bytes) {
  SourceRun run;
  const std::string dead_path = ScratchDir() + "/dead_letter.jsonl";
  Result<std::unique_ptr<BadRecordHandler>> handler =
      BadRecordHandler::Open({run_options.on_error, dead_path});
  PULSE_FUZZ_CHECK(handler.ok(), handler.status().ToString());
  PULSE_FUZZ_CHECK(options.Validate().ok(), options.Validate().ToString());
  SourceCounters counters;
  std::atomic<bool> stop{false};
  std::unique_ptr<Source> source =
      io::internal::FileSourceWithBlockBytes(std::move(options), run_options.block_bytes);
  if (!run_options.projection.empty()) source->SetProjection(run_options.projection);
  SourceContext context;
  context.bad_records = handler->get();
  context.counters = &counters;
  context.stop = &stop;
  run.status = source->Open(context);
  PULSE_FUZZ_CHECK(run.status.ok(), run.status.ToString());
  std::vector<Record> batch;
  // Every call but the last returns a full batch, so the number of calls is bounded.
  const size_t max_calls = input_bytes / run_options.batch + 3;
  bool done = false;
  for (size_t calls = 0; calls < max_calls && !done; ++calls) {
    batch.clear();
    Result<bool> more = source->Read(run_options.batch, &batch);
    PULSE_FUZZ_CHECK(batch.size() <= run_options.batch, batch.size());
    for (Record& r : batch) run.records.push_back(std::move(r));
    if (!more.ok()) {
      run.status = more.status();
      done = true;
    } else {
      done = !*more;
    }
  }
  PULSE_FUZZ_CHECK(done, "the source did not end after " << max_calls << " reads");
  const Status close = source->Close();
  PULSE_FUZZ_CHECK(close.ok(), close.ToString());
  const Status handler_close = (*handler)->Close();
  PULSE_FUZZ_CHECK(handler_close.ok(), handler_close.ToString());
  run.dead_letter = ReadWholeFile(dead_path);
  run.records_counted = counters.records.load();
  run.bytes_counted = counters.bytes.load();
  run.bad_total = (*handler)->total();
  PULSE_FUZZ_CHECK(run.records_counted == run.records.size(),
                   run.records_counted << " counted, " << run.records.size() << " read");
  return run;
}

/// Check what holds for every record any source produces: its time is in range, its value is
/// an object, and the value's JSON text reads back as the same value.
inline void CheckRecords(const std::vector<Record>& records) {
  for (const Record& r : records) {
    PULSE_FUZZ_CHECK(r.time >= kMinEventTime && r.time <= kMaxEventTime, r.time);
    PULSE_FUZZ_CHECK(r.value.is_object(), r.value.ToJson());
    const std::string json = r.value.ToJson();
    Result<Value> back = ParseJson(json);
    PULSE_FUZZ_CHECK(back.ok(), json << ": " << back.status().ToString());
    PULSE_FUZZ_CHECK(*back == r.value, json << " reads back as " << back->ToJson());
  }
}

/// Check the dead-letter text: `expected_lines` lines, each a JSON object with a known reason, a
/// position in [1, max_position] that never decreases, and string error and raw members.
inline void CheckDeadLetter(const std::string& text, uint64_t expected_lines,
                            uint64_t max_position) {
  std::istringstream in(text);
  uint64_t lines = 0;
  int64_t last_position = 0;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    Result<Value> v = ParseJson(line);
    PULSE_FUZZ_CHECK(v.ok(), line << ": " << v.status().ToString());
    PULSE_FUZZ_CHECK(v->is_object(), line);
    const Value* reason = v->Find("reason");
    const Value* position = v->Find("position");
    const Value* error = v->Find("error");
    const Value* raw = v->Find("raw");
    PULSE_FUZZ_CHECK(reason != nullptr && reason->is_string(), line);
    bool known = false;
    for (int i = 0; i < kNumBadReasons; ++i) {
      known = known || reason->as_string() == BadReasonName(static_cast<BadReason>(i));
    }
    PULSE_FUZZ_CHECK(known, line);
    PULSE_FUZZ_CHECK(position != nullptr && position->is_int(), line);
    PULSE_FUZZ_CHECK(position->as_int() >= 1 &&
                         static_cast<uint64_t>(position->as_int()) <= max_position,
                     line << " (max position " << max_position << ")");
    PULSE_FUZZ_CHECK(position->as_int() > last_position, line << " after " << last_position);
    last_position = position->as_int();
    PULSE_FUZZ_CHECK(error != nullptr && error->is_string() && !error->as_string().empty(), line);
    PULSE_FUZZ_CHECK(raw != nullptr && raw->is_string(), line);
  }
  PULSE_FUZZ_CHECK(lines == expected_lines, lines << " dead-letter lines, " << expected_lines
                                                  << " bad records");
}

/// Options of a file-source fuzz run, from the first input byte:
///   bits 0-1  max_line_bytes: 16 MiB (the default), 64, 8, 1
///   bit 2     projection {"k"} (keep only field k besides what the source needs)
///   bit 3     time field "t" instead of "event_time"
///   bit 4     on_error = fail
///   bits 5-6  batch size: 64, 1, 3, 4096
///   bit 7     read again with batch size 1 and 2 decode threads, and compare
struct Selector {
  size_t max_line_bytes;
  bool project;
  bool short_time_field;
  bool fail;
  size_t batch;
  bool compare_parallel;

  explicit Selector(uint8_t b)
      : max_line_bytes(std::initializer_list<size_t>{16u << 20, 64, 8, 1}.begin()[b & 3]),
        project((b & 4) != 0),
        short_time_field((b & 8) != 0),
        fail((b & 16) != 0),
        batch(std::initializer_list<size_t>{64, 1, 3, 4096}.begin()[(b >> 5) & 3]),
        compare_parallel((b & 128) != 0) {}
};

/// Number of lines a reader can find in `contents`: newlines + 1.
inline uint64_t MaxLines(std::string_view contents) {
  uint64_t n = 1;
  for (char c : contents) n += c == '\n' ? 1 : 0;
  return n;
}

/// Run a file source over `contents` as the selector says and check its invariants.
inline void FuzzFileSource(io::FileFormat format, const uint8_t* data, size_t size) {
  if (size == 0) return;
  const Selector selector(data[0]);
  const std::string_view contents = AsText(data + 1, size - 1);
  MemFile file(contents);
  io::FileSourceOptions options;
  options.path = file.path();
  options.format = format;
  options.time_field = selector.short_time_field ? "t" : "event_time";
  options.max_line_bytes = selector.max_line_bytes;
  RunOptions run_options;
  // Small reads put block boundaries inside lines (chosen by the input's length: no bits left).
  constexpr size_t kBlockBytes[] = {7, 64, 4096};
  run_options.block_bytes = kBlockBytes[size % 3];
  run_options.batch = selector.batch;
  run_options.on_error = selector.fail ? OnError::kFail : OnError::kSkip;
  if (selector.project) run_options.projection = {"k"};

  SourceRun run = RunSource(options, run_options, contents.size());
  CheckRecords(run.records);
  const uint64_t max_lines = MaxLines(contents);
  PULSE_FUZZ_CHECK(run.records.size() + run.bad_total <= max_lines,
                   run.records.size() << " records + " << run.bad_total << " bad in "
                                      << max_lines << " lines");
  CheckDeadLetter(run.dead_letter, run.bad_total, max_lines);
  if (selector.fail) {
    // The first bad record stops the run with a message naming it; nothing else fails.
    PULSE_FUZZ_CHECK(run.bad_total <= 1, run.bad_total);
    PULSE_FUZZ_CHECK(run.status.ok() == (run.bad_total == 0), run.status.ToString());
    if (!run.status.ok()) {
      PULSE_FUZZ_CHECK(run.status.code() == StatusCode::kInvalidArgument, run.status.ToString());
      PULSE_FUZZ_CHECK(run.status.message().rfind(file.path() + ":", 0) == 0,
                       run.status.message());
    }
  } else {
    PULSE_FUZZ_CHECK(run.status.ok(), run.status.ToString());
    PULSE_FUZZ_CHECK(run.bytes_counted == contents.size(),
                     run.bytes_counted << " bytes counted of " << contents.size());
  }
  if (selector.compare_parallel) {
    // Decoding on a thread pool, delivered one record at a time, gives the same records and
    // dead letters in the same order, and stops at the same bad record with on_error = fail.
    options.decode_threads = 2;
    run_options.batch = 1;
    SourceRun parallel = RunSource(options, run_options, contents.size());
    PULSE_FUZZ_CHECK(parallel.status.ToString() == run.status.ToString(),
                     parallel.status.ToString() << " vs " << run.status.ToString());
    PULSE_FUZZ_CHECK(parallel.records.size() == run.records.size(),
                     parallel.records.size() << " vs " << run.records.size());
    for (size_t i = 0; i < parallel.records.size(); ++i) {
      PULSE_FUZZ_CHECK(parallel.records[i].time == run.records[i].time &&
                           parallel.records[i].value == run.records[i].value,
                       "record " << i << " differs with parallel decoding");
    }
    PULSE_FUZZ_CHECK(parallel.dead_letter == run.dead_letter,
                     "dead letters differ with parallel decoding");
  }
}

}  // namespace pulse::fuzz
