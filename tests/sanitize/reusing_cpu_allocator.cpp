// Linked into every LibTorch executable of an AddressSanitizer build (the
// top-level CMakeLists.txt): LibTorch's CPU buffers, kept for reuse.
//
// Why: ASan's allocator maps every block over 128 KiB fresh from the kernel
// and unmaps it on free, so each activation tensor of a training step paid
// its page faults again. One 6 s test took 27 s sanitized, 12 s of it in the
// kernel; the sanitized suite spent most of CI's time there.
//
// What ASan still sees: a kept buffer is poisoned until it is handed out
// again, so a use after free of tensor memory is still reported (until the
// buffer's reuse); a buffer keeps its exact size, so the redzones of the
// malloc behind it still catch overflows. Buffers under 64 KiB, which ASan
// serves from its own size classes, go straight back to it.
#include <c10/core/CPUAllocator.h>
#include <sanitizer/asan_interface.h>

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace {

constexpr std::size_t kAlignment = 64;                  // c10's own (alloc_cpu)
constexpr std::size_t kSmallest = std::size_t{64} << 10;
constexpr std::size_t kMostKept = std::size_t{4} << 30;  // bytes held unused at most

class ReusingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(std::size_t bytes) const override {
    void* data = bytes == 0 ? nullptr : take(bytes);
    return {data, data, &give_back, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &give_back; }

 private:
  static void* take(std::size_t bytes) {
    {
      const std::lock_guard<std::mutex> lock(mutex());
      std::vector<void*>& kept = free_lists()[bytes];
      if (!kept.empty()) {
        void* data = kept.back();
        kept.pop_back();
        kept_bytes() -= bytes;
        ASAN_UNPOISON_MEMORY_REGION(data, bytes);
        return data;
      }
    }
    void* data = nullptr;
    if (posix_memalign(&data, kAlignment, bytes) != 0) throw std::bad_alloc();
    const std::lock_guard<std::mutex> lock(mutex());
    sizes()[data] = bytes;
    return data;
  }

  static void give_back(void* data) {
    if (data == nullptr) return;
    std::unique_lock<std::mutex> lock(mutex());
    const auto it = sizes().find(data);
    const std::size_t bytes = it->second;
    if (bytes < kSmallest || kept_bytes() + bytes > kMostKept) {
      sizes().erase(it);
      lock.unlock();
      std::free(data);
      return;
    }
    ASAN_POISON_MEMORY_REGION(data, bytes);
    free_lists()[bytes].push_back(data);
    kept_bytes() += bytes;
  }

  // Never destroyed: tensors may be freed during static destruction, and
  // LeakSanitizer sees the kept buffers as reachable through these.
  static std::mutex& mutex() { static auto* m = new std::mutex; return *m; }
  static std::unordered_map<void*, std::size_t>& sizes() {
    static auto* m = new std::unordered_map<void*, std::size_t>;
    return *m;
  }
  static std::unordered_map<std::size_t, std::vector<void*>>& free_lists() {
    static auto* m = new std::unordered_map<std::size_t, std::vector<void*>>;
    return *m;
  }
  static std::size_t& kept_bytes() { static std::size_t n = 0; return n; }
};

// Priority 1 outranks LibTorch's default CPU allocator (registered at 0 when libc10 loads).
[[maybe_unused]] const bool installed = [] {
  c10::SetCPUAllocator(new ReusingCpuAllocator, 1);
  return true;
}();

}  // namespace
