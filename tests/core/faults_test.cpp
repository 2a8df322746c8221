// Fault plans: crash and rejoin, server outages, merged down windows.
#include "simulator/core/faults.hpp"

#include "simulator/core/link.hpp"

#define CATCH_CONFIG_ENABLE_PAIR_STRINGMAKER
#include "printing.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace sflsim::core;
using namespace std::chrono_literals;

TEST_CASE("a crash at 3 s with rejoin after 2 s is honoured", "[faults][crash]") {
  Simulation sim;
  const EntityId client{7}, server{0};
  FaultPlan plan;
  plan.crashes.push_back({client, at(3s), 2s});
  sim.set_fault_plan(plan);
  auto& up = sim.create<Link<int>>(LinkOptions{.name = "c7.up", .from = client, .to = server, .latency = 10ms,
                                               .bandwidth = mbps(8)});
  auto& down = sim.create<Link<int>>(LinkOptions{.name = "c7.down", .from = server, .to = client, .latency = 10ms,
                                                 .bandwidth = mbps(8)});
  FingerprintSink fingerprint;
  struct Recorder final : TraceSink {
    std::vector<TraceEvent> events;
    void on_event(const TraceEvent& e) override {
      if (e.kind == TraceKind::crash || e.kind == TraceKind::rejoin) events.push_back(e);
    }
  } recorder;
  sim.trace().subscribe(recorder);

  std::vector<SimTime> starts, heartbeats;
  error_code server_send_error;
  SimTime server_send_done{};
  const ActorId client_actor = sim.spawn({.name = "client7", .entity = client}, [&]() -> asio::awaitable<void> {
    const SimTime start = sim.now();
    starts.push_back(start);
    for (int i = 1; i <= 3; ++i) {
      co_await sim.sleep_until(start + i * 1s);
      co_await up.send(i, 1000);  // 1 ms on the wire
    }
  });
  sim.spawn({.name = "server", .entity = server, .daemon = true}, [&]() -> asio::awaitable<void> {
    for (;;) {
      co_await up.receive();
      heartbeats.push_back(sim.now());
    }
  });
  sim.spawn({.name = "server-push", .entity = server}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_until(at(4s));  // the client is down
    std::tie(server_send_error) = co_await down.send(99, 1000);
    server_send_done = sim.now();
  });
  const RunReport report = sim.run();
  CHECK_FALSE(report.deadlock);
  // The first incarnation ran from 0 and was killed at 3 s before its third
  // heartbeat; the second started at 5 s and sent all three.
  CHECK(starts == std::vector<SimTime>{at(0s), at(5s)});
  CHECK(sim.incarnation(client_actor) == 2);
  CHECK(heartbeats == std::vector<SimTime>{at(1011ms), at(2011ms), at(6011ms), at(7011ms), at(8011ms)});
  CHECK(server_send_error == errc::link_down);
  CHECK(server_send_done == at(4s));
  REQUIRE(recorder.events.size() == 2);
  CHECK(recorder.events[0].kind == TraceKind::crash);
  CHECK(recorder.events[0].time == at(3s));
  CHECK(recorder.events[1].kind == TraceKind::rejoin);
  CHECK(recorder.events[1].time == at(5s));
}

TEST_CASE("a crash without rejoin ends the actor for good; queued messages are lost", "[faults][crash]") {
  Simulation sim;
  FaultPlan plan;
  plan.crashes.push_back({EntityId{1}, at(2s), std::nullopt});
  sim.set_fault_plan(plan);
  auto& inbox = sim.create<Link<int>>(LinkOptions{.name = "to1", .from = EntityId{0}, .to = EntityId{1}});
  bool read = false;
  const ActorId victim = sim.spawn({.name = "victim", .entity = EntityId{1}}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_for(5s);
    read = inbox.try_receive().has_value();
  });
  sim.spawn({.name = "sender", .entity = EntityId{0}}, [&]() -> asio::awaitable<void> {
    co_await inbox.send(1, 10);  // arrives at once, queued unread until the crash
  });
  sim.run();
  CHECK_FALSE(read);
  CHECK_FALSE(sim.running(victim));
  CHECK(sim.incarnation(victim) == 1);
  CHECK(inbox.ready() == 0);
}

TEST_CASE("a server outage window takes down every link to and from the server", "[faults]") {
  Simulation sim;
  const EntityId server{0};
  FaultPlan plan;
  plan.outages.push_back({server, TimeWindow{at(1s), at(2s)}});
  sim.set_fault_plan(plan);
  auto& up = sim.create<Link<int>>(LinkOptions{.name = "up", .from = EntityId{1}, .to = server, .bandwidth = mbps(8)});
  std::vector<std::pair<SimTime, error_code>> results;
  sim.spawn({.name = "client", .entity = EntityId{1}}, [&]() -> asio::awaitable<void> {
    for (const SimTime t : {at(500ms), at(1500ms), at(2s)}) {
      co_await sim.sleep_until(t);
      auto [ec] = co_await up.send(0, 0);
      results.emplace_back(sim.now(), ec);
    }
  });
  sim.run();
  REQUIRE(results.size() == 3);
  CHECK_FALSE(results[0].second);
  CHECK(results[1].second == errc::link_down);
  CHECK_FALSE(results[2].second);  // windows are half-open: up again at 2 s
}

TEST_CASE("down windows merge and answer the first down instant", "[faults]") {
  const DownWindows w({{at(5s), at(6s)}, {at(1s), at(2s)}, {at(1500ms), at(3s)}});
  REQUIRE(w.windows().size() == 2);
  CHECK(w.windows()[0].begin == at(1s));
  CHECK(w.windows()[0].end == at(3s));
  CHECK(w.first_down_from(at(0s)) == at(1s));
  CHECK(w.first_down_from(at(2s)) == at(2s));
  CHECK(w.first_down_from(at(3s)) == at(5s));
  CHECK(w.first_down_from(at(6s)) == kNever);
  CHECK(w.down_at(at(5s)));
  CHECK_FALSE(w.down_at(at(6s)));
}

TEST_CASE("a fault plan rejects impossible drop probabilities", "[faults]") {
  FaultPlan plan;
  plan.drop_probability = 1.5;
  CHECK_THROWS_AS(FaultIndex(plan), std::invalid_argument);
}

TEST_CASE("an outage added while the simulation runs takes effect from the next send", "[faults]") {
  Simulation sim;
  const EntityId server{0};
  sim.set_fault_plan(FaultPlan{});
  auto& up = sim.create<Link<int>>(LinkOptions{.name = "up", .from = EntityId{1}, .to = server, .bandwidth = mbps(8)});
  std::vector<std::pair<SimTime, error_code>> results;
  sim.spawn({.name = "server", .entity = server}, [&]() -> asio::awaitable<void> {
    co_await sim.sleep_until(at(1s));  // decided only now, as a round-based server outage is
    sim.add_outage({server, TimeWindow{sim.now(), at(3s)}});
  });
  sim.spawn({.name = "client", .entity = EntityId{1}}, [&]() -> asio::awaitable<void> {
    for (const SimTime t : {at(500ms), at(1s), at(2500ms), at(3s)}) {
      co_await sim.sleep_until(t);
      auto [ec] = co_await up.send(0, 0);
      results.emplace_back(sim.now(), ec);
    }
  });
  sim.run();
  REQUIRE(results.size() == 4);
  CHECK_FALSE(results[0].second);
  CHECK(results[1].second == errc::link_down);  // the server actor ran first at 1 s
  CHECK(results[2].second == errc::link_down);
  CHECK_FALSE(results[3].second);
}
