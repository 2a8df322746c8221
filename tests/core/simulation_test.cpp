// The event loop: exact virtual time, insertion-order ties, deadlock reports,
// cancellation and "whichever comes first" composition.
#include "simulator/core/simulation.hpp"

#include "simulator/core/link.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>
#define CATCH_CONFIG_ENABLE_PAIR_STRINGMAKER
#include "printing.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

using namespace sflsim::core;
using namespace std::chrono_literals;

TEST_CASE("sleep_for advances virtual time exactly", "[simulation]") {
  Simulation sim;
  SimTime woke{};
  sim.spawn({.name = "sleeper"}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_for(1500ms);
    woke = sim.now();
    co_await sim.sleep_until(at(1500ms) + 1ns);
  });
  const RunReport report = sim.run();
  CHECK(woke == at(1500ms));
  CHECK(report.end == at(1500ms) + 1ns);
  CHECK(report.events == 2);
  CHECK_FALSE(report.deadlock);
}

TEST_CASE("events at the same instant resume in insertion order", "[simulation]") {
  Simulation sim;
  std::vector<std::string> order;
  for (const char* name : {"c", "a", "b"}) {
    sim.spawn({.name = name}, [&, name]() -> asio::awaitable<void> {
      co_await sim.sleep_for(1s);
      order.emplace_back(name);
      co_await sim.sleep_for(0s);  // a zero sleep still goes through the heap, in order
      order.emplace_back(std::string(name) + "'");
    });
  }
  sim.run();
  CHECK(order == std::vector<std::string>{"c", "a", "b", "c'", "a'", "b'"});
  CHECK(sim.now() == at(1s));
}

TEST_CASE("sleep_until a past instant completes at the current instant", "[simulation]") {
  Simulation sim;
  SimTime woke = kNever;
  sim.spawn({.name = "late"}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_for(2s);
    co_await sim.sleep_until(at(1s));
    woke = sim.now();
  });
  sim.run();
  CHECK(woke == at(2s));
}

TEST_CASE("run_until stops the clock at the limit and resumes later", "[simulation]") {
  Simulation sim;
  int ticks = 0;
  sim.spawn({.name = "ticker"}, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 10; ++i) {
      co_await sim.sleep_for(1s);
      ++ticks;
    }
  });
  const RunReport partial = sim.run_until(at(3500ms));
  CHECK(ticks == 3);
  CHECK(partial.end == at(3500ms));
  CHECK_FALSE(partial.deadlock);
  sim.run();
  CHECK(ticks == 10);
  CHECK(sim.now() == at(10s));
}

TEST_CASE("deadlock detection reports which actors wait on what", "[simulation][deadlock]") {
  Simulation sim;
  auto& ab = sim.create<Link<int>>(LinkOptions{.name = "a->b", .latency = 1ms});
  auto& ba = sim.create<Link<int>>(LinkOptions{.name = "b->a", .latency = 1ms});
  // Each waits for the other to speak first.
  sim.spawn({.name = "alice", .entity = EntityId{1}}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_for(5s);
    co_await ba.receive();
    co_await ab.send(1, 10);
  });
  sim.spawn({.name = "bob", .entity = EntityId{2}}, [&]() -> asio::awaitable<void> {
    co_await ab.receive();
    co_await ba.send(2, 10);
  });
  sim.spawn({.name = "server", .entity = EntityId{3}, .daemon = true}, [&]() -> asio::awaitable<void> {
    co_await ab.receive();
  });
  const RunReport report = sim.run();
  REQUIRE(report.deadlock);
  const DeadlockReport& d = *report.deadlock;
  CHECK(d.at == at(5s));
  REQUIRE(d.blocked.size() == 3);
  CHECK(d.blocked[0].name == "alice");
  CHECK(d.blocked[0].waiting_on == "receive on link 'b->a'");
  CHECK(d.blocked[1].name == "bob");
  CHECK(d.blocked[1].entity == EntityId{2});
  CHECK(d.blocked[1].waiting_on == "receive on link 'a->b'");
  CHECK(d.blocked[2].daemon);
  CHECK_THAT(d.to_string(), Catch::Contains("alice (actor 0, entity 1): receive on link 'b->a'"));
}

TEST_CASE("only daemons left waiting is a normal end, not a deadlock", "[simulation][deadlock]") {
  Simulation sim;
  auto& link = sim.create<Link<int>>(LinkOptions{.name = "in"});
  sim.spawn({.name = "server", .daemon = true}, [&]() -> asio::awaitable<void> {
    for (;;) co_await link.receive();
  });
  sim.spawn({.name = "client"}, [&]() -> asio::awaitable<void> { co_await link.send(1, 100); });
  CHECK_FALSE(sim.run().deadlock);
}

TEST_CASE("an exception escaping an actor is rethrown by run()", "[simulation]") {
  Simulation sim;
  sim.spawn({.name = "faulty"}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_for(1s);
    throw std::runtime_error("protocol bug");
  });
  CHECK_THROWS_WITH(sim.run(), "protocol bug");
  CHECK(sim.now() == at(1s));
}

TEST_CASE("whichever comes first: || cancels the loser and leaves nothing pending", "[simulation][cancel]") {
  using namespace boost::asio::experimental::awaitable_operators;
  Simulation sim;
  auto& link = sim.create<Link<int>>(LinkOptions{.name = "late", .latency = 200ms});
  std::size_t winner = 99;
  SimTime decided{};
  sim.spawn({.name = "waiter"}, [&]() -> asio::awaitable<void> {
    auto result = co_await (link.receive(asio::use_awaitable) || sim.sleep_for(100ms, asio::use_awaitable));
    winner = result.index();
    decided = sim.now();
  });
  sim.spawn({.name = "sender"}, [&]() -> asio::awaitable<void> { co_await link.send(5, 0); });
  const RunReport report = sim.run();
  CHECK(winner == 1);  // the sleep
  CHECK(decided == at(100ms));
  // The cancelled receive left the queue: the message that arrived at 200 ms waits in the mailbox.
  CHECK(link.ready() == 1);
  CHECK(report.end == at(200ms));
  CHECK_FALSE(report.deadlock);
}

TEST_CASE("parallel_group over deferred operations: the first to finish wins", "[simulation][cancel]") {
  namespace ex = boost::asio::experimental;
  Simulation sim;
  auto& link = sim.create<Link<int>>(LinkOptions{.name = "fast", .latency = 10ms});
  int received = 0;
  sim.spawn({.name = "waiter"}, [&]() -> asio::awaitable<void> {
    auto [order, receive_error, value, sleep_error] =
        co_await ex::make_parallel_group(link.receive(), sim.sleep_for(1s))
            .async_wait(ex::wait_for_one(), asio::deferred);
    CHECK(order[0] == 0);
    CHECK_FALSE(receive_error);
    CHECK(sleep_error == asio::error::operation_aborted);
    received = value;
  });
  sim.spawn({.name = "sender"}, [&]() -> asio::awaitable<void> { co_await link.send(7, 0); });
  const RunReport report = sim.run();
  CHECK(received == 7);
  CHECK(report.end == at(10ms));  // the cancelled 1 s sleep left no timer behind
}

TEST_CASE("kill cancels the pending await and unwinds the actor", "[simulation][cancel]") {
  Simulation sim;
  bool finished = false;
  const ActorId sleeper = sim.spawn({.name = "sleeper"}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_for(10s);
    finished = true;
  });
  sim.spawn({.name = "killer"}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_for(1s);
    sim.kill(sleeper);
  });
  const RunReport report = sim.run();
  CHECK_FALSE(finished);
  CHECK_FALSE(sim.running(sleeper));
  CHECK(report.end == at(1s));
  CHECK_FALSE(report.deadlock);
}
