// SPDX-License-Identifier: MIT
// The POSIX calls behind the default Env, and the errno-reporting helpers kept for the CLI.
#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace pulse::internal {

int WriteFully(int fd, std::string_view data, WriteCall write_call) {
  if (write_call == nullptr) write_call = ::write;
  while (!data.empty()) {
    const ssize_t n = write_call(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

int ReadSome(int fd, char* data, size_t size, size_t* got) {
  while (true) {
    const ssize_t n = ::read(fd, data, size);
    if (n >= 0) {
      *got = static_cast<size_t>(n);
      return 0;
    }
    if (errno != EINTR) {
      *got = 0;
      return errno;
    }
  }
}

int SyncFd(int fd, bool is_directory) {
  if (::fsync(fd) == 0) return 0;
  const int err = errno;
  return is_directory && err == EINVAL ? 0 : err;
}

int ReadWholeFile(const std::string& path, std::string* text, const char** failed_call) {
  text->clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *failed_call = "open";
    return errno;
  }
  char buffer[1 << 14];
  while (true) {
    size_t n = 0;
    if (const int err = ReadSome(fd, buffer, sizeof buffer, &n); err != 0) {
      ::close(fd);
      *failed_call = "read";
      return err;
    }
    if (n == 0) break;
    text->append(buffer, n);
  }
  ::close(fd);
  return 0;
}

std::error_code CreateDirectories(const std::filesystem::path& dir) {
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
