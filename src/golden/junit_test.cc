// SPDX-License-Identifier: MIT
// Tests for the JUnit XML report: structure, counts, escaping.
#include "golden/junit.h"

#include <gtest/gtest.h>

#include <string>

namespace pulse::golden {
namespace {

TEST(JUnit, CountsAndElements) {
  std::vector<JUnitSuite> suites;
  suites.push_back(
      JUnitSuite{"tests/a.test.toml",
                 0.0126,
                 {JUnitCase{"ok", "tests.a", 0.002, JUnitCase::Outcome::kPassed, "", ""},
                  JUnitCase{"bad", "tests.a", 0.0106, JUnitCase::Outcome::kFailed,
                            "results: 1 missing", "  FAIL  bad\n    - missing\n"}}});
  suites.push_back(JUnitSuite{"b.test.toml",
                              0,
                              {JUnitCase{"(test file)", "b", 0, JUnitCase::Outcome::kError,
                                         "b.test.toml:3: oops", "b.test.toml:3: oops"}}});
  EXPECT_EQ(
      FormatJUnit(suites),
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"pulse test\" tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\" "
      "time=\"0.013\">\n"
      "  <testsuite name=\"tests/a.test.toml\" tests=\"2\" failures=\"1\" errors=\"0\" "
      "skipped=\"0\" time=\"0.013\" file=\"tests/a.test.toml\">\n"
      "    <testcase name=\"ok\" classname=\"tests.a\" time=\"0.002\"/>\n"
      "    <testcase name=\"bad\" classname=\"tests.a\" time=\"0.011\">\n"
      "      <failure message=\"results: 1 missing\" type=\"mismatch\">  FAIL  bad\n"
      "    - missing\n"
      "</failure>\n"
      "    </testcase>\n"
      "  </testsuite>\n"
      "  <testsuite name=\"b.test.toml\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" "
      "time=\"0.000\" file=\"b.test.toml\">\n"
      "    <testcase name=\"(test file)\" classname=\"b\" time=\"0.000\">\n"
      "      <error message=\"b.test.toml:3: oops\" type=\"error\">b.test.toml:3: oops</error>\n"
      "    </testcase>\n"
      "  </testsuite>\n"
      "</testsuites>\n");
}

TEST(JUnit, EmptyReport) {
  EXPECT_EQ(FormatJUnit({}),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<testsuites name=\"pulse test\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\" "
            "time=\"0.000\">\n"
            "</testsuites>\n");
}

TEST(JUnit, EscapesTextAndRepairsBytes) {
  std::vector<JUnitSuite> suites = {
      JUnitSuite{"s",
                 0,
                 {JUnitCase{"a<b> & \"c\" 'd'", "x", 0, JUnitCase::Outcome::kFailed,
                            std::string("bell\x07 bad\xFF"), "{\"k\":\"<v>\"}\tand & \x01"}}}};
  const std::string xml = FormatJUnit(suites);
  EXPECT_NE(xml.find("<testcase name=\"a&lt;b&gt; &amp; &quot;c&quot; 'd'\""), std::string::npos)
      << xml;
  EXPECT_NE(xml.find("message=\"bell\\u0007 bad\xEF\xBF\xBD\""), std::string::npos) << xml;
  EXPECT_NE(xml.find(">{\"k\":\"&lt;v&gt;\"}\tand &amp; \\u0001</failure>"), std::string::npos)
      << xml;
}

TEST(JUnit, ClassName) {
  EXPECT_EQ(JUnitClassName("examples/pipelines/tumbling_count.test.toml"),
            "examples.pipelines.tumbling_count");
  EXPECT_EQ(JUnitClassName("./t.toml"), "t");
  EXPECT_EQ(JUnitClassName("cases.txt"), "cases.txt");
}

}  // namespace
}  // namespace pulse::golden
