#pragma once
// The tiny hand-built worlds of the server and client tests: the names they
// write in, a width-0.25 supernet on 8x8 single-channel images, virtual times
// as whole ns, and the server's end of a world (the simulation, the supernet,
// the server's device and in-process mailboxes).
#include "simulator/core/device.hpp"
#include "simulator/core/link.hpp"
#include "simulator/core/simulation.hpp"
#include "simulator/core/time.hpp"
#include "supernet/supernet.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace sflsim::test {

// What the tests write in; `using namespace sflsim::test;` brings these along.
namespace asio = boost::asio;
using namespace std::chrono_literals;
using core::SimDuration;
using core::SimTime;

// The cut the hand-built session and coordinator worlds split tiny_net() at.
constexpr int kCut = 2;

inline supernet::SupernetOptions tiny_net() {
  supernet::SupernetOptions o;
  o.in_channels = 1;
  o.image_height = o.image_width = 8;
  o.width_multiplier = 0.25;
  return o;
}

inline int64_t ns(SimTime t) { return t.time_since_epoch().count(); }
inline SimTime at_ns(int64_t n) { return SimTime{SimDuration{n}}; }

// The server's end of a hand-built world: a simulation, the tiny supernet and
// the server's device (entity 0, 1 FLOP per ns). A world built on it resets
// `simulation` first in its own destructor: the simulation's actors' frames and
// tasks refer to that world's members, which are destroyed before this base's.
struct TinyServerWorld {
  std::unique_ptr<core::Simulation> simulation = std::make_unique<core::Simulation>(1);
  core::Simulation& sim = *simulation;
  supernet::Supernet net{tiny_net()};
  const supernet::Architecture& arch = net.architecture();
  const supernet::SubnetConfig full = arch.full_config();
  core::Device& server = sim.create<core::Device>(core::DeviceSpec{"server", core::EntityId{0}, 1'000'000'000, 0, 1, {}});

  TinyServerWorld() = default;
  TinyServerWorld(const TinyServerWorld&) = delete;
  TinyServerWorld& operator=(const TinyServerWorld&) = delete;

  // An in-process mailbox (orders, results, notices): no latency, no charge.
  template <typename Link>
  Link& mailbox(const std::string& name) {
    const core::EntityId box{uint64_t{1} << 62};
    return sim.create<Link>(core::LinkOptions{name, box, box, {}, core::gbps(1000), {}, nullptr});
  }

 protected:
  ~TinyServerWorld() = default;
};

}  // namespace sflsim::test
