// fuzz_replay: runs the fuzz harnesses without AFL++ (normal compiler).
//   fuzz_replay --list
//   fuzz_replay TARGET PATH...   each PATH a file or a directory of files (not recursive);
//                                missing PATHs are skipped, but at least one input must run.
// Exit 0 when every input is accepted or rejected the documented way; a finding aborts.
// As under scripts/fuzz.sh, a huge allocation fails (LibTorch then throws: a finding):
// over 2 GiB in an ASan build, else past a 4 GiB limit on the data segment.
#include "fuzz_target.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

#if defined(__SANITIZE_ADDRESS__)
extern "C" const char* __asan_default_options() { return "max_allocation_size_mb=2048:allocator_may_return_null=1"; }
#endif

int main(int argc, char** argv) {
#if !defined(__SANITIZE_ADDRESS__)
  constexpr rlim_t kDataLimit = rlim_t{4} << 30;
  const rlimit limit{kDataLimit, kDataLimit};
  setrlimit(RLIMIT_DATA, &limit);
#endif
  const auto& targets = sflsim::fuzz::targets();
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
    for (const auto& t : targets) std::printf("%s\n", t.name);
    return 0;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: fuzz_replay --list | TARGET PATH...\n");
    return 2;
  }
  const auto target = std::find_if(targets.begin(), targets.end(),
                                   [&](const auto& t) { return std::strcmp(t.name, argv[1]) == 0; });
  if (target == targets.end()) {
    std::fprintf(stderr, "fuzz_replay: unknown target '%s' (see --list)\n", argv[1]);
    return 2;
  }
  std::vector<fs::path> inputs;
  for (int i = 2; i < argc; ++i) {
    std::error_code ec;
    if (fs::is_directory(argv[i], ec)) {
      std::vector<fs::path> in_dir;
      for (const auto& entry : fs::directory_iterator(argv[i])) {
        if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') in_dir.push_back(entry.path());
      }
      std::sort(in_dir.begin(), in_dir.end());
      inputs.insert(inputs.end(), in_dir.begin(), in_dir.end());
    } else if (fs::is_regular_file(argv[i], ec)) {
      inputs.emplace_back(argv[i]);
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "fuzz_replay: no inputs for %s\n", target->name);
    return 1;
  }
  for (const fs::path& file : inputs) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    std::fprintf(stderr, "%s: %s\n", target->name, file.c_str());
    sflsim::fuzz::run_one(target->name, target->fn, bytes.str());
  }
  std::printf("fuzz_replay %s: %zu inputs, no finding\n", target->name, inputs.size());
  return 0;
}
