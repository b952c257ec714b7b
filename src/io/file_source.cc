// SPDX-License-Identifier: MIT
// File source: JSON lines (parsed in place with simdjson) or CSV, from files, globs or stdin
// (read as it arrives), or following files by name as they grow and rotate (file_follow.h).
#include <fcntl.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "core/blocking_queue.h"
#include "core/json_dom.h"
#include "io/csv_reader.h"
#include "io/file_follow.h"
#include "io/file_paths.h"
#include "io/file_source_internal.h"
#include "io/json_record.h"
#include "io/line_reader.h"
#include "pulse/core/json_reader.h"
#include "pulse/io/file.h"

namespace pulse::io {
namespace {

using internal::AtEnd;
using internal::Framing;
using internal::Line;

static_assert(internal::LineReader::kPaddingBytes >= simdjson::SIMDJSON_PADDING,
              "lines are parsed in place and need simdjson's padding");

constexpr size_t kInitialParserCapacity = 64u << 10;
// A chunk handed to a decode thread ends after this many bytes or lines.
constexpr size_t kChunkBytes = 1u << 20;
constexpr size_t kChunkLines = 8192;
// Longest wait between checks of the stop flag while a stream has nothing to read.
constexpr DurationMs kMaxStopCheckMs = 20;
// How often followed files are read again while they have nothing new (their names are looked
// at every poll interval): what a line written to one waits at most before it is read.
constexpr DurationMs kGrowthCheckMs = 10;
// Read size of each followed file (a glob may follow many).
constexpr size_t kFollowBlockBytes = 256u << 10;

bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), IsJsonWhitespace);
}

// A line that could not be decoded: why, and a short description.
using Problem = internal::RecordProblem;

// Decodes lines into records. One per thread; not thread-safe.
class LineDecoder {
 public:
  LineDecoder(const FileSourceOptions& options, const std::vector<std::string>& projection)
      : options_(options), projection_(projection) {}

  // Decode a JSON line: append its record to `out`, or return the problem. Blank lines give
  // neither. Requires: readable padding after line.text unless line.too_long (LineReader's
  // guarantee). Errors: Internal when no parser memory can be had.
  Result<std::optional<Problem>> DecodeJson(const Line& line, std::vector<Record>* out) {
    if (line.too_long) return std::optional<Problem>(TooLong("line"));
    if (IsBlank(line.text)) return std::optional<Problem>();
    PULSE_RETURN_IF_ERROR(EnsureParserCapacity(line.text.size()));
    simdjson::dom::element root;
    // Parsed in place: LineReader guarantees readable padding after the line.
    const simdjson::error_code parse_error =
        parser_.parse_into_document(document_, line.text.data(), line.text.size(), false)
            .get(root);
    internal::JsonRecordRules rules;
    rules.time_field = options_.time_field;
    rules.projection = &projection_;
    return internal::RecordFromJson(parse_error, root, rules, out);
  }

  // The problem that keeps a CSV line (header or row) from being split into cells, if any.
  std::optional<Problem> CheckCsv(const Line& line) const {
    if (line.too_long) return TooLong("record");
    if (line.unterminated_quote) return Problem{BadReason::kRaggedRow, "unterminated quoted field"};
    if (!simdjson::validate_utf8(line.text.data(), line.text.size())) {
      return Problem{BadReason::kInvalidUtf8, "invalid UTF-8"};
    }
    return std::nullopt;
  }

  // The schema a header line defines. Requires: CheckCsv(line) found no problem.
  std::shared_ptr<const internal::CsvSchema> MakeSchema(const Line& line) {
    const size_t n = internal::SplitCsvRecord(line.text, &cells_);
    return std::make_shared<const internal::CsvSchema>(cells_, n, options_.time_field,
                                                       projection_);
  }

  // Decode a CSV row (not blank, not the header) as DecodeJson does a JSON line.
  std::optional<Problem> DecodeCsvRow(const Line& line, const internal::CsvSchema& schema,
                                      std::vector<Record>* out) {
    if (std::optional<Problem> problem = CheckCsv(line)) return problem;
    const size_t n = internal::SplitCsvRecord(line.text, &cells_);
    if (n != schema.num_columns()) {
      return Problem{BadReason::kRaggedRow,
                     fmt::format("expected {} cells, got {}", schema.num_columns(), n)};
    }
    const int time_column = schema.time_column();
    if (time_column < 0) {
      return Problem{BadReason::kBadEventTime,
                     fmt::format("no column '{}' in the header", options_.time_field)};
    }
    const std::string& cell = cells_[static_cast<size_t>(time_column)];
    const std::optional<EventTime> time = ParseEventTimeText(cell);
    if (!time.has_value()) {
      return Problem{BadReason::kBadEventTime,
                     cell.empty() ? fmt::format("time cell '{}' is empty", options_.time_field)
                                  : fmt::format("time cell '{}' is not epoch ms or an RFC "
                                                "3339 time",
                                                options_.time_field)};
    }
    out->push_back(Record{*time, schema.MakeObject(&cells_)});
    return std::nullopt;
  }

 private:
  Problem TooLong(std::string_view what) const {
    return Problem{BadReason::kLineTooLong,
                   fmt::format("{} is longer than max_line_bytes ({})", what,
                               options_.max_line_bytes)};
  }

  Status EnsureParserCapacity(size_t len) {
    if (len <= parser_capacity_) return Status::OK();
    size_t capacity = std::max({len, parser_capacity_ * 2, kInitialParserCapacity});
    capacity = std::min(capacity, std::max(len, options_.max_line_bytes));
    if (parser_.allocate(capacity) != simdjson::SUCCESS ||
        document_.allocate(capacity) != simdjson::SUCCESS) {
      parser_capacity_ = 0;
      return Status::Internal(fmt::format("cannot allocate a JSON parser for {} bytes", len));
    }
    parser_capacity_ = capacity;
    return Status::OK();
  }

  const FileSourceOptions& options_;
  const std::vector<std::string>& projection_;
  simdjson::dom::parser parser_;
  simdjson::dom::document document_;
  size_t parser_capacity_ = 0;
  std::vector<std::string> cells_;
};

// A run of consecutive lines of one file, copied out of the LineReader so that a decode
// thread can work on it, and what decoding them gave.
struct Chunk {
  struct LineRef {
    size_t offset;
    Line line;  // text points into `bytes` once the chunk is sealed
  };
  struct BadLine {
    size_t records_before;  // records of this chunk that come before the bad line
    size_t line_index;
    Problem problem;
  };

  std::shared_ptr<const std::string> origin;
  size_t file_index = 0;                              // of origin among the inputs
  std::shared_ptr<const internal::CsvSchema> schema;  // CSV only
  std::string bytes;                                  // the lines, each followed by '\n'
  std::vector<LineRef> lines;

  // Results, written by one decode thread, read by the source after `done`.
  std::vector<Record> records;
  std::vector<uint32_t> record_lines;  // for each record, the index of its line
  std::vector<BadLine> bad;
  Status status;
  bool done = false;  // guarded by the pool's mutex
};

// Decode threads with one LineDecoder each. Chunks are decoded in any order; the source
// waits for them in its own order.
class DecodePool {
 public:
  DecodePool(int threads, const FileSourceOptions& options,
             const std::vector<std::string>& projection)
      : queue_(static_cast<size_t>(threads) * 2) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this, &options, &projection] { Loop(options, projection); });
    }
  }
  ~DecodePool() {
    queue_.Close();
    for (std::thread& t : threads_) t.join();
  }
  DecodePool(const DecodePool&) = delete;
  DecodePool& operator=(const DecodePool&) = delete;

  void Submit(std::shared_ptr<Chunk> chunk) { queue_.Push(std::move(chunk)); }

  void Wait(const Chunk& chunk) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return chunk.done; });
  }

 private:
  void Loop(const FileSourceOptions& options, const std::vector<std::string>& projection) {
    LineDecoder decoder(options, projection);
    while (std::optional<std::shared_ptr<Chunk>> chunk = queue_.Pop()) {
      Decode(decoder, **chunk);
      {
        std::lock_guard<std::mutex> lock(mu_);
        (*chunk)->done = true;
      }
      done_cv_.notify_all();
    }
  }

  static void Decode(LineDecoder& decoder, Chunk& chunk) {
    for (size_t i = 0; i < chunk.lines.size(); ++i) {
      const Line& line = chunk.lines[i].line;
      std::optional<Problem> problem;
      if (chunk.schema) {
        if (line.text.empty() && !line.too_long) continue;  // blank CSV line
        problem = decoder.DecodeCsvRow(line, *chunk.schema, &chunk.records);
      } else {
        Result<std::optional<Problem>> r = decoder.DecodeJson(line, &chunk.records);
        if (!r.ok()) {
          chunk.status = r.status();
          return;
        }
        problem = std::move(*r);
      }
      if (problem) chunk.bad.push_back({chunk.records.size(), i, std::move(*problem)});
      chunk.record_lines.resize(chunk.records.size(), static_cast<uint32_t>(i));
    }
  }

  pulse::internal::BlockingQueue<std::shared_ptr<Chunk>> queue_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable done_cv_;
};

// Not thread-safe: every call on the executor's source thread (Seek before Open).
class FileSourceImpl final : public Source, public CheckpointedSource {
 public:
  explicit FileSourceImpl(FileSourceOptions options,
                          size_t block_bytes = internal::LineReader::kDefaultBlockBytes)
      : options_(std::move(options)),
        block_bytes_(block_bytes),
        reader_(InputFraming(), options_.max_line_bytes, block_bytes),
        decoder_(options_, projection_) {}

  ~FileSourceImpl() override {
    pool_.reset();
    CloseFile();
  }

  void SetProjection(std::vector<std::string> fields) override { projection_ = std::move(fields); }

  Status Open(const SourceContext& ctx) override {
    ctx_ = ctx;
    next_file_ = 0;
    finished_ = false;
    draining_ = false;
    if (options_.follow) return OpenFollowing();
    PULSE_ASSIGN_OR_RETURN(files_, internal::ResolveInputPaths(options_.path));
    const int threads = options_.decode_threads > 0 ? options_.decode_threads
                        : ctx.parallelism >= 2  ? ctx.parallelism
                                                : 0;
    if (threads > 0) {
      pool_ = std::make_unique<DecodePool>(threads, options_, projection_);
      max_in_flight_ = static_cast<size_t>(threads) * 2 + 2;
    }
    if (resume_) return OpenResumed(*resume_);
    return OpenNextFile();
  }

  // A followed file, and a pipe, socket or terminal on standard input, never end by
  // themselves (a regular file or /dev/null on standard input does).
  bool Unbounded() const override {
    if (options_.follow) return true;
    if (options_.path != "-") return false;
    struct stat st {};
    if (::fstat(STDIN_FILENO, &st) != 0) return false;
    return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || ::isatty(STDIN_FILENO) == 1;
  }

  // Standard input cannot be read again after a restart.
  CheckpointedSource* AsCheckpointed() override { return options_.path != "-" ? this : nullptr; }

  Result<Value> Position() override {
    if (follower_ != nullptr) return internal::FollowPositionsToJson(follower_->Positions());
    return Value(Object{{"file", Value(position_.file)},
                        {"file_index", Value(static_cast<int64_t>(position_.file_index))},
                        {"offset", Value(static_cast<int64_t>(position_.offset))},
                        {"line", Value(static_cast<int64_t>(position_.next_line))}});
  }

  // Takes both forms: a following source's {"files": [...]} and the other's single position,
  // so that a checkpoint survives turning `follow` on; the reverse is refused.
  Status Seek(const Value& position) override {
    if (position.Find("files") != nullptr) {
      if (!options_.follow) {
        return Status::InvalidArgument(
            "cannot resume the file source: the checkpoint was taken while following its files "
            "(follow = true); set follow = true again, or start over with --fresh");
      }
      PULSE_ASSIGN_OR_RETURN(resume_follow_, internal::FollowPositionsFromJson(position));
      return Status::OK();
    }
    PULSE_ASSIGN_OR_RETURN(
        JsonObjectReader r,
        JsonObjectReader::Make(position, "file source position", StatusCode::kInvalidArgument));
    ReadPosition pos;
    PULSE_ASSIGN_OR_RETURN(pos.file, r.String("file"));
    PULSE_ASSIGN_OR_RETURN(uint64_t index, r.Uint("file_index"));
    pos.file_index = static_cast<size_t>(index);
    PULSE_ASSIGN_OR_RETURN(pos.offset, r.Uint("offset"));
    PULSE_ASSIGN_OR_RETURN(int64_t line, r.IntAtLeast("line", 1));
    pos.next_line = static_cast<uint64_t>(line);
    if (options_.follow) {
      internal::FollowPosition follow;
      follow.file = pos.file;
      follow.offset = pos.offset;
      follow.next_line = pos.next_line;
      resume_follow_ = {std::move(follow)};
    }
    resume_ = std::move(pos);
    return Status::OK();
  }

  Result<bool> Read(size_t max_records, std::vector<Record>* out) override {
    const size_t before = out->size();
    Result<bool> more = follower_ ? ReadFollowing(max_records, out)
                        : pool_   ? ReadParallel(max_records, out)
                                  : ReadInto(max_records, out);
    ctx_.counters->records.fetch_add(out->size() - before, std::memory_order_relaxed);
    return more;
  }

  Status Close() override {
    pool_.reset();
    in_flight_.clear();
    follower_.reset();
    CloseFile();
    finished_ = true;
    return Status::OK();
  }

  std::string Describe() const override {
    return fmt::format("file source {} '{}' (time field '{}'{})",
                       options_.format == FileFormat::kCsv ? "csv" : "jsonl", options_.path,
                       options_.time_field, options_.follow ? ", follow" : "");
  }

 private:
  Framing InputFraming() const {
    return options_.format == FileFormat::kCsv ? Framing::kCsv : Framing::kLines;
  }

  bool StopRequested() const {
    return ctx_.stop != nullptr && ctx_.stop->load(std::memory_order_relaxed);
  }

  Clock& RunClock() const { return ctx_.env != nullptr ? ctx_.env->clock() : Env::Default().clock(); }

  // The position after the last record or bad line handed over: what Position() reports.
  struct ReadPosition {
    std::string file;
    size_t file_index = 0;
    uint64_t offset = 0;
    uint64_t next_line = 1;
  };

  void Delivered(size_t file_index, const std::string& file, const Line& line) {
    if (position_.file != file) position_.file = file;
    position_.file_index = file_index;
    position_.offset = line.end_offset;
    position_.next_line = line.next_number;
  }

  // Open files_[pos.file_index] and continue just after `pos` (CSV: after re-reading its
  // header). Errors: InvalidArgument if the inputs no longer match the position.
  Status OpenResumed(const ReadPosition& pos) {
    if (pos.file_index >= files_.size() || files_[pos.file_index] != pos.file) {
      return Status::InvalidArgument(fmt::format(
          "cannot resume the file source: the checkpoint was taken in '{}' (input {} of the "
          "path), which is no longer input {} of '{}'",
          pos.file, pos.file_index + 1, pos.file_index + 1, options_.path));
    }
    next_file_ = pos.file_index;
    PULSE_RETURN_IF_ERROR(OpenNextFile());
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || static_cast<uint64_t>(st.st_size) < pos.offset) {
      return Status::InvalidArgument(fmt::format(
          "cannot resume the file source: '{}' is shorter than the checkpoint's offset {}",
          pos.file, pos.offset));
    }
    if (options_.format == FileFormat::kCsv) {
      PULSE_ASSIGN_OR_RETURN(csv_schema_, RereadCsvHeader(fd_, pos.offset));
    }
    if (::lseek(fd_, static_cast<off_t>(pos.offset), SEEK_SET) < 0) {
      return Status::IOError(fmt::format("cannot seek '{}': {}", pos.file, std::strerror(errno)));
    }
    reader_.Reset(fd_, ctx_.stop, &ctx_.counters->bytes, pos.offset, pos.next_line);
    position_ = pos;
    return Status::OK();
  }

  // The header of the CSV file `fd` (read from its current position, its start), if it ends
  // before `offset` (else the normal flow takes it after the seek); null if none does. Bad
  // header lines were reported by the earlier run.
  Result<std::shared_ptr<const internal::CsvSchema>> RereadCsvHeader(int fd, uint64_t offset) {
    internal::LineReader header_reader(Framing::kCsv, options_.max_line_bytes);
    header_reader.Reset(fd, ctx_.stop, nullptr);
    Line line;
    while (true) {
      PULSE_ASSIGN_OR_RETURN(bool got, header_reader.Next(AtEnd::kEmit, &line));
      if (!got || line.end_offset > offset) return std::shared_ptr<const internal::CsvSchema>();
      if (line.text.empty() && !line.too_long) continue;
      if (decoder_.CheckCsv(line)) continue;
      return decoder_.MakeSchema(line);
    }
  }

  // Open files_[next_file_] (if any is left) as the current input.
  Status OpenNextFile() {
    CloseFile();
    if (next_file_ >= files_.size()) {
      finished_ = true;
      return Status::OK();
    }
    file_index_of_origin_ = next_file_;
    origin_ = std::make_shared<const std::string>(files_[next_file_++]);
    if (*origin_ == "-") {
      fd_ = STDIN_FILENO;
      owns_fd_ = false;
    } else {
      fd_ = ::open(origin_->c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) {
        const int err = errno;
        std::string msg = fmt::format("cannot open '{}': {}", *origin_, std::strerror(err));
        return err == ENOENT || err == ENOTDIR ? Status::NotFound(std::move(msg))
                                               : Status::IOError(std::move(msg));
      }
      owns_fd_ = true;
    }
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
      const std::string name = *origin_;
      CloseFile();
      return Status::IOError(fmt::format("cannot read '{}': it is a directory", name));
    }
    // A pipe, terminal or socket: records move as they arrive (AtEnd::kAvailable).
    stream_ = ::fstat(fd_, &st) == 0 && !S_ISREG(st.st_mode);
    reader_.Reset(fd_, ctx_.stop, &ctx_.counters->bytes);
    csv_schema_.reset();
    return Status::OK();
  }

  void CloseFile() {
    if (fd_ >= 0 && owns_fd_) ::close(fd_);
    fd_ = -1;
    owns_fd_ = false;
    stream_ = false;
  }

  Result<bool> ReadInto(size_t max_records, std::vector<Record>* out) {
    const size_t before = out->size();
    const size_t limit = before + max_records;
    while (out->size() < limit) {
      if (finished_) return false;
      if (StopRequested()) {
        finished_ = true;
        return false;
      }
      if (fd_ < 0) {
        PULSE_RETURN_IF_ERROR(OpenNextFile());
        continue;
      }
      Line line;
      Result<bool> got = reader_.Next(stream_ ? AtEnd::kAvailable : AtEnd::kEmit, &line);
      if (!got.ok()) return got.status().WithContext(fmt::format("reading '{}'", *origin_));
      if (*got) {
        const size_t records_before = out->size();
        const uint64_t bad_before = reported_;
        PULSE_RETURN_IF_ERROR(HandleLine(line, *origin_, &csv_schema_, out));
        if (out->size() != records_before || reported_ != bad_before) {
          Delivered(file_index_of_origin_, *origin_, line);
        }
        continue;
      }
      if (stream_ && !reader_.at_eof()) {
        // Nothing more has arrived: hand over what we have, or wait for more.
        if (out->size() > before) return true;
        PULSE_ASSIGN_OR_RETURN(const bool ready, WaitReadable());
        if (!ready) return true;
        continue;
      }
      PULSE_RETURN_IF_ERROR(OpenNextFile());
    }
    return true;
  }

  // Wait until the current input (a stream) has bytes or its end to read, for at most one
  // poll interval of the run's clock. Returns false if none came, or on stop.
  Result<bool> WaitReadable() {
    Clock& clock = RunClock();
    const Clock::TimePoint deadline =
        clock.Now() + std::chrono::milliseconds(options_.poll_interval_ms);
    while (!StopRequested()) {
      const Clock::Duration left = deadline - clock.Now();
      if (left <= Clock::Duration::zero()) return false;
      const Clock::Duration slice = clock.WaitSlice(
          std::min<Clock::Duration>(left, std::chrono::milliseconds(kMaxStopCheckMs)));
      const auto timeout_ms = std::max<int64_t>(
          1, std::chrono::ceil<std::chrono::milliseconds>(slice).count());
      pollfd ready{fd_, POLLIN, 0};
      const int rc = ::poll(&ready, 1, static_cast<int>(timeout_ms));
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) {
        return Status::IOError(
            fmt::format("cannot wait for '{}': {}", *origin_, std::strerror(errno)));
      }
    }
    return false;
  }

  // Decode one line on this thread; `schema` is its file's CSV header (taken here).
  Status HandleLine(const Line& line, const std::string& origin,
                    std::shared_ptr<const internal::CsvSchema>* schema, std::vector<Record>* out) {
    if (options_.format == FileFormat::kCsv) {
      if (line.text.empty() && !line.too_long) return Status::OK();  // blank line
      if (!*schema) return TakeHeader(line, origin, schema);
      return Report(line, origin, decoder_.DecodeCsvRow(line, **schema, out));
    }
    PULSE_ASSIGN_OR_RETURN(std::optional<Problem> problem, decoder_.DecodeJson(line, out));
    return Report(line, origin, std::move(problem));
  }

  // The first non-blank line of a CSV file is its header; a bad one is reported and the next
  // line is tried.
  Status TakeHeader(const Line& line, const std::string& origin,
                    std::shared_ptr<const internal::CsvSchema>* schema) {
    if (std::optional<Problem> problem = decoder_.CheckCsv(line)) {
      return Report(line, origin, std::move(problem));
    }
    *schema = decoder_.MakeSchema(line);
    return Status::OK();
  }

  Status Report(const Line& line, const std::string& origin, std::optional<Problem> problem) {
    if (!problem) return Status::OK();
    ++reported_;
    return ctx_.bad_records->Report(
        BadRecord{problem->reason, origin, line.number, line.text, problem->error});
  }

  // Parallel decoding: keep up to max_in_flight_ chunks in the pool and deliver their
  // records and bad lines in input order.
  Result<bool> ReadParallel(size_t max_records, std::vector<Record>* out) {
    const size_t before = out->size();
    const size_t limit = before + max_records;
    while (out->size() < limit) {
      if (StopRequested()) {
        finished_ = true;
        in_flight_.clear();
        return false;
      }
      would_block_ = false;
      while (in_flight_.size() < max_in_flight_ && !finished_) {
        PULSE_ASSIGN_OR_RETURN(std::shared_ptr<Chunk> chunk, NextChunk());
        if (!chunk) break;
        in_flight_.push_back(chunk);
        pool_->Submit(std::move(chunk));
      }
      if (in_flight_.empty()) {
        if (!would_block_) return false;
        // A stream with nothing more for now: hand over what we have, or wait for more.
        if (out->size() > before) return true;
        PULSE_ASSIGN_OR_RETURN(const bool ready, WaitReadable());
        if (!ready) return true;
        continue;
      }
      Chunk& chunk = *in_flight_.front();
      pool_->Wait(chunk);
      PULSE_RETURN_IF_ERROR(chunk.status);
      // Interleave records and bad lines as they stood in the input.
      while (out->size() < limit) {
        const bool bad_next = next_bad_ < chunk.bad.size() &&
                              chunk.bad[next_bad_].records_before <= next_record_;
        if (bad_next) {
          const Chunk::BadLine& bad = chunk.bad[next_bad_++];
          const Line& line = chunk.lines[bad.line_index].line;
          PULSE_RETURN_IF_ERROR(ctx_.bad_records->Report(BadRecord{
              bad.problem.reason, *chunk.origin, line.number, line.text, bad.problem.error}));
          Delivered(chunk.file_index, *chunk.origin, line);
        } else if (next_record_ < chunk.records.size()) {
          Delivered(chunk.file_index, *chunk.origin,
                    chunk.lines[chunk.record_lines[next_record_]].line);
          out->push_back(std::move(chunk.records[next_record_++]));
        } else {
          in_flight_.pop_front();
          next_record_ = 0;
          next_bad_ = 0;
          break;
        }
      }
    }
    return true;
  }

  // Read the next chunk of lines of the current file (CSV headers are taken here, in order).
  // Returns null at the end of the input, or (setting would_block_) when a stream has no
  // complete line ready.
  Result<std::shared_ptr<Chunk>> NextChunk() {
    auto chunk = std::make_shared<Chunk>();
    while (!finished_) {
      if (fd_ < 0) {
        PULSE_RETURN_IF_ERROR(OpenNextFile());
        continue;
      }
      Line line;
      Result<bool> got = reader_.Next(stream_ ? AtEnd::kAvailable : AtEnd::kEmit, &line);
      if (!got.ok()) return got.status().WithContext(fmt::format("reading '{}'", *origin_));
      if (!*got) {
        if (!chunk->lines.empty()) break;  // finish this file's chunk first
        if (stream_ && !reader_.at_eof()) {
          would_block_ = true;
          return std::shared_ptr<Chunk>();
        }
        PULSE_RETURN_IF_ERROR(OpenNextFile());
        continue;
      }
      if (options_.format == FileFormat::kCsv && !csv_schema_) {
        if (line.text.empty() && !line.too_long) continue;
        if (!chunk->lines.empty()) return Seal(std::move(chunk));  // keep report order
        PULSE_RETURN_IF_ERROR(TakeHeader(line, *origin_, &csv_schema_));
        continue;
      }
      chunk->lines.push_back({chunk->bytes.size(), line});
      chunk->bytes.append(line.text);
      chunk->bytes.push_back('\n');
      if (chunk->bytes.size() >= kChunkBytes || chunk->lines.size() >= kChunkLines) break;
    }
    if (chunk->lines.empty()) return std::shared_ptr<Chunk>();
    return Seal(std::move(chunk));
  }

  // Point the chunk's lines into its own bytes and add simdjson's padding.
  std::shared_ptr<Chunk> Seal(std::shared_ptr<Chunk> chunk) {
    chunk->origin = origin_;
    chunk->file_index = file_index_of_origin_;
    chunk->schema = csv_schema_;
    chunk->bytes.append(simdjson::SIMDJSON_PADDING, '\0');
    for (Chunk::LineRef& ref : chunk->lines) {
      ref.line.text = std::string_view(chunk->bytes.data() + ref.offset, ref.line.text.size());
    }
    return chunk;
  }

  // --- follow = true: the files come from a FileFollower (file_follow.h).

  Status OpenFollowing() {
    internal::FileFollower::Options o;
    o.path = options_.path;
    o.framing = InputFraming();
    o.max_line_bytes = options_.max_line_bytes;
    o.block_bytes = std::min(block_bytes_, kFollowBlockBytes);
    o.poll_interval_ms = options_.poll_interval_ms;
    o.rotate_wait_ms = options_.rotate_wait_ms;
    follower_ = std::make_unique<internal::FileFollower>(std::move(o));
    internal::FileFollower::ContinueHook reread_header;
    if (options_.format == FileFormat::kCsv) {
      reread_header = [this](internal::FollowedFile& file) -> Status {
        PULSE_ASSIGN_OR_RETURN(file.csv_schema, RereadCsvHeader(file.fd, file.offset));
        return Status::OK();
      };
    }
    return follower_->Open(RunClock(), ctx_.stop, &ctx_.counters->bytes,
                           resume_follow_.value_or(std::vector<internal::FollowPosition>{}),
                           std::move(reread_header));
  }

  // Hand over the lines of the followed files as they come: return as soon as there are
  // records and nothing more is ready, or after a poll interval of the run's clock without
  // any, looking for more every kGrowthCheckMs. On stop, the lines still buffered (and each
  // file's partial last line) become the final records.
  Result<bool> ReadFollowing(size_t max_records, std::vector<Record>* out) {
    const size_t before = out->size();
    const size_t limit = before + max_records;
    Clock& clock = RunClock();
    const Clock::TimePoint deadline =
        clock.Now() + std::chrono::milliseconds(options_.poll_interval_ms);
    while (out->size() < limit) {
      if (finished_) return false;
      if (StopRequested()) draining_ = true;
      Line line;
      internal::FollowedFile* file = nullptr;
      PULSE_ASSIGN_OR_RETURN(const bool got, follower_->Next(draining_, &line, &file));
      if (got) {
        PULSE_RETURN_IF_ERROR(HandleLine(line, *file->name, &file->csv_schema, out));
        continue;
      }
      if (draining_) {
        finished_ = true;
        return false;
      }
      if (out->size() > before) return true;
      const Clock::Duration left = deadline - clock.Now();
      if (left <= Clock::Duration::zero()) return true;
      clock.SleepFor(std::min<Clock::Duration>(
          left, std::chrono::milliseconds(std::min(kGrowthCheckMs, options_.poll_interval_ms))));
    }
    return true;
  }

  const FileSourceOptions options_;
  const size_t block_bytes_;
  std::vector<std::string> projection_;
  SourceContext ctx_;

  std::vector<std::string> files_;
  size_t next_file_ = 0;
  std::shared_ptr<const std::string> origin_;  // the current input, as dead letters name it
  size_t file_index_of_origin_ = 0;
  std::optional<ReadPosition> resume_;  // set by Seek
  std::optional<std::vector<internal::FollowPosition>> resume_follow_;  // set by Seek (follow)
  ReadPosition position_;
  uint64_t reported_ = 0;  // bad lines reported on this thread
  int fd_ = -1;
  bool owns_fd_ = false;
  bool stream_ = false;  // the current input is not a regular file (a pipe, a terminal)
  bool finished_ = false;
  bool draining_ = false;  // stop seen while following: emit what is buffered, then end
  internal::LineReader reader_;
  LineDecoder decoder_;  // for decoding on this thread
  std::shared_ptr<const internal::CsvSchema> csv_schema_;

  std::unique_ptr<DecodePool> pool_;  // parallel decoding, when enabled
  size_t max_in_flight_ = 0;
  std::deque<std::shared_ptr<Chunk>> in_flight_;
  size_t next_record_ = 0;  // delivery position in in_flight_.front()
  size_t next_bad_ = 0;
  bool would_block_ = false;  // NextChunk found a stream with nothing ready

  std::unique_ptr<internal::FileFollower> follower_;  // follow = true
};

}  // namespace

std::unique_ptr<Source> FileSource(FileSourceOptions options) {
  return std::make_unique<FileSourceImpl>(std::move(options));
}

namespace internal {

std::unique_ptr<Source> FileSourceWithBlockBytes(FileSourceOptions options, size_t block_bytes) {
  return std::make_unique<FileSourceImpl>(std::move(options), block_bytes);
}

}  // namespace internal

}  // namespace pulse::io
