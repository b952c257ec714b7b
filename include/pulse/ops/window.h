// SPDX-License-Identifier: MIT
// Keyed event-time windows (tumbling, sliding, session): one aggregation (AggSpec, the original
// form) or an ordered list of named aggregates (Aggregate) per window.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pulse/core/operator.h"
#include "pulse/core/status.h"
#include "pulse/core/time.h"
#include "pulse/state/state_backend.h"

namespace pulse::ops {

/// Which windows a record at event time ts belongs to.
struct WindowSpec {
  enum class Kind : uint8_t { kTumbling, kSliding, kSession };
  Kind kind = Kind::kTumbling;
  DurationMs size_ms = 0;   // tumbling and sliding
  DurationMs slide_ms = 0;  // sliding
  DurationMs gap_ms = 0;    // session

  /// [floor(ts/size)·size, +size).
  static WindowSpec Tumbling(DurationMs size_ms) { return {Kind::kTumbling, size_ms, 0, 0}; }
  /// Every [k·slide, k·slide + size) that contains ts.
  static WindowSpec Sliding(DurationMs size_ms, DurationMs slide_ms) {
    return {Kind::kSliding, size_ms, slide_ms, 0};
  }
  /// [ts, ts+gap), merged transitively with overlapping or touching sessions of the same key.
  static WindowSpec Session(DurationMs gap_ms) { return {Kind::kSession, 0, 0, gap_ms}; }

  /// Sizes, slides and gaps must be > 0 (and at most kMaxDurationMs); slide ≤ size.
  Status Validate() const;
  std::string Describe() const;
};

/// The aggregation computed per (window, key) in the original single-aggregation form
/// (`agg = "sum"`, `agg_field = "x"`). Its output is kept byte for byte as it always was; the
/// named aggregates below are the general form.
struct AggSpec {
  enum class Kind : uint8_t { kCount, kSum, kAvg, kDistinct, kMin, kMax };
  Kind kind = Kind::kCount;
  std::string field;  // the value field; required for everything but count

  static AggSpec Count() { return {Kind::kCount, {}}; }
  static AggSpec Sum(std::string f) { return {Kind::kSum, std::move(f)}; }
  static AggSpec Avg(std::string f) { return {Kind::kAvg, std::move(f)}; }
  static AggSpec Distinct(std::string f) { return {Kind::kDistinct, std::move(f)}; }
  static AggSpec Min(std::string f) { return {Kind::kMin, std::move(f)}; }
  static AggSpec Max(std::string f) { return {Kind::kMax, std::move(f)}; }

  /// The result field: count, sum, avg, distinct_count, min or max.
  std::string_view OutputName() const;
  Status Validate() const;
};

/// One named aggregate of a window: `name = "kind(field, parameter)"`, e.g.
/// `p99 = quantile(latency_s, 0.99)`. Its input is the top-level field `field` of each record
/// (an aggregate over an expression reads a computed field); a field that is missing or JSON
/// null is no input. Numbers are JSON numbers and strings that spell a decimal number ("12" is
/// the integer 12, "2.5" the double 2.5). Every aggregate merges (sessions) and checkpoints.
/// Results (docs/aggregates.md):
///
/// | kind | result |
/// |---|---|
/// | kCount | count(*) (empty field): the records; count(x): the records whose x is not null |
/// | kSum | integers: an integer (exact; a double only when the sum overflows int64); with any double: a double; null without numbers |
/// | kAvg | a double; null without numbers |
/// | kMin, kMax | the smallest / largest number as it came (an integer stays an integer; the first of equal ones); null without numbers |
/// | kDistinct | the number of distinct JSON values (exact; 1 and "1" differ) |
/// | kApproxDistinct | the same, estimated (HyperLogLog, 2^14 registers: relative standard error 0.81 %; exact up to 1024 distinct values) |
/// | kQuantile | the number at rank ⌈q·n⌉ (1-based; the smallest for q = 0) of the window's n numbers, as DuckDB's quantile_disc: exact up to 1024 numbers, then from a KLL sketch (rank error under 1 %); an integer when every number was one; null without numbers |
/// | kQuantiles | an array: kQuantile at each of `quantiles`, in their order |
/// | kFirst, kLast | the non-null value (any JSON type, as it came) with the smallest / largest event time; ties: the first / last in input order |
/// | kTopK | an array of at most k {"value": v, "count": c}, by count descending then by value (numbers before strings; docs); exact counts unless the window saw more than max(128, 4k)·2 distinct values |
/// | kStddev, kVariance | sample (n − 1) standard deviation / variance, a double; null below 2 numbers |
/// | kStddevPop, kVariancePop | population (n) standard deviation / variance; null without numbers |
struct Aggregate {
  enum class Kind : uint8_t {
    kCount,
    kSum,
    kAvg,
    kMin,
    kMax,
    kDistinct,
    kApproxDistinct,
    kQuantile,
    kQuantiles,
    kFirst,
    kLast,
    kTopK,
    kStddev,
    kStddevPop,
    kVariance,
    kVariancePop,
  };

  std::string name;   // the result member; unique, not window_start_ms, window_end_ms or key
  Kind kind = Kind::kCount;
  std::string field;  // the input field; empty only for count(*)
  /// kQuantile: exactly one q; kQuantiles: one or more; each in [0, 1].
  std::vector<double> quantiles;
  uint32_t k = 0;  // kTopK: the number of values reported, 1 to kMaxTopK

  static constexpr uint32_t kMaxTopK = 10000;

  /// count(*): the records of the window.
  static Aggregate Count(std::string name) { return {std::move(name), Kind::kCount, {}, {}, 0}; }
  /// An aggregate of `kind` over `field` that takes no parameter (not kQuantile, kQuantiles or
  /// kTopK; kCount over a field is count(x)).
  static Aggregate Of(std::string name, Kind kind, std::string field) {
    return {std::move(name), kind, std::move(field), {}, 0};
  }
  static Aggregate Quantile(std::string name, std::string field, double q) {
    return {std::move(name), Kind::kQuantile, std::move(field), {q}, 0};
  }
  static Aggregate Quantiles(std::string name, std::string field, std::vector<double> qs) {
    return {std::move(name), Kind::kQuantiles, std::move(field), std::move(qs), 0};
  }
  static Aggregate TopK(std::string name, std::string field, uint32_t k) {
    return {std::move(name), Kind::kTopK, std::move(field), {}, k};
  }

  /// The function name of `kind`: count, sum, avg, min, max, distinct, approx_distinct,
  /// quantile, quantiles, first, last, top_k, stddev, stddev_pop, variance, variance_pop.
  static std::string_view FunctionName(Kind kind);
  /// The kind whose FunctionName is `name` (exactly), if any.
  static std::optional<Kind> KindNamed(std::string_view name);

  /// The aggregate as written: `count(*)`, `sum(bytes)`, `quantile(latency_s, 0.99)`,
  /// `top_k(path, 5)` (for plans, descriptions and checkpoint fingerprints).
  std::string Describe() const;
  /// Errors: InvalidArgument "aggregate '<name>': <what>" (no field where one is needed, a q
  /// outside [0, 1], a k outside [1, kMaxTopK], an empty name, a parameter a kind does not take).
  Status Validate() const;
};

/// Opens the state backend of one worker's window operator (e.g. RocksDB in a directory per
/// worker) for ctx.key_groups.
using StateBackendFactory = std::function<Result<std::unique_ptr<state::StateBackend>>(
    const KeyedOperatorContext& ctx)>;

struct WindowOptions {
  WindowSpec window;
  /// The single aggregation of the original form; ignored when `aggregates` is not empty.
  AggSpec agg;
  /// The named aggregates, in output order. When not empty, each result carries these (and
  /// not `agg`): {"window_start_ms":s,"window_end_ms":e,"key":k,"<name 1>":v1,...}. Names are
  /// unique. Aggregates that need the same state share it (sum and avg of one field, the
  /// quantiles of one field, stddev and variance of one field).
  std::vector<Aggregate> aggregates;
  /// A window [s, e) emits once, when the watermark W ≥ e + allowed_lateness. Must be ≥ 0.
  DurationMs allowed_lateness_ms = 0;
  /// Where checkpoints of the open windows go (unset: an in-memory backend). Opened at the
  /// first snapshot or restore, each worker's backend mirrors its open windows: a snapshot
  /// writes only what changed since the previous one, then the backend writes its files.
  StateBackendFactory state_backend;
  /// Keep the open windows in `state_backend` (which must be set, e.g. RocksDB) instead of on
  /// the heap, so that they may exceed memory; checkpoints are then the backend's own
  /// snapshots. Tumbling and sliding: a write-back cache of `state_cache_bytes` in front of the
  /// backend, so one Get and one Put per (window, key) and cache round (the cache is written
  /// back when full, before a release and before a snapshot), a scan per released window.
  /// Sessions: a Get and a Put of the key's session list per record, plus its release-index
  /// entries (docs/checkpoints.md). Same output as on the heap.
  bool state_in_backend = false;
  /// With state_in_backend, the bytes of the tumbling/sliding write-back cache per worker.
  size_t state_cache_bytes = 16u << 20;

  /// Errors: InvalidArgument naming the option (window.size, ..., aggregate '<name>': ...).
  Status Validate() const;
  /// "count", "sum of 'x'" (the original form) or the aggregates as written, joined by ", "
  /// ("requests = count(*), p99 = quantile(latency_s, 0.99)").
  std::string DescribeAggregation() const;
};

/// The windowed aggregation operator. Each result is the object
/// {"window_start_ms":s,"window_end_ms":e,"key":k,<aggregation>} at event time e − 1, where
/// <aggregation> is each of options.aggregates under its name, in order (Aggregate), or, in the
/// original form, "<agg>":v: count and distinct_count are integers; sum, avg, min and max are
/// doubles (`3.0`, kept so for existing pipelines), or null when the window saw no numeric value
/// (numbers and numeric strings count; anything else is ignored); distinct counts distinct JSON
/// values (1 and "1" differ), ignoring missing and null.
/// The options are checked when the run makes the operator (KeyedOperatorFactory::Make calls
/// options.Validate()): a bad option fails the run with InvalidArgument naming it, before any
/// record is processed. Call options.Validate() first to learn it while building.
std::unique_ptr<KeyedOperatorFactory> WindowedAggregate(WindowOptions options);

}  // namespace pulse::ops
