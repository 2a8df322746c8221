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
  std::uint32_t generation = 0;  // 0: names nothing
};

class TimerQueue {
 public:
  // Throws std::length_error beyond kMaxPending pending events.
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

  static constexpr std::uint32_t kMaxPending = (1u << 24) - 1;

 private:
  // One heap entry is a single 128-bit key, compared in one operation:
  //   time (64 bits) | sequence number (40 bits) | slot (24 bits)
  // The sequence number decides ties and, with the slot's own copy, tells a
  // live entry from a cancelled one. Before it would wrap (after 2^40
  // schedule calls), the live entries are renumbered in order.
  __extension__ using Key = unsigned __int128;
  static constexpr std::uint64_t kSeqLimit = std::uint64_t{1} << 40;
  struct Slot {
    TimerCallback callback;
    std::uint64_t seq = 0;         // sequence number of its live entry; 0: free
    std::uint32_t generation = 0;  // bumped on every reuse, for handles
  };
  static std::uint32_t slot_of(Key key) { return static_cast<std::uint32_t>(key) & kMaxPending; }
  static std::uint64_t seq_of(Key key) { return (static_cast<std::uint64_t>(key) >> 24); }
  bool live(Key key) const { return slots_[slot_of(key)].seq == seq_of(key); }
  void drop_stale_top();
  void remove_top();
  void renumber();
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void release(std::uint32_t slot);

  std::vector<Key> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t next_seq_ = 1;
  std::size_t live_ = 0;
};

}  // namespace sflsim::core
