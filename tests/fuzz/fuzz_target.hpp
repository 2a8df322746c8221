#pragma once
// Plumbing shared by the fuzz harnesses (tests/fuzz/README.md).
//
// A harness is one file tests/fuzz/fuzz_<target>.cpp holding
//
//   SFLSIM_FUZZ_TARGET(<target>) { ... use `input` (std::string_view) ... }
//
// It feeds the input to the reader under test, returns normally when the
// reader accepts it or throws one of the documented error types (checked with
// check_message), and calls finding() for anything else it can check. Any
// other exception, a crash, a sanitizer report or a hang is a finding too.
//
// Built two ways from the same source (tests/fuzz/CMakeLists.txt):
//   -DSFLSIM_FUZZ=ON: one AFL++ binary per target (LLVMFuzzerTestOneInput,
//     driven by AFL++'s libAFLDriver in persistent, shared-memory mode);
//   normal build: all harnesses in one plain `fuzz_replay` binary that replays
//     corpus/<target>/ and regressions/<target>/ (CTest fuzz_replay_<target>).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sflsim::fuzz {

using TargetFn = void (*)(std::string_view input);

// Replay build: makes a harness known to fuzz_replay by name.
struct Registration {
  Registration(const char* name, TargetFn fn);
};
struct Target {
  const char* name;
  TargetFn fn;
};
const std::vector<Target>& targets();

// An input that holds several files: the parts between separators.
inline constexpr std::string_view kSeparator = "\n#SFLSIM-FILE#\n";
std::vector<std::string_view> split_parts(std::string_view input);

// A per-process scratch directory under $SFLSIM_FUZZ_TMP, else /dev/shm, else
// the system temp directory; removed at a normal exit.
const std::filesystem::path& scratch_dir();
// Empties the scratch directory (each input starts from nothing).
void clear_scratch();
void write_file(const std::filesystem::path& path, std::string_view bytes);
// The same bytes as a gzip stream (zlib level 1).
void write_gzip_file(const std::filesystem::path& path, std::string_view bytes);

// A finding: prints it to stderr and aborts (AFL++ records a crash; the
// replay test fails).
[[noreturn]] void finding(const std::string& what);
// An expected error's message must be non-empty and one line, and start with
// `prefix` (when not empty); else a finding.
void check_message(const char* type, const std::string& message, std::string_view prefix = {});

// Runs one harness on one input, turning an unexpected exception into a finding.
void run_one(const char* target, TargetFn fn, std::string_view input);

}  // namespace sflsim::fuzz

#ifdef SFLSIM_FUZZ_AFL
#define SFLSIM_FUZZ_TARGET(name)                                                         \
  static void sflsim_fuzz_##name(std::string_view input);                                \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {              \
    ::sflsim::fuzz::run_one(#name, sflsim_fuzz_##name,                                   \
                            std::string_view(reinterpret_cast<const char*>(data), size)); \
    return 0;                                                                            \
  }                                                                                      \
  static void sflsim_fuzz_##name(std::string_view input)
#else
#define SFLSIM_FUZZ_TARGET(name)                                                                      \
  static void sflsim_fuzz_##name(std::string_view input);                                             \
  static const ::sflsim::fuzz::Registration sflsim_fuzz_registration_##name(#name, sflsim_fuzz_##name); \
  static void sflsim_fuzz_##name(std::string_view input)
#endif
