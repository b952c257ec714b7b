// SPDX-License-Identifier: MIT
#include "core/file_util.h"

#include <fcntl.h>
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

}  // namespace pulse::internal
