#pragma once
// The deadlines of the Gloo communicator's pending operations (communicator.cpp):
// Gloo's own timeouts would close every pair of the process, so the
// communicator waits without them and this timer aborts the one operation
// whose deadline passed (see communicator.hpp, "Why our own timeouts").
// Internal to sflsim::ranks.
#include <c10/util/intrusive_ptr.h>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

namespace sflsim::ranks {

// Aborts a pending Gloo operation when its deadline passes, from one timer
// thread. Thread-safe.
class Deadlines {
 public:
  using Clock = std::chrono::steady_clock;

  Deadlines();
  Deadlines(const Deadlines&) = delete;
  Deadlines& operator=(const Deadlines&) = delete;
  ~Deadlines();

  // From now until disarm(id): `work` is aborted at `at`, or by abort_peer(peer).
  std::uint64_t arm(int peer, Clock::time_point at, c10::intrusive_ptr<c10d::Work> work);

  void disarm(std::uint64_t id);

  // Aborts every armed operation of `peer` now.
  void abort_peer(int peer);

 private:
  struct Entry {
    int peer;
    Clock::time_point at;
    c10::intrusive_ptr<c10d::Work> work;
    bool aborted;
  };

  void run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::uint64_t, Entry> entries_;
  std::uint64_t next_id_ = 0;
  Clock::time_point sleeping_until_ = Clock::time_point::min();  // min: awake
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace sflsim::ranks
