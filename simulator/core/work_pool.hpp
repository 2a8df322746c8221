#pragma once
// Real computation off the simulation thread, while virtual time is charged.
//
// Virtual time is charged, not measured, so an actor's arithmetic need not be
// done when the actor moves on in virtual time: it is submitted as a task and
// waited for only where a value decides what happens next (in sflsim: when
// the server folds an upload into the round's sum, itself a task; see
// in_order.hpp). Tasks that depend on earlier tasks wait for them first, so
// the tasks of one client form a chain:
//
//   WorkTicket step = submit_work(pool, [=] { previous.wait(); ... }, Start::on_demand);
//   co_await device.compute(flops);  // virtual time, whatever the task costs
//   ...
//   step.wait();                     // the value is needed from here on
//
// A task submitted Start::now is offered to the workers at once, in
// submission order; one submitted Start::on_demand runs only when something
// waits for it, on that thread, with the earlier tasks of its chain inline.
// A client defers its round's tasks and the server's fold of its upload runs
// them in one go, so the state a chain allocates (a server replica, an
// autograd graph held until the server's gradient comes) is alive for about
// as many chains as there are workers, not for every client that is training
// in virtual time.
//
// Results do not depend on the number of workers as long as each task reads
// only what its waited-for predecessors wrote: tasks run whole, each on one
// thread. Costs no virtual time; wait() blocks in wall time only.
// Errors: an exception thrown by a task is rethrown by every wait() on it.
// Ownership: a task owns its captures until it has run; whatever it captures
// by reference must outlive it.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
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
  // As wait(), but a task offered to the workers (Start::now) is left to
  // them: the waiting thread then adds no work (and no autograd graph) of
  // its own to the workers'. Others run here as in wait().
  void wait_for_workers() const;
  bool pending() const;

 private:
  friend class WorkPool;
  struct Task;
  explicit WorkTicket(std::shared_ptr<Task> task) : task_(std::move(task)) {}
  std::shared_ptr<Task> task_;
};

enum class Start {
  now,        // offered to the workers at once
  on_demand,  // run by the first wait()
};

class WorkPool {
 public:
  // `workers` background threads; 0 runs every task on the thread that waits
  // for it. `on_worker_start` runs once on each worker before its first task
  // (to pin a math library's own thread count, for example).
  explicit WorkPool(int workers, std::function<void()> on_worker_start = {});
  ~WorkPool();  // lets the workers finish the queue, then joins them
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  int workers() const { return static_cast<int>(threads_.size()); }
  WorkTicket submit(std::function<void()> task, Start start = Start::now);

 private:
  void work(const std::function<void()>& on_start);

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<WorkTicket::Task>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// submit() on `pool`, or, without a pool, a ticket whose wait() runs the task.
WorkTicket submit_work(WorkPool* pool, std::function<void()> task, Start start = Start::now);

}  // namespace sflsim::core
