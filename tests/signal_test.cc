// SPDX-License-Identifier: MIT
// Ctrl-C and SIGTERM through the real binary (issue 22): a stopped run exits 128 + the signal
// (130, 143) and leaves the open windows open: without checkpoints they are discarded and no
// partial output file is published; with checkpoints a final checkpoint keeps them and the next
// run continues exactly. With --drain every window closes, the output equals a finished run over
// what was read, and the exit code is 0.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Poll `done` every 20 ms for at most 30 s (a bound for a broken build, not a timing check).
template <typename Done>
bool WaitFor(Done done) {
  for (int i = 0; i < 1500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

// Lines of JSON records {"event_time": t, "k": key} for event times `from`, `from` + step, ...
std::string Events(int n, int64_t from, int64_t step) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += "{\"event_time\":" + std::to_string(from + i * step) + ",\"k\":\"k" +
           std::to_string(i % 3) + "\"}\n";
  }
  return out;
}

// A pipeline config: tumbling 10 s counts by "k" with a bound of 1 s (and `time_lines`), from
// `source_lines` to `sink_lines`, plus `extra` tables.
std::string Config(const std::string& source_lines, const std::string& sink_lines,
                   const std::string& extra = "", const std::string& time_lines = "") {
  return "[source]\nkind = \"file\"\n" + source_lines +
         "[time]\nmax_out_of_orderness = \"1s\"\n" + time_lines +
         "[window]\ntype = \"tumbling\"\nsize = \"10s\"\n[ops]\ncount_by = \"k\"\n"
         "[sink]\nkind = \"file\"\n" +
         sink_lines + extra;
}

class SignalTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "pulse-signal-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (!HasFailure()) fs::remove_all(dir_);
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  void Append(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary | std::ios::app) << text;
  }

  // Start `pulse run -c p.toml --workers 2 <args>` in the test directory with debug logs (whose
  // per-batch spans tell how many records the source has read); stdout to `stdout_name`,
  // stderr appended to stderr.txt.
  void Start(std::vector<std::string> args = {}, const std::string& stdout_name = "stdout.txt") {
    stderr_at_start_ = ReadFile(dir_ / "stderr.txt").size();
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      if (chdir(dir_.c_str()) != 0) _exit(99);
      if (freopen("stderr.txt", "a", stderr) == nullptr) _exit(97);
      if (freopen(stdout_name.c_str(), "w", stdout) == nullptr) _exit(96);
      setenv("PULSE_LOG", "debug", 1);
      std::vector<std::string> all = {PULSE_BINARY, "run", "-c", "p.toml", "--workers", "2"};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (std::string& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(PULSE_BINARY, argv.data());
      _exit(98);
    }
  }

  // This run's stderr so far.
  std::string RunStderr() const { return ReadFile(dir_ / "stderr.txt").substr(stderr_at_start_); }

  // Records the source of this run has handed on, from its debug spans.
  uint64_t RecordsRead() const {
    static const std::regex kSpan("span source batch [0-9]+: received [0-9]+, emitted ([0-9]+)");
    uint64_t n = 0;
    const std::string err = RunStderr();
    for (auto it = std::sregex_iterator(err.begin(), err.end(), kSpan);
         it != std::sregex_iterator(); ++it) {
      n += std::stoull((*it)[1]);
    }
    return n;
  }

  // Send `signal` and return the exit code (-1: did not exit within 30 s, or not by exit).
  int Stop(int signal) {
    kill(pid_, signal);
    int status = 0;
    const bool ended = WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; });
    if (!ended) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // The output of a finished run of the same pipeline over `input` (no follow) into `name`.
  std::string FinishedRun(const std::string& input) {
    const fs::path sub = dir_ / "reference";
    fs::create_directories(sub);
    std::ofstream(sub / "in.jsonl", std::ios::binary) << input;
    std::ofstream(sub / "p.toml") << Config("path = \"in.jsonl\"\n", "path = \"out.jsonl\"\n");
    const std::string command = "cd '" + sub.string() + "' && '" PULSE_BINARY
                                "' run -c p.toml 2>err.txt";
    EXPECT_EQ(std::system(command.c_str()), 0) << ReadFile(sub / "err.txt");
    return ReadFile(sub / "out.jsonl");
  }

  bool HasInProgressFile() const {
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().filename().string().find(".inprogress-") != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  std::string Name() const { return GetParam() == SIGINT ? "SIGINT" : "SIGTERM"; }
  int Code() const { return 128 + GetParam(); }

  fs::path dir_;
  pid_t pid_ = -1;
  size_t stderr_at_start_ = 0;
};

// A followed file read to its end, standard output: the windows the watermark completed are
// written, the incomplete one is discarded and said so, and the exit code is 130 or 143.
// (A followed file is unbounded: what the output holds stays.)
TEST_P(SignalTest, StopWithoutCheckpointsWritesOnlyCompleteWindowsAndExitsWithTheSignal) {
  Write("p.toml", Config("path = \"in.jsonl\"\nfollow = true\n", ""));  // stdout
  // With a bound of 1 s: W = 24 s after 25 s; [0,10s) and [10s,20s) are complete, [20s,30s)
  // is not.
  Write("in.jsonl", "{\"event_time\":1000,\"k\":\"a\"}\n{\"event_time\":2000,\"k\":\"a\"}\n"
                    "{\"event_time\":12000,\"k\":\"a\"}\n{\"event_time\":21000,\"k\":\"a\"}\n"
                    "{\"event_time\":25000,\"k\":\"a\"}\n");
  Start({}, "out.jsonl");
  ASSERT_TRUE(WaitFor([&] { return RecordsRead() == 5; })) << RunStderr();
  ASSERT_EQ(Stop(GetParam()), Code()) << RunStderr();
  EXPECT_EQ(ReadFile(dir_ / "out.jsonl"),
            "{\"window_start_ms\":0,\"window_end_ms\":10000,\"key\":\"a\",\"count\":2}\n"
            "{\"window_start_ms\":10000,\"window_end_ms\":20000,\"key\":\"a\",\"count\":1}\n");
  const std::string err = RunStderr();
  EXPECT_NE(err.find("read 5 records"), std::string::npos) << err;
  EXPECT_NE(err.find("pulse: stopped by " + Name() + " without checkpoints: 1 open window "
                     "discarded; the output holds the 2 results of the windows closed before "
                     "the stop"),
            std::string::npos)
      << err;
}

// A bounded input (a FIFO whose writer has not finished) stopped before its end: the output
// file would be partial, so it is not published, and nothing is left behind.
TEST_P(SignalTest, StoppedBoundedRunPublishesNoPartialOutputFile) {
  ASSERT_EQ(mkfifo((dir_ / "in.fifo").c_str(), 0600), 0);
  Write("p.toml", Config("path = \"in.fifo\"\n", "path = \"out.jsonl\"\n"));
  Start();
  // Opening the FIFO for writing waits for pulse to open it for reading.
  std::ofstream fifo(dir_ / "in.fifo", std::ios::binary);
  fifo << Events(50, 0, 1000) << std::flush;
  // The sink has opened its in-progress file: the run is under way.
  ASSERT_TRUE(WaitFor([&] { return HasInProgressFile(); })) << RunStderr();
  ASSERT_EQ(Stop(GetParam()), Code()) << RunStderr();
  fifo.close();
  EXPECT_FALSE(fs::exists(dir_ / "out.jsonl"));
  EXPECT_FALSE(HasInProgressFile());
  EXPECT_NE(RunStderr().find("stopped by " + Name() + " before the end of the input, without "
                             "checkpoints"),
            std::string::npos)
      << RunStderr();
}

// --drain: every open window closes and is written, the output file is published, exit 0, and
// the output is exactly a finished run's over the records read.
TEST_P(SignalTest, DrainWritesEveryWindowAndEqualsAFinishedRunOverWhatWasRead) {
  const std::string input = Events(100, 0, 700);  // event times 0 .. 69.3 s
  Write("p.toml", Config("path = \"in.jsonl\"\nfollow = true\n", "path = \"out.jsonl\"\n"));
  Write("in.jsonl", input);
  Start({"--drain"});
  ASSERT_TRUE(WaitFor([&] { return RecordsRead() == 100; })) << RunStderr();
  ASSERT_EQ(Stop(GetParam()), 0) << RunStderr();
  const std::string expected = FinishedRun(input);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(ReadFile(dir_ / "out.jsonl"), expected);
  EXPECT_NE(RunStderr().find("pulse: stopped by " + Name() + " and drained"), std::string::npos)
      << RunStderr();
}

// Stop with checkpoints (Flink's stop-with-savepoint), append more input, resume, stop again
// with --drain: the output equals a finished run over all of the input, byte for byte.
TEST_P(SignalTest, StopWithCheckpointsThenResumeContinuesExactly) {
  const std::string first = Events(100, 0, 700);
  // Its first record falls in [60s,70s), a window the stop left open.
  const std::string second = Events(60, 69'500, 900);
  Write("p.toml", Config("path = \"in.jsonl\"\nfollow = true\n", "path = \"out.jsonl\"\n",
                         "[checkpoint]\ndir = \"ck\"\ninterval = \"1h\"\n"));
  Write("in.jsonl", first);
  Start();
  ASSERT_TRUE(WaitFor([&] { return RecordsRead() == 100; })) << RunStderr();
  ASSERT_EQ(Stop(GetParam()), Code()) << RunStderr();
  // W = 69.3 s − 1 s: the windows ending at 60 s are written; those of [60s,70s) stay open.
  EXPECT_NE(RunStderr().find("pulse: stopped by " + Name() +
                             ": the final checkpoint keeps 3 open windows"),
            std::string::npos)
      << RunStderr();
  // The run is unbounded, so the file is written in place (docs/running-continuously.md): it
  // holds exactly what the final checkpoint covers, the results of the windows closed before
  // the stop, each once.
  std::string closed;
  std::istringstream reference(FinishedRun(first));
  for (std::string line; std::getline(reference, line);) {
    if (line.find("\"window_end_ms\":70000") == std::string::npos) closed += line + "\n";
  }
  ASSERT_FALSE(closed.empty());
  EXPECT_EQ(ReadFile(dir_ / "out.jsonl"), closed);
  EXPECT_FALSE(HasInProgressFile());

  Append("in.jsonl", second);
  Start({"--drain"});
  ASSERT_TRUE(WaitFor([&] { return RecordsRead() == 60; })) << RunStderr();
  ASSERT_EQ(Stop(SIGTERM), 0) << RunStderr();
  EXPECT_NE(RunStderr().find("resumed from checkpoint"), std::string::npos) << RunStderr();
  EXPECT_EQ(ReadFile(dir_ / "out.jsonl"), FinishedRun(first + second));
}

// time.idle_timeout through the binary: the input pauses after a burst whose records leave
// the watermark before the end of their window; with idleness the window closes while the
// input is open (without, it would wait for the next record or the stop).
TEST_P(SignalTest, IdleTimeoutClosesTheLastWindowsWhileTheInputPauses) {
  const std::string input = Events(10, 0, 1000);  // one window, [0, 10 s); W = 8 s
  Write("p.toml", Config("path = \"in.jsonl\"\nfollow = true\n", "", "",
                         "idle_timeout = \"300ms\"\n"));
  Write("in.jsonl", input);
  Start({}, "out.jsonl");
  const std::string expected = FinishedRun(input);
  ASSERT_EQ(std::count(expected.begin(), expected.end(), '\n'), 3);
  EXPECT_TRUE(WaitFor([&] { return ReadFile(dir_ / "out.jsonl") == expected; }))
      << ReadFile(dir_ / "out.jsonl") << RunStderr();
  ASSERT_EQ(Stop(GetParam()), Code()) << RunStderr();
  EXPECT_EQ(ReadFile(dir_ / "out.jsonl"), expected);
}

INSTANTIATE_TEST_SUITE_P(IntAndTerm, SignalTest, ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == SIGINT ? std::string("SIGINT")
                                                       : std::string("SIGTERM");
                         });

}  // namespace
