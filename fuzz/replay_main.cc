// SPDX-License-Identifier: MIT
// main() for fuzz programs built without libFuzzer (gcc, or PULSE_BUILD_FUZZERS off): runs
// LLVMFuzzerTestOneInput once on every file named, and on every file in every directory named,
// so that the seed corpus and the inputs of fixed crashes replay in every build and sanitizer.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

// The files named by `arg`: itself, or a directory's regular files in sorted order.
std::vector<fs::path> InputsOf(const fs::path& arg) {
  std::vector<fs::path> files;
  if (!fs::is_directory(arg)) {
    files.push_back(arg);
    return files;
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(arg)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') continue;  // libFuzzer flags: ignored here
    std::vector<fs::path> more = InputsOf(argv[i]);
    files.insert(files.end(), more.begin(), more.end());
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...  (runs each input once; no input found)\n",
                 argv[0]);
    return 2;
  }
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", file.c_str());
      return 2;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // An exactly sized heap copy, so that a sanitizer sees any read past the end.
    auto data = std::make_unique<uint8_t[]>(bytes.size());
    std::copy(bytes.begin(), bytes.end(), data.get());
    std::fprintf(stderr, "Running: %s (%zu bytes)\n", file.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(data.get(), bytes.size());
  }
  std::printf("%zu inputs ran without a failure\n", files.size());
  return 0;
}
