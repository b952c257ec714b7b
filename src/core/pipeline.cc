// SPDX-License-Identifier: MIT
// Pipeline builder: records the stages and reports misuse through Validate().
#include "pulse/core/pipeline.h"

namespace pulse {
namespace {
void SetErrorOnce(Status* slot, const char* message) {
  if (slot->ok()) *slot = Status::InvalidArgument(message);
}
}  // namespace

Pipeline& Pipeline::From(std::unique_ptr<Source> source) {
  if (parts_.source) SetErrorOnce(&parts_.build_error, "pipeline has more than one source");
  parts_.source = std::move(source);
  return *this;
}

Pipeline& Pipeline::Apply(std::unique_ptr<Operator> op) {
  if (!op) {
    SetErrorOnce(&parts_.build_error, "null operator");
    return *this;
  }
  if (parts_.keyed) {
    parts_.after_key.push_back(std::move(op));
  } else if (parts_.key_field || parts_.key_selector) {
    SetErrorOnce(&parts_.build_error, "an operator between KeyBy and the keyed operator");
  } else {
    parts_.before_key.push_back(std::move(op));
  }
  return *this;
}

Pipeline& Pipeline::KeyBy(std::string field) {
  if (parts_.key_field || parts_.key_selector) {
    SetErrorOnce(&parts_.build_error, "pipeline has more than one KeyBy");
  }
  parts_.key_field = std::move(field);
  return *this;
}

Pipeline& Pipeline::KeyBy(KeySelector selector, std::vector<std::string> fields) {
  if (parts_.key_field || parts_.key_selector) {
    SetErrorOnce(&parts_.build_error, "pipeline has more than one KeyBy");
  }
  parts_.key_selector = std::move(selector);
  parts_.key_selector_fields = std::move(fields);
  return *this;
}

Pipeline& Pipeline::Apply(std::unique_ptr<KeyedOperatorFactory> op) {
  if (!op) {
    SetErrorOnce(&parts_.build_error, "null keyed operator");
  } else if (parts_.keyed) {
    SetErrorOnce(&parts_.build_error, "pipeline has more than one keyed operator");
  } else if (!parts_.key_field && !parts_.key_selector) {
    SetErrorOnce(&parts_.build_error, "a keyed operator needs a KeyBy before it");
  }
  parts_.keyed = std::move(op);
  return *this;
}

Pipeline& Pipeline::To(std::unique_ptr<Sink> sink) {
  if (parts_.sink) SetErrorOnce(&parts_.build_error, "pipeline has more than one sink");
  parts_.sink = std::move(sink);
  return *this;
}

Pipeline& Pipeline::Watermarks(WatermarkOptions options) {
  parts_.watermarks = options;
  return *this;
}

Pipeline& Pipeline::BadRecords(BadRecordHandler::Options options) {
  parts_.bad_records = std::move(options);
  return *this;
}

Pipeline& Pipeline::LateOutput(std::string path) {
  parts_.late_output_path = std::move(path);
  return *this;
}

Pipeline& Pipeline::Idleness(DurationMs timeout) {
  parts_.idle_timeout = timeout;
  return *this;
}

Status Pipeline::Validate() const {
  PULSE_RETURN_IF_ERROR(parts_.build_error);
  if (!parts_.source) return Status::InvalidArgument("pipeline has no source");
  if (!parts_.sink) return Status::InvalidArgument("pipeline has no sink");
  if ((parts_.key_field || parts_.key_selector) && !parts_.keyed) {
    return Status::InvalidArgument("KeyBy without a keyed operator after it");
  }
  if (parts_.keyed) PULSE_RETURN_IF_ERROR(parts_.keyed->Validate());
  if (parts_.watermarks.max_out_of_orderness &&
      (*parts_.watermarks.max_out_of_orderness < 0 ||
       *parts_.watermarks.max_out_of_orderness > kMaxDurationMs)) {
    return Status::InvalidArgument("max_out_of_orderness must be between 0 and 100 years");
  }
  if (parts_.idle_timeout) {
    if (*parts_.idle_timeout <= 0 || *parts_.idle_timeout > kMaxDurationMs) {
      return Status::InvalidArgument("idle_timeout must be greater than 0 and at most 100 years");
    }
    if (!parts_.watermarks.max_out_of_orderness) {
      return Status::InvalidArgument(
          "idle_timeout needs max_out_of_orderness (the idle watermark continues from the "
          "largest event time minus it)");
    }
  }
  return Status::OK();
}

std::string Pipeline::Describe() const {
  std::string out;
  auto line = [&out](const std::string& s) {
    out += s;
    out += '\n';
  };
  line("source:     " + (parts_.source ? parts_.source->Describe() : std::string("(none)")));
  if (parts_.watermarks.max_out_of_orderness) {
    line("watermark:  after each record, W = max(W, event time - " +
         FormatDuration(*parts_.watermarks.max_out_of_orderness) + "); end of input flushes all");
  } else {
    line("watermark:  none until the end of input, which flushes all windows");
  }
  for (const auto& op : parts_.before_key) line("operator:   " + op->name());
  if (parts_.key_field) line("key by:     field '" + *parts_.key_field + "'");
  if (parts_.key_selector) line("key by:     function");
  if (parts_.keyed) line("keyed:      " + parts_.keyed->Describe());
  for (const auto& op : parts_.after_key) line("operator:   " + op->name());
  line("sink:       " + (parts_.sink ? parts_.sink->Describe() : std::string("(none)")));
  line(std::string("bad input:  ") +
       (parts_.bad_records.on_error == OnError::kFail ? "fail on the first" : "skip and count") +
       (parts_.bad_records.dead_letter_path.empty()
            ? std::string()
            : ", dead letters to '" + parts_.bad_records.dead_letter_path + "'"));
  if (!parts_.late_output_path.empty()) line("late:       to '" + parts_.late_output_path + "'");
  return out;
}

}  // namespace pulse
