// write_atomically: a failed fsync leaks no descriptor and leaves the old
// file and no temporary; writers of one path never tear each other's bytes;
// a veto before the rename keeps the old file; stale temporaries are swept.
#include "simulator/io/files.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace sflsim;

namespace {

std::atomic<bool> fail_fsync{false};

size_t open_descriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

size_t files_in(const std::filesystem::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

extern "C" int __real_fsync(int fd);
extern "C" int __wrap_fsync(int fd) {
  if (fail_fsync) {
    errno = EIO;
    return -1;
  }
  return __real_fsync(fd);
}

TEST_CASE("a failed fsync leaks no descriptor, keeps the old file and leaves no temporary", "[io]") {
  test::TempDir dir;
  const auto file = dir / "metrics.csv";
  cli::write_atomically(file, "old\n");
  const size_t descriptors = open_descriptors();
  fail_fsync = true;
  for (int i = 0; i < 3; ++i) {
    try {
      cli::write_atomically(file, "new\n");
      FAIL("no error");
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), Catch::Contains("metrics.csv") && Catch::Contains("write failed"));
    }
  }
  fail_fsync = false;
  CHECK(open_descriptors() == descriptors);
  CHECK(cli::read_text(file) == "old\n");
  CHECK(files_in(dir.path()) == 1);
}

TEST_CASE("two writers of one path each rename a whole file of their own", "[io]") {
  test::TempDir dir;
  const auto file = dir / "clients.csv";
  const std::string a(1 << 20, 'a'), b(1 << 20, 'b');
  std::atomic<int> failures{0};
  const auto writer = [&](const std::string& contents) {
    for (int i = 0; i < 20; ++i) {
      try {
        cli::write_atomically(file, contents);
      } catch (const std::exception&) {
        ++failures;  // with one shared temporary, the second rename finds it gone
      }
    }
  };
  std::thread first(writer, a), second(writer, b);
  first.join();
  second.join();
  CHECK(failures == 0);
  const std::string final_bytes = cli::read_text(file);
  CHECK((final_bytes == a || final_bytes == b));
  CHECK(files_in(dir.path()) == 1);
}

TEST_CASE("a veto just before the rename keeps the old file and leaves no temporary", "[io]") {
  test::TempDir dir;
  const auto file = dir / "summary.json";
  cli::write_atomically(file, "{}\n");
  const auto veto = [] { throw std::runtime_error("the cell belongs to another rank now"); };
  CHECK_THROWS_WITH(cli::write_atomically(file, "{\"x\": 1}\n", veto), Catch::Contains("another rank"));
  CHECK(cli::read_text(file) == "{}\n");
  CHECK(files_in(dir.path()) == 1);
}

TEST_CASE("temporaries of processes that are gone are swept; a live writer's are kept", "[io]") {
  test::TempDir dir;
  cli::write_atomically(dir / "metrics.csv", "m\n");
  const std::string gone_pid = "999999999";  // above any pid_max
  for (const char* name : {"metrics.csv.tmp.", "checkpoint.bin.tmp."}) {
    cli::write_atomically(dir / (std::string(name) + gone_pid + ".1"), "torn");
  }
  const auto mine = dir / ("wall.csv.tmp." + std::to_string(::getpid()) + ".7");
  cli::write_atomically(mine, "in flight");
  cli::write_atomically(dir / "notes.tmp.txt", "not ours");
  CHECK(cli::remove_stale_temporaries(dir.path()) == 2);
  CHECK(files_in(dir.path()) == 3);
  CHECK(std::filesystem::exists(mine));
  CHECK(std::filesystem::exists(dir / "notes.tmp.txt"));
}
