#include "simulator/run/run_scenario.hpp"

#include "simulator/checkpoint/checkpoint.hpp"
#include "simulator/io/files.hpp"
#include "simulator/io/progress.hpp"
#include "simulator/run/outputs.hpp"
#include "simulator/run/run_wiring.hpp"
#include "simulator/world/world.hpp"

#include <chrono>
#include <stdexcept>

namespace sflsim::cli {

bool finished_run(const std::filesystem::path& dir, const std::string& scenario_text) {
  if (std::filesystem::exists(dir / kCheckpointFile) || !std::filesystem::exists(dir / "summary.json")) return false;
  if (read_text(dir / "scenario.resolved.json") != scenario_text) {
    throw std::invalid_argument((dir / "summary.json").string() +
                                ": a finished run of another scenario is here; use a new --out directory");
  }
  return true;
}

void check_unfinished_run(const std::filesystem::path& dir, bool resume, bool fresh) {
  if (resume || fresh || !std::filesystem::exists(dir / kCheckpointFile)) return;
  throw std::invalid_argument((dir / kCheckpointFile).string() +
                              ": an unfinished run's checkpoint is here; add --resume " + dir.string() +
                              " to go on from it, or --fresh to discard it and start over");
}

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  World world(scenario, options.threads);
  return run_world(world, options);
}

RunResult run_world(World& world, const RunOptions& options) {
  const std::filesystem::path& dir = options.out_dir;
  check_unfinished_run(dir, options.resume, options.fresh);
  std::filesystem::create_directories(dir);
  remove_stale_temporaries(dir);
  const std::filesystem::path checkpoint_file = dir / kCheckpointFile;
  RunLog log;
  int first_round = 1;
  if (options.resume && std::filesystem::exists(checkpoint_file)) {
    first_round = load_checkpoint(world, log, options.scenario_text, checkpoint_file);
  } else {
    std::filesystem::remove(checkpoint_file);  // --fresh: the earlier run's goes
  }
  write_atomically(dir / "scenario.resolved.json", options.scenario_text);
  const client::RecordSink sink = [&log, &options](const client::RoundRecord& r) {
    log.records.push_back(r);
    if (options.observe_record) options.observe_record(r);
  };
  spawn_clients(world, sink);

  const Scenario& scenario = world.scenario;
  ProgressBar bar("rounds", scenario.training.rounds);
  if (options.progress && first_round > 1) bar.update(first_round - 1, "resumed from " + checkpoint_file.string());
  const auto wall_start = std::chrono::steady_clock::now();
  auto wall_last = wall_start;
  const auto wall_total = [&] {
    return log.wall_before_s + std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  };
  RunResult result;
  if (first_round > 1) result.resumed_at = first_round;
  WallTable wall(options.wall_counters);

  server::CoordinatorSetup coordinator = coordinator_setup(world, log, options, first_round);
  CheckpointPolicy checkpoints(world, options, [&] {
    save_checkpoint(world, log, wall_total(), options.scenario_text, checkpoint_file);
  });
  coordinator.at_boundary = [&checkpoints](int next_round) { checkpoints.at_boundary(next_round); };
  coordinator.on_round = [&](const server::RoundSummary& summary) {
    if (options.observe_round) options.observe_round(summary);
    const auto now = std::chrono::steady_clock::now();
    log_round(world, log, summary, std::chrono::duration<double>(now - wall_last).count());
    wall_last = now;
    wall.end_round();
    write_metrics_csv(dir, log);
    wall.write(dir, log);
    if (options.progress) {
      bar.update(summary.round, "acc " + fixed(log.last_accuracy, 4) + "  virtual " +
                                    fixed(static_cast<double>(summary.end.time_since_epoch().count()) * 1e-9, 1) + " s");
    }
  };
  world.sim->spawn({"coordinator", core::EntityId{0}, false, false},
                   [&world, &coordinator]() { return server::run_coordinator(*world.sim, coordinator); });
  const core::RunReport report = world.sim->run();
  result.checkpoints = checkpoints.written();
  if (options.progress) bar.finish("acc " + fixed(log.last_accuracy, 4));
  if (report.deadlock && log.rows.size() < static_cast<size_t>(scenario.training.rounds)) {
    throw std::runtime_error("simulation deadlocked: " + report.deadlock->to_string());
  }

  write_clients_csv(dir, world, log);
  result.final_accuracy = log.last_accuracy;
  result.best_accuracy = log.best_accuracy;
  result.virtual_seconds = static_cast<double>(report.end.time_since_epoch().count()) * 1e-9;
  write_summary_json(dir, world, log, result, wall_total(), options.scenario_text);
  std::filesystem::remove(checkpoint_file);  // the outputs are complete: nothing left to resume
  return result;
}

}  // namespace sflsim::cli
