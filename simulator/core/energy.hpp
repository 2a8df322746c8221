#pragma once
// Energy of one device, exact in integer picojoules (milliwatts x nanoseconds).
//
// Power model: a device draws idle power all the time; every activity in
// progress (a compute job, a transmission, a reception) adds its own extra
// power (activity power - idle power). A device doing one thing at a time
// therefore draws exactly that activity's power, and
//   energy = sum over intervals of power x duration
// holds to the picojoule. Overlapping activities add up, which is the simplest
// rule that stays exact; a device with 2 concurrent jobs draws 2 increments.
// A crashed entity's device keeps drawing idle power (it is "unreachable",
// not unplugged); its killed jobs stop drawing compute power at the crash.
#include "simulator/core/time.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace sflsim::core {

class StateWriter;
class StateReader;

enum class Activity : std::uint8_t { compute = 0, transmit = 1, receive = 2 };
inline constexpr std::size_t kActivityCount = 3;

// Power draw in each state, in milliwatts (integers keep the energy exact).
struct PowerModel {
  std::int64_t idle_mw = 0;
  std::int64_t compute_mw = 0;
  std::int64_t transmit_mw = 0;
  std::int64_t receive_mw = 0;
  std::int64_t active_mw(Activity activity) const;
};

// A reading of the meter at one instant. Readings are cumulative since the
// device was created; the energy of a round is the difference of two readings.
struct EnergyReading {
  Int128 picojoules = 0;
  // Sum of the durations of each activity's intervals (overlaps count twice).
  std::array<SimDuration, kActivityCount> busy{};

  double joules() const { return static_cast<double>(picojoules) * 1e-12; }
  SimDuration busy_time(Activity activity) const { return busy[static_cast<std::size_t>(activity)]; }
  friend EnergyReading operator-(const EnergyReading& a, const EnergyReading& b);
};

class EnergyMeter {
 public:
  using IntervalId = std::uint32_t;

  EnergyMeter(PowerModel power, SimTime created);

  const PowerModel& power() const { return power_; }

  // An activity that began at `start` and whose end is not known yet.
  IntervalId open(Activity activity, SimTime start, SimTime now);
  // Ends an open interval (end >= its start; end may lie in the future).
  void close(IntervalId id, SimTime end, SimTime now);
  // An activity whose whole interval is known (start and end may lie in the future).
  void add(Activity activity, SimTime start, SimTime end, SimTime now);

  // Energy drawn during [created, now]; intervals are clipped at now.
  EnergyReading read(SimTime now) const;

  // The meter's whole state (checkpoints; see SimObject::save_state).
  void save_state(StateWriter& out) const;
  void load_state(StateReader& in);

 private:
  struct Interval {
    Activity activity;
    std::int64_t start;
    std::int64_t end;  // kNever while open
  };
  void settle(SimTime now);
  void fold(const Interval& interval, std::int64_t until, EnergyReading& into) const;

  PowerModel power_;
  std::int64_t created_;
  EnergyReading settled_;            // intervals that ended at or before settled_at_
  std::vector<Interval> intervals_;  // the rest; a handful per device
  std::vector<IntervalId> free_;
  std::vector<bool> live_;
};

}  // namespace sflsim::core
