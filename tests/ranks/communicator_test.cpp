// Communicator between real processes (forked_ranks.hpp): store addresses,
// joining, and ordered delivery of exact bytes, from one thread and several.
#include "forked_ranks.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace sflsim::test;
using sflsim::ranks::PeerLost;
using Catch::Matchers::Contains;

namespace {

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
