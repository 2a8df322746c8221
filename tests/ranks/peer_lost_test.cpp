// Communicator between real processes (forked_ranks.hpp): a worker killed or
// stopped is lost (at once, or when the timeout passes) and the others go on.
#include "forked_ranks.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace sflsim::test;
using sflsim::ranks::PeerLost;
using Catch::Matchers::Contains;

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
  // Killed once it has taken a message (a fixed delay let a loaded or
  // sanitized machine kill it before the first one went through).
  std::atomic<std::int64_t> taken{0};
  std::atomic<std::int64_t> killed_at_ns{0};
  std::jthread killer([&] {
    while (taken.load() == 0) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);
    killed_at_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
    ::kill(victim, SIGKILL);
  });
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
  const auto noticed = Clock::now();
  killer.join();
  CHECK(lost);
  CHECK(taken.load() > 0);
  CHECK(noticed - Clock::time_point(std::chrono::nanoseconds(killed_at_ns.load())) < 1s);  // at once, not at the 5 s timeout
  receiver.join();
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
