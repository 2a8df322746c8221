// Compute devices: exact job durations, concurrent slots with a FIFO queue,
// and energy = sum of power x duration, to the picojoule.
#include "simulator/core/device.hpp"

#include "simulator/core/link.hpp"

#define CATCH_CONFIG_ENABLE_PAIR_STRINGMAKER
#include "printing.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace sflsim::core;
using namespace std::chrono_literals;

TEST_CASE("compute charges flops / flops_per_s, rounded up to the nanosecond", "[device]") {
  Simulation sim;
  auto& gpu = sim.create<Device>(DeviceSpec{.name = "gpu", .flops_per_s = 3'000'000'000});
  SimTime done{};
  sim.spawn({.name = "trainer"}, [&]() -> asio::awaitable<void> {
    co_await gpu.compute(1'000'000'000);  // 1/3 s = 333,333,333.33 ns -> 333,333,334 ns
    done = sim.now();
  });
  sim.run();
  CHECK(done == at(333'333'334ns));
}

TEST_CASE("a device runs `concurrency` jobs at once and queues the rest FIFO", "[device]") {
  Simulation sim;
  auto& cpu = sim.create<Device>(DeviceSpec{.name = "cpu", .flops_per_s = 1'000'000'000, .concurrency = 2});
  std::vector<std::pair<int, SimTime>> finished;
  for (int i = 0; i < 3; ++i) {
    sim.spawn({.name = "job" + std::to_string(i)}, [&, i]() -> asio::awaitable<void> {
      co_await cpu.compute(1'000'000'000LL * (i + 1));  // 1 s, 2 s, 3 s of work
      finished.emplace_back(i, sim.now());
    });
  }
  sim.run();
  // Jobs 0 and 1 start at 0; job 2 waits for job 0's slot (1 s) and runs 3 s.
  CHECK(finished == std::vector<std::pair<int, SimTime>>{{0, at(1s)}, {1, at(2s)}, {2, at(4s)}});
}

TEST_CASE("energy = sum of power x duration, exactly", "[device][energy]") {
  Simulation sim;
  const PowerModel phone{.idle_mw = 1000, .compute_mw = 5000, .transmit_mw = 3000, .receive_mw = 2000};
  const PowerModel server{.idle_mw = 100'000, .compute_mw = 300'000, .transmit_mw = 100'000, .receive_mw = 120'000};
  auto& client = sim.create<Device>(DeviceSpec{.name = "phone", .entity = EntityId{1}, .flops_per_s = 1'000'000'000,
                                               .power = phone});
  auto& host = sim.create<Device>(DeviceSpec{.name = "server", .entity = EntityId{2}, .power = server});
  auto& uplink = sim.create<Link<int>>(
      LinkOptions{.name = "up", .from = EntityId{1}, .to = EntityId{2}, .latency = 20ms, .bandwidth = mbps(8)});
  EnergyReading after_compute, at_end_client, at_end_server;
  sim.spawn({.name = "client", .entity = EntityId{1}}, [&]() -> asio::awaitable<void> {
    co_await client.compute(2'000'000'000);  // 2 s at 5 W
    after_compute = client.energy();
    co_await uplink.send(1, 1'000'000);      // 1 s at 3 W
    co_await sim.sleep_until(at(10s));
    at_end_client = client.energy();
    at_end_server = host.energy();
  });
  sim.spawn({.name = "server", .entity = EntityId{2}}, [&]() -> asio::awaitable<void> { co_await uplink.receive(); });
  sim.run();
  // Client: 2 s x 5 W + 1 s x 3 W + 7 s x 1 W idle = 20 J.
  CHECK(after_compute.picojoules == Int128{10'000'000'000'000});
  CHECK(at_end_client.picojoules == Int128{20'000'000'000'000});
  CHECK(at_end_client.joules() == 20.0);
  CHECK(at_end_client.busy_time(Activity::compute) == 2s);
  CHECK(at_end_client.busy_time(Activity::transmit) == 1s);
  // Server: receives during the last second before arrival (2.020 s to 3.020 s):
  // 1 s x 120 W + 9 s x 100 W idle = 1,020 J.
  CHECK(at_end_server.busy_time(Activity::receive) == 1s);
  CHECK(at_end_server.picojoules == Int128{1'020'000'000'000'000});
  // A round's energy is the difference of two readings.
  CHECK((at_end_client - after_compute).picojoules == Int128{10'000'000'000'000});
}

TEST_CASE("the meter can be read in the middle of an activity", "[device][energy]") {
  Simulation sim;
  auto& d = sim.create<Device>(DeviceSpec{.name = "d", .flops_per_s = 1'000'000'000,
                                          .power = {.idle_mw = 500, .compute_mw = 4500}});
  EnergyReading mid;
  sim.spawn({.name = "worker"}, [&]() -> asio::awaitable<void> { co_await d.compute(4'000'000'000); });
  sim.spawn({.name = "observer"}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_for(1500ms);
    mid = d.energy();
  });
  sim.run();
  CHECK(mid.picojoules == Int128{4500} * 1'500'000'000);  // 1.5 s at 4.5 W
  CHECK(d.energy().picojoules == Int128{4500} * 4'000'000'000);
}

TEST_CASE("a cancelled compute frees its slot and stops drawing compute power", "[device][cancel]") {
  Simulation sim;
  auto& d = sim.create<Device>(DeviceSpec{.name = "d", .flops_per_s = 1'000'000'000,
                                          .power = {.idle_mw = 0, .compute_mw = 1000}});
  SimTime second_done{};
  const ActorId first = sim.spawn({.name = "first"}, [&]() -> asio::awaitable<void> { co_await d.compute(10'000'000'000); });
  sim.spawn({.name = "second"}, [&]() -> asio::awaitable<void> {
    co_await d.compute(1'000'000'000);  // queued behind `first`
    second_done = sim.now();
  });
  sim.spawn({.name = "killer"}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_for(2s);
    sim.kill(first);
  });
  sim.run();
  CHECK(second_done == at(3s));
  CHECK(d.energy().picojoules == Int128{1000} * 3'000'000'000);  // 2 s + 1 s of compute
}
