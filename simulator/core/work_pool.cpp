#include "simulator/core/work_pool.hpp"

#include <algorithm>

namespace sflsim::core {

struct WorkTicket::Task {
  enum State { queued, running, done };
  std::function<void()> body;
  std::atomic<bool> offered{false};  // put in a pool's queue
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
  void wait_until_done() {
    std::unique_lock lock(mutex);
    finished.wait(lock, [&] { return state == done; });
  }
};

void WorkTicket::wait() const {
  if (!task_) return;
  Task& task = *task_;
  if (task.claim()) {
    task.run();
  } else {
    task.wait_until_done();
  }
  if (task.error) std::rethrow_exception(task.error);
}

void WorkTicket::wait_for_workers() const {
  if (task_ && task_->offered) task_->wait_until_done();
  wait();  // runs a task nobody was offered; rethrows the task's error
}

bool WorkTicket::pending() const { return task_ && task_->state != Task::done; }

WorkPool::WorkPool(int workers, std::function<void()> on_worker_start) {
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

WorkTicket WorkPool::submit(std::function<void()> body, Start start) {
  auto task = std::make_shared<WorkTicket::Task>();
  task->body = std::move(body);
  if (threads_.empty() || start != Start::now) return WorkTicket(std::move(task));
  task->offered = true;
  {
    const std::lock_guard lock(mutex_);
    queue_.push_back(task);
  }
  ready_.notify_one();
  return WorkTicket(std::move(task));
}

void WorkPool::work(const std::function<void()>& on_start) {
  if (on_start) on_start();
  while (true) {
    std::shared_ptr<WorkTicket::Task> task;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping; on-demand tasks are run by whoever waits for them
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    if (task->claim()) task->run();  // else a wait() runs it already
  }
}

WorkTicket submit_work(WorkPool* pool, std::function<void()> body, Start start) {
  if (pool != nullptr) return pool->submit(std::move(body), start);
  static WorkPool inline_pool(0);
  return inline_pool.submit(std::move(body), start);
}

}  // namespace sflsim::core
