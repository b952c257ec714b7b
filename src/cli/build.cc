// SPDX-License-Identifier: MIT
// From a checked PipelineConfig to a Pipeline (source → key by → window → sink), and the plan
// that `pulse validate` prints.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cli/config.h"
#include "cli/connectors.h"
#include "pulse/expr/expr.h"
#include "pulse/ops/window.h"
#include "pulse/plan/plan.h"

namespace pulse::cli {
namespace {

Status ErrorAt(const PipelineConfig& c, int line, std::string_view message) {
  if (line <= 0) return Status::InvalidArgument(fmt::format("{}: {}", c.name, message));
  return Status::InvalidArgument(fmt::format("{}:{}: {}", c.name, line, message));
}

ops::WindowSpec MakeWindowSpec(const WindowConfig& w) {
  switch (w.type.value) {
    case ops::WindowSpec::Kind::kSliding:
      return ops::WindowSpec::Sliding(w.size.value, w.slide.value);
    case ops::WindowSpec::Kind::kSession:
      return ops::WindowSpec::Session(w.gap.value);
    case ops::WindowSpec::Kind::kTumbling:
      break;
  }
  return ops::WindowSpec::Tumbling(w.size.value);
}

ops::AggSpec MakeAggSpec(const OpsConfig& o) {
  return ops::AggSpec{o.agg.value, o.agg.value == ops::AggSpec::Kind::kCount
                                       ? std::string()
                                       : o.agg_field.value};
}

std::string Quoted(std::string_view s) { return fmt::format("\"{}\"", s); }

// A field name as an expression names it whatever it holds: "a.b" is the field "a.b".
std::string QuotedName(std::string_view name) {
  std::string out = "\"";
  for (char ch : name) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

ConnectorBuildContext BuildContext(const PipelineConfig& c) {
  ConnectorBuildContext context;
  context.allowed_lateness_ms = c.time.allowed_lateness.value;
  context.checkpoints = !c.checkpoint.dir.value.empty();
  context.checkpoint_interval_ms = c.checkpoint.interval.value;
  return context;
}

// The plan lines of a connector: the first labelled, the others continuing it.
void DescribeConnector(const ConnectorConfig& c, std::string_view label,
                       const std::function<void(std::string_view, const std::string&)>& line) {
  const ConnectorDeclaration* d = c.declaration();
  if (d == nullptr || d->describe == nullptr) return;
  std::string_view shown = label;
  for (const std::string& text : d->describe(c)) {
    line(shown, text);
    shown = "";
  }
}

Result<ops::WindowOptions> MakeWindowOptions(const PipelineConfig& c) {
  ops::WindowOptions window;
  window.window = MakeWindowSpec(c.window);
  window.agg = MakeAggSpec(c.ops);
  window.allowed_lateness_ms = c.time.allowed_lateness.value;
  if (Status st = window.Validate(); !st.ok()) return ErrorAt(c, c.window.line, st.message());
  // With RocksDB, the open windows (tumbling, sliding and sessions) live in it, so that they
  // may exceed memory.
  if (c.state.backend.value == StateBackendKind::kRocksDb) {
    const std::string base = c.state.path.value.empty()
                                 ? c.checkpoint.dir.value + "/rocksdb-work"
                                 : c.state.path.value;
    const size_t memory_bytes = static_cast<size_t>(c.state.memory_mb.value) << 20;
    std::optional<ops::StateBackendFactory> backend = RocksDbStateBackend(base, memory_bytes);
    if (!backend.has_value()) {
      return ErrorAt(c, c.state.backend.line,
                     "state.backend = \"rocksdb\": this Pulse was built without RocksDB "
                     "(configure with -DPULSE_WITH_ROCKSDB=ON); use \"memory\"");
    }
    if (c.state.path.value.empty() && c.checkpoint.dir.value.empty()) {
      return ErrorAt(c, c.state.backend.line,
                     "state.backend = \"rocksdb\" needs a working directory: set state.path "
                     "(or [checkpoint] dir, whose rocksdb-work/ subdirectory is then used)");
    }
    window.state_in_backend = true;
    // A quarter each: the windows' write-back cache, RocksDB's block cache and its two
    // memtables.
    window.state_cache_bytes = memory_bytes / 4;
    window.state_backend = std::move(*backend);
  }
  return window;
}

}  // namespace

std::string_view WindowKindName(ops::WindowSpec::Kind kind) {
  switch (kind) {
    case ops::WindowSpec::Kind::kSliding:
      return "sliding";
    case ops::WindowSpec::Kind::kSession:
      return "session";
    case ops::WindowSpec::Kind::kTumbling:
      break;
  }
  return "tumbling";
}

std::string_view AggKindName(ops::AggSpec::Kind kind) {
  switch (kind) {
    case ops::AggSpec::Kind::kSum:
      return "sum";
    case ops::AggSpec::Kind::kAvg:
      return "avg";
    case ops::AggSpec::Kind::kDistinct:
      return "distinct";
    case ops::AggSpec::Kind::kMin:
      return "min";
    case ops::AggSpec::Kind::kMax:
      return "max";
    case ops::AggSpec::Kind::kCount:
      break;
  }
  return "count";
}

OnError SourceOnError(const PipelineConfig& c) {
  return c.source.String("on_error") == "fail" ? OnError::kFail : OnError::kSkip;
}

std::string UnboundedSource(const PipelineConfig& c) {
  const ConnectorDeclaration* d = c.source.declaration();
  return d != nullptr && d->unbounded != nullptr ? d->unbounded(c.source) : std::string();
}

std::vector<std::string> TimeWarnings(const PipelineConfig& c, bool unbounded) {
  std::vector<std::string> warnings;
  const TimeConfig& time = c.time;
  if (unbounded && !time.max_out_of_orderness.value) {
    std::string why = UnboundedSource(c);
    if (why.empty()) why = "its input does not end by itself";
    warnings.push_back(fmt::format(
        "{}:{}: the source is unbounded ({}) and time.max_out_of_orderness is not set, so no "
        "window closes before its input ends or the run is stopped with --drain; set "
        "time.max_out_of_orderness (and time.idle_timeout for pauses)",
        c.name, c.source.line(), why));
  }
  if (!unbounded && time.idle_timeout.is_set()) {
    warnings.push_back(fmt::format(
        "{}:{}: time.idle_timeout has no effect: the source's input ends by itself (idleness is "
        "for follow = true, standard input from a pipe or terminal, and Kafka without stop_at)",
        c.name, time.idle_timeout.line));
  }
  return warnings;
}

namespace {

plan::LogicalPlan LogicalPlanWith(const PipelineConfig& c, ops::WindowOptions window) {
  const OpsConfig& o = c.ops;
  plan::LogicalPlan p;
  p.Window(std::move(window));
  if (o.where) p.Where(*o.where);
  for (const auto& f : o.fields) p.Field(f.name, f.source);
  if (!o.plan_form()) {
    // The original form: one key field, one aggregation, the original output.
    const std::string key = o.count_by.value;
    p.Key(key, expr::Field(QuotedName(key)));
    const ops::AggSpec agg = MakeAggSpec(o);
    std::vector<expr::Expr> args;
    if (agg.kind == ops::AggSpec::Kind::kCount) {
      args.push_back(expr::Star());
    } else {
      args.push_back(expr::Field(QuotedName(agg.field)));
    }
    p.Aggregate(std::string(agg.OutputName()),
                expr::Call(std::string(AggKindName(agg.kind)), std::move(args)));
    p.OriginalOutput();
    return p;
  }
  for (const plan::ExprSource& k : o.key) p.Key(k);
  for (const auto& a : o.aggregates) p.Aggregate(a.name, a.source);
  if (o.having) p.Having(*o.having);
  return p;
}

Result<plan::CompiledPlan> CompilePlan(const PipelineConfig& c, const plan::LogicalPlan& p) {
  Result<plan::CompiledPlan> compiled = plan::CompiledPlan::Make(p);
  if (compiled.ok()) return compiled;
  // Expression errors already name the file, line and column; others get the [ops] line.
  const std::string& message = compiled.status().message();
  if (message.rfind(c.name + ":", 0) == 0) return compiled.status();
  return ErrorAt(c, c.ops.line, "ops: " + message);
}

}  // namespace

Result<plan::LogicalPlan> MakeLogicalPlan(const PipelineConfig& c) {
  PULSE_ASSIGN_OR_RETURN(ops::WindowOptions window, MakeWindowOptions(c));
  return LogicalPlanWith(c, std::move(window));
}

Result<plan::CompiledPlan> MakeCompiledPlan(const PipelineConfig& c) {
  PULSE_ASSIGN_OR_RETURN(plan::LogicalPlan p, MakeLogicalPlan(c));
  return CompilePlan(c, p);
}

Status CheckExpressions(const PipelineConfig& c) {
  ops::WindowOptions window;
  window.window = MakeWindowSpec(c.window);
  window.allowed_lateness_ms = c.time.allowed_lateness.value;
  return CompilePlan(c, LogicalPlanWith(c, std::move(window))).status();
}

namespace {

// The stages of `config` between `source` and `sink`, with its plan's field check.
Result<BuiltPipeline> Assemble(const PipelineConfig& c, std::unique_ptr<Source> source,
                               std::unique_ptr<Sink> sink, std::string dead_letter_path) {
  PULSE_ASSIGN_OR_RETURN(plan::CompiledPlan compiled, MakeCompiledPlan(c));
  BuiltPipeline built;
  Pipeline& pipeline = built.pipeline;
  // Idleness only for an input that pauses rather than ends (TimeWarnings says so otherwise).
  const bool idle = c.time.idle_timeout.value && source->Unbounded();
  pipeline.From(std::move(source));
  if (Status st = compiled.AddTo(pipeline); !st.ok()) return ErrorAt(c, c.ops.line, st.message());
  pipeline.To(std::move(sink));
  pipeline.Watermarks(WatermarkOptions{c.time.max_out_of_orderness.value});
  if (idle) pipeline.Idleness(*c.time.idle_timeout.value);
  pipeline.BadRecords(BadRecordHandler::Options{SourceOnError(c), std::move(dead_letter_path)});
  if (Status st = pipeline.Validate(); !st.ok()) return ErrorAt(c, 0, st.message());
  built.field_check = compiled.field_check();
  return built;
}

}  // namespace

Result<BuiltPipeline> BuildRun(const PipelineConfig& c) {
  const ConnectorBuildContext context = BuildContext(c);
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<Source> source,
                         Connectors().MakeSource(c.source, context));
  PULSE_RETURN_IF_ERROR(MakeWindowOptions(c).status());
  PULSE_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, Connectors().MakeSink(c.sink, context));
  PULSE_ASSIGN_OR_RETURN(BuiltPipeline built, Assemble(c, std::move(source), std::move(sink),
                                                       c.dead_letter.path.value));
  if (!c.late_output.path.value.empty()) built.pipeline.LateOutput(c.late_output.path.value);
  return built;
}

Result<Pipeline> BuildPipeline(const PipelineConfig& c) {
  PULSE_ASSIGN_OR_RETURN(BuiltPipeline built, BuildRun(c));
  return Result<Pipeline>(std::move(built.pipeline));
}

Result<Pipeline> BuildPipelineWith(const PipelineConfig& c, std::unique_ptr<Source> source,
                                   std::unique_ptr<Sink> sink) {
  PULSE_ASSIGN_OR_RETURN(BuiltPipeline built,
                         Assemble(c, std::move(source), std::move(sink), ""));
  return Result<Pipeline>(std::move(built.pipeline));
}

CheckpointOptions MakeCheckpointOptions(const PipelineConfig& c) {
  CheckpointOptions options;
  options.dir = c.checkpoint.dir.value;
  options.interval_ms = c.checkpoint.interval.value;
  options.keep = static_cast<uint32_t>(c.checkpoint.keep.value);
  auto fingerprint = [](const ConnectorConfig& connector) {
    const ConnectorDeclaration* d = connector.declaration();
    return d != nullptr && d->fingerprint != nullptr ? d->fingerprint(connector) : std::string();
  };
  auto& parts = options.fingerprint;
  parts.emplace_back("source", fingerprint(c.source));
  parts.emplace_back("time field", c.source.String("time_field"));
  const OpsConfig& o = c.ops;
  if (o.plan_form()) {
    std::vector<std::string> keys;
    for (const plan::ExprSource& k : o.key) keys.push_back(k.text);
    parts.emplace_back("key", fmt::format("[{}]", fmt::join(keys, ", ")));
  } else {
    parts.emplace_back("key", o.count_by.value);
  }
  // The original form's parts are as they always were, so that its checkpoints resume.
  if (o.where) parts.emplace_back("where", o.where->text);
  for (const auto& f : o.fields) parts.emplace_back("field " + f.name, f.source.text);
  parts.emplace_back("window", MakeWindowSpec(c.window).Describe());
  if (o.plan_form()) {
    std::vector<std::string> aggregates;
    for (const auto& a : o.aggregates) aggregates.push_back(a.name + " = " + a.source.text);
    parts.emplace_back("aggregation", fmt::format("{}", fmt::join(aggregates, ", ")));
    if (o.having) parts.emplace_back("having", o.having->text);
  } else {
    const ops::AggSpec agg = MakeAggSpec(o);
    parts.emplace_back("aggregation",
                       agg.kind == ops::AggSpec::Kind::kCount
                           ? std::string("count")
                           : fmt::format("{} of {}", AggKindName(agg.kind), agg.field));
  }
  parts.emplace_back("allowed lateness", FormatDuration(c.time.allowed_lateness.value));
  parts.emplace_back("max out of orderness",
                     c.time.max_out_of_orderness.value
                         ? FormatDuration(*c.time.max_out_of_orderness.value)
                         : std::string("none"));
  parts.emplace_back("sink", fingerprint(c.sink));
  parts.emplace_back("dead letter", c.dead_letter.path.value);
  parts.emplace_back("late output", c.late_output.path.value);
  // The backends store fixed windows in different layouts.
  parts.emplace_back("state backend",
                     c.state.backend.value == StateBackendKind::kRocksDb ? "rocksdb" : "memory");
  return options;
}

std::string DescribePlan(const PipelineConfig& c) {
  std::string out;
  auto line = [&out](std::string_view label, const std::string& text) {
    out += fmt::format("{:<13}{}\n", label, text);
  };

  DescribeConnector(c.source, "source:", line);
  line("bad input:", SourceOnError(c) == OnError::kFail
                         ? std::string("fail the run on the first bad record")
                         : std::string("skip and count"));

  const ConnectorDeclaration* source = c.source.declaration();
  std::string watermarks;
  if (source != nullptr && source->describe_watermarks != nullptr) {
    watermarks = source->describe_watermarks(c.source, c.time.max_out_of_orderness.value);
  }
  if (!watermarks.empty()) {
    line("watermark:", watermarks);
  } else if (c.time.max_out_of_orderness.value) {
    line("watermark:", fmt::format("after each record, W = max(W, event time - {}); the end of "
                                   "input flushes every window",
                                   FormatDuration(*c.time.max_out_of_orderness.value)));
  } else {
    line("watermark:", "none until the end of input, which flushes every window");
  }
  const std::string unbounded = UnboundedSource(c);
  if (!unbounded.empty()) {
    if (c.time.idle_timeout.value) {
      const std::string idle = FormatDuration(*c.time.idle_timeout.value);
      line("idle:", fmt::format("after {} without a record, W = largest event time - {} + the "
                                "time since the last record (processing time)",
                                idle, FormatDuration(c.time.max_out_of_orderness.value.value_or(0))));
    } else {
      line("idle:", "none: while the input pauses, W waits for the next record");
    }
    line("stop:", fmt::format("unbounded input ({}): Ctrl-C/SIGTERM stop the run (--drain "
                              "closes every window first)",
                              unbounded));
  }

  const OpsConfig& o = c.ops;
  if (!o.plan_form() && !o.where && o.fields.empty()) {
    // The original form, described as the original Pulse did.
    line("window:", MakeWindowSpec(c.window).Describe());
    line("key:", "field " + Quoted(o.count_by.value));
    ops::AggSpec agg = MakeAggSpec(o);
    if (agg.kind == ops::AggSpec::Kind::kCount) {
      line("aggregation:", "count");
    } else {
      line("aggregation:",
           fmt::format("{} of field {}", AggKindName(agg.kind), Quoted(agg.field)));
    }
  } else if (Result<plan::CompiledPlan> compiled = MakeCompiledPlan(c); compiled.ok()) {
    for (const plan::CompiledPlan::Line& l : compiled->Lines()) {
      if (l.label != "output:") line(l.label, l.text);
    }
  }
  std::string lateness = FormatDuration(c.time.allowed_lateness.value);
  line("lateness:", fmt::format("{} (a window [s, e) is emitted when the watermark reaches e + {})",
                                lateness, lateness));
  if (o.plan_form() || o.where || !o.fields.empty()) {
    if (Result<plan::CompiledPlan> compiled = MakeCompiledPlan(c); compiled.ok()) {
      line("output:", fmt::format("one JSON line per window and key: {}",
                                  fmt::join(compiled->OutputColumns(), ", ")));
    }
  }

  DescribeConnector(c.sink, "sink:", line);
  line("dead letter:", c.dead_letter.path.value.empty()
                           ? std::string("none (bad records are only counted)")
                           : Quoted(c.dead_letter.path.value));
  line("late output:", c.late_output.path.value.empty()
                           ? std::string("none (late records are only counted)")
                           : Quoted(c.late_output.path.value));
  if (!c.checkpoint.dir.value.empty()) {
    line("checkpoints:",
         fmt::format("every {} in {} (keep {}), state in {}; a rerun resumes",
                     FormatDuration(c.checkpoint.interval.value), Quoted(c.checkpoint.dir.value),
                     c.checkpoint.keep.value,
                     c.state.backend.value == StateBackendKind::kRocksDb ? "rocksdb" : "memory"));
  } else {
    line("checkpoints:", "none (set [checkpoint] dir to survive crashes)");
  }
  return out;
}

}  // namespace pulse::cli
