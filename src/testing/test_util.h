// SPDX-License-Identifier: MIT
// Test helpers: status assertions, a temporary directory, file helpers, collecting sink.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pulse/core/connector.h"
#include "pulse/core/json.h"
#include "pulse/core/json_reader.h"
#include "pulse/core/status.h"

#define ASSERT_OK(expr)                                   \
  do {                                                    \
    ::pulse::Status _st = (expr);                         \
    ASSERT_TRUE(_st.ok()) << _st.ToString();              \
  } while (false)

#define EXPECT_OK(expr)                                   \
  do {                                                    \
    ::pulse::Status _st = (expr);                         \
    EXPECT_TRUE(_st.ok()) << _st.ToString();              \
  } while (false)

#define PULSE_TEST_CONCAT_(a, b) a##b
#define PULSE_TEST_CONCAT(a, b) PULSE_TEST_CONCAT_(a, b)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)        \
  auto tmp = (expr);                                     \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();      \
  lhs = std::move(tmp).value()
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(PULSE_TEST_CONCAT(_res_, __LINE__), lhs, expr)

namespace pulse::testing {

/// A fresh directory under the system temp dir, removed when the fixture ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pulse-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream f(path, std::ios::binary);
  f << contents;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// A sink that keeps every record it is given, as compact JSON lines. With checkpoints, the
/// committed output is the first PrepareCommit's count of lines, and Recover cuts `lines` back
/// to it. `fail_after` (if set) makes the write that would exceed that many lines fail, like a
/// crash. Not thread-safe (the sink thread), like any Sink.
class CollectingSink : public Sink, public CheckpointedSink {
 public:
  explicit CollectingSink(std::vector<std::string>* lines, size_t fail_after = SIZE_MAX)
      : lines_(lines), fail_after_(fail_after) {}
  Status Open(const SinkContext& ctx) override {
    counters_ = ctx.counters;
    return Status::OK();
  }
  CheckpointedSink* AsCheckpointed() override { return this; }
  Status Write(std::span<const Record> records) override {
    if (lines_->size() + records.size() > fail_after_) return Status::IOError("injected crash");
    for (const Record& r : records) {
      lines_->push_back(r.value.ToJson());
      counters_->records++;
    }
    return Status::OK();
  }
  Status Close() override { return Status::OK(); }
  std::string Describe() const override { return "collecting sink"; }

  // CheckpointedSink: the information is {"lines": the number of lines covered}.
  Status Recover(const Value* info) override {
    size_t lines = 0;
    if (info != nullptr) {
      PULSE_ASSIGN_OR_RETURN(JsonObjectReader r,
                             JsonObjectReader::Make(*info, "collecting sink checkpoint entry"));
      PULSE_ASSIGN_OR_RETURN(uint64_t n, r.Uint("lines"));
      lines = static_cast<size_t>(n);
    }
    lines_->resize(lines);
    return Status::OK();
  }
  Result<Value> PrepareCommit(uint64_t) override {
    return Value(Object{{"lines", Value(static_cast<int64_t>(lines_->size()))}});
  }
  Status Commit(uint64_t) override { return Status::OK(); }
  Status Suspend() override { return Status::OK(); }

 private:
  std::vector<std::string>* lines_;
  size_t fail_after_;
  SinkCounters* counters_ = nullptr;
};

}  // namespace pulse::testing
