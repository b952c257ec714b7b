// SPDX-License-Identifier: MIT
// Input path resolution with glob(3).
#include "io/file_paths.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>

#include <fmt/format.h>

namespace pulse::io::internal {

bool IsGlob(std::string_view path) { return path.find_first_of("*?[") != std::string_view::npos; }

Result<std::vector<std::string>> MatchingFiles(const std::string& path) {
  std::vector<std::string> files;
  if (!IsGlob(path)) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) files.push_back(path);
    return files;
  }
  glob_t matches{};
  const int rc = ::glob(path.c_str(), 0, nullptr, &matches);
  if (rc == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      struct stat st {};
      if (::stat(matches.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) {
        files.emplace_back(matches.gl_pathv[i]);
      }
    }
  }
  ::globfree(&matches);
  if (rc != 0 && rc != GLOB_NOMATCH) {
    return Status::IOError(fmt::format("cannot expand '{}': glob error {}", path, rc));
  }
  std::sort(files.begin(), files.end());
  return files;
}

Result<std::vector<std::string>> ResolveInputPaths(const std::string& path) {
  if (path == "-" || !IsGlob(path)) return std::vector<std::string>{path};
  PULSE_ASSIGN_OR_RETURN(std::vector<std::string> files, MatchingFiles(path));
  if (files.empty()) return Status::NotFound(fmt::format("no input file matches '{}'", path));
  return files;
}

}  // namespace pulse::io::internal
