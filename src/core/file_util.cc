// SPDX-License-Identifier: MIT
#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace pulse::internal {

int ReadWholeFile(const std::string& path, std::string* text, const char** failed_call) {
  text->clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *failed_call = "open";
    return errno;
  }
  char buffer[1 << 14];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      *failed_call = "read";
      return err;
    }
    if (n == 0) break;
    text->append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return 0;
}

std::error_code CreateDirectories(const std::filesystem::path& dir) {
  constexpr mode_t kDirMode = 0755;
  std::error_code ec;
  if (dir.empty() || std::filesystem::is_directory(dir, ec)) return {};
  const std::filesystem::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) {
    if (std::error_code parent_ec = CreateDirectories(parent)) return parent_ec;
  }
  if (::mkdir(dir.c_str(), kDirMode) != 0) {
    const int err = errno;
    if (err != EEXIST) return std::error_code(err, std::generic_category());
    if (!std::filesystem::is_directory(dir, ec)) {
      return std::make_error_code(std::errc::not_a_directory);
    }
  }
  return {};
}

}  // namespace pulse::internal
