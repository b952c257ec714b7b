// SPDX-License-Identifier: MIT
// Helpers of the tests that run the `pulse` binary (observability_test.cc,
// status_page_test.cc): files, ports, a child process, shell commands, HTTP, the fixture.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace pulse::obs_testing {

namespace fs = std::filesystem;

constexpr int64_t kBase = 1704067200000;  // 2024-01-01T00:00:00Z

inline std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Call `done` until it returns true or `limit` passes (a bound for a broken build, not a
// timing assertion).
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// A TCP port that was free a moment ago.
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

inline bool HaveTool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// Run a shell command; returns its exit code and puts its stdout (and stderr) in `out`.
inline int Shell(const std::string& command, std::string* out) {
  out->clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out->append(buf, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// `pulse` with arguments, in `dir`, stdout and stderr to files there.
class Pulse {
 public:
  Pulse(const fs::path& dir, std::vector<std::string> args,
        std::vector<std::string> env = {})
      : dir_(dir) {
    pid_ = fork();
    if (pid_ != 0) return;
    if (chdir(dir.c_str()) != 0) _exit(99);
    if (freopen("stderr.txt", "w", stderr) == nullptr) _exit(97);
    if (freopen("stdout.txt", "w", stdout) == nullptr) _exit(96);
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv = {const_cast<char*>(PULSE_BINARY)};
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(PULSE_BINARY, argv.data());
    _exit(98);
  }

  ~Pulse() {
    if (!exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  /// Send `signo` and wait for the exit code (-1 if it died of a signal or took > 30 s).
  int Stop(int signo = SIGTERM) {
    kill(pid_, signo);
    return Wait();
  }

  int Wait() {
    int status = 0;
    const bool done = WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; },
                              std::chrono::seconds(30));
    if (!done) return -1;
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string err() const { return ReadFile(dir_ / "stderr.txt"); }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "pulse-obs-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline std::map<std::string, std::string> ParseSamples(const std::string& text) {
  std::map<std::string, std::string> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space != std::string::npos) samples[line.substr(0, space)] = line.substr(space + 1);
  }
  return samples;
}

inline std::string Get(int port, const std::string& path, int* status = nullptr) {
  httplib::Client client("127.0.0.1", port);
  httplib::Result res = client.Get(path);
  if (status != nullptr) *status = res ? res->status : -1;
  return res ? res->body : "";
}

inline std::string Line(int64_t seconds, const std::string& user) {
  return "{\"ts\":" + std::to_string(kBase + seconds * 1000) + ",\"user\":\"" + user + "\"}\n";
}

// The fixture of run_metrics_test.cc: 7 good records (one of them late), 3 bad lines.
inline std::string Fixture() {
  return Line(1, "a") + Line(2, "b") + "not json\n" + Line(3, "a") + Line(12, "a") +
         "{\"user\":\"no time\"}\n" + Line(5, "b") + "[1,2]\n" + Line(15, "b") + Line(25, "a");
}

inline void WriteConfig(const fs::path& dir, bool follow) {
  WriteFile(dir / "p.toml", std::string("[source]\nkind = \"file\"\npath = \"in.jsonl\"\n") +
                                "time_field = \"ts\"\nfollow = " + (follow ? "true" : "false") +
                                "\n[time]\nmax_out_of_orderness = \"0s\"\n" +
                                "[window]\ntype = \"tumbling\"\nsize = \"10s\"\n" +
                                "[ops]\ncount_by = \"user\"\n" +
                                "[sink]\nkind = \"file\"\npath = \"out.jsonl\"\n");
}

}  // namespace pulse::obs_testing
