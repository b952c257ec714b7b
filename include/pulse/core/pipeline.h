// SPDX-License-Identifier: MIT
// Pipeline: the declaration of a job, source → operators → [key by → keyed operator →
// operators] → sink, built with a fluent API and run by pulse::Run (executor.h).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pulse/core/bad_record.h"
#include "pulse/core/connector.h"
#include "pulse/core/operator.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"

namespace pulse {

/// How the pipeline's watermark W advances.
struct WatermarkOptions {
  /// nullopt (the default, as in the original Pulse): no watermark until the input ends.
  /// A bound B: after each record, W = max(W, ts − B).
  /// Either way the end of a finite input raises W past every window.
  std::optional<DurationMs> max_out_of_orderness;
};

/// Extracts the key of a record for the keyed operator.
using KeySelector = std::function<Value(const Record&)>;

/// A job description. Movable, not copyable. Build it, then pass it to Run() once.
///
///   Pipeline p;
///   p.From(io::FileSource(...))
///    .KeyBy("word")
///    .Apply(ops::WindowedAggregate(ops::WindowSpec::Tumbling(60'000), ops::AggSpec::Count()))
///    .To(io::FileSink(...));
class Pipeline {
 public:
  Pipeline() = default;
  Pipeline(Pipeline&&) = default;
  Pipeline& operator=(Pipeline&&) = default;

  Pipeline& From(std::unique_ptr<Source> source);
  /// Add a stateless operator: before KeyBy it sees source records, after the keyed operator it
  /// sees results.
  Pipeline& Apply(std::unique_ptr<Operator> op);
  /// Key records by a top-level field (missing → null).
  Pipeline& KeyBy(std::string field);
  /// Key records by any function of the record. `fields` lists the top-level fields it reads
  /// (empty: all), so that sources can skip the rest.
  Pipeline& KeyBy(KeySelector selector, std::vector<std::string> fields = {});
  /// Add the keyed operator. Requires: a KeyBy before it; at most one per pipeline.
  Pipeline& Apply(std::unique_ptr<KeyedOperatorFactory> op);
  Pipeline& To(std::unique_ptr<Sink> sink);

  Pipeline& Watermarks(WatermarkOptions options);
  /// Let the watermark follow processing time while the input is idle, as Flink's
  /// `withIdleness`: once no record has arrived for `timeout` (> 0) of processing time (the
  /// run's clock), W = max(W, E + (now − a)), where a is when the last record arrived (or when
  /// reading began) and E the watermark the records gave (largest event time − B; a resumed
  /// run's checkpoint watermark before its first record). So the windows of the last burst
  /// close while the input pauses. Requires WatermarkOptions::max_out_of_orderness. The one
  /// processing-time-driven choice of a pipeline: its output then depends on when records
  /// arrive, not only on what they are. A source that GeneratesWatermarks applies it itself
  /// (SourceContext::idle_timeout), once it is caught up. Meant for unbounded inputs; unset (the
  /// default): W moves only with records.
  Pipeline& Idleness(DurationMs timeout);
  Pipeline& BadRecords(BadRecordHandler::Options options);
  /// Write records that are late for all of their windows as JSON lines to `path`.
  Pipeline& LateOutput(std::string path);

  /// Check the shape: a source, a sink, KeyBy iff a keyed operator. Errors: InvalidArgument.
  Status Validate() const;

  /// A readable plan, one stage per line.
  std::string Describe() const;

  // Accessors for the executor.
  struct Parts {
    std::unique_ptr<Source> source;
    std::vector<std::unique_ptr<Operator>> before_key;
    std::optional<std::string> key_field;
    KeySelector key_selector;
    std::vector<std::string> key_selector_fields;
    std::unique_ptr<KeyedOperatorFactory> keyed;
    std::vector<std::unique_ptr<Operator>> after_key;
    std::unique_ptr<Sink> sink;
    WatermarkOptions watermarks;
    std::optional<DurationMs> idle_timeout;  // Idleness()
    BadRecordHandler::Options bad_records;
    std::string late_output_path;
    Status build_error;  // first misuse of the builder, reported by Validate
  };
  Parts& parts() { return parts_; }
  const Parts& parts() const { return parts_; }

 private:
  Parts parts_;
};

}  // namespace pulse
