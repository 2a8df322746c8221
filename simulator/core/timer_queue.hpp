#pragma once
// The simulation's timer heap: every future event in virtual time.
//
// Why not Asio timers: they wait on the OS clock (timerfd/epoll), so a clock
// that jumps is never noticed by io_context::poll(). The Simulation owns this
// heap instead and resumes Asio handlers itself (libsimulator's design).
//
// Order: (time, sequence number). The sequence number grows with every
// schedule() call, so events at the same instant fire in insertion order and
// every run is deterministic. Cancellation is O(1) and lazy: the slot is
// freed at once and the stale heap entry is skipped when it reaches the top.
#include "simulator/core/time.hpp"

#include <cstdint>
#include <vector>

namespace sflsim::core {

// A kernel callback: a function pointer, its object and one argument. Kept
// this plain so scheduling neither allocates nor type-erases.
struct TimerCallback {
  void (*fn)(void* object, std::uint64_t arg) = nullptr;
  void* object = nullptr;
  std::uint64_t arg = 0;
};

// Names one scheduled event. Safe to keep after the event fired or was
// cancelled (then pending() is false and cancel() does nothing), like ns-3's
// EventId. A default-constructed handle names nothing.
struct TimerHandle {
  std::uint32_t slot = 0;
  std::uint64_t seq = 0;  // 0: names nothing
};

class TimerQueue {
 public:
  TimerHandle schedule(SimTime when, TimerCallback callback);
  // Returns true if the event was still pending; resets the handle.
  bool cancel(TimerHandle& handle);
  bool pending(TimerHandle handle) const;

  // Number of pending (not cancelled, not fired) events.
  std::size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

  // Time of the earliest pending event; precondition: !empty().
  SimTime next_time();
  // Removes the earliest pending event and returns its callback; precondition:
  // !empty(). Call next_time() first to learn when it is due.
  TimerCallback pop();

 private:
  struct Entry {
    std::int64_t time;
    std::uint64_t seq;
    std::uint32_t slot;
  };
  struct Slot {
    TimerCallback callback;
    std::uint64_t seq = 0;  // 0: free
  };
  static bool later(const Entry& a, const Entry& b) {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
  }
  void drop_stale_top();
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);

  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t next_seq_ = 1;
  std::size_t live_ = 0;
};

}  // namespace sflsim::core
