// Edge coverage for AFL++ from GCC's own instrumentation.
//
// Debian 12's afl++ 4.04c ships a GCC plugin (afl-g++-fast) built against
// gcc 12.2.0-14, and it refuses the updated gcc 12.2.0-14+deb12u1 ("GCC and
// plugin have incompatible versions"); classic afl-g++ has no persistent or
// deferred mode; and clang 14 (afl-clang-fast) rejects LibTorch's headers in
// C++20. So the fuzz build compiles everything with g++
// -fsanitize-coverage=trace-pc, which calls the function below at the start
// of every basic block, and links AFL++'s own runtime (afl-compiler-rt.o:
// fork server, shared-memory map, persistent loop) and libAFLDriver.a. This
// file turns block addresses into AFL-style edges (prev ^ cur) in AFL's map.
// It is compiled without coverage or sanitizers (tests/fuzz/CMakeLists.txt).
#include <cstdint>

extern "C" {
extern uint8_t* __afl_area_ptr;     // afl-compiler-rt.o: the shared map (a dummy one outside afl-fuzz)
extern const char __executable_start;  // linker-defined: addresses are taken relative to it (ASLR)
}

namespace {
constexpr unsigned kMapBits = 16;  // AFL's default map: 65536 bytes
thread_local uint32_t previous_block = 0;
}  // namespace

// Called before each input (support.cpp run_one): its first edge does not depend on the previous input.
extern "C" void sflsim_fuzz_reset_coverage() { previous_block = 0; }

extern "C" __attribute__((no_sanitize_coverage, no_sanitize("address", "undefined"))) void
__sanitizer_cov_trace_pc() {
  const auto pc = reinterpret_cast<uintptr_t>(__builtin_return_address(0)) -
                  reinterpret_cast<uintptr_t>(&__executable_start);
  const auto block = static_cast<uint32_t>((static_cast<uint64_t>(pc) * 0x9E3779B97F4A7C15ULL) >> (64 - kMapBits));
  __afl_area_ptr[block ^ previous_block]++;
  previous_block = block >> 1;
}
