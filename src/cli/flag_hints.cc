// SPDX-License-Identifier: MIT
#include "cli/flag_hints.h"

#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/toml_util.h"

namespace pulse::cli {
namespace {

// The visible subcommands of `app`, in declaration order.
std::vector<CLI::App*> Commands(CLI::App& app) {
  return app.get_subcommands([](CLI::App* sub) { return !sub->get_group().empty(); });
}

// The long names ("--workers") of the options of `app`.
std::vector<std::string> LongFlags(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* option : app.get_options()) {
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    for (const std::string& name : option->get_snames()) names.push_back("-" + name);
  }
  return names;
}

std::string SuggestAmong(std::string_view word, const std::vector<std::string>& names) {
  std::vector<std::string_view> views(names.begin(), names.end());
  return std::string(internal::Suggest(word, views));
}

std::string DidYouMean(const std::string& suggestion) {
  return suggestion.empty() ? "" : fmt::format(" (did you mean '{}'?)", suggestion);
}

}  // namespace

std::string DescribeParseError(CLI::App& app, const std::vector<std::string>& args,
                               const CLI::ParseError& error) {
  const std::string fallback = std::string(error.what()) + " (see 'pulse --help')";
  const std::vector<CLI::App*> commands = Commands(app);
  std::vector<std::string> command_names;
  for (CLI::App* sub : commands) command_names.push_back(sub->get_name());

  // The command is the first word that names one; the value of --log-format is not a word.
  CLI::App* command = nullptr;
  std::string first_word;
  for (size_t i = 0; i < args.size() && command == nullptr; ++i) {
    const std::string& arg = args[i];
    if (arg == "--log-format") {
      ++i;
      continue;
    }
    if (!arg.empty() && arg[0] == '-') continue;
    if (first_word.empty()) first_word = arg;
    for (CLI::App* sub : commands) {
      if (sub->get_name() == arg) command = sub;
    }
  }

  if (command == nullptr) {
    if (first_word.empty()) return fallback;
    return fmt::format("unknown command '{}'{}; commands: {} (see 'pulse --help')", first_word,
                       DidYouMean(SuggestAmong(first_word, command_names)),
                       fmt::join(command_names, ", "));
  }
  const std::string name = command->get_name();

  if (dynamic_cast<const CLI::RequiredError*>(&error) != nullptr && name == "validate") {
    return "pulse validate needs a pipeline file: pulse validate pipeline.toml (or --config "
           "pipeline.toml)";
  }

  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
    std::vector<std::string> known = LongFlags(*command);
    const std::vector<std::string> global = LongFlags(app);
    known.insert(known.end(), global.begin(), global.end());
    for (const std::string& arg : args) {
      if (arg.size() < 2 || arg[0] != '-') continue;
      const std::string flag = arg.substr(0, arg.find('='));
      bool is_known = false;
      for (const std::string& k : known) is_known = is_known || k == flag;
      if (is_known) continue;
      return fmt::format("unknown flag '{}' for 'pulse {}'{} (see 'pulse {} --help')", flag,
                         name, DidYouMean(SuggestAmong(flag, known)), name);
    }
  }
  return fallback;
}

}  // namespace pulse::cli
