#include "simulator/core/in_order.hpp"

namespace sflsim::core {

InOrder::~InOrder() {
  try {
    wait();
  } catch (...) {
    // Nobody asked for the result any more; the error goes with it.
  }
}

void InOrder::add(std::vector<WorkTicket> inputs, std::function<void()> step) {
  const size_t index = tasks_.size();
  tasks_.push_back(submit_work(
      pool_,
      [this, index, inputs = std::move(inputs), step = std::move(step)]() mutable {
        for (const WorkTicket& input : inputs) input.wait();
        hand_over(index, std::move(step));
      },
      Start::now));
}

void InOrder::hand_over(size_t index, std::function<void()> step) {
  std::unique_lock lock(mutex_);
  waiting_.emplace(index, std::move(step));
  if (running_) return;  // that thread runs it when its turn comes
  running_ = true;
  while (!waiting_.empty() && waiting_.begin()->first == next_) {
    std::function<void()> now = std::move(waiting_.begin()->second);
    waiting_.erase(waiting_.begin());
    ++next_;
    lock.unlock();
    try {
      now();
    } catch (...) {
      lock.lock();
      running_ = false;
      throw;
    }
    now = nullptr;  // its captures go before the next step's
    lock.lock();
  }
  running_ = false;
}

void InOrder::wait() {
  for (const WorkTicket& task : tasks_) task.wait_for_workers();
}

}  // namespace sflsim::core
