#pragma once
// Scenario files: loading with `--set` overrides, the resolved form with every
// default filled in, and the schema document generated from the same table.
#include "simulator/scenario/scenario.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace sflsim::cli {

// Reads `path`, applies each "dotted.path=value" override (value parsed as
// JSON, else taken as a string), and maps it onto a Scenario. Throws
// ScenarioError (one line: file, JSON path, problem) on any bad input.
Scenario load_scenario(const std::filesystem::path& path, const std::vector<std::string>& overrides = {});
Scenario parse_scenario(const std::string& json_text, const std::string& source,
                        const std::vector<std::string>& overrides = {});

// Every key with its value, defaults included (what scenario.resolved.json holds).
std::string resolved_json(const Scenario& scenario);

// Markdown table of every key: path, type, default, meaning.
std::string schema_markdown();

}  // namespace sflsim::cli
