// `sflsim validate` and `sflsim schema`: scenario files without running them.
#include "simulator/cli/commands.hpp"
#include "simulator/scenario/json_reader.hpp"
#include "simulator/scenario/scenario_io.hpp"
#include "simulator/world/world.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

namespace sflsim::cli {

Command add_validate_command(CLI::App& app) {
  struct Flags {
    std::string scenario_path;
    std::vector<std::string> overrides;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand("validate", "Check a scenario file and print it with every default filled in");
  command->add_option("scenario", flags->scenario_path, "Scenario JSON file")->required();
  command->add_option("--set", flags->overrides, "Override a scenario key: path=value (repeatable)");
  return {command, [flags](const GlobalOptions&) {
            try {
              const Scenario scenario = load_scenario(flags->scenario_path, flags->overrides);
              const World world(scenario);  // loads the data and checks what needs it (cuts, client ids)
              std::cout << resolved_json(scenario);
              return 0;
            } catch (const ScenarioError& e) {
              throw with_file(e, flags->scenario_path);
            }
          }};
}

Command add_schema_command(CLI::App& app) {
  CLI::App* command =
      app.add_subcommand("schema", "Print every scenario key with its type, default and meaning (Markdown)");
  return {command, [](const GlobalOptions&) {
            std::cout << schema_markdown();
            return 0;
          }};
}

}  // namespace sflsim::cli
