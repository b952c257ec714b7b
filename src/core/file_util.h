// SPDX-License-Identifier: MIT
// The POSIX calls behind the default Env (pulse/core/env.h), each in one place: the write loop,
// the read loop, the fsync policy, file and directory modes. Also two older helpers that
// report an errno, kept for callers not yet moved to the Env.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "pulse/core/env.h"

namespace pulse::internal {

/// Modes of what Pulse creates, before the umask: never group- or world-writable.
inline constexpr mode_t kFileMode = 0644;
inline constexpr mode_t kDirMode = 0755;

/// The write(2) a WriteFully uses; a test substitutes one that writes short or is interrupted.
using WriteCall = ssize_t (*)(int fd, const void* data, size_t size);

/// Write all of `data` to `fd`: retry when a signal interrupts, continue after a short write.
/// Returns 0 or the errno of the failing write(2). The only write loop in Pulse.
int WriteFully(int fd, std::string_view data, WriteCall write_call = nullptr);

/// Read up to `size` bytes from `fd` into `data`, retrying when a signal interrupts. Returns 0
/// or an errno; `*got` is the number of bytes read (0 at the end).
int ReadSome(int fd, char* data, size_t size, size_t* got);

/// fsync `fd` by Pulse's one policy: every failure is one, except EINVAL when `fd` is a
/// directory (file systems that cannot sync directories). Returns 0 or the errno.
int SyncFd(int fd, bool is_directory);

/// A WritableFile on standard output, which it never closes (Close and Sync only check that
/// nothing failed). For OutputFile::Stdout.
std::unique_ptr<WritableFile> NewStdoutFile();

}  // namespace pulse::internal
