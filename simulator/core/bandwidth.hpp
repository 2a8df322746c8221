#pragma once
// Link capacity over time: a constant, or steps of (time, bits per second).
//
// All arithmetic is in integers: a transfer's work is counted in "nanobits"
// (bits x 1e9), so that rate [bit/s] x duration [ns] is exact, and finish
// times are rounded up to the next nanosecond.
#include "simulator/core/time.hpp"

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sflsim::core {

constexpr std::int64_t kbps(std::int64_t k) { return k * 1'000; }
constexpr std::int64_t mbps(std::int64_t m) { return m * 1'000'000; }
constexpr std::int64_t gbps(std::int64_t g) { return g * 1'000'000'000; }

// The work of sending `bytes`, in bits x 1e9.
constexpr Int128 nanobits(std::int64_t bytes) { return static_cast<Int128>(bytes) * 8 * 1'000'000'000; }

// How long `bytes` take at a constant `bits_per_s` (> 0), rounded up to the
// next nanosecond: what a link that has its rate to itself charges, latency aside.
constexpr SimDuration transmission_time(std::int64_t bytes, std::int64_t bits_per_s) {
  return SimDuration{static_cast<std::int64_t>(ceil_div(nanobits(bytes), bits_per_s))};
}

class BandwidthSchedule {
 public:
  struct Step {
    SimTime from;                 // this rate holds from here to the next step
    std::int64_t bits_per_s = 0;  // may be 0 (a stall), except in the last step
  };

  // A constant rate (> 0). Implicit so that LinkOptions{.bandwidth = mbps(8)} reads well.
  BandwidthSchedule(std::int64_t bits_per_s);  // NOLINT(google-explicit-constructor)
  // Steps; the first must start at time 0, times must increase, and the last
  // rate must be positive so every transfer ends. Throws std::invalid_argument.
  explicit BandwidthSchedule(std::vector<Step> steps);

  std::int64_t rate_at(SimTime t) const;
  // The first step boundary strictly after t, or kNever.
  SimTime next_change_after(SimTime t) const;
  bool is_constant() const { return steps_.size() == 1; }
  const std::vector<Step>& steps() const { return steps_; }

  // When a transfer of `work` nanobits that starts at `start` and has this
  // schedule to itself completes.
  SimTime finish_time(SimTime start, Int128 work) const;

 private:
  std::size_t step_index(SimTime t) const;
  std::vector<Step> steps_;
};

// A trace file or text that cannot be read; what() names the source and line.
class TraceFormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads a bandwidth trace from CSV text:
//
//   # comments and blank lines are ignored
//   time_s,mbps        <- header: time_s or time_ms; bps, kbps or mbps
//   0,8
//   10.5,2.25
//
// Numbers are plain decimals, converted exactly (no floating point): time to
// nanoseconds, rate to bits per second. `source` names the text in errors
// ("traces/4g.csv:3: ...").
BandwidthSchedule parse_bandwidth_csv(std::string_view text, std::string_view source);
BandwidthSchedule load_bandwidth_csv(const std::filesystem::path& path);

// Parses a non-negative decimal ("12", "0.125") into value x 10^scale, exactly;
// throws std::invalid_argument on anything else or on more than `scale`
// fractional digits.
std::int64_t parse_fixed_decimal(std::string_view text, int scale);

}  // namespace sflsim::core
