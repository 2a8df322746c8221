#include "simulator/sweep/sweep.hpp"
#include "simulator/io/files.hpp"

#include "simulator/scenario/json_reader.hpp"
#include "simulator/checkpoint/checkpoint.hpp"
#include "simulator/run/run_scenario.hpp"
#include "simulator/scenario/scenario_io.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <sstream>

namespace sflsim::cli {

namespace {

using nlohmann::json;

struct SweepFile {
  std::string base_text;    // the base scenario as JSON text
  std::string base_source;  // for error messages
  std::vector<std::string> common;  // "path=value" from "set"
  std::vector<std::pair<std::string, std::vector<json>>> axes;
};

SweepFile read_sweep_file(const std::filesystem::path& path) {
  const std::string source = path.string();
  if (!std::filesystem::is_regular_file(path)) throw ScenarioError(source + ": cannot open the sweep file");
  const json root = parse_json(read_text(path), source);
  if (!root.is_object()) throw ScenarioError(source + ": $: expected an object with base, set and axes");
  for (const auto& [key, value] : root.items()) {
    if (key != "base" && key != "set" && key != "axes" && key != "name") {
      throw ScenarioError(source + ": $." + printable(key) + ": unknown key (expected name, base, set, axes)");
    }
  }
  SweepFile sweep;
  const json& base = root.value("base", json());
  if (base.is_string()) {
    const std::filesystem::path base_path = path.parent_path() / base.get<std::string>();
    sweep.base_text = read_text(base_path);
    // The path is the sweep file's text: escaped, so the messages naming it stay one line.
    sweep.base_source = printable(base_path.string());
    if (sweep.base_text.empty()) throw ScenarioError(source + ": $.base: cannot read " + sweep.base_source);
  } else if (base.is_object()) {
    sweep.base_text = base.dump();
    sweep.base_source = source + " ($.base)";
  } else {
    throw ScenarioError(source + ": $.base: expected a scenario file path or a scenario object");
  }
  if (root.contains("set")) {
    if (!root["set"].is_object()) throw ScenarioError(source + ": $.set: expected an object of path: value");
    for (const auto& [key, value] : root["set"].items()) sweep.common.push_back(key + "=" + value.dump());
  }
  const json& axes = root.value("axes", json());
  // Far beyond any sweep that can run; the bound keeps the product from overflowing.
  constexpr size_t kMaxCells = 1'000'000;
  size_t cells = 1;
  if (!axes.is_array() || axes.empty()) throw ScenarioError(source + ": $.axes: expected a non-empty array");
  for (size_t i = 0; i < axes.size(); ++i) {
    const std::string at = source + ": $.axes[" + std::to_string(i) + "]";
    const json& axis = axes[i];
    if (!axis.is_object() || !axis.contains("path") || !axis["path"].is_string() || !axis.contains("values")) {
      throw ScenarioError(at + ": expected {\"path\": \"a.b\", \"values\": [...]}");
    }
    for (const auto& [key, value] : axis.items()) {
      if (key != "path" && key != "values") throw ScenarioError(at + "." + printable(key) + ": unknown key (expected path, values)");
    }
    if (!axis["values"].is_array() || axis["values"].empty()) {
      throw ScenarioError(at + ".values: expected a non-empty array");
    }
    sweep.axes.emplace_back(axis["path"].get<std::string>(), axis["values"].get<std::vector<json>>());
    cells *= axis["values"].size();
    if (cells > kMaxCells) {
      throw ScenarioError(at + ": the axes so far make more than " + std::to_string(kMaxCells) +
                          " cells; split the sweep");
    }
  }
  return sweep;
}

std::string value_text(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

// Directory names keep letters, digits and ".-_="; the index keeps them unique and ordered.
std::string directory_name(size_t index, const std::vector<std::pair<std::string, std::string>>& values) {
  char prefix[24];  // room for any size_t: no truncation warning
  std::snprintf(prefix, sizeof prefix, "%03zu", index);
  std::string name = prefix;
  for (const auto& [path, value] : values) {
    const std::string leaf = path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
    name += "_" + leaf + "=" + value;
  }
  for (char& c : name) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '=';
    if (!keep) c = '-';
  }
  return name;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string number_or_empty(const json& summary, const char* key) {
  if (!summary.contains(key) || summary[key].is_null()) return "";
  return summary[key].dump();
}


std::vector<SweepCell> cells_of(const SweepFile& sweep) {
  size_t count = 1;
  for (const auto& axis : sweep.axes) count *= axis.second.size();
  std::vector<SweepCell> cells;
  for (size_t index = 0; index < count; ++index) {
    // Row-major: the first axis changes slowest.
    std::vector<size_t> digits(sweep.axes.size());
    size_t rest = index;
    for (size_t a = sweep.axes.size(); a-- > 0;) {
      digits[a] = rest % sweep.axes[a].second.size();
      rest /= sweep.axes[a].second.size();
    }
    SweepCell cell;
    std::vector<std::pair<std::string, std::string>> named;
    for (size_t a = 0; a < sweep.axes.size(); ++a) {
      const json& value = sweep.axes[a].second[digits[a]];
      cell.assignments.push_back(sweep.axes[a].first + "=" + value.dump());
      named.emplace_back(sweep.axes[a].first, value_text(value));
      cell.label += (a ? " " : "") + sweep.axes[a].first + "=" + value_text(value);
    }
    cell.directory = directory_name(index, named);
    cells.push_back(std::move(cell));
  }
  return cells;
}

// Every cell's scenario, parsed: a ScenarioError names the sweep file and the cell.
std::vector<Scenario> checked_scenarios(const SweepFile& sweep, const std::vector<SweepCell>& cells,
                                        const std::filesystem::path& sweep_file) {
  std::vector<Scenario> scenarios;
  for (const SweepCell& cell : cells) {
    std::vector<std::string> overrides = sweep.common;
    overrides.insert(overrides.end(), cell.assignments.begin(), cell.assignments.end());
    try {
      scenarios.push_back(parse_scenario(sweep.base_text, sweep.base_source, overrides));
    } catch (const ScenarioError& e) {
      throw ScenarioError(std::string(e.what()) + " (sweep " + sweep_file.string() + ", cell " + printable(cell.label) + ")");
    }
  }
  return scenarios;
}

}  // namespace

std::vector<SweepCell> sweep_cells(const std::filesystem::path& sweep_file) {
  return cells_of(read_sweep_file(sweep_file));
}

std::vector<Scenario> sweep_scenarios(const std::filesystem::path& sweep_file) {
  const SweepFile sweep = read_sweep_file(sweep_file);
  return checked_scenarios(sweep, cells_of(sweep), sweep_file);
}

namespace {

// sweep.csv's row of a finished cell.
std::string table_row(const SweepCell& cell, const std::filesystem::path& dir) {
  const json summary = json::parse(read_text(dir / "summary.json"));
  const json& totals = summary["totals"];
  std::ostringstream row;
  row << csv_field(cell.directory);
  for (const std::string& assignment : cell.assignments) {
    row << ',' << csv_field(value_text(json::parse(assignment.substr(assignment.find('=') + 1))));
  }
  row << ',' << summary["final_accuracy"].dump() << ',' << summary["best_accuracy"].dump() << ','
      << summary["rounds"].dump() << ',' << summary["virtual_time_s"].dump() << ','
      << number_or_empty(summary, "target_accuracy") << ',' << number_or_empty(summary, "rounds_to_target") << ','
      << number_or_empty(summary, "virtual_time_to_target_s") << ','
      << number_or_empty(summary, "rounds_to_sustained_target") << ','
      << number_or_empty(summary, "virtual_time_to_sustained_target_s") << ',' << totals["bytes_up"].dump() << ','
      << totals["bytes_down"].dump() << ',' << totals["bytes_activations"].dump() << ','
      << totals["bytes_gradients"].dump() << ',' << totals["bytes_weights"].dump() << ','
      << totals["energy_j"].dump() << '\n';
  return row.str();
}

}  // namespace

SweepResult run_sweep(const std::filesystem::path& sweep_file, const SweepOptions& options) {
  const SweepFile sweep = read_sweep_file(sweep_file);
  const std::vector<SweepCell> cells = cells_of(sweep);

  // Every cell is checked before any runs: a typo in the last cell should not
  // cost the hours of the ones before it.
  const std::vector<Scenario> scenarios = checked_scenarios(sweep, cells, sweep_file);
  if (options.only_cell >= static_cast<int>(cells.size())) {
    throw std::invalid_argument("--cell " + std::to_string(options.only_cell) + ": the sweep has " +
                                std::to_string(cells.size()) + " cells (0.." + std::to_string(cells.size() - 1) + ")");
  }

  std::filesystem::create_directories(options.out_dir);
  SweepResult result;
  result.cells = static_cast<int>(cells.size());
  std::string header = "cell";
  for (const std::string& assignment : cells.front().assignments) {
    header += ',' + csv_field(assignment.substr(0, assignment.find('=')));
  }
  header += ",final_accuracy,best_accuracy,rounds,virtual_time_s,target_accuracy,rounds_to_target,"
            "virtual_time_to_target_s,rounds_to_sustained_target,virtual_time_to_sustained_target_s,bytes_up,bytes_down,"
            "bytes_activations,bytes_gradients,bytes_weights,energy_j\n";
  std::vector<std::string> rows(cells.size());  // of the finished cells
  // Rewritten after every cell, so an interrupted sweep still has the rows it finished (in cell order).
  const auto write_table = [&] {
    std::string table = header;
    for (const std::string& row : rows) table += row;
    write_atomically(options.out_dir / "sweep.csv", table);
  };
  const auto line = [&](size_t i, const std::string& what) {
    std::printf("[%zu/%zu] %s: %s\n", i + 1, cells.size(), cells[i].label.c_str(), what.c_str());
    std::fflush(stdout);
  };

  std::vector<CellJob> to_run;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (options.only_cell >= 0 && i != static_cast<size_t>(options.only_cell)) continue;
    const std::filesystem::path dir = options.out_dir / cells[i].directory;
    const std::string resolved = resolved_json(scenarios[i]);
    const bool same_scenario = std::filesystem::exists(dir / "scenario.resolved.json") &&
                               read_text(dir / "scenario.resolved.json") == resolved;
    const bool finished = same_scenario && std::filesystem::exists(dir / "summary.json");
    const bool resuming = !finished && same_scenario && std::filesystem::exists(dir / kCheckpointFile);
    line(i, finished ? "finished earlier, skipped" : resuming ? "resuming from its checkpoint" : "running");
    if (finished) {
      ++result.skipped;
      rows[i] = table_row(cells[i], dir);
      continue;
    }
    std::filesystem::remove(dir / "summary.json");  // a changed cell is not finished until it is
    if (!same_scenario) std::filesystem::remove(dir / kCheckpointFile);  // nor resumed from another scenario's state
    std::filesystem::create_directories(dir);
    to_run.push_back({i, resolved, dir, options.checkpoint_every});
  }
  const auto finished = [&](size_t i) {
    const std::filesystem::path dir = options.out_dir / cells[i].directory;
    const json summary = json::parse(read_text(dir / "summary.json"));
    char text[160];
    std::snprintf(text, sizeof text, "final accuracy %.4f (best %.4f) after %.1f s of virtual time",
                  summary["final_accuracy"].get<double>(), summary["best_accuracy"].get<double>(),
                  summary["virtual_time_s"].get<double>());
    line(i, text);
    rows[i] = table_row(cells[i], dir);
    ++result.ran;
    if (options.only_cell < 0) write_table();
  };
  if (options.only_cell < 0) write_table();
  if (options.runner) {
    options.runner->run(to_run, finished);
  } else {
    for (const CellJob& job : to_run) {
      RunOptions run;
      run.checkpoint_every = job.checkpoint_every;
      run.resume = true;  // from the checkpoint left there, if any (see above)
      run.out_dir = job.dir;
      run.scenario_text = job.scenario_text;
      run.progress = options.progress;
      run.threads = options.threads;
      run_scenario(scenarios[job.index], run);
      finished(job.index);
    }
  }
  return result;
}

}  // namespace sflsim::cli
