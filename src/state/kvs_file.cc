// SPDX-License-Identifier: MIT
// .kvs files: buffered writing and reading of (group, key, value) entries.
#include "state/kvs_file.h"

#include <algorithm>
#include <span>

#include <fmt/format.h>

namespace pulse::state::internal {
namespace {

constexpr size_t kBufferBytes = 1u << 20;
constexpr char kEntryTag = 0x01;
constexpr char kEndTag = 0x00;

Status IOErrorFor(std::string_view what, const std::string& path, const Status& cause) {
  return Status::IOError(fmt::format("{} '{}': {}", what, path, cause.message()));
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

KvsWriter::KvsWriter(std::string path, std::unique_ptr<WritableFile> file)
    : path_(std::move(path)), file_(std::move(file)) {
  buffer_.reserve(kBufferBytes + 64);
  buffer_.append(kKvsMagic);
}

KvsWriter::~KvsWriter() = default;

Result<std::unique_ptr<KvsWriter>> KvsWriter::Create(Env& env, const std::string& path) {
  Result<std::unique_ptr<WritableFile>> file = env.OpenWritable(path, WriteMode::kCreateNew);
  if (!file.ok()) return IOErrorFor("cannot create", path, file.status());
  return std::unique_ptr<KvsWriter>(new KvsWriter(path, std::move(file).value()));
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
  if (Status st = file_->Append(buffer_); !st.ok()) return IOErrorFor("cannot write", path_, st);
  buffer_.clear();
  return Status::OK();
}

Status KvsWriter::Finish() {
  buffer_.push_back(kEndTag);
  PutFixed(count_, 8, &buffer_);
  PULSE_RETURN_IF_ERROR(Flush());
  if (Status st = file_->Close(); !st.ok()) return IOErrorFor("cannot close", path_, st);
  return Status::OK();
}

// ---- KvsReader -------------------------------------------------------------------------------

KvsReader::KvsReader(std::string path, std::unique_ptr<ReadableFile> file, uint64_t file_bytes)
    : path_(std::move(path)), file_(std::move(file)), file_bytes_(file_bytes) {}

KvsReader::~KvsReader() = default;

Result<std::unique_ptr<KvsReader>> KvsReader::Open(Env& env, const std::string& path) {
  Result<std::unique_ptr<ReadableFile>> file = env.OpenReadable(path);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kNotFound) {
      return Status::NotFound(fmt::format("'{}' does not exist", path));
    }
    return IOErrorFor("cannot open", path, file.status());
  }
  Result<uint64_t> size = (*file)->Size();
  if (!size.ok()) return IOErrorFor("cannot stat", path, size.status());
  std::unique_ptr<KvsReader> reader(new KvsReader(path, std::move(file).value(), *size));
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
    Result<size_t> got =
        file_->Read(std::span<char>(buffer_.data() + have, buffer_.size() - have));
    if (!got.ok()) {
      buffer_.resize(have);
      return IOErrorFor("cannot read", path_, got.status());
    }
    buffer_.resize(have + *got);
    if (*got == 0) eof_ = true;
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
