// SPDX-License-Identifier: MIT
// OutputFile: temporary file, large buffered writes, fsync + rename on commit, all through an
// Env.
#include "pulse/core/output_file.h"

#include <unistd.h>

#include <filesystem>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "core/file_util.h"
#include "pulse/core/json_reader.h"

namespace pulse {
namespace {

// Names tried before Create gives up (a clash needs the same pid and 64 random bits).
constexpr int kCreateAttempts = 8;

}  // namespace

OutputFile::OutputFile(Env* env, std::string final_path, std::string temp_path,
                       std::unique_ptr<WritableFile> file, OutputVisibility visibility)
    : env_(env),
      final_path_(std::move(final_path)),
      temp_path_(std::move(temp_path)),
      visibility_(visibility),
      file_(std::move(file)) {
  buffer_.reserve(kBufferBytes);
}

OutputFile::~OutputFile() {
  if (!done_) Abort();
}

Result<std::unique_ptr<OutputFile>> OutputFile::Create(std::string final_path, Env& env,
                                                       OutputVisibility visibility) {
  if (final_path.empty()) return Status::InvalidArgument("output path is empty");
  std::filesystem::path final_fs(final_path);
  std::filesystem::path dir = final_fs.parent_path();
  if (!dir.empty()) {
    if (Status st = CreateDirs(env, dir.string()); !st.ok()) {
      return Status::IOError(
          fmt::format("cannot create directory '{}': {}", dir.string(), st.message()));
    }
  }
  std::string name = final_fs.filename().string();
  if (name.empty()) {
    return Status::InvalidArgument(fmt::format("output path '{}' names a directory", final_path));
  }
  if (visibility != OutputVisibility::kAtCommit) {
    if (Result<FileInfo> there = env.Stat(final_path);
        there.ok() && there->type == FileType::kDirectory) {
      return Status::InvalidArgument(
          fmt::format("output path '{}' names a directory", final_path));
    }
    // kAsWrittenRecoverable keeps what is there for Recover: open it, or create it.
    Result<std::unique_ptr<WritableFile>> file =
        env.OpenWritable(final_path, visibility == OutputVisibility::kAsWritten
                                         ? WriteMode::kTruncate
                                         : WriteMode::kExisting);
    if (!file.ok() && file.status().code() == StatusCode::kNotFound) {
      file = env.OpenWritable(final_path, WriteMode::kTruncate);
    }
    if (!file.ok()) {
      return Status::IOError(
          fmt::format("cannot create '{}': {}", final_path, file.status().message()));
    }
    std::string path = final_path;
    return std::unique_ptr<OutputFile>(new OutputFile(
        &env, std::move(final_path), std::move(path), std::move(file).value(), visibility));
  }
  Status last;
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    std::string temp =
        (dir / fmt::format(".{}.inprogress-{}-{:016x}", name, ::getpid(), env.UniqueId()))
            .string();
    Result<std::unique_ptr<WritableFile>> file = env.OpenWritable(temp, WriteMode::kCreateNew);
    if (file.ok()) {
      return std::unique_ptr<OutputFile>(new OutputFile(&env, std::move(final_path),
                                                        std::move(temp), std::move(file).value(),
                                                        visibility));
    }
    last = file.status();
    if (!env.Stat(temp).ok()) break;  // not a clash with an existing name: trying again is futile
  }
  return Status::IOError(fmt::format("cannot create '{}': {}", final_path, last.message()));
}

std::unique_ptr<OutputFile> OutputFile::Stdout() {
  return std::unique_ptr<OutputFile>(new OutputFile(nullptr, "-", "", internal::NewStdoutFile(),
                                                    OutputVisibility::kAsWritten));
}

Status OutputFile::Error(std::string_view what, const Status& cause) const {
  return Status::IOError(fmt::format("cannot {} '{}': {}", what, final_path_, cause.message()));
}

Status OutputFile::WriteAll(std::string_view data) {
  Status st = file_->Append(data);
  if (!st.ok()) {
    torn_ = true;
    return Error("write", st);
  }
  bytes_flushed_ += data.size();
  return st;
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
  if (env_ == nullptr) {  // stdout
    done_ = true;
    return st;
  }
  if (st.ok()) {
    if (Status synced = file_->Sync(); !synced.ok()) st = Error("fsync", synced);
  }
  if (Status closed = file_->Close(); !closed.ok() && st.ok()) st = Error("close", closed);
  file_.reset();
  done_ = true;
  if (in_place()) return st;
  if (st.ok()) {
    st = RenameDurably(*env_, temp_path_, final_path_,
                       fmt::format("cannot rename into '{}'", final_path_));
  }
  if (!st.ok()) (void)env_->Remove(temp_path_);  // gone already if the rename happened
  return st;
}

void OutputFile::Abort() {
  if (done_) return;
  done_ = true;
  buffer_.clear();
  if (env_ == nullptr) return;
  if (!in_place()) {
    Discard();
    return;
  }
  if (file_ != nullptr) {
    // A write that failed half way may have left part of its data: cut it off.
    if (torn_) (void)file_->Truncate(bytes_flushed_);
    (void)file_->Close();
    file_.reset();
  }
}

void OutputFile::Discard() {
  file_.reset();
  (void)env_->Remove(temp_path_);
}

Result<Value> OutputFile::PrepareCommit() {
  if (env_ == nullptr) {
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
  if (Status synced = file_->Sync(); !synced.ok()) return Error("fsync", synced);
  // The final file itself ("file") in place, else the temporary one ("temp").
  return Value(Object{{in_place() ? "file" : "temp",
                       Value(std::filesystem::path(temp_path_).filename().string())},
                      {"length", Value(static_cast<int64_t>(bytes_written_))}});
}

Status OutputFile::Recover(const Value* info) {
  if (env_ == nullptr) return PrepareCommit().status();
  if (done_ || bytes_written_ != 0) {
    return Status::Internal(fmt::format("output '{}' recovered after use", final_path_));
  }
  const std::filesystem::path final_fs(final_path_);
  const std::filesystem::path dir =
      final_fs.parent_path().empty() ? std::filesystem::path(".") : final_fs.parent_path();
  const std::string prefix = "." + final_fs.filename().string() + ".inprogress-";
  std::string keep;
  bool committed = false;
  bool in_final = false;  // the checkpoint covers the final file itself (kAsWritten)
  uint64_t length = 0;
  if (info != nullptr) {
    const std::string document = fmt::format("checkpoint entry for output '{}'", final_path_);
    PULSE_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Make(*info, document));
    PULSE_ASSIGN_OR_RETURN(std::optional<bool> done, r.OptionalBool("committed"));
    committed = done.value_or(false);
    PULSE_ASSIGN_OR_RETURN(std::optional<std::string> file, r.OptionalString("file"));
    in_final = file.has_value();
    if (in_final) {
      if (*file != final_fs.filename().string()) return r.Invalid("file", "is not this output");
      PULSE_ASSIGN_OR_RETURN(length, r.Uint("length"));
    } else if (!committed) {
      PULSE_ASSIGN_OR_RETURN(keep, r.String("temp"));
      PULSE_ASSIGN_OR_RETURN(length, r.Uint("length"));
      if (!keep.starts_with(prefix) || keep.find('/') != std::string::npos) {
        return r.Invalid("temp", "is not an in-progress file of this output");
      }
    }
  }
  // Remove what crashed runs left, except the file to continue and our own.
  const std::string own = std::filesystem::path(temp_path_).filename().string();
  if (Result<std::vector<std::string>> names = env_->ListDir(dir.string()); names.ok()) {
    for (const std::string& name : *names) {
      if (name.rfind(prefix, 0) == 0 && name != keep && name != own) {
        (void)env_->Remove((dir / name).string());
      }
    }
  }
  if (in_final) return ContinueFinal(length);
  if (info == nullptr) {
    if (visibility_ != OutputVisibility::kAsWrittenRecoverable) return Status::OK();
    // A fresh start replaces what an earlier run left in the final file.
    if (Status cut = file_->Truncate(0); !cut.ok()) return Error("empty", cut);
    return Status::OK();
  }
  if (committed) {
    if (env_->Stat(final_path_).ok()) return MarkCommitted();
    return Status::Corruption(fmt::format(
        "cannot continue output '{}': the checkpoint says it was completed, but it is gone",
        final_path_));
  }
  return ContinueTemp(keep, length);
}

// The output was completed by an earlier run: leave it as it is.
Status OutputFile::MarkCommitted() {
  if (in_place()) {  // the final file was opened as it is: close it untouched
    (void)file_->Close();
    file_.reset();
    done_ = true;
  } else {
    Abort();  // our fresh temporary file
  }
  already_committed_ = true;
  return Status::OK();
}

// Continue the in-progress temporary file `name` (kAtCommit's checkpoint) at `length`; with
// kAsWritten it is renamed into place first, replacing the final file opened by Create.
Status OutputFile::ContinueTemp(const std::string& name, uint64_t length) {
  const std::filesystem::path final_fs(final_path_);
  const std::filesystem::path dir =
      final_fs.parent_path().empty() ? std::filesystem::path(".") : final_fs.parent_path();
  const std::string resumed = (dir / name).string();
  Result<std::unique_ptr<WritableFile>> file = env_->OpenWritable(resumed, WriteMode::kExisting);
  if (!file.ok()) {
    // Gone because that run renamed it into place (Create left a final file untouched).
    Result<FileInfo> final_file = env_->Stat(final_path_);
    if (file.status().code() == StatusCode::kNotFound && final_file.ok() &&
        (!in_place() || final_file->size >= length)) {
      return MarkCommitted();
    }
    return Status::Corruption(fmt::format(
        "cannot continue output '{}': its in-progress file '{}' named by the checkpoint is "
        "missing and the output was never completed",
        final_path_, name));
  }
  Result<FileInfo> found = env_->Stat(resumed);
  if (!found.ok() || found->size < length) {
    return Status::Corruption(fmt::format(
        "cannot continue output '{}': '{}' is shorter than the {} bytes the checkpoint covers",
        final_path_, name, length));
  }
  if (Status cut = (*file)->Truncate(length); !cut.ok()) return Error("cut back", cut);
  if (in_place()) {
    (void)file_->Close();
    file_.reset();
    (*file).reset();
    PULSE_RETURN_IF_ERROR(RenameDurably(*env_, resumed, final_path_,
                                        fmt::format("cannot rename into '{}'", final_path_)));
    file = env_->OpenWritable(final_path_, WriteMode::kExisting);
    if (!file.ok()) return Error("reopen", file.status());
  } else {
    Abort();  // our fresh temporary file
    done_ = false;
    temp_path_ = resumed;
  }
  file_ = std::move(file).value();
  bytes_written_ = bytes_flushed_ = length;
  return Status::OK();
}

// Continue the final file (kAsWritten's checkpoint) at `length`; with kAtCommit the output
// stays in place from now on, as the run that began it made it visible.
Status OutputFile::ContinueFinal(uint64_t length) {
  if (!in_place()) {
    Result<std::unique_ptr<WritableFile>> file =
        env_->OpenWritable(final_path_, WriteMode::kExisting);
    if (!file.ok()) {
      return Status::Corruption(fmt::format(
          "cannot continue output '{}': the checkpoint covers {} bytes of it, but it is gone",
          final_path_, length));
    }
    Abort();  // our fresh temporary file
    done_ = false;
    temp_path_ = final_path_;
    visibility_ = OutputVisibility::kAsWrittenRecoverable;
    file_ = std::move(file).value();
  }
  Result<FileInfo> found = env_->Stat(final_path_);
  if (!found.ok() || found->size < length) {
    return Status::Corruption(fmt::format(
        "cannot continue output '{}': it is shorter than the {} bytes the checkpoint covers "
        "(was it truncated or replaced?)",
        final_path_, length));
  }
  if (Status cut = file_->Truncate(length); !cut.ok()) return Error("cut back", cut);
  bytes_written_ = bytes_flushed_ = length;
  return Status::OK();
}

Status OutputFile::Suspend() {
  if (done_ || env_ == nullptr) return Flush();
  Status st = Flush();
  if (st.ok()) {
    if (Status synced = file_->Sync(); !synced.ok()) st = Error("fsync", synced);
  }
  (void)file_->Close();
  file_.reset();
  done_ = true;
  return st;
}

}  // namespace pulse

namespace pulse {
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

}  // namespace pulse
