#pragma once
// The files a run writes as it goes and at its end (each replaced whole, see
// io/files.hpp): metrics.csv and wall.csv after every round, clients.csv and
// summary.json once the last round is reported. Their columns are listed in
// run_scenario.hpp. Errors: std::runtime_error naming the file.
#include "simulator/run/run_scenario.hpp"
#include "simulator/world/run_log.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sflsim::cli {

struct World;

// "%.*f" of `value`.
std::string fixed(double value, int digits);

// The first evaluated round at or above `target`, and the first from which
// every evaluated round to the end stays at or above it (null: none).
struct TargetRounds {
  const server::RoundSummary* first = nullptr;
  const server::RoundSummary* sustained = nullptr;
};
TargetRounds target_rounds(const std::vector<MetricsRow>& rows, double target);

void write_metrics_csv(const std::filesystem::path& dir, const RunLog& log);

// wall.csv: each round's wall-clock seconds and the increase of each running
// counter (RunOptions::wall_counters) over the round. Rounds of the runs this
// one resumed keep their seconds; their counter cells stay empty.
class WallTable {
 public:
  using Counters = std::function<std::vector<std::pair<std::string, double>>()>;
  explicit WallTable(Counters counters);
  void end_round();  // reads the counters: a round was reported
  void write(const std::filesystem::path& dir, const RunLog& log) const;

 private:
  Counters counters_;
  std::vector<std::pair<std::string, double>> before_;  // the counters when the last round ended
  std::vector<std::vector<double>> increases_;          // by round played in this process
};

// clients.csv: rows by (round, client), a client's records of a round in the
// order it made them (local-only, then the real round when its plan came
// late); a selected client with no record is "crashed" if it was down at some
// time of that round, else "timeout".
void write_clients_csv(const std::filesystem::path& dir, const World& world, const RunLog& log);

void write_summary_json(const std::filesystem::path& dir, const World& world, const RunLog& log,
                        const RunResult& result, double wall_seconds, const std::string& scenario_text);

}  // namespace sflsim::cli
