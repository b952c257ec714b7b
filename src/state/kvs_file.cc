// SPDX-License-Identifier: MIT
// .kvs files: buffered writing and reading of (group, key, value) entries.
#include "state/kvs_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace pulse::state::internal {
namespace {

constexpr size_t kBufferBytes = 1u << 20;
constexpr char kEntryTag = 0x01;
constexpr char kEndTag = 0x00;

Status IOErrorFor(std::string_view what, const std::string& path, int err) {
  return Status::IOError(fmt::format("{} '{}': {}", what, path, std::strerror(err)));
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutFixed(uint64_t v, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetFixed(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return v;
}

}  // namespace

// ---- KvsWriter -------------------------------------------------------------------------------

KvsWriter::KvsWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
  buffer_.reserve(kBufferBytes + 64);
  buffer_.append(kKvsMagic);
}

KvsWriter::~KvsWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<KvsWriter>> KvsWriter::Create(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return IOErrorFor("cannot create", path, errno);
  return std::unique_ptr<KvsWriter>(new KvsWriter(path, fd));
}

Status KvsWriter::Add(KeyGroup group, std::string_view key, std::string_view value) {
  buffer_.push_back(kEntryTag);
  PutFixed(group, 2, &buffer_);
  PutVarint(key.size(), &buffer_);
  buffer_.append(key);
  PutVarint(value.size(), &buffer_);
  buffer_.append(value);
  ++count_;
  if (buffer_.size() >= kBufferBytes) return Flush();
  return Status::OK();
}

Status KvsWriter::Flush() {
  std::string_view data = buffer_;
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IOErrorFor("cannot write", path_, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  buffer_.clear();
  return Status::OK();
}

Status KvsWriter::Finish() {
  buffer_.push_back(kEndTag);
  PutFixed(count_, 8, &buffer_);
  PULSE_RETURN_IF_ERROR(Flush());
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return IOErrorFor("cannot close", path_, errno);
  return Status::OK();
}

// ---- KvsReader -------------------------------------------------------------------------------

KvsReader::KvsReader(std::string path, int fd, uint64_t file_bytes)
    : path_(std::move(path)), fd_(fd), file_bytes_(file_bytes) {}

KvsReader::~KvsReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<KvsReader>> KvsReader::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(fmt::format("'{}' does not exist", path));
    return IOErrorFor("cannot open", path, errno);
  }
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    int err = errno;
    ::close(fd);
    return IOErrorFor("cannot stat", path, err);
  }
  std::unique_ptr<KvsReader> reader(new KvsReader(path, fd, static_cast<uint64_t>(info.st_size)));
  Status st = reader->Need(kKvsMagic.size());
  if (!st.ok() || std::string_view(reader->buffer_).substr(0, kKvsMagic.size()) != kKvsMagic) {
    if (!st.ok() && st.code() != StatusCode::kCorruption) return st;
    return Status::Corruption(fmt::format("'{}' is not a state snapshot file", path));
  }
  reader->pos_ = kKvsMagic.size();
  return reader;
}

Status KvsReader::Truncated() const {
  return Status::Corruption(fmt::format("state snapshot file '{}' is truncated", path_));
}

Status KvsReader::Need(size_t n) {
  if (buffer_.size() - pos_ >= n) return Status::OK();
  buffer_.erase(0, pos_);
  pos_ = 0;
  while (buffer_.size() < n) {
    if (eof_) return Truncated();
    const size_t have = buffer_.size();
    buffer_.resize(have + std::max(kBufferBytes, n - have));
    ssize_t got;
    do {
      got = ::read(fd_, buffer_.data() + have, buffer_.size() - have);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
      int err = errno;
      buffer_.resize(have);
      return IOErrorFor("cannot read", path_, err);
    }
    buffer_.resize(have + static_cast<size_t>(got));
    if (got == 0) eof_ = true;
  }
  return Status::OK();
}

Result<std::optional<KvsEntryView>> KvsReader::Next() {
  // Offsets are relative to pos_, which Need() keeps valid while it compacts the buffer; the
  // entry is consumed only once it is complete.
  PULSE_RETURN_IF_ERROR(Need(1));
  const char tag = buffer_[pos_];
  if (tag == kEndTag) {
    PULSE_RETURN_IF_ERROR(Need(1 + 8));
    const uint64_t count = GetFixed(buffer_.data() + pos_ + 1, 8);
    pos_ += 1 + 8;
    if (count != count_) {
      return Status::Corruption(fmt::format(
          "state snapshot file '{}' has {} entries, its trailer says {}", path_, count_, count));
    }
    Status more = Need(1);
    if (more.ok()) {
      return Status::Corruption(
          fmt::format("state snapshot file '{}' has data after its end", path_));
    }
    if (more.code() != StatusCode::kCorruption) return more;
    return std::optional<KvsEntryView>();
  }
  if (tag != kEntryTag) {
    return Status::Corruption(fmt::format("state snapshot file '{}' is malformed", path_));
  }
  size_t off = 1;
  auto varint = [this, &off]() -> Result<uint64_t> {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      PULSE_RETURN_IF_ERROR(Need(off + 1));
      auto byte = static_cast<unsigned char>(buffer_[pos_ + off++]);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        if (v > file_bytes_) break;  // a corrupt size: do not try to allocate it
        return v;
      }
    }
    return Status::Corruption(fmt::format("state snapshot file '{}' has a bad length", path_));
  };
  PULSE_RETURN_IF_ERROR(Need(off + 2));
  const auto group = static_cast<KeyGroup>(GetFixed(buffer_.data() + pos_ + off, 2));
  off += 2;
  PULSE_ASSIGN_OR_RETURN(const uint64_t key_size, varint());
  PULSE_RETURN_IF_ERROR(Need(off + key_size));
  const size_t key_off = off;
  off += key_size;
  PULSE_ASSIGN_OR_RETURN(const uint64_t value_size, varint());
  PULSE_RETURN_IF_ERROR(Need(off + value_size));
  KvsEntryView e;
  e.group = group;
  e.key = std::string_view(buffer_.data() + pos_ + key_off, key_size);
  e.value = std::string_view(buffer_.data() + pos_ + off, value_size);
  pos_ += off + value_size;
  ++count_;
  return std::optional<KvsEntryView>(e);
}

}  // namespace pulse::state::internal
