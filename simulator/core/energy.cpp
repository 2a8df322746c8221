#include "simulator/core/energy.hpp"

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

}  // namespace sflsim::core
