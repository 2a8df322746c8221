#pragma once
// The slots of the kernel's pending operations (sleeps, compute jobs,
// transfers, receivers, flows, messages in flight): a vector whose freed
// slots are reused, the most recently freed first, so an operation is found
// by a 32-bit index and the table stops growing once a run reaches its
// steady state. A slot's generation counts its uses; a handle carries the
// generation it was taken with, so a stale handle (a timer or a canceller
// that outlived its operation) is told from the slot's next user.
//
// T is the slot: it has `std::uint32_t generation` and `bool active`,
// which the table keeps; everything else in it is its user's, and a taken
// slot holds whatever its last user left there.
//
// Virtual time: none. Errors: none (an index given to [] or release() is not checked). Ownership: the
// table owns its slots; a reference to one is valid until the next take().
#include <cstdint>
#include <vector>

namespace sflsim::core {

// A taken slot's index and the generation it was taken with.
struct SlotId {
  std::uint32_t index = 0;
  std::uint32_t generation = 0;

  // Both in one timer argument: generation in the high half, index in the low.
  std::uint64_t packed() const { return (std::uint64_t{generation} << 32) | index; }
  static SlotId unpack(std::uint64_t packed) {
    return {static_cast<std::uint32_t>(packed), static_cast<std::uint32_t>(packed >> 32)};
  }
};

template <typename T>
class SlotTable {
 public:
  // A free slot, now active, with its generation advanced.
  SlotId take() {
    std::uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      index = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    T& slot = slots_[index];
    slot.active = true;
    return {index, ++slot.generation};
  }
  void release(std::uint32_t index) {
    slots_[index].active = false;
    free_.push_back(index);
  }
  // Whether `id` still names its operation (taken, not released since); any id may be asked about.
  bool holds(SlotId id) const {
    return id.index < slots_.size() && slots_[id.index].active && slots_[id.index].generation == id.generation;
  }

  T& operator[](std::uint32_t index) { return slots_[index]; }
  const T& operator[](std::uint32_t index) const { return slots_[index]; }
  std::size_t size() const { return slots_.size(); }
  void clear() {
    slots_.clear();
    free_.clear();
  }
  bool none_taken() const { return free_.size() == slots_.size(); }
  // Every slot, taken or free (test `active`).
  auto begin() const { return slots_.begin(); }
  auto end() const { return slots_.end(); }
  auto begin() { return slots_.begin(); }
  auto end() { return slots_.end(); }

 private:
  std::vector<T> slots_;
  std::vector<std::uint32_t> free_;
};

}  // namespace sflsim::core
