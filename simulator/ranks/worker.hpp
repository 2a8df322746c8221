#pragma once
// A worker rank of `sflsim run --ranks` / `--world` (and of a sweep over
// ranks): it holds no simulation state, only the scenario's data and the
// last few supernets rank 0 sent, and computes what rank 0 asks for --
// recorded client rounds (round_job.hpp) or whole sweep cells -- on
// `threads` threads, each with one LibTorch thread. It says it is alive
// every heartbeat period (rank 0's hello sets it).
//
// Returns the process's exit code: 0 when rank 0 said shutdown, 1 when rank 0
// went away. Every request is answered: a job, an evaluation or a cell that
// throws (or whose model cannot be decoded) is answered "failed" with the
// error (rank 0 ends the run with it); data that cannot be loaded ends the worker before
// it says ready (rank 0 reports that the worker did not become ready).
namespace sflsim::ranks {
class Communicator;
}

namespace sflsim::cli {

int serve_rank_zero(ranks::Communicator& comm, int threads);

}  // namespace sflsim::cli
