#include "simulator/core/work_pool.hpp"

#include <algorithm>
#include <atomic>

namespace sflsim::core {

struct WorkTicket::Task {
  enum State { queued, running, done };
  std::function<void()> body;
  WorkPool* pool = nullptr;  // null: the inline pool
  uint64_t chain = 0;
  bool may_run_ahead = true;  // false: Start::on_demand_not_ahead
  std::atomic<bool> offered{false};  // put in the workers' queue
  uint64_t sequence = 0;  // submission order
  std::atomic<int> state{queued};
  std::exception_ptr error;
  std::mutex mutex;
  std::condition_variable finished;

  // Whoever moves the task from queued to running runs it; others skip it.
  bool claim() {
    int expected = queued;
    return state.compare_exchange_strong(expected, running);
  }
  void run() {
    try {
      body();
    } catch (...) {
      error = std::current_exception();
    }
    body = nullptr;  // release the captures on the running thread
    {
      const std::lock_guard lock(mutex);
      state = done;
    }
    finished.notify_all();
  }
};

void WorkTicket::wait() const {
  if (!task_) return;
  Task& task = *task_;
  if (task.claim()) {
    task.run();
  } else {
    std::unique_lock lock(task.mutex);
    task.finished.wait(lock, [&] { return task.state == Task::done; });
  }
  if (task.error) std::rethrow_exception(task.error);
}

void WorkTicket::wait_for_workers() const {
  if (!task_) return;
  if (!task_->offered) return wait();
  Task& task = *task_;
  {
    std::unique_lock lock(task.mutex);
    task.finished.wait(lock, [&] { return task.state == Task::done; });
  }
  if (task.error) std::rethrow_exception(task.error);
}

bool WorkTicket::pending() const { return task_ && task_->state != Task::done; }

uint64_t WorkTicket::chain() const { return task_ ? task_->chain : 0; }

bool WorkPool::RunFirst::operator()(const std::shared_ptr<WorkTicket::Task>& a,
                                    const std::shared_ptr<WorkTicket::Task>& b) const {
  if (a->chain != b->chain) return a->chain < b->chain;
  return a->sequence > b->sequence;
}

WorkGuard::~WorkGuard() {
  try {
    last.wait();
  } catch (...) {
    // Nobody asked for the result any more; the error goes with it.
  }
  if (last.task_ && last.task_->pool) last.task_->pool->close_chain(last.task_->chain);
}

WorkPool::WorkPool(int workers, std::function<void()> on_worker_start, int open_chains_limit)
    : open_chains_limit_(static_cast<size_t>(std::max(0, open_chains_limit))) {
  threads_.reserve(static_cast<size_t>(std::max(0, workers)));
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this, on_worker_start] { work(on_worker_start); });
}

WorkPool::~WorkPool() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

WorkTicket WorkPool::submit(std::function<void()> body, uint64_t chain, Start start) {
  auto task = std::make_shared<WorkTicket::Task>();
  task->body = std::move(body);
  task->chain = chain;
  task->may_run_ahead = start != Start::on_demand_not_ahead;
  if (threads_.empty()) return WorkTicket(std::move(task));
  task->pool = this;
  {
    const std::lock_guard lock(mutex_);
    task->sequence = ++submitted_;
    if (start == Start::now) {
      task->offered = true;
      queue_.insert(task);
    } else if (chain != 0) {
      deferred_[chain].push_back(task);
    }
  }
  ready_.notify_one();
  return WorkTicket(std::move(task));
}

bool WorkPool::forget_chain(uint64_t chain) {
  deferred_.erase(chain);
  return open_chains_.erase(chain) != 0;
}

void WorkPool::release(const WorkTicket& ticket) {
  if (threads_.empty() || !ticket.task_) return;
  {
    const std::lock_guard lock(mutex_);
    forget_chain(ticket.task_->chain);
    // A released chain ranks after every chain released before it (chains
    // are finished in the order the simulation finished them), unless it
    // was offered already (its rank is its key in the queue).
    // Workers claim tasks under mutex_, so a queued one is no worker's.
    if (ticket.task_->state == WorkTicket::Task::queued && queue_.count(ticket.task_) == 0) {
      ticket.task_->chain = ++chains_;
      ticket.task_->offered = true;
      queue_.insert(ticket.task_);
    }
  }
  ready_.notify_all();  // the task, and room for another chain ahead
}

void WorkPool::close_chain(uint64_t chain) {
  {
    const std::lock_guard lock(mutex_);
    if (!forget_chain(chain)) return;
  }
  ready_.notify_all();  // an idle worker may start another chain now
}

// The oldest chain's newest task first (see the header): chains are finished
// one after another rather than all started at once.
std::shared_ptr<WorkTicket::Task> WorkPool::next_task() {
  // A task of a chain another worker is in would only wait for that worker.
  const auto busy = [this](uint64_t chain) { return chain != 0 && busy_chains_.count(chain) != 0; };
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (busy((*it)->chain)) {
      ++it;
      continue;
    }
    auto task = *it;
    it = queue_.erase(it);
    if (task->claim()) return task;  // else a wait() runs it already
  }
  // Ahead of release: an open chain's newest task that may run ahead, or the
  // oldest unopened chain's if another may be opened. Not-ahead tasks only in
  // the oldest chains, one per worker: those the simulation is likeliest to
  // wait for. Tasks that ran (inline, as a predecessor) are dropped.
  const auto newest_pending = [](std::vector<std::shared_ptr<WorkTicket::Task>>& tasks, bool holding_too) {
    for (size_t i = tasks.size(); i-- > 0;) {
      const auto at = tasks.begin() + static_cast<std::ptrdiff_t>(i);
      if ((*at)->state != WorkTicket::Task::queued) {
        tasks.erase(at);
      } else if ((holding_too || (*at)->may_run_ahead) && (*at)->claim()) {
        auto task = std::move(*at);
        tasks.erase(at);
        return task;
      }
    }
    return std::shared_ptr<WorkTicket::Task>();
  };
  const size_t holding_chains = threads_.size();
  size_t position = 0;  // among the open chains, oldest first
  for (const uint64_t chain : open_chains_) {
    const bool holding_too = position++ < holding_chains;
    if (busy(chain)) continue;
    auto found = deferred_.find(chain);
    if (found == deferred_.end()) continue;
    if (auto task = newest_pending(found->second, holding_too)) return task;
  }
  if (open_chains_.size() >= open_chains_limit_) return nullptr;
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    if (open_chains_.count(it->first) != 0 || busy(it->first)) {
      ++it;
      continue;
    }
    if (auto task = newest_pending(it->second, open_chains_.size() < holding_chains)) {
      open_chains_.insert(it->first);
      return task;
    }
    it = deferred_.erase(it);
  }
  return nullptr;
}

void WorkPool::work(const std::function<void()>& on_start) {
  if (on_start) on_start();
  while (true) {
    std::shared_ptr<WorkTicket::Task> task;  // claimed by next_task()
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return (task = next_task()) || stopping_; });
      if (!task) return;  // stopping; deferred tasks are run by whoever waits for them
      busy_chains_.insert(task->chain);
    }
    task->run();
    {
      const std::lock_guard lock(mutex_);
      busy_chains_.erase(busy_chains_.find(task->chain));
    }
    ready_.notify_all();  // the chain's later tasks may be taken now
  }
}

WorkTicket submit_work(WorkPool* pool, std::function<void()> body, uint64_t chain, Start start) {
  if (pool != nullptr) return pool->submit(std::move(body), chain, start);
  static WorkPool inline_pool(0);
  return inline_pool.submit(std::move(body), chain, start);
}

void release_work(WorkPool* pool, const WorkTicket& ticket) {
  if (pool != nullptr) pool->release(ticket);
}

uint64_t open_chain(WorkPool* pool) { return pool != nullptr ? pool->open_chain() : 0; }

}  // namespace sflsim::core
