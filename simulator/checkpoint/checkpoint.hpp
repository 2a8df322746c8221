#pragma once
// Whole-simulation checkpoints, taken at round boundaries where the
// simulation is at rest (core::Simulation::at_rest: every client waits for
// its next round's notice and every session for its next order, nothing is in
// flight). Such a boundary is the whole state of a run: the kernel's (clock,
// fault-plan edges fired, link RNG streams, energy meters), the supernet's
// tensors (BatchNorm buffers included), every client's kept state (loss
// averages, deferred upload, last model, own network, data stream and sample
// order), the traffic counters and the run log. Nothing else outlives a
// round: optimizers and server replicas are made per round, and strategies
// hold no state.
//
// Resuming builds the World from the same scenario, restores the checkpoint
// into it before anything runs, and starts the coordinator at the saved next
// round: the rest of the run is then the same sequence of events, so its
// outputs are byte-identical to an uninterrupted run's (at any --threads).
//
// Errors: load_checkpoint throws checkpoint::CheckpointError (one line, with
// the file and the byte offset or the reason) for a missing, truncated or
// corrupt file, another format or sflsim version, or another scenario.
#include "simulator/checkpoint/checkpoint_format.hpp"

#include <cstdint>
#include <filesystem>
#include <string>

namespace sflsim::cli {

struct World;
struct RunLog;

inline constexpr const char* kCheckpointFile = "checkpoint.bin";
std::uint64_t scenario_hash(const std::string& resolved_scenario_text);

// Waits for every client's last tasks, then writes `file` atomically (the
// next round is the one after log.rows). `wall_seconds_so_far`: the run's
// wall-clock time, earlier runs included. Precondition: world.sim->at_rest().
void save_checkpoint(World& world, const RunLog& log, double wall_seconds_so_far, const std::string& scenario_text,
                     const std::filesystem::path& file);

// Restores `file` into a freshly built world (nothing spawned yet) and `log`;
// returns the round to continue from.
int load_checkpoint(World& world, RunLog& log, const std::string& scenario_text, const std::filesystem::path& file);

}  // namespace sflsim::cli
