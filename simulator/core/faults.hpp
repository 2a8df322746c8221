#pragma once
// Faults as data (SimGrid state profiles, ns-3 ErrorModel): a declarative plan
// handed to the Simulation before it runs. Links and the scheduler consult it
// at their seams; actor code only ever sees the resulting error codes.
#include "simulator/core/ids.hpp"
#include "simulator/core/time.hpp"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sflsim::core {

// [begin, end): down from begin (inclusive) until end (exclusive).
struct TimeWindow {
  SimTime begin;
  SimTime end = kNever;
  bool contains(SimTime t) const { return begin <= t && t < end; }
};

struct LinkDownWindow {
  std::string link;  // LinkOptions::name
  TimeWindow window;
};

// An entity (typically the server) is unreachable: every link from or to it is
// down. Its actors keep running.
struct OutageWindow {
  EntityId entity;
  TimeWindow window;
};

// The entity crashes at `at`: its actors are killed, messages queued for it are
// lost, and its links are down. With rejoin_after, it comes back at
// at + rejoin_after and its restartable actors start again from the top.
struct CrashSpec {
  EntityId entity;
  SimTime at;
  std::optional<SimDuration> rejoin_after;
};

struct FaultPlan {
  // Probability that any one message is dropped, on every link...
  double drop_probability = 0.0;
  // ...unless the link (by name) has its own.
  std::unordered_map<std::string, double> link_drop_probability;
  std::vector<LinkDownWindow> link_down;
  std::vector<OutageWindow> outages;
  std::vector<CrashSpec> crashes;
};

// Sorted, merged down windows of one link (its own, and its endpoints').
class DownWindows {
 public:
  DownWindows() = default;
  explicit DownWindows(std::vector<TimeWindow> windows);  // any order, may overlap

  bool empty() const { return windows_.empty(); }
  bool down_at(SimTime t) const;
  // The first instant >= t at which the link is down (t itself if down at t), or kNever.
  SimTime first_down_from(SimTime t) const;
  const std::vector<TimeWindow>& windows() const { return windows_; }

 private:
  std::vector<TimeWindow> windows_;
};

// The plan, indexed for the queries links make.
class FaultIndex {
 public:
  FaultIndex() = default;
  explicit FaultIndex(const FaultPlan& plan);

  double drop_probability(const std::string& link) const;
  DownWindows windows_for(const std::string& link, EntityId from, EntityId to) const;

 private:
  double default_drop_ = 0.0;
  std::unordered_map<std::string, double> link_drop_;
  std::unordered_map<std::string, std::vector<TimeWindow>> link_windows_;
  std::unordered_map<EntityId, std::vector<TimeWindow>> entity_windows_;
};

}  // namespace sflsim::core
