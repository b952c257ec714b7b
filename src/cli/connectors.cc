// SPDX-License-Identifier: MIT
// The registration file: which connectors and optional parts this `pulse` has. Adding a
// connector is one line here (its declaration and factory live in its own folder); this is the
// only place that tests PULSE_HAVE_*.
#include "cli/connectors.h"

#include <fmt/format.h>

#include <utility>

#include "pulse/config.h"
#include "pulse/io/file.h"
#include "pulse/io/kafka.h"
#include "pulse/io/parquet.h"
#if PULSE_HAVE_ROCKSDB
#include "pulse/state/rocksdb_backend.h"
#endif

namespace pulse::cli {
namespace {

// The error of a kind whose connector is not built in: `feature` names it ("Kafka") and
// `option` the CMake option that adds it.
Status NotBuilt(const ConnectorConfig& config, std::string_view feature,
                std::string_view option) {
  return config.ErrorAt(config.kind_line(),
                        fmt::format("{}.kind = \"{}\": this pulse was built without {} support "
                                    "({}=OFF); rebuild with it ON or use kind = \"file\"",
                                    ConnectorRoleName(config.role()), config.kind(), feature,
                                    option));
}

[[maybe_unused]] SourceFactory NotBuiltSource(std::string_view feature, std::string_view option) {
  return [feature, option](const ConnectorConfig& config,
                           const ConnectorBuildContext&) -> Result<std::unique_ptr<Source>> {
    return NotBuilt(config, feature, option);
  };
}

[[maybe_unused]] SinkFactory NotBuiltSink(std::string_view feature, std::string_view option) {
  return [feature, option](const ConnectorConfig& config,
                           const ConnectorBuildContext&) -> Result<std::unique_ptr<Sink>> {
    return NotBuilt(config, feature, option);
  };
}

ConnectorRegistry MakeRegistry() {
  ConnectorRegistry r;
  // Sources, in the order messages list them.
  r.AddSource(io::FileSourceDeclaration(), io::MakeFileSource);
#if PULSE_HAVE_KAFKA
  r.AddSource(io::KafkaSourceDeclaration(), io::MakeKafkaSource);
#else
  r.AddSource(io::KafkaSourceDeclaration(), NotBuiltSource("Kafka", "PULSE_WITH_KAFKA"));
#endif
  // Sinks.
  r.AddSink(io::FileSinkDeclaration(), io::MakeFileSink);
#if PULSE_HAVE_PARQUET
  r.AddSink(io::ParquetSinkDeclaration(), io::MakeParquetSink);
#else
  r.AddSink(io::ParquetSinkDeclaration(), NotBuiltSink("Parquet", "PULSE_WITH_PARQUET"));
#endif
#if PULSE_HAVE_KAFKA
  r.AddSink(io::KafkaSinkDeclaration(), io::MakeKafkaSink);
#else
  r.AddSink(io::KafkaSinkDeclaration(), NotBuiltSink("Kafka", "PULSE_WITH_KAFKA"));
#endif
  return r;
}

}  // namespace

const ConnectorRegistry& Connectors() {
  static const ConnectorRegistry registry = MakeRegistry();
  return registry;
}

std::optional<ops::StateBackendFactory> RocksDbStateBackend(std::string base_dir,
                                                            size_t memory_bytes) {
#if PULSE_HAVE_ROCKSDB
  return ops::StateBackendFactory(
      [base = std::move(base_dir), memory_bytes](const KeyedOperatorContext& ctx) {
        state::RocksDbBackendOptions options;
        options.path = fmt::format("{}/worker-{}", base, ctx.worker);
        options.key_groups = ctx.key_groups;
        // A quarter each for the block cache and the two memtables (the windows' write-back
        // cache takes another quarter).
        options.block_cache_bytes = memory_bytes / 4;
        options.write_buffer_bytes = memory_bytes / 4;
        return state::OpenRocksDbBackend(std::move(options));
      });
#else
  (void)base_dir;
  (void)memory_bytes;
  return std::nullopt;
#endif
}

}  // namespace pulse::cli
