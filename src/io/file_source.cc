// SPDX-License-Identifier: MIT
// File source: JSON lines (parsed in place with simdjson) or CSV, from files, globs or stdin,
// optionally following a growing file.
#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "core/json_dom.h"
#include "io/csv_reader.h"
#include "io/file_paths.h"
#include "io/line_reader.h"
#include "pulse/io/file.h"

namespace pulse::io {
namespace {

using internal::AtEnd;
using internal::Framing;
using internal::Line;

static_assert(internal::LineReader::kPaddingBytes >= simdjson::SIMDJSON_PADDING,
              "lines are parsed in place and need simdjson's padding");

constexpr size_t kInitialParserCapacity = 64u << 10;
// Longest sleep between checks of the stop flag while following a file.
constexpr DurationMs kMaxStopCheckMs = 20;

bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), IsJsonWhitespace);
}

std::string_view TypePhrase(simdjson::dom::element_type type) {
  using simdjson::dom::element_type;
  switch (type) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64: return "an integer";
    case element_type::DOUBLE: return "a float";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

class FileSourceImpl final : public Source {
 public:
  explicit FileSourceImpl(FileSourceOptions options)
      : options_(std::move(options)),
        reader_(options_.format == FileFormat::kCsv ? Framing::kCsv : Framing::kLines,
                options_.max_line_bytes) {}

  ~FileSourceImpl() override { CloseFile(); }

  void SetProjection(std::vector<std::string> fields) override { projection_ = std::move(fields); }

  Status Open(const SourceContext& ctx) override {
    ctx_ = ctx;
    PULSE_ASSIGN_OR_RETURN(files_, internal::ResolveInputPaths(options_.path));
    next_file_ = 0;
    finished_ = false;
    draining_ = false;
    return OpenNextFile();
  }

  Result<bool> Read(size_t max_records, std::vector<Record>* out) override {
    const size_t before = out->size();
    Result<bool> more = ReadInto(max_records, out);
    ctx_.counters->records.fetch_add(out->size() - before, std::memory_order_relaxed);
    return more;
  }

  Status Close() override {
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
  bool StopRequested() const {
    return ctx_.stop != nullptr && ctx_.stop->load(std::memory_order_relaxed);
  }

  // Open files_[next_file_] (if any is left) as the current input.
  Status OpenNextFile() {
    CloseFile();
    if (next_file_ >= files_.size()) {
      finished_ = true;
      return Status::OK();
    }
    origin_ = files_[next_file_++];
    if (origin_ == "-") {
      fd_ = STDIN_FILENO;
      owns_fd_ = false;
    } else {
      fd_ = ::open(origin_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) {
        const int err = errno;
        std::string msg = fmt::format("cannot open '{}': {}", origin_, std::strerror(err));
        return err == ENOENT || err == ENOTDIR ? Status::NotFound(std::move(msg))
                                               : Status::IOError(std::move(msg));
      }
      owns_fd_ = true;
      struct stat st {};
      if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
        CloseFile();
        return Status::IOError(fmt::format("cannot read '{}': it is a directory", origin_));
      }
    }
    reader_.Reset(fd_, ctx_.stop, &ctx_.counters->bytes);
    csv_schema_.reset();
    return Status::OK();
  }

  void CloseFile() {
    if (fd_ >= 0 && owns_fd_) ::close(fd_);
    fd_ = -1;
    owns_fd_ = false;
  }

  Result<bool> ReadInto(size_t max_records, std::vector<Record>* out) {
    const size_t before = out->size();
    const size_t limit = before + max_records;
    while (out->size() < limit) {
      if (finished_) return false;
      if (StopRequested() && !draining_) {
        // A followed file may hold a partial last line: it becomes the final record.
        if (!options_.follow || fd_ < 0) {
          finished_ = true;
          return false;
        }
        draining_ = true;
      }
      if (fd_ < 0) {
        PULSE_RETURN_IF_ERROR(OpenNextFile());
        continue;
      }
      const AtEnd at_end =
          draining_ ? AtEnd::kDrain : (options_.follow ? AtEnd::kHold : AtEnd::kEmit);
      Line line;
      Result<bool> got = reader_.Next(at_end, &line);
      if (!got.ok()) return got.status().WithContext(fmt::format("reading '{}'", origin_));
      if (*got) {
        PULSE_RETURN_IF_ERROR(options_.format == FileFormat::kCsv ? HandleCsvLine(line, out)
                                                                   : HandleJsonLine(line, out));
        continue;
      }
      if (draining_ || !options_.follow) {
        PULSE_RETURN_IF_ERROR(OpenNextFile());
        continue;
      }
      // Following: hand over what we have, or wait for the file to grow.
      if (out->size() == before) PULSE_RETURN_IF_ERROR(WaitForData());
      return true;
    }
    return true;
  }

  // Sleep for one poll interval (waking early on stop), then restart if the file shrank.
  Status WaitForData() {
    DurationMs remaining = options_.poll_interval_ms;
    while (remaining > 0 && !StopRequested()) {
      const DurationMs step = std::min(remaining, kMaxStopCheckMs);
      std::this_thread::sleep_for(std::chrono::milliseconds(step));
      remaining -= step;
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      return Status::IOError(fmt::format("cannot stat '{}': {}", origin_, std::strerror(errno)));
    }
    if (static_cast<uint64_t>(st.st_size) < reader_.offset()) {  // truncated: read it again
      if (::lseek(fd_, 0, SEEK_SET) < 0) {
        return Status::IOError(fmt::format("cannot seek '{}': {}", origin_, std::strerror(errno)));
      }
      reader_.Reset(fd_, ctx_.stop, &ctx_.counters->bytes);
    }
    return Status::OK();
  }

  Status ReportBad(BadReason reason, const Line& line, std::string_view error) {
    return ctx_.bad_records->Report(BadRecord{reason, origin_, line.number, line.text, error});
  }

  Status ReportTooLong(const Line& line, std::string_view what) {
    return ReportBad(BadReason::kLineTooLong, line,
                     fmt::format("{} is longer than max_line_bytes ({})", what,
                                 options_.max_line_bytes));
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

  Status HandleJsonLine(const Line& line, std::vector<Record>* out) {
    if (line.too_long) return ReportTooLong(line, "line");
    if (IsBlank(line.text)) return Status::OK();
    PULSE_RETURN_IF_ERROR(EnsureParserCapacity(line.text.size()));
    simdjson::dom::element root;
    // Parsed in place: LineReader guarantees readable padding after the line.
    const simdjson::error_code parse_error =
        parser_.parse_into_document(document_, line.text.data(), line.text.size(), false)
            .get(root);
    if (parse_error != simdjson::SUCCESS) {
      return ReportBad(parse_error == simdjson::UTF8_ERROR ? BadReason::kInvalidUtf8
                                                           : BadReason::kInvalidJson,
                       line, simdjson::error_message(parse_error));
    }
    if (root.type() != simdjson::dom::element_type::OBJECT) {
      return ReportBad(BadReason::kNotAnObject, line,
                       fmt::format("expected a JSON object, got {}", TypePhrase(root.type())));
    }
    const simdjson::dom::object object = root.get_object().value_unsafe();
    std::optional<simdjson::dom::element> time_value;
    for (simdjson::dom::key_value_pair field : object) {
      if (field.key == options_.time_field) time_value = field.value;  // a later duplicate wins
    }
    std::string time_error;
    const std::optional<EventTime> time = JsonEventTime(time_value, &time_error);
    if (!time.has_value()) return ReportBad(BadReason::kBadEventTime, line, time_error);
    out->push_back(
        Record{*time, FromSimdjsonObject(object, projection_.empty() ? nullptr : &projection_)});
    return Status::OK();
  }

  std::optional<EventTime> JsonEventTime(const std::optional<simdjson::dom::element>& value,
                                         std::string* error) const {
    using simdjson::dom::element_type;
    const std::string& name = options_.time_field;
    if (!value.has_value()) {
      *error = fmt::format("missing time field '{}'", name);
      return std::nullopt;
    }
    switch (value->type()) {
      case element_type::INT64: {
        const int64_t ms = value->get_int64().value_unsafe();
        if (ms >= kMinEventTime && ms <= kMaxEventTime) return ms;
        break;
      }
      case element_type::UINT64:
        break;
      case element_type::STRING: {
        std::optional<EventTime> t = ParseRfc3339(value->get_string().value_unsafe());
        if (!t.has_value()) *error = fmt::format("time field '{}' is not an RFC 3339 time", name);
        return t;
      }
      default:
        *error = fmt::format("time field '{}' is {}, not an RFC 3339 string or integer epoch ms",
                             name, TypePhrase(value->type()));
        return std::nullopt;
    }
    *error = fmt::format("time field '{}' is out of range", name);
    return std::nullopt;
  }

  Status HandleCsvLine(const Line& line, std::vector<Record>* out) {
    if (line.too_long) return ReportTooLong(line, "record");
    if (line.text.empty()) return Status::OK();  // blank line
    if (line.unterminated_quote) {
      return ReportBad(BadReason::kRaggedRow, line, "unterminated quoted field");
    }
    if (!simdjson::validate_utf8(line.text.data(), line.text.size())) {
      return ReportBad(BadReason::kInvalidUtf8, line, "invalid UTF-8");
    }
    const size_t n = internal::SplitCsvRecord(line.text, &cells_);
    if (!csv_schema_.has_value()) {
      csv_schema_.emplace(cells_, n, options_.time_field, projection_);
      return Status::OK();
    }
    if (n != csv_schema_->num_columns()) {
      return ReportBad(BadReason::kRaggedRow, line,
                       fmt::format("expected {} cells, got {}", csv_schema_->num_columns(), n));
    }
    const int time_column = csv_schema_->time_column();
    if (time_column < 0) {
      return ReportBad(BadReason::kBadEventTime, line,
                       fmt::format("no column '{}' in the header", options_.time_field));
    }
    const std::string& cell = cells_[static_cast<size_t>(time_column)];
    const std::optional<EventTime> time = ParseEventTimeText(cell);
    if (!time.has_value()) {
      return ReportBad(BadReason::kBadEventTime, line,
                       cell.empty() ? fmt::format("time cell '{}' is empty", options_.time_field)
                                    : fmt::format("time cell '{}' is not epoch ms or an RFC "
                                                  "3339 time",
                                                  options_.time_field));
    }
    out->push_back(Record{*time, csv_schema_->MakeObject(&cells_)});
    return Status::OK();
  }

  const FileSourceOptions options_;
  std::vector<std::string> projection_;
  SourceContext ctx_;

  std::vector<std::string> files_;
  size_t next_file_ = 0;
  std::string origin_;  // the current input, as named in dead-letter lines
  int fd_ = -1;
  bool owns_fd_ = false;
  bool finished_ = false;
  bool draining_ = false;  // stop seen while following: emit what is buffered, then end
  internal::LineReader reader_;

  simdjson::dom::parser parser_;
  simdjson::dom::document document_;
  size_t parser_capacity_ = 0;

  std::optional<internal::CsvSchema> csv_schema_;
  std::vector<std::string> cells_;
};

}  // namespace

std::unique_ptr<Source> FileSource(FileSourceOptions options) {
  return std::make_unique<FileSourceImpl>(std::move(options));
}

}  // namespace pulse::io
