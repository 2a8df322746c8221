#include "simulator/ranks/deadlines.hpp"

#include <optional>
#include <utility>
#include <vector>

namespace sflsim::ranks {

Deadlines::Deadlines() : thread_([this] { run(); }) {}

Deadlines::~Deadlines() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

std::uint64_t Deadlines::arm(int peer, Clock::time_point at, c10::intrusive_ptr<c10d::Work> work) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_id_++;
  entries_.emplace(id, Entry{peer, at, std::move(work), false});
  // Wake the timer thread only if it would sleep past `at` (most deadlines
  // come after the one it sleeps until: no wake-up per operation).
  if (at < sleeping_until_) changed_.notify_all();
  return id;
}

void Deadlines::disarm(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  entries_.erase(id);
}

void Deadlines::abort_peer(int peer) {
  std::vector<c10::intrusive_ptr<c10d::Work>> due;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, entry] : entries_) {
      if (entry.peer == peer && !entry.aborted) {
        entry.aborted = true;
        due.push_back(entry.work);
      }
    }
  }
  for (auto& work : due) work->abort();
}

void Deadlines::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    std::optional<Clock::time_point> earliest;
    std::vector<c10::intrusive_ptr<c10d::Work>> due;
    const auto now = Clock::now();
    for (auto& [id, entry] : entries_) {
      if (entry.aborted) continue;
      if (entry.at <= now) {
        entry.aborted = true;
        due.push_back(entry.work);
      } else if (!earliest || entry.at < *earliest) {
        earliest = entry.at;
      }
    }
    if (!due.empty()) {
      // abort() takes the buffer's lock; never hold ours meanwhile.
      lock.unlock();
      for (auto& work : due) work->abort();
      due.clear();
      lock.lock();
      continue;
    }
    // disarm() does not wake us: we wake at a deadline that may be gone.
    sleeping_until_ = earliest.value_or(Clock::time_point::max());
    if (earliest) {
      changed_.wait_until(lock, *earliest);
    } else {
      changed_.wait(lock);
    }
    sleeping_until_ = Clock::time_point::min();
  }
}

}  // namespace sflsim::ranks
