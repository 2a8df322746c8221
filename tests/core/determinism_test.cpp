// Determinism: the same inputs give the same trace fingerprint, whatever the
// order in which unrelated actors were created.
#include "simulator/core/des_benchmark.hpp"
#include "simulator/core/link.hpp"

#include "printing.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace sflsim::core;
using namespace std::chrono_literals;

namespace {

struct WorldResult {
  std::uint64_t fingerprint = 0;
  std::uint64_t trace_events = 0;
  std::int64_t sends = 0;
  std::int64_t delivered = 0;
  std::int64_t dropped = 0;
  std::int64_t failed = 0;
  SimTime end{};
};

constexpr int kPairs = 500;            // 1,000 actors
constexpr int kRequestsPerPair = 100;  // + as many replies: 100,000 messages

// Builds pair p: a requester and a responder on their own two links.
void add_pair(Simulation& sim, int p, std::vector<LinkCore*>& links) {
  const EntityId a{static_cast<std::uint64_t>(2 * p)}, b{static_cast<std::uint64_t>(2 * p + 1)};
  const std::string name = "pair" + std::to_string(p);
  const SimDuration latency = 1ms + SimDuration{std::chrono::milliseconds(p % 7)};
  const std::int64_t bandwidth = mbps(10 + p % 20);
  auto& request = sim.create<Link<int>>(LinkOptions{
      .name = name + ".ab", .from = a, .to = b, .latency = latency, .bandwidth = bandwidth, .jitter = 1ms});
  auto& reply = sim.create<Link<int>>(LinkOptions{
      .name = name + ".ba", .from = b, .to = a, .latency = latency, .bandwidth = bandwidth, .jitter = 1ms});
  links.push_back(&request);
  links.push_back(&reply);
  const std::int64_t bytes = 1000 + p;
  sim.spawn({.name = name + ".requester", .entity = a}, [&request, &reply, bytes]() -> asio::awaitable<void> {
    for (int i = 0; i < kRequestsPerPair; ++i) {
      co_await request.send(i, bytes);
      co_await reply.receive_for(50ms);  // a lost request or reply times out
    }
  });
  sim.spawn({.name = name + ".responder", .entity = b}, [&request, &reply, bytes]() -> asio::awaitable<void> {
    for (;;) {
      auto [ec, value] = co_await request.receive_for(1s);
      if (ec) co_return;  // the requester has finished
      co_await reply.send(value, bytes);
    }
  });
}

WorldResult run_world(std::uint64_t seed, const std::vector<int>& creation_order) {
  Simulation sim(seed);
  FaultPlan plan;
  plan.drop_probability = 0.05;
  for (int p = 0; p < kPairs; ++p) {
    if (p % 30 == 1) plan.link_down.push_back({"pair" + std::to_string(p) + ".ab", {at(100ms), at(150ms)}});
    if (p % 50 == 0) plan.crashes.push_back({EntityId{static_cast<std::uint64_t>(2 * p + 1)}, at(200ms), 100ms});
  }
  plan.outages.push_back({EntityId{6}, {at(300ms), at(320ms)}});
  sim.set_fault_plan(plan);
  FingerprintSink fingerprint;
  sim.trace().subscribe(fingerprint);
  std::vector<LinkCore*> links;
  for (const int p : creation_order) add_pair(sim, p, links);
  const RunReport report = sim.run();
  REQUIRE_FALSE(report.deadlock);
  WorldResult r;
  r.fingerprint = fingerprint.value();
  r.trace_events = fingerprint.events();
  r.end = report.end;
  for (const LinkCore* link : links) {
    r.sends += link->stats().messages_sent;
    r.delivered += link->stats().delivered;
    r.dropped += link->stats().dropped;
    r.failed += link->stats().failed;
  }
  return r;
}

std::vector<int> order(int stride) {
  std::vector<int> o;
  for (int i = 0; i < kPairs; ++i) o.push_back(static_cast<int>((static_cast<long>(i) * stride) % kPairs));
  return o;
}

}  // namespace

TEST_CASE("1,000 actors, 100,000 messages with faults: same fingerprint on every run and creation order",
          "[determinism]") {
  const WorldResult forward = run_world(11, order(1));
  // The world really is busy and faulty.
  CHECK(forward.sends >= 95'000);  // replies to lost requests are never sent
  CHECK(forward.sends <= 100'000);
  CHECK(forward.dropped > 3'000);
  CHECK(forward.failed > 0);
  CHECK(forward.delivered + forward.dropped + forward.failed == forward.sends);

  const WorldResult again = run_world(11, order(1));
  CHECK(again.fingerprint == forward.fingerprint);
  CHECK(again.trace_events == forward.trace_events);

  std::vector<int> reversed = order(1);
  std::reverse(reversed.begin(), reversed.end());
  const WorldResult backwards = run_world(11, reversed);
  CHECK(backwards.fingerprint == forward.fingerprint);
  CHECK(backwards.end == forward.end);
  CHECK(backwards.dropped == forward.dropped);

  const WorldResult shuffled = run_world(11, order(7919));  // a permutation: 7919 is prime to 500
  CHECK(shuffled.fingerprint == forward.fingerprint);

  // And the fingerprint does see a change in the inputs.
  CHECK(run_world(12, order(1)).fingerprint != forward.fingerprint);
}

TEST_CASE("the DES benchmark is deterministic at full size", "[determinism][slow]") {
  const DesBenchmarkOptions options{.actors = 1000, .messages = 2'000'000, .seed = 1};
  const DesBenchmarkResult first = run_des_benchmark(options);
  const DesBenchmarkResult second = run_des_benchmark(options);
  CHECK(first.messages == 2'000'000);
  CHECK(first.events == 2 * first.messages);
  CHECK(second.fingerprint == first.fingerprint);
  CHECK(second.virtual_s == first.virtual_s);
  WARN(to_json(first));
}
