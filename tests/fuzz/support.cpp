#include "fuzz_target.hpp"

#include <cxxabi.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <typeinfo>

// afl_trace_pc.cpp, linked into the AFL++ binaries only.
extern "C" void sflsim_fuzz_reset_coverage() __attribute__((weak));

namespace sflsim::fuzz {
namespace fs = std::filesystem;

namespace {
std::vector<Target>& registry() {
  static std::vector<Target> all;
  return all;
}

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

// Owns the scratch directory; removes it at a normal exit.
struct Scratch {
  fs::path path;
  Scratch() {
    fs::path base;
    if (const char* env = std::getenv("SFLSIM_FUZZ_TMP"); env != nullptr && *env != '\0') {
      base = env;
    } else if (std::error_code ec; fs::is_directory("/dev/shm", ec)) {
      base = "/dev/shm";
    } else {
      base = fs::temp_directory_path();
    }
    path = base / ("sflsim-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};
}  // namespace

Registration::Registration(const char* name, TargetFn fn) { registry().push_back({name, fn}); }
const std::vector<Target>& targets() { return registry(); }

std::vector<std::string_view> split_parts(std::string_view input) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t at = input.find(kSeparator);
    parts.push_back(input.substr(0, at));
    if (at == std::string_view::npos) return parts;
    input.remove_prefix(at + kSeparator.size());
  }
}

const fs::path& scratch_dir() {
  static const Scratch scratch;
  return scratch.path;
}

void clear_scratch() {
  const fs::path& dir = scratch_dir();
  for (const auto& entry : fs::directory_iterator(dir)) fs::remove_all(entry.path());
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) finding("harness: cannot write " + path.string());
}

void write_gzip_file(const fs::path& path, std::string_view bytes) {
  gzFile f = gzopen(path.c_str(), "wb1");
  if (f == nullptr) finding("harness: cannot write " + path.string());
  size_t done = 0;
  while (done < bytes.size()) {
    const auto chunk = static_cast<unsigned>(std::min<size_t>(bytes.size() - done, size_t{1} << 20));
    if (gzwrite(f, bytes.data() + done, chunk) != static_cast<int>(chunk)) finding("harness: gzwrite failed");
    done += chunk;
  }
  if (gzclose(f) != Z_OK) finding("harness: gzclose failed");
}

void finding(const std::string& what) {
  std::fprintf(stderr, "sflsim-fuzz: FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void check_message(const char* type, const std::string& message, std::string_view prefix) {
  if (message.empty()) finding(std::string(type) + " with an empty message");
  if (message.find_first_of("\r\n") != std::string::npos) {
    finding(std::string(type) + " message is not one line: " + message);
  }
  if (!prefix.empty() && message.compare(0, prefix.size(), prefix) != 0) {
    finding(std::string(type) + " message does not start with '" + std::string(prefix) + "': " + message);
  }
}

void run_one(const char* target, TargetFn fn, std::string_view input) {
  if (sflsim_fuzz_reset_coverage != nullptr) sflsim_fuzz_reset_coverage();
  try {
    fn(input);
  } catch (const std::exception& e) {
    finding(std::string(target) + ": unexpected " + demangle(typeid(e).name()) + ": " + e.what());
  } catch (...) {
    finding(std::string(target) + ": unexpected exception of a non-std type");
  }
}

}  // namespace sflsim::fuzz
