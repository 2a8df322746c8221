#pragma once
// How `sflsim run` and `sflsim sweep` spread over processes.
//
//   --ranks N                      start N worker processes on this machine
//                                  (a FileStore in a fresh temporary directory)
//   --rank R --world N --store S   join a world of N processes started by a
//                                  launcher (mpirun, srun): rank 0 runs the
//                                  simulation, ranks 1..N-1 serve it
//
// Rank 0 owns the simulation (rank_pool.hpp, remote_rounds.hpp); a worker
// owns nothing of it (rank_worker.hpp). Spawned workers get `--threads`
// divided among them and die with rank 0 (PR_SET_PDEATHSIG).
//
// Errors: std::invalid_argument for inconsistent options (exit 2 in main);
// std::runtime_error when the world does not meet within the timeout.
#include "simulator/ranks/messages.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace sflsim::ranks {
class Communicator;
}

namespace sflsim::cli {

struct RankOptions {
  int spawn = 0;          // --ranks: worker processes to start here
  int rank = 0;           // --rank
  int world = 0;          // --world (0: not given)
  std::string store;      // --store: HOST:PORT (a TCPStore rank 0 serves) or a FileStore path
  std::string bind_host;  // --bind: this machine's address as the other ranks reach it
  double timeout_s = static_cast<double>(kDefaultRankTimeout.count());  // --rank-timeout

  bool active() const { return spawn > 0 || world > 1; }
  bool worker() const { return rank > 0; }
  std::chrono::milliseconds timeout() const;
  // Throws std::invalid_argument naming the option at fault.
  void check() const;
};

// The world of ranks this process belongs to: started (with --ranks) and joined.
class RankWorld {
 public:
  // `subcommand` and `target` (run FILE, sweep FILE) are what spawned workers
  // are started with; `device`: theirs ("cuda" puts worker r on cuda:r-1, one GPU each).
  RankWorld(const RankOptions& options, int threads, const std::string& device, const std::string& subcommand,
            const std::string& target);
  ~RankWorld();  // spawned workers: waits for them to leave (killing what stays after a few seconds)
  RankWorld(const RankWorld&) = delete;
  RankWorld& operator=(const RankWorld&) = delete;

  ranks::Communicator& comm() { return *comm_; }
  // A worker rank 0 has given up on: if this process started it, it is
  // killed (a hung worker must not wake up and write into a sweep cell that
  // another worker has taken over). Others are their launcher's to end.
  void kill_worker(int rank);

 private:
  std::string store_dir_;  // the spawned world's FileStore directory
  std::vector<pid_t> children_;
  std::unique_ptr<ranks::Communicator> comm_;
};

// Threads each spawned worker gets out of `threads`.
int threads_per_worker(int threads, int workers);

}  // namespace sflsim::cli
