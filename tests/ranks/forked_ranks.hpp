// Forked ranks for the communicator tests: each case forks its worker ranks
// before anything creates a thread, the parent is rank 0. A forked rank
// reports a failed check by its exit code (and a line on stderr); Catch2's
// macros run in the parent only.
#pragma once

#include "simulator/ranks/communicator.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// A failed check in a forked rank (ChildFailure is thrown, the rank exits 90).
#define CHILD_CHECK(cond)                                                                       \
  do {                                                                                          \
    if (!(cond)) throw ::sflsim::test::ChildFailure(std::string(__FILE__ ":") + std::to_string(__LINE__) + ": " #cond); \
  } while (0)

namespace sflsim::test {

using ranks::Communicator;
using ranks::StoreAddress;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A failed check in a forked rank.
struct ChildFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Forked ranks; those not reaped by wait() are killed and reaped on
// destruction (a failed REQUIRE in the parent leaves none behind).
class Children {
 public:
  Children() = default;
  Children(const Children&) = delete;
  Children& operator=(const Children&) = delete;
  ~Children() {
    for (pid_t pid : pids_) {
      ::kill(pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  }

  // Runs `body` (returning the exit code) in a child process.
  template <typename Body>
  pid_t spawn(Body body) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      int code = 0;
      try {
        code = body();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "forked rank failed: %s\n", e.what());
        code = 90;
      } catch (...) {
        code = 91;
      }
      std::fflush(stderr);
      ::_exit(code);
    }
    pids_.push_back(pid);
    return pid;
  }

  // The exit code of `pid`, or 128 + the signal that ended it; -1 if it
  // was still running after `limit` (it is killed then).
  int wait(pid_t pid, std::chrono::milliseconds limit = std::chrono::seconds{20}) {
    std::erase(pids_, pid);
    const auto deadline = Clock::now() + limit;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return -1;
      }
      std::this_thread::sleep_for(5ms);
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -2;
  }

 private:
  std::vector<pid_t> pids_;
};

inline std::string pattern(std::size_t size, int seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + static_cast<std::size_t>(seed) * 7) % 251);
  return s;
}

// "" when equal; otherwise where they differ (without printing a MiB).
inline std::string difference(const std::string& got, const std::string& want) {
  if (got.size() != want.size()) {
    return "size " + std::to_string(got.size()) + " instead of " + std::to_string(want.size());
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) return "byte " + std::to_string(i) + " differs";
  }
  return "";
}

inline std::int64_t wire_bytes(const std::vector<std::size_t>& sizes) {
  std::int64_t total = 0;
  for (std::size_t size : sizes) total += 8 + static_cast<std::int64_t>(size);
  return total;
}

// A TCP port on 127.0.0.1 that was free a moment ago.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  REQUIRE(ok);
  return ntohs(address.sin_port);
}

inline StoreAddress file_store(const sflsim::test::TempDir& dir) {
  return StoreAddress::parse("file:" + (dir / "store").string());
}

// A worker that joins, says "ready" to rank 0 and then takes nothing: the one
// the loss tests kill or stop.
inline pid_t spawn_idle_worker(Children& children, const StoreAddress& store, int rank, int world) {
  return children.spawn([&store, rank, world] {
    auto comm = Communicator::join(store, rank, world, 10s);
    comm->send(0, "ready", 10s);
    for (;;) ::pause();
    return 0;
  });
}

}  // namespace sflsim::test
