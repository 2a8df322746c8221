#include "simulator/core/des_benchmark.hpp"

#include "simulator/core/link.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

#include <unistd.h>

namespace sflsim::core {
namespace {

using namespace std::chrono_literals;

struct Ping {
  std::int64_t sequence = 0;
};

// Resident set size in bytes, from /proc/self/statm (0 where unavailable).
std::int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return pages_resident * static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

DesBenchmarkResult run_des_benchmark(const DesBenchmarkOptions& options) {
  if (options.actors < 2 || options.actors % 2 != 0) throw std::invalid_argument("des benchmark: actors must be even and >= 2");
  const int pairs = options.actors / 2;
  const std::int64_t rounds = std::max<std::int64_t>(1, options.messages / (2 * pairs));
  constexpr std::int64_t kBytes = 1000;

  const std::int64_t rss_before = resident_bytes();
  Simulation sim(options.seed);
  FingerprintSink fingerprint;
  sim.trace().subscribe(fingerprint);
  for (int p = 0; p < pairs; ++p) {
    const EntityId a{static_cast<std::uint64_t>(2 * p)}, b{static_cast<std::uint64_t>(2 * p + 1)};
    const SimDuration latency = 1ms + SimDuration{std::chrono::microseconds(p)};
    auto& ab = sim.create<Link<Ping>>(LinkOptions{.name = std::string("p") + std::to_string(p) + ".ab", .from = a, .to = b,
                                                  .latency = latency, .bandwidth = mbps(100)});
    auto& ba = sim.create<Link<Ping>>(LinkOptions{.name = std::string("p") + std::to_string(p) + ".ba", .from = b, .to = a,
                                                  .latency = latency, .bandwidth = mbps(100)});
    sim.spawn({.name = std::string("ping") + std::to_string(p), .entity = a}, [&ab, &ba, rounds]() -> asio::awaitable<void> {
      for (std::int64_t i = 0; i < rounds; ++i) {
        co_await ab.send(Ping{i}, kBytes);
        co_await ba.receive();
      }
    });
    sim.spawn({.name = std::string("pong") + std::to_string(p), .entity = b}, [&ab, &ba, rounds]() -> asio::awaitable<void> {
      for (std::int64_t i = 0; i < rounds; ++i) {
        Ping ping = co_await ab.receive();
        co_await ba.send(Ping{ping.sequence}, kBytes);
      }
    });
  }

  const auto wall_start = std::chrono::steady_clock::now();
  sim.run_until(at(1ms));  // warm: every actor suspended, a message in flight per pair
  const std::int64_t rss_warm = resident_bytes();
  const RunReport report = sim.run();
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (report.deadlock) throw std::logic_error("des benchmark deadlocked: " + report.deadlock->to_string());

  DesBenchmarkResult result;
  result.actors = options.actors;
  result.messages = 2 * pairs * rounds;
  result.events = static_cast<std::int64_t>(report.events);
  result.wall_s = wall_s;
  result.events_per_s = wall_s > 0 ? static_cast<double>(result.events) / wall_s : 0;
  result.messages_per_s = wall_s > 0 ? static_cast<double>(result.messages) / wall_s : 0;
  result.bytes_per_actor = static_cast<double>(rss_warm - rss_before) / options.actors;
  result.virtual_s = static_cast<double>(ns_since_start(report.end)) * 1e-9;
  result.fingerprint = fingerprint.value();
  return result;
}

std::string to_json(const DesBenchmarkResult& r) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer,
                "{\"actors\": %d, \"messages\": %lld, \"events\": %lld, \"wall_s\": %.6f, "
                "\"events_per_s\": %.0f, \"messages_per_s\": %.0f, \"bytes_per_actor\": %.0f, "
                "\"virtual_s\": %.9f, \"fingerprint\": \"%016llx\"}",
                r.actors, static_cast<long long>(r.messages), static_cast<long long>(r.events), r.wall_s,
                r.events_per_s, r.messages_per_s, r.bytes_per_actor, r.virtual_s,
                static_cast<unsigned long long>(r.fingerprint));
  return buffer;
}

}  // namespace sflsim::core
