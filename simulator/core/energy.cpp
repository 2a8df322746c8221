#include "simulator/core/energy.hpp"

#include "simulator/core/state_codec.hpp"

#include <algorithm>
#include <stdexcept>

namespace sflsim::core {

std::int64_t PowerModel::active_mw(Activity activity) const {
  switch (activity) {
    case Activity::compute: return compute_mw;
    case Activity::transmit: return transmit_mw;
    case Activity::receive: return receive_mw;
  }
  return idle_mw;
}

EnergyReading operator-(const EnergyReading& a, const EnergyReading& b) {
  EnergyReading d;
  d.picojoules = a.picojoules - b.picojoules;
  for (std::size_t i = 0; i < kActivityCount; ++i) d.busy[i] = a.busy[i] - b.busy[i];
  return d;
}

EnergyMeter::EnergyMeter(PowerModel power, SimTime created)
    : power_(power), created_(ns_since_start(created)) {}

EnergyMeter::IntervalId EnergyMeter::open(Activity activity, SimTime start, SimTime now) {
  settle(now);
  const Interval interval{activity, ns_since_start(start), ns_since_start(kNever)};
  if (!free_.empty()) {
    const IntervalId id = free_.back();
    free_.pop_back();
    intervals_[id] = interval;
    live_[id] = true;
    return id;
  }
  intervals_.push_back(interval);
  live_.push_back(true);
  return static_cast<IntervalId>(intervals_.size() - 1);
}

void EnergyMeter::close(IntervalId id, SimTime end, SimTime now) {
  if (id >= intervals_.size() || !live_[id]) throw std::logic_error("EnergyMeter::close: no such interval");
  intervals_[id].end = std::max(intervals_[id].start, ns_since_start(end));
  settle(now);
}

void EnergyMeter::add(Activity activity, SimTime start, SimTime end, SimTime now) {
  const IntervalId id = open(activity, start, now);
  close(id, end, now);
}

void EnergyMeter::fold(const Interval& interval, std::int64_t until, EnergyReading& into) const {
  const std::int64_t begin = std::max(interval.start, created_);
  const std::int64_t end = std::min(interval.end, until);
  if (end <= begin) return;
  const auto index = static_cast<std::size_t>(interval.activity);
  const std::int64_t extra_mw = power_.active_mw(interval.activity) - power_.idle_mw;
  into.picojoules += static_cast<Int128>(extra_mw) * (end - begin);
  into.busy[index] += SimDuration{end - begin};
}

// Folds the intervals that are over by `now` into settled_, so each device
// keeps only its few unfinished intervals.
void EnergyMeter::settle(SimTime now) {
  const std::int64_t t = ns_since_start(now);
  for (std::size_t i = 0; i < intervals_.size(); ++i) {
    if (live_[i] && intervals_[i].end <= t) {
      fold(intervals_[i], intervals_[i].end, settled_);
      live_[i] = false;
      free_.push_back(static_cast<IntervalId>(i));
    }
  }
}

EnergyReading EnergyMeter::read(SimTime now) const {
  const std::int64_t t = ns_since_start(now);
  EnergyReading reading = settled_;
  for (std::size_t i = 0; i < intervals_.size(); ++i) {
    if (live_[i]) fold(intervals_[i], t, reading);
  }
  reading.picojoules += static_cast<Int128>(power_.idle_mw) * std::max<std::int64_t>(0, t - created_);
  return reading;
}

void EnergyMeter::save_state(StateWriter& out) const {
  out.i64(created_);
  out.u64(static_cast<std::uint64_t>(settled_.picojoules));
  out.u64(static_cast<std::uint64_t>(settled_.picojoules >> 64));
  for (const SimDuration& busy : settled_.busy) out.i64(busy.count());
  out.u64(intervals_.size());
  for (std::size_t i = 0; i < intervals_.size(); ++i) {
    out.u8(static_cast<std::uint8_t>(intervals_[i].activity));
    out.i64(intervals_[i].start);
    out.i64(intervals_[i].end);
    out.boolean(live_[i]);
  }
  out.u64(free_.size());
  for (IntervalId id : free_) out.u32(id);
}

void EnergyMeter::load_state(StateReader& in) {
  if (in.i64() != created_) in.fail("an energy meter was created at another time");
  const std::uint64_t low = in.u64();
  const std::uint64_t high = in.u64();
  settled_.picojoules = static_cast<Int128>(static_cast<std::int64_t>(high)) * (Int128{1} << 64) + static_cast<Int128>(low);
  for (SimDuration& busy : settled_.busy) busy = SimDuration{in.i64()};
  const std::size_t intervals = in.count(18);
  intervals_.clear();
  live_.clear();
  for (std::size_t i = 0; i < intervals; ++i) {
    const std::uint8_t activity = in.u8();
    if (activity >= kActivityCount) in.fail("an energy interval's activity is " + std::to_string(activity));
    const std::int64_t start = in.i64();
    const std::int64_t end = in.i64();
    if (end < start) in.fail("an energy interval ends before it starts");
    intervals_.push_back(Interval{static_cast<Activity>(activity), start, end});
    live_.push_back(in.boolean());
  }
  const std::size_t free = in.count(4);
  free_.clear();
  for (std::size_t k = 0; k < free; ++k) {
    const IntervalId id = in.u32();
    if (id >= intervals_.size() || live_[id]) in.fail("an energy meter's free list names a live or missing interval");
    free_.push_back(id);
  }
}

}  // namespace sflsim::core
