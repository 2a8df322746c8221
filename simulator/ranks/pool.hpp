#pragma once
// Rank 0's view of its worker ranks: greets them, keeps track of which are
// alive, and runs requests (a recorded client round, a test batch, a sweep
// cell) on them, sending a request again to another worker when the one
// running it is lost.
//
// A worker is lost when its connection fails (it died: noticed at once) or
// when nothing, not even a heartbeat, came from it for `timeout` (it hangs).
// It is never used again (ranks/communicator.hpp says why). Its requests go to
// the live worker with the fewest requests in flight; their results do not
// depend on where they run, so a run's outputs stay byte-identical.
//
// Supernets (and evaluated models): a request names the version it needs,
// and carries its bytes along the first time its worker gets that version (or
// when the worker says it lacks it), so each worker is sent a round's
// supernet once, with its first job of the round, and only if it gets one. A
// worker keeps the newest kWorkerSnapshots supernets and the last evaluated model.
//
// Wall time only. Errors: the constructor throws std::runtime_error when a
// worker greets as another build (build_identity() differs), or when a
// worker does not become ready within the timeout; request() rethrows
// nothing of a worker's: a worker's "failed" reply is returned as it is.
// Threads: request() may be called from any threads at once.
#include "simulator/ranks/messages.hpp"
#include "simulator/rounds/remote_rounds.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sflsim::ranks {
class Communicator;
}

namespace sflsim::cli {

struct RankPoolOptions {
  std::chrono::milliseconds timeout{kDefaultRankTimeout};  // silence after which a worker is lost
  std::chrono::milliseconds heartbeat{kHeartbeatPeriod};   // how often workers say they are alive
  std::chrono::milliseconds ready_timeout{600000};  // for loading the data before the first request
  std::function<void(const std::string&)> log;  // one line per lost worker
  std::function<void(int rank)> on_lost;        // after a worker is lost (RankWorld::kill_worker)
};

struct RankPoolStats {
  std::int64_t requests = 0;
  std::int64_t resent = 0;          // requests sent again after their worker was lost
  std::int64_t lost_workers = 0;
  double round_trip_seconds = 0;    // summed over requests: from sending to the reply
};

class RankPool {
 public:
  // `hello`: what every worker is greeted with (its heartbeat period is set here).
  RankPool(ranks::Communicator& comm, const RankMessage& hello, RankPoolOptions options);
  ~RankPool();  // shuts the live workers down
  RankPool(const RankPool&) = delete;
  RankPool& operator=(const RankPool&) = delete;

  int live_workers() const;
  int worker_threads() const;  // summed over the live workers, as they reported when ready

  // The worker's reply to `request` (result or failed); nullopt when no worker is left.
  // `snapshot`: the versioned bytes the request needs (a job's supernet, an eval's model; null: none).
  std::optional<RankMessage> request(RankMessage request, const std::shared_ptr<const SupernetSnapshot>& snapshot);

  RankPoolStats stats() const;
  std::int64_t bytes() const;  // sent and received by this rank so far

 private:
  struct Worker;
  struct Pending;
  void receive_from(Worker& worker);
  void shut_down();  // says shutdown to the live workers and joins the receivers; once
  void lose(Worker& worker, const std::string& why);
  Worker* pick_worker();
  int count_live() const;  // the caller holds mutex_

  ranks::Communicator& comm_;
  RankPoolOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::uint64_t, std::shared_ptr<Pending>> pending_;
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
  RankPoolStats stats_;
};

// Round jobs on a RankPool; without live workers, on `fallback` (this process).
class RankComputer : public RoundComputer {
 public:
  RankComputer(RankPool& pool, RoundComputer& fallback) : pool_(pool), fallback_(fallback) {}
  // Nothing ahead: a worker gets a round's supernet with its first job of the round.
  void publish(const std::shared_ptr<const SupernetSnapshot>& /*snapshot*/) override {}
  std::string compute(const std::string& job, const std::shared_ptr<const SupernetSnapshot>& snapshot) override;

 private:
  RankPool& pool_;
  RoundComputer& fallback_;
};

}  // namespace sflsim::cli
