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

}  // namespace pulse::internal
