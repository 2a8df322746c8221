// Bandwidth schedules, exact decimal parsing, CSV traces and network profiles.
#include "simulator/core/bandwidth.hpp"

#include "simulator/core/network_profiles.hpp"

#include "printing.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace sflsim::core;
using namespace std::chrono_literals;

TEST_CASE("finish_time integrates a constant rate exactly", "[bandwidth]") {
  const BandwidthSchedule b(mbps(8));
  CHECK(b.finish_time(at(0s), nanobits(1'000'000)) == at(1s));
  CHECK(b.finish_time(at(5s), nanobits(1)) == at(5s) + 1us);  // 8 bits at 8 Mbit/s
  CHECK(b.finish_time(at(0s), nanobits(0)) == at(0s));
  // 1 byte at 3 bit/s: 2.666... s rounds up to the next nanosecond.
  CHECK(BandwidthSchedule(3).finish_time(at(0s), nanobits(1)) == at(2'666'666'667ns));
}

TEST_CASE("finish_time walks the steps of a trace, stalls included", "[bandwidth]") {
  const BandwidthSchedule b({{at(0s), mbps(8)}, {at(1s), 0}, {at(2s), mbps(4)}});
  CHECK(b.rate_at(at(1500ms)) == 0);
  CHECK(b.next_change_after(at(0s)) == at(1s));
  CHECK(b.next_change_after(at(2s)) == kNever);
  CHECK(b.finish_time(at(500ms), nanobits(1'000'000)) == at(3s));  // 4 Mbit, stall, 4 Mbit at 4 Mbit/s
  CHECK(b.finish_time(at(1200ms), nanobits(500'000)) == at(3s));
}

TEST_CASE("bandwidth schedules reject impossible traces", "[bandwidth]") {
  using Steps = std::vector<BandwidthSchedule::Step>;
  CHECK_THROWS_AS(BandwidthSchedule(0), std::invalid_argument);
  CHECK_THROWS_AS(BandwidthSchedule(Steps{}), std::invalid_argument);
  CHECK_THROWS_AS(BandwidthSchedule(Steps{{at(1s), 5}}), std::invalid_argument);
  CHECK_THROWS_AS(BandwidthSchedule(Steps{{at(0s), 5}, {at(0s), 6}}), std::invalid_argument);
  CHECK_THROWS_AS(BandwidthSchedule(Steps{{at(0s), 5}, {at(1s), 0}}), std::invalid_argument);
}

TEST_CASE("decimals are parsed exactly, without floating point", "[bandwidth][csv]") {
  CHECK(parse_fixed_decimal("0.1", 9) == 100'000'000);
  CHECK(parse_fixed_decimal("12", 6) == 12'000'000);
  CHECK(parse_fixed_decimal("2.25", 6) == 2'250'000);
  CHECK(parse_fixed_decimal(".5", 3) == 500);
  CHECK_THROWS_AS(parse_fixed_decimal("1.0000001", 6), std::invalid_argument);
  CHECK_THROWS_AS(parse_fixed_decimal("-1", 6), std::invalid_argument);
  CHECK_THROWS_AS(parse_fixed_decimal("1e3", 6), std::invalid_argument);
  CHECK_THROWS_AS(parse_fixed_decimal("", 6), std::invalid_argument);
  CHECK_THROWS_AS(parse_fixed_decimal("99999999999999999999", 0), std::invalid_argument);
}

TEST_CASE("a CSV trace becomes a schedule", "[bandwidth][csv]") {
  const BandwidthSchedule b = parse_bandwidth_csv(
      "# 4g drive test\n"
      "time_s,mbps\n"
      "0, 8\n"
      "\n"
      "10.5,2.25\r\n",
      "inline.csv");
  REQUIRE(b.steps().size() == 2);
  CHECK(b.steps()[1].from == at(10500ms));
  CHECK(b.steps()[1].bits_per_s == 2'250'000);
  const BandwidthSchedule ms = parse_bandwidth_csv("time_ms,kbps\n0,500\n250,1000\n", "ms.csv");
  CHECK(ms.rate_at(at(300ms)) == 1'000'000);
}

TEST_CASE("CSV errors name the file and the line", "[bandwidth][csv]") {
  CHECK_THROWS_WITH(parse_bandwidth_csv("time_s,mbps\n0,8\n1;2\n", "t.csv"),
                    "t.csv:3: expected 2 comma-separated fields, got 1");
  CHECK_THROWS_WITH(parse_bandwidth_csv("seconds,mbps\n", "t.csv"),
                    "t.csv:1: header: first column must be time_s or time_ms, got 'seconds'");
  CHECK_THROWS_WITH(parse_bandwidth_csv("time_s,mbps\n0,8\n0,4\n", "t.csv"), "t.csv:3: times must increase");
  CHECK_THROWS_WITH(parse_bandwidth_csv("time_s,mbps\n1,8\n", "t.csv"), "t.csv:2: the first step must be at time 0");
  CHECK_THROWS_WITH(parse_bandwidth_csv("time_s,mbps\n0,fast\n", "t.csv"), "t.csv:2: not a non-negative decimal: 'fast'");
  CHECK_THROWS_AS(parse_bandwidth_csv("time_s,mbps\n0,8\n5,0\n", "t.csv"), TraceFormatError);
}

TEST_CASE("load_bandwidth_csv reads a file and names it in errors", "[bandwidth][csv]") {
  const auto path = std::filesystem::temp_directory_path() / "sflsim_core_trace_test.csv";
  {
    std::ofstream out(path);
    out << "time_s,mbps\n0,8\n2,x\n";
  }
  CHECK_THROWS_WITH(load_bandwidth_csv(path), path.string() + ":3: not a non-negative decimal: 'x'");
  {
    std::ofstream out(path);
    out << "time_s,mbps\n0,8\n2,1\n";
  }
  CHECK(load_bandwidth_csv(path).rate_at(at(3s)) == mbps(1));
  std::filesystem::remove(path);
  CHECK_THROWS_WITH(load_bandwidth_csv(path), path.string() + ": cannot open");
}

TEST_CASE("network profiles are named data with per-client draws", "[bandwidth][profiles]") {
  CHECK(builtin_network_profiles().size() == 5);
  for (const char* name : {"3g", "4g", "5g", "wifi", "lan"}) CHECK(network_profile(name).name == name);
  CHECK_THROWS_WITH(network_profile("6g"), "unknown network profile '6g' (known: 3g, 4g, 5g, wifi, lan)");
  const NetworkProfile& p = network_profile("4g");
  RngStream rng(1, EntityId{42}, "network");
  const ClientNetwork first = draw_client_network(p, rng);
  CHECK(first.up_bps >= p.up_bps.min);
  CHECK(first.up_bps <= p.up_bps.max);
  CHECK(first.down_bps >= p.down_bps.min);
  CHECK(first.latency >= SimDuration{p.latency_ns.min});
  CHECK(first.latency <= SimDuration{p.latency_ns.max});
  RngStream again(1, EntityId{42}, "network");
  const ClientNetwork second = draw_client_network(p, again);
  CHECK(second.up_bps == first.up_bps);
  CHECK(second.latency == first.latency);
  const ClientNetwork lan = draw_client_network(network_profile("lan"), rng);
  CHECK(lan.up_bps == gbps(1));
}
