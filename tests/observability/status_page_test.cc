// SPDX-License-Identifier: MIT
// The status page's history in headless Chromium, through the `pulse` binary: the live page of
// a following run with checkpoints (charts with points, the checkpoint panel, the last bad
// records with their reasons), and the run report (`--report`) of a stopped, a finished and a
// failed run, opened from the file with networking disabled. Counts are exact: rows against
// the run's fixture, chart points against the report's own embedded data.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "binary_test_util.h"
#include "pulse/core/json.h"

namespace {

namespace fs = std::filesystem;
using namespace pulse::obs_testing;

bool HaveChromium() { return HaveTool("chromium"); }

// Whether a command can run without any network (a new network namespace: not even loopback).
bool CanIsolateNetwork() {
  std::string out;
  return Shell("unshare -rn true", &out) == 0;
}

// The DOM of `url` after the page's scripts ran, from headless Chromium. `offline`: in a network
// namespace of its own (or, where that is not allowed, with every host unresolvable and a
// proxy that does not exist).
std::string Dom(const fs::path& profile, const std::string& url, bool offline = false) {
  std::string prefix;
  std::string flags;
  if (offline) {
    if (CanIsolateNetwork()) {
      prefix = "unshare -rn ";
    } else {
      flags = "--host-resolver-rules='MAP * ~NOTFOUND' --proxy-server=127.0.0.1:9 ";
    }
  }
  std::string dom;
  const int code = Shell(prefix +
                             "chromium --headless --no-sandbox --disable-gpu --disable-quic "
                             "--no-first-run --disable-background-networking "
                             "--disable-component-update --disable-sync --user-data-dir=" +
                             profile.string() + " --window-size=1400,1600 " + flags +
                             "--virtual-time-budget=5000 --dump-dom '" + url + "' 2>/dev/null",
                         &dom);
  EXPECT_EQ(code, 0) << dom;
  return dom;
}

// The opening tag of the element with id `id` in `dom`, or "".
std::string Tag(const std::string& dom, const std::string& id) {
  const size_t at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  const size_t start = dom.rfind('<', at);
  return dom.substr(start, dom.find('>', at) - start + 1);
}

// The value of `attr` in the opening tag of element `id`, or "<none>".
std::string Attr(const std::string& dom, const std::string& id, const std::string& attr) {
  const std::string tag = Tag(dom, id);
  const size_t at = tag.find(" " + attr + "=\"");
  if (at == std::string::npos) return "<none>";
  const size_t start = at + attr.size() + 3;
  return tag.substr(start, tag.find('"', start) - start);
}

int Count(const std::string& text, const std::string& fragment) {
  int n = 0;
  for (size_t at = text.find(fragment); at != std::string::npos;
       at = text.find(fragment, at + 1)) {
    ++n;
  }
  return n;
}

// The JSON a report carries.
pulse::Value ReportData(const std::string& page) {
  const std::string open = "<script id=\"pulse-data\" type=\"application/json\">";
  const size_t start = page.find(open);
  EXPECT_NE(start, std::string::npos);
  const size_t end = page.find("</script>", start);
  pulse::Result<pulse::Value> data =
      pulse::ParseJson(page.substr(start + open.size(), end - start - open.size()));
  EXPECT_TRUE(data.ok()) << data.status().ToString();
  return data.ok() ? *data : pulse::Value();
}

bool Finite(const pulse::Value& v) { return v.is_number(); }
double Number(const pulse::Value& v) {
  double d = NAN;
  v.ToNumber(&d);
  return d;
}

// The points each chart line must have for `history` (the page's rules: a rate between two
// samples that are apart in time; a level where it is a finite number; a lag where the
// watermark and what it trails are finite).
std::map<std::string, int> ExpectedPoints(const pulse::Value& history) {
  const auto& t = history.Find("t")->as_array();
  const auto& watermark = history.Find("watermark")->as_array();
  const auto& newest = history.Find("newest")->as_array();
  std::map<std::string, int> points;
  int spaced = 0;
  for (size_t i = 1; i < t.size(); ++i) spaced += Number(t[i]) > Number(t[i - 1]) ? 1 : 0;
  points["in"] = points["out"] = spaced;
  for (const char* level : {"late", "bad", "open_windows", "watermark", "newest"}) {
    int n = 0;
    for (const pulse::Value& v : history.Find(level)->as_array()) n += Finite(v) ? 1 : 0;
    points[level] = n;
  }
  points["lag-wall"] = points["watermark"];
  int both = 0;
  for (size_t i = 0; i < t.size(); ++i) both += Finite(watermark[i]) && Finite(newest[i]) ? 1 : 0;
  points["lag-event"] = both;
  return points;
}

void ExpectChartsMatch(const std::string& dom, const pulse::Value& history) {
  for (const char* chart : {"rate", "time", "lag", "drops", "state"}) {
    EXPECT_NE(Tag(dom, std::string("chart-") + chart), "") << chart;
  }
  for (const auto& [series, n] : ExpectedPoints(history)) {
    EXPECT_EQ(Attr(dom, "series-" + series, "data-points"), std::to_string(n)) << series;
    // As many coordinate pairs as it says.
    const std::string points = Attr(dom, "series-" + series, "points");
    EXPECT_EQ(n == 0 ? 0 : Count(points, " ") + 1, n) << series << ": " << points;
  }
}

// The three bad lines of Fixture(), newest first, with their reasons, places and text.
void ExpectFixtureBadRecords(const std::string& dom) {
  EXPECT_EQ(Count(dom, "<tr id=\"bad-"), 3) << dom;
  for (const char* fragment :
       {"<tr id=\"bad-1\" data-reason=\"invalid_json\">",
        "<td>invalid_json</td><td>in.jsonl:3</td>", "<td class=\"raw\">not json</td>",
        "<tr id=\"bad-2\" data-reason=\"bad_event_time\">",
        "<td>bad_event_time</td><td>in.jsonl:6</td><td>missing time field 'ts'</td>"
        "<td class=\"raw\">{\"user\":\"no time\"}</td>",
        "<tr id=\"bad-3\" data-reason=\"not_an_object\">",
        "<td>not_an_object</td><td>in.jsonl:8</td><td>expected a JSON object, got an array</td>"
        "<td class=\"raw\">[1,2]</td>"}) {
    EXPECT_NE(dom.find(fragment), std::string::npos) << fragment;
  }
  EXPECT_LT(dom.find("id=\"bad-3\""), dom.find("id=\"bad-1\""));  // newest first
}

// Every row of the checkpoint panel: committed, and as many as the panel says.
void ExpectCheckpointRows(const std::string& dom, int committed) {
  EXPECT_EQ(Attr(dom, "checkpoints-summary", "data-committed"), std::to_string(committed));
  EXPECT_EQ(Attr(dom, "checkpoints-summary", "data-failed"), "0");
  EXPECT_EQ(Count(dom, "<tr id=\"ckpt-"), committed);
  EXPECT_EQ(Count(dom, "<td>committed</td>"), committed);
  for (int id = 1; id <= committed; ++id) {
    EXPECT_NE(Tag(dom, "ckpt-" + std::to_string(id)), "") << id;
  }
}

void WriteCheckpointedConfig(const fs::path& dir, bool follow, const std::string& on_error) {
  WriteFile(dir / "p.toml",
            std::string("[source]\nkind = \"file\"\npath = \"in.jsonl\"\ntime_field = \"ts\"\n") +
                "follow = " + (follow ? "true" : "false") + "\non_error = \"" + on_error +
                "\"\n[time]\nmax_out_of_orderness = \"0s\"\n"
                "[window]\ntype = \"tumbling\"\nsize = \"10s\"\n[ops]\ncount_by = \"user\"\n"
                "[sink]\nkind = \"file\"\npath = \"out.jsonl\"\n"
                "[checkpoint]\ndir = \"ck\"\ninterval = \"1s\"\n");
}

// Issue 22 item 6: the live page of a following run with checkpoints, then its report after
// SIGTERM, opened without network.
TEST(StatusPage, LiveChartsCheckpointsAndBadRecordsThenTheReportOffline) {
  if (!HaveChromium()) {
    GTEST_SKIP() << "chromium not found (Debian package 'chromium'; scripts/setup.sh installs "
                    "it): status page not rendered";
  }
  TempDir dir;
  WriteCheckpointedConfig(dir.path(), /*follow=*/true, "skip");
  WriteFile(dir.path() / "in.jsonl", Fixture());
  const int port = FreePort();
  Pulse pulse(dir.path(), {"run", "-c", "p.toml", "--http-port", std::to_string(port),
                           "--report", "report/run.html"});
  // Everything read and written, in the history's newest sample, and a checkpoint taken since.
  ASSERT_TRUE(WaitFor([&] {
    pulse::Result<pulse::Value> status = pulse::ParseJson(Get(port, "/api/status"));
    if (!status.ok() || status->Find("history") == nullptr) return false;
    const pulse::Value& history = *status->Find("history");
    const auto& out = history.Find("out")->as_array();
    return !out.empty() && Number(out.back()) == 4 &&
           Number(history.Find("bad")->as_array().back()) == 3 &&
           Number(history.Find("late")->as_array().back()) == 1 &&
           Number(*status->Find("checkpoints")->Find("committed")) >= 1;
  })) << pulse.err();

  const std::string dom = Dom(dir.path() / "profile", "http://127.0.0.1:" +
                                                          std::to_string(port) + "/");
  EXPECT_NE(dom.find("id=\"state\">running<"), std::string::npos);
  // A sample a second, each counted: the levels have every sample, the rates one fewer.
  const int samples = std::stoi(Attr(dom, "series-late", "data-points"));
  EXPECT_GE(samples, 2);
  EXPECT_EQ(Attr(dom, "series-bad", "data-points"), std::to_string(samples));
  EXPECT_EQ(Attr(dom, "series-open_windows", "data-points"), std::to_string(samples));
  EXPECT_EQ(Attr(dom, "series-in", "data-points"), std::to_string(samples - 1));
  EXPECT_EQ(Attr(dom, "series-out", "data-points"), std::to_string(samples - 1));
  EXPECT_GE(std::stoi(Attr(dom, "series-watermark", "data-points")), 1);
  // The legends carry the last values.
  EXPECT_NE(dom.find("<i class=\"c0\"></i>late 1<i class=\"c1\"></i>bad 3</span>"),
            std::string::npos);
  EXPECT_NE(dom.find("<i class=\"c0\"></i>open windows 1</span>"), std::string::npos);
  ExpectFixtureBadRecords(dom);
  const int committed = std::stoi(Attr(dom, "checkpoints-summary", "data-committed"));
  EXPECT_GE(committed, 1);
  ExpectCheckpointRows(dom, committed);
  EXPECT_NE(Tag(dom, "partitions-section").find("class=\"hidden\""), std::string::npos);

  // SIGTERM: the run stops (exit 128 + SIGTERM) and the report is written.
  EXPECT_EQ(pulse.Stop(SIGTERM), 143) << pulse.err();
  const fs::path report = dir.path() / "report" / "run.html";
  ASSERT_TRUE(fs::exists(report)) << pulse.err();
  EXPECT_NE(pulse.err().find("wrote the run report report/run.html"), std::string::npos);
  const std::string page = ReadFile(report);
  const pulse::Value data = ReportData(page);
  EXPECT_EQ(data.Find("state")->as_string(), "stopped");
  const pulse::Value& history = *data.Find("history");
  EXPECT_GE(history.Find("t")->as_array().size(), static_cast<size_t>(samples));
  const int report_committed =
      static_cast<int>(Number(*data.Find("checkpoints")->Find("committed")));
  // The final checkpoint of the stop comes on top of those the page showed.
  EXPECT_GT(report_committed, committed);
  ASSERT_LE(report_committed, 100);  // all of them listed

  const std::string offline = Dom(dir.path() / "profile-offline", "file://" + report.string(),
                                  /*offline=*/true);
  EXPECT_NE(offline.find("data-report=\"1\""), std::string::npos) << offline;
  EXPECT_NE(offline.find("id=\"state\">stopped<"), std::string::npos);
  ExpectChartsMatch(offline, history);
  ExpectFixtureBadRecords(offline);
  ExpectCheckpointRows(offline, report_committed);
  EXPECT_NE(offline.find("id=\"t-read\" data-value=\"7\">7<"), std::string::npos);
  EXPECT_NE(offline.find("id=\"t-written\" data-value=\"4\">4<"), std::string::npos);
  if (!CanIsolateNetwork()) {
    std::cout << "note: unshare -rn is not allowed here; the report was opened with every host "
                 "unresolvable and no reachable proxy instead\n";
  }
}

// A finite run with only --report (no HTTP server): the history is kept all the same.
TEST(StatusPage, ReportOfAFinishedRunWithoutServer) {
  if (!HaveChromium()) GTEST_SKIP() << "chromium not found (Debian package 'chromium')";
  TempDir dir;
  WriteConfig(dir.path(), /*follow=*/false);
  WriteFile(dir.path() / "in.jsonl", Fixture());
  Pulse pulse(dir.path(), {"run", "-c", "p.toml", "--report", "run.html"});
  ASSERT_EQ(pulse.Wait(), 0) << pulse.err();
  const fs::path report = dir.path() / "run.html";
  const pulse::Value data = ReportData(ReadFile(report));
  EXPECT_EQ(data.Find("state")->as_string(), "finished");
  const pulse::Value& history = *data.Find("history");
  // At least the samples at the start and at the end: all in, all out, the end of the input.
  const auto& t = history.Find("t")->as_array();
  ASSERT_GE(t.size(), 2u);
  EXPECT_EQ(Number(history.Find("in")->as_array().front()), 0);
  EXPECT_EQ(Number(history.Find("in")->as_array().back()), 7);
  EXPECT_EQ(Number(history.Find("out")->as_array().back()), 5);
  EXPECT_EQ(history.Find("watermark")->as_array().back().as_string(), "+Inf");
  EXPECT_EQ(Number(history.Find("newest")->as_array().back()), kBase + 25'000);
  EXPECT_FALSE(data.Find("checkpoints")->Find("enabled")->as_bool());

  const std::string dom = Dom(dir.path() / "profile", "file://" + report.string(), true);
  EXPECT_NE(dom.find("id=\"state\">finished<"), std::string::npos);
  ExpectChartsMatch(dom, history);
  ExpectFixtureBadRecords(dom);
  EXPECT_EQ(Count(dom, "<tr id=\"ckpt-"), 0);
  EXPECT_NE(dom.find("Checkpoints are off for this run"), std::string::npos);
  EXPECT_NE(dom.find("<i class=\"c0\"></i>late 1<i class=\"c1\"></i>bad 3</span>"),
            std::string::npos);
  EXPECT_NE(dom.find("id=\"error\" style=\"display: none;\"></div>"), std::string::npos);
}

// A run that fails (on_error = "fail" at the first bad line) still writes its report, which
// says why.
TEST(StatusPage, ReportOfAFailedRunSaysWhy) {
  if (!HaveChromium()) GTEST_SKIP() << "chromium not found (Debian package 'chromium')";
  TempDir dir;
  WriteCheckpointedConfig(dir.path(), /*follow=*/false, "fail");
  WriteFile(dir.path() / "in.jsonl", Fixture());
  Pulse pulse(dir.path(), {"run", "-c", "p.toml", "--report", "run.html"});
  ASSERT_EQ(pulse.Wait(), 1) << pulse.err();
  const pulse::Value data = ReportData(ReadFile(dir.path() / "run.html"));
  EXPECT_EQ(data.Find("state")->as_string(), "failed");
  const std::string error = data.Find("error")->as_string();
  EXPECT_NE(error.find("in.jsonl:3: invalid_json: "), std::string::npos) << error;
  // The same message as on stderr.
  EXPECT_NE(pulse.err().find("error: " + error + "\n"), std::string::npos) << pulse.err();
  ASSERT_EQ(data.Find("bad_records")->as_array().size(), 1u);

  const std::string dom =
      Dom(dir.path() / "profile", "file://" + (dir.path() / "run.html").string(), true);
  EXPECT_NE(dom.find("id=\"state\">failed<"), std::string::npos);
  EXPECT_NE(dom.find("style=\"display: block;\">The run failed: " + error + "</div>"),
            std::string::npos)
      << dom;
  EXPECT_EQ(Count(dom, "<tr id=\"bad-"), 1);
  EXPECT_NE(dom.find("<tr id=\"bad-1\" data-reason=\"invalid_json\">"), std::string::npos);
  ExpectChartsMatch(dom, *data.Find("history"));
}

TEST(StatusPage, AReportPathThatCannotBeWrittenFailsBeforeTheRun) {
  TempDir dir;
  WriteConfig(dir.path(), /*follow=*/false);
  WriteFile(dir.path() / "in.jsonl", Fixture());
  fs::create_directory(dir.path() / "a_dir");
  Pulse pulse(dir.path(), {"run", "-c", "p.toml", "--report", "a_dir"});
  EXPECT_EQ(pulse.Wait(), 2);
  EXPECT_EQ(pulse.err(),
            "error: --report: 'a_dir' is a directory; name the HTML file to write\n");
  EXPECT_FALSE(fs::exists(dir.path() / "out.jsonl"));
  EXPECT_EQ(fs::directory_iterator(dir.path() / "a_dir"), fs::directory_iterator());
}

}  // namespace
