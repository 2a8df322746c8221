#pragma once
// Real computation off the simulation thread, while virtual time is charged.
//
// Virtual time is charged, not measured, so an actor's arithmetic need not be
// done when the actor moves on in virtual time: it is submitted as a task and
// waited for only where a value decides what happens next (in sflsim: when
// the server folds an upload into the round's sum, itself a task; see
// in_order.hpp). Tasks that depend on earlier tasks wait for them first, so
// the tasks of many clients form independent chains that the workers run
// side by side:
//
//   WorkTicket step = submit_work(pool, [=] { previous.wait(); ... });
//   co_await device.compute(flops);  // virtual time, whatever the task costs
//   ...
//   step.wait();                     // the value is needed from here on
//
// Results do not depend on the number of workers as long as each task reads
// only what its waited-for predecessors wrote: tasks run whole, each on one
// thread. Costs no virtual time; wait() blocks in wall time only.
//
// Order: workers take the task of the oldest chain (lowest rank, from
// open_chain(); a released chain ranks after those released before it)
// first, and within a chain the newest task, which runs its chain's earlier
// tasks inline. A task submitted with Start::on_demand is not offered to the
// workers until release() or until something waits for it: a client defers
// its round's tasks, and the server's fold of its upload runs them in one go
// when it needs them, so the state a chain allocates (a server replica, an
// autograd graph held until the server's gradient comes) is alive for about
// as many chains as there are workers, not for every client that is training
// in virtual time. A worker skips tasks of a chain another worker is in (it
// would only wait). Optionally (open_chains_limit) idle workers also start
// deferred chains ahead of their release, oldest first (Start::on_demand_not_ahead
// tasks only in the oldest chains, one per worker). The order in which tasks
// run never changes results.
// Errors: an exception thrown by a task is rethrown by every wait() on it.
// Ownership: whatever a task captures by reference must outlive the task;
// a WorkGuard waits for a chain's last task when the scope that owns the
// captured state ends (a crashed actor's frame, for example).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace sflsim::core {

// A shared handle to one submitted task (copies refer to the same task).
class WorkTicket {
 public:
  WorkTicket() = default;  // already done

  // Runs the task on this thread if no thread has started it; otherwise waits
  // for it. Rethrows the task's exception. Safe from several threads at once.
  void wait() const;
  // As wait(), but a task offered to the workers (Start::now, or released) is
  // left to them: the waiting thread then adds no work (and no autograd
  // graph) of its own to the workers'. Others run here as in wait().
  void wait_for_workers() const;
  bool pending() const;
  // The rank of the chain the task was submitted to (0 when none).
  uint64_t chain() const;

 private:
  friend class WorkPool;
  friend class WorkGuard;
  struct Task;
  explicit WorkTicket(std::shared_ptr<Task> task) : task_(std::move(task)) {}
  std::shared_ptr<Task> task_;
};

// Waits (ignoring errors) for `last` when it goes out of scope.
class WorkGuard {
 public:
  WorkGuard() = default;
  WorkGuard(const WorkGuard&) = delete;
  WorkGuard& operator=(const WorkGuard&) = delete;
  ~WorkGuard();
  WorkTicket last;
};

enum class Start {
  now,        // offered to the workers at once
  on_demand,  // run by the first wait(), or offered to the workers by release()
  // As on_demand, but started ahead of release only in the oldest open
  // chains, one per worker: for a task whose result holds memory until a
  // later task of its chain consumes it (a forward pass's autograd graph,
  // until the step's backward).
  on_demand_not_ahead,
};

class WorkPool {
 public:
  // `workers` background threads; 0 runs every task on the thread that waits
  // for it. `on_worker_start` runs once on each worker before its first task
  // (to pin a math library's own thread count, for example).
  // `open_chains_limit` (default 0): how many chains idle workers may start
  // ahead of their release, for a simulation that blocks on chains it has
  // not released. sflsim's does not (the server waits for an upload's chain
  // only when it folds it, in a task), so each started chain would only hold
  // its memory longer: at 100 clients on 2 workers, 16 ahead gave 0.55 GB
  // peak, none 0.48 GB, at the same samples/s.
  explicit WorkPool(int workers, std::function<void()> on_worker_start = {}, int open_chains_limit = 0);
  ~WorkPool();  // lets the workers finish the queue, then joins them
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  int workers() const { return static_cast<int>(threads_.size()); }
  // A new chain's rank: later chains rank after earlier ones.
  uint64_t open_chain() { return ++chains_; }
  WorkTicket submit(std::function<void()> task, uint64_t chain = 0, Start start = Start::now);
  // Offers an on-demand task (and so, through its waits, its chain) to the
  // workers, and closes its chain: nothing of the chain is taken ahead any
  // more. Nothing if it has started or was offered already.
  void release(const WorkTicket& ticket);
  // The chain will get no more tasks (a WorkGuard closes its chain at its end).
  void close_chain(uint64_t chain);

 private:
  void work(const std::function<void()>& on_start);
  // Under mutex_: drops the chain's deferred index and open mark; whether it was open.
  bool forget_chain(uint64_t chain);
  // Under mutex_: the task a worker should run next, if any.
  std::shared_ptr<WorkTicket::Task> next_task();

  struct RunFirst {
    bool operator()(const std::shared_ptr<WorkTicket::Task>& a, const std::shared_ptr<WorkTicket::Task>& b) const;
  };
  std::mutex mutex_;
  std::condition_variable ready_;
  std::set<std::shared_ptr<WorkTicket::Task>, RunFirst> queue_;
  // On-demand tasks not yet offered, by chain rank, in submission order.
  std::map<uint64_t, std::vector<std::shared_ptr<WorkTicket::Task>>> deferred_;
  std::set<uint64_t> open_chains_;        // started ahead of their release
  std::multiset<uint64_t> busy_chains_;   // chains a worker is running a task of
  size_t open_chains_limit_ = 0;
  uint64_t submitted_ = 0;
  std::atomic<uint64_t> chains_{0};
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// submit() on `pool`, or, without a pool, a ticket whose wait() runs the task.
WorkTicket submit_work(WorkPool* pool, std::function<void()> task, uint64_t chain = 0, Start start = Start::now);
// release() on `pool`; nothing without one (the ticket's wait() runs it).
void release_work(WorkPool* pool, const WorkTicket& ticket);
// open_chain() on `pool`; 0 without one.
uint64_t open_chain(WorkPool* pool);

}  // namespace sflsim::core
