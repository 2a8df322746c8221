// Trace events and the fingerprint subscriber.
#include "simulator/core/trace.hpp"

#include "simulator/core/device.hpp"
#include "simulator/core/link.hpp"

#include "printing.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace sflsim::core;
using namespace std::chrono_literals;

namespace {

struct Recorder final : TraceSink {
  std::vector<TraceEvent> events;
  void on_event(const TraceEvent& e) override { events.push_back(e); }
};

}  // namespace

TEST_CASE("links and devices emit typed trace events at their virtual instants", "[trace]") {
  Simulation sim;
  FaultPlan plan;
  plan.link_drop_probability["up"] = 1.0;
  sim.set_fault_plan(plan);
  Recorder recorder;
  sim.trace().subscribe(recorder);
  auto& dev = sim.create<Device>(DeviceSpec{.name = "phone", .entity = EntityId{1}, .flops_per_s = 1'000'000});
  auto& down = sim.create<Link<int>>(LinkOptions{.name = "down", .from = EntityId{0}, .to = EntityId{1},
                                                 .latency = 5ms, .bandwidth = mbps(8)});
  auto& up = sim.create<Link<int>>(LinkOptions{.name = "up", .from = EntityId{1}, .to = EntityId{0},
                                               .latency = 5ms, .bandwidth = mbps(8)});
  sim.spawn({.name = "server", .entity = EntityId{0}}, [&]() -> asio::awaitable<void> { co_await down.send(1, 1000); });
  sim.spawn({.name = "client", .entity = EntityId{1}}, [&]() -> asio::awaitable<void> {
    co_await down.receive();
    co_await dev.compute(1000);  // 1 ms
    co_await up.send(2, 1000);   // dropped
  });
  sim.run();
  using K = TraceKind;
  const std::vector<std::tuple<SimTime, std::uint64_t, TraceKind, std::int64_t>> expected{
      {at(0ms), 0, K::transfer_start, 1000}, {at(6ms), 1, K::transfer_end, 1000},
      {at(6ms), 1, K::compute_start, 1000},  {at(7ms), 1, K::compute_end, 1000},
      {at(7ms), 1, K::transfer_start, 1000}, {at(8ms), 1, K::drop, 1000},
  };
  REQUIRE(recorder.events.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [time, entity, kind, bytes] = expected[i];
    INFO("event " << i << ": " << to_string(recorder.events[i].kind));
    CHECK(recorder.events[i].time == time);
    CHECK(recorder.events[i].entity.value == entity);
    CHECK(recorder.events[i].kind == kind);
    CHECK(recorder.events[i].bytes == bytes);
  }
  CHECK(recorder.events.back().cause == static_cast<int>(errc::message_dropped));
}

TEST_CASE("the fingerprint ignores the order of events but sees every field", "[trace]") {
  const TraceEvent a{at(1s), EntityId{1}, TraceKind::transfer_start, 100};
  const TraceEvent b{at(1s), EntityId{2}, TraceKind::transfer_start, 100};
  FingerprintSink ab, ba;
  ab.on_event(a);
  ab.on_event(b);
  ba.on_event(b);
  ba.on_event(a);
  CHECK(ab.value() == ba.value());
  CHECK(ab.events() == 2);
  auto single = [](TraceEvent e) {
    FingerprintSink f;
    f.on_event(e);
    return f.value();
  };
  const std::uint64_t base = single(a);
  CHECK(single({at(1s) + 1ns, EntityId{1}, TraceKind::transfer_start, 100}) != base);
  CHECK(single({at(1s), EntityId{3}, TraceKind::transfer_start, 100}) != base);
  CHECK(single({at(1s), EntityId{1}, TraceKind::transfer_end, 100}) != base);
  CHECK(single({at(1s), EntityId{1}, TraceKind::transfer_start, 101}) != base);
  // A duplicated event is not cancelled out (the count is mixed in).
  FingerprintSink twice;
  twice.on_event(a);
  twice.on_event(a);
  CHECK(twice.value() != FingerprintSink{}.value());
}
