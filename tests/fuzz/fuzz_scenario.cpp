// Scenario files: parse_scenario (JSON text -> Scenario, strict validation,
// `--set` overrides) and resolved_json, as `sflsim validate` runs them.
// Input: the scenario JSON, then optionally one `--set` assignment per further
// part (fuzz_target.hpp's separator; parts holding NUL, which no argv can, are dropped).
// Expected: ScenarioError, one line, starting with the source name.
// Checked on success: the resolved form parses again and is a fixed point.
#include "fuzz_target.hpp"

#include "simulator/scenario/json_reader.hpp"
#include "simulator/scenario/scenario_io.hpp"

using sflsim::cli::ScenarioError;

SFLSIM_FUZZ_TARGET(scenario) {
  const std::vector<std::string_view> parts = sflsim::fuzz::split_parts(input);
  std::vector<std::string> overrides;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].find('\0') == std::string_view::npos) overrides.emplace_back(parts[i]);
  }
  const std::string source = "fuzz.json";
  sflsim::cli::Scenario scenario;
  try {
    scenario = sflsim::cli::parse_scenario(std::string(parts[0]), source, overrides);
  } catch (const ScenarioError& e) {
    sflsim::fuzz::check_message("ScenarioError", e.what(), source + ": ");
    return;
  }
  const std::string resolved = sflsim::cli::resolved_json(scenario);
  sflsim::cli::Scenario again;
  try {
    again = sflsim::cli::parse_scenario(resolved, "resolved.json");
  } catch (const ScenarioError& e) {
    sflsim::fuzz::finding(std::string("the resolved form of an accepted scenario is rejected: ") + e.what());
  }
  if (sflsim::cli::resolved_json(again) != resolved) {
    sflsim::fuzz::finding("the resolved form is not a fixed point:\n" + resolved);
  }
}
