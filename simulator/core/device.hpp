#pragma once
// A compute device: FLOP/s, memory, concurrent job slots with a FIFO queue,
// and a power model whose energy meter the links also charge.
//
// Charge, don't measure: a job's virtual duration is flops / flops_per_s,
// rounded up to the nanosecond, whatever the real computation costs.
#include "simulator/core/energy.hpp"
#include "simulator/core/simulation.hpp"
#include "simulator/core/slot_table.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace sflsim::core {

struct DeviceSpec {
  std::string name;
  EntityId entity{};
  std::int64_t flops_per_s = 1'000'000'000;
  std::int64_t memory_bytes = 0;  // capacity, for the caller's admission checks
  int concurrency = 1;            // jobs that run at once, each at full speed; the rest wait FIFO
  PowerModel power{};
};

class Device final : public SimObject {
 public:
  // Registers the device's energy meter for spec.entity (links charge it).
  Device(Simulation& sim, DeviceSpec spec);
  ~Device() override;

  const DeviceSpec& spec() const { return spec_; }
  SimDuration time_for(std::int64_t flops) const { return duration_for(flops, spec_.flops_per_s); }
  bool fits(std::int64_t bytes) const { return bytes <= spec_.memory_bytes; }

  // Runs a job of `flops` floating-point operations. Costs the wait for a free
  // slot (FIFO) plus time_for(flops) of virtual time; draws compute power
  // meanwhile. Completes with success, or operation_aborted if cancelled
  // (a queued job leaves the queue; a running one stops and frees its slot).
  // Default token asio::deferred: `co_await device.compute(flops);`.
  template <typename Token = asio::deferred_t>
  auto compute(std::int64_t flops, Token&& token = {}) {
    return start(time_for(flops), flops, std::forward<Token>(token));
  }
  // Same, for a job whose duration is known rather than its work.
  template <typename Token = asio::deferred_t>
  auto compute_for(SimDuration duration, Token&& token = {}) {
    return start(duration, duration.count(), std::forward<Token>(token));
  }

  // Cumulative energy at the current instant (read twice and subtract for a round).
  EnergyReading energy() const { return meter_.read(simulation().now()); }
  EnergyMeter& meter() { return meter_; }

  int running_jobs() const { return running_; }
  std::size_t queued_jobs() const { return queue_.size(); }

  void describe_waiters(std::vector<std::pair<ActorId, std::string>>& out) const override;
  bool at_rest() const override;  // no job queued or running
  std::string describe() const override { return "device '" + spec_.name + "'"; }
  void save_state(StateWriter& out) const override { meter_.save_state(out); }
  void load_state(StateReader& in) override { meter_.load_state(in); }

 private:
  struct Job {
    VoidHandler handler;
    SimDuration duration{};
    std::int64_t work = 0;
    ActorId actor = kNoActor;
    TimerHandle timer;
    EnergyMeter::IntervalId interval = 0;
    std::uint32_t generation = 0;
    bool active = false;
    bool running = false;
  };
  struct Canceller;

  template <typename Token>
  auto start(SimDuration duration, std::int64_t work, Token&& token) {
    return asio::async_initiate<Token, void(error_code)>(
        [this](auto handler, SimDuration d, std::int64_t w) { submit(simulation().template erase<VoidHandler>(std::move(handler)), d, w); },
        token, duration, work);
  }
  void submit(VoidHandler handler, SimDuration duration, std::int64_t work);
  void start_next();
  void run_job(std::uint32_t index);
  static void on_job_done(void* self, std::uint64_t arg);
  void cancel_job(std::uint32_t index, std::uint32_t generation);
  void finish(std::uint32_t index, error_code ec);

  DeviceSpec spec_;
  EnergyMeter meter_;
  SlotTable<Job> jobs_;
  std::deque<std::uint32_t> queue_;
  int running_ = 0;
};

}  // namespace sflsim::core
