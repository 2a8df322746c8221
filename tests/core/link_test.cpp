#include "simulator/core/link.hpp"

#include "simulator/core/shared_bandwidth.hpp"

#define CATCH_CONFIG_ENABLE_PAIR_STRINGMAKER
#include "printing.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace sflsim::core;
using namespace std::chrono_literals;

namespace {

// A move-only payload, like a message holding tensors.
struct Blob {
  std::unique_ptr<int> value;
};

}  // namespace

TEST_CASE("1,000,000 bytes over 8 Mbit/s + 20 ms latency arrive at exactly 1.020 s", "[link]") {
  Simulation sim;
  auto& link = sim.create<Link<Blob>>(LinkOptions{.name = "a->b", .latency = 20ms, .bandwidth = mbps(8)});
  SimTime sent{}, arrived{};
  int payload = 0;
  sim.spawn({.name = "sender"}, [&]() -> asio::awaitable<void> {
    // A named message, moved in: g++ 12 destroys resource-owning temporaries
    // inside a co_await expression twice (see link.hpp).
    Blob blob{std::make_unique<int>(42)};
    auto [ec] = co_await link.send(std::move(blob), 1'000'000);
    REQUIRE_FALSE(ec);
    sent = sim.now();
  });
  sim.spawn({.name = "receiver"}, [&]() -> asio::awaitable<void> {
    Blob b = co_await link.receive();
    arrived = sim.now();
    payload = *b.value;
  });
  const RunReport report = sim.run();
  REQUIRE_FALSE(report.deadlock);
  CHECK(sent == at(1000ms));  // the send completes when the last bit has left
  CHECK(arrived == at(1020ms));
  CHECK(payload == 42);
  CHECK(link.stats().delivered == 1);
}

TEST_CASE("two equal transfers through a shared 16 Mbit/s link finish together, as one alone over 8 Mbit/s",
          "[link][shared]") {
  Simulation sim;
  auto& ingress = sim.create<SharedBandwidth>("server-ingress", mbps(16));
  auto& a = sim.create<Link<int>>(LinkOptions{.name = "a", .latency = 20ms, .bandwidth = mbps(100), .shared = &ingress});
  auto& b = sim.create<Link<int>>(LinkOptions{.name = "b", .latency = 20ms, .bandwidth = mbps(100), .shared = &ingress});
  auto& alone = sim.create<Link<int>>(LinkOptions{.name = "alone", .latency = 20ms, .bandwidth = mbps(8)});
  std::vector<SimTime> arrivals(3);
  int index = 0;
  for (auto* link : {&a, &b, &alone}) {
    const int i = index++;
    sim.spawn({.name = std::string("send") + std::to_string(i)}, [&, link, i]() -> asio::awaitable<void> {
      co_await link->send(i, 1'000'000);
    });
    sim.spawn({.name = std::string("recv") + std::to_string(i)}, [&, link, i]() -> asio::awaitable<void> {
      co_await link->receive();
      arrivals[i] = sim.now();
    });
  }
  REQUIRE_FALSE(sim.run().deadlock);
  CHECK(arrivals[2] == at(1020ms));
  CHECK(arrivals[0] == arrivals[2]);
  CHECK(arrivals[1] == arrivals[2]);
}

TEST_CASE("a receive with a 500 ms deadline on a downed link times out at exactly 500 ms", "[link][faults]") {
  Simulation sim;
  FaultPlan plan;
  plan.link_down.push_back({"down", TimeWindow{at(0ms), at(10s)}});
  sim.set_fault_plan(plan);
  auto& link = sim.create<Link<int>>(LinkOptions{.name = "down", .latency = 5ms, .bandwidth = mbps(8)});
  error_code send_error, receive_error;
  SimTime sent_at{}, timed_out_at{};
  sim.spawn({.name = "sender"}, [&]() -> asio::awaitable<void> {
    std::tie(send_error) = co_await link.send(7, 1000);
    sent_at = sim.now();
  });
  sim.spawn({.name = "receiver"}, [&]() -> asio::awaitable<void> {
    auto [ec, value] = co_await link.receive_for(500ms);
    receive_error = ec;
    timed_out_at = sim.now();
    CHECK(value == 0);
  });
  REQUIRE_FALSE(sim.run().deadlock);
  CHECK(send_error == errc::link_down);
  CHECK(sent_at == at(0ms));
  CHECK(receive_error == errc::timeout);
  CHECK(timed_out_at == at(500ms));
}

TEST_CASE("a link sends one message at a time, FIFO", "[link]") {
  Simulation sim;
  auto& link = sim.create<Link<int>>(LinkOptions{.name = "fifo", .latency = 10ms, .bandwidth = mbps(8)});
  std::vector<std::pair<int, SimTime>> got;
  for (int i = 0; i < 3; ++i) {
    sim.spawn({.name = std::string("s") + std::to_string(i)}, [&, i]() -> asio::awaitable<void> {
      co_await link.send(i, 100'000);  // 100 ms each on the wire
    });
  }
  sim.spawn({.name = "r"}, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      const int v = co_await link.receive();
      got.emplace_back(v, sim.now());
    }
  });
  sim.run();
  CHECK(got == std::vector<std::pair<int, SimTime>>{{0, at(110ms)}, {1, at(210ms)}, {2, at(310ms)}});
}

TEST_CASE("max-min fairness: a flow capped by its own link leaves the rest to the others", "[link][shared]") {
  Simulation sim;
  auto& egress = sim.create<SharedBandwidth>("egress", mbps(30));
  // One slow client (4 Mbit/s) and two fast ones share 30 Mbit/s: 4 + 13 + 13.
  auto& slow = sim.create<Link<int>>(LinkOptions{.name = "slow", .bandwidth = mbps(4), .shared = &egress});
  auto& f1 = sim.create<Link<int>>(LinkOptions{.name = "f1", .bandwidth = mbps(100), .shared = &egress});
  auto& f2 = sim.create<Link<int>>(LinkOptions{.name = "f2", .bandwidth = mbps(100), .shared = &egress});
  std::vector<SimTime> done(3);
  int i = 0;
  for (auto* link : {&slow, &f1, &f2}) {
    const int k = i++;
    sim.spawn({.name = std::string("s") + std::to_string(k)}, [&, link, k]() -> asio::awaitable<void> {
      co_await link->send(k, 1'625'000);  // 13 Mbit
      done[k] = sim.now();
    });
  }
  sim.run();
  // The fast ones finish 13 Mbit at 13 Mbit/s at 1 s; then the slow one has
  // 13 - 4 = 9 Mbit left at 4 Mbit/s: 2.25 s more.
  CHECK(done[1] == at(1s));
  CHECK(done[2] == at(1s));
  CHECK(done[0] == at(3250ms));
}

TEST_CASE("a transfer follows a bandwidth trace step by step", "[link][trace]") {
  Simulation sim;
  const BandwidthSchedule trace({{at(0s), mbps(8)}, {at(500ms), 0}, {at(1s), mbps(2)}});
  auto& link = sim.create<Link<int>>(LinkOptions{.name = "traced", .latency = 0ms, .bandwidth = trace});
  SimTime done{};
  sim.spawn({.name = "s"}, [&]() -> asio::awaitable<void> {
    co_await link.send(1, 1'000'000);  // 8 Mbit: 4 Mbit by 0.5 s, stall, then 4 Mbit at 2 Mbit/s
    done = sim.now();
  });
  sim.run();
  CHECK(done == at(3s));
}

TEST_CASE("a link going down in the middle of a transmission fails it at that instant", "[link][faults]") {
  Simulation sim;
  FaultPlan plan;
  plan.link_down.push_back({"flaky", TimeWindow{at(400ms), at(2s)}});
  plan.link_down.push_back({"flaky2", TimeWindow{at(1010ms), at(2s)}});  // during propagation
  sim.set_fault_plan(plan);
  auto& flaky = sim.create<Link<int>>(LinkOptions{.name = "flaky", .latency = 20ms, .bandwidth = mbps(8)});
  auto& flaky2 = sim.create<Link<int>>(LinkOptions{.name = "flaky2", .latency = 20ms, .bandwidth = mbps(8)});
  error_code e1, e2;
  SimTime t1{}, t2{};
  sim.spawn({.name = "s1"}, [&]() -> asio::awaitable<void> {
    std::tie(e1) = co_await flaky.send(1, 1'000'000);
    t1 = sim.now();
  });
  sim.spawn({.name = "s2"}, [&]() -> asio::awaitable<void> {
    std::tie(e2) = co_await flaky2.send(1, 1'000'000);
    t2 = sim.now();
  });
  sim.run();
  CHECK(e1 == errc::link_down);
  CHECK(t1 == at(400ms));
  CHECK(e2 == errc::link_down);  // the last bit left at 1 s; the link died before arrival
  CHECK(t2 == at(1s));
  CHECK(flaky.ready() == 0);
  CHECK(flaky2.stats().failed == 1);
}

namespace {

// Sends n messages over a link with drop probability p; returns the drop count.
std::int64_t count_drops(std::uint64_t seed, int n, double p) {
  Simulation sim(seed);
  FaultPlan plan;
  plan.link_drop_probability["lossy"] = p;
  sim.set_fault_plan(plan);
  auto& link = sim.create<Link<int>>(LinkOptions{.name = "lossy", .latency = 1ms, .bandwidth = mbps(100)});
  std::int64_t dropped = 0;
  sim.spawn({.name = "sender"}, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < n; ++i) {
      auto [ec] = co_await link.send(i, 100);
      if (ec == errc::message_dropped) ++dropped;
    }
  });
  sim.run();
  REQUIRE(link.stats().dropped == dropped);
  REQUIRE(link.stats().delivered + dropped == n);
  return dropped;
}

}  // namespace

TEST_CASE("drop probability 0.3 over 10,000 messages: binomial 99.9 % interval, identical on rerun",
          "[link][faults][rng]") {
  const std::int64_t first = count_drops(1, 10'000, 0.3);
  // mean 3000, sd sqrt(10000 x 0.3 x 0.7) = 45.83; z(99.95 %) = 3.2905 -> +-150.8
  CHECK(first >= 2850);
  CHECK(first <= 3150);
  CHECK(count_drops(1, 10'000, 0.3) == first);
  // Another seed gives another (still plausible) count.
  const std::int64_t other = count_drops(2, 10'000, 0.3);
  CHECK(other != first);
  CHECK(other >= 2850);
  CHECK(other <= 3150);
}

TEST_CASE("jitter is seeded, bounded and per link", "[link][rng]") {
  auto arrivals = [](std::uint64_t seed) {
    Simulation sim(seed);
    auto& link = sim.create<Link<int>>(LinkOptions{.name = "j", .latency = 10ms, .bandwidth = gbps(1), .jitter = 5ms});
    std::vector<SimTime> times;
    sim.spawn({.name = "s"}, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < 50; ++i) {
        co_await link.send(i, 0);
        co_await sim.sleep_for(100ms);
      }
    });
    sim.spawn({.name = "r"}, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < 50; ++i) {
        co_await link.receive();
        times.push_back(sim.now());
      }
    });
    sim.run();
    return times;
  };
  const auto a = arrivals(7);
  CHECK(a == arrivals(7));
  CHECK(a != arrivals(8));
  for (std::size_t i = 0; i < a.size(); ++i) {
    const SimDuration delay = a[i] - at(100ms * static_cast<int>(i));
    CHECK(delay >= 10ms);
    CHECK(delay <= 15ms);
  }
}

TEST_CASE("processor sharing is recomputed when flows start, end, fail, or capacity steps", "[link][shared]") {
  Simulation sim;
  std::vector<std::pair<SimTime, error_code>> done(2);
  auto run_two = [&](SharedBandwidth& shared, SimDuration second_start, const FaultPlan& plan) {
    sim.set_fault_plan(plan);
    auto& a = sim.create<Link<int>>(LinkOptions{.name = "a", .bandwidth = gbps(1), .shared = &shared});
    auto& b = sim.create<Link<int>>(LinkOptions{.name = "b", .bandwidth = gbps(1), .shared = &shared});
    sim.spawn({.name = "a"}, [&]() -> asio::awaitable<void> {
      auto [ec] = co_await a.send(0, 1'000'000);  // 8 Mbit
      done[0] = {sim.now(), ec};
    });
    sim.spawn({.name = "b"}, [&, second_start]() -> asio::awaitable<void> {
      co_await sim.sleep_for(second_start);
      auto [ec] = co_await b.send(1, 1'000'000);
      done[1] = {sim.now(), ec};
    });
    REQUIRE_FALSE(sim.run().deadlock);
  };
  SECTION("a second flow joins half way") {
    // A alone at 8 Mbit/s for 0.5 s (4 Mbit), then both at 4: A ends at 1.5 s;
    // B then has 4 Mbit left alone at 8: 2.0 s.
    run_two(sim.create<SharedBandwidth>("s", mbps(8)), 500ms, {});
    CHECK(done[0].first == at(1500ms));
    CHECK(done[1].first == at(2000ms));
  }
  SECTION("the capacity trace steps down") {
    // 16 Mbit/s shared until 0.5 s (4 Mbit each), then 8 Mbit/s: 4 Mbit each at 4 -> 1.5 s.
    run_two(sim.create<SharedBandwidth>("s", BandwidthSchedule({{at(0s), mbps(16)}, {at(500ms), mbps(8)}})), 0s, {});
    CHECK(done[0].first == at(1500ms));
    CHECK(done[1].first == at(1500ms));
  }
  SECTION("one flow's link goes down; the survivor gets the whole capacity") {
    FaultPlan plan;
    plan.link_down.push_back({"a", TimeWindow{at(500ms), at(1s)}});
    // Both at 8 of 16 until 0.5 s (4 Mbit each); A fails; B has 4 Mbit left at 16: 0.75 s.
    run_two(sim.create<SharedBandwidth>("s", mbps(16)), 0s, plan);
    CHECK(done[0] == std::pair{at(500ms), error_code{errc::link_down}});
    CHECK(done[1] == std::pair{at(750ms), error_code{}});
  }
}

TEST_CASE("a boundary is not at rest while a receiver waits with a deadline, and the reason names it", "[link][checkpoint]") {
  Simulation sim;
  auto& link = sim.create<Link<int>>(LinkOptions{.name = "c0.down"});
  std::string while_waiting, after_deadline;
  sim.spawn({.name = "client0"}, [&]() -> asio::awaitable<void> {
    auto [ec, m] = co_await link.receive_until(at(10s));
    (void)m;
    CHECK(ec == errc::timeout);
  });
  sim.spawn({.name = "coordinator"}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_for(1s);
    while_waiting = sim.busy_reason();
    co_await sim.sleep_for(10s);
    after_deadline = sim.busy_reason();
  });
  sim.run();
  CHECK(while_waiting == "1 timers pending; 'client0' waits for receive on link 'c0.down' until a deadline");
  CHECK(after_deadline.empty());
}
