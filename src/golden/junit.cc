// SPDX-License-Identifier: MIT
// JUnit XML writing for `pulse test --junit`.
#include "golden/junit.h"

#include <fmt/format.h>

#include "pulse/core/output_file.h"

namespace pulse::golden {
namespace {

enum class Context : uint8_t { kAttribute, kText };

// XML 1.0 attribute value or element text: escaped, valid UTF-8, no forbidden control
// characters. Quotes need escaping only in attributes; text stays readable without.
std::string Escape(const std::string& raw, Context context = Context::kAttribute) {
  std::string text;
  pulse::AppendUtf8Lossy(raw, &text);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += context == Context::kAttribute ? "&quot;" : "\"";
        break;
      default:
        if (u < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += fmt::format("\\u{:04x}", u);
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string Seconds(double s) { return fmt::format("{:.3f}", s < 0 ? 0.0 : s); }

struct Counts {
  size_t tests = 0;
  size_t failures = 0;
  size_t errors = 0;
  double seconds = 0;
};

Counts CountSuite(const JUnitSuite& suite) {
  Counts c;
  c.seconds = suite.seconds;
  for (const JUnitCase& t : suite.cases) {
    ++c.tests;
    if (t.outcome == JUnitCase::Outcome::kFailed) ++c.failures;
    if (t.outcome == JUnitCase::Outcome::kError) ++c.errors;
  }
  return c;
}

}  // namespace

std::string JUnitClassName(const std::string& path) {
  std::string name = path;
  for (std::string_view suffix : {".toml", ".test"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      name.resize(name.size() - suffix.size());
    }
  }
  while (name.starts_with("./")) name.erase(0, 2);
  for (char& c : name) {
    if (c == '/') c = '.';
  }
  return name;
}

std::string FormatJUnit(const std::vector<JUnitSuite>& suites) {
  Counts total;
  for (const JUnitSuite& s : suites) {
    Counts c = CountSuite(s);
    total.tests += c.tests;
    total.failures += c.failures;
    total.errors += c.errors;
    total.seconds += c.seconds;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format(
      "<testsuites name=\"pulse test\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
      "skipped=\"0\" time=\"{}\">\n",
      total.tests, total.failures, total.errors, Seconds(total.seconds));
  for (const JUnitSuite& s : suites) {
    Counts c = CountSuite(s);
    out += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" "
        "time=\"{}\" file=\"{}\">\n",
        Escape(s.name), c.tests, c.failures, c.errors, Seconds(c.seconds), Escape(s.name));
    for (const JUnitCase& t : s.cases) {
      out += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"", Escape(t.name),
                         Escape(t.classname), Seconds(t.seconds));
      if (t.outcome == JUnitCase::Outcome::kPassed) {
        out += "/>\n";
        continue;
      }
      const bool failed = t.outcome == JUnitCase::Outcome::kFailed;
      out += fmt::format(">\n      <{} message=\"{}\" type=\"{}\">{}</{}>\n    </testcase>\n",
                         failed ? "failure" : "error", Escape(t.message),
                         failed ? "mismatch" : "error", Escape(t.details, Context::kText),
                         failed ? "failure" : "error");
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace pulse::golden
