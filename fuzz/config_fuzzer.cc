// SPDX-License-Identifier: MIT
// Fuzz target: the TOML pipeline-config loader. Any text either loads, or fails with one
// InvalidArgument line naming the config; a loaded config also describes and builds (building
// creates no files and starts nothing).
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = pulse::fuzz::AsText(data, size);
  const std::string name = "fuzz.toml";
  pulse::Result<pulse::cli::PipelineConfig> config = pulse::cli::LoadConfigString(text, name);
  if (!config.ok()) {
    const pulse::Status& st = config.status();
    PULSE_FUZZ_CHECK(st.code() == pulse::StatusCode::kInvalidArgument, st.ToString());
    PULSE_FUZZ_CHECK(st.message().rfind(name + ":", 0) == 0, st.message());
    PULSE_FUZZ_CHECK(st.message().find('\n') == std::string::npos, st.message());
    return 0;
  }
  PULSE_FUZZ_CHECK(!pulse::cli::DescribePlan(*config).empty(), "empty plan");
  for (const std::string& warning : config->warnings) {
    PULSE_FUZZ_CHECK(warning.rfind(name + ":", 0) == 0, warning);
  }
  pulse::Result<pulse::Pipeline> pipeline = pulse::cli::BuildPipeline(*config);
  if (!pipeline.ok()) {
    PULSE_FUZZ_CHECK(pipeline.status().message().find('\n') == std::string::npos,
                     pipeline.status().message());
  }
  return 0;
}
