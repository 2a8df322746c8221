#include "simulator/core/faults.hpp"

#include <algorithm>
#include <stdexcept>

namespace sflsim::core {

DownWindows::DownWindows(std::vector<TimeWindow> windows) {
  std::sort(windows.begin(), windows.end(),
            [](const TimeWindow& a, const TimeWindow& b) { return a.begin < b.begin; });
  for (const TimeWindow& w : windows) {
    if (w.end <= w.begin) continue;
    if (!windows_.empty() && w.begin <= windows_.back().end) {
      windows_.back().end = std::max(windows_.back().end, w.end);
    } else {
      windows_.push_back(w);
    }
  }
}

bool DownWindows::down_at(SimTime t) const { return first_down_from(t) == t; }

SimTime DownWindows::first_down_from(SimTime t) const {
  // The first window that ends after t either contains t or starts after it.
  const auto it = std::upper_bound(windows_.begin(), windows_.end(), t,
                                   [](SimTime value, const TimeWindow& w) { return value < w.end; });
  if (it == windows_.end()) return kNever;
  return std::max(it->begin, t);
}

FaultIndex::FaultIndex(const FaultPlan& plan)
    : default_drop_(plan.drop_probability), link_drop_(plan.link_drop_probability) {
  auto check_probability = [](double p) {
    if (!(p >= 0.0 && p <= 1.0)) throw std::invalid_argument("drop probability must lie in [0, 1]");
  };
  check_probability(default_drop_);
  for (const auto& [name, p] : link_drop_) check_probability(p);
  for (const auto& down : plan.link_down) link_windows_[down.link].push_back(down.window);
  for (const auto& outage : plan.outages) entity_windows_[outage.entity].push_back(outage.window);
  for (const auto& crash : plan.crashes) {
    const SimTime end = crash.rejoin_after ? crash.at + *crash.rejoin_after : kNever;
    entity_windows_[crash.entity].push_back(TimeWindow{crash.at, end});
  }
}

double FaultIndex::drop_probability(const std::string& link) const {
  const auto it = link_drop_.find(link);
  return it == link_drop_.end() ? default_drop_ : it->second;
}

DownWindows FaultIndex::windows_for(const std::string& link, EntityId from, EntityId to) const {
  std::vector<TimeWindow> all;
  if (const auto it = link_windows_.find(link); it != link_windows_.end()) {
    all.insert(all.end(), it->second.begin(), it->second.end());
  }
  for (const EntityId e : {from, to}) {
    if (const auto it = entity_windows_.find(e); it != entity_windows_.end()) {
      all.insert(all.end(), it->second.begin(), it->second.end());
    }
  }
  return DownWindows(std::move(all));
}

}  // namespace sflsim::core
