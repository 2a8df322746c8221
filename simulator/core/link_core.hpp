#pragma once
// The untyped half of Link<Message>: timing, sharing, faults, energy and
// trace of transfers. Link<Message> adds the typed payload and mailbox.
//
// A transfer, from the sender's side:
//   queued       the link sends one message at a time, FIFO
//   transmitting from start until the last bit has left: bytes / bandwidth
//                (integrated over the bandwidth trace, or at the max-min fair
//                rate of a shared bottleneck); draws transmit power
//   propagating  latency (+ seeded jitter); the receiver draws receive power
//                for the last `transmission time` of it, ending at arrival
//   arrived      at start + transmission + latency + jitter
//
// The send await completes when transmission ends, with
//   success          the message will arrive,
//   message_dropped  the seeded fault model drew a drop (the bytes were still sent),
//   link_down        the link or an endpoint is down at some instant of
//                    [start, arrival): at once if down at the start, at the
//                    down instant if it falls within transmission, else at
//                    the end of transmission. (The plan is declarative, so the
//                    fate is known when transmission ends; we charge no
//                    acknowledgement time.)
//   operation_aborted  the await was cancelled; the transfer itself goes on.
#include "simulator/core/bandwidth.hpp"
#include "simulator/core/energy.hpp"
#include "simulator/core/faults.hpp"
#include "simulator/core/simulation.hpp"
#include "simulator/core/slot_table.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace sflsim::core {

class SharedBandwidth;

struct LinkOptions {
  std::string name;  // unique; fault plans and traces refer to it
  EntityId from{};   // sender (charged transmit energy)
  EntityId to{};     // receiver (charged receive energy)
  SimDuration latency{};
  // This link's own capacity; when `shared` is set it caps this link's share.
  BandwidthSchedule bandwidth = mbps(100);
  // Each delivered message waits an extra uniform [0, jitter] (seeded per link).
  SimDuration jitter{};
  // A bottleneck every transfer on this link also passes (not owned).
  SharedBandwidth* shared = nullptr;
};

struct LinkStats {
  std::int64_t messages_sent = 0;  // sends that started transmitting or failed at once
  std::int64_t bytes_sent = 0;     // declared bytes of those
  std::int64_t delivered = 0;
  std::int64_t dropped = 0;        // message_dropped
  std::int64_t failed = 0;         // link_down
};

class LinkCore : public SimObject {
 public:
  LinkCore(Simulation& sim, LinkOptions options);
  ~LinkCore() override;

  const LinkOptions& options() const { return options_; }
  const std::string& name() const { return options_.name; }
  // The link's own entity id (trace events for link faults; RNG streams).
  EntityId entity() const { return entity_; }
  const LinkStats& stats() const { return stats_; }

  void describe_waiters(std::vector<std::pair<ActorId, std::string>>& out) const override;
  // At rest: no transfer queued or in flight. The state: its RNG streams and stats.
  bool at_rest() const override;
  std::string describe() const override { return "link '" + options_.name + "'"; }
  void save_state(StateWriter& out) const override;
  void load_state(StateReader& in) override;

 protected:
  // Queues a transfer of payload slot `payload` (owned by the derived class).
  void start_send(VoidHandler handler, std::uint32_t payload, std::int64_t bytes);
  virtual void deliver(std::uint32_t payload) = 0;  // arrived: hand it over
  virtual void discard(std::uint32_t payload) = 0;  // lost: destroy it

 private:
  struct Transfer {
    VoidHandler handler;
    ActorId actor = kNoActor;
    std::uint32_t payload = 0;
    std::uint32_t generation = 0;
    std::int64_t bytes = 0;
    SimTime start{};
    SimTime fail_at = kNever;   // first down instant from start
    SimDuration delay{};        // latency + jitter
    error_code fate;
    bool active = false;
    bool waiting = false;       // a sender awaits the end of transmission
    std::uint64_t flow = 0;     // shared bottleneck flow
    TimerHandle timer;          // end of transmission, then arrival
    TimerHandle abort_timer;    // shared: the down instant
    EnergyMeter::IntervalId tx_interval = 0;
    EnergyMeter::IntervalId rx_interval = 0;
  };
  struct SendCanceller;

  std::uint32_t arg_index(std::uint64_t arg) const;
  std::uint64_t arg_of(std::uint32_t index) const;
  void begin_transmissions();
  void begin(std::uint32_t index);
  void end_transmission(std::uint32_t index, SimTime tx_end);
  void release(std::uint32_t index);
  void cancel_wait(std::uint32_t index, std::uint32_t generation);
  static void on_tx_end(void* self, std::uint64_t arg);
  static void on_flow_done(void* self, std::uint64_t arg);
  static void on_abort(void* self, std::uint64_t arg);
  static void on_arrival(void* self, std::uint64_t arg);
  const DownWindows& windows();

  LinkOptions options_;
  EntityId entity_;
  RngStream drop_rng_;
  RngStream jitter_rng_;
  LinkStats stats_;
  SlotTable<Transfer> transfers_;
  std::deque<std::uint32_t> queue_;
  bool transmitting_ = false;
  DownWindows windows_;
  double drop_probability_ = 0.0;
  std::uint64_t windows_version_ = ~std::uint64_t{0};
};

}  // namespace sflsim::core
