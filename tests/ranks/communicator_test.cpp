// Communicator between real processes: each case forks its worker ranks
// before anything creates a thread, the parent is rank 0. A forked rank
// reports a failed check by its exit code (and a line on stderr); Catch2's
// macros run in the parent only.
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
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sflsim::ranks::Communicator;
using sflsim::ranks::PeerLost;
using sflsim::ranks::StoreAddress;
using Catch::Matchers::Contains;
using Clock = std::chrono::steady_clock;

namespace {

// A failed check in a forked rank.
struct ChildFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
#define CHILD_CHECK(cond)                                                                       \
  do {                                                                                          \
    if (!(cond)) throw ChildFailure(std::string(__FILE__ ":") + std::to_string(__LINE__) + ": " #cond); \
  } while (0)

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
  int wait(pid_t pid, std::chrono::milliseconds limit = 20s) {
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

std::string pattern(std::size_t size, int seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + static_cast<std::size_t>(seed) * 7) % 251);
  return s;
}

// "" when equal; otherwise where they differ (without printing a MiB).
std::string difference(const std::string& got, const std::string& want) {
  if (got.size() != want.size()) {
    return "size " + std::to_string(got.size()) + " instead of " + std::to_string(want.size());
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) return "byte " + std::to_string(i) + " differs";
  }
  return "";
}

std::int64_t wire_bytes(const std::vector<std::size_t>& sizes) {
  std::int64_t total = 0;
  for (std::size_t size : sizes) total += 8 + static_cast<std::int64_t>(size);
  return total;
}

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port() {
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

StoreAddress file_store(const sflsim::test::TempDir& dir) {
  return StoreAddress::parse("file:" + (dir / "store").string());
}

// A worker that joins, says "ready" to rank 0 and then takes nothing: the one
// the loss tests kill or stop.
pid_t spawn_idle_worker(Children& children, const StoreAddress& store, int rank, int world) {
  return children.spawn([&store, rank, world] {
    auto comm = Communicator::join(store, rank, world, 10s);
    comm->send(0, "ready", 10s);
    for (;;) ::pause();
    return 0;
  });
}

// Rank 0 and two workers exchange messages of several sizes both ways, and
// the workers with each other; contents, order and byte counts are exact.
void check_ordered_delivery(const StoreAddress& store) {
  const std::vector<std::size_t> sizes{1, 0, std::size_t{1} << 20, 0, 3};
  const std::int64_t one_way = wire_bytes(sizes);
  const std::int64_t between_workers = wire_bytes({6});  // "from 1" / "from 2"

  Children children;
  std::vector<pid_t> workers;
  for (int rank = 1; rank <= 2; ++rank) {
    workers.push_back(children.spawn([&, rank] {
      auto comm = Communicator::join(store, rank, 3, 10s);
      CHILD_CHECK(comm->rank() == rank && comm->world() == 3);
      for (std::size_t i = 0; i < sizes.size(); ++i) {
        CHILD_CHECK(difference(comm->receive(0, 10s), pattern(sizes[i], 100 + static_cast<int>(i))).empty());
      }
      for (std::size_t i = 0; i < sizes.size(); ++i) {
        comm->send(0, pattern(sizes[i], rank * 10 + static_cast<int>(i)), 10s);
      }
      if (rank == 1) {  // one sends first, the other receives first: send is a rendezvous
        comm->send(2, "from 1", 10s);
        CHILD_CHECK(comm->receive(2, 10s) == "from 2");
      } else {
        CHILD_CHECK(comm->receive(1, 10s) == "from 1");
        comm->send(1, "from 2", 10s);
      }
      CHILD_CHECK(comm->bytes_sent() == one_way + between_workers);
      CHILD_CHECK(comm->bytes_received() == one_way + between_workers);
      return 0;
    }));
  }

  auto comm = Communicator::join(store, 0, 3, 10s);
  REQUIRE(comm->rank() == 0);
  REQUIRE(comm->world() == 3);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    for (int worker : {1, 2}) comm->send(worker, pattern(sizes[i], 100 + static_cast<int>(i)), 10s);
  }
  for (int worker : {1, 2}) {
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      INFO("message " << i << " from rank " << worker);
      CHECK(difference(comm->receive(worker, 10s), pattern(sizes[i], worker * 10 + static_cast<int>(i))) == "");
    }
  }
  CHECK(comm->bytes_sent() == 2 * one_way);
  CHECK(comm->bytes_received() == 2 * one_way);
  for (pid_t worker : workers) CHECK(children.wait(worker) == 0);
}

}  // namespace

TEST_CASE("ranks: store addresses parse as a file or HOST:PORT, anything else is refused", "[ranks]") {
  auto file = StoreAddress::parse("file:/tmp/sflsim store");
  CHECK(file.file == "/tmp/sflsim store");
  CHECK(file.host.empty());
  CHECK(file.text() == "file:/tmp/sflsim store");
  CHECK(StoreAddress::parse("file:relative/store").file == "relative/store");
  CHECK(StoreAddress::parse("/shared/run-7/store").file == "/shared/run-7/store");

  auto tcp = StoreAddress::parse("10.0.0.1:29500");
  CHECK(tcp.file.empty());
  CHECK(tcp.host == "10.0.0.1");
  CHECK(tcp.port == 29500);
  CHECK(tcp.text() == "10.0.0.1:29500");
  CHECK(StoreAddress::parse("node-3.cluster:1").port == 1);
  CHECK(StoreAddress::parse("localhost:65535").port == 65535);
  auto v6 = StoreAddress::parse("[::1]:29500");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 29500);
  CHECK(v6.text() == "[::1]:29500");

  for (const char* bad : {"", "file:", "host", "relative/store", "host:", ":29500", "host:0", "host:65536",
                          "host:123456", "host:12x", "host:-1", "host:+1", "a b:12", "::1:29500", "[::1]29500",
                          "[::1]:"}) {
    INFO("'" << bad << "'");
    CHECK_THROWS_AS(StoreAddress::parse(bad), std::invalid_argument);
  }
  CHECK_THROWS_WITH(StoreAddress::parse("host"),
                    "store address 'host': neither a path nor HOST:PORT "
                    "(expected file:PATH, /ABSOLUTE/PATH or HOST:PORT)");
  CHECK_THROWS_WITH(StoreAddress::parse("host:0"), Contains("the port is not a number from 1 to 65535"));
  // Control characters are escaped: the message stays one line.
  CHECK_THROWS_WITH(StoreAddress::parse("h\nx:1"), Contains("'h\\x0ax:1'") && !Contains("\n"));
}

TEST_CASE("ranks: join and calls refuse bad ranks, peers and timeouts", "[ranks]") {
  sflsim::test::TempDir dir;
  const auto store = file_store(dir);
  CHECK_THROWS_AS(Communicator::join(store, 2, 2, 1s), std::invalid_argument);
  CHECK_THROWS_AS(Communicator::join(store, -1, 2, 1s), std::invalid_argument);
  CHECK_THROWS_AS(Communicator::join(store, 0, 0, 1s), std::invalid_argument);
  CHECK_THROWS_AS(Communicator::join(store, 0, 1, 0ms), std::invalid_argument);
  CHECK_THROWS_AS(Communicator::join(StoreAddress{}, 0, 1, 1s), std::invalid_argument);

  auto alone = Communicator::join(store, 0, 1, 5s);  // a world of one joins at once
  CHECK(alone->world() == 1);
  CHECK_THROWS_AS(alone->send(0, "to myself", 1s), std::invalid_argument);
  CHECK_THROWS_AS(alone->receive(1, 1s), std::invalid_argument);
  CHECK_THROWS_AS(alone->receive(-1, 1s), std::invalid_argument);
}

TEST_CASE("ranks: a world that does not complete in time is an error naming the rank and the store", "[ranks]") {
  sflsim::test::TempDir dir;
  const auto store = file_store(dir);
  const auto start = Clock::now();
  CHECK_THROWS_WITH(Communicator::join(store, 1, 2, 300ms),
                    Contains("rank 1 of 2 could not join the world at " + store.text() + " within 300 ms: "));
  CHECK(Clock::now() - start < 5s);
}

TEST_CASE("ranks: messages of 0 B, 1 B and 1 MiB arrive in order both ways over a FileStore", "[ranks]") {
  sflsim::test::TempDir dir;
  check_ordered_delivery(file_store(dir));
}

TEST_CASE("ranks: messages of 0 B, 1 B and 1 MiB arrive in order both ways over a TCPStore", "[ranks]") {
  check_ordered_delivery(StoreAddress::parse("127.0.0.1:" + std::to_string(free_port())));
}

TEST_CASE("ranks: sends and receives from several threads at once keep each peer's order", "[ranks]") {
  sflsim::test::TempDir dir;
  const auto store = file_store(dir);
  constexpr int kMessages = 100;
  const auto size_of = [](int i) { return static_cast<std::size_t>(i % 7 == 0 ? 0 : i * 97 % 5000); };
  std::vector<std::size_t> sizes;
  for (int i = 0; i < kMessages; ++i) sizes.push_back(size_of(i));

  Children children;
  std::vector<pid_t> workers;
  for (int rank = 1; rank <= 2; ++rank) {
    workers.push_back(children.spawn([&, rank] {
      auto comm = Communicator::join(store, rank, 3, 10s);
      for (int i = 0; i < kMessages; ++i) comm->send(0, comm->receive(0, 10s), 10s);  // echo
      return 0;
    }));
  }
  auto comm = Communicator::join(store, 0, 3, 10s);
  // Per worker: one thread sends, another receives the echoes, at once.
  std::vector<std::string> errors(4);
  std::vector<std::jthread> threads;
  for (int worker : {1, 2}) {
    auto& send_error = errors[static_cast<std::size_t>(2 * worker - 2)];
    auto& receive_error = errors[static_cast<std::size_t>(2 * worker - 1)];
    threads.emplace_back([&, worker] {
      try {
        for (int i = 0; i < kMessages; ++i) comm->send(worker, pattern(size_of(i), worker * 1000 + i), 10s);
      } catch (const std::exception& e) {
        send_error = e.what();
      }
    });
    threads.emplace_back([&, worker] {
      try {
        for (int i = 0; i < kMessages && receive_error.empty(); ++i) {
          const auto got = difference(comm->receive(worker, 10s), pattern(size_of(i), worker * 1000 + i));
          if (!got.empty()) receive_error = "echo " + std::to_string(i) + ": " + got;
        }
      } catch (const std::exception& e) {
        receive_error = e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors) CHECK(error == "");
  CHECK(comm->bytes_sent() == 2 * wire_bytes(sizes));
  CHECK(comm->bytes_received() == 2 * wire_bytes(sizes));
  for (pid_t worker : workers) CHECK(children.wait(worker) == 0);
}

TEST_CASE("ranks: a SIGKILLed worker is lost at once, and the other worker goes on", "[ranks]") {
  sflsim::test::TempDir dir;
  const auto store = file_store(dir);
  Children children;
  const pid_t victim = spawn_idle_worker(children, store, 1, 3);
  const pid_t survivor = children.spawn([&] {
    auto comm = Communicator::join(store, 2, 3, 10s);
    comm->send(0, "ready", 10s);
    for (int i = 0; i < 3; ++i) comm->send(0, "echo " + comm->receive(0, 10s), 10s);
    return 0;
  });
  auto comm = Communicator::join(store, 0, 3, 10s);
  // Both have joined completely (a rank killed while it is still connecting
  // to the others would make their join fail instead).
  for (int worker : {1, 2}) REQUIRE(comm->receive(worker, 10s) == "ready");

  std::jthread killer([&] {
    std::this_thread::sleep_for(200ms);
    ::kill(victim, SIGKILL);
  });
  const auto start = Clock::now();
  bool lost = false;
  try {
    comm->receive(1, 5s);
  } catch (const PeerLost& e) {
    lost = true;
    CHECK(e.peer() == 1);
    CHECK_FALSE(e.timed_out());
    CHECK_THAT(e.what(), Contains("rank 0 lost rank 1: ") &&
                             (Contains("Connection closed by peer") || Contains("Connection reset by peer")));
  }
  const auto waited = Clock::now() - start;
  killer.join();
  CHECK(lost);
  CHECK(waited < 2s);  // the closed socket, not the 5 s timeout
  CHECK(children.wait(victim) == 128 + SIGKILL);

  std::vector<std::size_t> sent, received{5, 5};  // the two "ready"
  for (int i = 0; i < 3; ++i) {
    const std::string job = "job " + std::to_string(i);
    comm->send(2, job, 5s);
    CHECK(comm->receive(2, 5s) == "echo " + job);
    sent.push_back(job.size());
    received.push_back(5 + job.size());
  }
  // Lost for good, both ways, at once.
  const auto again = Clock::now();
  CHECK_THROWS_AS(comm->send(1, "x", 5s), PeerLost);
  CHECK_THROWS_AS(comm->receive(1, 5s), PeerLost);
  CHECK(Clock::now() - again < 1s);
  CHECK(comm->bytes_sent() == wire_bytes(sent));
  CHECK(comm->bytes_received() == wire_bytes(received));
  CHECK(children.wait(survivor) == 0);
}

TEST_CASE("ranks: a SIGSTOPped worker is lost when the timeout passes, and the other worker goes on", "[ranks]") {
  sflsim::test::TempDir dir;
  const auto store = file_store(dir);
  Children children;
  const pid_t victim = spawn_idle_worker(children, store, 1, 3);
  constexpr int kEchoes = 20;
  const pid_t survivor = children.spawn([&] {
    auto comm = Communicator::join(store, 2, 3, 10s);
    comm->send(0, "ready", 10s);
    for (int i = 0; i < kEchoes; ++i) comm->send(0, comm->receive(0, 10s), 10s);
    return 0;
  });
  auto comm = Communicator::join(store, 0, 3, 10s);
  for (int worker : {1, 2}) REQUIRE(comm->receive(worker, 10s) == "ready");
  REQUIRE(::kill(victim, SIGSTOP) == 0);

  // One thread waits for a message from the stopped worker, another sends it
  // a job (which it never takes), while this one exchanges with the other.
  struct Outcome {
    bool lost = false;
    int peer = -1;
    bool timed_out = false;
    std::string what;
    Clock::duration waited{};
  };
  Outcome receiving, sending;
  const auto attempt = [](Outcome& outcome, auto call) {
    const auto start = Clock::now();
    try {
      call();
    } catch (const PeerLost& e) {
      outcome = {true, e.peer(), e.timed_out(), e.what(), {}};
    }
    outcome.waited = Clock::now() - start;
  };
  std::jthread receiver([&] { attempt(receiving, [&] { comm->receive(1, 800ms); }); });
  std::jthread sender([&] { attempt(sending, [&] { comm->send(1, "job", 10s); }); });
  std::vector<std::size_t> sizes;
  for (int i = 0; i < kEchoes; ++i) {
    const std::string job = pattern(static_cast<std::size_t>(i) * 1000, i);
    comm->send(2, job, 5s);
    CHECK(difference(comm->receive(2, 5s), job) == "");
    sizes.push_back(job.size());
  }
  receiver.join();
  sender.join();

  CHECK(receiving.lost);
  CHECK(receiving.peer == 1);
  CHECK(receiving.timed_out);
  CHECK(receiving.what == "rank 0 lost rank 1: no complete message within 800 ms");
  CHECK(receiving.waited >= 800ms);
  CHECK(receiving.waited < 2s);
  // The send was cut short when the receive lost the peer, long before its 10 s.
  CHECK(sending.lost);
  CHECK(sending.peer == 1);
  CHECK(sending.what == receiving.what);
  CHECK(sending.waited < 3s);
  CHECK_THROWS_AS(comm->send(1, "x", 5s), PeerLost);

  CHECK(comm->bytes_sent() == wire_bytes(sizes));
  CHECK(comm->bytes_received() == wire_bytes(sizes) + 2 * wire_bytes({5}));  // and the two "ready"
  CHECK(children.wait(survivor) == 0);
  // Closing does not wait for the stopped worker (or the abandoned operations).
  const auto closing = Clock::now();
  comm.reset();
  CHECK(Clock::now() - closing < 1s);
  ::kill(victim, SIGKILL);
  CHECK(children.wait(victim) == 128 + SIGKILL);
}

TEST_CASE("ranks: a worker killed while it takes large messages is lost at once if a receive from it is pending",
          "[ranks]") {
  sflsim::test::TempDir dir;
  const auto store = file_store(dir);
  Children children;
  const pid_t victim = children.spawn([&] {
    auto comm = Communicator::join(store, 1, 3, 10s);
    comm->send(0, "ready", 10s);
    for (;;) comm->receive(0, 30s);
    return 0;
  });
  const pid_t survivor = children.spawn([&] {
    auto comm = Communicator::join(store, 2, 3, 10s);
    comm->send(0, "ready", 10s);
    comm->send(0, "echo " + comm->receive(0, 10s), 10s);
    return 0;
  });
  auto comm = Communicator::join(store, 0, 3, 10s);
  for (int worker : {1, 2}) REQUIRE(comm->receive(worker, 10s) == "ready");

  // Killed in the middle of a stream of 16 MiB messages. A send whose data
  // Gloo has begun to write is not failed when the pair closes (it would end
  // only at its timeout), but the pending receive sees the closed socket and
  // cuts the send short. (And a SIGPIPE must not end this process.)
  std::string receiving;
  std::jthread receiver([&] {
    try {
      comm->receive(1, 10s);
    } catch (const PeerLost& e) {
      receiving = e.what();
    }
  });
  const std::string big(std::size_t{16} << 20, 'b');
  std::jthread killer([&] {
    std::this_thread::sleep_for(300ms);
    ::kill(victim, SIGKILL);
  });
  const auto start = Clock::now();
  std::int64_t taken = 0;
  bool lost = false;
  try {
    for (;;) {
      comm->send(1, big, 5s);
      ++taken;
    }
  } catch (const PeerLost& e) {
    lost = true;
    CHECK(e.peer() == 1);
    CHECK_FALSE(e.timed_out());
  }
  CHECK(lost);
  CHECK(taken > 0);
  CHECK(Clock::now() - start < 300ms + 1s);
  receiver.join();
  killer.join();
  // EOF, or a reset when the victim died with unread data.
  CHECK_THAT(receiving, Contains("rank 0 lost rank 1: ") &&
                            (Contains("Connection closed by peer") || Contains("Connection reset by peer")));
  CHECK(children.wait(victim) == 128 + SIGKILL);

  comm->send(2, "job", 5s);
  CHECK(comm->receive(2, 5s) == "echo job");
  CHECK(comm->bytes_sent() == taken * wire_bytes({big.size()}) + wire_bytes({3}));
  CHECK(comm->bytes_received() == 2 * wire_bytes({5}) + wire_bytes({8}));
  CHECK(children.wait(survivor) == 0);
}
