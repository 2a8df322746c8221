#include "simulator/core/timer_queue.hpp"

#include <utility>

namespace sflsim::core {

TimerHandle TimerQueue::schedule(SimTime when, TimerCallback callback) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  const std::uint64_t seq = next_seq_++;
  slots_[slot] = Slot{callback, seq};
  heap_.push_back(Entry{ns_since_start(when), seq, slot});
  sift_up(heap_.size() - 1);
  ++live_;
  return TimerHandle{slot, seq};
}

bool TimerQueue::cancel(TimerHandle& handle) {
  const bool was_pending = pending(handle);
  if (was_pending) {
    slots_[handle.slot].seq = 0;
    free_slots_.push_back(handle.slot);
    --live_;
  }
  handle = TimerHandle{};
  return was_pending;
}

bool TimerQueue::pending(TimerHandle handle) const {
  return handle.seq != 0 && handle.slot < slots_.size() && slots_[handle.slot].seq == handle.seq;
}

void TimerQueue::drop_stale_top() {
  while (!heap_.empty() && slots_[heap_.front().slot].seq != heap_.front().seq) {
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0);
  }
}

SimTime TimerQueue::next_time() {
  drop_stale_top();
  return SimTime{SimDuration{heap_.front().time}};
}

TimerCallback TimerQueue::pop() {
  drop_stale_top();
  const Entry top = heap_.front();
  heap_.front() = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) sift_down(0);
  Slot& slot = slots_[top.slot];
  const TimerCallback callback = slot.callback;
  slot.seq = 0;
  free_slots_.push_back(top.slot);
  --live_;
  return callback;
}

// A 4-ary heap: shallower than a binary heap, and the four children share a
// cache line or two, which matters with a million pending events.
void TimerQueue::sift_up(std::size_t i) {
  const Entry moving = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 4;
    if (!later(heap_[parent], moving)) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = moving;
}

void TimerQueue::sift_down(std::size_t i) {
  const std::size_t n = heap_.size();
  const Entry moving = heap_[i];
  for (;;) {
    const std::size_t first = 4 * i + 1;
    if (first >= n) break;
    std::size_t best = first;
    const std::size_t last = first + 4 < n ? first + 4 : n;
    for (std::size_t c = first + 1; c < last; ++c) {
      if (later(heap_[best], heap_[c])) best = c;
    }
    if (!later(moving, heap_[best])) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = moving;
}

}  // namespace sflsim::core
