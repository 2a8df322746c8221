#pragma once
// `sflsim sweep --ranks N` / `--world N`: rank 0 hands whole cells to the
// worker ranks, as many at once as there are workers; each runs its cell
// into the cell's directory, which every rank must see (one machine, or a
// shared file system). A lost worker's cell goes to another worker, which
// resumes it from the cell's last checkpoint (with --checkpoint-every) or
// starts it over; with no worker left, rank 0 runs the rest itself. The
// cells' outputs, and so sweep.csv, are those of a sweep in one process.
//
// Stops: on SIGINT/SIGTERM (rank 0's own, passed on to the workers it
// spawned, or a worker's: a launcher such as srun signals every task) no
// further cell starts, every running cell stops at its next round boundary
// with its checkpoint, and run() then throws Interrupted; rerunning the same
// sweep resumes those cells.
//
// Errors: a cell that fails on a worker ends the sweep with its error
// (std::runtime_error), like a cell that fails here.
#include "simulator/ranks/pool.hpp"
#include "simulator/sweep/sweep.hpp"

namespace sflsim::cli {

class RankCellRunner : public CellRunner {
 public:
  // `threads`: what a cell rank 0 runs itself uses.
  RankCellRunner(RankPool& pool, int threads) : pool_(pool), threads_(threads) {}
  void run(const std::vector<CellJob>& cells, const std::function<void(size_t index)>& finished) override;

 private:
  RankPool& pool_;
  int threads_;
};

}  // namespace sflsim::cli
