// SPDX-License-Identifier: MIT
// Ctrl-C and SIGTERM through the real binary: a followed file is read until the signal, the
// windows the watermark completed are written, incomplete ones are not, and the exit code is 0.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SignalTest : public ::testing::TestWithParam<int> {};

TEST_P(SignalTest, StopsCleanlyAndWritesOnlyCompleteWindows) {
  std::string tmpl = (fs::temp_directory_path() / "pulse-signal-XXXXXX").string();
  const fs::path dir = mkdtemp(tmpl.data());
  {
    std::ofstream cfg(dir / "p.toml");
    cfg << "[source]\nkind = \"file\"\npath = \"in.jsonl\"\nfollow = true\n"
        << "[time]\nmax_out_of_orderness = \"0s\"\n"
        << "[window]\ntype = \"tumbling\"\nsize = \"10s\"\n[ops]\ncount_by = \"k\"\n"
        << "[sink]\nkind = \"file\"\n";  // stdout, flushed after every batch
    // Windows [0,10s) and [10s,20s) are complete once W = 25 s; [20s,30s) is not.
    std::ofstream in(dir / "in.jsonl");
    for (int64_t t : {1000, 2000, 12000, 21000, 25000}) {
      in << "{\"event_time\":" << t << ",\"k\":\"a\"}\n";
    }
  }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(99);
    if (freopen("stderr.txt", "w", stderr) == nullptr) _exit(97);
    if (freopen("out.jsonl", "w", stdout) == nullptr) _exit(96);
    execl(PULSE_BINARY, PULSE_BINARY, "run", "-c", "p.toml", "--workers", "2",
          static_cast<char*>(nullptr));
    _exit(98);
  }
  // Wait (at most 30 s) until both complete windows are on stdout: everything has been read.
  auto lines = [&] {
    std::string out = ReadFile(dir / "out.jsonl");
    return std::count(out.begin(), out.end(), '\n');
  };
  for (int i = 0; i < 300 && lines() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(kill(pid, GetParam()), 0);
  int status = 0;
  for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (waitpid(pid, &status, WNOHANG) == 0 && !WIFEXITED(status)) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "pulse did not stop within 10 s of the signal";
  }
  ASSERT_TRUE(WIFEXITED(status)) << ReadFile(dir / "stderr.txt");
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadFile(dir / "stderr.txt");
  EXPECT_EQ(ReadFile(dir / "out.jsonl"),
            "{\"window_start_ms\":0,\"window_end_ms\":10000,\"key\":\"a\",\"count\":2}\n"
            "{\"window_start_ms\":10000,\"window_end_ms\":20000,\"key\":\"a\",\"count\":1}\n");
  EXPECT_NE(ReadFile(dir / "stderr.txt").find("read 5 records"), std::string::npos)
      << ReadFile(dir / "stderr.txt");
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(IntAndTerm, SignalTest, ::testing::Values(SIGINT, SIGTERM));

}  // namespace
