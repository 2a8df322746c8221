// Sweep files: sweep_scenarios (reads the sweep file and its base scenario,
// validates both and every cell's scenario; no data is read, nothing runs),
// then resolved_json of every cell, as run_sweep does before the first cell.
// Input: the sweep JSON (written as sweep.json), then optionally a base
// scenario file (written as base.json beside it; "base": "base.json" refers to it).
// Expected: ScenarioError, one line. Checked on success: one scenario per cell.
// Sweeps of more than kMaxCells cells are skipped: validating every cell of a
// huge product is slow by design, not a finding. But one whose cell count
// overflows 64 bits to at most kMaxCells must be rejected, not read as that many.
#include "fuzz_target.hpp"

#include "simulator/scenario/json_reader.hpp"
#include "simulator/scenario/scenario_io.hpp"
#include "simulator/sweep/sweep.hpp"

#include <nlohmann/json.hpp>

namespace {
constexpr uint64_t kMaxCells = 64;

struct CellCount {
  uint64_t wrapped = 0;    // the product in 64 bits, as read_sweep_file's size_t computes it (0 = unknown)
  bool overflows = false;  // the true product does not fit in 64 bits
};

// The product of the axes' sizes as read_sweep_file will see it.
CellCount cell_count(std::string_view text) {
  const nlohmann::json root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object() || !root.contains("axes") || !root["axes"].is_array()) return {};
  CellCount count{1, false};
  for (const auto& axis : root["axes"]) {
    if (!axis.is_object() || !axis.contains("values") || !axis["values"].is_array()) return {};
    const uint64_t n = axis["values"].size();
    if (n == 0) return {};
    if (count.wrapped > UINT64_MAX / n) count.overflows = true;
    count.wrapped *= n;
  }
  return count;
}
}  // namespace

SFLSIM_FUZZ_TARGET(sweep) {
  const std::vector<std::string_view> parts = sflsim::fuzz::split_parts(input);
  const CellCount count = cell_count(parts[0]);
  const uint64_t cells = count.wrapped;
  if (cells > kMaxCells) return;
  sflsim::fuzz::clear_scratch();
  const auto sweep_file = sflsim::fuzz::scratch_dir() / "sweep.json";
  sflsim::fuzz::write_file(sweep_file, parts[0]);
  if (parts.size() > 1) sflsim::fuzz::write_file(sflsim::fuzz::scratch_dir() / "base.json", parts[1]);
  std::vector<sflsim::cli::Scenario> scenarios;
  try {
    scenarios = sflsim::cli::sweep_scenarios(sweep_file);
  } catch (const sflsim::cli::ScenarioError& e) {
    sflsim::fuzz::check_message("ScenarioError", e.what());
    return;
  }
  if (count.overflows) {
    sflsim::fuzz::finding("accepted a sweep of more than 2^64 cells (as " + std::to_string(scenarios.size()) +
                          " scenarios)");
  }
  if (scenarios.empty() || (cells != 0 && scenarios.size() != cells)) {
    sflsim::fuzz::finding("an accepted sweep of " + std::to_string(cells) + " cells gave " +
                          std::to_string(scenarios.size()) + " scenarios");
  }
  for (const auto& scenario : scenarios) (void)sflsim::cli::resolved_json(scenario);
}
