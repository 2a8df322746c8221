#pragma once
// Rank 0 of `sflsim run --ranks N` / `--world N`: the run of run_scenario,
// with the clients' recorded rounds computed on the worker ranks
// (rank_pool.hpp) and, should every worker be lost, here. metrics.csv,
// clients.csv and summary.json (but its wall time) are the bytes of the run
// in one process; wall.csv adds, per round, the bytes between ranks, the
// workers' compute seconds, the round trips' seconds and rank 0's CPU seconds.
//
// Algorithms with one server model that every client's steps go through
// (SL, SFL-V2, SuperSFL with a shared server) run all in rank 0: the workers
// only wait. Errors: as run_scenario, plus a worker's failure (runtime_error).
#include "simulator/ranks/launch.hpp"
#include "simulator/ranks/pool.hpp"
#include "simulator/run/run_scenario.hpp"

namespace sflsim::cli {

// What rank 0's pool of workers is built with: the timeouts, a lost worker
// reported on stderr (and killed, if this process started it).
RankPoolOptions rank_pool_options(const RankOptions& rank_options, RankWorld& ranks);

RunResult run_on_ranks(const Scenario& scenario, RunOptions options, RankWorld& ranks, const RankOptions& rank_options);

}  // namespace sflsim::cli
