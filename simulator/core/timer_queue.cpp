#include "simulator/core/timer_queue.hpp"

#include <algorithm>
#include <stdexcept>

namespace sflsim::core {

TimerHandle TimerQueue::schedule(SimTime when, TimerCallback callback) {
  if (next_seq_ == kSeqLimit) renumber();
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (slots_.size() >= kMaxPending) throw std::length_error("TimerQueue: too many pending events");
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  const std::uint64_t seq = next_seq_++;
  s.callback = callback;
  s.seq = seq;
  if (++s.generation == 0) s.generation = 1;
  const auto time = static_cast<std::uint64_t>(ns_since_start(when));
  heap_.push_back((static_cast<Key>(time) << 64) | (seq << 24) | slot);
  sift_up(heap_.size() - 1);
  ++live_;
  return TimerHandle{slot, s.generation};
}

void TimerQueue::release(std::uint32_t slot) {
  slots_[slot].seq = 0;
  free_slots_.push_back(slot);
  --live_;
}

bool TimerQueue::cancel(TimerHandle& handle) {
  const bool was_pending = pending(handle);
  if (was_pending) release(handle.slot);  // its heap entry goes stale
  handle = TimerHandle{};
  return was_pending;
}

bool TimerQueue::pending(TimerHandle handle) const {
  return handle.generation != 0 && handle.slot < slots_.size() && slots_[handle.slot].generation == handle.generation &&
         slots_[handle.slot].seq != 0;
}

void TimerQueue::remove_top() {
  heap_.front() = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) sift_down(0);
}

void TimerQueue::drop_stale_top() {
  while (!heap_.empty() && !live(heap_.front())) remove_top();
}

SimTime TimerQueue::next_time() {
  drop_stale_top();
  return SimTime{SimDuration{static_cast<std::int64_t>(heap_.front() >> 64)}};
}

TimerCallback TimerQueue::pop() {
  drop_stale_top();
  const std::uint32_t slot = slot_of(heap_.front());
  remove_top();
  const TimerCallback callback = slots_[slot].callback;
  release(slot);
  return callback;
}

// Keeps the order of the live entries and gives them sequence numbers 1..n,
// dropping stale entries on the way.
void TimerQueue::renumber() {
  std::vector<Key> entries;
  entries.reserve(live_);
  for (const Key key : heap_) {
    if (live(key)) entries.push_back(key);
  }
  std::sort(entries.begin(), entries.end());
  heap_.clear();
  next_seq_ = 1;
  for (const Key key : entries) {
    const std::uint32_t slot = slot_of(key);
    const std::uint64_t seq = next_seq_++;
    slots_[slot].seq = seq;
    heap_.push_back(((key >> 64) << 64) | (seq << 24) | slot);  // sorted order is a valid heap
  }
}

// A 4-ary heap of 16-byte keys: four children fill one cache line, and the
// tree is half as deep as a binary heap.
void TimerQueue::sift_up(std::size_t i) {
  const Key moving = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 4;
    if (heap_[parent] <= moving) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = moving;
}

void TimerQueue::sift_down(std::size_t i) {
  const std::size_t n = heap_.size();
  const Key moving = heap_[i];
  for (;;) {
    const std::size_t first = 4 * i + 1;
    if (first >= n) break;
    std::size_t best = first;
    const std::size_t last = std::min(first + 4, n);
    for (std::size_t c = first + 1; c < last; ++c) {
      if (heap_[c] < heap_[best]) best = c;
    }
    if (moving <= heap_[best]) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = moving;
}

}  // namespace sflsim::core
