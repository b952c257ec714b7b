// SPDX-License-Identifier: MIT
// The default Env (the system clocks and the local file system through POSIX) and the file
// helpers built on any Env.
#include "pulse/core/env.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "core/file_util.h"

namespace pulse {
namespace {

namespace fs = std::filesystem;

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  int64_t UnixMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  void SleepFor(Duration d) override { std::this_thread::sleep_for(std::max(d, Duration{0})); }
  Duration WaitSlice(Duration d) const override { return std::max(d, Duration{0}); }
};

// The system's text for `err`, as the file operations report it.
Status FromErrno(int err) {
  std::string text = std::strerror(err);
  return err == ENOENT ? Status::NotFound(std::move(text)) : Status::IOError(std::move(text));
}

Status FromErrorCode(const std::error_code& ec) {
  if (ec == std::errc::no_such_file_or_directory) return Status::NotFound(ec.message());
  return Status::IOError(ec.message());
}

// A file descriptor opened for writing; `owned` false for standard output.
class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0 && owned_) ::close(fd_);
  }
  PosixWritableFile(const PosixWritableFile&) = delete;
  PosixWritableFile& operator=(const PosixWritableFile&) = delete;

  Status Append(std::string_view data) override {
    if (fd_ < 0) return FromErrno(EBADF);
    const int err = internal::WriteFully(fd_, data);
    return err == 0 ? Status::OK() : FromErrno(err);
  }

  Status Sync() override {
    if (fd_ < 0) return FromErrno(EBADF);
    if (!owned_) return Status::OK();  // standard output: a terminal or pipe has nothing to sync
    const int err = internal::SyncFd(fd_, /*is_directory=*/false);
    return err == 0 ? Status::OK() : FromErrno(err);
  }

  Status Truncate(uint64_t length) override {
    if (fd_ < 0) return FromErrno(EBADF);
    if (::ftruncate(fd_, static_cast<off_t>(length)) != 0 ||
        ::lseek(fd_, static_cast<off_t>(length), SEEK_SET) < 0) {
      return FromErrno(errno);
    }
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return FromErrno(EBADF);
    const int fd = std::exchange(fd_, -1);
    if (owned_ && ::close(fd) != 0) return FromErrno(errno);
    return Status::OK();
  }

 private:
  int fd_;
  const bool owned_;
};

class PosixReadableFile final : public ReadableFile {
 public:
  explicit PosixReadableFile(int fd) : fd_(fd) {}
  ~PosixReadableFile() override { ::close(fd_); }
  PosixReadableFile(const PosixReadableFile&) = delete;
  PosixReadableFile& operator=(const PosixReadableFile&) = delete;

  Result<size_t> Read(std::span<char> buffer) override {
    size_t got = 0;
    const int err = internal::ReadSome(fd_, buffer.data(), buffer.size(), &got);
    if (err != 0) return FromErrno(err);
    return got;
  }

  Result<uint64_t> Size() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return FromErrno(errno);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  const int fd_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // releases the flock
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

  Status TryLock() override {
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return Status::OK();
    const int err = errno;
    if (err == EWOULDBLOCK) return Status::Unavailable(std::strerror(err));
    return FromErrno(err);
  }

 private:
  const int fd_;
};

class PosixEnv final : public Env {
 public:
  Clock& clock() override { return Clock::Real(); }

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     WriteMode mode) override {
    int flags = O_WRONLY | O_CLOEXEC;
    switch (mode) {
      case WriteMode::kCreateNew:
        flags |= O_CREAT | O_EXCL;
        break;
      case WriteMode::kTruncate:
        flags |= O_CREAT | O_TRUNC;
        break;
      case WriteMode::kExisting:
        break;
    }
    const int fd = ::open(path.c_str(), flags, internal::kFileMode);
    if (fd < 0) return FromErrno(errno);
    if (mode == WriteMode::kExisting && ::lseek(fd, 0, SEEK_END) < 0) {
      const int err = errno;
      ::close(fd);
      return FromErrno(err);
    }
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, /*owned=*/true));
  }

  Result<std::unique_ptr<ReadableFile>> OpenReadable(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return FromErrno(errno);
    return std::unique_ptr<ReadableFile>(new PosixReadableFile(fd));
  }

  Result<std::unique_ptr<FileLock>> OpenLock(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, internal::kFileMode);
    if (fd < 0) return FromErrno(errno);
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }

  Result<FileInfo> Stat(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return FromErrno(errno);
    FileInfo info;
    info.type = S_ISREG(st.st_mode)   ? FileType::kRegular
                : S_ISDIR(st.st_mode) ? FileType::kDirectory
                                      : FileType::kOther;
    info.size = static_cast<uint64_t>(st.st_size);
    return info;
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    std::vector<std::string> names;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) return FromErrorCode(ec);
    return names;
  }

  Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), internal::kDirMode) != 0) return FromErrno(errno);
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return FromErrno(errno);
    return Status::OK();
  }

  Status Remove(const std::string& path) override {
    std::error_code ec;
    fs::remove_all(path, ec);
    return ec ? FromErrorCode(ec) : Status::OK();
  }

  Status SyncPath(const std::string& path) override {
    // Linux fsyncs a descriptor opened read-only, which also opens directories.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return FromErrno(errno);
    struct stat st {};
    int err = ::fstat(fd, &st) != 0 ? errno : 0;
    if (err == 0) err = internal::SyncFd(fd, S_ISDIR(st.st_mode));
    ::close(fd);
    return err == 0 ? Status::OK() : FromErrno(err);
  }

  uint64_t UniqueId() override {
    uint64_t r = 0;
    if (::getrandom(&r, sizeof(r), GRND_NONBLOCK) == static_cast<ssize_t>(sizeof(r))) return r;
    // No entropy yet (early boot): mix the time, the process and a counter (splitmix64).
    static std::atomic<uint64_t> counter{0};
    uint64_t x = static_cast<uint64_t>(
                     std::chrono::steady_clock::now().time_since_epoch().count()) ^
                 (static_cast<uint64_t>(::getpid()) << 32) ^
                 (counter.fetch_add(1) * 0x9E3779B97F4A7C15ULL);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
  }
};

void ListTreeInto(Env& env, const std::string& root, const std::string& relative,
                  std::vector<TreeEntry>* out, Status* status) {
  const std::string dir = relative.empty() ? root : fmt::format("{}/{}", root, relative);
  Result<std::vector<std::string>> names = env.ListDir(dir);
  if (!names.ok()) {
    *status = names.status();
    return;
  }
  std::sort(names->begin(), names->end());
  for (const std::string& name : *names) {
    std::string path = relative.empty() ? name : fmt::format("{}/{}", relative, name);
    Result<FileInfo> info = env.Stat(fmt::format("{}/{}", root, path));
    if (!info.ok()) {
      *status = info.status();
      return;
    }
    out->push_back(TreeEntry{path, info->type});
    if (info->type == FileType::kDirectory) {
      ListTreeInto(env, root, path, out, status);
      if (!status->ok()) return;
    }
  }
}

}  // namespace

Clock& Clock::Real() {
  static RealClock* clock = new RealClock();  // never destroyed: usable during shutdown
  return *clock;
}

Env& Env::Default() {
  static PosixEnv* env = new PosixEnv();  // never destroyed: usable during shutdown
  return *env;
}

Status CreateDirs(Env& env, const std::string& dir) {
  if (dir.empty()) return Status::OK();
  Result<FileInfo> info = env.Stat(dir);
  if (info.ok()) {
    if (info->type == FileType::kDirectory) return Status::OK();
    return Status::IOError(std::strerror(ENOTDIR));
  }
  const fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty() && parent != fs::path(dir)) {
    PULSE_RETURN_IF_ERROR(CreateDirs(env, parent.string()));
  }
  Status created = env.CreateDir(dir);
  if (created.ok()) return created;
  // Something is there now: fine if it is a directory (e.g. made by another worker meanwhile).
  info = env.Stat(dir);
  if (!info.ok()) return created;
  if (info->type == FileType::kDirectory) return Status::OK();
  return Status::IOError(std::strerror(ENOTDIR));
}

Result<std::string> ReadToEnd(ReadableFile& file) {
  constexpr size_t kChunkBytes = 64u << 10;
  std::string text;
  size_t used = 0;
  while (true) {
    text.resize(used + kChunkBytes);
    PULSE_ASSIGN_OR_RETURN(size_t n, file.Read(std::span<char>(text.data() + used, kChunkBytes)));
    used += n;
    if (n == 0) break;
  }
  text.resize(used);
  return text;
}

Result<std::string> ReadFileToString(Env& env, const std::string& path) {
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, env.OpenReadable(path));
  return ReadToEnd(*file);
}

Status WriteStringToFile(Env& env, const std::string& path, std::string_view data,
                         WriteMode mode, Fsync fsync) {
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env.OpenWritable(path, mode));
  PULSE_RETURN_IF_ERROR(file->Append(data));
  if (fsync == Fsync::kYes) PULSE_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

Result<std::vector<TreeEntry>> ListTree(Env& env, const std::string& dir) {
  std::vector<TreeEntry> entries;
  Status status;
  ListTreeInto(env, dir, "", &entries, &status);
  if (!status.ok()) return status;
  return entries;
}

Status RenameDurably(Env& env, const std::string& from, const std::string& to,
                     std::string_view rename_error) {
  if (Status renamed = env.Rename(from, to); !renamed.ok()) {
    return Status(renamed.code(), fmt::format("{}: {}", rename_error, renamed.message()));
  }
  const fs::path parent = fs::path(to).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  if (Status synced = env.SyncPath(dir); !synced.ok()) {
    return Status::IOError(fmt::format("cannot fsync '{}': {}", dir, synced.message()));
  }
  return Status::OK();
}

std::string AbsolutePathNote(std::string_view path) {
  if (path.empty() || path == "-" || path.front() == '/') return "";
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(std::filesystem::path(path), ec);
  if (ec) return "";
  return fmt::format(" (absolute path: {})", absolute.lexically_normal().string());
}

namespace internal {

std::unique_ptr<WritableFile> NewStdoutFile() {
  return std::make_unique<PosixWritableFile>(STDOUT_FILENO, /*owned=*/false);
}

}  // namespace internal
}  // namespace pulse
