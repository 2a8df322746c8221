#include "simulator/core/link.hpp"

#include "simulator/core/shared_bandwidth.hpp"

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
    auto [ec] = co_await link.send(Blob{std::make_unique<int>(42)}, 1'000'000);
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
    sim.spawn({.name = "send" + std::to_string(i)}, [&, link]() -> asio::awaitable<void> {
      co_await link->send(i, 1'000'000);
    });
    sim.spawn({.name = "recv" + std::to_string(i)}, [&, link, i]() -> asio::awaitable<void> {
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
