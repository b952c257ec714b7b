// SPDX-License-Identifier: MIT
// Loads a `pulse test` file: strict keys and types as for pipeline configs (toml_util.h), input
// steps from inline strings, watermark tables and input files (framed as the file source frames
// them, io/input_lines.h), expected lines parsed as JSON.
#include "cli/test_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "cli/config.h"
#include "cli/toml_util.h"
#include "pulse/core/json.h"
#include "pulse/io/input_lines.h"

namespace pulse::cli {
namespace {

using internal::Contains;
using internal::DescribeNode;
using internal::Join;
using internal::Keys;
using internal::LineOf;
using internal::Quote;
using internal::Suggest;
using golden::CompareOptions;
using golden::ExpectedLine;
using golden::InputStep;
using golden::TestCase;
using golden::TestFile;

constexpr std::string_view kTopKeys[] = {"pipeline", "case"};
constexpr std::string_view kCaseKeys[] = {"name",          "input",          "input_file",
                                          "expected",      "expected_file",  "expected_late",
                                          "expected_bad",  "expected_error", "order",
                                          "ignore_fields", "tolerance"};
constexpr std::string_view kStepKeys[] = {"watermark", "file"};
constexpr std::string_view kOrders[] = {"exact", "set"};
constexpr int kMinutesPerHour = 60;

// "1st", "2nd", ... for messages about array entries.
std::string Ordinal(size_t n) {
  std::string_view suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return fmt::format("{}{}", n, suffix);
}

// The pipeline of `config` as a test case runs it: input decoded as the source would decode a
// file (with the source's format, time field and line limit when it has them; other sources'
// input is JSON lines), built around the case's source and sink.
golden::TestedPipeline TestedPipelineOf(PipelineConfig config) {
  golden::TestedPipeline p;
  const ConnectorConfig& source = config.source;
  if (source.Has("format") && source.String("format") == "csv") p.format = io::FileFormat::kCsv;
  if (source.Has("time_field")) p.time_field = source.String("time_field");
  if (source.Has("max_line_bytes")) {
    p.max_line_bytes = static_cast<size_t>(source.Int("max_line_bytes"));
  }
  p.build = [config = std::move(config)](std::unique_ptr<Source> case_source,
                                         std::unique_ptr<Sink> case_sink) {
    return BuildPipelineWith(config, std::move(case_source), std::move(case_sink));
  };
  return p;
}

// Reads one test file; stops at the first error.
class TestFileLoader {
 public:
  explicit TestFileLoader(std::string path)
      : path_(std::move(path)),
        dir_(std::filesystem::path(path_).parent_path()),
        name_(std::filesystem::path(path_).filename().string()) {}

  Result<TestFile> Load(const toml::table& root) {
    TestFile file;
    file.path = path_;
    PULSE_RETURN_IF_ERROR(CheckKeys(root, kTopKeys, "at the top level", 0));
    const toml::node* pipeline = root.get("pipeline");
    if (pipeline == nullptr) {
      return Error(1,
                   "missing key 'pipeline' (the pipeline config to test, e.g. "
                   "pipeline = \"pipeline.toml\")");
    }
    const int pipeline_line = LineOf(pipeline->source());
    if (!pipeline->is_string() || pipeline->as_string()->get().empty()) {
      return Error(pipeline_line,
                   fmt::format("pipeline must be a file name; got {}", DescribeNode(*pipeline)));
    }
    file.pipeline_path = Resolve(pipeline->as_string()->get());
    PULSE_ASSIGN_OR_RETURN(PipelineConfig config, LoadConfig(file.pipeline_path));
    file.pipeline = TestedPipelineOf(std::move(config));
    format_ = file.pipeline.format;
    max_line_bytes_ = file.pipeline.max_line_bytes;

    const toml::node* cases = root.get("case");
    if (cases == nullptr) {
      return Error(pipeline_line, "no test cases: add at least one [[case]] table");
    }
    const toml::array* array = cases->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      return Error(
          LineOf(cases->source()),
          fmt::format("case must be an array of tables ([[case]]); got {}", DescribeNode(*cases)));
    }
    for (const toml::node& node : *array) {
      PULSE_ASSIGN_OR_RETURN(TestCase c, LoadCase(*node.as_table()));
      for (const TestCase& other : file.cases) {
        if (other.name == c.name) {
          return Error(c.line, fmt::format("a second case named {} (the first is at line {}); "
                                           "case names must be unique",
                                           Quote(c.name), other.line));
        }
      }
      file.cases.push_back(std::move(c));
    }
    return file;
  }

 private:
  Status Error(int line, std::string_view message) const {
    if (line <= 0) return Status::InvalidArgument(fmt::format("{}: {}", path_, message));
    return Status::InvalidArgument(fmt::format("{}:{}: {}", path_, line, message));
  }

  std::string Resolve(const std::string& name) const {
    std::filesystem::path p(name);
    if (p.is_absolute() || dir_.empty()) return p.string();
    return (dir_ / p).string();
  }

  // Every key of `table` must be in `known`; `where` says where, e.g. "in [[case]]".
  Status CheckKeys(const toml::table& table, Keys known, std::string_view where,
                   int fallback_line) const {
    const toml::key* first_unknown = nullptr;
    for (auto&& [key, node] : table) {
      if (Contains(known, key.str())) continue;
      if (first_unknown == nullptr || LineOf(key.source()) < LineOf(first_unknown->source())) {
        first_unknown = &key;
      }
    }
    if (first_unknown == nullptr) return Status::OK();
    std::string message = fmt::format("unknown key '{}' {}", first_unknown->str(), where);
    std::string_view suggestion = Suggest(first_unknown->str(), known);
    if (!suggestion.empty()) message += fmt::format(" (did you mean '{}'?)", suggestion);
    message += "; allowed: " + Join(known);
    int line = LineOf(first_unknown->source());
    return Error(line > 0 ? line : fallback_line, message);
  }

  static int LineOfKey(const toml::table& t, std::string_view key) {
    auto it = t.find(key);
    return it == t.end() ? 0 : LineOf(it->first.source());
  }

  Result<std::string> GetString(const toml::table& t, std::string_view key,
                                bool allow_empty) const {
    const toml::node* node = t.get(key);
    const int line = LineOfKey(t, key);
    if (!node->is_string()) {
      return Error(line, fmt::format("case.{} must be a string; got {}", key, DescribeNode(*node)));
    }
    const std::string& s = node->as_string()->get();
    if (!allow_empty && s.empty()) {
      return Error(line, fmt::format("case.{} must not be empty", key));
    }
    return s;
  }

  // An array of strings: the strings and the line of each.
  Result<std::vector<std::pair<std::string, int>>> GetStrings(const toml::table& t,
                                                              std::string_view key,
                                                              std::string_view what) const {
    const toml::node* node = t.get(key);
    const int line = LineOfKey(t, key);
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      return Error(line, fmt::format("case.{} must be an array of strings ({}); got {}", key, what,
                                     DescribeNode(*node)));
    }
    std::vector<std::pair<std::string, int>> out;
    size_t n = 0;
    for (const toml::node& item : *array) {
      ++n;
      const int item_line = LineOf(item.source()) > 0 ? LineOf(item.source()) : line;
      if (!item.is_string()) {
        return Error(item_line, fmt::format("the {} entry of case.{} must be a string ({}); got {}",
                                            Ordinal(n), key, what, DescribeNode(item)));
      }
      out.emplace_back(item.as_string()->get(), item_line);
    }
    return out;
  }

  // Inline expected lines: JSON text each.
  Result<std::vector<ExpectedLine>> GetExpectedLines(const toml::table& t,
                                                     std::string_view key) const {
    PULSE_ASSIGN_OR_RETURN(auto strings, GetStrings(t, key, "one JSON value each"));
    std::vector<ExpectedLine> out;
    size_t n = 0;
    for (auto& [text, line] : strings) {
      ++n;
      Result<Value> value = ParseJson(text);
      if (!value.ok()) {
        return Error(line, fmt::format("the {} entry of case.{} is not JSON: {}", Ordinal(n), key,
                                       value.status().message()));
      }
      out.push_back(
          ExpectedLine{std::move(value).value(), text, name_, static_cast<uint64_t>(line)});
    }
    return out;
  }

  // The lines of an expected file, or nullopt when it does not exist.
  Result<std::optional<std::vector<ExpectedLine>>> ReadExpectedFile(const std::string& path,
                                                                    const std::string& shown,
                                                                    int line) const {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::optional<std::vector<ExpectedLine>>();
    Result<std::string> text = internal::ReadTextFile(path, "expected_file");
    if (!text.ok()) return Error(line, text.status().message());
    std::vector<ExpectedLine> out;
    size_t start = 0;
    uint64_t number = 0;
    while (start < text->size()) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) end = text->size();
      std::string_view l(text->data() + start, end - start);
      start = end + 1;
      ++number;
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (io::IsBlankLine(l, io::FileFormat::kJsonl)) continue;
      Result<Value> value = ParseJson(l);
      if (!value.ok()) {
        return Status::InvalidArgument(fmt::format("{}:{}: {} (expected_file of the case at {}:{})",
                                                   path, number, value.status().message(), path_,
                                                   line));
      }
      out.push_back(ExpectedLine{std::move(value).value(), std::string(l), shown, number});
    }
    return std::optional<std::vector<ExpectedLine>>(std::move(out));
  }

  // Append the lines of an input file as steps.
  Status ReadInputFile(const std::string& shown, int line, std::vector<InputStep>* steps) const {
    const std::string path = Resolve(shown);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return Error(line,
                   fmt::format("cannot read input file '{}': {}", path, std::strerror(errno)));
    }
    Result<std::vector<io::InputLine>> lines = io::ReadInputLines(fd, format_, max_line_bytes_);
    ::close(fd);
    if (!lines.ok()) {
      return Error(line, fmt::format("cannot read input file '{}': {}", path,
                                     lines.status().message()));
    }
    bool first = true;
    for (io::InputLine& l : *lines) {
      InputStep step;
      step.text = std::move(l.text);
      step.origin = shown;
      step.line = l.number;
      step.starts_input = first;
      step.too_long = l.too_long;
      step.unterminated_quote = l.unterminated_quote;
      steps->push_back(std::move(step));
      first = false;
    }
    return Status::OK();
  }

  // A watermark: an RFC 3339 string, integer epoch ms, or a TOML offset date-time.
  Result<EventTime> GetWatermark(const toml::node& node, int line) const {
    constexpr std::string_view kWhat =
        "an RFC 3339 time (\"2024-01-01T00:01:00Z\"), integer epoch ms, or a TOML date-time "
        "with an offset";
    if (node.is_integer()) {
      int64_t ms = node.as_integer()->get();
      if (ms >= kMinEventTime && ms <= kMaxEventTime) return ms;
      return Error(line, fmt::format("watermark {} is out of range (years 0000 to 9999)", ms));
    }
    std::string text;
    if (node.is_string()) {
      text = node.as_string()->get();
    } else if (const toml::value<toml::date_time>* dt = node.as_date_time()) {
      const toml::date_time& v = dt->get();
      if (!v.offset.has_value()) {
        return Error(line,
                     "a watermark date-time needs a Z or an offset (e.g. "
                     "2024-01-01T00:01:00Z)");
      }
      const int minutes = v.offset->minutes;
      text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}{}{:02}:{:02}", v.date.year,
                         v.date.month, v.date.day, v.time.hour, v.time.minute, v.time.second,
                         v.time.nanosecond, minutes < 0 ? '-' : '+',
                         std::abs(minutes) / kMinutesPerHour, std::abs(minutes) % kMinutesPerHour);
    } else {
      return Error(line, fmt::format("watermark must be {}; got {}", kWhat, DescribeNode(node)));
    }
    std::optional<EventTime> t = ParseRfc3339(text);
    if (!t.has_value()) {
      return Error(line, fmt::format("watermark {} is not {}", Quote(text), kWhat));
    }
    return *t;
  }

  // `input = [...]`: strings (records), { watermark = ... } and { file = "..." }.
  Status LoadInlineInput(const toml::table& t, std::vector<InputStep>* steps) const {
    const toml::node* node = t.get("input");
    const int line = LineOfKey(t, "input");
    const toml::array* array = node->as_array();
    constexpr std::string_view kEntries =
        "a string (one record), { watermark = ... } or { file = \"...\" }";
    if (array == nullptr) {
      return Error(line, fmt::format("case.input must be an array of records and steps, each {}; "
                                     "got {}",
                                     kEntries, DescribeNode(*node)));
    }
    bool inline_started = false;
    size_t n = 0;
    for (const toml::node& item : *array) {
      ++n;
      const int item_line = LineOf(item.source()) > 0 ? LineOf(item.source()) : line;
      if (item.is_string()) {
        const std::string& text = item.as_string()->get();
        if (format_ == io::FileFormat::kJsonl && text.find('\n') != std::string::npos) {
          return Error(item_line, fmt::format("the {} entry of case.input spans lines; a JSON "
                                              "lines record must be one line",
                                              Ordinal(n)));
        }
        if (io::IsBlankLine(text, format_)) continue;
        InputStep step;
        step.text = text;
        step.origin = name_;
        step.line = static_cast<uint64_t>(item_line);
        step.starts_input = !inline_started;
        step.too_long = text.size() > max_line_bytes_;
        step.unterminated_quote =
            format_ == io::FileFormat::kCsv && io::EndsInsideQuotedField(text);
        inline_started = true;
        steps->push_back(std::move(step));
        continue;
      }
      const toml::table* table = item.as_table();
      if (table == nullptr) {
        return Error(item_line, fmt::format("the {} entry of case.input must be {}; got {}",
                                            Ordinal(n), kEntries, DescribeNode(item)));
      }
      PULSE_RETURN_IF_ERROR(CheckKeys(*table, kStepKeys, "in an entry of case.input", item_line));
      if (table->size() != 1) {
        return Error(item_line, fmt::format("the {} entry of case.input must have exactly one "
                                            "key, watermark or file",
                                            Ordinal(n)));
      }
      if (const toml::node* w = table->get("watermark")) {
        PULSE_ASSIGN_OR_RETURN(EventTime watermark, GetWatermark(*w, item_line));
        InputStep step;
        step.kind = InputStep::Kind::kWatermark;
        step.watermark = watermark;
        step.origin = name_;
        step.line = static_cast<uint64_t>(item_line);
        steps->push_back(std::move(step));
        continue;
      }
      const toml::node* f = table->get("file");
      if (!f->is_string() || f->as_string()->get().empty()) {
        return Error(item_line, fmt::format("file must be a file name; got {}", DescribeNode(*f)));
      }
      PULSE_RETURN_IF_ERROR(ReadInputFile(f->as_string()->get(), item_line, steps));
    }
    return Status::OK();
  }

  Result<TestCase> LoadCase(const toml::table& t) {
    TestCase c;
    c.line = LineOf(t.source());
    PULSE_RETURN_IF_ERROR(CheckKeys(t, kCaseKeys, "in [[case]]", c.line));
    if (!t.contains("name")) return Error(c.line, "case.name must be set");
    PULSE_ASSIGN_OR_RETURN(c.name, GetString(t, "name", /*allow_empty=*/false));

    // Input.
    if (t.contains("input") && t.contains("input_file")) {
      return Error(LineOfKey(t, "input_file"), fmt::format("case {}: set input or input_file, not "
                                                           "both",
                                                           Quote(c.name)));
    }
    if (t.contains("input")) {
      PULSE_RETURN_IF_ERROR(LoadInlineInput(t, &c.input));
    } else if (t.contains("input_file")) {
      PULSE_ASSIGN_OR_RETURN(std::string f, GetString(t, "input_file", false));
      PULSE_RETURN_IF_ERROR(ReadInputFile(f, LineOfKey(t, "input_file"), &c.input));
    } else {
      return Error(c.line, fmt::format("case {}: set input (records and watermark steps) or "
                                       "input_file",
                                       Quote(c.name)));
    }

    // Expected results.
    if (t.contains("expected") && t.contains("expected_file")) {
      return Error(LineOfKey(t, "expected_file"),
                   fmt::format("case {}: set expected or expected_file, not both", Quote(c.name)));
    }
    if (t.contains("expected")) {
      PULSE_ASSIGN_OR_RETURN(c.expected, GetExpectedLines(t, "expected"));
    } else if (t.contains("expected_file")) {
      const int line = LineOfKey(t, "expected_file");
      PULSE_ASSIGN_OR_RETURN(c.expected_file_as_written, GetString(t, "expected_file", false));
      c.expected_file = Resolve(c.expected_file_as_written);
      PULSE_ASSIGN_OR_RETURN(auto lines,
                             ReadExpectedFile(c.expected_file, c.expected_file_as_written, line));
      c.expected_file_missing = !lines.has_value();
      if (lines.has_value()) c.expected = std::move(*lines);
    } else {
      return Error(c.line, fmt::format("case {}: set expected (JSON lines inline) or "
                                       "expected_file",
                                       Quote(c.name)));
    }
    if (t.contains("expected_late")) {
      PULSE_ASSIGN_OR_RETURN(c.expected_late, GetExpectedLines(t, "expected_late"));
    }
    if (t.contains("expected_bad")) {
      PULSE_ASSIGN_OR_RETURN(auto bad, GetStrings(t, "expected_bad", "the raw input line"));
      c.expected_bad.emplace();
      for (auto& [text, line] : bad) c.expected_bad->push_back(std::move(text));
    }
    if (t.contains("expected_error")) {
      PULSE_ASSIGN_OR_RETURN(c.expected_error, GetString(t, "expected_error", false));
    }

    // Comparison options.
    if (t.contains("order")) {
      const toml::node* node = t.get("order");
      const int line = LineOfKey(t, "order");
      const std::string text = node->is_string() ? node->as_string()->get() : std::string();
      if (!node->is_string() || !Contains(kOrders, text)) {
        std::string message =
            fmt::format("case.order must be one of {}; got {}", Join(kOrders), DescribeNode(*node));
        std::string_view suggestion = node->is_string() ? Suggest(text, kOrders) : "";
        if (!suggestion.empty()) message += fmt::format(" (did you mean {}?)", Quote(suggestion));
        return Error(line, message);
      }
      c.compare.order = text == "set" ? CompareOptions::Order::kSet : CompareOptions::Order::kExact;
    }
    if (t.contains("ignore_fields")) {
      PULSE_ASSIGN_OR_RETURN(auto fields, GetStrings(t, "ignore_fields", "top-level field names"));
      for (auto& [field, line] : fields) c.compare.ignore_fields.push_back(std::move(field));
    }
    if (t.contains("tolerance")) {
      const toml::node* node = t.get("tolerance");
      const int line = LineOfKey(t, "tolerance");
      double tolerance = -1;
      if (node->is_floating_point()) tolerance = node->as_floating_point()->get();
      if (node->is_integer()) tolerance = static_cast<double>(node->as_integer()->get());
      if (!node->is_number() || !(tolerance >= 0) || std::isinf(tolerance)) {
        return Error(line, fmt::format("case.tolerance must be a number >= 0 (e.g. 1e-9); got {}",
                                       DescribeNode(*node)));
      }
      c.compare.tolerance = tolerance;
    }
    return c;
  }

  const std::string path_;
  const std::filesystem::path dir_;
  const std::string name_;  // the file name, as steps and expected lines name their origin
  io::FileFormat format_ = io::FileFormat::kJsonl;
  size_t max_line_bytes_ = 0;
};

}  // namespace

std::string TestFileFor(const std::string& pipeline_path) {
  constexpr std::string_view kToml = ".toml";
  std::string base = pipeline_path;
  if (base.ends_with(kToml)) base.resize(base.size() - kToml.size());
  return base + ".test.toml";
}

Result<golden::TestFile> LoadTestFile(const std::string& path) {
  PULSE_ASSIGN_OR_RETURN(std::string text, internal::ReadTextFile(path, "test file"));
  PULSE_ASSIGN_OR_RETURN(toml::table root, internal::ParseToml(text, path));
  return TestFileLoader(path).Load(root);
}

}  // namespace pulse::cli
