// SPDX-License-Identifier: MIT
// Tests for ConnectorConfig (defaults, settings, errors at lines) and ConnectorRegistry (kinds,
// the keys of a role, factories, Validate).
#include "pulse/core/connector_registry.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "testing/test_util.h"

namespace pulse {
namespace {

constexpr std::string_view kModes[] = {"fast", "slow"};

constexpr ConfigKey kAlphaKeys[] = {
    {.name = "path", .doc = "where", .required = true, .path = ConfigPath::kInputFile},
    {.name = "mode",
     .type = ConfigType::kChoice,
     .doc = "how",
     .default_text = "fast",
     .choices = kModes},
    {.name = "limit", .type = ConfigType::kInt, .doc = "how many", .default_number = 7, .min = 1},
};
constexpr ConfigKey kBetaKeys[] = {
    {.name = "limit", .type = ConfigType::kInt, .doc = "how many"},
    {.name = "servers", .doc = "where"},
    {.name = "path", .doc = "unused"},
};
constexpr ConfigKey kBadBetaKeys[] = {
    {.name = "limit", .type = ConfigType::kString, .doc = "not a number here"},
};

constexpr ConnectorDeclaration kAlpha{
    .role = ConnectorRole::kSource, .kind = "alpha", .keys = kAlphaKeys};
constexpr ConnectorDeclaration kBeta{
    .role = ConnectorRole::kSource, .kind = "beta", .keys = kBetaKeys};
constexpr ConnectorDeclaration kBadBeta{
    .role = ConnectorRole::kSource, .kind = "beta", .keys = kBadBetaKeys};
constexpr ConnectorDeclaration kSinkAlpha{
    .role = ConnectorRole::kSink, .kind = "alpha", .keys = kAlphaKeys};

SourceFactory FailingSource(std::string message) {
  return [message](const ConnectorConfig& config,
                   const ConnectorBuildContext&) -> Result<std::unique_ptr<Source>> {
    return config.KeyError("limit", message);
  };
}

TEST(ConnectorConfigTest, DefaultsSettingsAndLines) {
  ConnectorConfig c(kAlpha, "p.toml", 3, 4);
  EXPECT_EQ(c.kind(), "alpha");
  EXPECT_EQ(c.role(), ConnectorRole::kSource);
  EXPECT_EQ(c.String("mode"), "fast");
  EXPECT_EQ(c.Int("limit"), 7);
  EXPECT_FALSE(c.IsSet("limit"));
  EXPECT_EQ(c.Line("limit"), 0);
  EXPECT_TRUE(c.Has("path"));
  EXPECT_FALSE(c.Has("servers"));
  EXPECT_EQ(c.String("servers"), "");  // not declared by the kind: empty

  ConfigSetting limit;
  limit.number = 9;
  limit.line = 6;
  c.Set("limit", limit);
  c.Set("servers", limit);  // ignored: not declared
  EXPECT_EQ(c.Int("limit"), 9);
  EXPECT_EQ(c.Line("limit"), 6);
  EXPECT_FALSE(c.Has("servers"));
  EXPECT_EQ(c.Qualified("limit"), "source.limit");

  EXPECT_EQ(c.KeyError("limit", "bad").message(), "p.toml:6: bad");
  EXPECT_EQ(c.KeyError("mode", "bad").message(), "p.toml:3: bad");  // absent: the table's line
  EXPECT_EQ(c.ErrorAt(0, "bad").message(), "p.toml: bad");
  EXPECT_EQ(c.ErrorAt(c.kind_line(), "bad").code(), StatusCode::kInvalidArgument);
}

TEST(ConnectorConfigTest, DefaultConstructedHasNoKind) {
  ConnectorConfig c;
  EXPECT_EQ(c.declaration(), nullptr);
  EXPECT_EQ(c.kind(), "");
  EXPECT_EQ(c.String("path"), "");
}

TEST(ConnectorRegistryTest, KindsKeysAndFactories) {
  ConnectorRegistry registry;
  registry.AddSource(kAlpha, FailingSource("alpha says no"));
  registry.AddSource(kBeta, FailingSource("beta says no"));
  registry.AddSink(kSinkAlpha, nullptr);
  EXPECT_OK(registry.Validate());
  EXPECT_EQ(registry.Kinds(ConnectorRole::kSource),
            (std::vector<std::string_view>{"alpha", "beta"}));
  EXPECT_EQ(registry.Find(ConnectorRole::kSource, "beta"), &kBeta);
  EXPECT_EQ(registry.Find(ConnectorRole::kSink, "beta"), nullptr);
  // Each key once: alpha's in order, then beta's new ones.
  std::vector<std::string_view> names;
  for (const ConfigKey* key : registry.AllKeys(ConnectorRole::kSource)) names.push_back(key->name);
  EXPECT_EQ(names, (std::vector<std::string_view>{"path", "mode", "limit", "servers"}));

  ConnectorConfig beta(kBeta, "p.toml", 1, 2);
  Result<std::unique_ptr<Source>> made = registry.MakeSource(beta, ConnectorBuildContext{});
  EXPECT_EQ(made.status().message(), "p.toml:1: beta says no");

  ConnectorRegistry empty;
  EXPECT_EQ(empty.MakeSource(beta, ConnectorBuildContext{}).status().message(),
            "p.toml:2: source.kind = \"beta\" has no connector in this registry");
}

TEST(ConnectorRegistryTest, ValidateFindsConflicts) {
  ConnectorRegistry twice;
  twice.AddSource(kAlpha, nullptr);
  twice.AddSource(kAlpha, nullptr);
  EXPECT_EQ(twice.Validate().message(), "the source kind \"alpha\" is registered twice");

  ConnectorRegistry types;
  types.AddSource(kAlpha, nullptr);
  types.AddSource(kBadBeta, nullptr);
  EXPECT_EQ(types.Validate().message(),
            "the source key 'limit' has another type for kind \"beta\" than for the kind that "
            "declares it first");

  ConnectorRegistry role;
  role.AddSink(kAlpha, nullptr);
  EXPECT_EQ(role.Validate().message(), "the sink kind \"alpha\" is declared as a source");
}

}  // namespace
}  // namespace pulse
