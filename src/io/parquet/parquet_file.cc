// SPDX-License-Identifier: MIT
// ParquetFile and RowLayout on Arrow C++: builders, row groups, Parquet writer properties. The
// only place where arrow::Status and Parquet exceptions become pulse::Status.
#include "io/parquet/parquet_file.h"

#include <arrow/builder.h>
#include <arrow/io/file.h>
#include <arrow/memory_pool.h>
#include <arrow/table.h>
#include <arrow/type.h>
#include <fmt/format.h>
#include <parquet/arrow/writer.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>
#include <parquet/properties.h>

#include <exception>
#include <string_view>
#include <utility>

#include "pulse/core/json.h"

namespace pulse::io::internal {
namespace {

namespace fs = std::filesystem;

// The bytes a fixed-width value counts for max_bytes.
constexpr uint64_t kFixedWidthBytes = 8;

// The original's zstd level: fast, most of the gain.
constexpr int kZstdLevel = 1;

Status FromArrow(const arrow::Status& st, std::string_view what) {
  if (st.ok()) return Status::OK();
  std::string message = fmt::format("{}: {}", what, st.ToString());
  if (st.IsIOError()) return Status::IOError(std::move(message));
  if (st.IsInvalid() || st.IsTypeError()) return Status::InvalidArgument(std::move(message));
  return Status::Internal(std::move(message));
}

// Run an Arrow/Parquet call that may also throw (parquet::ParquetException).
template <typename F>
Status Guarded(std::string_view what, F&& call) {
  try {
    return FromArrow(call(), what);
  } catch (const std::exception& e) {
    return Status::IOError(fmt::format("{}: {}", what, e.what()));
  }
}

std::shared_ptr<arrow::DataType> ArrowType(ColumnType type) {
  switch (type) {
    case ColumnType::kTimestamp:
      return arrow::timestamp(arrow::TimeUnit::MILLI, "UTC");
    case ColumnType::kInt64:
      return arrow::int64();
    case ColumnType::kDouble:
      return arrow::float64();
    case ColumnType::kBool:
      return arrow::boolean();
    case ColumnType::kString:
      break;
  }
  return arrow::utf8();
}

parquet::Compression::type Codec(ParquetCompression c) {
  switch (c) {
    case ParquetCompression::kZstd:
      return parquet::Compression::ZSTD;
    case ParquetCompression::kNone:
      return parquet::Compression::UNCOMPRESSED;
    case ParquetCompression::kSnappy:
      break;
  }
  return parquet::Compression::SNAPPY;
}

std::string_view ValueTypeName(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return "null";
    case Value::Type::kBool:
      return "a bool";
    case Value::Type::kInt:
      return "an integer";
    case Value::Type::kDouble:
      return "a fractional number";
    case Value::Type::kString:
      return "a string";
    case Value::Type::kArray:
      return "an array";
    case Value::Type::kObject:
      break;
  }
  return "an object";
}

bool Fits(const Value& v, ColumnType type) {
  switch (type) {
    case ColumnType::kTimestamp:
    case ColumnType::kInt64:
      return v.is_int();
    case ColumnType::kDouble:
      return v.is_number();
    case ColumnType::kBool:
      return v.is_bool();
    case ColumnType::kString:
      break;
  }
  return true;
}

ColumnType GenericColumnType(const Value& v) {
  switch (v.type()) {
    case Value::Type::kBool:
      return ColumnType::kBool;
    case Value::Type::kInt:
      return ColumnType::kInt64;
    case Value::Type::kDouble:
      return ColumnType::kDouble;
    default:
      break;
  }
  return ColumnType::kString;
}

// Window result fields have fixed types; other fields are typed by their value.
ColumnType WindowColumnType(std::string_view name, const Value& v) {
  if (name == "window_start_ms" || name == "window_end_ms") return ColumnType::kTimestamp;
  if (name == "key") return ColumnType::kString;
  if (name == "count" || name == "distinct_count") return ColumnType::kInt64;
  if (name == "sum" || name == "avg" || name == "min" || name == "max") {
    return ColumnType::kDouble;
  }
  return GenericColumnType(v);
}

}  // namespace

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kTimestamp:
      return "timestamp";
    case ColumnType::kInt64:
      return "int64";
    case ColumnType::kDouble:
      return "double";
    case ColumnType::kBool:
      return "bool";
    case ColumnType::kString:
      break;
  }
  return "string";
}

Result<ColumnType> ParseColumnType(std::string_view name) {
  for (ColumnType t : {ColumnType::kTimestamp, ColumnType::kInt64, ColumnType::kDouble,
                       ColumnType::kBool, ColumnType::kString}) {
    if (ColumnTypeName(t) == name) return t;
  }
  return Status::InvalidArgument(fmt::format("unknown column type '{}'", name));
}

Status SyncFolder(Env& env, const fs::path& dir) {
  Status st = env.SyncPath(dir.string());
  if (st.ok()) return st;
  return Status::IOError(fmt::format("cannot sync folder {}: {}", dir.string(), st.message()));
}

std::string TempFileName(std::string_view name) { return fmt::format(".{}.inprogress", name); }

Status PublishFile(Env& env, const fs::path& temp, const fs::path& final_path) {
  return RenameDurably(env, temp.string(), final_path.string(),
                       fmt::format("cannot rename {} to {}", temp.string(), final_path.string()));
}

Result<uint64_t> ParquetFileRows(const fs::path& path) {
  try {
    std::unique_ptr<parquet::ParquetFileReader> reader =
        parquet::ParquetFileReader::OpenFile(path.string(), /*memory_map=*/false);
    return static_cast<uint64_t>(reader->metadata()->num_rows());
  } catch (const std::exception& e) {
    return Status::IOError(fmt::format("cannot read {}: {}", path.string(), e.what()));
  }
}

RowLayout::RowLayout(bool payload, std::vector<Column> columns)
    : payload_(payload), columns_(std::move(columns)) {
  arrow::FieldVector fields;
  for (const Column& c : columns_) {
    fields.push_back(arrow::field(c.name, ArrowType(c.type), /*nullable=*/!payload_));
  }
  schema_ = arrow::schema(std::move(fields));
}

RowLayout RowLayout::Payload() {
  return RowLayout(true,
                   {{"event_time", ColumnType::kTimestamp}, {"payload", ColumnType::kString}});
}

Result<RowLayout> RowLayout::FromFirstRecord(const Record& first) {
  if (!first.value.is_object() || first.value.as_object().empty()) {
    return Status::InvalidArgument(fmt::format(
        "schema = \"columns\" needs records that are JSON objects with fields; the first "
        "record is {} (use schema = \"payload\")",
        first.value.is_object() ? "an empty object" : ValueTypeName(first.value)));
  }
  const Object& fields = first.value.as_object();
  const Value* start = first.value.Find("window_start_ms");
  const Value* end = first.value.Find("window_end_ms");
  const bool window_result = start && end && start->is_int() && end->is_int();
  std::vector<Column> columns;
  for (const auto& [name, value] : fields) {
    columns.push_back(
        {name, window_result ? WindowColumnType(name, value) : GenericColumnType(value)});
  }
  return RowLayout(false, std::move(columns));
}

Result<RowLayout> RowLayout::FromColumns(std::vector<Column> columns) {
  if (columns.empty()) return Status::InvalidArgument("a columns layout needs columns");
  return RowLayout(false, std::move(columns));
}

class ParquetFile::Impl {
 public:
  Impl(const RowLayout& layout, const FileSettings& settings)
      : layout_(layout), settings_(settings) {
    for (const Column& c : layout_.columns()) {
      std::unique_ptr<arrow::ArrayBuilder> builder;
      // MakeBuilder only fails for unsupported types; these five are always supported.
      (void)arrow::MakeBuilder(arrow::default_memory_pool(), ArrowType(c.type), &builder);
      builders_.push_back(std::move(builder));
    }
    slots_.resize(layout_.columns().size());
  }

  // Open the file the Env created for Arrow to write.
  Status Open(const fs::path& temp_path) {
    auto stream = arrow::io::FileOutputStream::Open(temp_path.string(), /*append=*/false);
    PULSE_RETURN_IF_ERROR(FromArrow(stream.status(), "cannot create " + temp_path.string()));
    stream_ = *stream;
    parquet::WriterProperties::Builder props;
    props.compression(Codec(settings_.compression));
    if (settings_.compression == ParquetCompression::kZstd) {
      props.compression_level(kZstdLevel);
    }
    props.max_row_group_length(static_cast<int64_t>(settings_.row_group_rows));
    auto arrow_props = parquet::ArrowWriterProperties::Builder().store_schema()->build();
    return Guarded("cannot start Parquet file " + temp_path.string(), [&] {
      auto writer = parquet::arrow::FileWriter::Open(
          *layout_.schema(), arrow::default_memory_pool(), stream_, props.build(), arrow_props);
      if (writer.ok()) writer_ = std::move(*writer);
      return writer.status();
    });
  }

  // Append one row; returns the bytes it counts for max_bytes.
  Result<uint64_t> Append(const Record& record) {
    return layout_.is_payload() ? AppendPayload(record) : AppendColumns(record);
  }

  // Write the buffered rows as one row group.
  Status WriteRowGroup(uint64_t rows) {
    arrow::ArrayVector arrays;
    for (auto& builder : builders_) {
      std::shared_ptr<arrow::Array> array;
      PULSE_RETURN_IF_ERROR(FromArrow(builder->Finish(&array), "cannot build a row group"));
      arrays.push_back(std::move(array));
    }
    std::shared_ptr<arrow::Table> table =
        arrow::Table::Make(layout_.schema(), std::move(arrays), static_cast<int64_t>(rows));
    return Guarded("cannot write a row group",
                   [&] { return writer_->WriteTable(*table, static_cast<int64_t>(rows)); });
  }

  Status Finish() {
    PULSE_RETURN_IF_ERROR(
        Guarded("cannot write the Parquet footer", [&] { return writer_->Close(); }));
    return FromArrow(stream_->Close(), "cannot close the Parquet file");
  }

  void Discard() {
    if (stream_ && !stream_->closed()) (void)stream_->Close();
  }

 private:
  Result<uint64_t> AppendPayload(const Record& record) {
    json_.clear();
    AppendJson(record.value, &json_);
    auto& time = static_cast<arrow::TimestampBuilder&>(*builders_[0]);
    auto& payload = static_cast<arrow::StringBuilder&>(*builders_[1]);
    PULSE_RETURN_IF_ERROR(FromArrow(time.Append(record.time), "cannot buffer a row"));
    PULSE_RETURN_IF_ERROR(FromArrow(payload.Append(json_), "cannot buffer a row"));
    return kFixedWidthBytes + json_.size();
  }

  Result<uint64_t> AppendColumns(const Record& record) {
    const std::vector<Column>& columns = layout_.columns();
    if (!record.value.is_object()) {
      return Status::InvalidArgument(
          fmt::format("schema = \"columns\": a record is {}, not an object with the fields of "
                      "the first record (use schema = \"payload\")",
                      ValueTypeName(record.value)));
    }
    // Check the whole record before touching the builders, so a bad record changes nothing.
    std::fill(slots_.begin(), slots_.end(), nullptr);
    for (const auto& [name, value] : record.value.as_object()) {
      size_t i = 0;
      while (i < columns.size() && columns[i].name != name) ++i;
      if (i == columns.size()) {
        return Status::InvalidArgument(fmt::format(
            "schema = \"columns\": a record has the field \"{}\", which the first record did "
            "not have (the columns are fixed by the first record; use schema = \"payload\" "
            "for records of varying shape)",
            name));
      }
      if (!value.is_null() && !Fits(value, columns[i].type)) {
        return Status::InvalidArgument(fmt::format(
            "schema = \"columns\": field \"{}\" is {} in a record, but its column is {} "
            "(set by the first record)",
            name, ValueTypeName(value), ColumnTypeName(columns[i].type)));
      }
      slots_[i] = &value;
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < columns.size(); ++i) {
      const Value* v = slots_[i];
      arrow::ArrayBuilder& builder = *builders_[i];
      arrow::Status st;
      if (v == nullptr || v->is_null()) {
        st = builder.AppendNull();
      } else {
        switch (columns[i].type) {
          case ColumnType::kTimestamp:
            st = static_cast<arrow::TimestampBuilder&>(builder).Append(v->as_int());
            bytes += kFixedWidthBytes;
            break;
          case ColumnType::kInt64:
            st = static_cast<arrow::Int64Builder&>(builder).Append(v->as_int());
            bytes += kFixedWidthBytes;
            break;
          case ColumnType::kDouble:
            st = static_cast<arrow::DoubleBuilder&>(builder).Append(
                v->is_int() ? static_cast<double>(v->as_int()) : v->as_double());
            bytes += kFixedWidthBytes;
            break;
          case ColumnType::kBool:
            st = static_cast<arrow::BooleanBuilder&>(builder).Append(v->as_bool());
            bytes += 1;
            break;
          case ColumnType::kString: {
            std::string_view text;
            if (v->is_string()) {
              text = v->as_string();
            } else {
              json_.clear();
              AppendJson(*v, &json_);
              text = json_;
            }
            st = static_cast<arrow::StringBuilder&>(builder).Append(text);
            bytes += text.size();
            break;
          }
        }
      }
      PULSE_RETURN_IF_ERROR(FromArrow(st, "cannot buffer a row"));
    }
    return bytes;
  }

  const RowLayout layout_;
  const FileSettings settings_;
  std::vector<std::unique_ptr<arrow::ArrayBuilder>> builders_;
  std::vector<const Value*> slots_;  // per column: the record's value, during AppendColumns
  std::string json_;                 // scratch JSON text
  std::shared_ptr<arrow::io::FileOutputStream> stream_;
  std::unique_ptr<parquet::arrow::FileWriter> writer_;
};

ParquetFile::ParquetFile(PrivateToken, Env& env, fs::path final_path, fs::path temp_path,
                         uint64_t row_group_rows, std::unique_ptr<Impl> impl)
    : env_(env),
      final_path_(std::move(final_path)),
      temp_path_(std::move(temp_path)),
      row_group_rows_(row_group_rows),
      impl_(std::move(impl)) {}

ParquetFile::~ParquetFile() {
  if (!done_) Abort();
}

Result<std::unique_ptr<ParquetFile>> ParquetFile::Create(Env& env, const fs::path& dir,
                                                         const std::string& name,
                                                         const RowLayout& layout,
                                                         const FileSettings& settings) {
  if (Status st = CreateDirs(env, dir.string()); !st.ok()) {
    return Status::IOError(fmt::format("cannot create folder {}: {}", dir.string(), st.message()));
  }
  fs::path temp_path = dir / TempFileName(name);
  // Created by the Env rather than by Arrow (which creates files 0666 before the umask), so
  // that the file is 0644 whatever the umask, like every file Pulse writes.
  Result<std::unique_ptr<WritableFile>> created =
      env.OpenWritable(temp_path.string(), WriteMode::kTruncate);
  Status opened = created.ok() ? (*created)->Close() : created.status();
  if (!opened.ok()) {
    (void)env.Remove(temp_path.string());
    return Status::IOError(
        fmt::format("cannot create {}: {}", temp_path.string(), opened.message()));
  }
  auto impl = std::make_unique<Impl>(layout, settings);
  opened = impl->Open(temp_path);
  if (!opened.ok()) {
    impl->Discard();
    (void)env.Remove(temp_path.string());
    return opened;
  }
  return std::make_unique<ParquetFile>(PrivateToken{}, env, dir / name, std::move(temp_path),
                                       settings.row_group_rows, std::move(impl));
}

Status ParquetFile::Append(const Record& record) {
  PULSE_ASSIGN_OR_RETURN(uint64_t bytes, impl_->Append(record));
  ++rows_;
  ++buffered_rows_;
  data_bytes_ += bytes;
  buffered_bytes_ += bytes;
  if (buffered_rows_ >= row_group_rows_ || buffered_bytes_ >= kMaxRowGroupBytes) {
    return WriteRowGroup();
  }
  return Status::OK();
}

Status ParquetFile::WriteRowGroup() {
  if (buffered_rows_ == 0) return Status::OK();
  Status st = impl_->WriteRowGroup(buffered_rows_);
  buffered_rows_ = 0;
  buffered_bytes_ = 0;
  return st;
}

Result<uint64_t> ParquetFile::Finish() {
  Status st = WriteRowGroup();
  if (st.ok()) st = impl_->Finish();
  uint64_t size = 0;
  if (st.ok()) {
    Result<FileInfo> info = env_.Stat(temp_path_.string());
    if (info.ok()) {
      size = info->size;
    } else {
      st = Status::IOError(
          fmt::format("cannot stat {}: {}", temp_path_.string(), info.status().message()));
    }
  }
  if (st.ok()) {
    // The data must be on disk before the name says the file is complete.
    if (Status synced = env_.SyncPath(temp_path_.string()); !synced.ok()) {
      st = Status::IOError(
          fmt::format("cannot sync {}: {}", temp_path_.string(), synced.message()));
    }
  }
  if (!st.ok()) {
    Abort();
    return st;
  }
  done_ = true;
  return size;
}

Result<uint64_t> ParquetFile::Commit() {
  PULSE_ASSIGN_OR_RETURN(uint64_t size, Finish());
  Status st = PublishFile(env_, temp_path_, final_path_);
  if (!st.ok()) {
    (void)env_.Remove(temp_path_.string());
    return st;
  }
  return size;
}

void ParquetFile::Abort() {
  if (done_) return;
  done_ = true;
  impl_->Discard();
  (void)env_.Remove(temp_path_.string());
}

}  // namespace pulse::io::internal
