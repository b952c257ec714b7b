// SPDX-License-Identifier: MIT
// FileFollower: finding the followed files, knowing them by identity, and following them
// across log rotation (rename and create, copytruncate).
#include "io/file_follow.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <string_view>

#include <fmt/format.h>

#include "io/file_paths.h"
#include "pulse/core/json_reader.h"

namespace pulse::io::internal {
namespace {

// FNV-1a, 64 bits: the fingerprint of a file's first bytes (not a security measure: it tells
// apart files that begin differently).
uint64_t Fingerprint(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

Status Errno(std::string_view what, const std::string& path, int err) {
  std::string message = fmt::format("cannot {} '{}': {}", what, path, std::strerror(err));
  return err == ENOENT || err == ENOTDIR ? Status::NotFound(std::move(message))
                                         : Status::IOError(std::move(message));
}

// The first `max` bytes of `fd` (fewer if it is shorter), read without moving its position.
Result<std::string> ReadHead(int fd, const std::string& name, size_t max = kFingerprintBytes) {
  std::string head(max, '\0');
  size_t got = 0;
  while (got < max) {
    const ssize_t n = ::pread(fd, head.data() + got, max - got, static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("read", name, errno);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  head.resize(got);
  return head;
}

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string DirectoryOf(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// The regular files of `dir` (unreadable entries are left out).
std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code type_error;
    if (it->is_regular_file(type_error)) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Value FollowPositionsToJson(const std::vector<FollowPosition>& positions) {
  Array files;
  for (const FollowPosition& p : positions) {
    files.emplace_back(Object{
        {"file", Value(p.file)},
        {"device", Value(static_cast<int64_t>(p.device))},
        {"inode", Value(static_cast<int64_t>(p.inode))},
        {"fingerprint", Value(fmt::format("{:016x}", p.fingerprint))},
        {"fingerprint_bytes", Value(static_cast<int64_t>(p.fingerprint_bytes))},
        {"offset", Value(static_cast<int64_t>(p.offset))},
        {"line", Value(static_cast<int64_t>(p.next_line))}});
  }
  return Value(Object{{"files", Value(std::move(files))}});
}

Result<std::vector<FollowPosition>> FollowPositionsFromJson(const Value& value) {
  PULSE_ASSIGN_OR_RETURN(
      JsonObjectReader r,
      JsonObjectReader::Make(value, "file source position", StatusCode::kInvalidArgument));
  PULSE_ASSIGN_OR_RETURN(std::vector<JsonObjectReader> files, r.Children("files"));
  std::vector<FollowPosition> positions;
  for (const JsonObjectReader& f : files) {
    FollowPosition p;
    p.has_identity = true;
    PULSE_ASSIGN_OR_RETURN(p.file, f.String("file"));
    // Device and inode numbers are stored as the int64 of their bits.
    PULSE_ASSIGN_OR_RETURN(const int64_t device, f.Int("device"));
    PULSE_ASSIGN_OR_RETURN(const int64_t inode, f.Int("inode"));
    p.device = static_cast<uint64_t>(device);
    p.inode = static_cast<uint64_t>(inode);
    PULSE_ASSIGN_OR_RETURN(const std::string fingerprint, f.String("fingerprint"));
    char* end = nullptr;
    p.fingerprint = std::strtoull(fingerprint.c_str(), &end, 16);
    if (fingerprint.size() != 16 || end != fingerprint.c_str() + fingerprint.size()) {
      return f.Invalid("fingerprint", "is not 16 hex digits");
    }
    PULSE_ASSIGN_OR_RETURN(p.fingerprint_bytes, f.Uint("fingerprint_bytes"));
    if (p.fingerprint_bytes > kFingerprintBytes) {
      return f.Invalid("fingerprint_bytes", fmt::format("is above {}", kFingerprintBytes));
    }
    PULSE_ASSIGN_OR_RETURN(p.offset, f.Uint("offset"));
    PULSE_ASSIGN_OR_RETURN(const int64_t line, f.IntAtLeast("line", 1));
    p.next_line = static_cast<uint64_t>(line);
    positions.push_back(std::move(p));
  }
  return positions;
}

FileFollower::~FileFollower() {
  for (const std::unique_ptr<FollowedFile>& f : files_) ::close(f->fd);
}

Result<std::unique_ptr<FollowedFile>> FileFollower::OpenFile(const std::string& name) const {
  auto file = std::make_unique<FollowedFile>();
  file->fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (file->fd < 0) return Errno("open", name, errno);
  struct stat st {};
  if (::fstat(file->fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    const int err = errno;
    ::close(file->fd);
    return S_ISDIR(st.st_mode)
               ? Status::IOError(fmt::format("cannot read '{}': it is a directory", name))
               : Errno("stat", name, err);
  }
  file->name = std::make_shared<const std::string>(name);
  file->device = static_cast<uint64_t>(st.st_dev);
  file->inode = static_cast<uint64_t>(st.st_ino);
  Result<std::string> head = ReadHead(file->fd, name);
  if (!head.ok()) {
    ::close(file->fd);
    return head.status();
  }
  file->head = std::move(head).value();
  file->reader =
      std::make_unique<LineReader>(options_.framing, options_.max_line_bytes, options_.block_bytes);
  return file;
}

Status FileFollower::StartAt(FollowedFile& file, uint64_t offset, uint64_t next_line) {
  file.offset = file.read_offset = offset;
  file.next_line = next_line;
  if (offset > 0 && on_continue_) {
    if (::lseek(file.fd, 0, SEEK_SET) < 0) return Errno("seek", *file.name, errno);
    PULSE_RETURN_IF_ERROR(on_continue_(file));
  }
  if (::lseek(file.fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    return Errno("seek", *file.name, errno);
  }
  file.reader->Reset(file.fd, stop_, bytes_read_, offset, next_line);
  file.last_active = clock_->Now();
  return Status::OK();
}

// The file of an earlier run's position: under its name, under another name in the same
// directory (renamed by rotation), or a copy of it there (copytruncate); null if it is gone.
Result<std::unique_ptr<FollowedFile>> FileFollower::Locate(const FollowPosition& pos) const {
  if (!pos.has_identity) {
    PULSE_ASSIGN_OR_RETURN(std::unique_ptr<FollowedFile> file, OpenFile(pos.file));
    struct stat st {};
    if (::fstat(file->fd, &st) != 0 || static_cast<uint64_t>(st.st_size) < pos.offset) {
      ::close(file->fd);
      return Status::InvalidArgument(fmt::format(
          "cannot resume the file source: '{}' is shorter than the checkpoint's offset {}",
          pos.file, pos.offset));
    }
    return file;
  }
  auto same_start = [&](const FollowedFile& f) {
    return f.head.size() >= pos.fingerprint_bytes &&
           Fingerprint(std::string_view(f.head).substr(0, pos.fingerprint_bytes)) ==
               pos.fingerprint;
  };
  std::unique_ptr<FollowedFile> copy;
  int64_t copy_mtime_ns = 0;
  std::vector<std::string> candidates{pos.file};
  for (std::string& f : FilesIn(DirectoryOf(pos.file))) candidates.push_back(std::move(f));
  for (const std::string& name : candidates) {
    Result<std::unique_ptr<FollowedFile>> f = OpenFile(name);
    if (!f.ok()) continue;
    FollowedFile& file = **f;
    if (file.device == pos.device && file.inode == pos.inode && same_start(file)) return f;
    struct stat st {};
    const bool candidate = pos.fingerprint_bytes > 0 && same_start(file) &&
                           ::fstat(file.fd, &st) == 0 &&
                           static_cast<uint64_t>(st.st_size) >= pos.offset;
    const int64_t mtime_ns = MtimeNs(st);
    if (candidate && (copy == nullptr || mtime_ns > copy_mtime_ns)) {
      if (copy != nullptr) ::close(copy->fd);
      copy = std::move(f).value();
      copy_mtime_ns = mtime_ns;
    } else {
      ::close(file.fd);
    }
  }
  return copy;
}

void FileFollower::AddFollowed(std::unique_ptr<FollowedFile> file) {
  file->order = next_order_++;
  files_.push_back(std::move(file));
}

bool FileFollower::IsCopy(const std::string& head) const {
  if (head.size() < kFingerprintBytes) return false;
  return std::any_of(files_.begin(), files_.end(), [&](const std::unique_ptr<FollowedFile>& f) {
    return !f->copy && f->head == head;
  });
}

Status FileFollower::Open(Clock& clock, const std::atomic<bool>* stop,
                          std::atomic<uint64_t>* bytes_read,
                          const std::vector<FollowPosition>& resume, ContinueHook on_continue) {
  clock_ = &clock;
  stop_ = stop;
  bytes_read_ = bytes_read;
  on_continue_ = std::move(on_continue);
  for (const FollowPosition& pos : resume) {
    PULSE_ASSIGN_OR_RETURN(std::unique_ptr<FollowedFile> file, Locate(pos));
    if (file == nullptr) continue;  // gone: nothing of it is left to read
    const bool known = std::any_of(files_.begin(), files_.end(), [&](const auto& f) {
      return f->device == file->device && f->inode == file->inode;
    });
    if (known) {
      ::close(file->fd);
      continue;
    }
    struct stat st {};
    const bool shrank =
        ::fstat(file->fd, &st) == 0 && static_cast<uint64_t>(st.st_size) < pos.offset;
    PULSE_RETURN_IF_ERROR(shrank ? StartAt(*file, 0, 1) : StartAt(*file, pos.offset, pos.next_line));
    file->rotated = true;  // until its name is found below
    AddFollowed(std::move(file));
  }
  PULSE_RETURN_IF_ERROR(Scan());
  if (files_.empty()) {
    if (IsGlob(options_.path)) {
      return Status::NotFound(fmt::format("no input file matches '{}'", options_.path));
    }
    PULSE_ASSIGN_OR_RETURN(std::unique_ptr<FollowedFile> file, OpenFile(options_.path));
    ::close(file->fd);  // not a regular file
    return Status::IOError(fmt::format("cannot follow '{}': not a regular file", options_.path));
  }
  return Status::OK();
}

// Look at the files and names again: truncated, renamed and removed files, new files.
Status FileFollower::Scan() {
  PULSE_ASSIGN_OR_RETURN(const std::vector<std::string> names, MatchingFiles(options_.path));
  std::map<Identity, std::string> named;
  for (const std::string& name : names) {
    struct stat st {};
    if (::stat(name.c_str(), &st) != 0) continue;  // gone meanwhile
    named.emplace(Identity{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)},
                  name);
  }
  const Clock::TimePoint now = clock_->Now();
  // Truncated files that have not grown since (TryFile checks the others when they grow).
  for (size_t i = 0, n = files_.size(); i < n; ++i) {
    PULSE_ASSIGN_OR_RETURN(const Check check, CheckFile(*files_[i], /*even_if_same_size=*/true));
    if (check == Check::kTruncated) PULSE_RETURN_IF_ERROR(Truncated(i));
  }
  for (const std::unique_ptr<FollowedFile>& file : files_) {
    FollowedFile& f = *file;
    auto it = named.find(Identity{f.device, f.inode});
    if (it != named.end()) {
      if (*f.name != it->second) f.name = std::make_shared<const std::string>(it->second);
      f.rotated = false;
      named.erase(it);
    } else if (!f.rotated) {
      f.rotated = true;
      f.last_active = now;
      FindNewName(f);
    }
  }
  // New files, unless they are copies of followed ones; the least recently modified first.
  std::vector<std::pair<std::pair<int64_t, std::string>, std::unique_ptr<FollowedFile>>> found;
  for (const auto& [id, name] : named) {
    Result<std::unique_ptr<FollowedFile>> opened = OpenFile(name);
    if (!opened.ok()) {
      if (opened.status().code() == StatusCode::kNotFound) continue;  // gone meanwhile
      return opened.status();
    }
    std::unique_ptr<FollowedFile> file = std::move(opened).value();
    struct stat st {};
    const int64_t mtime_ns = ::fstat(file->fd, &st) == 0 ? MtimeNs(st) : 0;
    found.emplace_back(std::make_pair(mtime_ns, name), std::move(file));
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [key, file] : found) {
    // A copy of a followed file (copytruncate's, a backup) is followed from its end: its
    // lines come from the file it copies (or, once that is truncated, from where it stopped).
    file->copy = IsCopy(file->head);
    struct stat st {};
    const uint64_t end =
        file->copy && ::fstat(file->fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    PULSE_RETURN_IF_ERROR(StartAt(*file, end, 1));
    AddFollowed(std::move(file));
  }
  Reorder();
  next_scan_ = now + std::chrono::milliseconds(options_.poll_interval_ms);
  return Status::OK();
}

// The name a rotated file has now in its directory, if rotation renamed it (for dead letters
// and positions); unchanged if it was removed.
void FileFollower::FindNewName(FollowedFile& f) {
  for (const std::string& name : FilesIn(DirectoryOf(*f.name))) {
    struct stat st {};
    if (::stat(name.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_dev) == f.device &&
        static_cast<uint64_t>(st.st_ino) == f.inode) {
      f.name = std::make_shared<const std::string>(name);
      return;
    }
  }
}

// In the order the files began to be read: older lines first.
void FileFollower::Reorder() {
  std::stable_sort(files_.begin(), files_.end(),
                   [](const auto& a, const auto& b) { return a->order < b->order; });
  current_ = 0;
}

// files_[index] shrank or begins differently: continue its copy, if copytruncate left one, from
// where reading stopped, and read the file again from its start.
Status FileFollower::Truncated(size_t index) {
  FollowedFile& f = *files_[index];
  if (!f.head.empty()) {  // it had lines, maybe not all read (maybe none)
    // The newest file of its directory that begins as it began and holds at least what was
    // read of it: followed already as a copy (read nothing of yet), or not followed at all.
    FollowedFile* tracked = nullptr;
    std::unique_ptr<FollowedFile> opened;
    int64_t newest_ns = 0;
    for (const std::string& name : FilesIn(DirectoryOf(*f.name))) {
      struct stat st {};
      if (::stat(name.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) < f.offset) {
        continue;
      }
      const int64_t mtime_ns = MtimeNs(st);
      if ((tracked != nullptr || opened != nullptr) && mtime_ns <= newest_ns) continue;
      const Identity id{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
      auto followed = std::find_if(files_.begin(), files_.end(), [&](const auto& g) {
        return Identity{g->device, g->inode} == id;
      });
      if (followed != files_.end()) {
        if (!(*followed)->copy || (*followed)->head.compare(0, f.head.size(), f.head) != 0) {
          continue;
        }
        tracked = followed->get();
        opened.reset();
      } else {
        Result<std::unique_ptr<FollowedFile>> candidate = OpenFile(name);
        if (!candidate.ok()) continue;
        if ((*candidate)->head.compare(0, f.head.size(), f.head) != 0) {
          ::close((*candidate)->fd);
          continue;
        }
        if (opened != nullptr) ::close(opened->fd);
        opened = std::move(candidate).value();
        tracked = nullptr;
      }
      newest_ns = mtime_ns;
    }
    // Followed from where reading of `f` stopped, even if that is its end: remembered in
    // positions, so that a later run does not take it for a new file.
    FollowedFile* copy = tracked != nullptr ? tracked : opened.get();
    if (copy != nullptr) {
      copy->csv_schema = f.csv_schema;
      copy->copy = false;
      copy->rotated = true;
      PULSE_RETURN_IF_ERROR(StartAt(*copy, f.offset, f.next_line));
      if (opened != nullptr) {
        AddFollowed(std::move(opened));
      } else {
        copy->order = next_order_++;
      }
    }
  }
  f.order = next_order_++;  // its new lines come after those of its copy
  PULSE_ASSIGN_OR_RETURN(f.head, ReadHead(f.fd, *f.name));
  f.csv_schema.reset();
  return StartAt(f, 0, 1);
}

// The next line of files_[index]: a buffered one, or, once the file is checked (shrunk or
// beginning differently: Truncated), one read from it. `drain`: read it to its end and hand
// over its partial last line too.
Result<FileFollower::Try> FileFollower::TryFile(size_t index, bool drain, Line* line) {
  FollowedFile& f = *files_[index];
  auto take = [&](AtEnd at_end) -> Result<Try> {
    Result<bool> got = f.reader->Next(at_end, line);
    if (!got.ok()) return got.status().WithContext(fmt::format("reading '{}'", *f.name));
    if (f.reader->offset() != f.read_offset) {
      f.read_offset = f.reader->offset();
      f.last_active = clock_->Now();
    }
    if (!*got) return Try::kNone;
    f.offset = line->end_offset;
    f.next_line = line->next_number;
    return Try::kLine;
  };
  if (drain) return take(AtEnd::kEmit);  // to its end now, then its partial last line
  PULSE_ASSIGN_OR_RETURN(const Try buffered, take(AtEnd::kBuffered));
  if (buffered == Try::kLine) return buffered;
  // Before reading more: did the file grow, or was it truncated (and maybe written again)?
  PULSE_ASSIGN_OR_RETURN(const Check check, CheckFile(f, /*even_if_same_size=*/false));
  if (check == Check::kUnchanged) return Try::kNone;
  if (check == Check::kTruncated) {
    PULSE_RETURN_IF_ERROR(Truncated(index));
    Reorder();
    return Try::kReordered;
  }
  return take(AtEnd::kHold);
}

// Whether `file` has more to read, or was truncated: shorter than what was read, or no longer
// beginning with the bytes it began with. A file whose size is what was read is taken as
// unchanged unless `even_if_same_size` (a rewrite to the same length shows in its first bytes).
Result<FileFollower::Check> FileFollower::CheckFile(FollowedFile& f, bool even_if_same_size) {
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return Errno("stat", *f.name, errno);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < f.reader->offset()) return Check::kTruncated;
  if (size == f.reader->offset() && !even_if_same_size) return Check::kUnchanged;
  PULSE_ASSIGN_OR_RETURN(std::string head, ReadHead(f.fd, *f.name));
  if (head.compare(0, f.head.size(), f.head) != 0) return Check::kTruncated;
  f.head = std::move(head);  // it may have grown: a longer fingerprint
  return size == f.reader->offset() ? Check::kUnchanged : Check::kGrown;
}

void FileFollower::CloseFile(size_t index) {
  ::close(files_[index]->fd);
  files_.erase(files_.begin() + static_cast<std::ptrdiff_t>(index));
  current_ = 0;
}

Result<bool> FileFollower::Next(bool drain, Line* line, FollowedFile** file) {
  if (!drain && clock_->Now() >= next_scan_) PULSE_RETURN_IF_ERROR(Scan());
  // The lines already buffered of the file read last; else every file in order (rotated
  // ones first), again from the start after a truncation reordered them.
  if (!drain && current_ < files_.size()) {
    Result<bool> got = files_[current_]->reader->Next(AtEnd::kBuffered, line);
    if (!got.ok()) return got.status();
    if (*got) {
      FollowedFile& f = *files_[current_];
      f.offset = line->end_offset;
      f.next_line = line->next_number;
      *file = &f;
      return true;
    }
  }
  for (size_t round = 0; round <= files_.size(); ++round) {
    bool reordered = false;
    for (size_t i = 0; i < files_.size() && !reordered; ++i) {
      PULSE_ASSIGN_OR_RETURN(const Try tried, TryFile(i, drain, line));
      if (tried == Try::kLine) {
        current_ = i;
        *file = files_[i].get();
        return true;
      }
      reordered = tried == Try::kReordered;
    }
    if (!reordered) break;
  }
  if (drain) return false;
  // A rotated file quiet for rotate_wait is done: its partial last line is its final line.
  const Clock::TimePoint now = clock_->Now();
  const auto wait = std::chrono::milliseconds(options_.rotate_wait_ms);
  for (size_t i = 0; i < files_.size();) {
    FollowedFile& f = *files_[i];
    if (!f.rotated || now - f.last_active < wait) {
      ++i;
      continue;
    }
    PULSE_ASSIGN_OR_RETURN(const Try tried, TryFile(i, /*drain=*/true, line));
    if (tried == Try::kLine) {
      current_ = i;
      *file = &f;
      return true;
    }
    CloseFile(i);
  }
  return false;
}

std::vector<FollowPosition> FileFollower::Positions() {
  std::vector<FollowPosition> positions;
  for (const std::unique_ptr<FollowedFile>& f : files_) {
    // A longer fingerprint if the file has grown (lines not read yet count too): a later run
    // then tells the file from what replaced it even if it was empty when first seen.
    if (f->head.size() < kFingerprintBytes) {
      Result<std::string> head = ReadHead(f->fd, *f->name);
      if (head.ok() && head->compare(0, f->head.size(), f->head) == 0) f->head = *head;
    }
    positions.push_back(FollowPosition{*f->name, true, f->device, f->inode, Fingerprint(f->head),
                                       f->head.size(), f->offset, f->next_line});
  }
  return positions;
}

}  // namespace pulse::io::internal
