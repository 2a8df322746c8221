#pragma once
// The parts run_world puts together: the coordinator's setup for a world
// (evaluation, outages, the strategy's scripts), the client and session
// actors, each round's row of the log, and when to write a checkpoint.
// Everything borrowed here must outlive the simulation run.
#include "server/coordinator.hpp"
#include "simulator/run/run_scenario.hpp"
#include "simulator/world/run_log.hpp"

#include <filesystem>
#include <functional>

namespace sflsim::cli {

struct World;

// Everything of the coordinator's setup but its two callbacks (at_boundary,
// on_round). Uses RemoteRounds when options.round_computer is set and the
// strategy's rounds may run elsewhere.
server::CoordinatorSetup coordinator_setup(World& world, RunLog& log, const RunOptions& options, int first_round);

// Spawns every client's actor and its server session; records go to `sink`.
void spawn_clients(World& world, const client::RecordSink& sink);

// Appends a reported round to the log: its traffic and energy since the last
// one, its wall-clock seconds, and the accuracies.
void log_round(const World& world, RunLog& log, const server::RoundSummary& summary, double wall_seconds);

// A checkpoint is due every `every` rounds and when a stop is asked for (a
// signal, or RunOptions::stop_after_round); a boundary that is not at rest
// (a client still busy, a message in flight) passes it on to the next one.
// After a stop's checkpoint, at_boundary throws Interrupted.
class CheckpointPolicy {
 public:
  using Save = std::function<void()>;
  CheckpointPolicy(World& world, const RunOptions& options, Save save) : world_(world), options_(options), save_(std::move(save)) {}
  void at_boundary(int next_round);
  int written() const { return written_; }

 private:
  World& world_;
  const RunOptions& options_;
  Save save_;
  bool due_ = false;
  int written_ = 0;
};

}  // namespace sflsim::cli
