#pragma once
// Memory for suspended operations' completion handlers.
//
// Why: every await on a link, device or sleep type-erases its handler
// (asio::any_completion_handler), which allocates. Asio's per-thread
// recycling cache keeps only a couple of blocks per purpose, while a
// simulation holds one suspended handler per actor, so without this pool
// almost every await would go to malloc and free. The pool keeps free lists
// per 64-byte size class and never returns memory before it is destroyed.
// Single-threaded, like the Simulation that owns it.
#include <cstddef>
#include <new>
#include <vector>

namespace sflsim::core {

class HandlerPool {
 public:
  HandlerPool() = default;
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;
  ~HandlerPool() {
    for (auto& list : free_) {
      for (void* p : list) ::operator delete(p, std::align_val_t{kAlign});
    }
  }

  void* allocate(std::size_t bytes, std::size_t align) {
    const std::size_t c = size_class(bytes);
    if (c >= kClasses || align > kAlign) return ::operator new(bytes, std::align_val_t{align});
    auto& list = free_[c];
    if (list.empty()) return ::operator new((c + 1) * kGranule, std::align_val_t{kAlign});
    void* p = list.back();
    list.pop_back();
    return p;
  }

  void deallocate(void* p, std::size_t bytes, std::size_t align) {
    const std::size_t c = size_class(bytes);
    if (c >= kClasses || align > kAlign) return ::operator delete(p, std::align_val_t{align});
    free_[c].push_back(p);
  }

 private:
  static constexpr std::size_t kGranule = 64;
  static constexpr std::size_t kClasses = 16;  // up to 1 KiB
  static constexpr std::size_t kAlign = 16;
  static std::size_t size_class(std::size_t bytes) { return bytes == 0 ? 0 : (bytes - 1) / kGranule; }
  std::vector<void*> free_[kClasses];
};

// A standard allocator over a HandlerPool, to bind to handlers with
// asio::bind_allocator before they are type-erased.
template <typename T>
class PoolAllocator {
 public:
  using value_type = T;
  explicit PoolAllocator(HandlerPool& pool) noexcept : pool_(&pool) {}
  template <typename U>
  PoolAllocator(const PoolAllocator<U>& other) noexcept : pool_(other.pool()) {}  // NOLINT: rebinding

  T* allocate(std::size_t n) { return static_cast<T*>(pool_->allocate(n * sizeof(T), alignof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { pool_->deallocate(p, n * sizeof(T), alignof(T)); }
  HandlerPool* pool() const noexcept { return pool_; }

  template <typename U>
  friend bool operator==(const PoolAllocator& a, const PoolAllocator<U>& b) noexcept {
    return a.pool() == b.pool();
  }

 private:
  HandlerPool* pool_;
};

}  // namespace sflsim::core
