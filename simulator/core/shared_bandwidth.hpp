#pragma once
// A bottleneck shared by concurrent transfers: the server's ingress or egress.
//
// Max-min fair (processor sharing with per-flow caps), recomputed whenever a
// flow starts or ends and whenever a capacity trace steps: flows whose own
// link is slower than an equal share keep their own rate, and the rest split
// what is left equally. One flow alone gets min(its link, capacity); n equal
// flows get capacity / n each.
//
// Exactness: a rate is kept as a fraction (bits per second, divided by the
// number of flows sharing it), remaining work is in nanobits (bits x 1e9), and
// progress over dt is floor(num x dt / den) while a finish time is
// ceil(remaining x den / num). So two 1 MB transfers sharing 16 Mbit/s both
// finish at exactly 1 s, as one alone does over 8 Mbit/s.
#include "simulator/core/bandwidth.hpp"
#include "simulator/core/simulation.hpp"
#include "simulator/core/slot_table.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sflsim::core {

class SharedBandwidth final : public SimObject {
 public:
  SharedBandwidth(Simulation& sim, std::string name, BandwidthSchedule capacity);
  ~SharedBandwidth() override;
  bool at_rest() const override { return order_.empty(); }  // no flow; nothing else outlives one
  std::string describe() const override { return "bottleneck '" + name_ + "'"; }

  const std::string& name() const { return name_; }

  // Starts a flow of `work` nanobits, capped by `cap` (nullptr: no cap of its
  // own; the schedule must outlive the flow). `on_done` is called when the
  // last bit has passed, at that virtual instant. Returns the flow's id.
  std::uint64_t start_flow(Int128 work, const BandwidthSchedule* cap, TimerCallback on_done);
  // Stops a flow early (its link went down); returns false if it had finished.
  bool abort_flow(std::uint64_t flow);

  std::size_t active_flows() const { return order_.size(); }
  // The current rate of a flow in bit/s, rounded down (for tests and reports).
  std::int64_t rate_of(std::uint64_t flow) const;

 private:
  struct Flow {
    Int128 remaining = 0;  // nanobits
    const BandwidthSchedule* cap = nullptr;
    TimerCallback on_done;
    std::int64_t rate_num = 0;  // rate = rate_num / rate_den bit/s
    std::int64_t rate_den = 1;
    std::uint32_t generation = 0;
    bool active = false;
  };

  Flow* find(std::uint64_t flow);
  const Flow* find(std::uint64_t flow) const;
  void advance();     // progress every flow from last_update_ to now
  void reallocate();  // max-min fair rates at now
  void reschedule();  // timer at the next finish or trace step
  static void on_timer(void* self, std::uint64_t arg);

  std::string name_;
  BandwidthSchedule capacity_;
  SlotTable<Flow> flows_;
  std::vector<std::uint32_t> order_;  // active flows, in start order
  SimTime last_update_{};
  TimerHandle timer_;
};

}  // namespace sflsim::core
