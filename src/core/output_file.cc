// SPDX-License-Identifier: MIT
// OutputFile: temporary file, large buffered writes, fsync + rename on commit.
#include "core/output_file.h"

#include "core/file_util.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace pulse::internal {
namespace {

constexpr int kCreateAttempts = 8;
constexpr mode_t kFileMode = 0644;


uint64_t RandomSuffix() {
  uint64_t r = 0;
  if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != static_cast<ssize_t>(sizeof(r))) {
    r = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  return r;
}

// fsync the directory holding `path` so that a rename into it survives a crash.
void SyncParentDir(const std::filesystem::path& path) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);  // best effort: some file systems do not support fsync on directories
  ::close(fd);
}

}  // namespace

OutputFile::OutputFile(std::string final_path, std::string temp_path, int fd, bool is_stdout)
    : final_path_(std::move(final_path)),
      temp_path_(std::move(temp_path)),
      fd_(fd),
      is_stdout_(is_stdout) {
  buffer_.reserve(kBufferBytes);
}

OutputFile::~OutputFile() {
  if (!done_) Abort();
}

Result<std::unique_ptr<OutputFile>> OutputFile::Create(std::string final_path) {
  if (final_path.empty()) return Status::InvalidArgument("output path is empty");
  std::filesystem::path final_fs(final_path);
  std::filesystem::path dir = final_fs.parent_path();
  if (!dir.empty()) {
    if (std::error_code ec = CreateDirectories(dir)) {
      return Status::IOError(
          fmt::format("cannot create directory '{}': {}", dir.string(), ec.message()));
    }
  }
  std::string name = final_fs.filename().string();
  if (name.empty()) {
    return Status::InvalidArgument(fmt::format("output path '{}' names a directory", final_path));
  }
  int last_errno = 0;
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    std::string temp =
        (dir / fmt::format(".{}.inprogress-{}-{:016x}", name, ::getpid(), RandomSuffix()))
            .string();
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
    if (fd >= 0) {
      return std::unique_ptr<OutputFile>(
          new OutputFile(std::move(final_path), std::move(temp), fd, /*is_stdout=*/false));
    }
    last_errno = errno;
    if (last_errno != EEXIST) break;
  }
  return Status::IOError(
      fmt::format("cannot create '{}': {}", final_path, std::strerror(last_errno)));
}

std::unique_ptr<OutputFile> OutputFile::Stdout() {
  return std::unique_ptr<OutputFile>(new OutputFile("-", "", STDOUT_FILENO, /*is_stdout=*/true));
}

Status OutputFile::Error(std::string_view what, int err) const {
  return Status::IOError(fmt::format("cannot {} '{}': {}", what, final_path_, std::strerror(err)));
}

Status OutputFile::WriteAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error("write", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status OutputFile::Flush() {
  if (buffer_.empty()) return Status::OK();
  Status st = WriteAll(buffer_);
  buffer_.clear();
  return st;
}

Status OutputFile::Append(std::string_view data) {
  if (already_committed_) {
    return Status::InvalidArgument(fmt::format(
        "output '{}' was already completed by an earlier run of this checkpointed pipeline; "
        "use --fresh to run it again",
        final_path_));
  }
  if (done_) return Status::Internal(fmt::format("append to closed output '{}'", final_path_));
  bytes_written_ += data.size();
  if (buffer_.size() + data.size() <= kBufferBytes) {
    buffer_.append(data);
    return Status::OK();
  }
  PULSE_RETURN_IF_ERROR(Flush());
  if (data.size() >= kBufferBytes) return WriteAll(data);
  buffer_.append(data);
  return Status::OK();
}

Status OutputFile::Commit() {
  if (already_committed_) {
    done_ = true;
    return Status::OK();
  }
  if (done_) return Status::Internal(fmt::format("output '{}' already closed", final_path_));
  Status st = Flush();
  if (is_stdout_) {
    done_ = true;
    return st;
  }
  if (st.ok() && ::fsync(fd_) != 0) st = Error("fsync", errno);
  if (::close(fd_) != 0 && st.ok()) st = Error("close", errno);
  fd_ = -1;
  if (st.ok() && ::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    st = Error("rename into", errno);
  }
  if (!st.ok()) {
    ::unlink(temp_path_.c_str());
    done_ = true;
    return st;
  }
  SyncParentDir(final_path_);
  done_ = true;
  return Status::OK();
}

void OutputFile::Abort() {
  if (done_) return;
  done_ = true;
  buffer_.clear();
  if (is_stdout_) return;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_path_.c_str());
}

Result<Value> OutputFile::PrepareCommit() {
  if (is_stdout_) {
    return Status::InvalidArgument(
        "standard output cannot take part in checkpoints (what it printed cannot be taken back "
        "after a crash); write to a file");
  }
  if (already_committed_) {
    Object info;
    info.emplace_back("committed", Value(true));
    return Value(std::move(info));
  }
  if (done_) return Status::Internal(fmt::format("output '{}' already closed", final_path_));
  PULSE_RETURN_IF_ERROR(Flush());
  if (::fsync(fd_) != 0) return Error("fsync", errno);
  Object info;
  info.emplace_back("temp", Value(std::filesystem::path(temp_path_).filename().string()));
  info.emplace_back("length", Value(static_cast<int64_t>(bytes_written_)));
  return Value(std::move(info));
}

Status OutputFile::Recover(const Value* info) {
  if (is_stdout_) return PrepareCommit().status();
  if (done_ || bytes_written_ != 0) {
    return Status::Internal(fmt::format("output '{}' recovered after use", final_path_));
  }
  const std::filesystem::path final_fs(final_path_);
  const std::filesystem::path dir =
      final_fs.parent_path().empty() ? std::filesystem::path(".") : final_fs.parent_path();
  const std::string prefix = "." + final_fs.filename().string() + ".inprogress-";
  std::string keep;
  bool committed = false;
  uint64_t length = 0;
  if (info != nullptr) {
    const Value* temp = info->Find("temp");
    const Value* len = info->Find("length");
    const Value* done = info->Find("committed");
    if (done != nullptr && done->is_bool() && done->as_bool()) {
      committed = true;
    } else if (temp == nullptr || !temp->is_string() || len == nullptr || !len->is_int() ||
               len->as_int() < 0 || temp->as_string().rfind(prefix, 0) != 0 ||
               temp->as_string().find('/') != std::string::npos) {
      return Status::Corruption(
          fmt::format("checkpoint entry for output '{}' is not {{temp, length}}", final_path_));
    } else {
      keep = temp->as_string();
      length = static_cast<uint64_t>(len->as_int());
    }
  }
  // Remove what crashed runs left, except the file to continue and our own.
  std::error_code ec;
  const std::string own = std::filesystem::path(temp_path_).filename().string();
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && name != keep && name != own) {
      ::unlink(entry.path().c_str());
    }
  }
  if (info == nullptr) return Status::OK();
  const std::string resumed = (dir / keep).string();
  int fd = keep.empty() ? -1 : ::open(resumed.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    struct stat st {};
    if ((committed || errno == ENOENT) && ::stat(final_path_.c_str(), &st) == 0) {
      Abort();  // our fresh temporary file
      already_committed_ = true;
      return Status::OK();
    }
    return Status::Corruption(fmt::format(
        "cannot continue output '{}': its in-progress file '{}' named by the checkpoint is "
        "missing and the output was never completed",
        final_path_, keep));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) < length) {
    ::close(fd);
    return Status::Corruption(fmt::format(
        "cannot continue output '{}': '{}' is shorter than the {} bytes the checkpoint covers",
        final_path_, keep, length));
  }
  if (::ftruncate(fd, static_cast<off_t>(length)) != 0 ||
      ::lseek(fd, static_cast<off_t>(length), SEEK_SET) < 0) {
    const int err = errno;
    ::close(fd);
    return Error("cut back", err);
  }
  Abort();  // our fresh temporary file
  done_ = false;
  fd_ = fd;
  temp_path_ = resumed;
  bytes_written_ = length;
  return Status::OK();
}

Status OutputFile::Suspend() {
  if (done_ || is_stdout_) return Flush();
  Status st = Flush();
  if (st.ok() && ::fsync(fd_) != 0) st = Error("fsync", errno);
  ::close(fd_);
  fd_ = -1;
  done_ = true;
  return st;
}

}  // namespace pulse::internal

namespace pulse::internal {
namespace {

// Length of the valid UTF-8 sequence at the start of `s`, or 0 if it is not valid
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
size_t ValidSequenceLength(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    unsigned char b1 = byte(1);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b0 == 0xED && b1 >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    unsigned char b1 = byte(1);
    if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && b1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

}  // namespace

void AppendUtf8Lossy(std::string_view text, std::string* out) {
  size_t run_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t n = ValidSequenceLength(text.substr(i));
    if (n > 0) {
      i += n;
      continue;
    }
    out->append(text.substr(run_start, i - run_start));
    out->append(kReplacementChar);
    ++i;
    run_start = i;
  }
  out->append(text.substr(run_start));
}

}  // namespace pulse::internal
