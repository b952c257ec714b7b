// SPDX-License-Identifier: MIT
// Tests for what comes from the key declarations: the registration of the connectors, the
// configuration reference in docs/configuration.md, and the defaults the reference shows.
#include "cli/reference.h"

#include <gtest/gtest.h>

#include <string>

#include "cli/config.h"
#include "cli/connectors.h"
#include "testing/test_util.h"

namespace pulse::cli {
namespace {

TEST(ConnectorsTest, RegistrationIsValid) {
  EXPECT_OK(Connectors().Validate());
  EXPECT_EQ(Connectors().Kinds(ConnectorRole::kSource),
            (std::vector<std::string_view>{"file", "kafka"}));
  EXPECT_EQ(Connectors().Kinds(ConnectorRole::kSink),
            (std::vector<std::string_view>{"file", "parquet", "kafka"}));
}

// docs/configuration.md is generated; this fails when a declaration changed and the page was
// not regenerated.
TEST(ConfigReferenceTest, DocsPageIsUpToDate) {
  const std::string path = std::string(PULSE_SOURCE_DIR) + "/docs/configuration.md";
  const std::string page = testing::ReadFile(path);
  EXPECT_TRUE(page == ConfigReference())
      << path << " is out of date: run `build/release/bin/pulse config-reference > "
      << "docs/configuration.md` and commit it";
}

const ConfigKey& KeyOf(std::string_view table, std::string_view name) {
  for (const ConfigTable& t : ConfigTables()) {
    if (t.name != table) continue;
    for (const ConfigKey& key : t.keys) {
      if (key.name == name) return key;
    }
  }
  ADD_FAILURE() << table << "." << name << " is not declared";
  static const ConfigKey kNone;
  return kNone;
}

// The CLI's own tables are read into typed structs whose defaults are written in config.h; the
// reference shows the declared ones. They must agree.
TEST(ConfigReferenceTest, DeclaredDefaultsAreTheLoadedOnes) {
  ASSERT_OK_AND_ASSIGN(PipelineConfig c, LoadConfigString(R"([source]
kind = "file"
path = "in.jsonl"
[time]
[window]
type = "tumbling"
size = "1m"
[ops]
count_by = "k"
[sink]
kind = "file"
[state]
[checkpoint]
)",
                                                          "p.toml"));
  EXPECT_EQ(c.time.allowed_lateness.value, KeyOf("time", "allowed_lateness").default_number);
  EXPECT_EQ(KeyOf("ops", "agg").default_text, AggKindName(c.ops.agg.value));
  EXPECT_EQ(KeyOf("state", "backend").default_text, "memory");
  EXPECT_EQ(c.state.backend.value, StateBackendKind::kMemory);
  EXPECT_EQ(c.state.memory_mb.value, KeyOf("state", "memory_mb").default_number);
  EXPECT_EQ(KeyOf("state", "memory_mb").min, kMinStateMemoryMb);
  EXPECT_EQ(KeyOf("state", "memory_mb").max, kMaxStateMemoryMb);
  EXPECT_EQ(c.checkpoint.interval.value, KeyOf("checkpoint", "interval").default_number);
  EXPECT_EQ(c.checkpoint.keep.value, KeyOf("checkpoint", "keep").default_number);
}

// Each table the loader accepts is in the reference, in the order of the allowed-tables message.
TEST(ConfigReferenceTest, EveryTableIsDocumented) {
  const std::string reference = ConfigReference();
  Result<PipelineConfig> c = LoadConfigString("[nope]\n", "p.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.toml:1: unknown table [nope]; allowed tables: [source], [time], [window], [ops], "
            "[sink], [dead_letter], [late_output], [state], [checkpoint]");
  size_t at = 0;
  for (const ConfigTable& t : ConfigTables()) {
    const size_t found = reference.find("\n## [" + std::string(t.name) + "]\n", at);
    ASSERT_NE(found, std::string::npos) << t.name;
    at = found;
  }
}

}  // namespace
}  // namespace pulse::cli
