// SPDX-License-Identifier: MIT
// Spool files of the Parquet sink and their record encoding.
#include "io/parquet/spool.h"

#include <fmt/format.h>

#include <algorithm>
#include <span>
#include <utility>

namespace pulse::io::internal {
namespace {

namespace fs = std::filesystem;

// The first bytes of every spool; the lengths a checkpoint records include them.
constexpr std::string_view kMagic = "PULSESP1";
// Nesting deeper than this is refused when decoding (no parser gives deeper values).
constexpr int kMaxDepth = 1024;
constexpr size_t kLengthBytes = 4;
constexpr size_t kReadChunk = 1u << 20;

enum Tag : uint8_t { kNull, kFalse, kTrue, kInt, kDouble, kString, kArray, kObject };

// The hot path of spooling: one append per varint, not a push_back per byte.
void PutVarint(uint64_t v, std::string* out) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

// A tag byte followed by a varint.
void PutTagged(Tag tag, uint64_t v, std::string* out) {
  char buf[11];
  size_t n = 0;
  buf[n++] = static_cast<char>(tag);
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

void PutSigned(int64_t v, std::string* out) { PutVarint(ZigZag(v), out); }

void PutBytes(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

void PutValue(const Value& v, std::string* out) {
  switch (v.type()) {
    case Value::Type::kNull:
      out->push_back(static_cast<char>(kNull));
      return;
    case Value::Type::kBool:
      out->push_back(static_cast<char>(v.as_bool() ? kTrue : kFalse));
      return;
    case Value::Type::kInt:
      PutTagged(kInt, ZigZag(v.as_int()), out);
      return;
    case Value::Type::kDouble: {
      char buf[9];
      buf[0] = static_cast<char>(kDouble);
      uint64_t bits;
      const double d = v.as_double();
      std::memcpy(&bits, &d, sizeof(bits));
      for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<char>(bits >> (8 * i));
      out->append(buf, sizeof(buf));
      return;
    }
    case Value::Type::kString:
      PutTagged(kString, v.as_string().size(), out);
      out->append(v.as_string());
      return;
    case Value::Type::kArray:
      PutTagged(kArray, v.as_array().size(), out);
      for (const Value& e : v.as_array()) PutValue(e, out);
      return;
    case Value::Type::kObject:
      PutTagged(kObject, v.as_object().size(), out);
      for (const auto& [key, e] : v.as_object()) {
        PutBytes(key, out);
        PutValue(e, out);
      }
      return;
  }
}

// Reads the encoding back; every method fails (returns false) past the end.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      const auto b = static_cast<uint8_t>(in_[pos_++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }

  bool Signed(int64_t* v) {
    uint64_t u;
    if (!Varint(&u)) return false;
    *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }

  bool Bytes(std::string* s) {
    uint64_t n;
    if (!Varint(&n) || n > in_.size() - pos_) return false;
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }

  bool ReadValue(Value* v, int depth) {
    if (pos_ >= in_.size() || depth > kMaxDepth) return false;
    const auto tag = static_cast<uint8_t>(in_[pos_++]);
    switch (tag) {
      case kNull:
        *v = Value();
        return true;
      case kFalse:
      case kTrue:
        *v = Value(tag == kTrue);
        return true;
      case kInt: {
        int64_t i;
        if (!Signed(&i)) return false;
        *v = Value(i);
        return true;
      }
      case kDouble: {
        if (in_.size() - pos_ < 8) return false;
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) {
          bits |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
        }
        pos_ += 8;
        double d;
        std::memcpy(&d, &bits, sizeof(d));
        *v = Value(d);
        return true;
      }
      case kString: {
        std::string s;
        if (!Bytes(&s)) return false;
        *v = Value(std::move(s));
        return true;
      }
      case kArray: {
        uint64_t n;
        if (!Varint(&n) || n > in_.size() - pos_) return false;  // each element takes a byte
        Array a(n);
        for (Value& e : a) {
          if (!ReadValue(&e, depth + 1)) return false;
        }
        *v = Value(std::move(a));
        return true;
      }
      case kObject: {
        uint64_t n;
        if (!Varint(&n) || n > in_.size() - pos_) return false;
        Object o(n);
        for (auto& [key, e] : o) {
          if (!Bytes(&key) || !ReadValue(&e, depth + 1)) return false;
        }
        *v = Value(std::move(o));
        return true;
      }
      default:
        return false;
    }
  }

  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

Status SysError(std::string_view what, const fs::path& path, const Status& cause) {
  return Status::IOError(fmt::format("cannot {} {}: {}", what, path.string(), cause.message()));
}

// Read exactly `n` bytes at the read position; false at an early end of file.
Result<bool> ReadFully(ReadableFile& file, size_t n, std::string* out, const fs::path& path) {
  out->resize(n);
  size_t got = 0;
  while (got < n) {
    Result<size_t> r = file.Read(std::span<char>(out->data() + got, n - got));
    if (!r.ok()) return SysError("read", path, r.status());
    if (*r == 0) return false;
    got += *r;
  }
  return true;
}

}  // namespace

void EncodeSpoolRecord(const Record& record, std::string* out) {
  const size_t start = out->size();
  out->append(kLengthBytes, '\0');
  PutSigned(record.time, out);
  PutValue(record.value, out);
  const auto body = static_cast<uint32_t>(out->size() - start - kLengthBytes);
  for (size_t i = 0; i < kLengthBytes; ++i) {
    (*out)[start + i] = static_cast<char>(body >> (8 * i));
  }
}

Result<Record> DecodeSpoolRecord(std::string_view body) {
  Decoder d(body);
  Record r;
  if (!d.Signed(&r.time) || !d.ReadValue(&r.value, 0) || !d.done()) {
    return Status::Corruption("a spooled row is not a valid record");
  }
  return r;
}

Result<std::unique_ptr<Spool>> Spool::Create(Env& env, const fs::path& path) {
  Result<std::unique_ptr<WritableFile>> file =
      env.OpenWritable(path.string(), WriteMode::kTruncate);
  if (!file.ok()) return SysError("create", path, file.status());
  auto spool = std::make_unique<Spool>(PrivateToken{}, path, std::move(file).value(), 0);
  spool->buffer_.append(kMagic);
  spool->length_ = kMagic.size();
  spool->synced_ = false;
  return spool;
}

Result<std::unique_ptr<Spool>> Spool::Reopen(Env& env, const fs::path& path, uint64_t length,
                                             const std::function<Status(const Record&)>& row) {
  Result<std::unique_ptr<WritableFile>> file =
      env.OpenWritable(path.string(), WriteMode::kExisting);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kNotFound) {
      return Status::Corruption(
          fmt::format("spool {} named by the checkpoint is missing", path.string()));
    }
    return SysError("open", path, file.status());
  }
  auto spool = std::make_unique<Spool>(PrivateToken{}, path, std::move(file).value(), length);
  Result<std::unique_ptr<ReadableFile>> reader = env.OpenReadable(path.string());
  if (!reader.ok()) return SysError("open", path, reader.status());
  Result<uint64_t> size = (*reader)->Size();
  if (!size.ok()) return SysError("stat", path, size.status());
  if (*size < length || length < kMagic.size()) {
    return Status::Corruption(
        fmt::format("spool {} has {} bytes, less than the {} the checkpoint "
                    "covers",
                    path.string(), *size, length));
  }
  if (Status st = spool->file_->Truncate(length); !st.ok()) return SysError("truncate", path, st);
  // Read [0, length) in chunks; records may span chunks.
  std::string chunk;
  std::string pending;
  uint64_t offset = 0;
  bool header = true;
  while (offset < length) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kReadChunk, length - offset));
    PULSE_ASSIGN_OR_RETURN(bool full, ReadFully(**reader, n, &chunk, path));
    if (!full) return Status::Corruption(fmt::format("spool {} shrank while read", path.string()));
    offset += n;
    pending.append(chunk);
    size_t pos = 0;
    if (header) {
      if (pending.size() < kMagic.size()) continue;
      if (std::string_view(pending).substr(0, kMagic.size()) != kMagic) {
        return Status::Corruption(fmt::format("{} is not a Pulse spool", path.string()));
      }
      pos = kMagic.size();
      header = false;
    }
    while (pending.size() - pos >= kLengthBytes) {
      uint32_t body = 0;
      for (size_t i = 0; i < kLengthBytes; ++i) {
        body |= static_cast<uint32_t>(static_cast<uint8_t>(pending[pos + i])) << (8 * i);
      }
      if (pending.size() - pos - kLengthBytes < body) break;
      Result<Record> record =
          DecodeSpoolRecord(std::string_view(pending).substr(pos + kLengthBytes, body));
      if (!record.ok()) return record.status().WithContext(path.string());
      PULSE_RETURN_IF_ERROR(row(*record));
      pos += kLengthBytes + body;
    }
    pending.erase(0, pos);
  }
  if (header || !pending.empty()) {
    return Status::Corruption(
        fmt::format("spool {} ends inside a record at the checkpoint's length", path.string()));
  }
  return spool;
}

Spool::Spool(PrivateToken, fs::path path, std::unique_ptr<WritableFile> file, uint64_t length)
    : path_(std::move(path)), file_(std::move(file)), length_(length) {}

Spool::~Spool() = default;

Status Spool::Append(const Record& record) {
  const size_t before = buffer_.size();
  EncodeSpoolRecord(record, &buffer_);
  length_ += buffer_.size() - before;
  synced_ = false;
  if (buffer_.size() >= kBufferBytes) return WriteBuffer();
  return Status::OK();
}

Status Spool::WriteBuffer() {
  Status st = file_->Append(buffer_);
  buffer_.clear();
  return st.ok() ? st : SysError("write", path_, st);
}

Status Spool::Sync() {
  if (synced_) return Status::OK();
  PULSE_RETURN_IF_ERROR(WriteBuffer());
  if (Status st = file_->Sync(); !st.ok()) return SysError("sync", path_, st);
  synced_ = true;
  return Status::OK();
}

}  // namespace pulse::io::internal
