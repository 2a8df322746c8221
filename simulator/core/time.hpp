#pragma once
// Virtual time: integer nanoseconds, owned by the Simulation.
//
// Why integers: a double loses nanoseconds after about 104 days of simulated
// time and makes "a + b - b == a" false; int64 nanoseconds cover 292 years and
// every sum is exact, so tests can assert exact finish times.
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

namespace sflsim::core {

// 128-bit arithmetic for products such as bytes * 8 * 1e9 or mW * ns, which
// overflow 64 bits for large messages and long runs. (__extension__ keeps
// -Wpedantic quiet; both clang and gcc provide the type.)
__extension__ using Int128 = __int128;

using SimDuration = std::chrono::duration<std::int64_t, std::nano>;

// The clock of a Simulation. It has no static now(): time belongs to one
// Simulation object (several can run in one process), so ask sim.now().
struct SimClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = SimDuration;
  using time_point = std::chrono::time_point<SimClock, SimDuration>;
  static constexpr bool is_steady = true;
};

using SimTime = SimClock::time_point;

// A time later than any event; "never".
inline constexpr SimTime kNever{SimDuration{std::numeric_limits<std::int64_t>::max()}};

// The instant `d` after the start of the simulation: at(1020ms).
constexpr SimTime at(SimDuration d) { return SimTime{d}; }

// Nanoseconds since the start of the simulation.
constexpr std::int64_t ns_since_start(SimTime t) { return t.time_since_epoch().count(); }

// Ceiling of a / b for a >= 0, b > 0 (durations are rounded up so that a
// transfer or a job never finishes before its work is done).
constexpr Int128 ceil_div(Int128 a, Int128 b) { return (a + b - 1) / b; }

// Time to do `work` units at `rate` units per second, rounded up to the next
// nanosecond (rate > 0, work >= 0). Exact: no floating point.
constexpr SimDuration duration_for(Int128 work, Int128 rate_per_s) {
  return SimDuration{static_cast<std::int64_t>(ceil_div(work * 1'000'000'000, rate_per_s))};
}

// "1.020000000s": exact decimal seconds, for messages and reports.
std::string to_string(SimTime t);
std::string to_string(SimDuration d);

}  // namespace sflsim::core
