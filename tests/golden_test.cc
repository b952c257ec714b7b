// SPDX-License-Identifier: MIT
// Golden end-to-end tests: each tests/pipelines/<case>/ holding a pipeline.toml is copied to a
// temporary directory, run there through the built `pulse` binary, and its outputs compared
// byte for byte with the case's expected files (see tests/README.md for the file names).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Files the driver reads from a case and files a run may create; nothing else may appear.
constexpr const char* kOutputFiles[] = {"out.jsonl", "dead_letter.jsonl", "late.jsonl"};
constexpr const char* kDefaultArgs = "run --config pipeline.toml";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Whitespace-separated words; lines starting with '#' are comments.
std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> words;
  for (const std::string& line : Lines(text)) {
    if (line[0] == '#') continue;
    std::istringstream in(line);
    for (std::string w; in >> w;) words.push_back(w);
  }
  return words;
}

std::vector<std::string> ListCases() {
  std::vector<std::string> cases;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(PULSE_GOLDEN_DIR, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "pipeline.toml")) {
      cases.push_back(entry.path().filename().string());
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

// A fresh directory under the system temp dir, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "pulse-golden-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by one
  std::string out;
  std::string err;
};

// Run `pulse args...` in `cwd` with stdin from `stdin_path` (or /dev/null) and the extra
// environment `env` (KEY=VALUE), capturing stdout and stderr through files in `capture_dir`.
ProcessResult RunPulse(const fs::path& cwd, const std::vector<std::string>& args,
                       const fs::path& stdin_path, const std::vector<std::string>& env,
                       const fs::path& capture_dir) {
  const fs::path out_path = capture_dir / "stdout";
  const fs::path err_path = capture_dir / "stderr";
  std::vector<std::string> argv_storage = {PULSE_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(cwd.c_str()) != 0) _exit(120);
    int in = open(stdin_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(121);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    for (const std::string& kv : env) putenv(const_cast<char*>(kv.c_str()));
    execv(argv[0], argv.data());
    _exit(122);
  }
  ProcessResult result;
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return result;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, Matches) {
  const fs::path case_dir = fs::path(PULSE_GOLDEN_DIR) / GetParam();
  ScratchDir scratch;
  const fs::path work = scratch.path() / "work";
  fs::create_directories(work);
  std::set<std::string> case_files;
  for (const auto& entry : fs::directory_iterator(case_dir)) {
    if (!entry.is_regular_file()) continue;
    fs::copy_file(entry.path(), work / entry.path().filename());
    case_files.insert(entry.path().filename().string());
  }

  auto has = [&](const char* name) { return fs::exists(case_dir / name); };
  auto read_case = [&](const char* name) { return ReadFile(case_dir / name); };

  std::vector<std::string> args = Words(has("args") ? read_case("args") : kDefaultArgs);
  std::vector<std::string> env = has("env") ? Lines(read_case("env")) : std::vector<std::string>{};
  fs::path stdin_path = has("stdin") ? work / "stdin" : fs::path("/dev/null");
  int expected_exit_code =
      has("expected_exit_code") ? std::atoi(read_case("expected_exit_code").c_str()) : 0;

  ProcessResult run = RunPulse(work, args, stdin_path, env, scratch.path());
  SCOPED_TRACE("stderr of pulse:\n" + run.err);
  EXPECT_EQ(run.exit_code, expected_exit_code);

  auto compare = [&](const char* expected_name, const char* actual_name) {
    const bool produced = fs::exists(work / actual_name);
    if (!has(expected_name)) {
      // Only a successful run may leave output behind; a failed one leaves no partial file.
      if (expected_exit_code != 0) {
        EXPECT_FALSE(produced) << actual_name << " left behind";
      }
      return;
    }
    ASSERT_TRUE(produced) << actual_name << " was not written";
    EXPECT_EQ(ReadFile(work / actual_name), read_case(expected_name))
        << actual_name << " differs from " << expected_name;
  };
  compare("expected.jsonl", "out.jsonl");
  compare("expected_dead_letter.jsonl", "dead_letter.jsonl");
  compare("expected_late.jsonl", "late.jsonl");
  if (has("expected_stdout")) {
    EXPECT_EQ(run.out, read_case("expected_stdout"));
  }
  if (has("expected_stderr")) {
    EXPECT_EQ(run.err, read_case("expected_stderr"));
  }
  if (has("expected_stderr_contains")) {
    for (const std::string& line : Lines(read_case("expected_stderr_contains"))) {
      EXPECT_NE(run.err.find(line), std::string::npos) << "stderr lacks: " << line;
    }
  }

  // No temporary or unexpected files may remain.
  for (const auto& entry : fs::directory_iterator(work)) {
    std::string name = entry.path().filename().string();
    bool known = case_files.count(name) > 0 ||
                 std::find_if(std::begin(kOutputFiles), std::end(kOutputFiles),
                              [&](const char* f) { return name == f; }) != std::end(kOutputFiles);
    EXPECT_TRUE(known) << "unexpected file left in the working directory: " << name;
  }
}

std::string CaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  // As CMake's string(MAKE_C_IDENTIFIER), which names the ctest filter.
  if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) name.insert(0, "_");
  return name;
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenTest, ::testing::ValuesIn(ListCases()), CaseName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GoldenTest);

}  // namespace
